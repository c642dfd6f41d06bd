"""`clicktrail funnel` (a page-path funnel, as a table or JSON) and `clicktrail report
abandonment` (the report's files, and their delivery)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from clicktrail.cli.errors import CommandError, Unavailable, warn
from clicktrail.cli.options import checked, days_options, iso_date, period, site_option, zone_option
from clicktrail.cli.parser import command
from clicktrail.wiring import report_config
from collector.days import FUNNEL_PERIOD_DAYS, PAGES_PERIOD_DAYS, day_names
from collector.settings import Settings
from collector.sites import Site, get_site
from heatmap.totals import load_pages
from reports.analyses.durations import format_duration, parse_duration_ms
from reports.analyses.funnel_request import (
    DEFAULT_WINDOW_MS,
    FunnelRequest,
    run_funnel,
)
from reports.analyses.funnel_result import FunnelResult, PageCount
from reports.analyses.steps import MAX_STEPS, MIN_STEPS, parse_step
from reports.delivery.dispatch import deliver
from reports.delivery.targets import DeliveryError, describe
from reports.scheduled.build import build_report
from reports.scheduled.config import ConfigError, NoFunnelError
from reports.scheduled.files import write_report
from reports.scheduled.periods import (
    DEFAULT_PERIOD,
    PERIOD_HELP,
    PERIODS,
    chosen_period,
    covers,
    report_period,
    today_in,
)
from reports.scheduled.suggestion import funnel_toml, suggest_funnel


def _step(raw: str) -> str:
    parse_step(raw)
    return raw


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    funnel = command(
        commands,
        "funnel",
        parents=[common],
        help="how many sessions went through a sequence of pages, and where the rest went",
    )
    site_option(funnel)
    funnel.add_argument(
        "--step",
        dest="steps",
        action="append",
        required=True,
        type=checked(_step),
        metavar="PATTERN",
        help="a step, in order (2 to 20): /cart, /product/* (glob), re:REGEX, event:NAME",
    )
    funnel.add_argument(
        "--window",
        type=checked(parse_duration_ms),
        default=DEFAULT_WINDOW_MS,
        metavar="DURATION",
        help="time allowed from step 1 to the last step: 30m, 1h (default), 2d",
    )
    funnel.add_argument(
        "--strict", action="store_true", help="any other page view between steps breaks the chain"
    )
    funnel.add_argument(
        "--unit", choices=("session", "visitor"), default="session", help="what is counted"
    )
    days_options(funnel, "the step-1 events", FUNNEL_PERIOD_DAYS)
    funnel.add_argument("--by", choices=("band", "source", "channel"), help="break the counts down")
    funnel.add_argument("--json", action="store_true", help="print JSON")
    funnel.set_defaults(run=cmd_funnel, with_redis=True)


def cmd_funnel(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    if not MIN_STEPS <= len(args.steps) <= MAX_STEPS:
        raise CommandError(f"--step: give {MIN_STEPS} to {MAX_STEPS} steps, not {len(args.steps)}")
    site = get_site(client, args.site)
    first, last = period(args.first, args.last, FUNNEL_PERIOD_DAYS)
    request = FunnelRequest(
        steps=args.steps,
        first=first,
        last=last,
        window_ms=args.window,
        strict=args.strict,
        unit=args.unit,
        breakdown=args.by,
        zone=args.tz or site.time_zone,
        templates=settings.page_templates,
        channel_rules=report_config(args.config).channel_rules if args.by == "channel" else (),
    )
    try:
        gap_ms, max_ms = settings.session_ms
        run = run_funnel(client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(run.result, indent=2))
    else:
        print(format_funnel(run.result))
    warn(run.result["warnings"])
    return 0


def format_funnel(result: FunnelResult) -> str:
    """The funnel as a plain-text table, with drop-off detail."""
    mode = "strict, " if result["strict"] else ""
    lines = [
        " -> ".join(row["pattern"] for row in result["steps"]),
        f"{result['unit']}s, window {format_duration(result['window_s'])}, {mode}"
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
            f"{_n(row.get('in_progress')):>8} {format_duration(row.get('median_s')):>8} "
            f"{format_duration(row.get('p90_s')):>8}"
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


def add_report_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    report = command(commands, "report", help="write or send a report")
    kinds = report.add_subparsers(dest="report_kind", required=True, metavar="KIND")
    abandonment = command(
        kinds,
        "abandonment",
        parents=[common],
        help="cart abandonment: funnel, change on the previous period, where people went",
    )
    site_option(abandonment)
    abandonment.add_argument(
        "--funnel",
        help="a [funnels.NAME] of clicktrail.toml (default: the only one configured)",
    )
    abandonment.add_argument(
        "--period",
        choices=tuple(PERIODS),
        metavar="PERIOD",
        help=f"{PERIOD_HELP}; in --tz (default: {DEFAULT_PERIOD})",
    )
    abandonment.add_argument(
        "--from", dest="first", type=iso_date, metavar="YYYY-MM-DD", help="first day, instead"
    )
    abandonment.add_argument(
        "--to",
        dest="last",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="last day, instead (--from alone: up to today; --to alone: that day)",
    )
    zone_option(abandonment)
    abandonment.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder to write the report in"
    )
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
    except NoFunnelError:
        raise Unavailable(_suggest(client, site)) from None
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
    zone = args.tz or site.time_zone
    first, last = _report_days(args, today_in(zone))
    print(f"covers {covers(first, last, zone)}")
    data = build_report(
        client, site, funnel, first, last, zone, settings.page_templates,
        session_ms=settings.session_ms, channel_rules=config.channel_rules,
    )  # fmt: skip
    files = write_report(data, args.out, settings.collector_url)
    print(f"wrote {files.html}, {files.json}, {files.csv} and {len(files.images)} images")
    print(files.headline)
    warn(data.data["current"]["warnings"])
    failed = 0
    for target in targets if args.send else []:
        try:
            deliver(target, files)
            print(f"sent to {describe(target)}")
        except DeliveryError as exc:
            failed += 1
            print(f"clicktrail: could not deliver: {exc}", file=sys.stderr)
    return 1 if failed else 0


def _suggest(client: Any, site: Site) -> str:
    """Print a funnel block from the site's most viewed pages; the one-line error to show."""
    pages = load_pages(client, site, day_names(*period(None, None, PAGES_PERIOD_DAYS)))
    suggested = suggest_funnel((page.template, page.views) for page in pages)
    wanted = "no funnel is configured: add a [funnels.NAME] table to clicktrail.toml"
    if suggested is None:
        return f"{wanted}; site {site.name!r} has too few page views to suggest its steps"
    print(funnel_toml(suggested), end="")
    return f"{wanted}, like the one printed, from the most viewed pages of site {site.name!r}"


def _report_days(args: argparse.Namespace, today: date) -> tuple[date, date]:
    """--period, or --from/--to: one or the other, counted in --tz."""
    if args.first or args.last:
        if args.period:
            raise CommandError("--period: give it or --from/--to, not both")
        try:
            return chosen_period(args.first, args.last, today)
        except ValueError as exc:
            raise CommandError(f"--from/--to: {exc}") from None
    return report_period(args.period or DEFAULT_PERIOD, today)
