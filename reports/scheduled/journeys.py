"""The report's journeys: how the units that entered the funnel came to its first step, and
where those who dropped after each step went, as journey maps over the funnel's own table.

Both maps are anchored on the funnel's events, not on the first page view that matches: the
map into step 1 ends at each unit's step-1 event of its best attempt, and the map after step k
starts at the step-k event of the units the funnel counts as dropped there (reached step k, not
step k + 1, no window still open). So the anchor column holds exactly the funnel's entered and
dropped. A unit is a session or a visitor; a visitor's map is the session that holds that event.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from reports.analyses.funnel_request import FunnelRun
from reports.analyses.journey_request import JourneyRequest, VisitFilter, journeys_of
from reports.analyses.journey_result import JourneyResult
from reports.analyses.steps import EVENT
from reports.scheduled.numbers import AfterDrop, ReportJourneys
from reports.sessions.layout import IntArray

JOURNEY_STEPS = 4  # the funnel's step and three pages before it (step 1) or after it (a drop)


def report_journeys(
    run: FunnelRun,
    first: date,
    last: date,
    zone: str,
    templates: tuple[str, ...],
    now_ms: int,
) -> ReportJourneys:
    """The map into step 1 and, for every step but the last, the map after it of those who
    dropped there."""
    outcome, steps = run.outcome, run.steps
    events = any(step.kind == EVENT for step in steps)  # an event step must be a map's anchor
    visits = VisitFilter(first, last, zone, templates=templates)

    def journeys(rows: IntArray, start: str | None = None, end: str | None = None) -> JourneyResult:
        anchors = np.sort(run.units.table_row(rows))
        sessions = np.searchsorted(run.table.offsets, anchors, side="right") - 1
        request = JourneyRequest(visits, start, end, steps=JOURNEY_STEPS, events=events)
        return journeys_of(run.result["site"], run.table, sessions, request, now_ms, anchors)

    into = journeys(outcome.rows[0], end=steps[0].pattern)
    after: list[AfterDrop] = []
    for k, step in enumerate(steps[:-1]):
        dropped = (outcome.level == k + 1) & ~outcome.open
        after.append(
            {
                "step": k + 1,
                "pattern": step.pattern,
                "dropped": int(dropped.sum()),
                "map": journeys(outcome.rows[k, dropped], start=step.pattern),
            }
        )
    return {"into_first_step": into, "after_drop": after}
