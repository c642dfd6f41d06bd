"""Query parameters of the read API, declared once: each declaration parses and checks the value
and also describes it in the OpenAPI document, so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.datastructures import QueryParams

from collector import days, inputs
from collector.days import parse_zone
from collector.page_patterns import parse_page
from collector.pages import BANDS
from reports.analyses.durations import parse_duration_ms
from reports.analyses.steps import MAX_STEPS, MIN_STEPS, parse_step

MAX_PATH_CHARS = 512


class ParamError(ValueError):
    """A bad query parameter: answered with a 400 that names it."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    schema: dict[str, Any]
    parse: Callable[[str], Any] = str
    required: bool = False
    default: Any = None
    many: tuple[int, int] | None = None  # repeated: how many times, at least and at most

    def openapi(self) -> dict[str, Any]:
        schema = self.schema
        if self.many:
            schema = {"type": "array", "items": schema, "minItems": self.many[0]}
            schema["maxItems"] = self.many[1]
        described: dict[str, Any] = {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "description": self.description,
            "schema": schema,
        }
        if self.many:
            described |= {"style": "form", "explode": True}
        return described


def read_params(query: QueryParams, params: Sequence[Param]) -> dict[str, Any]:
    """Every declared parameter parsed (defaults filled in); unknown ones are an error."""
    known = [p.name for p in params]
    for name in query:
        if name not in known:
            takes = f"this route takes: {', '.join(known)}" if known else "it takes none"
            raise ParamError(name, f"unknown parameter ({takes})")
    values: dict[str, Any] = {}
    for param in params:
        raw = query.getlist(param.name)
        if not raw:
            if param.required:
                raise ParamError(param.name, "required")
            values[param.name] = [] if param.many else param.default
            continue
        if param.many:
            least, most = param.many
            if not least <= len(raw) <= most:
                raise ParamError(param.name, f"give it {least} to {most} times, not {len(raw)}")
        elif len(raw) > 1:
            raise ParamError(param.name, "give it once")
        try:
            parsed = [param.parse(value) for value in raw]
        except ValueError as exc:
            raise ParamError(param.name, str(exc)) from None
        values[param.name] = parsed if param.many else parsed[0]
    return values


def period(values: dict[str, Any], default_days: int = days.PAGES_PERIOD_DAYS) -> tuple[date, date]:
    """The `from` and `to` days asked for: by default the last `default_days` up to today."""
    first, last = values.get("from"), values.get("to")
    try:
        return days.period(first, last, default_days)
    except ValueError as exc:
        # The range is wrong as a whole; `to` when it ends too early, else the span from `from`.
        raise ParamError("to" if first and last and last < first else "from", str(exc)) from None


iso_day = inputs.iso_date


def page_path(raw: str) -> str:
    """A page in the one page syntax (collector.page_patterns): checked here, resolved later."""
    if len(raw) > MAX_PATH_CHARS or not raw.isprintable():
        raise ValueError(f"expected a page of at most {MAX_PATH_CHARS} printable characters")
    parse_page(raw)
    return raw


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {raw[:40]!r}")
        return raw

    return parse


int_between = inputs.int_between


def flag(raw: str) -> bool:
    if raw not in ("true", "false", "1", "0"):
        raise ValueError(f"expected true or false, got {raw[:40]!r}")
    return raw in ("true", "1")


def step(raw: str) -> str:
    if len(raw) > MAX_PATH_CHARS:
        raise ValueError(f"a step holds at most {MAX_PATH_CHARS} characters")
    parse_step(raw)
    return raw


def zone(raw: str) -> str:
    if len(raw) > 64:
        raise ValueError("a time zone name holds at most 64 characters")
    return parse_zone(raw).key


def _enum(choices: Sequence[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(choices)}


DATE = {"type": "string", "format": "date"}
FROM = Param(
    "from", f"First day (UTC). Default: {days.PAGES_PERIOD_DAYS} days before `to`.", DATE, iso_day
)
TO = Param("to", "Last day (UTC), included. Default: today.", DATE, iso_day)
PAGE = Param(
    "page",
    "A page: a path (/product/1 is drawn as its template /product/:id), a template, a glob "
    "(/product/*: every template whose name matches, summed) or re: and an RE2 regular "
    "expression over template names.",
    {"type": "string", "pattern": "^(/|re:)", "maxLength": MAX_PATH_CHARS},
    page_path,
    required=True,
)
PAGE_OPTIONAL = Param(
    PAGE.name, PAGE.description, PAGE.schema, PAGE.parse, required=False, default=None
)
BAND = Param(
    "band", "Layout band by viewport width.", _enum(BANDS), one_of(*BANDS), default="desktop"
)
LIMIT = Param(
    "limit",
    "How many rows at most.",
    {"type": "integer", "minimum": 1, "maximum": 500},
    int_between(1, 500),
    default=50,
)
WIDTH = Param(
    "width",
    "Width of the PNG in pixels. Default: the band's width.",
    {"type": "integer", "minimum": 100, "maximum": 4000},
    int_between(100, 4000),
)
STEP = Param(
    "step",
    "A funnel step, in order: a page path or template (/cart), a glob (/product/*), a regular "
    "expression in RE2 syntax (re:^/p/\\d+$) or a custom event (event:signup).",
    {"type": "string", "minLength": 1, "maxLength": MAX_PATH_CHARS},
    step,
    required=True,
    many=(MIN_STEPS, MAX_STEPS),
)
WINDOW = Param(
    "window",
    "Conversion window from step 1: 30m, 1h, 2d (1s to 7d). Default 1h.",
    {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?\\s*(ms|s|m|min|h|d)?$"},
    parse_duration_ms,
    default=3_600_000,
)
ZONE = Param(
    "tz",
    "IANA time zone the days are in. Default: the site's (`time_zone` of /api/sites).",
    {"type": "string"},
    zone,
)
MINUTES = Param(
    "minutes",
    "How many minutes back. Default 30.",
    {"type": "integer", "minimum": 1, "maximum": 120},
    int_between(1, 120),
    default=30,
)
