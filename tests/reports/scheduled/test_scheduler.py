"""The scheduler sends each report period once to each target, catches up a missed run once,
retries a failing target on later passes, and two schedulers racing never send twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.worker import Worker
from collector import keys
from collector.sites import Site, set_time_zone
from reports.delivery.dispatch import deliver
from reports.delivery.targets import DirectoryTarget, ReportFiles
from reports.scheduled.config import parse_report_config
from reports.scheduled.scheduler import MAX_PASSES, ReportScheduler, SchedulerSettings
from reports.sessions.builder import SessionBuilder
from tests.reports.servers import SmtpServer, WebhookServer, received
from tests.reports.shop import Traffic, post_traffic

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)
AFTER_8 = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 30, tzinfo=UTC)


@pytest.fixture
def traffic(make_client: Callable[..., TestClient], redis_client: redis.Redis, site: Site) -> None:
    client = make_client(rate_ip_per_s=1e6, max_event_age_s=4 * 86_400)
    post_traffic(client, site, Traffic(YESTERDAY, buy=6, checkout=2, cart=8, browse=4))
    Worker(redis_client, [SessionBuilder(redis_client)]).run(burst=True)


# The report's funnel: configured, as every funnel is.
FUNNELS = {"cart": {"steps": ["/product/*", "/cart", "/checkout", "/thanks"]}}


def scheduler(
    redis_client: redis.Redis, tmp_path: Path, deliver: list[dict[str, Any]]
) -> ReportScheduler:
    config = parse_report_config(
        {
            "funnels": FUNNELS,
            "reports": {
                "daily": {
                    "site": "shop",
                    "schedule": "0 8 * * *",
                    "time_zone": "UTC",
                    "deliver": deliver,
                }
            },
        }
    )
    settings = SchedulerSettings(tmp_path / "work", backoff_s=0.01)
    return ReportScheduler(redis_client, config, settings)


def test_each_target_gets_the_report_once(
    traffic: None,
    redis_client: redis.Redis,
    tmp_path: Path,
    webhook_server: WebhookServer,
    smtp_server: SmtpServer,
) -> None:
    url, posts = webhook_server([200])
    inbox, mail = smtp_server()
    targets: list[dict[str, Any]] = [
        {"type": "dir", "path": str(tmp_path / "out")},
        {"type": "webhook", "url": url},
        {
            "type": "email",
            "to": list(mail.to),
            "from": mail.sender,
            "host": mail.host,
            "port": mail.port,
        },
    ]
    reports = scheduler(redis_client, tmp_path, targets)
    sent = reports.run_pass(AFTER_8)  # never ran at 08:00: the missed run is caught up
    assert len(sent) == 3 and all(" -> " in line for line in sent)
    assert reports.run_pass(AFTER_8 + timedelta(hours=2)) == []  # same period: nothing again

    [(_, body)] = posts
    payload = json.loads(body)
    assert [s["entered"] for s in payload["report"]["current"]["steps"]] == [20, 16, 8, 6]
    assert payload["text"].startswith(f"Cart abandonment, shop, {YESTERDAY}")
    message = received(inbox)
    assert message["Subject"] == f"Cart abandonment, shop, {YESTERDAY}"
    [folder] = (tmp_path / "out").iterdir()
    assert {p.name for p in folder.iterdir()} >= {"report.html", "report.json", "funnel.csv"}
    counts = redis_client.hgetall(keys.REPORT_DELIVERIES)
    assert counts == {b"dir|ok": b"1", b"webhook|ok": b"1", b"email|ok": b"1"}


def test_the_period_is_that_of_the_latest_firing() -> None:
    config = parse_report_config(
        {
            "funnels": FUNNELS,
            "reports": {
                "weekly": {
                    "site": "shop",
                    "period": "7d",
                    "schedule": "0 8 * * 1",
                    "time_zone": "Europe/Paris",
                }
            },
        }
    )
    reports = ReportScheduler(redis.Redis(), config, SchedulerSettings(Path("unused")))
    weekly = config.reports["weekly"]
    monday_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    assert reports.due_period(weekly, monday_9) == (
        datetime(2026, 11, 16).date(),
        datetime(2026, 11, 22).date(),
    )
    monday_6 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 07:00 in Paris: not yet
    assert reports.due_period(weekly, monday_6) == (
        datetime(2026, 11, 9).date(),
        datetime(2026, 11, 15).date(),
    )


def test_a_failing_target_is_retried_on_later_passes_then_given_up(
    traffic: None, redis_client: redis.Redis, tmp_path: Path, webhook_server: WebhookServer
) -> None:
    broken, broken_posts = webhook_server([503])
    working, working_posts = webhook_server([200])
    reports = scheduler(
        redis_client,
        tmp_path,
        [{"type": "webhook", "url": broken}, {"type": "webhook", "url": working}],
    )
    for n in range(MAX_PASSES + 2):
        reports.run_pass(AFTER_8 + timedelta(minutes=n))
    assert len(working_posts) == 1  # delivered once, never again
    assert len(broken_posts) == MAX_PASSES * 5  # five attempts a pass, then given up
    counts = redis_client.hgetall(keys.REPORT_DELIVERIES)
    assert counts[b"webhook|failed"] == str(MAX_PASSES * 5).encode()


def test_two_schedulers_racing_send_once(
    traffic: None, redis_client: redis.Redis, tmp_path: Path, webhook_server: WebhookServer
) -> None:
    url, posts = webhook_server([200])
    racers = [
        scheduler(redis_client, tmp_path / str(i), [{"type": "webhook", "url": url}])
        for i in range(2)
    ]
    start = threading.Barrier(len(racers))
    results: list[list[str]] = []

    def race(reports: ReportScheduler) -> None:
        start.wait()
        for n in range(3):
            results.append(reports.run_pass(AFTER_8 + timedelta(minutes=n)))

    threads = [threading.Thread(target=race, args=(r,)) for r in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(posts) == 1
    assert sum(len(r) for r in results) == 1


def test_a_failing_report_does_not_stop_the_others_and_is_retried_at_its_next_firing(
    traffic: None, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # Once, one report's exception killed the scheduler thread: no report was sent again.
    config = parse_report_config(
        {
            "funnels": FUNNELS,
            "reports": {
                name: {"site": "shop", "deliver": [{"type": "dir", "path": str(tmp_path / name)}]}
                for name in ("broken", "daily")
            },
        }
    )
    attempts: list[str] = []

    def send(target: DirectoryTarget, files: ReportFiles, **options: Any) -> None:
        attempts.append(target.path.name)
        if target.path.name == "broken":
            raise RuntimeError("a bug in a renderer")
        deliver(target, files, **options)

    reports = ReportScheduler(
        redis_client, config, SchedulerSettings(tmp_path / "work", backoff_s=0.01), send
    )
    [sent] = reports.run_pass(AFTER_8)
    assert sent.startswith("daily ") and " -> " in sent
    assert reports.run_pass(AFTER_8 + timedelta(minutes=5)) == []  # not before its next firing
    assert attempts == ["broken", "daily"]
    assert len(reports.run_pass(AFTER_8 + timedelta(days=1))) == 1  # the next day's firing
    assert attempts == ["broken", "daily", "broken", "daily"]
    errors = redis_client.hgetall(keys.BACKGROUND_ERRORS)
    assert errors == {b"report|shop|broken": b"2"}


def test_send_now_sends_the_period_as_of_now_in_the_reports_time_zone(
    site: Site, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # 05:46 in Paris on Dec 2, before the 08:00 schedule: yesterday is Dec 1, not the Nov 30
    # of the last firing.
    config = parse_report_config(
        {
            "funnels": FUNNELS,
            "reports": {
                "daily": {"site": "shop", "schedule": "0 8 * * *", "time_zone": "Europe/Paris"}
            },
        }
    )
    reports = ReportScheduler(redis_client, config, SchedulerSettings(tmp_path / "work"))
    early = datetime(2026, 12, 2, 4, 46, tzinfo=UTC)
    written, period = reports.send_now("daily", early)
    assert written.endswith("2026-12-01_2026-12-01_now")
    assert period == "covers 2026-12-01 (Europe/Paris)"
    sent = json.loads(next((tmp_path / "work").rglob("report.json")).read_text())
    assert sent["period"]["covers"] == "2026-12-01 (Europe/Paris)"


def test_a_report_without_a_time_zone_counts_days_in_its_sites(
    site: Site, redis_client: redis.Redis, tmp_path: Path
) -> None:
    set_time_zone(redis_client, "shop", "Europe/Paris")
    daily = {"site": "shop", "period": "today"}
    config = parse_report_config({"funnels": FUNNELS, "reports": {"daily": daily}})
    assert config.reports["daily"].time_zone is None
    reports = ReportScheduler(redis_client, config, SchedulerSettings(tmp_path / "work"))
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # Dec 2 in Paris
    assert reports.send_now("daily", late)[-1] == "covers 2026-12-02 (Europe/Paris)"
