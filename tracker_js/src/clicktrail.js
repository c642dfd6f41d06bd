/* clicktrail snippet. Source of t.js (built by tracker_js/build.sh; keep t.js under 3.5 KB gzipped).
   <script defer src="https://COLLECTOR/t.js" data-site="KEY"></script>
   Optional: data-endpoint (first-party proxy URL), data-exclude ("/admin/*,/account"),
   data-hash="true" (count #fragments as pages), data-dnt="false" (ignore Do Not Track),
   data-consent="required" (send nothing until clicktrail("consent", true)),
   data-labels="false" (no element labels), data-rage="3,30,1000" (clicks, px, ms).
   The site's owner keeps a browser out with localStorage.clicktrail_ignore = "true", or by opening
   the site once with #clicktrail-ignore (#clicktrail-track undoes it): the dashboard links there. */
(() => {
  const script = document.currentScript;
  const attr = (name) => script && script.getAttribute("data-" + name);
  const site = attr("site");
  const noop = () => {};
  const optedOut = navigator.globalPrivacyControl ||
    (attr("dnt") !== "false" && (navigator.doNotTrack === "1" || window.doNotTrack === "1"));
  window.clicktrail = noop;
  // The dashboard is on another origin, so it cannot set this origin's flag: it links here.
  const owner = location.hash.match(/^#clicktrail-(ignore|track)$/);
  if (owner) {
    if (owner[1] === "ignore") save(localStorage, "clicktrail_ignore", true);
    else localStorage.removeItem("clicktrail_ignore");
    history.replaceState(history.state, "", location.pathname + location.search);
  }
  if (!site || optedOut || load(localStorage, "clicktrail_ignore") === true) return;

  const endpoint = attr("endpoint") || new URL("/e", script.src).href;
  const excluded = (attr("exclude") || "").split(",").filter(Boolean).map((glob) =>
    new RegExp("^" + glob.trim().replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$"));
  const [rageClicks, ragePx, rageMs] = (attr("rage") || "3,30,1000").split(",").map(Number);
  const OUTBOX = "ct_o";
  const SESSION = "ct_s";
  const SESSION_IDLE_MS = 18e5;
  const CLICK_IDS = "gclid gbraid wbraid gad_source msclkid fbclid ttclid li_fat_id twclid".split(" ");
  const DEAD_MS = 2500;
  const MAX_EVENTS = 40;
  const MAX_OUTBOX = 30;

  let consent = attr("consent") !== "required" || load(localStorage, "ct_c") === 1;
  let path = "";
  let pageView = "";
  let queue = [];
  let timer = 0;
  let retryAt = 0;
  let attempt = 0;
  let sending = false;
  let scroll = { depth: 0, dh: 0 };
  let changes = 0;
  const pendingClicks = [];
  let burst = [];
  let tick = 0;

  function guard(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) {
        /* never let the snippet break the page */
      }
    };
  }

  function load(store, key) {
    try {
      return JSON.parse(store.getItem(key));
    } catch (e) {
      return null;
    }
  }

  function save(store, key, value) {
    try {
      store.setItem(key, JSON.stringify(value));
    } catch (e) {
      /* storage full or blocked: keep going in memory */
    }
  }

  // Event ids: 16 base-36 characters from a pool of crypto randomness refilled 256 ids at a time
  // (one getRandomValues call per id cost more than the rest of a click's handling).
  const pool = new Uint8Array(4096);
  let poolAt = pool.length;
  function randomId() {
    if (poolAt === pool.length) {
      crypto.getRandomValues(pool);
      poolAt = 0;
    }
    let id = "";
    while (id.length < 16) id += (pool[poolAt++] % 36).toString(36);
    return id;
  }
  const round = Math.round;
  const stored = () => load(localStorage, OUTBOX) || [];
  let outbox = stored();

  function sessionId() {
    const now = Date.now();
    let session = load(sessionStorage, SESSION);
    if (!session || now - session.t > SESSION_IDLE_MS) session = { id: randomId() };
    session.t = now;
    save(sessionStorage, SESSION, session);
    return session.id;
  }

  function event(type, fields) {
    return Object.assign({ t: type, id: randomId(), ts: Date.now(), p: path, pv: pageView }, fields);
  }

  function push(item) {
    if (!item.pv) return;
    queue.push([sessionId(), item]);
    if (!consent) queue = queue.slice(-200); // held in memory only, until consent
    if (queue.length >= MAX_EVENTS) flush();
    else if (!timer) timer = setTimeout(flush, 5000);
  }

  // Move queued events into the outbox (persisted, so a reload or an outage loses nothing), then
  // deliver. Unloading: beacon everything; beaconed batches stay in the outbox and are sent again
  // by the next page, in case the collector was down (it drops the duplicate ids).
  function flush(unloading) {
    clearTimeout(timer);
    timer = 0;
    if (!consent) return;
    outbox = stored(); // other tabs share the outbox
    while (queue.length) {
      const sid = queue[0][0];
      const events = [];
      while (queue.length && queue[0][0] === sid && events.length < MAX_EVENTS) events.push(queue.shift()[1]);
      outbox.push({ site, sid, events });
    }
    outbox = outbox.slice(-MAX_OUTBOX);
    save(localStorage, OUTBOX, outbox);
    if (unloading) {
      outbox.forEach((batch) => navigator.sendBeacon &&
        navigator.sendBeacon(endpoint, JSON.stringify(Object.assign({ sent_at: Date.now() }, batch))));
    } else deliver();
  }

  function deliver() {
    if (sending || !outbox.length || Date.now() < retryAt) return;
    sending = true;
    const batch = outbox[0];
    fetch(endpoint, {
      method: "POST",
      body: JSON.stringify(Object.assign({ sent_at: Date.now() }, batch)),
      headers: { "Content-Type": "text/plain" },
      keepalive: true,
    }).then((response) => {
      if (response.status === 429 || response.status >= 500) throw 0;
      done(batch); // accepted, or refused for good (other 4xx): never resend it
    }).catch(() => {
      // Exponential backoff with jitter, up to a minute. The timer is the retry: it clears
      // retryAt, since it may fire while Date.now() still reads a little short of it (setTimeout
      // drops the fraction of a millisecond), and deliver() would then skip the retry for good.
      const wait = Math.min(6e4, 1e3 * 2 ** attempt++) * (0.5 + Math.random());
      retryAt = Date.now() + wait;
      setTimeout(guard(() => { retryAt = 0; deliver(); }), wait);
    }).finally(() => {
      sending = false;
    });
  }

  function done(batch) {
    attempt = 0;
    outbox = stored().filter((b) => b.events[0].id !== batch.events[0].id);
    save(localStorage, OUTBOX, outbox);
    sending = false;
    deliver();
  }

  function scrollEvent() {
    if (scroll.depth) push(event("scroll", { depth: round(scroll.depth), dh: round(scroll.dh), vh: innerHeight, vw: innerWidth }));
  }

  function pageview(force) {
    const next = location.pathname + (attr("hash") === "true" ? location.hash : "");
    if (next === path && !force) return;
    settleClicks(true);
    endBurst();
    scrollEvent();
    changes++;
    let ref = pageView && path; // an excluded page is not named as the next one's referrer
    if (!path && document.referrer) {
      // Another site by its host; an app (android-app://com.google.android.gm) with its scheme.
      const from = new URL(document.referrer);
      ref = from.host === location.host ? from.pathname
        : /^https?:$/.test(from.protocol) ? from.host : from.protocol + "//" + from.host;
    }
    path = next;
    pageView = excluded.some((re) => re.test(next)) ? "" : randomId();
    scroll = { depth: innerHeight, dh: document.documentElement.scrollHeight };
    const utm = {};
    const query = new URLSearchParams(location.search);
    query.forEach((value, key) => {
      if (key.startsWith("utm_")) utm[key.slice(4)] = value.slice(0, 256);
    });
    // Which ad click ids the landing URL carried: their names only, never their values.
    const ck = CLICK_IDS.filter((name) => query.has(name));
    const width = innerWidth;
    push(event("pageview", {
      ref: ref.slice(0, 256), vw: width, vh: innerHeight, sw: screen.width, sh: screen.height, utm, ck,
      host: location.hostname.slice(0, 253),
      dev: width < 768 ? "mobile" : width < 1024 ? "tablet" : "desktop",
    }));
  }

  const STATE_CLASS = /^(active|open|show|hover|focus|selected|current|disabled|is-|has-)|\d/;

  function selector(el) {
    const parts = [];
    for (; el && el.nodeType === 1 && parts.length < 6; el = el.parentElement) {
      let part = el.localName;
      if (el.id && !/\d/.test(el.id)) {
        parts.unshift(part + "#" + CSS.escape(el.id));
        break;
      }
      const classes = [...el.classList].filter((c) => !STATE_CLASS.test(c)).slice(0, 2);
      if (classes.length) part += "." + classes.map(CSS.escape).join(".");
      let index = 1;
      let same = 0;
      for (let s = el.previousElementSibling; s; s = s.previousElementSibling) if (s.localName === el.localName) index++;
      for (let s = el.nextElementSibling; s && !same; s = s.nextElementSibling) if (s.localName === el.localName) same = 1;
      if (index > 1 || same) part += ":nth-of-type(" + index + ")";
      parts.unshift(part);
    }
    return parts.join(">").slice(-512);
  }

  // What the element is called or shows (aria-label, else its text, alt or title; not the text
  // of a whole section), in 64 characters with e-mail addresses and runs of digits masked (the
  // collector masks again); never from a form field or what is typed in one.
  function label(el) {
    if (el.closest("input,textarea,select,[contenteditable]") || el.querySelector("[contenteditable]")) return "";
    const text = el.getAttribute("aria-label") || (el.textContent.length < 2e3 && el.innerText) || el.alt || el.title || "";
    return [...text.replace(/\s+/g, " ").trim().replace(/\S+@\S+/g, "[email]").replace(/\d{4,}/g, "####")]
      .slice(0, 64).join("").trim();
  }

  function fixedAncestor(el) {
    for (let depth = 0; el && el.nodeType === 1 && depth < 25; el = el.parentElement, depth++) {
      if (/fixed|sticky/.test(getComputedStyle(el).position)) return true;
    }
    return false;
  }

  // A click that changes nothing (no DOM change, scroll or navigation) within 2.5 s is "dead".
  const observer = new MutationObserver(() => changes++);

  function settleClicks(all) {
    const now = Date.now();
    while (pendingClicks.length && (all || now - pendingClicks[0].at >= DEAD_MS)) {
      const { click, mark } = pendingClicks.shift();
      if (!all && changes === mark) click.dead = true;
      push(click);
    }
    if (!pendingClicks.length) observer.disconnect();
  }

  function endBurst() {
    const last = burst[burst.length - 1];
    if (burst.length >= rageClicks) push(event("rage", Object.assign(last.base, { n: burst.length })));
    burst = [];
  }

  // One timer for click bookkeeping: settles held clicks once 2.5 s old and ends a rage burst
  // once quiet, rather than two timers armed for every click.
  function schedule() {
    if (tick || (!pendingClicks.length && !burst.length)) return;
    const due = Math.min(
      pendingClicks.length ? pendingClicks[0].at + DEAD_MS : Infinity,
      burst.length ? burst[burst.length - 1].wall + rageMs : Infinity,
    );
    tick = setTimeout(guard(() => {
      tick = 0;
      settleClicks(false);
      if (burst.length && Date.now() - burst[burst.length - 1].wall >= rageMs) endBurst();
      schedule();
    }), Math.max(0, due - Date.now()) + 10);
  }

  function onClick(e) {
    const el = e.target.nodeType === 1 ? e.target : e.target.parentElement;
    if (!el || !pageView) return;
    const fixed = fixedAncestor(el);
    const box = el.getBoundingClientRect();
    const x = round(fixed ? e.clientX : e.pageX);
    const y = round(fixed ? e.clientY : e.pageY);
    const sel = selector(el);
    const base = { x, y, vw: innerWidth, vh: innerHeight, dw: document.documentElement.scrollWidth, sel };
    if (fixed) base.fixed = true;
    const click = event("click", Object.assign({
      dh: document.documentElement.scrollHeight, tag: el.localName.slice(0, 32),
      ox: round(e.clientX - box.left), oy: round(e.clientY - box.top),
      ptr: /^(mouse|touch|pen)$/.test(e.pointerType) ? e.pointerType : "",
    }, base));
    if (attr("labels") !== "false") click.label = label(el);
    const previous = burst[burst.length - 1];
    if (previous && (e.timeStamp - previous.at > rageMs || Math.hypot(x - previous.x, y - previous.y) > ragePx)) endBurst();
    burst.push({ at: e.timeStamp, wall: Date.now(), x, y, base: Object.assign({ p: path, pv: pageView, ts: Date.now() }, base) });
    if (el.closest("a[href],input,select,textarea,label,summary")) push(click);
    else {
      if (!pendingClicks.length) observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      pendingClicks.push({ click, mark: changes, at: Date.now() });
    }
    schedule();
  }

  function onScroll(e) {
    changes++;
    const el = e.target === document ? document.documentElement : e.target;
    if (el.scrollHeight < scroll.dh && el !== document.documentElement) return;
    const bottom = el === document.documentElement ? scrollY + innerHeight : el.scrollTop + el.clientHeight;
    scroll = { depth: Math.max(scroll.depth, bottom), dh: el.scrollHeight };
  }

  function leave() {
    settleClicks(true);
    endBurst();
    scrollEvent();
    scroll.depth = 0; // reported: a later leave of this page view only reports new depth
    flush(true);
  }

  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    history[name] = function () {
      const result = original.apply(this, arguments);
      guard(pageview)();
      return result;
    };
  }
  addEventListener("popstate", guard(() => pageview()));
  addEventListener("hashchange", guard(() => pageview()));
  addEventListener("pageshow", guard((e) => e.persisted && pageview(true)));
  addEventListener("pagehide", guard(leave));
  addEventListener("click", guard(onClick), true);
  addEventListener("scroll", guard(onScroll), { capture: true, passive: true });
  document.addEventListener("visibilitychange", guard(() => document.visibilityState === "hidden" && leave()));

  window.clicktrail = guard((command, value, props) => {
    if (command === "event") push(event("custom", { name: String(value).slice(0, 64), props: props || {} }));
    if (command === "consent") {
      consent = value === true;
      save(localStorage, "ct_c", consent ? 1 : 0);
      if (consent) flush();
      else {
        queue = [];
        outbox = [];
        localStorage.removeItem(OUTBOX);
      }
    }
  });

  const start = guard(() => {
    pageview();
    deliver(); // what an earlier page or an outage left in the outbox
  });
  if (document.prerendering) document.addEventListener("prerenderingchange", start, { once: true });
  else start();
})();
