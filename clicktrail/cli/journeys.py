"""`clicktrail journeys` (which way visits go, step by step) and `clicktrail paths` (how they get
from A to B), as readable tables or the JSON of the API."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from PIL import Image

from clicktrail.cli.errors import CommandError, warn
from clicktrail.cli.options import checked, days_options, int_between, period, site_option
from clicktrail.cli.parser import command
from clicktrail.wiring import report_config
from collector.days import JOURNEY_PERIOD_DAYS
from collector.pages import BANDS
from collector.settings import Settings
from collector.sites import get_site
from reports.analyses.durations import format_duration
from reports.analyses.journey_request import (
    JourneyError,
    JourneyRequest,
    PathsRequest,
    VisitFilter,
    run_journeys,
    run_paths,
)
from reports.analyses.journey_result import ColumnJSON, JourneyResult, PathsResult
from reports.analyses.journeys import MAX_ANCHORED_STEPS, MAX_ROWS, MIN_ROWS, MIN_STEPS
from reports.analyses.steps import parse_step
from reports.analyses.visit_channels import CHANNEL_SLUGS
from reports.charts.canvas import MIN_WIDTH_PX, png_bytes
from reports.charts.journey_map import journey_map_chart
from reports.charts.paths_chart import paths_chart

PATTERN_HELP = "/cart, /product/:id, /product/* (glob), re:REGEX (RE2)"
JOURNEY_WIDTH_PX, PATHS_WIDTH_PX, MAX_WIDTH_PX = 1280, 960, 4000
ENDS_BY_DIRECTION = {"open": "left", "start": "left", "end": "entered", "both": "reached"}


def _pattern(raw: str) -> str:
    parse_step(raw)
    return raw


def _true_or_false(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError(f"expected true or false, got {raw!r}")
    return raw == "true"


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    journeys = command(
        commands,
        "journeys",
        parents=[common],
        help="which way visits go through the site, step by step, from or to a page",
    )
    site_option(journeys)
    pattern = checked(_pattern)
    journeys.add_argument("--start", type=pattern, metavar="PAGE", help=f"from A: {PATTERN_HELP}")
    journeys.add_argument(
        "--end", type=pattern, metavar="PAGE", help="to B (backward from its last occurrence)"
    )
    journeys.add_argument(
        "--steps",
        type=int_between(MIN_STEPS, MAX_ANCHORED_STEPS),
        default=5,
        help="columns: 2 to 10, up to 20 with --start or --end",
    )
    journeys.add_argument(
        "--rows",
        type=int_between(MIN_ROWS, MAX_ROWS),
        default=5,
        help="pages per column, then Other",
    )
    journeys.add_argument(
        "--goal",
        type=pattern,
        metavar="PAGE",
        help="a page or event:NAME that counts as converting",
    )
    journeys.add_argument(
        "--converted",
        type=checked(_true_or_false),
        metavar="true|false",
        help="only visits that reached the goal, or only those that did not",
    )
    journeys.add_argument("--events", action="store_true", help="custom events are steps too")
    journeys.add_argument(
        "--exclude",
        action="append",
        default=[],
        type=pattern,
        metavar="PAGE",
        help="leave these pages out (repeatable)",
    )
    journeys.add_argument(
        "--merge-templates",
        action="store_true",
        help="consecutive pages of one template are one step (/product/1 then /product/2)",
    )
    visit_options(journeys)
    _picture_options(journeys, JOURNEY_WIDTH_PX, "the journey map")
    journeys.set_defaults(run=cmd_journeys, with_redis=True)

    paths = command(
        commands,
        "paths",
        parents=[common],
        help="how many pages and how long visits take from one page to another, and which way",
    )
    site_option(paths)
    paths.add_argument("--start", type=pattern, required=True, metavar="PAGE", help="A")
    paths.add_argument("--end", type=pattern, required=True, metavar="PAGE", help="B")
    visit_options(paths)
    _picture_options(paths, PATHS_WIDTH_PX, "the steps between, the time and the detours")
    paths.set_defaults(run=cmd_paths, with_redis=True)


def visit_options(parser: argparse.ArgumentParser, default_days: int = JOURNEY_PERIOD_DAYS) -> None:
    days_options(parser, "the visits' starts", default_days)
    parser.add_argument("--band", choices=BANDS, help="only this device band (default: all)")
    parser.add_argument(
        "--source", metavar="SOURCE", help="only visits from this entry source: (direct), a host"
    )
    parser.add_argument(
        "--channel",
        choices=CHANNEL_SLUGS,
        metavar="CHANNEL",
        help=f"only visits of this channel: {', '.join(CHANNEL_SLUGS)}",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def _png_file(raw: str) -> Path:
    path = Path(raw)
    if path.suffix.lower() != ".png":
        raise ValueError(f"expected a .png file, got {raw!r}")
    if not path.parent.is_dir():
        raise ValueError(f"no folder {path.parent} to write {path.name} in")
    return path


def _picture_options(parser: argparse.ArgumentParser, width: int, what: str) -> None:
    parser.add_argument(
        "-o", "--output", type=checked(_png_file), metavar="FILE.png", help=f"draw {what} as a PNG"
    )
    parser.add_argument(
        "--width",
        type=int_between(MIN_WIDTH_PX, MAX_WIDTH_PX),
        default=width,
        metavar="PX",
        help="width of the PNG",
    )


def _write_png(image: Image.Image, path: Path, what: str) -> None:
    path.write_bytes(png_bytes(image))
    print(f"wrote {path}: {what}", file=sys.stderr)


def visit_filter(
    args: argparse.Namespace,
    settings: Settings,
    time_zone: str,
    default_days: int = JOURNEY_PERIOD_DAYS,
) -> VisitFilter:
    first, last = period(args.first, args.last, default_days)
    return VisitFilter(
        first=first,
        last=last,
        zone=args.tz or time_zone,
        band=args.band,
        source=args.source,
        templates=settings.page_templates,
        channel=args.channel,
        channel_rules=report_config(args.config).channel_rules if args.channel else (),
    )


def cmd_journeys(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    site = get_site(client, args.site)
    request = JourneyRequest(
        visits=visit_filter(args, settings, site.time_zone),
        start=args.start,
        end=args.end,
        steps=args.steps,
        rows=args.rows,
        goal=args.goal,
        converted=args.converted,
        events=args.events,
        exclude=tuple(args.exclude),
        merge_templates=args.merge_templates,
    )
    gap_ms, max_ms = settings.session_ms
    try:
        result = run_journeys(client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except JourneyError as exc:
        raise CommandError(f"--{exc.parameter.replace('_', '-')}: {exc.problem}") from None
    if args.output:
        _write_png(
            journey_map_chart(result, args.width), args.output, f"{result['visits']:,} visits"
        )
    if args.json or not args.output:
        print(json.dumps(result, indent=2) if args.json else format_journeys(result))
    warn(result["warnings"])
    return 0


def cmd_paths(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    site = get_site(client, args.site)
    request = PathsRequest(visit_filter(args, settings, site.time_zone), args.start, args.end)
    gap_ms, max_ms = settings.session_ms
    try:
        result = run_paths(client, site, request, gap_ms=gap_ms, max_ms=max_ms)
    except JourneyError as exc:
        raise CommandError(f"--{exc.parameter}: {exc.problem}") from None
    if args.output:
        reached = f"{result['reached_end']:,} of {result['visits_with_start']:,} visits reached B"
        _write_png(paths_chart(result, args.width), args.output, reached)
    if args.json or not args.output:
        print(json.dumps(result, indent=2) if args.json else format_paths(result))
    warn(result["warnings"])
    return 0


def format_journeys(result: JourneyResult) -> str:
    """One table per step: each page's visits and what became of them."""
    anchors = {"start": f"from {result['start']}", "end": f"to {result['end']}"}
    mode = {
        "open": "from the first page",
        "start": anchors["start"],
        "end": f"{anchors['end']}, backward",
        "both": f"{anchors['start']} {anchors['end']}",
    }[result["mode"]]
    lines = [
        f"Journeys on {result['site']}, {mode}: {result['visits']:,} visits, "
        f"{result['from']} to {result['to']} ({result['time_zone']})",
    ]
    if result["never_reached"] is not None:
        lines.append(f"{result['never_reached']:,} visits with {result['start']} never reached "
                     f"{result['end']} after it")  # fmt: skip
    ends = ENDS_BY_DIRECTION[result["mode"]]
    for column in result["columns"]:
        lines += ["", *_column_lines(column, ends, result["goal"] is not None)]
    return "\n".join(lines)


