// The overview's pure parts: cards and lists as data, the change against the previous period,
// number formats, the CSV and the chart's scales. No DOM here (static/overview.js draws).
import { count, csvCell, duration } from "./journey_model.js";

export { count };
export const percent = (r) => (r === null || r === undefined ? "—" : `${(100 * r).toFixed(1)} %`);

const FORMATS = {
  count: (n) => (n === null || n === undefined ? "—" : count(n)),
  percent,
  ratio: (r) => (r === null ? "—" : r.toFixed(2)),
  duration: (s) => (s === null ? "—" : duration(s)),
};
export const format = (kind, value) => FORMATS[kind](value);

// Visitors are the daily visitor hash: a visitor on three days counts three times.
export const CARDS = [
  { key: "visitors", label: "Unique visitors per day (summed)", kind: "count" },
  { key: "visits", label: "Visits", kind: "count" },
  { key: "pageviews", label: "Page views", kind: "count" },
  { key: "pages_per_visit", label: "Pages per visit", kind: "ratio" },
  { key: "bounce_rate", label: "Bounce rate", kind: "percent", lowerIsBetter: true },
  { key: "median_duration_s", label: "Median visit duration", kind: "duration" },
  { key: "conversions", label: "Conversions", kind: "count", goal: true },
  { key: "conversion_rate", label: "Conversion rate", kind: "percent", goal: true },
];

// The change against the previous period: "+12 %", good or bad by the card's sense, "—" when
// there is nothing to compare with.
export function change(current, previous, lowerIsBetter = false) {
  if (current === null || previous === null || previous === undefined || previous === 0) {
    return { text: "—", tone: "none" };
  }
  const ratio = (current - previous) / previous;
  const digits = Math.abs(ratio) < 0.1 && ratio !== 0 ? 1 : 0;
  const shown = (100 * ratio).toFixed(digits);
  if (Number(shown) === 0) return { text: "±0 %", tone: "flat" };
  const better = lowerIsBetter ? ratio < 0 : ratio > 0;
  return { text: `${ratio > 0 ? "+" : "−"}${shown.replace("-", "")} %`, tone: better ? "good" : "bad" };
}

const col = (field, label, kind = "count", extra = {}) => ({ field, label, kind, ...extra });
const text = (field, label) => col(field, label, "text");
const goalOnly = { goal: true };

export const LISTS = [
  { key: "pages", title: "Top pages", columns: [text("page", "Page"), col("visits", "Visits"), col("pageviews", "Views")] },
  { key: "entry_pages", title: "Entry pages", columns: [text("page", "Page"), col("visits", "Visits")] },
  { key: "exit_pages", title: "Exit pages", columns: [text("page", "Page"), col("exits", "Exits"), col("exit_rate", "Exit rate", "percent")] },
  { key: "channels", title: "Channels", columns: [text("name", "Channel"), col("visits", "Visits"),
    col("conversions", "Conv.", "count", goalOnly), col("conversion_rate", "Rate", "percent", goalOnly)] },
  { key: "sources", title: "Sources", columns: [text("source", "Source"), col("visits", "Visits")] },
  { key: "campaigns", title: "Campaigns", columns: [text("campaign", "Campaign"), col("visits", "Visits")] },
  { key: "terms", title: "Terms", columns: [text("term", "Term"), col("visits", "Visits")] },
  { key: "contents", title: "Contents", columns: [text("content", "Content"), col("visits", "Visits")] },
  { key: "devices", title: "Devices", columns: [text("band", "Device"), col("visits", "Visits")] },
  { key: "browsers", title: "Browsers", columns: [text("browser", "Browser"), col("visits", "Visits")] },
  { key: "os", title: "Operating systems", columns: [text("os", "System"), col("visits", "Visits")] },
  { key: "countries", title: "Countries", columns: [text("country", "Country"), col("visits", "Visits")] },
  { key: "hostnames", title: "Hostnames", columns: [text("hostname", "Hostname"), col("visits", "Visits")] },
  { key: "events", title: "Custom events", columns: [text("name", "Event"), col("visits", "Visits"),
    col("count", "Count"), col("conversion_rate", "Conv. rate", "percent")] },
  { key: "goals", title: "Goals", columns: [text("name", "Goal"), text("pattern", "Matches"),
    col("conversions", "Conv."), col("conversion_rate", "Rate", "percent")] },
];

export const columnsOf = (list, withGoal) => list.columns.filter((c) => withGoal || !c.goal);

// The list as a CSV: the fields' names, then one line per row, raw numbers (rates 0 to 1).
export function listCsv(columns, rows) {
  const lines = [columns.map((c) => c.field), ...rows.map((row) => columns.map((c) => row[c.field]))];
  return lines.map((line) => line.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

// A round top for the y axis and its ticks: 0, then steps of 1, 2 or 5 times a power of ten.
export function ticks(max, wanted = 4) {
  if (max <= 0) return [0, 1];
  const rough = max / wanted;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const out = [];
  for (let v = 0; v < max + step; v += step) out.push(v);
  return out;
}

// Which points get a label on the x axis: about one per `room` pixels, the first always.
export function labelled(n, width, room = 72) {
  const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(width / room))));
  return Array.from({ length: n }, (_, i) => i % every === 0);
}

// "2024-05-03" as "3 May"; an hourly "2024-05-03T14:00+02:00" as "14:00".
export function shortTime(t) {
  if (t.includes("T")) return t.slice(11, 16);
  const [y, m, d] = t.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en", { day: "numeric", month: "short", timeZone: "UTC" });
}

export function longTime(t) {
  return t.includes("T") ? `${t.slice(0, 10)} ${t.slice(11, 16)}` : t;
}
