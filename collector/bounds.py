"""The documented maxima of document coordinates and sizes, and clamping a batch to them.

Real infinite-scroll pages grow past any bound, and the snippet drops a batch refused with a 4xx
for good, so a value past a maximum is clamped (and counted), not refused. Values that cannot be
real (negative sizes, NaN, infinity, wrong types) are still refused by the schema.
"""

from __future__ import annotations

from collector.schema import Batch, Click, Event, RageClick, Scroll

MAX_DOC_HEIGHT_PX = 50_000  # y, document heights, scroll depths: CSS px from the top
MAX_DOC_WIDTH_PX = 10_000  # x, document widths: CSS px from the left

_H, _W = float(MAX_DOC_HEIGHT_PX), float(MAX_DOC_WIDTH_PX)
# Fields checked per event type, with their bound; coordinates may be negative, sizes may not
# (the schema refuses those), so one symmetric clamp serves both.
_FIELDS: dict[type, tuple[tuple[str, float], ...]] = {
    Click: (("x", _W), ("y", _H), ("ox", _W), ("oy", _H), ("dw", _W), ("dh", _H)),
    RageClick: (("x", _W), ("y", _H), ("dw", _W)),
    Scroll: (("depth", _H), ("dh", _H)),
}


def clamp_batch(batch: Batch) -> dict[str, int]:
    """Clamp the batch's coordinates and sizes to the maxima, in place; how many per field."""
    clamped: dict[str, int] = {}
    for event in batch.events:
        if not _within(event):
            _clamp(event, clamped)
    return clamped


def _within(event: Event) -> bool:
    # The hot path: one chained comparison per event, no getattr, before any clamping.
    if isinstance(event, Click):
        return (
            -_W <= event.x <= _W
            and -_H <= event.y <= _H
            and -_W <= event.ox <= _W
            and -_H <= event.oy <= _H
            and event.dw <= _W
            and event.dh <= _H
        )
    if isinstance(event, Scroll):
        return event.depth <= _H and event.dh <= _H
    if isinstance(event, RageClick):
        return -_W <= event.x <= _W and -_H <= event.y <= _H and event.dw <= _W
    return True


def _clamp(event: Event, clamped: dict[str, int]) -> None:
    for name, bound in _FIELDS[type(event)]:
        value = getattr(event, name)
        if value > bound or value < -bound:
            setattr(event, name, bound if value > 0 else -bound)
            clamped[name] = clamped.get(name, 0) + 1