def _column_lines(column: ColumnJSON, ends: str, goal: bool) -> list[str]:
    head = (
        f"{'visits':>9} {'share':>6} {ends:>8} {'open':>6} {'beyond':>7} {'reloads':>7} "
        f"{'returns':>7} {'goal%':>6} {'next':>7}  page"
    )
    lines = [
        f"step {column['step']}: {column['visits']:,} visits, {column['ends']:,} {ends}",
        head if goal else head.replace(f" {'goal%':>6}", ""),
    ]
    for node in column["nodes"]:
        share = f"{100 * node['visits'] / column['visits']:.1f}%" if column["visits"] else ""
        label = "(other)" if node["other"] else node["page"] or f"event: {node['event']}"
        goal_cell = f" {_share(node['goal'], node['visits']):>6}" if goal else ""
        lines.append(
            f"{node['visits']:>9,} {share:>6} {node['ends']:>8,} {node['in_progress']:>6,} "
            f"{node['beyond']:>7,} {node['repeats']:>7,} {node['returns']:>7,}{goal_cell} "
            f"{format_duration(node['median_next_s']):>7}  {_printable(label)}"
        )
    return lines


def format_paths(result: PathsResult) -> str:
    """Steps between, time, detours and the common paths from A to B."""
    reached, started = result["reached_end"], result["visits_with_start"]
    lines = [
        f"From {result['start']} to {result['end']} on {result['site']}, "
        f"{result['from']} to {result['to']} ({result['time_zone']})",
        f"{started:,} visits reached {result['start']}; {reached:,} went on to {result['end']} "
        f"({_share(reached, started) or '-'}), {result['never_reached']:,} never did"
        + (f" ({result['in_progress']:,} still on the site)" if result["in_progress"] else ""),
        "",
        "pages between      visits  share",
    ]
    for row in result["between"]:
        lines.append(
            f"  {row['steps']:<14} {row['visits']:>8,} {_share(row['visits'], reached):>6}"
        )
    time_s = result["time_s"]
    if time_s["median"] is not None:
        lines += [
            "",
            f"time from A to B: median {format_duration(time_s['median'])}, "
            f"p75 {format_duration(time_s['p75'])}, p90 {format_duration(time_s['p90'])}",
        ]
    if result["detours"]:
        lines += ["", "detours (lift: how much more the long paths, 3+ pages between, pass it)"]
        for detour in result["detours"]:
            lift = "" if detour["lift"] is None else f"{detour['lift']:.2f}"
            lines.append(f"  {lift:>6} {detour['visits']:>8,}  {_printable(detour['page'])}")
    if reached:
        lines += ["", "most common paths"]
        for path in result["paths"]:
            if path["pages"] is None:
                if path["visits"]:
                    lines.append(f"  {path['visits']:>8,}  (other paths)")
                continue
            lines.append(f"  {path['visits']:>8,}  {_printable(' > '.join(path['pages']))}")
    return "\n".join(lines)


def _share(part: int | None, whole: int) -> str:
    return "" if part is None or not whole else f"{100 * part / whole:.1f}%"


def _printable(text: str) -> str:
    """Strangers' paths on a terminal: no control characters."""
    return "".join(c if c.isprintable() else "?" for c in text)
