"""Turn a run of stream entries into counter increments: click grids, page and element counts,
scroll depths. Pure: decoded events in, a `Commit` out; the binning is NumPy over all events."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from collector.cardinality import OVER_LIMIT, Folder, count_folded, fold_events
from collector.consumer import Commit, DeepestBucket, Entry, decoded
from collector.days import DAY_MS, day_name
from collector.keys import WORKER_GROUP
from collector.labels import labelled, mask_labels
from collector.pages import BANDS, PageTemplates, bands_of
from collector.schema import Click, Event, PageView, RageClick, Scroll
from heatmap import keys
from heatmap.examples import Hosts, count_examples
from heatmap.grid import GRID_COLUMNS, IntArray, cells_of, x_extent

SCROLL_BUCKET_PX = 50
CLICK_KINDS = ("click", "dead", "rage")
LAYERS = ("doc", "fixed")
LIVE_AGE_MS = 30 * 60_000  # an event older than this when received is history, not live


@dataclass
class _Points:
    """Columns of the clicks (and rage bursts) of one run of entries."""

    day: list[int] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    vw: list[int] = field(default_factory=list)
    width: list[float] = field(default_factory=list)  # what x is a share of
    fixed: list[bool] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    sel: list[str] = field(default_factory=list)
    label: list[str] = field(default_factory=list)  # a click's label, "" for a dead or rage one

    def add(self, day: int, event: Click | RageClick, kind: int) -> None:
        self.day.append(day)
        self.path.append(event.p)
        self.x.append(event.x)
        self.y.append(event.y)
        self.vw.append(event.vw)
        self.width.append(x_extent(event.vw, event.dw, event.fixed))
        self.fixed.append(event.fixed)
        self.kind.append(kind)
        self.sel.append(event.sel)
        # once per click: not again for its dead-click count; rage bursts carry none
        once = isinstance(event, Click) and kind == CLICK_KINDS.index("click")
        self.label.append(event.label if isinstance(event, Click) and once else "")


@dataclass
class _Run:
    points: _Points = field(default_factory=_Points)
    views: Counter[tuple[int, int, str]] = field(default_factory=Counter)
    # (day, band, path, page view) -> (deepest px, viewport height): one per page view
    scrolls: dict[tuple[int, int, str, str], tuple[float, int]] = field(default_factory=dict)
    live: Counter[tuple[int, str]] = field(default_factory=Counter)  # (minute, field) -> n


class Aggregator:
    """Heatmap aggregates of the entries of one stream shard."""

    group = WORKER_GROUP

    def __init__(
        self,
        templates: PageTemplates,
        retention_days: int,
        folder: Folder | None = None,
        hosts: Hosts | None = None,
    ) -> None:
        self.templates = templates
        self.retention_days = retention_days
        self.folder = folder  # None: no per-site limits on distinct values
        self.hosts = hosts  # None: the hosts pages are seen on are not kept

    def tick(self, site: str, shard: int) -> int:
        return 0  # counters need no upkeep: their keys expire by themselves

    def commit_for(self, site: str, shard: int, entries: list[Entry]) -> Commit:
        commit = Commit(entry_ids=[])
        run = _Run()
        batches = list(decoded(entries, commit))
        for _, events in batches:  # stored before ingest masked them, or by another writer
            mask_labels(events)
        if self.folder:
            dated = [((e.ts + h.skew) // DAY_MS, e) for h, events in batches for e in events]
            folded = fold_events(self.folder, site, dated, self.templates)
            count_folded(commit, site, shard, self.group, folded)
        for header, events in batches:
            _collect(run, events, header.skew)
            self._count_live(run.live, header.recv, header.skew, events)
        self._add_points(commit, site, shard, run.points)
        self._add_views(commit, site, shard, run)
        hosts = self.hosts(site) if self.hosts else ()
        count_examples(commit, site, shard, batches, self._template, hosts)
        for (minute, name), count in run.live.items():
            live_key = keys.live_counts(site, shard, minute)
            commit.increments[(live_key, name)] = count
            commit.expiries[live_key] = keys.LIVE_TTL_S
        return commit

    def _count_live(
        self, live: Counter[tuple[int, str]], recv_ms: int, skew_ms: int, events: list[Event]
    ) -> None:
        """Per-minute counts by receipt time, for the dashboard's live view, of the events whose
        own time (server clock: ts + skew) is near their receipt. A back-fill (an import, the
        demo's 14 days of history) arrives now with old timestamps: counted by receipt alone it
        would show as thousands of events "in the last 30 minutes"."""
        minute = recv_ms // 60_000
        fresh = [e for e in events if abs(e.ts + skew_ms - recv_ms) <= LIVE_AGE_MS]
        if not fresh:
            return
        live[(minute, "s|")] += 1
        for event in fresh:
            live[(minute, f"t|{type(event).__name__.lower()}")] += 1
            if isinstance(event, PageView):
                live[(minute, f"p|{self._template(event.p)}")] += 1

    def _template(self, path: str) -> str:
        return path if path == OVER_LIMIT else self.templates.template(path)

    def _add_points(self, commit: Commit, site: str, shard: int, points: _Points) -> None:
        if not points.day:
            return
        day = np.asarray(points.day, dtype=np.int64)
        band = bands_of(points.vw)
        cells = cells_of(points.x, points.y, points.width)
        templates = [self._template(p) for p in points.path]
        names, template = np.unique(np.asarray(templates, dtype=object), return_inverse=True)
        layer = np.asarray(points.fixed, dtype=np.int64)
        kind = np.asarray(points.kind, dtype=np.int64)
        days, day_index = np.unique(day, return_inverse=True)
        # One integer per (day, template, band, layer, kind, cell), counted in one pass.
        group = (((day_index * len(names) + template) * 3 + band) * 2 + layer) * 3 + kind
        key = group.astype(np.int64) * (cells.max() + 1) + cells
        unique, counts = np.unique(key, return_counts=True)
        cell_of, group_of = unique % (cells.max() + 1), unique // (cells.max() + 1)
        for g, cell, count in zip(
            group_of.tolist(), cell_of.tolist(), counts.tolist(), strict=True
        ):
            g, k = divmod(g, 3)
            g, lay = divmod(g, 2)
            g, b = divmod(g, 3)
            d, t = divmod(g, len(names))
            named = day_name(int(days[d]))
            grid_key = keys.grid(
                site, shard, named, BANDS[b], CLICK_KINDS[k], LAYERS[lay], names[t]
            )
            self._add(commit, grid_key, str(cell), count, int(days[d]))
        where = list(zip(days[day_index].tolist(), band.tolist(), templates, strict=True))
        self._add_elements(commit, site, shard, where, points)
        self._add_boxes(commit, site, shard, where, points.sel, cells)

    def _add_elements(
        self,
        commit: Commit,
        site: str,
        shard: int,
        where: list[tuple[int, int, str]],
        points: _Points,
    ) -> None:
        counted = Counter(zip(where, points.kind, points.sel, strict=True))
        for ((d, b, template), kind, sel), count in counted.items():
            element_key = keys.element_counts(site, shard, day_name(d), BANDS[b], template)
            self._add(commit, element_key, f"{'cdr'[kind]}|{sel}", count, d)
            page_key = keys.page_counts(site, shard, day_name(d))
            self._add(commit, page_key, f"{BANDS[b]}|{CLICK_KINDS[kind]}|{template}", count, d)
        labels = Counter(
            (at, labelled(sel, label))
            for at, sel, label in zip(where, points.sel, points.label, strict=True)
            if label and sel != OVER_LIMIT
        )
        for ((d, b, template), field_name), count in labels.items():
            label_key = keys.element_labels(site, shard, day_name(d), BANDS[b], template)
            self._add(commit, label_key, field_name, count, d)

    def _add_boxes(
        self,
        commit: Commit,
        site: str,
        shard: int,
        where: list[tuple[int, int, str]],
        selectors: list[str],
        cells: IntArray,
    ) -> None:
        """The cells around each element's clicks: ZADD GT keeps the widest box whatever the
        order of runs, and a run committed again changes nothing."""
        boxes: dict[tuple[tuple[int, int, str], str], list[int]] = {}
        rows, columns = (a.tolist() for a in np.divmod(cells, GRID_COLUMNS))
        for at, sel, row, column in zip(where, selectors, rows, columns, strict=True):
            if sel == OVER_LIMIT:
                continue
            edges = [-column, -row, column, row]  # x0, y0 negated: the greatest is the least
            box = boxes.setdefault((at, sel), edges)
            box[:] = [max(a, b) for a, b in zip(box, edges, strict=True)]
        for ((d, b, template), sel), edges in boxes.items():
            box_key = keys.element_boxes(site, shard, day_name(d), BANDS[b], template)
            for edge, score in zip(keys.BOX_EDGES, edges, strict=True):
                member = (box_key, f"{edge}|{sel}")
                commit.raises[member] = max(commit.raises.get(member, score), score)
            self._expire(commit, box_key, d)

    def _add_views(self, commit: Commit, site: str, shard: int, run: _Run) -> None:
        for (day, band, path), count in run.views.items():
            page_key = keys.page_counts(site, shard, day_name(day))
            self._add(commit, page_key, f"{BANDS[band]}|views|{self._template(path)}", count, day)
        for (day, band, path, view), (depth, fold) in run.scrolls.items():
            named, template = day_name(day), self._template(path)
            scroll_key = keys.scroll_depths(site, shard, named, BANDS[band], template)
            peak_key = keys.scroll_peaks(site, shard, named)
            bucket = int(depth // SCROLL_BUCKET_PX)
            # The peak belongs to the histogram it was counted in: one page view id reported on
            # two pages (a stranger can send that) moves nothing from one page to the other.
            member = keys.scroll_peak_member(view, BANDS[band], template)
            peak = (scroll_key, peak_key, member)
            if peak not in commit.deepest or bucket >= commit.deepest[peak].bucket:
                commit.deepest[peak] = scroll_peak(bucket, fold)  # two paths of one template
            self._expire(commit, scroll_key, day)
            commit.expiries[peak_key] = keys.SCROLL_PEAK_TTL_S

    def _add(self, commit: Commit, key: str, name: str, amount: int, day: int) -> None:
        commit.increments[(key, name)] = commit.increments.get((key, name), 0) + amount
        self._expire(commit, key, day)

    def _expire(self, commit: Commit, key: str, day: int) -> None:
        if key not in commit.expiries:
            expires_ms = (day + 1 + self.retention_days) * DAY_MS
            commit.expiries[key] = max(60, int(expires_ms / 1000 - time.time()))


def scroll_peak(bucket: int, fold_px: int) -> DeepestBucket:
    """A page view's deepest scroll bucket; the first time it is counted it also adds one to
    the histogram's 'views' and its viewport height to 'fold' (heatmap.keys.scroll_depths)."""
    return DeepestBucket(bucket, (("views", 1), ("fold", fold_px)))


def _collect(run: _Run, events: list[Event], skew_ms: int) -> None:
    for event in events:
        day = (event.ts + skew_ms) // DAY_MS  # server clock
        match event:
            case Click():
                run.points.add(day, event, CLICK_KINDS.index("click"))
                if event.dead:
                    run.points.add(day, event, CLICK_KINDS.index("dead"))
            case RageClick():
                run.points.add(day, event, CLICK_KINDS.index("rage"))
            case PageView():
                run.views[(day, _band(event.vw), event.p)] += 1
            case Scroll() if event.vw:
                view = (day, _band(event.vw), event.p, event.pv)
                deepest = run.scrolls.get(view, (0.0, event.vh))[0]
                run.scrolls[view] = (max(deepest, event.depth), event.vh)


def _band(width: int) -> int:
    return int(bands_of(width))
