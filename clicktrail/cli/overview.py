"""`clicktrail overview`: the site at a glance, as a site owner opens it first: visitors, visits,
page views, bounce rate and visit duration against the previous period, the traffic over time,
and the top pages, channels, sources, devices, countries, custom events and goals."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from clicktrail.cli.channels import goal_option
from clicktrail.cli.errors import CommandError, warn
from clicktrail.cli.journeys import visit_filter, visit_options
from clicktrail.cli.options import int_between, site_option
from clicktrail.cli.parser import command
from clicktrail.wiring import report_config
from collector.days import OVERVIEW_PERIOD_DAYS
from collector.settings import Settings
from collector.sites import get_site
from reports.analyses.journey_request import JourneyError
from reports.analyses.overview_request import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    OverviewRequest,
    run_overview,
)

SPARK = " ▁▂▃▄▅▆▇█"


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    overview = command(
        commands,
        "overview",
        parents=[common],
        help="the site at a glance: visitors, visits, bounce rate, top pages, channels, events",
    )
    site_option(overview)
    goal_option(overview)
    overview.add_argument(
        "--limit",
        type=int_between(0, MAX_LIMIT),
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"rows per list, 0 for all (default {DEFAULT_LIMIT})",
    )
    visit_options(overview, OVERVIEW_PERIOD_DAYS)
    overview.set_defaults(run=cmd_overview, with_redis=True)


def cmd_overview(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    site = get_site(client, args.site)
    config = report_config(args.config)
    chosen = visit_filter(args, settings, site.time_zone, OVERVIEW_PERIOD_DAYS)
    chosen = replace(chosen, channel_rules=config.channel_rules)
    request = OverviewRequest(chosen, args.goal, config.goals, args.limit)
    gap_ms, max_ms = settings.session_ms
    try:
        result = run_overview(client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except JourneyError as exc:
        raise CommandError(f"--{exc.parameter}: {exc.problem}") from None
    print(json.dumps(result, indent=2) if args.json else format_overview(result))
    warn(result["warnings"])
    return 0


def format_overview(result: dict[str, Any]) -> str:
    before = result["previous"]
    lines = [
        f"Overview of {_text(result['site'])}, {result['from']} to {result['to']} "
        f"({result['time_zone']}), against {before['from']} to {before['to']}",
        "",
    ]
    cards = _CARDS if result["conversions"] is None else _CARDS + _GOAL_CARDS
    for label, key, shown in cards:
        now, then = result[key], before[key]
        lines.append(
            f"  {label:<32} {shown(now):>10}   before {shown(then):>10}{_change(now, then)}"
        )
    visits = [point["visits"] for point in result["series"]]
    lines += ["", f"  visits over time  {_spark(visits)}  (peak {max(visits, default=0):,})"]
    if result["spam_visits"]:
        lines.append(f"  {result['spam_visits']:,} visits from referrer spam left out")
    for title, rows in _lists(result):
        lines += ["", title]
        lines += [f"  {_text(name)[:48]:<48} {value:>20}" for name, value in rows] or ["  (none)"]
    return "\n".join(lines)


def _lists(result: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(name, figures)]) of every list, in the dashboard's order."""
    goal = result["conversions"] is not None
    out = [
        ("Top pages (visits / views)", [
            (r["page"], f"{r['visits']:,} / {r['pageviews']:,}") for r in result["pages"]
        ]),
        ("Entry pages (visits)", [(r["page"], f"{r['visits']:,}") for r in result["entry_pages"]]),
        ("Exit pages (exits, exit rate)", [
            (r["page"], f"{r['exits']:,} ({_percent(r['exit_rate'])})")
            for r in result["exit_pages"]
        ]),
        ("Channels (visits" + (" / conversions)" if goal else ")"), [
            (r["name"], f"{r['visits']:,}" + (f" / {r['conversions']:,}" if goal else ""))
            for r in result["channels"]
        ]),
    ]  # fmt: skip
    for key, field, title in _SIMPLE_LISTS:
        out.append((f"{title} (visits)", [(r[field], f"{r['visits']:,}") for r in result[key]]))
    out.append(
        (
            "Custom events (visits / count, conversion rate)",
            [
                (r["name"], f"{r['visits']:,} / {r['count']:,} ({_percent(r['conversion_rate'])})")
                for r in result["events"]
            ],
        )
    )
    for g in result.get("goals", []):
        rows = [(r["channel"], f"{r['conversions']:,} of {r['visits']:,}") for r in g["channels"]]
        title = f"Goal {g['name']} ({g['pattern']}): {g['conversions']:,} conversions, by channel"
        out.append((title, rows))
    return out


_SIMPLE_LISTS = (
    ("sources", "source", "Sources"),
    ("campaigns", "campaign", "UTM campaigns"),
    ("terms", "term", "UTM terms"),
    ("contents", "content", "UTM contents"),
    ("devices", "band", "Devices"),
    ("browsers", "browser", "Browsers"),
    ("os", "os", "Operating systems"),
    ("countries", "country", "Countries"),
    ("hostnames", "hostname", "Hostnames"),
)


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _decimal(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _duration(value: float | None) -> str:
    if value is None:
        return "—"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _change(now: float | None, before: float | None) -> str:
    if now is None or not before:
        return ""
    return f"  ({100 * (now - before) / before:+.0f}%)"


def _spark(values: list[int]) -> str:
    top = max(values, default=0)
    if not top:
        return "(no visits)"
    return "".join(SPARK[round(v / top * (len(SPARK) - 1))] for v in values[-60:])


def _text(value: str) -> str:
    """Strangers' strings printed on a terminal: no control characters."""
    return "".join(c if c.isprintable() else "?" for c in value)


_CARDS: list[tuple[str, str, Any]] = [
    ("unique visitors per day, summed", "visitors", _count),
    ("visits", "visits", _count),
    ("page views", "pageviews", _count),
    ("pages per visit", "pages_per_visit", _decimal),
    ("bounce rate", "bounce_rate", _percent),
    ("median visit duration", "median_duration_s", _duration),
]
_GOAL_CARDS: list[tuple[str, str, Any]] = [
    ("conversions", "conversions", _count),
    ("conversion rate", "conversion_rate", _percent),
]
