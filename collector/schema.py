"""The event schema, version 1: what the snippet sends and what the streams hold.

Everything a stranger can send to `POST /e` is decoded here in one pass by msgspec, which checks
types, ranges and lengths and names the offending field (`$.events[3].x`) in its error.
"""

from __future__ import annotations

import re
import sys
from typing import Annotated, Literal, get_args

import msgspec

SCHEMA_VERSION = 1

# Bounds. Coordinates are CSS pixels, any finite value: collector.bounds clamps them (and document
# sizes and scroll depths) to documented maxima, since a refused batch is lost for good.
MAX_PX = sys.float_info.max  # refuses only infinity (JSON's 1e999); JSON has no NaN
MAX_SCREEN_PX = 100_000
MIN_TS_MS = 1_577_836_800_000  # 2020-01-01: older client clocks are broken, not old data
MAX_TS_MS = 4_102_444_800_000  # 2100-01-01
SEND_SLACK_MS = 60_000  # an event may postdate sent_at by this much (clocks tick while sending)

# Token characters (letters, digits, '_', '-') and the leading '/' of paths are checked in
# check_batch, all ids in one regex pass: msgspec's per-field patterns cost 30 us a batch.
EventId = Annotated[str, msgspec.Meta(min_length=8, max_length=40)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Timestamp = Annotated[int, msgspec.Meta(ge=MIN_TS_MS, le=MAX_TS_MS)]
Px = Annotated[float, msgspec.Meta(ge=-MAX_PX, le=MAX_PX)]
Extent = Annotated[float, msgspec.Meta(ge=0, le=MAX_PX)]
ScreenPx = Annotated[int, msgspec.Meta(ge=0, le=MAX_SCREEN_PX)]
Path = Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
ShortText = Annotated[str, msgspec.Meta(max_length=256)]
Selector = Annotated[str, msgspec.Meta(max_length=512)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
PropValue = Annotated[str, msgspec.Meta(max_length=256)] | int | float | bool | None


# gc=False: events hold only scalars and flat dicts, so they can never be part of a cycle, and
# untracked objects spare the collector a GC pass every few hundred requests.
class _Event(
    msgspec.Struct, tag_field="t", forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    id: EventId
    ts: Timestamp  # client clock, ms; corrected with the batch's sent_at at read time
    p: Path  # page path, query stripped but for the allow-list
    pv: Token  # page-view id, shared by all events of one page view


ClickId = Literal[
    "gclid", "gbraid", "wbraid", "gad_source", "msclkid", "fbclid", "ttclid", "li_fat_id", "twclid"
]
CLICK_IDS: tuple[ClickId, ...] = get_args(ClickId)  # ad click ids: the snippet sends their names


class PageView(_Event, tag="pageview"):
    # previous in-site path, or the external referrer's host (with its scheme when not http(s):
    # android-app://com.google.android.gm)
    ref: ShortText = ""
    vw: ScreenPx = 0  # viewport width and height
    vh: ScreenPx = 0
    sw: ScreenPx = 0  # screen width and height
    sh: ScreenPx = 0
    utm: dict[Annotated[str, msgspec.Meta(max_length=32)], ShortText] = {}
    dev: Literal["mobile", "tablet", "desktop", ""] = ""  # device class from the viewport width
    # Since the overview issue (older snippets send neither):
    ck: Annotated[list[ClickId], msgspec.Meta(max_length=len(CLICK_IDS))] = []  # names only
    host: Annotated[str, msgspec.Meta(max_length=253)] = ""  # the page's hostname


class Click(_Event, tag="click"):
    x: Px  # document coordinates (viewport coordinates when fixed)
    y: Px
    vw: ScreenPx
    vh: ScreenPx
    dh: Extent = 0  # document height at click time
    dw: Extent = 0  # document width (wider than vw on a page that scrolls sideways)
    sel: Selector = ""  # stable CSS selector of the target
    tag: Annotated[str, msgspec.Meta(max_length=32)] = ""
    ox: Px = 0  # click offset inside the target's box
    oy: Px = 0
    fixed: bool = False  # target is fixed/sticky: x, y are viewport coordinates
    ptr: Literal["mouse", "touch", "pen", ""] = ""
    dead: bool = False
    label: Annotated[str, msgspec.Meta(max_length=64)] = ""


class RageClick(_Event, tag="rage"):
    x: Px
    y: Px
    vw: ScreenPx
    vh: ScreenPx
    n: Annotated[int, msgspec.Meta(ge=3, le=1000)]  # clicks in the burst
    dw: Extent = 0
    sel: Selector = ""
    fixed: bool = False


class Scroll(_Event, tag="scroll"):
    depth: Extent  # deepest pixel seen (bottom edge of the viewport)
    dh: Extent  # document height
    vh: ScreenPx
    vw: ScreenPx = 0  # viewport width: the layout band


class Custom(_Event, tag="custom"):
    name: Name
    props: Annotated[
        dict[Annotated[str, msgspec.Meta(max_length=64)], PropValue], msgspec.Meta(max_length=20)
    ] = {}


Event = PageView | Click | RageClick | Scroll | Custom
EVENT_TYPES: tuple[type[_Event], ...] = (PageView, Click, RageClick, Scroll, Custom)


class Batch(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    site: Token  # the site's public key
    sent_at: Timestamp  # client clock when sent: the offset to server time corrects skew
    sid: Token  # session id
    events: list[Event]
    v: Literal[1] = 1


class BatchError(ValueError):
    """The batch is malformed; `field` is a JSONPath to the culprit."""

    def __init__(self, message: str, field: str = "$") -> None:
        super().__init__(message)
        self.field = field


_DECODER = msgspec.json.Decoder(Batch)
_PATH_IN_MESSAGE = re.compile(r" - at `(?P<path>[^`]+)`$")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_TOKEN_RULE = "may hold only letters, digits, '_' and '-'"


def decode_batch(body: bytes, max_events: int, max_age_ms: int) -> Batch:
    """Decode and check one batch, or raise BatchError naming the field."""
    try:
        batch = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH_IN_MESSAGE.search(message)
        field = match.group("path") if match else "$"
        raise BatchError(_PATH_IN_MESSAGE.sub("", message), field) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise BatchError(f"body is not valid JSON: {exc}") from None
    check_batch(batch, max_events, max_age_ms)
    return batch


def check_batch(batch: Batch, max_events: int, max_age_ms: int) -> None:
    """The checks that span fields: counts, duplicate ids, times against sent_at."""
    if not batch.events:
        raise BatchError("a batch needs at least one event", "$.events")
    if len(batch.events) > max_events:
        raise BatchError(f"a batch holds at most {max_events} events", "$.events")
    # Whole-batch checks first (builtins over lists, the hot path); the loop below only runs
    # to name the culprit of a batch that failed one of them.
    events = batch.events
    ids = [e.id for e in events]
    times = [e.ts for e in events]
    if (
        len(set(ids)) == len(ids)
        and all(e.p[0] == "/" for e in events)
        and max(times) <= batch.sent_at + SEND_SLACK_MS
        and batch.sent_at - min(times) <= max_age_ms
        and _TOKEN.fullmatch(batch.site + batch.sid + "".join(ids) + "".join(e.pv for e in events))
    ):
        return
    _check_tokens(batch)
    seen: set[str] = set()
    for i, event in enumerate(events):
        if event.id in seen:
            raise BatchError(f"duplicate event id {event.id!r}", f"$.events[{i}].id")
        seen.add(event.id)
        if event.p[0] != "/":
            raise BatchError("a path must start with '/'", f"$.events[{i}].p")
        if event.ts > batch.sent_at + SEND_SLACK_MS:
            raise BatchError("event is later than the batch's sent_at", f"$.events[{i}].ts")
        if batch.sent_at - event.ts > max_age_ms:
            raise BatchError("event is older than the accepted age", f"$.events[{i}].ts")


def _check_tokens(batch: Batch) -> None:
    named = [("$.site", batch.site), ("$.sid", batch.sid)]
    for i, event in enumerate(batch.events):
        named += [(f"$.events[{i}].id", event.id), (f"$.events[{i}].pv", event.pv)]
    for field, value in named:
        if not _TOKEN.fullmatch(value):
            raise BatchError(f"{field.rsplit('.', 1)[-1]} {_TOKEN_RULE}", field)


class StoredHeader(msgspec.Struct, array_like=True):
    """What the collector adds to each stored batch; the events follow it in the stream entry."""

    v: int  # schema version
    site: str  # site name
    sid: str  # session id
    vid: str  # visitor id: keyed daily hash, "" when not derived
    recv: int  # server time of receipt, ms
    skew: int  # server minus client clock, ms: add to an event's ts for server time
    # Since the overview issue; batches stored before decode with the defaults.
    browser: str = ""  # browser family (collector.agents), never the user agent
    os: str = ""  # operating system family
    country: str = ""  # ISO 3166-1 alpha-2 of the client address (collector.geo), or ""


_MSGPACK = msgspec.msgpack.Encoder()
_HEADER_DECODER = msgspec.msgpack.Decoder(StoredHeader)
_EVENTS_DECODER = msgspec.msgpack.Decoder(list[Event])


def encode_header(header: StoredHeader) -> bytes:
    return _MSGPACK.encode(header)


def encode_events(events: list[Event]) -> bytes:
    return _MSGPACK.encode(events)


def decode_stored(fields: dict[bytes, bytes]) -> tuple[StoredHeader, list[Event]]:
    """Header and new events of one stream entry: `h` header, `e` the batch's events, `d` the
    ids among them that were stored before (comma-joined), which readers must skip."""
    header = _HEADER_DECODER.decode(fields[b"h"])
    events: list[Event] = _EVENTS_DECODER.decode(fields[b"e"])
    duplicates = fields.get(b"d")
    if duplicates:
        skip = set(duplicates.decode().split(","))
        events = [event for event in events if event.id not in skip]
    return header, events
