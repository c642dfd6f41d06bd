"""Property: any body either gets 202 and is stored as sent (coordinates and sizes clamped to the
documented maxima, labels masked), or gets a 4xx and leaves Redis as it was. Never a 5xx."""

from __future__ import annotations

import json
import math
from typing import Any

import redis
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from collector.bounds import MAX_DOC_HEIGHT_PX, MAX_DOC_WIDTH_PX
from collector.labels import mask_label
from collector.sites import Site
from tests.factories import all_keys, decode_entry, now_ms, stored_entries

NOW = now_ms()
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
EVENT_ID = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=8, max_size=40)
# Any finite number: past the maxima they are clamped, never refused.
COORD = (
    st.floats(allow_nan=False, allow_infinity=False) | st.floats(-1e6, 1e6) | st.integers(-10, 5000)
)
SIZE = st.floats(0, allow_infinity=False) | st.floats(0, 1e6)
# The bound each clamped field is held to; the others are stored exactly.
BOUND = {"x": MAX_DOC_WIDTH_PX, "ox": MAX_DOC_WIDTH_PX, "dw": MAX_DOC_WIDTH_PX}
BOUND |= {"y": MAX_DOC_HEIGHT_PX, "oy": MAX_DOC_HEIGHT_PX, "dh": MAX_DOC_HEIGHT_PX}
BOUND |= {"depth": MAX_DOC_HEIGHT_PX}
SCREEN = st.integers(0, 100_000)
COMMON = {
    "id": EVENT_ID,
    "ts": st.integers(NOW - 47 * 3_600_000, NOW),
    "p": st.from_regex(r"\A/[a-z0-9/._-]{0,30}\Z"),
    "pv": st.from_regex(r"\A[A-Za-z0-9]{1,10}\Z"),
}
CLICK = st.fixed_dictionaries(
    {"t": st.just("click"), **COMMON, "x": COORD, "y": COORD, "vw": SCREEN, "vh": SCREEN},
    optional={
        "sel": st.text(max_size=512),
        "fixed": st.booleans(),
        "dead": st.booleans(),
        "ptr": st.sampled_from(["mouse", "touch", "pen"]),
        "label": st.text(max_size=64),
        "dh": SIZE,
        "dw": SIZE,
        "ox": COORD,
        "oy": COORD,
    },
)
PAGEVIEW = st.fixed_dictionaries(
    {"t": st.just("pageview"), **COMMON},
    optional={
        "ref": st.text(max_size=256),
        "vw": SCREEN,
        "sw": SCREEN,
        "utm": st.dictionaries(st.text(max_size=32), st.text(max_size=256), max_size=3),
    },
)
SCROLL = st.fixed_dictionaries(
    {
        "t": st.just("scroll"),
        **COMMON,
        "depth": SIZE,
        "dh": SIZE,
        "vh": SCREEN,
    },
)
CUSTOM = st.fixed_dictionaries(
    {"t": st.just("custom"), **COMMON, "name": st.text(min_size=1, max_size=64)},
    optional={
        "props": st.dictionaries(
            st.text(max_size=64),
            st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
            max_size=20,
        )
    },
)
EVENT = st.one_of(CLICK, PAGEVIEW, SCROLL, CUSTOM)


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """The valid body with one thing broken: a value replaced, a field dropped or added."""
    target = body
    if body["events"] and draw(st.booleans()):
        target = draw(st.sampled_from(body["events"]))
    field = draw(st.sampled_from(sorted(target)))
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "replace":
        target[field] = draw(JUNK)
    elif action == "drop":
        del target[field]
    else:
        target[draw(st.text(max_size=8))] = draw(JUNK)
    return body


@st.composite
def bodies(draw: st.DrawFn, site_key: str) -> bytes:
    kind = draw(st.sampled_from(["valid", "valid", "mutated", "mutated", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(JUNK)).encode()
    body = {
        "site": site_key,
        "sid": draw(st.from_regex(r"\A[a-z0-9]{1,12}\Z")),
        "sent_at": draw(st.integers(NOW, NOW + 60_000)),
        "events": draw(st.lists(EVENT, min_size=1, max_size=6, unique_by=lambda e: e["id"])),
    }
    if kind == "mutated":
        body = draw(mutated(body))
    return json.dumps(body).encode()


def snapshot(client: redis.Redis) -> dict[bytes, Any]:
    state: dict[bytes, Any] = {}
    for key in all_keys(client, "ct:*"):
        kind = client.type(key)
        if kind == b"stream":
            state[key] = client.xlen(key)
        elif kind == b"set":
            state[key] = client.smembers(key)
        elif kind == b"hash":
            state[key] = client.hgetall(key)
        else:
            state[key] = client.get(key)
    return state


def same_value(sent: Any, stored: Any) -> bool:
    if isinstance(sent, float) or isinstance(stored, float):
        return math.isclose(float(sent), float(stored), rel_tol=0, abs_tol=1e-9)
    return bool(sent == stored)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_body_is_stored_intact_or_refused_without_a_trace(
    client: TestClient, redis_client: redis.Redis, site: Site, data: st.DataObject
) -> None:
    body = data.draw(bodies(site.key))
    before = snapshot(redis_client)
    entries_before = len(stored_entries(redis_client))
    response = client.post("/e", content=body)
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.text
    if response.status_code != 202:
        assert 400 <= response.status_code < 500
        assert snapshot(redis_client) == before
        return
    sent = json.loads(body)
    result = response.json()
    assert result["accepted"] + result["duplicates"] == len(sent["events"])
    entries = stored_entries(redis_client)
    if result["accepted"] == 0:
        assert len(entries) == entries_before
        return
    assert len(entries) == entries_before + 1
    header, stored = decode_entry(entries[-1])
    assert header.sid == sent["sid"]
    for sent_event in sent["events"]:
        if sent_event["id"] not in stored:
            continue  # stored by an earlier example: a duplicate
        kept = stored[sent_event["id"]]
        for field, value in sent_event.items():
            if field in BOUND:
                value = max(-BOUND[field], min(BOUND[field], value))
            if field == "label":
                value = mask_label(value)
            if field != "t":
                assert same_value(value, getattr(kept, field)), field
