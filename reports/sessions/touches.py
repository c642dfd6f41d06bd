"""Where a visit came from, and on what: its touch, the raw inputs its channel is classified from
at query time (reports.analyses.channels), so a rule changed later applies to every visit kept.

A page view's touch is a vocabulary entry, and a session's is its first page view's (OPEN_ROW
and SESSION_ROW `source`). Two versions of the entry live side by side:

- version 1, "s:SOURCE": the UTM source, else the referrer host without "www.", else "(direct)"
  (sessions filed before the overview issue: classified from that alone);
- version 2, "t:" + a JSON array: referrer (host, with its scheme when not http(s)), utm
  source, medium, campaign, term and content, the names of the ad click ids on the landing URL
  (never their values), the browser and system families, the country and the page's hostname.

Every field is a stranger's string: bounded by the schema, trimmed here, and stored JSON-encoded
so no value can forge another field.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec

from collector.cardinality import OVER_LIMIT
from collector.schema import CLICK_IDS, PageView, StoredHeader

SOURCE_PREFIX, TOUCH_PREFIX = "s:", "t:"
DIRECT = "(direct)"
UTM_FIELDS = ("source", "medium", "campaign", "term", "content")
MAX_HOST_CHARS = 253
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-:[]")
_decode = msgspec.json.Decoder(list[Any])


@dataclass(frozen=True, slots=True)
class Touch:
    referrer: str = ""  # "www.google.com", "android-app://com.google.android.gm", "" (none)
    source: str = ""  # utm_* values, as sent (trimmed)
    medium: str = ""
    campaign: str = ""
    term: str = ""
    content: str = ""
    click_ids: tuple[str, ...] = ()  # names, in CLICK_IDS order
    browser: str = ""
    os: str = ""
    country: str = ""
    host: str = ""  # the page's hostname
    legacy_source: str = ""  # version 1 entries: the source, the only thing they kept

    @property
    def source_name(self) -> str:
        """The source as funnels and filters name it (version 1's rule)."""
        if self.legacy_source:
            return self.legacy_source
        if self.source:
            return self.source.lower()
        if self.referrer:
            return self.referrer.lower().removeprefix("www.")
        return DIRECT


def touch_entry(view: PageView, header: StoredHeader) -> str:
    """The version 2 vocabulary entry of a page view's touch (see `over_limit`)."""
    if view.ref == OVER_LIMIT:
        return _over_limit_entry(header)
    utm = [view.utm.get(name, "").strip() for name in UTM_FIELDS]
    ref = view.ref if view.ref and not view.ref.startswith("/") else ""
    fields: list[Any] = [
        _host(ref) if "://" not in ref else ref.strip().lower(),
        *utm,
        [name for name in CLICK_IDS if name in view.ck],
        header.browser,
        header.os,
        header.country,
        _host(view.host),
    ]
    return TOUCH_PREFIX + msgspec.json.encode(fields).decode()


def over_limit(view: PageView) -> None:
    """Mark a page view whose touch was over the day's bound: its touch then reads OVER_LIMIT
    for a referrer, and keeps only the device and country (few, and not strangers' text)."""
    view.ref, view.utm, view.ck, view.host = OVER_LIMIT, {}, [], ""


def _over_limit_entry(header: StoredHeader) -> str:
    fields = [OVER_LIMIT, "", "", "", "", "", [], header.browser, header.os, header.country, ""]
    return TOUCH_PREFIX + msgspec.json.encode(fields).decode()


def admitted_value(entry: str) -> str:
    """What the per-day bound counts for a touch: a short digest, so the bound's set stays
    small however long the strangers' values are."""
    return hashlib.blake2b(entry.encode(), digest_size=12).hexdigest()


def parse_entry(entry: str) -> Touch:
    """A vocabulary entry of either version as a Touch; anything unreadable as direct."""
    if entry.startswith(SOURCE_PREFIX):
        return Touch(legacy_source=entry[len(SOURCE_PREFIX) :] or DIRECT)
    if not entry.startswith(TOUCH_PREFIX):
        return Touch()
    try:
        fields = _decode.decode(entry[len(TOUCH_PREFIX) :])
    except msgspec.DecodeError:
        return Touch()
    if len(fields) != 11 or not all(isinstance(f, str) for i, f in enumerate(fields) if i != 6):
        return Touch()
    ids = fields[6] if isinstance(fields[6], list) else []
    referrer, source, medium, campaign, term, content = fields[:6]
    return Touch(
        referrer=referrer,
        source=source,
        medium=medium,
        campaign=campaign,
        term=term,
        content=content,
        click_ids=tuple(name for name in CLICK_IDS if name in ids),
        browser=fields[7],
        os=fields[8],
        country=fields[9],
        host=fields[10],
    )


def _host(raw: str) -> str:
    host = raw.strip().lower()[:MAX_HOST_CHARS]
    return host if set(host) <= _HOST_CHARS else ""
