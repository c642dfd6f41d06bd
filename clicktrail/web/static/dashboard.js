// clicktrail dashboard: small conveniences over server-rendered pages. No dependencies.
(() => {
  "use strict";

  // Copy buttons: <button data-copy="textarea-id">
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
      } catch {
        document.execCommand("copy");
      }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  }

  // A login link may carry the token in its #fragment (never sent to a server): log in with it.
  const form = document.getElementById("login-form");
  const match = location.hash.match(/^#token=(ctt_[\w-]+)$/);
  if (form && match) {
    form.elements.token.value = match[1];
    history.replaceState(null, "", location.pathname + location.search);
    form.submit();
  }

  // Arrived by a link from another site: the login cookie (SameSite=Strict) stayed behind.
  // Going on from here is our own navigation, which carries it.
  const resume = document.querySelector("[data-resume]");
  if (resume && !match) {
    location.replace(resume.dataset.resume);
  }

  const liveUrl = (site, minutes) =>
    `/api/sites/${encodeURIComponent(site)}/live?minutes=${minutes}`;

  // Installation check: poll until the site's first event arrives, then turn green.
  for (const badge of document.querySelectorAll("[data-install-check]")) {
    if (badge.classList.contains("ok")) continue;
    const poll = async () => {
      const reply = await fetch(liveUrl(badge.dataset.installCheck, 60));
      if (reply.ok && (await reply.json()).events > 0) {
        badge.classList.replace("waiting", "ok");
        badge.textContent = "Receiving events";
        return;
      }
      setTimeout(poll, 3000);
    };
    poll();
  }

  // Live panel: events of the last 30 minutes, refreshed every 10 s. The API counts by event
  // type name; people read "3 rage clicks".
  const TYPE_NAMES = {
    pageview: ["page view", "page views"], click: ["click", "clicks"],
    rageclick: ["rage click", "rage clicks"], scroll: ["scroll", "scrolls"],
    custom: ["custom event", "custom events"],
  };
  const countOf = (type, n) => {
    const [one, many] = TYPE_NAMES[type] || [type, type];
    return `${n.toLocaleString()} ${n === 1 ? one : many}`;
  };
  const live = document.querySelector("[data-live]");
  if (live) {
    const show = async () => {
      const reply = await fetch(liveUrl(live.dataset.live, 30));
      if (!reply.ok) return;
      const data = await reply.json();
      live.querySelector("[data-live-events]").textContent = data.events.toLocaleString();
      live.querySelector("[data-live-types]").textContent = Object.entries(data.by_type)
        .map(([type, n]) => countOf(type, n)).join(" · ");
      const top = Math.max(1, ...data.per_minute.map((m) => m.events));
      const spark = live.querySelector("[data-live-spark]");
      spark.replaceChildren(...data.per_minute.map((m) => {
        const bar = document.createElement("span");
        bar.style.height = `${(100 * m.events) / top}%`;
        bar.title = `${m.minute}: ${m.events}`;
        return bar;
      }));
      live.querySelector("[data-live-pages]").textContent = data.pages.length
        ? "Most viewed: " + data.pages.slice(0, 5).map((p) => `${p.page} (${p.views})`).join(", ")
        : "No page views in the last 30 minutes.";
    };
    show();
    setInterval(show, 10000);
  }

  // Funnel bars: widths come from data attributes, since the page's CSP allows no inline style.
  for (const fill of document.querySelectorAll("[data-share]")) {
    fill.style.width = `${Number(fill.dataset.share) || 0}%`;
  }

  // Filters that apply as soon as a select changes (the submit button stays for keyboards).
  for (const filters of document.querySelectorAll("[data-autosubmit]")) {
    for (const select of filters.querySelectorAll("select")) {
      select.addEventListener("change", () => filters.submit());
    }
  }

  // Funnel form: one more step box (20 at most).
  const addStep = document.querySelector("[data-add-step]");
  if (addStep) {
    addStep.addEventListener("click", () => {
      const list = document.querySelector("[data-steps]");
      const n = list.children.length + 1;
      if (n > 20) return;
      const item = document.createElement("li");
      item.innerHTML = `<label class="sr" for="step-${n}">Step ${n}</label>` +
        `<input id="step-${n}" name="step" list="templates" spellcheck="false">`;
      list.append(item);
      item.querySelector("input").focus();
    });
  }
})();
