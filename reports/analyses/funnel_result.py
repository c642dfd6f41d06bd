"""The funnel's numbers as the API, the CLI and the report's JSON carry them: typed, and in the
order their keys are printed (a step's keys appear in the order the table builds them)."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class PageCount(TypedDict):
    page: str  # a page template, "event: name", or one of "(left the site)", "(other)"...
    count: int


class FunnelStep(TypedDict):
    """One line of the funnel table: how many units entered the step; for every step but the
    last, what became of them, how long they took and where those who dropped went."""

    entered: int
    converted: NotRequired[int]
    dropped: NotRequired[int]
    in_progress: NotRequired[int]
    conversion_rate: NotRequired[float | None]  # None when nobody entered
    drop_off_rate: NotRequired[float | None]
    step: int  # 1-based
    pattern: str
    median_s: NotRequired[float | None]  # step to the next, among those who made it
    p90_s: NotRequired[float | None]
    next_pages: NotRequired[list[PageCount]]
    exit_pages: NotRequired[list[PageCount]]


class FunnelOverall(TypedDict):
    entered: int
    converted: int
    abandoned: int
    in_progress: int
    conversion_rate: float | None


class BreakdownGroup(TypedDict):
    group: str  # a band or a source
    entered: int
    converted: int
    conversion_rate: float | None
    steps: list[int]  # units entering each step


class Breakdown(TypedDict):
    by: str  # "band" or "source"
    groups: list[BreakdownGroup]


class FunnelNumbers(TypedDict):
    """What a session table's funnel counts to (reports.analyses.funnel_table.compute_funnel)."""

    overall: FunnelOverall
    steps: list[FunnelStep]
    breakdown: NotRequired[Breakdown]


# A funnel request's answer: what was asked, then the numbers. Functional form: "from" is a
# Python keyword.
FunnelResult = TypedDict(
    "FunnelResult",
    {
        "site": str,
        "window_s": float,
        "strict": bool,
        "unit": str,
        "from": str,  # ISO dates
        "to": str,
        "time_zone": str,
        "as_of": str,  # ISO time in the zone
        "overall": FunnelOverall,
        "steps": list[FunnelStep],
        "breakdown": NotRequired[Breakdown],
        "warnings": list[str],  # steps that matched nothing in the range: said, not silent
    },
)
