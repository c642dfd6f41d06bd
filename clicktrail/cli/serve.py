"""`clicktrail serve`, `collector`, `dashboard`, `worker` and `scheduler`: the long-running
processes."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from clicktrail.cli.options import http_options, int_between, setting
from clicktrail.web.app import web_app
from clicktrail.web.http_protocol import deadline_protocol
from clicktrail.wiring import make_scheduler, make_worker
from clicktrail.worker import Worker
from collector import sites as site_store
from collector.connections import RedisTarget, resolve, sync_client
from collector.settings import Settings
from reports.scheduled.scheduler import ReportScheduler

log = logging.getLogger("clicktrail")


def add_server_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser("serve", parents=[common], help="run everything on one machine")
    http_options(serve)
    serve.set_defaults(run=cmd_serve, with_worker=True, with_dashboard=True)

    collector = commands.add_parser(
        "collector", parents=[common], help="run only the collector (production shape)"
    )
    http_options(collector)
    collector.set_defaults(run=cmd_serve, with_worker=False, with_dashboard=False)

    dashboard = commands.add_parser(
        "dashboard",
        parents=[common],
        help="run the collector with the dashboard and read API (production shape)",
    )
    http_options(dashboard)
    dashboard.set_defaults(run=cmd_serve, with_worker=False, with_dashboard=True)


def add_worker_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    worker = commands.add_parser(
        "worker", parents=[common], help="aggregate the event streams into heatmaps"
    )
    worker.add_argument(
        "--burst", action="store_true", help="process what is waiting, then exit (tests, cron)"
    )
    worker.add_argument(
        "--claim-idle-ms",
        type=setting("claim_idle_ms"),
        metavar="MS",
        help="take over entries left unacknowledged this long; "
        "env CLICKTRAIL_CLAIM_IDLE_MS (30000)",
    )
    worker.add_argument(
        "--batch",
        type=int_between(1, 10_000),
        default=256,
        metavar="N",
        help="stream entries read and committed at a time (256)",
    )
    worker.set_defaults(run=cmd_worker)


def add_scheduler_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    scheduler = commands.add_parser(
        "scheduler",
        parents=[common],
        help="send the reports of clicktrail.toml when their schedules fire",
    )
    scheduler.add_argument("--once", action="store_true", help="one pass, then exit (cron, tests)")
    scheduler.add_argument(
        "--out", type=Path, metavar="DIR", help="where report files are written (DATA_DIR/reports)"
    )
    scheduler.set_defaults(run=cmd_scheduler)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    target = resolve(settings, hold=True)
    try:
        app = web_app(settings, target.url, args.config, args.with_dashboard)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            loop="uvloop",
            http=deadline_protocol(settings.header_timeout_s, settings.body_timeout_s),
            access_log=False,  # access logs would hold raw IPs
            proxy_headers=False,  # X-Forwarded-For is read by us, from trusted proxies only
            server_header=False,
            log_level=settings.log_level,
            timeout_graceful_shutdown=10,
        )
        log.info(
            "clicktrail %s on http://%s:%d (Redis: %s)",
            "collector and dashboard" if args.with_dashboard else "collector",
            settings.host,
            settings.port,
            f"embedded, in {settings.data_dir}" if target.embedded else "REDIS_URL",
        )
        _hint_when_no_site(target)
        background: list[Worker | ReportScheduler] = []
        if args.with_worker:
            background.append(make_worker(settings, target.url))
            background.append(make_scheduler(settings, target.url, args.config))
        threads = [threading.Thread(target=job.run, name=type(job).__name__) for job in background]
        for thread in threads:
            thread.start()
        try:
            _Server(config).run()
        finally:
            for job in background:
                job.stopping.set()
            for thread in threads:
                thread.join()
    finally:
        target.close()
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    target = resolve(settings)
    try:
        worker = make_worker(settings, target.url, args.batch)
        worker.stop_on_signals()
        done = worker.run(burst=args.burst)
        log.info("worker stopped after %d stream entries", done)
    finally:
        target.close()
    return 0


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    target = resolve(settings)
    try:
        scheduler = make_scheduler(settings, target.url, args.config, args.out)
        names = ", ".join(scheduler.config.reports) or "none configured in clicktrail.toml"
        log.info("scheduler: reports %s", names)
        scheduler.stop_on_signals()
        scheduler.run(once=args.once)
    finally:
        target.close()
    return 0


def _hint_when_no_site(target: RedisTarget) -> None:
    client = sync_client(target.url)
    try:
        if not site_store.list_sites(client):
            log.info(
                "no site yet; in another terminal: "
                "clicktrail site add NAME --origin https://your.site"
            )
    finally:
        client.close()


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM after a graceful stop, which would skip our cleanup
    (stopping the embedded Redis); here the signal only starts the graceful stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle_exit)
        yield
