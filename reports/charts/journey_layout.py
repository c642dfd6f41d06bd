"""Where everything of a journey map goes, in output pixels: one column per step, node heights
and link widths in proportion to visits, Other last in its column, then the grey Exit block (the
visits of the column before that stopped there) and the block of visits still going on. Pure:
the PNG renderer draws this, and the tests check it.

Forward maps read left to right from step 1; a backward map (`--end B`) is mirrored, so that it
still reads left to right, towards B on the right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reports.analyses.journey_result import ColumnJSON, JourneyResult, NodeJSON

NODE_W = 12
NODE_GAP = 8  # between two blocks of a column
MIN_BLOCK_H = 3.0  # a block of one visit stays visible
PLOT_MIN_H, PLOT_ASPECT = 360, 0.42  # plot height: at least, and as a share of the width
LABEL_MIN_H = 13.0  # a block shorter than this takes its label only if there is room
LABEL_LINE_H = 15
HEADER_H = 58  # title and subtitle
LEGEND_H = 30
PAD = 16
EXIT, OPEN = "exit", "open"


@dataclass
class Block:
    """A node, or the grey Exit block or the open-visits block of a column."""

    id: str
    kind: str  # "node", EXIT or OPEN
    column: int  # 0-based
    visits: int
    x: float
    top: float
    height: float
    label: str
    node: NodeJSON | None = None
    out_y: float = 0.0  # where the next outgoing link starts (moves down as links are laid)
    in_y: float = 0.0

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    visits: int
    goal: int | None
    x0: float
    y0: float  # top at the source
    x1: float
    y1: float  # top at the target
    width0: float  # thickness at the source
    width1: float  # and at the target (they differ only where a block was kept visible)
    kind: str  # "edge", EXIT or OPEN


@dataclass
class Layout:
    width: int
    height: int
    plot_top: float
    plot_bottom: float
    blocks: list[Block] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    label_width: float = 0.0


def node_label(node: NodeJSON) -> str:
    if node["other"]:
        return "Other"
    return node["page"] if node["page"] is not None else f"event: {node['event']}"


def lay_out(result: JourneyResult, width: int) -> Layout:
    columns = result["columns"]
    n = max(len(columns), 1)
    backward = result["direction"] == "backward"
    gap = (width - 2 * PAD - n * NODE_W) / n  # room right of each node: links, then labels
    plot_top = PAD + HEADER_H
    plot_h = max(PLOT_MIN_H, PLOT_ASPECT * width)
    first = max((c["visits"] for c in columns[:1]), default=0)
    tallest = max((_blocks_in(columns, i) for i in range(len(columns))), default=1)
    scale = (plot_h - NODE_GAP * (tallest - 1)) / first if first else 0.0
    layout = Layout(width, 0, plot_top, plot_top, label_width=gap - 10)
    for i in range(len(columns)):
        place = n - 1 - i if backward else i
        x = PAD + place * (NODE_W + gap)
        _column_blocks(layout, columns, i, x, scale)
    layout.plot_bottom = max((b.bottom for b in layout.blocks), default=plot_top)
    legend = LEGEND_H if result["goal"] is not None else 0
    layout.height = round(layout.plot_bottom + PAD + legend + PAD)
    _links(layout, result, backward)
    return layout


def _blocks_in(columns: list[ColumnJSON], i: int) -> int:
    before = columns[i - 1] if i else None
    extra = 0
    if before is not None:
        extra += before["ends"] > 0
        extra += sum(n["in_progress"] for n in before["nodes"]) > 0
    return len(columns[i]["nodes"]) + extra


def _height(visits: int, scale: float) -> float:
    return max(MIN_BLOCK_H, visits * scale) if visits else 0.0


def _column_blocks(
    layout: Layout, columns: list[ColumnJSON], i: int, x: float, scale: float
) -> None:
    """Nodes (Other last, as the engine orders them), then Exit, then the open visits."""
    y = layout.plot_top
    for node in columns[i]["nodes"]:
        h = _height(node["visits"], scale)
        layout.blocks.append(
            Block(node["id"], "node", i, node["visits"], x, y, h, node_label(node), node, y, y)
        )
        y += h + NODE_GAP
    if not i:
        return
    before = columns[i - 1]
    open_visits = sum(n["in_progress"] for n in before["nodes"])
    for kind, visits in ((EXIT, before["ends"]), (OPEN, open_visits)):
        if visits:
            h = _height(visits, scale)
            block_id = f"{i + 1}:{kind}"
            layout.blocks.append(Block(block_id, kind, i, visits, x, y, h, kind, None, y, y))
            y += h + NODE_GAP


def _links(layout: Layout, result: JourneyResult, backward: bool) -> None:
    """Each node's outgoing links in the order of the blocks they reach, then its share to the
    Exit and open blocks; a link is as wide as its visits at the blocks' scale."""
    by_id = {b.id: b for b in layout.blocks}
    order = {b.id: k for k, b in enumerate(layout.blocks)}
    edges = sorted(result["edges"], key=lambda e: (order[e["from"]], order[e["to"]]))
    for edge in edges:
        _link(
            layout,
            by_id[edge["from"]],
            by_id[edge["to"]],
            edge["visits"],
            edge["goal"],
            "edge",
            backward,
        )
    for column in result["columns"][: len(result["columns"]) - 1]:
        for node in column["nodes"]:
            for kind, visits in ((EXIT, node["ends"]), (OPEN, node["in_progress"])):
                target = by_id.get(f"{column['step'] + 1}:{kind}")
                if target is not None and visits:
                    _link(layout, by_id[node["id"]], target, visits, None, kind, backward)


def _link(
    layout: Layout,
    source: Block,
    target: Block,
    visits: int,
    goal: int | None,
    kind: str,
    backward: bool,
) -> None:
    width0 = source.height * visits / source.visits
    width1 = target.height * visits / target.visits
    # Backward maps run right to left: the link leaves its source on the left side.
    x0 = source.x if backward else source.x + NODE_W
    x1 = target.x + NODE_W if backward else target.x
    layout.links.append(
        Link(
            source.id,
            target.id,
            visits,
            goal,
            x0,
            source.out_y,
            x1,
            target.in_y,
            width0,
            width1,
            kind,
        )
    )
    source.out_y += width0
    target.in_y += width1
