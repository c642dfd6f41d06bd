"""How a clicked element's selector is shortened for a person: whole parts from the right."""

from __future__ import annotations

ELLIPSIS = "…"


def short_selector(selector: str, width: int) -> str:
    """The selector in at most `width` characters: its last parts, cut at '>' boundaries and
    led by '…>' (`…>div.card>a.product`); only a last part longer than that is cut inside."""
    if len(selector) <= width:
        return selector
    parts = selector.split(">")
    for first in range(1, len(parts)):
        tail = f"{ELLIPSIS}>{'>'.join(parts[first:])}"
        if len(tail) <= width:
            return tail
    return ELLIPSIS + selector[len(selector) - width + 1 :]


def selector_parts(selector: str) -> list[str]:
    """The parts of a (shortened) selector, each but the last with its '>': where a display may
    break the line, and nowhere else."""
    parts = selector.split(">")
    return [f"{part}>" for part in parts[:-1]] + parts[-1:]
