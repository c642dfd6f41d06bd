"""Journeys and A-to-B over sessions posted through the real endpoint and filed by the worker:
filters, the goal, exclusions, warnings for anchors that match nothing, and errors that name
the parameter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector.pages import PageTemplates
from collector.sites import Site
from heatmap.aggregate import Aggregator
from reports.analyses.journey_request import (
    JourneyError,
    JourneyRequest,
    PathsRequest,
    VisitFilter,
    run_journeys,
    run_paths,
)
from reports.sessions.builder import SessionBuilder
from tests.factories import batch, event, now_ms, pageview

MIN = 60_000
HOUR = 60 * MIN


@pytest.fixture
def client(make_client: Callable[..., TestClient], site: Site) -> TestClient:
    return make_client(rate_ip_per_s=1e6)


def post(client: TestClient, site: Site, sid: str, events: list[dict[str, Any]]) -> None:
    assert client.post("/e", json=batch(site.key, events, sid=sid)).status_code == 202


def visit(at: int, *names: str, **fields: Any) -> list[dict[str, Any]]:
    """Page views (and `event:NAME` custom events) ten seconds apart."""
    out = []
    for i, name in enumerate(names):
        if name.startswith("event:"):
            out.append(event("custom", name=name[6:], ts=at + i * 10_000, p="/x"))
        else:
            out.append(pageview(p=name, ts=at + i * 10_000, **fields))
    return out


@pytest.fixture
def filed(client: TestClient, redis_client: redis.Redis, site: Site) -> int:
    """Five visits: two reach /thanks, one on a phone, one from a newsletter, one still open."""
    t0 = now_ms() - 50 * MIN  # ended: more than the 30-minute gap ago
    post(client, site, "a", visit(t0, "/", "/product/1", "/cart", "/cart", "/thanks"))
    post(client, site, "b", visit(t0, "/", "/product/2", "/product/3", "event:add", "/thanks"))
    post(client, site, "c", visit(t0, "/product/1", "/help", vw=390))
    post(client, site, "d", visit(t0, "/", "/cart", utm={"source": "newsletter"}))
    post(client, site, "e", visit(now_ms() - 30_000, "/", "/product/9"))  # still open
    Worker(redis_client, [Aggregator(PageTemplates(), 90), SessionBuilder(redis_client)]).run(
        burst=True
    )
    return t0


def days(**fields: Any) -> VisitFilter:
    today = datetime.now(UTC).date()
    return VisitFilter(first=today - timedelta(days=1), last=today, **fields)


def nodes(result: Any, step: int) -> dict[str, tuple[int, int, int]]:
    column = result["columns"][step - 1]
    return {n["id"]: (n["visits"], n["ends"], n["in_progress"]) for n in column["nodes"]}


def test_open_map_over_posted_visits(redis_client: redis.Redis, site: Site, filed: int) -> None:
    result = run_journeys(redis_client, site, JourneyRequest(days(), steps=4))
    assert (result["mode"], result["direction"], result["visits"]) == ("open", "forward", 5)
    assert nodes(result, 1) == {"1:/": (4, 0, 0), "1:/product/:id": (1, 0, 0)}
    # b's /product/2 -> /product/3 stay two steps; a's /cart reload is one occurrence
    assert nodes(result, 2) == {
        "2:/product/:id": (3, 0, 1), "2:/cart": (1, 1, 0), "2:/help": (1, 1, 0),
    }  # fmt: skip
    assert nodes(result, 3)["3:/cart"] == (1, 0, 0)
    assert {(e["from"], e["to"]): e["visits"] for e in result["edges"]}[
        ("1:/", "2:/product/:id")
    ] == 3  # a, b and the open e
    cart = next(n for n in result["columns"][2]["nodes"] if n["id"] == "3:/cart")
    assert cart["repeats"] == 1 and cart["page"] == "/cart" and cart["event"] is None
    assert result["warnings"] == []


def test_filters_band_source_and_converted(
    redis_client: redis.Redis, site: Site, filed: int
) -> None:
    phone = run_journeys(redis_client, site, JourneyRequest(days(band="mobile")))
    assert phone["visits"] == 1
    mailed = run_journeys(redis_client, site, JourneyRequest(days(source="newsletter")))
    assert nodes(mailed, 2) == {"2:/cart": (1, 1, 0)}
    converted = JourneyRequest(days(), goal="/thanks", converted=True)
    assert run_journeys(redis_client, site, converted)["visits"] == 2
    lost = JourneyRequest(days(), goal="/thanks", converted=False)
    assert run_journeys(redis_client, site, lost)["visits"] == 3


def test_goal_event_counts_without_events_as_steps(
    redis_client: redis.Redis, site: Site, filed: int
) -> None:
    result = run_journeys(redis_client, site, JourneyRequest(days(), goal="event:add"))
    first = {n["id"]: n["goal"] for n in result["columns"][0]["nodes"]}
    assert first == {"1:/": 1, "1:/product/:id": 0}
    assert result["warnings"] == []
    with_events = run_journeys(redis_client, site, JourneyRequest(days(), events=True, steps=6))
    assert "4:event:add" in nodes(with_events, 4)
    event_node = next(n for n in with_events["columns"][3]["nodes"] if n["id"] == "4:event:add")
    assert (event_node["page"], event_node["event"]) == (None, "add")


def test_anchors_exclusions_and_warnings(redis_client: redis.Redis, site: Site, filed: int) -> None:
    result = run_journeys(
        redis_client, site, JourneyRequest(days(), start="/product/*", exclude=("/cart",))
    )
    assert result["mode"] == "start"
    assert nodes(result, 2) == {
        "2:/product/:id": (1, 0, 0),
        "2:/help": (1, 1, 0),
        "2:/thanks": (1, 1, 0),
    }
    quiet = run_journeys(
        redis_client, site, JourneyRequest(days(), end="/nowhere", goal="event:nope")
    )
    assert quiet["visits"] == 0
    assert quiet["warnings"] == [
        "end (/nowhere) matched no page view in this range",
        "goal (event:nope) matched no event in this range",
    ]
    event_anchor = run_journeys(redis_client, site, JourneyRequest(days(), start="event:add"))
    assert event_anchor["warnings"] == [
        "start (event:add) is a custom event: add events to count them"
    ]


def test_paths_from_a_to_b(redis_client: redis.Redis, site: Site, filed: int) -> None:
    result = run_paths(redis_client, site, PathsRequest(days(), "/product/*", "/thanks"))
    assert (result["visits_with_start"], result["reached_end"], result["never_reached"]) == (
        4,
        2,
        2,
    )
    assert [b["visits"] for b in result["between"]] == [0, 2, 0, 0, 0, 0, 0, 0]  # a reload is one
    assert result["time_s"]["median"] == 30.0
    assert result["paths"][:2] == [
        {"pages": ["/product/:id", "/cart", "/thanks"], "other": False, "visits": 1},
        {"pages": ["/product/:id", "/product/:id", "/thanks"], "other": False, "visits": 1},
    ]
    assert result["paths"][-1] == {"pages": None, "other": True, "visits": 0}


@pytest.mark.parametrize(
    ("request_fields", "parameter"),
    [
        ({"steps": 11}, "steps"),
        ({"steps": 21, "start": "/"}, "steps"),
        ({"rows": 0}, "rows"),
        ({"start": "re:(a"}, "start"),
        ({"converted": True}, "converted"),
    ],
)
def test_bad_requests_name_the_parameter(
    redis_client: redis.Redis, site: Site, request_fields: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(JourneyError) as caught:
        run_journeys(redis_client, site, JourneyRequest(days(), **request_fields))
    assert caught.value.parameter == parameter


def test_ranges_over_the_limit_and_event_anchors_in_paths_are_refused(
    redis_client: redis.Redis, site: Site
) -> None:
    today = datetime.now(UTC).date()
    too_long = VisitFilter(first=today - timedelta(days=400), last=today)
    with pytest.raises(JourneyError, match="366"):
        run_journeys(redis_client, site, JourneyRequest(too_long))
    with pytest.raises(JourneyError) as caught:
        run_paths(redis_client, site, PathsRequest(days(), "event:add", "/thanks"))
    assert caught.value.parameter == "start"
