"""`clicktrail serve`, `collector`, `dashboard`, `worker` and `scheduler`: the long-running
processes."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from clicktrail.cli.errors import Unavailable
from clicktrail.cli.options import http_options, int_between, setting
from clicktrail.cli.parser import command
from clicktrail.web.app import web_app
from clicktrail.web.http_protocol import deadline_protocol
from clicktrail.wiring import make_picture_taker, make_scheduler, make_worker, picture_rules
from clicktrail.worker import Worker
from collector import sites as site_store
from collector.connections import RedisTarget, close_client, resolve, sync_client
from collector.settings import Settings
from heatmap.picture_taker import PictureTaker
from reports.scheduled.scheduler import ReportScheduler

log = logging.getLogger("clicktrail")


def add_server_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    serve = command(commands, "serve", parents=[common], help="run everything on one machine")
    http_options(serve)
    serve.set_defaults(
        run=cmd_serve, with_worker=True, with_dashboard=True, creates_data=True, long_running=True
    )

    collector = command(
        commands, "collector", parents=[common], help="run only the collector (production shape)"
    )
    http_options(collector)
    collector.set_defaults(
        run=cmd_serve, with_worker=False, with_dashboard=False, long_running=True
    )

    dashboard = command(
        commands,
        "dashboard",
        parents=[common],
        help="run the collector with the dashboard and read API (production shape)",
    )
    http_options(dashboard)
    dashboard.set_defaults(run=cmd_serve, with_worker=False, with_dashboard=True, long_running=True)


def add_worker_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    worker = command(
        commands, "worker", parents=[common], help="aggregate the event streams into heatmaps"
    )
    worker.add_argument(
        "--burst", action="store_true", help="process what is waiting, then exit (tests, cron)"
    )
    worker.add_argument(
        "--claim-idle-ms",
        type=setting("claim_idle_ms"),
        metavar="MS",
        help="take over entries left unacknowledged this long; "
        "env CLICKTRAIL_CLAIM_IDLE_MS (default: 30000)",
    )
    worker.add_argument(
        "--batch",
        type=int_between(1, 10_000),
        default=256,
        metavar="N",
        help="stream entries read and committed at a time",
    )
    worker.set_defaults(run=cmd_worker, long_running=True)


def add_scheduler_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    scheduler = command(
        commands,
        "scheduler",
        parents=[common],
        help="send the reports of clicktrail.toml when their schedules fire",
    )
    scheduler.add_argument("--once", action="store_true", help="one pass, then exit (cron, tests)")
    scheduler.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where report files are written (default: DATA_DIR/reports)",
    )
    scheduler.set_defaults(run=cmd_scheduler, long_running=True)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    target = resolve(settings, hold=True)
    try:
        no_site = not _has_sites(target)  # reaches Redis before anything says it serves
        listener = bind(settings.host, settings.port)
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
        if no_site:
            log.info("no site yet; in another terminal: clicktrail site add NAME --origin URL")
        background: list[Worker | ReportScheduler | PictureTaker] = []
        if args.with_worker:
            background.append(make_worker(settings, target.url))
            background.append(make_scheduler(settings, target.url, args.config))
            background += _picture_taker(settings, target.url)
        threads = [threading.Thread(target=job.run, name=type(job).__name__) for job in background]
        for thread in threads:
            thread.start()
        try:
            _Server(config).run(sockets=[listener])
        finally:
            for job in background:
                job.stopping.set()
            for thread in threads:
                thread.join()
    finally:
        target.close()
    return 0


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything says it serves: a port in use is then one
    clear error instead of a line that promises a server and a traceback after it."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise Unavailable(
            f"cannot listen on {host}:{port}: {exc.strerror}; is another clicktrail there? "
            "choose another with --port"
        ) from None
    return listener


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    target = resolve(settings)
    try:
        worker = make_worker(settings, target.url, args.batch)
        worker.stop_on_signals()
        takers = [] if args.burst else _picture_taker(settings, target.url)
        threads = [threading.Thread(target=t.run, name="PictureTaker") for t in takers]
        for thread in threads:
            thread.start()
        try:
            done = worker.run(burst=args.burst)
        finally:
            for taker in takers:
                taker.stopping.set()
            for thread in threads:
                thread.join()
        log.info("worker stopped after %d stream entries", done)
    finally:
        target.close()
    return 0


def _picture_taker(settings: Settings, url: str) -> list[PictureTaker]:
    taker = make_picture_taker(settings, url)
    if taker is None:
        log.info("page pictures: %s", picture_rules(settings).off)
        return []
    log.info("page pictures: taken in the background (auto_pictures)")
    return [taker]


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


def _has_sites(target: RedisTarget) -> bool:
    client = sync_client(target.url)
    try:
        return bool(site_store.list_sites(client))
    finally:
        close_client(client)


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM after a graceful stop, which would skip our cleanup
    (stopping the embedded Redis); here the signal only starts the graceful stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle_exit)
        yield
