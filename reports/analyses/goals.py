"""Goals: a page or custom event that counts as converting, named in [goals] of clicktrail.toml
(`purchase = "/thanks"`) or written out in the page syntax of funnels (reports.analyses.steps).
Wherever a goal is asked for, either is taken."""

from __future__ import annotations

from collections.abc import Mapping

from collector.pages import PageTemplates
from reports.analyses.journey_request import JourneyError
from reports.analyses.steps import Step, parse_step


def goal_step(
    goal: str, goals: Mapping[str, str], templates: PageTemplates, parameter: str = "goal"
) -> Step:
    """The step of a goal's name or pattern; JourneyError naming `parameter` when neither."""
    try:
        return parse_step(goals.get(goal, goal), templates)
    except ValueError as exc:
        if goal in goals:
            raise JourneyError(parameter, f"[goals] {goal}: {exc}") from None
        known = ", ".join(goals) or "none"
        raise JourneyError(
            parameter, f"{exc}; nor is it a goal's name in [goals] (known: {known})"
        ) from None
