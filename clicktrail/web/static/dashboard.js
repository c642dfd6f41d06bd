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

  // A map is drawn at the width it is shown at (the API's width), so its legend's text keeps
  // its size instead of shrinking with the picture; the link opens it at full size.
  for (const img of document.querySelectorAll("img[data-fit]")) {
    const shown = Math.floor((img.parentElement.clientWidth - 2) / 10) * 10; // 2: its border
    const full = new URL(img.getAttribute("src"), location.href);
    if (shown >= 320 && shown < Number(img.dataset.fit) && !full.searchParams.has("width")) {
      full.searchParams.set("width", String(shown));
      img.src = full.pathname + full.search;
    }
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

  // Funnel form: add a step box (20 at most), remove one (2 stay). Boxes are numbered in order,
  // so every label, id and remove button is renumbered after a change.
  const steps = document.querySelector("[data-steps]");
  const addStep = document.querySelector("[data-add-step]");
  const stepTemplate = document.querySelector("[data-step-template]");
  if (steps && addStep && stepTemplate) {
    const renumber = () => {
      const items = [...steps.children];
      items.forEach((item, i) => {
        const n = i + 1;
        const label = item.querySelector("label");
        const input = item.querySelector("input");
        const problem = item.querySelector(".problem");
        label.htmlFor = input.id = `step-${n}`;
        label.textContent = `Step ${n}`;
        if (problem) {
          problem.id = `step-${n}-problem`;
          input.setAttribute("aria-describedby", problem.id);
        }
        const remove = item.querySelector("[data-remove-step]");
        remove.querySelector(".sr").textContent = `Remove step ${n}`;
        remove.disabled = items.length <= 2;
      });
      addStep.disabled = items.length >= 20;
    };
    addStep.addEventListener("click", () => {
      if (steps.children.length >= 20) return;
      steps.append(stepTemplate.content.cloneNode(true));
      renumber();
      steps.lastElementChild.querySelector("input").focus();
    });
    steps.addEventListener("click", (event) => {
      const remove = event.target.closest("[data-remove-step]");
      if (!remove || steps.children.length <= 2) return;
      const item = remove.closest("li");
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      renumber();
      next.querySelector("input").focus();
    });
    renumber();
  }
})();
