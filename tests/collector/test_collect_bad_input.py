"""Every malformed, hostile or oversized batch gets a clear 4xx naming the problem, and changes
nothing in Redis."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from collector.sites import Site
from tests.factories import ORIGIN, all_keys, batch, click, now_ms, pageview

Body = Callable[[str], bytes]


def as_json(**fields: Any) -> Body:
    return lambda key: json.dumps(batch(key, **fields)).encode()


def with_events(*events: dict[str, Any]) -> Body:
    return lambda key: json.dumps(batch(key, list(events))).encode()


def raw(template: str) -> Body:
    return lambda key: template.replace("KEY", key).replace("NOW", str(now_ms())).encode()


def deep(depth: int) -> Body:
    nested = "[" * depth + "]" * depth
    return raw(
        '{"site":"KEY","sid":"s","sent_at":NOW,"events":[{"t":"custom","id":"abcdefgh",'
        '"ts":NOW,"p":"/","pv":"p","name":"x","props":{"a":' + nested + "}}]}"
    )


PLAIN = {"content-type": "text/plain"}
# (case, body, extra headers, status, field named in the error)
CASES: list[tuple[str, Body, dict[str, str], int, str]] = [
    ("malformed JSON", raw('{"site": "KEY", "events": ['), PLAIN, 400, "$"),
    ("empty body", raw(""), PLAIN, 400, "$"),
    ("array instead of object", raw("[]"), PLAIN, 400, "$"),
    ("site of wrong type", as_json(site=12), PLAIN, 400, "$.site"),
    ("site is null", as_json(site=None), PLAIN, 400, "$.site"),
    ("missing events", raw('{"site":"KEY","sid":"s","sent_at":NOW}'), PLAIN, 400, "$"),
    ("unknown top-level key", as_json(extra=1), PLAIN, 400, "$"),
    ("unknown event field", with_events(click(color="red")), PLAIN, 400, "$.events[0]"),
    ("unknown event type", with_events(click(t="hover")), PLAIN, 400, "$.events[0].t"),
    ("no events", with_events(), PLAIN, 400, "$.events"),
    ("too many events", with_events(*[click() for _ in range(201)]), PLAIN, 400, "$.events"),
    ("selector too long", with_events(click(sel="div>" * 200)), PLAIN, 400, "$.events[0].sel"),
    ("path too long", with_events(click(p="/" + "a" * 3000)), PLAIN, 400, "$.events[0].p"),
    ("path not absolute", with_events(click(p="https://x/")), PLAIN, 400, "$.events[0].p"),
    (
        "NaN coordinate",
        raw(
            '{"site":"KEY","sid":"s","sent_at":NOW,"events":[{"t":"click",'
            '"id":"abcdefgh","ts":NOW,"p":"/","pv":"p","x":NaN,"y":1,"vw":1,'
            '"vh":1}]}'
        ),
        PLAIN,
        400,
        "$",
    ),
    (
        "infinite coordinate",
        raw(
            '{"site":"KEY","sid":"s","sent_at":NOW,"events":[{"t":"click",'
            '"id":"abcdefgh","ts":NOW,"p":"/","pv":"p","x":1,"y":1e999,"vw":1,'
            '"vh":1}]}'
        ),
        PLAIN,
        400,
        "$.events[0].y",
    ),
    ("huge integer", with_events(click(vw=10**30)), PLAIN, 400, "$.events[0].vw"),
    ("negative viewport", with_events(click(vw=-5)), PLAIN, 400, "$.events[0].vw"),
    ("negative document height", with_events(click(dh=-1)), PLAIN, 400, "$.events[0].dh"),
    ("negative document width", with_events(click(dw=-0.5)), PLAIN, 400, "$.events[0].dw"),
    ("coordinate as text", with_events(click(y="900")), PLAIN, 400, "$.events[0].y"),
    ("boolean as number", with_events(click(x=True)), PLAIN, 400, "$.events[0].x"),
    (
        "far-future timestamp",
        with_events(click(ts=now_ms() + 86_400_000)),
        PLAIN,
        400,
        "$.events[0].ts",
    ),
    ("ancient timestamp", with_events(click(ts=1_000_000_000_000)), PLAIN, 400, "$.events[0].ts"),
    (
        "event older than 48 h",
        with_events(click(ts=now_ms() - 49 * 3600_000)),
        PLAIN,
        400,
        "$.events[0].ts",
    ),
    (
        "invalid UTF-8",
        lambda key: json.dumps(batch(key)).encode().replace(b"/cart", b"/\xff\xfe"),
        PLAIN,
        400,
        "$",
    ),
    ("deep nesting", deep(5000), PLAIN, 400, "$.events[0].props[...]"),
    (
        "duplicate event ids",
        with_events(click(id="sameid01"), click(id="sameid01")),
        PLAIN,
        400,
        "$.events[1].id",
    ),
    (
        "event id with odd characters",
        with_events(click(id="abc def<1>")),
        PLAIN,
        400,
        "$.events[0].id",
    ),
    ("event id too short", with_events(click(id="abc")), PLAIN, 400, "$.events[0].id"),
    ("unsupported schema version", as_json(v=2), PLAIN, 400, "$.v"),
    (
        "too many custom props",
        with_events(
            {
                "t": "custom",
                "id": "abcdefgh",
                "ts": now_ms(),
                "p": "/",
                "pv": "p",
                "name": "n",
                "props": {str(i): i for i in range(21)},
            }
        ),
        PLAIN,
        400,
        "$.events[0].props",
    ),
    ("session id with spaces", as_json(sid="a b"), PLAIN, 400, "$.sid"),
    (
        "unknown site key",
        lambda key: json.dumps(batch("ct_unknownkey")).encode(),
        PLAIN,
        403,
        "$.site",
    ),
    ("disallowed origin", as_json(), {**PLAIN, "origin": "https://evil.example"}, 403, "origin"),
    ("opaque origin", as_json(), {**PLAIN, "origin": "null"}, 403, "origin"),
    ("body over 64 KiB", with_events(*[click(sel="a" * 500) for _ in range(150)]), PLAIN, 413, "$"),
    (
        "form content type",
        as_json(),
        {"content-type": "application/x-www-form-urlencoded"},
        415,
        "content-type",
    ),
    ("no content type", as_json(), {"content-type": ""}, 415, "content-type"),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_batch_is_refused_and_changes_nothing(
    client: TestClient,
    redis_client: redis.Redis,
    site: Site,
    body: Body,
    headers: dict[str, str],
    status: int,
    field: str,
) -> None:
    before = all_keys(redis_client)
    response = client.post("/e", content=body(site.key), headers=headers)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["error"]
    assert error["field"] == field
    assert all_keys(redis_client) == before


def test_there_are_at_least_25_distinct_cases() -> None:
    assert len({c[0] for c in CASES}) >= 25


def test_a_body_streamed_past_the_limit_is_cut_off(client: TestClient, site: Site) -> None:
    def chunks() -> Any:  # no Content-Length: the limit must hold while reading
        yield b'{"site":"' + site.key.encode() + b'","events":['
        for _ in range(200):
            yield b"x" * 1024

    response = client.post("/e", content=chunks())
    assert response.status_code == 413


def test_a_good_event_beside_a_bad_one_is_not_stored(
    client: TestClient, redis_client: redis.Redis, site: Site
) -> None:
    response = client.post(
        "/e",
        json=batch(site.key, [pageview(), click(x="left")]),
        headers={"origin": ORIGIN, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "$.events[1].x"
    assert all_keys(redis_client, "ct:{shop:*") == []


def test_a_client_sending_refused_requests_is_rate_limited(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> None:
    proxy = ipaddress.ip_network("203.0.113.0/24")
    client = make_client(rate_invalid_per_s=1, trusted_proxies=(proxy,))
    prober = {"x-forwarded-for": "198.51.100.1"}
    refused = [
        ("unknown site", json.dumps(batch("ct_unknownkey")).encode(), PLAIN),
        ("bad origin", json.dumps(batch(site.key)).encode(), {**PLAIN, "origin": "null"}),
        ("bad type", json.dumps(batch(site.key)).encode(), {"content-type": "text/csv"}),
        ("undecodable", b"{", PLAIN),
        ("too large", b"x" * 70_000, PLAIN),
    ]  # burst 5x the rate: five refusals are let through
    for name, body, headers in refused:
        response = client.post("/e", content=body, headers={**headers, **prober})
        assert 400 <= response.status_code < 429, name
    for body in (b"{", json.dumps(batch(site.key)).encode()):  # even a good batch, for now
        response = client.post("/e", content=body, headers=prober)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
    others = {"x-forwarded-for": "198.51.100.2"}
    assert client.post("/e", json=batch(site.key), headers=others).status_code == 202
    assert redis_client.xlen("ct:{shop:0}:events") == 1
