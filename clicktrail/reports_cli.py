"""`clicktrail funnel` (a page-path funnel, as a table or JSON) and `clicktrail report
abandonment` (the report's files, and their delivery)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from clicktrail.heatmap_cli import CommandError, iso_date
from collector.connections import resolve, sync_client
from collector.settings import Settings, config_file
from collector.sites import get_site
from reports.analyses.funnel_request import (
    DEFAULT_WINDOW_MS,
    FunnelRequest,
    parse_duration_ms,
    parse_zone,
    run_funnel,
)
from reports.analyses.funnel_result import FunnelResult, PageCount
from reports.analyses.steps import MAX_STEPS, MIN_STEPS, parse_step
from reports.delivery.dispatch import deliver
from reports.delivery.targets import DeliveryError, describe
from reports.scheduled.build import build_report, report_period
from reports.scheduled.config import PERIOD_DAYS, ConfigError, ReportConfig, load_report_config
from reports.scheduled.files import write_report
from reports.scheduled.scheduler import ReportScheduler, SchedulerSettings

DEFAULT_DAYS = 7
log = logging.getLogger(__name__)


def _checked(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def check(raw: str) -> Any:
        try:
            return parse(raw)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return check


def _step(raw: str) -> str:
    parse_step(raw)
    return raw


def _zone_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tz", type=_checked(lambda z: parse_zone(z).key), default="UTC", help="days' time zone"
    )


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    funnel = commands.add_parser(
        "funnel",
        parents=[common],
        help="how many sessions went through a sequence of pages, and where the rest went",
    )
    funnel.add_argument("--site", required=True, help="the site's name")
    funnel.add_argument(
        "--step",
        dest="steps",
        action="append",
        required=True,
        type=_checked(_step),
        metavar="PATTERN",
        help="a step, in order (2 to 20): /cart, /product/* (glob), re:REGEX, event:NAME",
    )
    funnel.add_argument(
        "--window",
        type=_checked(parse_duration_ms),
        default=DEFAULT_WINDOW_MS,
        metavar="DURATION",
        help="time allowed from step 1 to the last step: 30m, 1h (default), 2d",
    )
    funnel.add_argument(
        "--strict", action="store_true", help="any other page view between steps breaks the chain"
    )
    funnel.add_argument("--unit", choices=("session", "visitor"), default="session")
    funnel.add_argument("--from", dest="first", type=iso_date, metavar="YYYY-MM-DD")
    funnel.add_argument(
        "--to",
        dest="last",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help=f"days of the step-1 events; default the last {DEFAULT_DAYS} days up to today",
    )
    _zone_option(funnel)
    funnel.add_argument("--by", choices=("band", "source"), help="break the counts down")
    funnel.add_argument("--json", action="store_true", help="print JSON")
    funnel.set_defaults(run=cmd_funnel, with_redis=True)


def period(first: date | None, last: date | None, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    last = last or datetime.now(UTC).date()
    return first or last - timedelta(days=days - 1), last


def cmd_funnel(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    if not MIN_STEPS <= len(args.steps) <= MAX_STEPS:
        raise CommandError(f"--step: give {MIN_STEPS} to {MAX_STEPS} steps, not {len(args.steps)}")
    site = get_site(client, args.site)
    first, last = period(args.first, args.last)
    request = FunnelRequest(
        steps=args.steps,
        first=first,
        last=last,
        window_ms=args.window,
        strict=args.strict,
        unit=args.unit,
        breakdown=args.by,
        zone=args.tz,
        templates=settings.page_templates,
    )
    try:
        gap_ms, max_ms = session_ms(settings)
        run = run_funnel(client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(run.result, indent=2))
    else:
        print(format_funnel(run.result))
    return 0


def format_funnel(result: FunnelResult) -> str:
    """The funnel as a plain-text table, with drop-off detail."""
    mode = "strict, " if result["strict"] else ""
    lines = [
        " -> ".join(row["pattern"] for row in result["steps"]),
        f"{result['unit']}s, window {_duration(result['window_s'])}, {mode}"
        f"{result['from']} to {result['to']} ({result['time_zone']})",
        "",
        f"{'#':>2} {'step':<28} {'entered':>9} {'next':>9} {'rate':>7} {'dropped':>9} "
        f"{'waiting':>8} {'median':>8} {'p90':>8}",
    ]
    for row in result["steps"]:
        step_rate = row.get("conversion_rate")
        shown = f"{100 * step_rate:.1f}%" if step_rate is not None else ""
        lines.append(
            f"{row['step']:>2} {row['pattern'][:28]:<28} {row['entered']:>9,} "
            f"{_n(row.get('converted')):>9} {shown:>7} {_n(row.get('dropped')):>9} "
            f"{_n(row.get('in_progress')):>8} {_duration(row.get('median_s')):>8} "
            f"{_duration(row.get('p90_s')):>8}"
        )
    overall = result["overall"]
    share = (
        f" ({100 * overall['conversion_rate']:.1f}%)"
        if overall["conversion_rate"] is not None
        else ""
    )
    lines += [
        "",
        f"{overall['converted']:,} of {overall['entered']:,} converted{share}; "
        f"{overall['abandoned']:,} abandoned; {overall['in_progress']:,} still in their window",
    ]
    for row in result["steps"][:-1]:
        if row["dropped"]:
            lines.append(f"dropped after {row['pattern']} ({row['dropped']:,}):")
            lines.append("  next page: " + _pages(row["next_pages"]))
            lines.append("  exit page: " + _pages(row["exit_pages"]))
    if "breakdown" in result:
        lines += ["", f"by {result['breakdown']['by']}:"]
        for group in result["breakdown"]["groups"]:
            rate = group["conversion_rate"]
            lines.append(
                f"  {group['group'][:30]:<30} {group['entered']:>9,} entered "
                f"{group['converted']:>8,} converted "
                f"{'' if rate is None else f'{100 * rate:.1f}%':>7}  steps {group['steps']}"
            )
    return "\n".join(lines)


def _n(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _pages(pages: list[PageCount], limit: int = 5) -> str:
    return ", ".join(f"{p['page']} ({p['count']:,})" for p in pages[:limit])


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m" if seconds % 60 == 0 else f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h".replace(".0h", "h")


def add_report_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    report = commands.add_parser("report", help="write or send a report")
    kinds = report.add_subparsers(dest="report_kind", required=True, metavar="KIND")
    abandonment = kinds.add_parser(
        "abandonment",
        parents=[common],
        help="cart abandonment: funnel, change on the previous period, where people went",
    )
    abandonment.add_argument("--site", required=True, help="the site's name")
    abandonment.add_argument(
        "--funnel", help="a [funnels.NAME] of clicktrail.toml; default: cart, or the shop funnel"
    )
    abandonment.add_argument(
        "--period", choices=tuple(PERIOD_DAYS), default="yesterday", help="days ending yesterday"
    )
    _zone_option(abandonment)
    abandonment.add_argument("--out", type=Path, required=True, metavar="DIR")
    abandonment.add_argument(
        "--send",
        action="store_true",
        help="also deliver it to the targets of the configured reports of this site and funnel",
    )
    abandonment.set_defaults(run=cmd_report, with_redis=True)


def cmd_report(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    config = report_config(args.config)
    site = get_site(client, args.site)
    try:
        funnel = config.funnel(args.funnel)
    except ConfigError as exc:
        raise CommandError(f"--funnel: {exc}") from None
    targets = [
        target
        for report in config.reports.values()
        if report.site == site.name and report.funnel == funnel.name
        for target in report.deliver
    ]
    if args.send and not targets:
        raise CommandError(
            f"--send: no [reports.NAME] in clicktrail.toml delivers site {site.name!r} "
            f"funnel {funnel.name!r}"
        )
    first, last = report_period(args.period, datetime.now(parse_zone(args.tz)).date())
    data = build_report(
        client, site, funnel, first, last, args.tz, settings.page_templates,
        session_ms=session_ms(settings),
    )  # fmt: skip
    files = write_report(data, args.out, settings.collector_url)
    print(f"wrote {files.html}, {files.json}, {files.csv} and {len(files.images)} images")
    print(files.headline)
    failed = 0
    for target in targets if args.send else []:
        try:
            deliver(target, files)
            print(f"sent to {describe(target)}")
        except DeliveryError as exc:
            failed += 1
            print(f"clicktrail: could not deliver: {exc}", file=sys.stderr)
    return 1 if failed else 0


def report_config(config: Path | None) -> ReportConfig:
    """The funnels and reports of the settings file (clicktrail.toml)."""
    try:
        return load_report_config(config_file(config))
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def session_ms(settings: Settings) -> tuple[int, int]:
    return settings.session_gap_min * 60_000, settings.session_max_h * 3_600_000


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


def make_scheduler(
    settings: Settings, url: str, config: Path | None, out: Path | None = None
) -> ReportScheduler:
    scheduler_settings = SchedulerSettings(
        out_dir=out or settings.data_dir / "reports",
        templates=settings.page_templates,
        session_ms=session_ms(settings),
        base_url=settings.collector_url,
    )
    return ReportScheduler(sync_client(url), report_config(config), scheduler_settings)


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
