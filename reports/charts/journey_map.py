"""The journey map as a picture (a left-aligned Sankey), drawn with Pillow from the JSON that
`clicktrail journeys --json` prints, on the layout of `journey_layout.py`.

Nodes are blue (Other a muted blue-grey), the Exit block grey, visits still going on a light
hatched grey; links are translucent. With a goal, nodes and links take a colour from grey
(none reached it) to green (all did) by the share of their visits that reached the goal, with
a legend. Labels sit right of their node, shortened from the left ("…/checkout") to fit the
room before the next column; a label that has no room beside its node is left out rather than
drawn over another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from reports.analyses.durations import format_duration
from reports.analyses.journey_result import JourneyResult
from reports.charts.canvas import (
    ACCENT,
    MUTED,
    TEXT,
    WHITE,
    Canvas,
    Colour,
    check_width,
    days_text,
    scaled,
    shorten_left,
)
from reports.charts.journey_layout import (
    EXIT,
    LABEL_LINE_H,
    LABEL_MIN_H,
    LEGEND_H,
    NODE_W,
    OPEN,
    PAD,
    Block,
    Layout,
    Link,
    lay_out,
)

OTHER = (100, 116, 139)  # slate: Other is a node, but not a page
EXIT_GREY = (156, 163, 175)
OPEN_GREY = (209, 213, 219)
NONE_REACHED = (203, 213, 225)  # goal share 0 ...
ALL_REACHED = (5, 150, 105)  # ... to 1: green, darker as it rises (readable without hue)
LINK_ALPHA = 96
BEZIER_STEPS = 24
TITLE_SIZE, SUBTITLE_SIZE, LABEL_SIZE, COUNT_SIZE = 17, 12, 12, 11
EXIT_LABELS = {"open": "left the site", "start": "left the site", "end": "started here"}


def goal_colour(share: float) -> Colour:
    r0, g0, b0 = NONE_REACHED
    r1, g1, b1 = ALL_REACHED
    return (
        round(r0 + (r1 - r0) * share),
        round(g0 + (g1 - g0) * share),
        round(b0 + (b1 - b0) * share),
    )


def journey_map_chart(result: JourneyResult, width: int = 1280) -> Image.Image:
    check_width(width)
    layout = lay_out(result, width)
    canvas = Canvas(width, layout.height)
    _header(canvas, result)
    links = ImageDraw.Draw(canvas.image, "RGBA")
    for link in layout.links:
        _link(links, link, _link_colour(result, link))
    for block in layout.blocks:
        _block(canvas, result, block)
    _labels(canvas, result, layout)
    if result["goal"] is not None:
        _legend(canvas, result, layout)
    if not result["visits"]:
        canvas.text((PAD, layout.plot_top + 8), "No visits in this range.", 13, MUTED)
    return canvas.finish()


def _header(canvas: Canvas, result: JourneyResult) -> None:
    days = days_text(result["from"], result["to"], result["time_zone"])
    title = f"Journeys on {result['site']}, {days}"
    canvas.text(
        (PAD, PAD),
        shorten_left(canvas, title, TITLE_SIZE, canvas.width - 2 * PAD),
        TITLE_SIZE,
        TEXT,
    )
    mode = {
        "open": "from each visit's first page",
        "start": f"from {result['start']}",
        "end": f"backward from {result['end']}",
        "both": f"from {result['start']} to {result['end']}",
    }[result["mode"]]
    parts = [f"{result['visits']:,} visits", mode]
    if result["never_reached"]:
        parts.append(f"{result['never_reached']:,} never reached {result['end']}")
    if result["goal"] is not None:
        parts.append(f"goal: {result['goal']}")
    subtitle = " · ".join(parts)
    canvas.text(
        (PAD, PAD + 26),
        shorten_left(canvas, subtitle, SUBTITLE_SIZE, canvas.width - 2 * PAD),
        SUBTITLE_SIZE,
        MUTED,
    )


def _share(part: int | None, whole: int) -> float | None:
    return None if part is None or not whole else part / whole


def _block_colour(result: JourneyResult, block: Block) -> Colour:
    if block.kind == EXIT:
        return EXIT_GREY
    if block.kind == OPEN:
        return OPEN_GREY
    assert block.node is not None
    share = _share(block.node["goal"], block.visits)
    if share is not None:
        return goal_colour(share)
    return OTHER if block.node["other"] else ACCENT


def _link_colour(result: JourneyResult, link: Link) -> Colour:
    if link.kind == EXIT:
        return EXIT_GREY
    if link.kind == OPEN:
        return OPEN_GREY
    share = _share(link.goal, link.visits)
    return goal_colour(share) if share is not None else ACCENT


def _block(canvas: Canvas, result: JourneyResult, block: Block) -> None:
    colour = _block_colour(result, block)
    canvas.box(block.x, block.top, block.x + NODE_W, block.bottom, colour)
    if block.kind == OPEN:  # hatched: these visits may go on
        for y in range(math.floor(block.top), math.floor(block.bottom), 4):
            canvas.line([(block.x, y), (block.x + NODE_W, min(y + 4, block.bottom))], MUTED, 0.6)


def _link(draw: ImageDraw.ImageDraw, link: Link, colour: Colour) -> None:
    """A band between two cubic Béziers with horizontal tangents at both ends."""
    top = _bezier((link.x0, link.y0), (link.x1, link.y1))
    bottom = _bezier((link.x0, link.y0 + link.width0), (link.x1, link.y1 + link.width1))
    draw.polygon([scaled(p) for p in top + bottom[::-1]], fill=(*colour, LINK_ALPHA))


def _bezier(start: tuple[float, float], end: tuple[float, float]) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1) = start, end
    mid = (x0 + x1) / 2
    points = []
    for k in range(BEZIER_STEPS + 1):
        t = k / BEZIER_STEPS
        u = 1 - t
        x = u**3 * x0 + 3 * u * u * t * mid + 3 * u * t * t * mid + t**3 * x1
        y = u**3 * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t**3 * y1
        points.append((x, y))
    return points


@dataclass(frozen=True)
class Label:
    block: str
    x: float
    top: float
    lines: list[tuple[str, int, Colour]]  # text, size, colour
    width: float

    @property
    def bottom(self) -> float:
        return self.top + LABEL_LINE_H * len(self.lines)


def place_labels(canvas: Canvas, result: JourneyResult, layout: Layout) -> list[Label]:
    """Right of each block, within the room before the next column; a label that has no room
    (its block is short and the previous label is in the way) is left out."""
    placed: list[Label] = []
    taken: dict[int, float] = {}  # column -> lowest y a label reached
    for block in layout.blocks:
        name, detail = _texts(result, block)
        texts = [name, detail] if block.height >= 2 * LABEL_LINE_H else [f"{name}  {detail}"]
        height = LABEL_LINE_H * len(texts)
        top = block.top + block.height / 2 - height / 2
        if block.height < LABEL_MIN_H:
            top = max(top, block.top)
        if top < taken.get(block.column, -1.0) or top + height > layout.height - PAD:
            continue
        taken[block.column] = top + height
        lines = [
            (shorten_left(canvas, text, size, layout.label_width), size, colour)
            for text, (size, colour) in zip(
                texts,
                [(LABEL_SIZE, TEXT), (COUNT_SIZE, MUTED)]
                if len(texts) == 2
                else [(LABEL_SIZE, TEXT)],
                strict=True,
            )
        ]
        width = max(canvas.text_width(text, size) for text, size, _ in lines)
        placed.append(Label(block.id, block.x + NODE_W + 4, top, lines, width))
    return placed


def _labels(canvas: Canvas, result: JourneyResult, layout: Layout) -> None:
    for label in place_labels(canvas, result, layout):
        for k, (text, size, colour) in enumerate(label.lines):
            y = label.top + k * LABEL_LINE_H
            _halo(canvas, label.x, y, canvas.text_width(text, size), size)
            canvas.text((label.x, y), text, size, colour)


def _texts(result: JourneyResult, block: Block) -> tuple[str, str]:
    count = f"{block.visits:,}"
    if block.kind == EXIT:
        name = EXIT_LABELS.get(result["mode"], f"reached {result['end']}")
        return name, count
    if block.kind == OPEN:  # open visits: in a forward map, they may go on from here
        return (
            "still on the site" if result["direction"] == "forward" else "visits still open"
        ), count
    node = block.node
    assert node is not None
    share = _share(node["goal"], node["visits"])
    if share is not None:
        count += f" · {100 * share:.0f}% goal"
    elif node["median_next_s"] is not None:
        count += f" · next {format_duration(node['median_next_s'])}"
    return block.label, count


def _halo(canvas: Canvas, x: float, y: float, width: float, size: int) -> None:
    """A light box behind a label, so it reads over the links."""
    draw = ImageDraw.Draw(canvas.image, "RGBA")
    x0, y0 = scaled((x - 2, y))
    x1, y1 = scaled((x + width + 2, y + size + 3))
    draw.rectangle([x0, y0, x1, y1], fill=(*WHITE, 200))


def _legend(canvas: Canvas, result: JourneyResult, layout: Layout) -> None:
    y = layout.height - PAD - LEGEND_H + 8
    label = f"share of visits that reached {result['goal']}:"
    label = shorten_left(canvas, label, COUNT_SIZE, canvas.width / 2)
    canvas.text((PAD, y), label, COUNT_SIZE, MUTED)
    x = PAD + canvas.text_width(label, COUNT_SIZE) + 10
    canvas.text((x, y), "0%", COUNT_SIZE, MUTED)
    x += canvas.text_width("0%", COUNT_SIZE) + 6
    ramp = 160
    for k in range(ramp):
        canvas.box(x + k, y, x + k + 1, y + 12, goal_colour(k / (ramp - 1)))
    canvas.text((x + ramp + 6, y), "100%", COUNT_SIZE, MUTED)
    canvas.box(x + ramp + 50, y, x + ramp + 62, y + 12, EXIT_GREY)
    canvas.text((x + ramp + 68, y), "left or ended there", COUNT_SIZE, MUTED)
