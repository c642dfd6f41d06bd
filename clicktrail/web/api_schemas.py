"""JSON schemas of the read API's replies, as the OpenAPI document publishes them (the
handlers and their parameters are in clicktrail.web.api)."""

from __future__ import annotations

from typing import Any

OBJECT = {"type": "object"}
PAGE_ROW = {
    "type": "object",
    "required": ["template", "band", "views", "clicks", "rage", "dead"],
    "properties": {
        "template": {"type": "string"},
        "band": {"type": "string"},
        **{n: {"type": "integer"} for n in ("views", "clicks", "rage", "dead")},
    },
}
ELEMENT_ROW = {
    "type": "object",
    "required": ["selector", "label", "clicks", "rage", "dead", "box"],
    "properties": {
        "selector": {"type": "string"},
        "label": {
            "type": "string",
            "description": "the element's most frequent label in the period, masked; '' if none",
        },
        **{n: {"type": "integer"} for n in ("clicks", "rage", "dead")},
        "box": {
            "type": ["object", "null"],
            "description": "the grid cells around the element's clicks, edges included: x0 and "
            "x1 in columns of 1 % of the page's width (0 to 99), y0 and y1 in rows of 16 px from "
            "the top of the page; null for clicks stored before boxes were",
            "required": ["x0", "y0", "x1", "y1"],
            "properties": {n: {"type": "integer"} for n in ("x0", "y0", "x1", "y1")},
        },
    },
}
SITE = {
    "type": "object",
    "required": ["name", "key", "origins", "time_zone", "snippet", "installed"],
    "properties": {
        "name": {"type": "string"},
        "key": {"type": "string"},
        "origins": {"type": "array", "items": {"type": "string"}},
        "shards": {"type": "integer"},
        "time_zone": {
            "type": "string",
            "description": "IANA time zone the site's funnels count days in, unless `tz` is given",
        },
        "created": {"type": "string"},
        "snippet": {"type": "string"},
        "installed": {"type": "boolean"},
    },
}
LIVE = {
    "type": "object",
    "required": ["minutes", "events", "by_type", "per_minute", "pages"],
    "properties": {
        "minutes": {"type": "integer"},
        "events": {"type": "integer"},
        "batches": {"type": "integer"},
        "last_event_minute": {"type": ["string", "null"]},
        "by_type": {"type": "object", "additionalProperties": {"type": "integer"}},
        "per_minute": {"type": "array", "items": OBJECT},
        "pages": {"type": "array", "items": OBJECT},
    },
}
FUNNEL = {
    "type": "object",
    "required": ["site", "window_s", "from", "to", "steps", "warnings"],
    "properties": {
        "steps": {"type": "array", "items": OBJECT},
        "warnings": {
            "type": "array",
            "items": {"type": "string"},
            "description": "A line per step that matched no page view or event in the range, "
            'e.g. "step 3 (/chekout) matched no page view in this range"; the numbers are '
            "returned all the same.",
        },
    },
}
PNG = {"png": True}

_INT = {"type": "integer", "minimum": 0}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_WARNINGS = {
    "type": "array",
    "items": {"type": "string"},
    "description": "A line per anchor, goal or exclusion that matched nothing in the range; the "
    "numbers are returned all the same.",
}
JOURNEY_NODE = {
    "type": "object",
    "required": [
        "id",
        "page",
        "event",
        "other",
        "visits",
        "ends",
        "in_progress",
        "beyond",
        "repeats",
        "returns",
        "goal",
        "median_next_s",
    ],
    "properties": {
        "id": {
            "type": "string",
            "description": '"{step}:{page}", "{step}:event:NAME" or "{step}:other"',
        },
        "page": {
            "type": ["string", "null"],
            "description": "page template; null for an event or Other",
        },
        "event": {"type": ["string", "null"]},
        "other": {"type": "boolean"},
        "visits": _INT,
        "ends": {
            **_INT,
            "description": "forward: left the site here; backward: started here; "
            "with start and end: reached B here",
        },
        "in_progress": {**_INT, "description": "open visits whose last step so far is here"},
        "beyond": {**_INT, "description": "last column: visits with more steps than columns"},
        "repeats": {**_INT, "description": "the step here merged reloads of one page"},
        "returns": {**_INT, "description": "the item here also occurred at an earlier column"},
        "goal": {"type": ["integer", "null"], "description": "reached the goal at or after here"},
        "median_next_s": _NUMBER_OR_NULL,
    },
}
JOURNEYS = {
    "type": "object",
    "required": [
        "site",
        "from",
        "to",
        "time_zone",
        "as_of",
        "mode",
        "direction",
        "visits",
        "never_reached",
        "warnings",
        "columns",
        "edges",
    ],
    "properties": {
        "mode": {"type": "string", "enum": ["open", "start", "end", "both"]},
        "direction": {"type": "string", "enum": ["forward", "backward"]},
        "visits": _INT,
        "never_reached": {"type": ["integer", "null"]},
        "warnings": _WARNINGS,
        "columns": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["step", "visits", "ends", "nodes"],
                "properties": {
                    "step": {"type": "integer", "minimum": 1},
                    "visits": _INT,
                    "ends": _INT,
                    "nodes": {"type": "array", "items": JOURNEY_NODE},
                },
            },
        },
        "edges": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["from", "to", "visits", "goal"],
                "properties": {
                    "from": {"type": "string"},
                    "to": {"type": "string"},
                    "visits": _INT,
                    "goal": {
                        "type": ["integer", "null"],
                        "description": "with a goal: visits that reached it at or after `from`",
                    },
                },
            },
        },
    },
}
PATHS = {
    "type": "object",
    "required": [
        "site",
        "start",
        "end",
        "from",
        "to",
        "time_zone",
        "visits_with_start",
        "reached_end",
        "never_reached",
        "warnings",
        "between",
        "time_s",
        "detours",
        "paths",
    ],
    "properties": {
        "visits_with_start": _INT,
        "reached_end": _INT,
        "never_reached": _INT,
        "in_progress": {**_INT, "description": "of never_reached, the visits still open"},
        "direct_share": _NUMBER_OR_NULL,
        "warnings": _WARNINGS,
        "between": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["steps", "min", "max", "visits"],
                "properties": {
                    "steps": {"type": "string"},
                    "min": _INT,
                    "max": {"type": ["integer", "null"]},
                    "visits": _INT,
                },
            },
        },
        "time_s": {
            "type": "object",
            "required": ["median", "p75", "p90", "histogram"],
            "properties": {
                "median": _NUMBER_OR_NULL,
                "p75": _NUMBER_OR_NULL,
                "p90": _NUMBER_OR_NULL,
                "histogram": {"type": "array", "items": OBJECT},
            },
        },
        "detours": {"type": "array", "items": OBJECT},
        "paths": {"type": "array", "items": OBJECT},
    },
}

