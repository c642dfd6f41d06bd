"""The traffic overview over visits posted through POST /e and filed by the worker, against a
brute-force count of the same visits: every total, series point and list, in a time zone, for
the period and the one before it, closed and open sessions, and days filed before rollups."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector import keys
from collector.pages import BANDS, PageTemplates
from collector.setting_values import parse_networks
from collector.sites import Site
from heatmap.aggregate import Aggregator
from reports.analyses.journey_request import JourneyError, VisitFilter
from reports.analyses.overview_request import OverviewRequest, run_overview
from reports.sessions.builder import SessionBuilder
from tests.factories import BROWSER_UA, batch, click, event, now_ms, pageview

ZONE = "America/New_York"
PAGES = ["/", "/product/1", "/product/2", "/cart", "/checkout", "/thanks", "/about"]
# (referrer, utm, click ids, expected channel, expected source)
TOUCHES: list[tuple[str, dict[str, str], list[str], str, str]] = [
    ("", {}, [], "direct", "(direct)"),
    ("www.google.com", {}, [], "organic_search", "google.com"),
    ("", {"source": "google", "medium": "cpc", "campaign": "winter", "term": "boots"},
     ["gclid"], "paid_search", "google"),
    ("m.facebook.com", {}, ["fbclid"], "organic_social", "m.facebook.com"),
    ("", {"source": "news", "medium": "email", "campaign": "dec", "content": "top"}, [],
     "email", "news"),
    ("chatgpt.com", {}, [], "ai_assistants", "chatgpt.com"),
    ("semalt.com", {}, [], "spam", "semalt.com"),
]  # fmt: skip
WIDTHS = {"mobile": 390, "tablet": 800, "desktop": 1280}
ADDRESSES = {"GB": "81.2.69.142", "US": "8.8.8.8", "AU": "1.1.1.1", "": "192.0.2.1"}


@dataclass
class Visit:
    """One planned visit: what the oracle counts."""

    person: int
    start_ms: int
    touch: int
    band: str
    country: str
    rows: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)  # (ms, kind, ...)

    @property
    def pages(self) -> list[str]:
        return [r[2]["p"] for r in self.rows if r[1] == "pageview"]

    @property
    def events(self) -> list[tuple[str, dict[str, Any]]]:
        return [(r[2]["name"], r[2].get("props", {})) for r in self.rows if r[1] == "custom"]


def plan(seed: int, today: date, days: int) -> list[Visit]:
    """Visits spread over the last `days` days; every seventh one still open (it starts in the
    last minutes, and is posted after the others were closed)."""
    rng = random.Random(seed)
    now = now_ms()
    visits = []
    for n in range(rng.randint(30, 60)):
        start = now - rng.randint(3_600_000, days * 86_400_000) if n % 7 else now - 900_000
        visit = Visit(
            person=rng.randint(0, 8),
            start_ms=start,
            touch=rng.randrange(len(TOUCHES)),
            band=rng.choice(BANDS),
            country=rng.choice(list(ADDRESSES)),
        )
        at = start
        for k in range(rng.randint(1, 5)):
            if k and rng.random() < 0.25:
                props = {"plan": rng.choice(["free", "pro"])} if rng.random() < 0.7 else {}
                name = rng.choice(["signup", "share"])
                visit.rows.append((at, "custom", {"name": name, "props": props}))
            else:
                visit.rows.append((at, "pageview", {"p": rng.choice(PAGES)}))
            at += rng.randint(1_000, 120_000)
        if rng.random() < 0.3:
            visit.rows.append((at, "click", {}))
        visits.append(visit)
    return visits


def post(client: TestClient, site: Site, visits: list[Visit]) -> None:
    for n, visit in enumerate(visits):
        ref, utm, ck, _, _ = TOUCHES[visit.touch]
        events = []
        first = True
        for ts, kind, fields in visit.rows:
            if kind == "pageview":
                extra = {"ref": ref, "utm": utm, "ck": ck} if first else {"ref": "/"}
                events.append(pageview(ts=ts, vw=WIDTHS[visit.band], **fields, **extra))
                first = False
            elif kind == "custom":
                events.append(event("custom", ts=ts, **fields))
            else:
                events.append(click(ts=ts, vw=WIDTHS[visit.band]))
        headers = {
            "user-agent": BROWSER_UA.replace("126.0", f"126.{visit.person}"),
            "x-forwarded-for": ADDRESSES[visit.country],
        }
        body = batch(site.key, events, sid=f"s{n}")
        assert client.post("/e", json=body, headers=headers).status_code == 202


def oracle(visits: list[Visit], first: date, last: date, zone: ZoneInfo) -> dict[str, Any]:
    """The overview's figures counted visit by visit."""

    def local_day(ms: int) -> date:
        return datetime.fromtimestamp(ms / 1000, zone).date()

    chosen = [
        v
        for v in visits
        if first <= local_day(v.start_ms) <= last and TOUCHES[v.touch][3] != "spam" and v.rows
    ]
    pages: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    events: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for v in chosen:
        for page, n in Counter(v.pages).items():
            pages[page][0] += 1
            pages[page][1] += n
        for name, n in Counter(name for name, _ in v.events).items():
            events[name][0] += 1
            events[name][1] += n
    with_pages = [v for v in chosen if v.pages]
    durations = [(v.rows[-1][0] - v.rows[0][0]) // 1000 for v in chosen]
    return {
        # the visitor hash is of the address and the user agent
        "visitors": len({(local_day(v.start_ms), v.person, v.country) for v in chosen}),
        "visits": len(chosen),
        "pageviews": sum(len(v.pages) for v in chosen),
        "bounces": sum(len(v.pages) == 1 for v in chosen),
        "median_duration_s": float(median(durations)) if durations else None,
        "conversions": sum("/thanks" in v.pages for v in chosen),
        "pages": {p: tuple(c) for p, c in pages.items()},
        "entry": Counter(v.pages[0] for v in with_pages),
        "exit": Counter(v.pages[-1] for v in with_pages),
        "channels": Counter(TOUCHES[v.touch][3] for v in chosen),
        "channel_conversions": Counter(TOUCHES[v.touch][3] for v in chosen if "/thanks" in v.pages),
        "sources": Counter(TOUCHES[v.touch][4] for v in chosen),
        "devices": Counter(v.band for v in chosen),
        "countries": Counter(v.country or "(not set)" for v in chosen),
        "events": {name: tuple(c) for name, c in events.items()},
        "plans": Counter(
            pair
            for v in chosen
            for pair in {(name, props["plan"]) for name, props in v.events if props}
        ),
        "days": Counter(local_day(v.start_ms).isoformat() for v in chosen),
    }


@pytest.fixture
def make_filed(
    make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site
) -> Callable[[list[Visit]], None]:
    client = make_client(
        rate_ip_per_s=1e6,
        max_event_age_s=30 * 86_400,
        trusted_proxies=parse_networks("203.0.113.0/24"),
    )

    def filed(visits: list[Visit]) -> None:
        builder = SessionBuilder(redis_client)
        worker = Worker(redis_client, [Aggregator(PageTemplates(), 90), builder])
        post(client, site, [v for n, v in enumerate(visits) if n % 7])
        worker.run(burst=True)
        builder.tick(site.name, 0, now_ms() + 3_600_000)  # as if an hour had passed: all close
        post(client, site, [v for n, v in enumerate(visits) if not n % 7])
        worker.run(burst=True)

    return filed


def request(first: date, last: date, **fields: Any) -> OverviewRequest:
    return OverviewRequest(VisitFilter(first=first, last=last, zone=ZONE), **fields)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_figure_matches_a_count_of_the_same_visits(
    redis_client: redis.Redis, site: Site, make_filed: Callable[[list[Visit]], None], seed: int
) -> None:
    zone = ZoneInfo(ZONE)
    today = datetime.now(zone).date()
    visits = plan(seed, today, days=10)
    make_filed(visits)
    first, last = today - timedelta(days=4), today
    got = run_overview(redis_client, site, request(first, last, goal="/thanks", limit=0))
    want = oracle(visits, first, last, zone)
    before = oracle(visits, first - timedelta(days=5), first - timedelta(days=1), zone)

    for name in ("visitors", "visits", "pageviews", "median_duration_s", "conversions"):
        assert got[name] == want[name], name
        assert got["previous"][name] == before[name], name
    assert got["bounce_rate"] == (want["bounces"] / want["visits"] if want["visits"] else None)
    assert {p["page"]: (p["visits"], p["pageviews"]) for p in got["pages"]} == want["pages"]
    assert Counter({p["page"]: p["visits"] for p in got["entry_pages"]}) == want["entry"]
    exits = {p["page"]: (p["exits"], p["exit_rate"]) for p in got["exit_pages"]}
    assert exits == {p: (n, n / want["pages"][p][1]) for p, n in want["exit"].items()}
    assert Counter({c["channel"]: c["visits"] for c in got["channels"]}) == want["channels"]
    conversions = Counter({c["channel"]: c["conversions"] for c in got["channels"]})
    assert +conversions == want["channel_conversions"]
    assert Counter({s["source"]: s["visits"] for s in got["sources"]}) == want["sources"]
    assert Counter({d["band"]: d["visits"] for d in got["devices"]}) == want["devices"]
    assert Counter({c["country"]: c["visits"] for c in got["countries"]}) == want["countries"]
    # What every visit has (a missing one counted as "(not set)") adds up to the visits.
    for key, name in (("browsers", "browser"), ("os", "os"), ("hostnames", "hostname")):
        assert sum(row["visits"] for row in got[key]) == want["visits"], key
        assert all(row[name] for row in got[key]), key
    assert {e["name"]: (e["visits"], e["count"]) for e in got["events"]} == want["events"]
    plans = Counter(
        {(e["name"], p["value"]): p["visits"] for e in got["events"] for p in e["properties"]}
    )
    assert plans == want["plans"]
    assert {p["t"]: p["visits"] for p in got["series"] if p["visits"]} == want["days"]
    assert [p["t"] for p in got["series"]] == [(first + timedelta(d)).isoformat() for d in range(5)]
    assert got["spam_visits"] == oracle_spam(visits, first, last, zone)
    # conserving: every visit in exactly one channel, one device
    assert sum(c["visits"] for c in got["channels"]) == got["visits"]
    assert sum(d["visits"] for d in got["devices"]) == got["visits"]
    assert sum(p["visits"] for p in got["series"]) == got["visits"]


def oracle_spam(visits: list[Visit], first: date, last: date, zone: ZoneInfo) -> int:
    return sum(
        first <= datetime.fromtimestamp(v.start_ms / 1000, zone).date() <= last
        and TOUCHES[v.touch][3] == "spam"
        for v in visits
    )


def test_days_filed_before_rollups_count_alike_but_without_properties(
    redis_client: redis.Redis, site: Site, make_filed: Callable[[list[Visit]], None]
) -> None:
    zone = ZoneInfo(ZONE)
    today = datetime.now(zone).date()
    make_filed(plan(4, today, days=6))
    ask = request(today - timedelta(days=6), today, goal="/thanks", limit=0)
    rolled = run_overview(redis_client, site, ask)
    rollups = [
        *redis_client.scan_iter(match=keys.session_log(site.name, 0, "*", "visits")),
        *redis_client.scan_iter(match=keys.session_log(site.name, 0, "*", "items")),
    ]
    assert rollups
    redis_client.delete(*rollups)
    from_logs = run_overview(redis_client, site, ask)
    for name in ("visitors", "visits", "pageviews", "median_duration_s", "series", "pages"):
        assert from_logs[name] == rolled[name], name
    assert from_logs["channels"] == rolled["channels"]

    def events(result: dict[str, Any]) -> list[tuple[str, int, int]]:
        return [(e["name"], e["visits"], e["count"]) for e in result["events"]]

    def with_properties(result: dict[str, Any]) -> int:  # only the open visits' are left
        return sum(p["visits"] for e in result["events"] for p in e["properties"])

    assert events(from_logs) == events(rolled)
    assert with_properties(from_logs) < with_properties(rolled)


def test_short_periods_have_hourly_series_in_the_time_zone(
    redis_client: redis.Redis, site: Site, make_filed: Callable[[list[Visit]], None]
) -> None:
    zone = ZoneInfo("Asia/Kathmandu")  # +05:45: hours do not line up with UTC ones
    today = datetime.now(zone).date()
    make_filed(plan(5, today, days=2))
    ask = OverviewRequest(VisitFilter(today - timedelta(days=1), today, zone="Asia/Kathmandu"))
    got = run_overview(redis_client, site, ask)
    assert len(got["series"]) == 48
    assert got["series"][0]["t"] == f"{today - timedelta(days=1)}T00:00+05:45"
    assert sum(p["visits"] for p in got["series"]) == got["visits"]
    assert len(got["previous"]["series"]) == 48


def test_filters_by_band_and_channel_keep_the_figures_conserving(
    redis_client: redis.Redis, site: Site, make_filed: Callable[[list[Visit]], None]
) -> None:
    today = datetime.now(ZoneInfo(ZONE)).date()
    make_filed(plan(6, today, days=3))
    first = today - timedelta(days=2)
    whole = run_overview(redis_client, site, request(first, today))
    by_channel = [
        run_overview(
            redis_client,
            site,
            OverviewRequest(VisitFilter(first=first, last=today, zone=ZONE, channel=c["channel"])),
        )
        for c in whole["channels"]
    ]
    assert sum(r["visits"] for r in by_channel) == whole["visits"]
    assert sum(r["pageviews"] for r in by_channel) == whole["pageviews"]
    for band in BANDS:
        one = run_overview(
            redis_client, site, OverviewRequest(VisitFilter(first, today, zone=ZONE, band=band))
        )
        want = next((d["visits"] for d in whole["devices"] if d["band"] == band), 0)
        assert one["visits"] == want


def test_empty_site_answers_zeros_and_null_rates(redis_client: redis.Redis, site: Site) -> None:
    today = datetime.now(UTC).date()
    got = run_overview(redis_client, site, request(today, today, goal="event:signup"))
    assert (got["visits"], got["pageviews"], got["visitors"]) == (0, 0, 0)
    assert got["bounce_rate"] is None and got["pages_per_visit"] is None
    assert got["conversion_rate"] is None and got["median_duration_s"] is None
    assert got["warnings"] == ["goal (event:signup) was reached by no visit in this range"]


@pytest.mark.parametrize(
    ("fields", "parameter"),
    [({"goal": "cart"}, "goal"), ({"limit": -1}, "limit"), ({"goals": {"x": "re:("}}, "x")],
)
def test_bad_requests_name_their_parameter(
    redis_client: redis.Redis, site: Site, fields: dict[str, Any], parameter: str
) -> None:
    today = datetime.now(UTC).date()
    with pytest.raises(JourneyError) as raised:
        run_overview(redis_client, site, request(today, today, **fields))
    assert raised.value.parameter == parameter
