/* clicktrail snippet, first cut: page views (SPA too), clicks, batching, beacon on unload.
   The full snippet (scroll, rage clicks, retry queue, consent, size budget) is tracked in its own issue. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || navigator.globalPrivacyControl) return;
  var site = script.getAttribute("data-site");
  var endpoint = script.getAttribute("data-endpoint") || new URL("/e", script.src).href;
  if (!site) return;

  var queue = [];
  var timer = 0;
  var pageView = "";
  var lastPath = "";

  function id() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return (b & 63).toString(36); }).join("").padEnd(12, "x");
  }

  function sessionId() {
    try {
      var sid = sessionStorage.getItem("ct_sid") || id();
      sessionStorage.setItem("ct_sid", sid);
      return sid;
    } catch (e) {
      return id();
    }
  }

  var sid = sessionId();

  function push(event) {
    event.id = id();
    event.ts = Date.now();
    event.p = location.pathname;
    event.pv = pageView;
    queue.push(event);
    if (queue.length >= 50) flush(false);
    else if (!timer) timer = setTimeout(function () { flush(false); }, 5000);
  }

  function flush(unloading) {
    clearTimeout(timer);
    timer = 0;
    if (!queue.length) return;
    var body = JSON.stringify({ site: site, sid: sid, sent_at: Date.now(), events: queue.splice(0) });
    if (unloading && navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) return;
    fetch(endpoint, { method: "POST", body: body, keepalive: true, headers: { "Content-Type": "text/plain" } }).catch(function () {});
  }

  function pageview() {
    if (location.pathname === lastPath) return;
    var ref = lastPath || (document.referrer ? new URL(document.referrer).host : "");
    lastPath = location.pathname;
    pageView = id();
    push({ t: "pageview", ref: ref, vw: innerWidth, vh: innerHeight, sw: screen.width, sh: screen.height });
  }

  function guard(fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { /* never break the host page */ }
    };
  }

  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      guard(pageview)();
      return result;
    };
  });
  addEventListener("popstate", guard(pageview));
  document.addEventListener("click", guard(function (e) {
    var target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    var box = target.getBoundingClientRect();
    push({
      t: "click", x: e.pageX, y: e.pageY, vw: innerWidth, vh: innerHeight,
      dh: document.documentElement.scrollHeight, tag: target.tagName.toLowerCase(),
      ox: e.clientX - box.left, oy: e.clientY - box.top,
      ptr: e.pointerType === "touch" || e.pointerType === "pen" ? e.pointerType : "mouse"
    });
  }), true);
  addEventListener("pagehide", guard(function () { flush(true); }));
  document.addEventListener("visibilitychange", guard(function () {
    if (document.visibilityState === "hidden") flush(true);
  }));
  guard(pageview)();
})();
