// clicktrail journeys page: the journey map drawn as SVG by hand from the API's JSON (laid out by
// journey_model.js), hover, the panel of a clicked page, the CSV. Every page name in the JSON was
// written by a stranger: it only ever becomes text (textContent, setAttribute), never markup.
import {
  ACCENT, COLUMN_MIN_W, EXIT_LABELS, GREYS, LINE_H, NODE_W, OTHER, PAD, anchorOf, count, csv,
  duration, funnelSteps, goalColour, layOut, nodeLabel, oneLine, rgb, share, shortenLeft,
} from "./journey_model.js";

(() => {
  const section = document.querySelector("[data-journeys]");
  if (!section) return;

  const SVG = "http://www.w3.org/2000/svg";

  const map = section.querySelector("[data-journey-map]");
  const tip = section.querySelector("[data-journey-tip]");
  const panel = section.querySelector("[data-journey-panel]");
  const site = section.dataset.site;
  let result = null;
  let drawnWidth = 0;


  function svgElement(name, attributes, parent) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    if (parent) parent.append(element);
    return element;
  }

  function blockColour(block) {
    if (block.kind !== "node") return GREYS[block.kind];
    const s = share(block.node.goal, block.visits);
    return s !== null ? goalColour(s) : rgb(block.node.other ? OTHER : ACCENT);
  }

  function linkPath({ x0, y0, x1, y1, w0, w1 }) {
    const mid = (x0 + x1) / 2;
    return `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1} L${x1},${y1 + w1} ` +
      `C${mid},${y1 + w1} ${mid},${y0 + w0} ${x0},${y0 + w0} Z`;
  }

  function blockTexts(block) {
    let detail = count(block.visits);
    if (block.kind === "exit") {
      return [EXIT_LABELS[result.mode] || `reached ${result.end}`, detail];
    }
    if (block.kind === "open") return [openName(), detail];
    const s = share(block.node.goal, block.visits);
    if (s !== null) detail += ` · ${(100 * s).toFixed(0)}% goal`;
    else if (block.node.median_next_s !== null) detail += ` · next ${duration(block.node.median_next_s)}`;
    return [nodeLabel(block.node), detail];
  }

  // Right of each block, within the room before the next column; a label with no room (its
  // block is short and the label above is in the way) is left out, as in the PNG.
  function drawLabels(svg, layout) {
    const taken = new Map();
    for (const block of layout.blocks) {
      const [name, detail] = blockTexts(block);
      const room = layout.labelRoom;
      const lines = block.height >= 2 * LINE_H
        ? [shortenLeft(name, room), shortenLeft(detail, room)]
        : [oneLine(name, count(block.visits), room)];
      let top = block.top + block.height / 2 - (LINE_H * lines.length) / 2;
      if (block.height < 13) top = Math.max(top, block.top);
      if (top < (taken.get(block.column) ?? -1)) continue;
      taken.set(block.column, top + LINE_H * lines.length);
      lines.forEach((line, k) => {
        const text = svgElement("text", {
          x: block.x + NODE_W + 4, y: top + k * LINE_H + 11,
          class: k ? "label detail" : "label", "data-block": block.id,
        }, svg);
        text.textContent = line;
      });
    }
  }

  function draw() {
    const width = Math.max(map.clientWidth, 2 * PAD + result.columns.length * COLUMN_MIN_W);
    const layout = layOut(result, width);
    drawnWidth = map.clientWidth;
    const svg = svgElement("svg", {
      width, height: layout.height, viewBox: `0 0 ${width} ${layout.height}`,
      role: "group", "aria-label": "Journey map",
    });
    const linkLayer = svgElement("g", { class: "links" }, svg);
    for (const link of layout.links) {
      const share0 = share(link.goal, link.visits);
      const fill = link.kind !== "edge" ? GREYS[link.kind]
        : share0 !== null ? goalColour(share0) : rgb(ACCENT);
      const path = svgElement("path", { d: linkPath(link), fill, class: `link ${link.kind}` }, linkLayer);
      path.dataset.from = link.from;
      path.dataset.to = link.to;
      path.addEventListener("pointerenter", (event) => {
        highlight(svg, (l) => l === path);
        showTip(event, linkTexts(link));
      });
      path.addEventListener("pointerleave", () => clear(svg));
    }
    for (const block of layout.blocks) drawBlock(svg, block);
    drawLabels(svg, layout);
    map.querySelector("svg")?.remove();
    map.append(svg);
  }

  function drawBlock(svg, block) {
    const kind = block.kind === "node" ? "step" : block.kind;
    const g = svgElement("g", { class: `node ${kind}`, "data-id": block.id }, svg);
    svgElement("rect", {
      x: block.x, y: block.top, width: NODE_W, height: block.height, fill: blockColour(block),
    }, g);
    const texts = blockTexts(block);
    const adjacent = (l) => l.dataset.from === block.id || l.dataset.to === block.id;
    const hover = (event) => {
      highlight(svg, adjacent, g);
      showTip(event, [texts[0], ...nodeNumbers(block)]);
    };
    g.addEventListener("pointerenter", hover);
    g.addEventListener("pointerleave", () => clear(svg));
    if (block.kind !== "node") return;
    g.setAttribute("tabindex", "0");
    g.setAttribute("role", "button");
    g.setAttribute("aria-label", `${texts[0]}, step ${block.column + 1}: ${texts[1]}`);
    g.addEventListener("focus", () => hover(null));
    g.addEventListener("blur", () => clear(svg));
    g.addEventListener("click", () => openPanel(block.node, block.column));
    g.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      openPanel(block.node, block.column);
    });
  }

  function nodeNumbers(block) {
    if (block.kind !== "node") return [`${count(block.visits)} visits`];
    const node = block.node;
    const lines = [`${count(node.visits)} visits · ${count(node.ends)} ${endsName().toLowerCase()}`];
    const s = share(node.goal, node.visits);
    if (s !== null) lines.push(`${count(node.goal)} reached ${result.goal} (${(100 * s).toFixed(0)}%)`);
    if (node.median_next_s !== null) lines.push(`next step after ${duration(node.median_next_s)} (median)`);
    return lines;
  }

  function linkTexts(link) {
    const name = (id) => {
      const node = result.columns.flatMap((c) => c.nodes).find((n) => n.id === id);
      return node ? nodeLabel(node) : id.endsWith(":exit") ? "exit" : openName();
    };
    const [a, b] = result.direction === "backward" ? [link.to, link.from] : [link.from, link.to];
    const lines = [`${name(a)} → ${name(b)}`, `${count(link.visits)} visits`];
    const s = share(link.goal, link.visits);
    if (s !== null) lines.push(`${count(link.goal)} reached ${result.goal} (${(100 * s).toFixed(0)}%)`);
    return lines;
  }

  // Hovering (or focusing) a node or link: its links stand out, the others fade.
  function highlight(svg, isHot, node) {
    svg.classList.add("focus");
    for (const link of svg.querySelectorAll(".link")) link.classList.toggle("hot", isHot(link));
    if (node) node.classList.add("hot");
  }

  function clear(svg) {
    svg.classList.remove("focus");
    for (const hot of svg.querySelectorAll(".hot")) hot.classList.remove("hot");
    tip.hidden = true;
  }

  function showTip(event, lines) {
    tip.replaceChildren(...lines.map((line, k) => {
      const div = document.createElement("div");
      div.textContent = line;
      if (!k) div.className = "path";
      return div;
    }));
    tip.hidden = false;
    if (!event) return;
    const box = map.getBoundingClientRect();
    const x = event.clientX - box.left + map.scrollLeft + 14;
    const y = event.clientY - box.top + 14;
    tip.style.left = `${Math.min(x, map.scrollLeft + map.clientWidth - tip.offsetWidth - 4)}px`;
    tip.style.top = `${y}px`;
  }


  // As the PNG says it: in a forward map, open visits may go on from here.
  const openName = () => (result.direction === "forward" ? "still on the site" : "visits still open");
  const endsName = () => (result.direction === "backward" ? "Started here" : "Ended here");

  function here(changes) {
    const query = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(changes)) query.set(key, value);
    return `${location.pathname}?${query}`;
  }

  function link(action, href) {
    const a = panel.querySelector(`[data-action="${action}"]`);
    if (href) {
      a.href = href;
      a.removeAttribute("aria-disabled");
    } else {
      a.removeAttribute("href");
      a.setAttribute("aria-disabled", "true");
    }
  }

  function openPanel(node, column) {
    const field = (name) => panel.querySelector(`[data-field="${name}"]`);
    field("label").textContent = nodeLabel(node);
    field("where").textContent = `step ${column + 1} of ${result.columns.length}`;
    field("ends-name").textContent = endsName();
    for (const name of ["visits", "ends", "in_progress", "repeats", "returns"]) {
      field(name).textContent = count(node[name]);
    }
    const s = share(node.goal, node.visits);
    field("goal").textContent = s === null ? "no goal set" : `${count(node.goal)} (${(100 * s).toFixed(1)}%)`;
    field("median_next_s").textContent = duration(node.median_next_s);
    const period = { from: result.from, to: result.to };
    link("start", node.other ? null : here({ start: anchorOf(node) }));
    link("end", node.other ? null : here({ end: anchorOf(node) }));
    const heatmap = new URLSearchParams({ page: node.page ?? "", ...period });
    if (result.band) heatmap.set("band", result.band);
    link("heatmap", node.page !== null && !node.other
      ? `/sites/${encodeURIComponent(site)}/heatmap?${heatmap}` : null);
    const steps = node.other ? [] : funnelSteps(result, node);
    const funnel = new URLSearchParams([...steps.map((s) => ["step", s]), ...Object.entries(period)]);
    link("funnel", steps.length >= 2 ? `/sites/${encodeURIComponent(site)}/funnel?${funnel}` : null);
    panel.querySelector("[data-panel-hint]").hidden = true;
    panel.querySelector("[data-panel-body]").hidden = false;
  }


  function download() {
    const url = URL.createObjectURL(new Blob([csv(result)], { type: "text/csv" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `journeys-${site}-${result.from}-${result.to}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function describe() {
    const mode = {
      open: "from each visit's first page", start: `from ${result.start}`,
      end: `backward from ${result.end}`, both: `from ${result.start} to ${result.end}`,
    }[result.mode];
    section.querySelector("[data-journey-title]").textContent =
      `${count(result.visits)} visits, ${mode}`;
    const days = result.from === result.to ? result.from : `${result.from} to ${result.to}`;
    const parts = [`${days} (${result.time_zone})`];
    if (result.never_reached) parts.push(`${count(result.never_reached)} never reached ${result.end}`);
    if (result.goal !== null) parts.push(`goal: ${result.goal}`);
    section.querySelector("[data-journey-summary]").textContent = parts.join(" · ");
    section.querySelector("[data-journey-warnings]").replaceChildren(...result.warnings.map((w) => {
      const p = document.createElement("p");
      p.className = "notice error path";
      p.textContent = w;
      return p;
    }));
    const legend = section.querySelector("[data-journey-legend]");
    legend.hidden = false;
    legend.classList.toggle("with-goal", result.goal !== null);
    legend.querySelector("[data-legend-goal]").textContent =
      result.goal !== null ? `share of visits that reached ${result.goal}: 0%` : "";
  }

  async function load() {
    const reply = await fetch(section.dataset.journeys);
    const data = await reply.json();
    section.removeAttribute("aria-busy");
    if (!reply.ok) {
      section.querySelector("[data-journey-summary]").textContent =
        `${data.parameter ? `${data.parameter}: ` : ""}${data.error}`;
      return;
    }
    result = data;
    describe();
    if (!result.visits) {
      const none = document.createElement("p");
      none.className = "muted";
      none.textContent = "No visits in this range.";
      map.append(none);
      return;
    }
    draw();
    const button = section.querySelector("[data-journey-csv]");
    button.disabled = false;
    button.addEventListener("click", download);
    let pending = 0;
    addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(() => { if (map.clientWidth !== drawnWidth) draw(); }, 150);
    });
  }

  load();
})();
