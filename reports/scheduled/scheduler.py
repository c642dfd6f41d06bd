"""Sends each configured report when its cron expression fires, once per period.

Every pass looks at the latest time each schedule fired (so a run missed while the scheduler was
down is caught up once, and older ones are not). A report's period is sent to each target at most
once: a sent marker per (report, period, target) records it, and a lease per (report, period)
lets only one of several schedulers build and send it at a time. A target that failed after its
retries is tried again on a later pass, the others are not sent again.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import FrameType

import redis
from cronsim import CronSim

from collector import keys
from collector.days import parse_zone
from collector.failures import REDIS_DOWN, count_failure
from collector.sites import SiteError, get_site
from reports.delivery.dispatch import deliver
from reports.delivery.targets import DeliveryError, ReportFiles, Target, describe
from reports.scheduled.build import build_report
from reports.scheduled.config import ReportConfig, ReportDef
from reports.scheduled.files import write_report
from reports.scheduled.periods import covers, report_period, today_in
from reports.sessions.layout import SESSION_GAP_MS, SESSION_MAX_MS

log = logging.getLogger(__name__)

LEASE_MS = 15 * 60_000  # longer than building and delivering a report with all its retries
SENT_TTL_S = 400 * 86_400  # longer than any period, so a period is never sent twice
PASS_EVERY_S = 30.0
FILES_ONLY = -1  # target index of a report that has no delivery targets: its files were written
MAX_PASSES = 5  # passes a failing target is tried in (each with its own retries), then given up

RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

Deliver = Callable[..., None]


@dataclass(frozen=True)
class SchedulerSettings:
    out_dir: Path  # report files go to out_dir/<report>/<from>_<to>/
    templates: tuple[str, ...] = ()
    session_ms: tuple[int, int] = (SESSION_GAP_MS, SESSION_MAX_MS)
    base_url: str | None = None  # dashboard links in the reports
    backoff_s: float = 2.0


class ReportScheduler:
    def __init__(
        self,
        client: redis.Redis,
        config: ReportConfig,
        settings: SchedulerSettings,
        send: Deliver = deliver,
    ) -> None:
        self.client = client
        self.config = config
        self.settings = settings
        self.send = send
        self.stopping = threading.Event()
        self._release = client.register_script(RELEASE_LUA)

    def stop_on_signals(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def run(self, once: bool = False) -> None:
        while not self.stopping.is_set():
            try:
                self.run_pass()
            except REDIS_DOWN as exc:
                log.warning("Redis unreachable, reports wait: %s", exc)
            except Exception:
                log.exception("report pass failed; the next one runs in %.0f s", PASS_EVERY_S)
                count_failure(self.client, "scheduler", "", "")
            if once:
                return
            self.stopping.wait(PASS_EVERY_S)

    def run_pass(self, now: datetime | None = None) -> list[str]:
        """Send what is due; returns '<report> <from>..<to> -> <target>' for each delivery."""
        done: list[str] = []
        for report in self.config.reports.values():
            try:
                done += self._report(report, now)
            except REDIS_DOWN:
                raise
            except (SiteError, ValueError) as exc:
                log.error("report %s cannot run: %s", report.name, exc)
            except Exception:
                # Not sent: retried when its schedule next fires, not on every pass till then.
                log.exception("report %s failed; the others go on", report.name)
                count_failure(self.client, "report", report.site, report.name)
                self._fail(report, now)
        return done

    def due_period(self, report: ReportDef, now: datetime | None = None) -> tuple[date, date]:
        """The period of the latest time the report's schedule fired, up to now."""
        return report_period(report.period, self._fired(report, now).date())

    def _fired(self, report: ReportDef, now: datetime | None) -> datetime:
        """The latest time the report's schedule fired, up to now."""
        zone = parse_zone(self.zone(report))
        now = (now or datetime.now(zone)).astimezone(zone)
        return next(CronSim(report.schedule, now + timedelta(seconds=1), reverse=True))

    def zone(self, report: ReportDef) -> str:
        """The report's time zone: its own, else its site's."""
        return report.time_zone or get_site(self.client, report.site).time_zone

    def _fail(self, report: ReportDef, now: datetime | None) -> None:
        fired = int(self._fired(report, now).timestamp())
        self.client.set(keys.report_failed(report.name, fired), "1", ex=SENT_TTL_S)

    def send_now(self, name: str, now: datetime | None = None) -> list[str]:
        """Write and deliver report `name` at once for its period as of now (the dashboard's "send
        now"), one line per delivery and one saying what it covers. No sent markers are read or
        set, so the scheduled send still happens."""
        report = self.config.reports.get(name)
        if report is None:
            raise ValueError(f"no report named {name!r} in clicktrail.toml")
        # Today in the report's zone, not the day its schedule last fired: at 05:46 in Paris
        # on Dec 2, before an 08:00 schedule, yesterday is Dec 1 (the last firing's was Nov 30).
        zone = self.zone(report)
        first, last = report_period(report.period, today_in(zone, now))
        files = self._write(report, first, last, f"{first.isoformat()}_{last.isoformat()}_now")
        done = []
        for target in report.deliver:
            try:
                self.send(target, files, backoff_s=self.settings.backoff_s, on_attempt=self._count)
                done.append(f"sent to {describe(target)}")
            except DeliveryError as exc:
                done.append(f"not delivered to {describe(target)}: {exc}")
        done = done or [f"written to {files.html.parent}"]
        return [*done, f"covers {covers(first, last, zone)}"]

    def _report(self, report: ReportDef, now: datetime | None) -> list[str]:
        fired = int(self._fired(report, now).timestamp())
        if self.client.exists(keys.report_failed(report.name, fired)):
            return []  # it failed at this firing: its next one tries again
        first, last = self.due_period(report, now)
        period = f"{first.isoformat()}_{last.isoformat()}"
        targets: list[tuple[int, Target | None]] = list(enumerate(report.deliver))
        targets = targets or [(FILES_ONLY, None)]
        waiting = [(i, t) for i, t in targets if not self._sent(report.name, period, i)]
        if not waiting:
            return []
        token = os.urandom(8).hex()
        lease = keys.report_lease(report.name, period)
        if not self.client.set(lease, token, nx=True, px=LEASE_MS):
            return []  # another scheduler is on it
        try:
            files = self._write(report, first, last, period)
            return [self._deliver(report, period, i, t, files) for i, t in waiting]
        finally:
            self._release(keys=[lease], args=[token])

    def _sent(self, report: str, period: str, target: int) -> bool:
        return bool(self.client.exists(keys.report_sent(report, period, target)))

    def _write(self, report: ReportDef, first: date, last: date, period: str) -> ReportFiles:
        site = get_site(self.client, report.site)
        data = build_report(
            self.client, site, self.config.funnel(report.funnel), first, last,
            self.zone(report), self.settings.templates, session_ms=self.settings.session_ms,
            channel_rules=self.config.channel_rules,
        )  # fmt: skip
        out = self.settings.out_dir / report.name / period
        files = write_report(data, out, self.settings.base_url)
        log.info("report %s for %s written to %s", report.name, period, out)
        return files

    def _deliver(
        self, report: ReportDef, period: str, index: int, target: Target | None, files: ReportFiles
    ) -> str:
        marker = keys.report_sent(report.name, period, index)
        if target is None:
            self.client.set(marker, "files", ex=SENT_TTL_S)
            return f"{report.name} {period} -> {files.html.parent}"
        try:
            self.send(target, files, backoff_s=self.settings.backoff_s, on_attempt=self._count)
        except DeliveryError as exc:
            failures = self.client.incr(f"{marker}:failures")
            self.client.expire(f"{marker}:failures", SENT_TTL_S)
            if failures >= MAX_PASSES:
                self.client.set(marker, f"gave up after {failures} passes", ex=SENT_TTL_S)
            log.error(
                "report %s for %s not delivered (pass %d of %d): %s",
                report.name, period, failures, MAX_PASSES, exc,
            )  # fmt: skip
            return f"{report.name} {period} -x {describe(target)}"
        self.client.set(marker, f"sent {int(time.time())}", ex=SENT_TTL_S)
        return f"{report.name} {period} -> {describe(target)}"

    def _count(self, kind: str, ok: bool, error: str) -> None:
        self.client.hincrby(keys.REPORT_DELIVERIES, f"{kind}|{'ok' if ok else 'failed'}", 1)