_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
CHANNELS = {
    "type": "object",
    "required": [
        "site",
        "from",
        "to",
        "time_zone",
        "goal",
        "visits",
        "spam_visits",
        "warnings",
        "channels",
    ],
    "properties": {
        "visits": _INT,
        "spam_visits": {**_INT, "description": "visits from referrer spam, left out"},
        "warnings": _WARNINGS,
        "channels": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "channel",
                    "name",
                    "visits",
                    "bounce_rate",
                    "conversions",
                    "conversion_rate",
                    "sources",
                ],
                "properties": {
                    "channel": {"type": "string", "description": "slug: organic_search, ..."},
                    "name": {"type": "string"},
                    "visits": _INT,
                    "bounce_rate": _RATE,
                    "conversions": {"type": ["integer", "null"]},
                    "conversion_rate": _RATE,
                    "sources": {"type": "array", "items": OBJECT},
                },
            },
        },
    },
}


def _rows(*fields: str, **typed: dict[str, Any]) -> dict[str, Any]:
    """An array of objects with these fields (integers unless typed)."""
    properties = {name: typed.get(name, _INT) for name in fields}
    return {
        "type": "array",
        "items": {"type": "object", "required": list(fields), "properties": properties},
    }


_ADDS_UP = 'every visit counted once: a visit without a value as "(not set)"'
_TOTALS = {
    "visitors": {**_INT, "description": "unique visitors per day (daily visitor hash), summed"},
    "visits": _INT,
    "pageviews": _INT,
    "pages_per_visit": _NUMBER_OR_NULL,
    "bounce_rate": {**_RATE, "description": "visits with one page view / visits"},
    "median_duration_s": {**_NUMBER_OR_NULL, "description": "first to last event, seconds"},
    "conversions": {"type": ["integer", "null"], "description": "null without a goal"},
    "conversion_rate": _RATE,
}
_SERIES = _rows("t", "visits", "pageviews", t={"type": "string"})
_NAME = {"type": "string"}
OVERVIEW = {
    "type": "object",
    "required": [
        "site", "from", "to", "time_zone", "as_of", "warnings", *_TOTALS, "series",
        "previous", "pages", "entry_pages", "exit_pages", "channels", "sources", "campaigns",
        "devices", "browsers", "os", "countries", "events",
    ],
    "properties": {
        "warnings": _WARNINGS,
        **_TOTALS,
        "spam_visits": {**_INT, "description": "visits from referrer spam, left out"},
        "series": {**_SERIES, "description": "hourly up to 2 days, else daily, local times"},
        "previous": {
            "type": "object",
            "description": "the period of as many days right before",
            "required": ["from", "to", *_TOTALS, "series"],
            "properties": {**_TOTALS, "series": _SERIES},
        },
        "pages": _rows("page", "visits", "pageviews", page=_NAME),
        "entry_pages": _rows("page", "visits", page=_NAME),
        "exit_pages": _rows("page", "exits", "exit_rate", page=_NAME, exit_rate=_RATE),
        "channels": _rows(
            "channel", "name", "visits", "conversions", "conversion_rate",
            channel=_NAME, name=_NAME, conversions={"type": ["integer", "null"]},
            conversion_rate=_RATE,
        ),
        **{
            key: _rows(field, "visits", **{field: _NAME})
            for key, field in (
                ("sources", "source"), ("campaigns", "campaign"), ("terms", "term"),
                ("contents", "content"), ("devices", "band"),
            )
        },
        **{
            key: {**_rows(field, "visits", **{field: _NAME}), "description": _ADDS_UP}
            for key, field in (
                ("browsers", "browser"), ("os", "os"), ("countries", "country"),
                ("hostnames", "hostname"),
            )
        },
        "events": _rows(
            "name", "visits", "count", "conversion_rate", "properties",
            name=_NAME, conversion_rate=_RATE, properties={"type": "array", "items": OBJECT},
        ),
        "goals": {"type": "array", "items": OBJECT},
    },
}  # fmt: skip
