"""The dashboard's funnel form as the user left it: what was typed in each step box, which boxes
are wrong and why, and the windows to offer. After an error the form shows all of it again, so
fixing one step never means typing the others anew."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from clicktrail.web import params as p
from reports.analyses.durations import parse_duration_ms
from reports.analyses.steps import MAX_STEPS, MIN_STEPS

# The select's choices, up to the funnel engine's longest window (MAX_WINDOW_MS); a URL may ask
# for any other valid duration, which is then offered too.
WINDOWS = ("1m", "5m", "15m", "30m", "1h", "6h", "1d", "7d")
DEFAULT_WINDOW = "1h"
MAX_SHOWN_CHARS = 4 * p.MAX_PATH_CHARS  # a step shown again as typed: it came in a URL


@dataclass(frozen=True)
class StepBox:
    value: str
    problem: str | None = None


@dataclass(frozen=True)
class FunnelForm:
    steps: tuple[StepBox, ...]
    window: str
    windows: tuple[str, ...]

    @property
    def first_problem(self) -> str | None:
        """'Step N: what is wrong' for the first faulty step box."""
        return next(
            (f"Step {n}: {box.problem}" for n, box in enumerate(self.steps, 1) if box.problem),
            None,
        )


def funnel_form(query: QueryParams, defaults: Sequence[str]) -> FunnelForm:
    """The form for `query` as sent (empty boxes kept in place), or `defaults` when no step was
    typed; at least MIN_STEPS boxes."""
    typed = query.getlist("step")[:MAX_STEPS]
    if any(value.strip() for value in typed):
        boxes = tuple(StepBox(value[:MAX_SHOWN_CHARS], _problem(value)) for value in typed)
    else:
        boxes = tuple(StepBox(step) for step in defaults)
    boxes += (StepBox(""),) * (MIN_STEPS - len(boxes))
    window = query.get("window", "").strip() or DEFAULT_WINDOW
    try:
        parse_duration_ms(window)
    except ValueError:
        return FunnelForm(boxes, DEFAULT_WINDOW, WINDOWS)  # the page's error names it
    offered = WINDOWS if window in WINDOWS else (*WINDOWS, window)
    return FunnelForm(boxes, window, tuple(sorted(offered, key=parse_duration_ms)))


def _problem(value: str) -> str | None:
    if not value.strip():
        return None  # an unused box, not a step
    try:
        p.step(value)
    except ValueError as exc:
        return str(exc)
    return None
