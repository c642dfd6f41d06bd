// clicktrail overview: cards, the series chart (SVG drawn by hand) and the lists, from the API's
// JSON. Pages, sources, campaigns and event names were written by strangers: they only ever
// become text (textContent, setAttribute), never markup.
import {
  CARDS, LISTS, change, columnsOf, count, format, labelled, listCsv, longTime, shortTime, ticks,
} from "./overview_model.js";

(() => {
  const section = document.querySelector("[data-overview]");
  if (!section) return;

  const SVG = "http://www.w3.org/2000/svg";
  const ROWS = 10; // the API's default limit: a list this long may have more
  const site = section.dataset.site;
  const api = section.dataset.overview;
  const chart = section.querySelector("[data-chart]");
  const tip = section.querySelector("[data-chart-tip]");
  let result = null;
  let everything = null; // the promise of the overview with every row (limit=0), once asked
  let drawnWidth = 0;

  const element = (name, props = {}, parent = null) => {
    const e = document.createElement(name);
    Object.assign(e, props);
    if (parent) parent.append(e);
    return e;
  };

  const svgElement = (name, attributes, parent) => {
    const e = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) e.setAttribute(key, value);
    if (parent) parent.append(e);
    return e;
  };

  function describe() {
    const days = result.from === result.to ? result.from : `${result.from} to ${result.to}`;
    const previous = result.previous.from === result.previous.to
      ? result.previous.from : `${result.previous.from} to ${result.previous.to}`;
    section.querySelector("[data-overview-status]").textContent =
      `${days} (${result.time_zone}), against ${previous}` +
      (result.goal !== null ? ` · goal: ${result.goal}` : "");
    section.querySelector("[data-overview-warnings]").replaceChildren(...result.warnings.map((w) =>
      element("p", { className: "notice error path", textContent: w })));
  }

  function drawCards() {
    const withGoal = result.goal !== null;
    section.querySelector("[data-cards]").replaceChildren(...CARDS.filter((c) => withGoal || !c.goal)
      .map((card) => {
        const box = element("div", { className: "stat" });
        box.dataset.card = card.key;
        element("div", { className: "stat-label", textContent: card.label }, box);
        element("div", { className: "stat-value", textContent: format(card.kind, result[card.key]) }, box);
        const was = result.previous[card.key];
        const delta = change(result[card.key], was, card.lowerIsBetter);
        const line = element("div", { className: "stat-change" }, box);
        const badge = element("span", { className: `change ${delta.tone}`, textContent: delta.text }, line);
        badge.dataset.change = card.key;
        element("span", { className: "muted", textContent: ` vs ${format(card.kind, was)}` }, line);
        return box;
      }));
  }

  // --- The chart: visits and page views, the previous period fainter behind them.
  function drawChart() {
    const current = result.series;
    const previous = result.previous.series;
    const width = Math.max(chart.clientWidth, 240);
    const height = width < 560 ? 200 : 260;
    drawnWidth = chart.clientWidth;
    const m = { left: 46, right: 14, top: 12, bottom: 28 };
    const plotW = width - m.left - m.right;
    const plotH = height - m.top - m.bottom;
    const all = [...current, ...previous].flatMap((p) => [p.visits, p.pageviews]);
    const yTicks = ticks(Math.max(0, ...all));
    const top = yTicks.at(-1);
    const n = current.length;
    const x = (i) => m.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
    const y = (v) => m.top + plotH * (1 - v / top);
    const svg = svgElement("svg", {
      width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `Visits and page views per ${current[0]?.t.includes("T") ? "hour" : "day"}, with the previous period`,
    });
    for (const v of yTicks) {
      svgElement("line", { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v), class: "grid" }, svg);
      svgElement("text", { x: m.left - 6, y: y(v) + 4, class: "axis y" }, svg).textContent = count(v);
    }
    const marks = labelled(n, plotW);
    current.forEach((p, i) => {
      if (!marks[i]) return;
      const anchor = n > 1 && i === 0 ? "start" : n > 1 && i === n - 1 ? "end" : "middle";
      svgElement("text", { x: x(i), y: height - 8, class: "axis x", "text-anchor": anchor }, svg)
        .textContent = shortTime(p.t);
    });
    const line = (series, field, cls) => {
      const d = series.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p[field]).toFixed(1)}`).join("");
      if (d) svgElement("path", { d, class: `line ${cls}` }, svg);
    };
    line(previous.slice(0, n), "pageviews", "prev pageviews");
    line(previous.slice(0, n), "visits", "prev visits");
    line(current, "pageviews", "pageviews");
    line(current, "visits", "visits");
    current.forEach((p, i) => {
      const dot = svgElement("circle", { cx: x(i), cy: y(p.visits), r: n > 60 ? 1.5 : 3, class: "point" }, svg);
      dot.dataset.t = p.t;
    });
    const guide = svgElement("line", { y1: m.top, y2: m.top + plotH, class: "guide", visibility: "hidden" }, svg);
    const overlay = svgElement("rect", { x: m.left - 6, y: m.top, width: plotW + 12, height: plotH, class: "overlay" }, svg);
    let shown = n - 1; // the point the keys move from: the latest one first
    const point = (i, py) => {
      shown = i;
      guide.setAttribute("x1", x(i));
      guide.setAttribute("x2", x(i));
      guide.setAttribute("visibility", "visible");
      showTip(i, x(i), py ?? y(current[i].visits));
    };
    const hide = () => {
      guide.setAttribute("visibility", "hidden");
      tip.hidden = true;
    };
    overlay.addEventListener("pointermove", (event) => {
      const box = svg.getBoundingClientRect();
      const at = n === 1 ? 0 : Math.round(((event.clientX - box.left - m.left) / plotW) * (n - 1));
      point(Math.min(n - 1, Math.max(0, at)), event.clientY - box.top);
    });
    overlay.addEventListener("pointerleave", hide);
    // Keyboards read it too: focus shows the latest point, the arrows, Home and End move.
    svg.setAttribute("tabindex", "0");
    svg.setAttribute("aria-describedby", tip.id);
    svg.addEventListener("focus", () => { if (n) point(Math.min(shown, n - 1)); });
    svg.addEventListener("blur", hide);
    svg.addEventListener("keydown", (event) => {
      const to = { ArrowLeft: shown - 1, ArrowRight: shown + 1, Home: 0, End: n - 1 }[event.key];
      if (event.key === "Escape") hide();
      if (to === undefined || !n) return;
      event.preventDefault();
      point(Math.min(n - 1, Math.max(0, to)));
    });
    chart.querySelector("svg")?.remove();
    chart.append(svg);
  }

  function showTip(i, px, py) {
    const now = result.series[i];
    const was = result.previous.series[i];
    const lines = [
      [longTime(now.t), "when"],
      [`${count(now.visits)} visits · ${count(now.pageviews)} page views`, ""],
    ];
    if (was) {
      lines.push([`Previous, ${longTime(was.t)}:`, "muted when"]);
      lines.push([`${count(was.visits)} visits · ${count(was.pageviews)} page views`, "muted"]);
    }
    tip.replaceChildren(...lines.map(([t, cls]) => element("div", { className: cls, textContent: t })));
    tip.hidden = false;
    let left = px + 12;
    if (left + tip.offsetWidth > chart.clientWidth) left = Math.max(0, px - tip.offsetWidth - 12);
    tip.style.left = `${left}px`;
    tip.style.top = `${Math.max(0, py - tip.offsetHeight - 8)}px`;
  }

  // --- The lists: 10 rows, "Show all" (limit=0) and the CSV of every row.
  const complete = () => {
    everything ??= fetch(`${api}&limit=0`).then((reply) => {
      if (!reply.ok) throw new Error(`the overview answered ${reply.status}`);
      return reply.json();
    });
    return everything;
  };

  function channelHref(slug) {
    const query = new URLSearchParams(location.search);
    query.set("channel", slug);
    return `${location.pathname}?${query}`;
  }

  function cell(column, row, listKey) {
    const td = element("td", { className: column.kind === "text" ? "path" : "num" });
    const value = row[column.field];
    if (listKey === "channels" && column.field === "name") {
      const a = element("a", { textContent: value }, td);
      a.setAttribute("href", channelHref(row.channel));
      a.title = `Only ${value} visits`;
      return td;
    }
    td.textContent = column.kind === "text" ? (value ?? "—") : format(column.kind, value);
    return td;
  }

  function fillList(box, list, rows, all) {
    const columns = columnsOf(list, result.goal !== null);
    const body = box.querySelector("tbody");
    body.replaceChildren(...rows.map((row) => {
      const tr = element("tr");
      tr.append(...columns.map((c) => cell(c, row, list.key)));
      return tr;
    }));
    box.querySelector("[data-none]").hidden = rows.length > 0;
    box.querySelector("table").hidden = rows.length === 0;
    box.querySelector("[data-show-all]").hidden = all || rows.length < ROWS;
    box.querySelector("[data-csv]").disabled = rows.length === 0;
  }

  function buildList(list) {
    const box = element("section", { className: "card list" });
    box.dataset.list = list.key;
    const head = element("div", { className: "row" }, box);
    element("h2", { textContent: list.title }, head);
    const actions = element("div", { className: "list-actions" }, head);
    const more = element("button", { type: "button", className: "link", textContent: "Show all" }, actions);
    more.dataset.showAll = "";
    const csvButton = element("button", { type: "button", className: "link", textContent: "CSV" }, actions);
    csvButton.dataset.csv = "";
    csvButton.setAttribute("aria-label", `Download ${list.title} as CSV`);
    const table = element("table", { className: "compact" }, element("div", { className: "scroll-x" }, box));
    const headRow = element("tr", {}, element("thead", {}, table));
    for (const c of columnsOf(list, result.goal !== null)) {
      const th = element("th", { scope: "col", textContent: c.label, className: c.kind === "text" ? "" : "num" }, headRow);
      th.setAttribute("scope", "col");
    }
    element("tbody", {}, table);
    const none = element("p", { className: "muted small", textContent: list.key === "goals"
      ? "No goal in [goals] of clicktrail.toml." : "None in this period." }, box);
    none.dataset.none = "";
    fillList(box, list, result[list.key], false);
    more.addEventListener("click", async () => {
      more.disabled = true;
      fillList(box, list, (await complete())[list.key], true);
    });
    csvButton.addEventListener("click", async () => {
      const rows = (await complete())[list.key];
      download(`overview-${site}-${list.key}-${result.from}-${result.to}.csv`,
        listCsv(columnsOf(list, result.goal !== null), rows));
    });
    return box;
  }

  function download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    const a = element("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // --- The form: a preset applies at once; typing a day makes the period custom.
  function wireForm() {
    const form = document.querySelector("[data-overview-form]");
    if (!form) return;
    const period = form.elements.period;
    period.addEventListener("change", () => { if (period.value !== "custom") form.submit(); });
    for (const name of ["from", "to"]) {
      form.elements[name].addEventListener("input", () => { period.value = "custom"; });
    }
  }

  async function load() {
    wireForm();
    const reply = await fetch(api);
    const data = await reply.json();
    section.removeAttribute("aria-busy");
    if (!reply.ok) {
      section.querySelector("[data-overview-status]").textContent =
        `${data.parameter ? `${data.parameter}: ` : ""}${data.error}`;
      return;
    }
    result = data;
    describe();
    drawCards();
    drawChart();
    section.querySelector("[data-lists]").replaceChildren(...LISTS.map(buildList));
    section.dataset.loaded = "";
    let pending = 0;
    addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(() => { if (chart.clientWidth !== drawnWidth) drawChart(); }, 150);
    });
  }

  load();
})();
