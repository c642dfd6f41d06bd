"""From A to B as a picture, drawn with Pillow from the JSON `clicktrail paths --json` prints:
how many pages lay between (the direct bar first, in the accent colour), how long it took (a
histogram on 1-2-5 steps of seconds, with the median, p75 and p90), and the detours by lift."""

from __future__ import annotations

from PIL import Image

from reports.analyses.durations import format_duration
from reports.analyses.journey_result import DetourJSON, PathsResult
from reports.charts.canvas import (
    ACCENT,
    ACCENT_LIGHT,
    AXIS,
    MUTED,
    PAD_PX,
    TEXT,
    TRACK,
    Canvas,
    check_width,
    days_text,
    shorten,
    shorten_left,
)

HEADER_H = 62
PANEL_TITLE_H = 28
BARS_H = 150  # the tallest bar of a histogram
X_LABEL_H = 34
DETOUR_ROW_H = 24
MAX_DETOURS = 8
DETOUR_BLUE = (147, 197, 253)  # #93c5fd: the bars of paths with pages between
TITLE_SIZE, TEXT_SIZE, SMALL_SIZE = 17, 12, 11


def paths_chart(result: PathsResult, width: int = 960) -> Image.Image:
    check_width(width)
    detours = result["detours"][:MAX_DETOURS]
    histogram_h = PANEL_TITLE_H + BARS_H + X_LABEL_H
    detours_h = PANEL_TITLE_H + max(len(detours), 1) * DETOUR_ROW_H
    height = PAD_PX + HEADER_H + 2 * (histogram_h + 16) + detours_h + PAD_PX
    canvas = Canvas(width, height)
    _header(canvas, result)
    y = PAD_PX + HEADER_H
    reached = result["reached_end"]
    between = [(row["steps"], row["visits"]) for row in result["between"]]
    title = "Pages between them" + _direct(result)
    _bars(canvas, y, title, [(f"{s} (direct)" if s == "0" else s, n) for s, n in between], reached)
    y += histogram_h + 16
    time_s = result["time_s"]
    histogram = time_s["histogram"]
    first = next((k for k, b in enumerate(histogram) if b["visits"]), 0)  # from the first filled
    bins = [(f"{_seconds(b['min_s'])}-{_seconds(b['max_s'])}", b["visits"]) for b in histogram]
    bins = bins[first:]
    quantiles = (
        f": median {format_duration(time_s['median'])}, p75 {format_duration(time_s['p75'])}, "
        f"p90 {format_duration(time_s['p90'])}"
        if time_s["median"] is not None
        else ""
    )
    _bars(canvas, y, f"Time from A to B{quantiles}", bins, reached, first_accent=False)
    y += histogram_h + 16
    _detours(canvas, y, detours)
    return canvas.finish()


def _header(canvas: Canvas, result: PathsResult) -> None:
    title = f"From {result['start']} to {result['end']} on {result['site']}"
    canvas.text(
        (PAD_PX, PAD_PX),
        shorten(canvas, title, TITLE_SIZE, canvas.width - 2 * PAD_PX),
        TITLE_SIZE,
        TEXT,
    )
    started, reached = result["visits_with_start"], result["reached_end"]
    share = f" ({100 * reached / started:.1f}%)" if started else ""
    line = (
        f"{days_text(result['from'], result['to'], result['time_zone'])} · {started:,} visits "
        f"reached A, {reached:,} went on to B{share}, {result['never_reached']:,} never did"
    )
    canvas.text(
        (PAD_PX, PAD_PX + 26),
        shorten(canvas, line, TEXT_SIZE, canvas.width - 2 * PAD_PX),
        TEXT_SIZE,
        MUTED,
    )


def _direct(result: PathsResult) -> str:
    share = result["direct_share"]
    return "" if share is None else f": {100 * share:.0f}% went straight from A to B"


def _seconds(value: float) -> str:
    return format_duration(value).replace(" ", "") if value else "0"


def _bars(
    canvas: Canvas,
    top: float,
    title: str,
    bins: list[tuple[str, int]],
    total: int,
    first_accent: bool = True,
) -> None:
    """A histogram: a bar per bin, its count above it and its label below; with
    `first_accent`, the first bar (the direct one) dark and the others lighter."""
    canvas.text(
        (PAD_PX, top),
        shorten(canvas, title, TEXT_SIZE + 1, canvas.width - 2 * PAD_PX),
        TEXT_SIZE + 1,
        TEXT,
    )
    base = top + PANEL_TITLE_H + BARS_H
    canvas.box(PAD_PX, base, canvas.width - PAD_PX, base + 1, AXIS)
    if not bins or not total:
        canvas.text(
            (PAD_PX, base - 24), "No visit went from A to B in this range.", TEXT_SIZE, MUTED
        )
        return
    slot = (canvas.width - 2 * PAD_PX) / len(bins)
    tallest = max(n for _, n in bins) or 1
    for k, (label, visits) in enumerate(bins):
        left = PAD_PX + k * slot + slot * 0.15
        right = PAD_PX + (k + 1) * slot - slot * 0.15
        h = (BARS_H - 20) * visits / tallest
        colour = ACCENT if k == 0 or not first_accent else DETOUR_BLUE
        if visits:
            canvas.box(left, base - h, right, base, colour)
        else:
            canvas.box(left, base - 1, right, base, TRACK)
        share = f"{visits:,} · {100 * visits / total:.0f}%" if visits else "0"
        middle = (left + right) / 2
        canvas.text(
            (middle, base - h - 4),
            shorten(canvas, share, SMALL_SIZE, slot),
            SMALL_SIZE,
            MUTED,
            "ms",
        )
        canvas.text(
            (middle, base + 6), shorten(canvas, label, SMALL_SIZE, slot), SMALL_SIZE, TEXT, "ma"
        )


def _detours(canvas: Canvas, top: float, detours: list[DetourJSON]) -> None:
    title = "Detours: pages met on the way, by lift (how much more the long paths pass them)"
    canvas.text(
        (PAD_PX, top),
        shorten(canvas, title, TEXT_SIZE + 1, canvas.width - 2 * PAD_PX),
        TEXT_SIZE + 1,
        TEXT,
    )
    y = top + PANEL_TITLE_H
    if not detours:
        canvas.text(
            (PAD_PX, y), "None: no page was met by 5 visits and 1 % of them.", TEXT_SIZE, MUTED
        )
        return
    label_w = (canvas.width - 2 * PAD_PX) * 0.38
    bar_left = PAD_PX + label_w + 8
    bar_room = canvas.width - PAD_PX - bar_left - 150
    lifts = [d["lift"] for d in detours if d["lift"] is not None]
    most = max(lifts, default=1.0) or 1.0
    for detour in detours:
        page = shorten_left(canvas, detour["page"], TEXT_SIZE, label_w)
        canvas.text((PAD_PX, y + 4), page, TEXT_SIZE, TEXT)
        lift = detour["lift"]
        length = 0.0 if lift is None else bar_room * lift / most
        canvas.box(bar_left, y + 4, bar_left + bar_room, y + 18, ACCENT_LIGHT)
        if length:
            canvas.box(bar_left, y + 4, bar_left + length, y + 18, ACCENT)
        shown = "lift n/a" if lift is None else f"lift {lift:.2f}"
        canvas.text(
            (bar_left + bar_room + 8, y + 4),
            f"{shown} · {detour['visits']:,} visits",
            SMALL_SIZE,
            MUTED,
        )
        y += DETOUR_ROW_H
