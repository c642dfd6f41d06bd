"""`clicktrail channels`: visits by entry channel (search, social, e-mail, ads, AI assistants,
other sites...) with their bounce and conversion rates and sources; `--explain` says which rule
puts a landing URL and referrer in which channel (a tester for `[channels]` rules)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from clicktrail.cli.errors import CommandError, warn
from clicktrail.cli.journeys import visit_filter, visit_options
from clicktrail.cli.options import checked, site_option
from clicktrail.cli.parser import command
from clicktrail.wiring import report_config
from collector.schema import CLICK_IDS
from collector.settings import Settings
from collector.sites import get_site
from reports.analyses.channel_names import Channel
from reports.analyses.channel_report import ChannelsRequest, ChannelsResult, run_channels
from reports.analyses.channels import Touchpoint, explain
from reports.analyses.journey_request import JourneyError

MAX_URL_CHARS = 4096


def _landing_url(raw: str) -> str:
    if len(raw) > MAX_URL_CHARS:
        raise ValueError(f"a URL of at most {MAX_URL_CHARS} characters")
    return raw


def goal_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--goal",
        metavar="GOAL",
        help="a goal's name in [goals] of clicktrail.toml, or a page or event:NAME: conversions",
    )


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    channels = command(
        commands,
        "channels",
        parents=[common],
        help="visits by entry channel, with bounce and conversion rates and their sources",
    )
    site_option(channels)
    goal_option(channels)
    visit_options(channels)
    channels.add_argument(
        "--explain",
        type=checked(_landing_url),
        metavar="LANDING_URL",
        help="say which channel a visit landing on this URL gets, and by which rule",
    )
    channels.add_argument(
        "--referrer", default="", metavar="HOST", help="with --explain: the referrer's host"
    )
    channels.set_defaults(run=cmd_channels, with_redis=True)


def cmd_channels(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    site = get_site(client, args.site)
    config = report_config(args.config)
    rules = config.channel_rules
    if args.explain is not None:
        touch = landing_touch(args.explain, args.referrer)
        decision = explain(touch, site.origins, rules)
        print(f"{decision.channel.value} ({decision.channel.label}): {decision.reason}")
        return 0
    chosen = replace(visit_filter(args, settings, site.time_zone), channel_rules=rules)
    request = ChannelsRequest(visits=chosen, goal=args.goal, goals=config.goals)
    gap_ms, max_ms = settings.session_ms
    try:
        result = run_channels(client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except JourneyError as exc:
        raise CommandError(f"--{exc.parameter}: {exc.problem}") from None
    print(json.dumps(result, indent=2) if args.json else format_channels(result))
    warn(result["warnings"])
    return 0


def landing_touch(url: str, referrer: str) -> Touchpoint:
    """The touchpoint of a visit landing on `url` from `referrer`, as the snippet reports it."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    utm = {key[4:]: value for key, value in query.items() if key.startswith("utm_")}
    return Touchpoint(
        referrer=referrer.strip(),
        source=utm.get("source", ""),
        medium=utm.get("medium", ""),
        campaign=utm.get("campaign", ""),
        term=utm.get("term", ""),
        content=utm.get("content", ""),
        click_ids=frozenset(name for name in CLICK_IDS if name in query),
    )


def format_channels(result: ChannelsResult) -> str:
    goal = result["goal"]
    lines = [
        f"Channels of {result['site']}, {result['from']} to {result['to']} "
        f"({result['time_zone']}): {result['visits']:,} visits"
        + (
            f", {result['spam_visits']:,} from referrer spam left out"
            if result["spam_visits"]
            else ""
        ),
        "",
        f"{'channel':<18} {'visits':>9} {'share':>6} {'bounce':>7}"
        + (f" {'conv.':>7} {'rate':>6}" if goal else "")
        + "  top sources",
    ]
    for row in result["channels"]:
        share = f"{100 * row['visits'] / result['visits']:.1f}%" if result["visits"] else ""
        bounce = "" if row["bounce_rate"] is None else f"{100 * row['bounce_rate']:.0f}%"
        conv = ""
        if goal:
            rate = row["conversion_rate"]
            conv = (
                f" {row['conversions'] or 0:>7,} {'' if rate is None else f'{100 * rate:.1f}%':>6}"
            )
        top = ", ".join(f"{s['source']} ({s['visits']:,})" for s in row["sources"][:3])
        lines.append(
            f"{row['name']:<18} {row['visits']:>9,} {share:>6} {bounce:>7}{conv}  {_printable(top)}"
        )
    if not result["channels"]:
        lines.append("(no visits in this range)")
    lines.append("")
    lines.append("channels: " + ", ".join(c.value for c in Channel))
    return "\n".join(lines)


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)
