"""JSON schemas of the read API's replies, as the OpenAPI document publishes them (the
handlers and their parameters are in clicktrail.web.api)."""

from __future__ import annotations

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
    "required": ["selector", "clicks", "rage", "dead"],
    "properties": {
        "selector": {"type": "string"},
        **{n: {"type": "integer"} for n in ("clicks", "rage", "dead")},
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
