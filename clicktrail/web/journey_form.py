"""The dashboard's journeys form: one query string for both tabs (the map and A to B), read as
the API reads it. Unused boxes arrive empty and checkboxes say "on"; what remains is the very
query the page asks the API, so a link to the page and its API call always agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from clicktrail.web import params as p
from clicktrail.web.journey_reads import JOURNEY_PARAMS, MAX_EXCLUDED, PATHS_PARAMS
from collector.days import JOURNEY_PERIOD_DAYS

CHECKBOXES = ("events", "merge_templates")


@dataclass(frozen=True)
class JourneyForm:
    query: QueryParams  # the form's fields as the API takes them
    values: dict[str, Any]  # parsed, defaults filled in (the defaults alone after an error)
    first: date
    last: date
    error: str | None

    @property
    def excludes(self) -> list[str]:
        """The typed exclude boxes and one empty box to type another in."""
        typed = self.query.getlist("exclude")
        return [*typed, ""] if len(typed) < MAX_EXCLUDED else typed

    @property
    def query_string(self) -> str:
        return str(self.query)

    def field(self, name: str) -> str:
        return self.query.get(name, "")

    def api_query(self, tab: str) -> str:
        """The query of the tab's API call: the fields it reads, the others left out."""
        names = _names(tab)
        return urlencode([(k, v) for k, v in self.query.multi_items() if k in names])


def journey_form(query: QueryParams, tab: str) -> JourneyForm:
    """The form for `query`, checked against the map's parameters (`tab` "map") or A to B's."""
    cleaned = QueryParams(
        [
            (k, "true" if k in CHECKBOXES and v == "on" else v.strip())
            for k, v in query.multi_items()
            if v.strip()
        ]
    )
    specs: tuple[p.Param, ...] = JOURNEY_PARAMS if tab == "map" else PATHS_PARAMS
    if tab != "map" and not ("start" in cleaned and "end" in cleaned):
        specs = tuple(s for s in specs if s.name not in ("start", "end"))  # A and B to pick
    # Both tabs share the query: the other tab's fields are not mistakes here.
    names = {spec.name for spec in specs}
    asked = QueryParams([(k, v) for k, v in cleaned.multi_items() if k in names])
    try:
        values = p.read_params(asked, specs)
        first, last = p.period(values, JOURNEY_PERIOD_DAYS)
        error = None
    except p.ParamError as exc:
        values, error = {}, f"{exc.name}: {exc.problem}"
        first, last = p.period({}, JOURNEY_PERIOD_DAYS)
    return JourneyForm(cleaned, values, first, last, error)


def _names(tab: str) -> set[str]:
    return {spec.name for spec in (JOURNEY_PARAMS if tab == "map" else PATHS_PARAMS)}
