"""A first funnel for a site that has none configured: its most visited pages, written as a
`[funnels.NAME]` block of clicktrail.toml to paste and edit."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from reports.analyses.durations import format_duration
from reports.analyses.steps import MIN_STEPS, parse_step
from reports.scheduled.config import FunnelDefinition

SUGGESTED_STEPS = 4
SUGGESTED_NAME = "main"


def suggest_funnel(
    page_views: Iterable[tuple[str, int]], name: str = SUGGESTED_NAME
) -> FunnelDefinition | None:
    """The most viewed pages as steps, most viewed first (each step of a funnel is reached by
    fewer visitors than the one before, so that order is the likeliest); None under 2 pages."""
    views: Counter[str] = Counter()
    for page, count in page_views:
        if _usable(page):
            views[page] += count
    top = sorted(views, key=lambda page: (-views[page], page))[:SUGGESTED_STEPS]
    return FunnelDefinition(name, tuple(top)) if len(top) >= MIN_STEPS else None


def funnel_toml(funnel: FunnelDefinition) -> str:
    """The funnel as clicktrail.toml declares it."""
    # A JSON string without ASCII escapes is a TOML basic string: pages are strangers' text.
    steps = ", ".join(json.dumps(step, ensure_ascii=False) for step in funnel.steps)
    window = format_duration(funnel.window_ms / 1000)
    return f'[funnels.{funnel.name}]\nsteps = [{steps}]\nwindow = "{window}"\n'


def _usable(page: str) -> bool:
    """A page that reads back as the same step: printable (TOML takes no raw DEL) and valid."""
    if not page.isprintable():
        return False
    try:
        parse_step(page)
    except ValueError:
        return False
    return True
