// clicktrail journeys page, its pure part: functions of the API's JSON (a journey map's
// "result") with no DOM: the layout of reports/charts/journey_layout.py, colours, words,
// the CSV and the funnel steps of a node. journeys.js draws and wires them.

export const NODE_W = 12;
const NODE_GAP = 8; // between two blocks of a column
const MIN_BLOCK_H = 3; // a block of one visit stays visible
const PLOT_MIN_H = 360;
const PLOT_ASPECT = 0.42; // plot height as a share of the width
export const PAD = 16;
export const COLUMN_MIN_W = 150; // narrower than this, the map scrolls sideways
export const LINE_H = 15;
const CHAR_W = 7.3; // 12 px monospace
export const ACCENT = [37, 99, 235];
export const OTHER = [100, 116, 139];
const NONE_REACHED = [203, 213, 225];
const ALL_REACHED = [5, 150, 105];
export const GREYS = { exit: "rgb(156, 163, 175)", open: "rgb(209, 213, 219)" };
export const EXIT_LABELS = { open: "left the site", start: "left the site", end: "started here" };

export const count = (n) => n.toLocaleString("en");
export const rgb = ([r, g, b]) => `rgb(${r}, ${g}, ${b})`;
export const share = (part, whole) => (part === null || !whole ? null : part / whole);
export const goalColour = (s) => rgb(NONE_REACHED.map((c, k) => Math.round(c + (ALL_REACHED[k] - c) * s)));
export const duration = (s) => {
  if (s === null) return "–";
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400 && s % 3600) return `${(s / 60).toFixed(0)} min`;
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`.replace(".0 h", " h");
  return `${(s / 86400).toFixed(1)} d`.replace(".0 d", " d");
};
export const nodeLabel = (node) =>
  node.other ? "Other" : node.page !== null ? node.page : `event: ${node.event}`;
export const shortenLeft = (text, room) => {
  const keep = Math.floor(room / CHAR_W);
  return text.length <= keep ? text : keep > 1 ? "…" + text.slice(text.length - keep + 1) : "";
};
// A short block's one line: its name shortened before its count, or its name alone.
export const oneLine = (name, visits, room) => {
  const nameRoom = room - (visits.length + 2) * CHAR_W;
  return nameRoom >= Math.min(name.length, 8) * CHAR_W
    ? `${shortenLeft(name, nameRoom)}  ${visits}`
    : shortenLeft(name, room);
};
export const anchorOf = (node) => (node.page !== null ? node.page : `event:${node.event}`);

// Layout: one column per step, heights in proportion to visits, Other last (the API's order),
// then the grey Exit block (the previous column's visits that ended) and the open visits.
// A backward map is mirrored so that it reads left to right, towards B.
export function layOut(result, width) {
  const columns = result.columns;
  const n = Math.max(columns.length, 1);
  const backward = result.direction === "backward";
  const gap = (width - 2 * PAD - n * NODE_W) / n;
  const plotH = Math.max(PLOT_MIN_H, PLOT_ASPECT * width);
  const first = columns.length ? columns[0].visits : 0;
  const openOf = (column) => column.nodes.reduce((sum, node) => sum + node.in_progress, 0);
  const tallest = Math.max(1, ...columns.map((column, i) =>
    column.nodes.length + (i ? (columns[i - 1].ends > 0) + (openOf(columns[i - 1]) > 0) : 0)));
  const scale = first ? (plotH - NODE_GAP * (tallest - 1)) / first : 0;
  const blocks = [];
  columns.forEach((column, i) => {
    const x = PAD + (backward ? n - 1 - i : i) * (NODE_W + gap);
    let y = PAD;
    const add = (id, kind, visits, node) => {
      const height = visits ? Math.max(MIN_BLOCK_H, visits * scale) : 0;
      blocks.push({ id, kind, visits, node, column: i, x, top: y, height, outY: y, inY: y });
      y += height + NODE_GAP;
    };
    for (const node of column.nodes) add(node.id, "node", node.visits, node);
    if (!i) return;
    if (columns[i - 1].ends) add(`${i + 1}:exit`, "exit", columns[i - 1].ends, null);
    if (openOf(columns[i - 1])) add(`${i + 1}:open`, "open", openOf(columns[i - 1]), null);
  });
  const height = Math.max(PAD, ...blocks.map((b) => b.top + b.height)) + PAD;
  return { width, height, blocks, links: links(result, blocks, backward), labelRoom: gap - 10 };
}

// Each node's links in the order of the blocks they reach, then its share to Exit and open.
function links(result, blocks, backward) {
  const byId = new Map(blocks.map((b) => [b.id, b]));
  const order = new Map(blocks.map((b, k) => [b.id, k]));
  const edges = [...result.edges].sort((a, b) =>
    order.get(a.from) - order.get(b.from) || order.get(a.to) - order.get(b.to));
  const wanted = edges.map((e) => ({ ...e, kind: "edge" }));
  for (const column of result.columns.slice(0, -1)) {
    for (const node of column.nodes) {
      for (const kind of ["exit", "open"]) {
        const visits = kind === "exit" ? node.ends : node.in_progress;
        const to = `${column.step + 1}:${kind}`;
        if (visits && byId.has(to)) wanted.push({ from: node.id, to, visits, goal: null, kind });
      }
    }
  }
  return wanted.map((link) => {
    const source = byId.get(link.from);
    const target = byId.get(link.to);
    const w0 = (source.height * link.visits) / source.visits;
    const w1 = (target.height * link.visits) / target.visits;
    const laid = {
      ...link, w0, w1, y0: source.outY, y1: target.inY,
      x0: backward ? source.x : source.x + NODE_W,
      x1: backward ? target.x + NODE_W : target.x,
    };
    source.outY += w0;
    target.inY += w1;
    return laid;
  });
}

// The busiest way to the node: its heaviest incoming link, and that one's, back to the first
// column (Other left out), in time order, then the goal. A funnel needs two steps: a node of
// the first column takes its heaviest next step instead.
export function funnelSteps(result, node) {
  const nodes = new Map(result.columns.flatMap((c) => c.nodes).map((n) => [n.id, n]));
  const heaviest = (edges) => edges.reduce((a, b) => (b.visits > a.visits ? b : a), edges[0]);
  const chain = [node];
  for (let into; (into = heaviest(result.edges.filter((e) => e.to === chain.at(-1).id)));) {
    chain.push(nodes.get(into.from));
  }
  if (chain.length === 1) {
    const out = heaviest(result.edges.filter((e) => e.from === node.id && !nodes.get(e.to).other));
    if (out) chain.unshift(nodes.get(out.to));
  }
  const items = chain.filter((n) => !n.other).map(anchorOf);
  const steps = result.direction === "backward" ? items : items.reverse();
  if (result.goal && steps.at(-1) !== result.goal) steps.push(result.goal);
  return steps.slice(0, 20);
}

const CSV_COLUMNS = ["kind", "id", "step", "page", "event", "other", "visits", "ends",
  "in_progress", "beyond", "repeats", "returns", "goal", "median_next_s", "from", "to"];

// A cell a spreadsheet would read as a formula (=, +, -, @) is kept as text.
export function csvCell(value) {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csv(result) {
  const rows = [CSV_COLUMNS];
  for (const column of result.columns) {
    for (const node of column.nodes) {
      rows.push(CSV_COLUMNS.map((key) => (key === "kind" ? "node" : key === "step" ? column.step
        : key === "from" || key === "to" ? null : node[key])));
    }
  }
  for (const edge of result.edges) {
    rows.push(CSV_COLUMNS.map((key) => (key === "kind" ? "edge"
      : ["visits", "goal", "from", "to"].includes(key) ? edge[key] : null)));
  }
  return rows.map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}
