"""`clicktrail`: the one command that composes the parts."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import redis
import uvicorn

from clicktrail import heatmap_cli, reports_cli, screenshot_cli, token_cli
from clicktrail.background import free_port
from clicktrail.demo import DemoOptions, run_demo
from clicktrail.http_protocol import deadline_protocol
from clicktrail.web import web_app
from clicktrail.worker import Processor, Worker
from collector import sites as site_store
from collector.cardinality import Folder, Limits
from collector.connections import RedisTarget, resolve, sync_client
from collector.pages import PageTemplates
from collector.settings import Settings, SettingsError, load_settings, parse_value
from collector.snippet import script_tag
from heatmap.aggregate import Aggregator
from reports.scheduled.scheduler import ReportScheduler
from reports.sessions.builder import SessionBuilder

log = logging.getLogger("clicktrail")


def _setting(name: str) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            return parse_value(name, raw, f"--{name.replace('_', '-')}")
        except SettingsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, got {value}")
        return value

    return parse


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("where the data is")
    group.add_argument(
        "--redis-url",
        type=_setting("redis_url"),
        metavar="URL",
        help="Redis to use; env REDIS_URL. Unset: embedded Redis in --data-dir",
    )
    group.add_argument(
        "--data-dir",
        type=_setting("data_dir"),
        metavar="DIR",
        help="embedded Redis folder; env CLICKTRAIL_DATA (./clicktrail-data)",
    )
    group.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="settings file; env CLICKTRAIL_CONFIG (./clicktrail.toml)",
    )
    return common


def _http(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", type=_setting("host"), help="address to bind; env CLICKTRAIL_HOST (127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=_setting("port"), help="port to bind; env CLICKTRAIL_PORT (8000)"
    )


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="clicktrail", description="Self-hosted clickstream and heatmap tracker."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run everything on one machine")
    _http(serve)
    serve.set_defaults(run=cmd_serve, with_worker=True, with_dashboard=True)

    collector = commands.add_parser(
        "collector", parents=[common], help="run only the collector (production shape)"
    )
    _http(collector)
    collector.set_defaults(run=cmd_serve, with_worker=False, with_dashboard=False)

    dashboard = commands.add_parser(
        "dashboard",
        parents=[common],
        help="run the collector with the dashboard and read API (production shape)",
    )
    _http(dashboard)
    dashboard.set_defaults(run=cmd_serve, with_worker=False, with_dashboard=True)

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="see it work: a demo shop, its visitors, heatmaps, the cart funnel and a report",
    )
    _http(demo)
    demo.add_argument(
        "--visitors",
        type=_int_between(1, 5000),
        default=40,
        metavar="N",
        help="visitors driven through the shop now, in headless Chromium when it is there "
        "(40; about 1.3 s each on 2 cores); a synthetic history of 1,260 past visits comes too",
    )
    demo.add_argument(
        "--out", type=Path, default=Path("clicktrail-demo"), metavar="DIR",
        help="where the heatmap PNGs and the report go (./clicktrail-demo)",
    )  # fmt: skip
    demo.add_argument(
        "--shop-port", type=_int_between(1, 65535), metavar="PORT",
        help="port of the demo shop (default: a free one)",
    )  # fmt: skip
    demo.add_argument(
        "--no-history", action="store_true", help="skip the synthetic week of past visits"
    )
    demo.add_argument(
        "--no-browser",
        action="store_true",
        help="post synthetic events instead of driving headless Chromium",
    )
    demo.add_argument(
        "--exit", action="store_true", help="stop once the outputs are written (CI, scripts)"
    )
    demo.set_defaults(run=cmd_demo)

    worker = commands.add_parser(
        "worker", parents=[common], help="aggregate the event streams into heatmaps"
    )
    worker.add_argument(
        "--burst", action="store_true", help="process what is waiting, then exit (tests, cron)"
    )
    worker.add_argument(
        "--claim-idle-ms",
        type=_setting("claim_idle_ms"),
        metavar="MS",
        help="take over entries left unacknowledged this long; "
        "env CLICKTRAIL_CLAIM_IDLE_MS (30000)",
    )
    worker.add_argument(
        "--batch",
        type=_int_between(1, 10_000),
        default=256,
        metavar="N",
        help="stream entries read and committed at a time (256)",
    )
    worker.set_defaults(run=cmd_worker)

    heatmap_cli.add_parsers(commands, common)
    reports_cli.add_parsers(commands, common)
    reports_cli.add_report_parsers(commands, common)
    reports_cli.add_scheduler_parser(commands, common)
    token_cli.add_parsers(commands, common)
    screenshot_cli.add_parsers(commands, common)

    site = commands.add_parser("site", help="register the sites to track")
    site_commands = site.add_subparsers(dest="site_command", required=True, metavar="ACTION")
    add = site_commands.add_parser("add", parents=[common], help="register a site")
    add.add_argument("name", help="short name: lowercase letters, digits and '-'")
    add.add_argument(
        "--origin",
        action="append",
        required=True,
        metavar="URL",
        help="origin allowed to send events, e.g. https://shop.example (repeatable)",
    )
    add.add_argument(
        "--shards",
        type=_setting("shards"),
        help="stream shards for this site; env CLICKTRAIL_SHARDS (1)",
    )
    add.add_argument(
        "--public-url",
        type=_setting("public_url"),
        metavar="URL",
        help="collector URL for the script tag; env CLICKTRAIL_PUBLIC_URL",
    )
    add.set_defaults(run=cmd_site_add)
    listing = site_commands.add_parser("list", parents=[common], help="list sites")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=cmd_site_list)
    remove = site_commands.add_parser("remove", parents=[common], help="forget a site")
    remove.add_argument("name")
    remove.set_defaults(run=cmd_site_remove)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    settings = load_settings(config_path=args.config)
    names = ("redis_url", "data_dir", "host", "port", "shards", "public_url", "claim_idle_ms")
    return settings.with_overrides(**{n: getattr(args, n, None) for n in names})


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
            background.append(reports_cli.make_scheduler(settings, target.url, args.config))
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


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    options = DemoOptions(
        visitors=args.visitors,
        out=args.out,
        shop_port=args.shop_port or free_port(),
        history=not args.no_history,
        browser=not args.no_browser,
        keep_serving=not args.exit,
    )

    def jobs(url: str) -> list[Worker | ReportScheduler]:
        return [make_worker(settings, url), reports_cli.make_scheduler(settings, url, args.config)]

    return run_demo(settings, options, args.config, jobs)


def make_worker(settings: Settings, url: str, batch: int = 256) -> Worker:
    client = sync_client(url)
    # One folder for both consumer groups: they fold a value alike, and ask Redis once.
    folder = Folder(client, limits(settings))
    processors: list[Processor] = [
        Aggregator(PageTemplates(settings.page_templates), settings.retention_days, folder),
        session_builder(client, settings, folder),
    ]
    return Worker(client, processors, claim_idle_ms=settings.claim_idle_ms, batch_entries=batch)


def session_builder(
    client: redis.Redis, settings: Settings, folder: Folder | None = None
) -> SessionBuilder:
    return SessionBuilder(
        client,
        settings.retention_days,
        gap_ms=settings.session_gap_min * 60_000,
        max_ms=settings.session_max_h * 3_600_000,
        max_rows=settings.session_max_rows,
        folder=folder,
        templates=PageTemplates(settings.page_templates),
    )


def limits(settings: Settings) -> Limits:
    return Limits(
        paths=settings.max_paths_per_day,
        templates=settings.max_templates_per_day,
        selectors=settings.max_selectors_per_day,
        events=settings.max_event_names_per_day,
        sources=settings.max_sources_per_day,
    )


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


def _with_redis(settings: Settings, action: Callable[[Any], int]) -> int:
    target: RedisTarget = resolve(settings)
    client = sync_client(target.url)
    try:
        return action(client)
    finally:
        client.close()
        target.close()


def cmd_site_add(args: argparse.Namespace, settings: Settings) -> int:
    site = site_store.new_site(args.name, args.origin, settings.shards)

    def add(client: Any) -> int:
        site_store.add_site(client, site)
        print(f"Site {site.name} added. Allowed origins: {', '.join(site.origins)}")
        print(f"Public key: {site.key}")
        print("Paste this into every page, before </head>:")
        print(script_tag(settings.collector_url, site.key))
        return 0

    return _with_redis(settings, add)


def cmd_site_list(args: argparse.Namespace, settings: Settings) -> int:
    def show(client: Any) -> int:
        found = site_store.list_sites(client)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "name": s.name,
                            "key": s.key,
                            "origins": list(s.origins),
                            "shards": s.shards,
                        }
                        for s in found
                    ],
                    indent=2,
                )
            )
        elif not found:
            print("No sites yet: clicktrail site add NAME --origin https://your.site")
        for s in found if not args.json else []:
            print(f"{s.name}\t{s.key}\t{' '.join(s.origins)}")
        return 0

    return _with_redis(settings, show)


def cmd_site_remove(args: argparse.Namespace, settings: Settings) -> int:
    def remove(client: Any) -> int:
        site = site_store.remove_site(client, args.name)
        print(f"Site {site.name} removed; its key {site.key} no longer works.")
        return 0

    return _with_redis(settings, remove)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
    except SettingsError as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if getattr(args, "with_redis", False):
            return _with_redis(settings, lambda client: int(args.run(args, settings, client)))
        return int(args.run(args, settings))
    except (site_store.SiteError, heatmap_cli.CommandError) as exc:
        print(f"clicktrail: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
