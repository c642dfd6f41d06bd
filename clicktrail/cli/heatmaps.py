"""`clicktrail heatmap`, `pages` and `elements`: what the worker aggregated, for a person."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from clicktrail.cli.errors import CommandError, warn
from clicktrail.cli.options import int_between, iso_date, period, site_option
from clicktrail.cli.parser import command
from clicktrail.wiring import picture_rules, report_config
from collector.days import PAGES_PERIOD_DAYS, day_names
from collector.pages import BANDS, PageTemplates
from collector.settings import Settings
from collector.sites import Site, get_site
from heatmap.page_selection import PageSelection
from heatmap.pictures import missing_picture_note
from heatmap.render import draw_note, save_png
from heatmap.selectors import ELLIPSIS, short_selector
from heatmap.totals import (
    ElementStats,
    StoredDataError,
    load_elements,
    load_page_views,
    load_pages,
)
from heatmap.view import MAP_KINDS, SCALES, heatmap_view, selected, selection_request
from reports.analyses.channel_clicks import ChannelMapError, channel_click_view
from reports.analyses.visit_channels import CHANNEL_SLUGS

IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}  # by -o's extension


def width_px(raw: str) -> int:
    if not raw.isdigit() or not 100 <= int(raw) <= 10_000:
        raise argparse.ArgumentTypeError(f"expected a width from 100 to 10000 px, got {raw!r}")
    return int(raw)


def image_file(raw: str) -> Path:
    path = Path(raw)
    if path.suffix.lower() not in IMAGE_FORMATS:
        raise argparse.ArgumentTypeError(f"expected a .png, .jpg or .jpeg file, got {raw!r}")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"no folder {path.parent} to write {path.name} in")
    return path


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    dates = argparse.ArgumentParser(add_help=False)
    site_option(dates)
    dates.add_argument(
        "--from",
        dest="first",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help=f"first day, UTC (default: {PAGES_PERIOD_DAYS} days up to --to)",
    )
    dates.add_argument(
        "--to",
        dest="last",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="last day, UTC (default: today)",
    )

    heat = command(
        commands,
        "heatmap",
        parents=[common, dates],
        help="render a page's click, rage, dead-click or scroll map",
    )
    heat.add_argument("--page", required=True, help="a path or page template, e.g. /cart")
    heat.add_argument("--band", choices=BANDS, default="desktop", help="layout band")
    heat.add_argument("--kind", choices=MAP_KINDS, default="click", help="what to draw")
    heat.add_argument(
        "--background",
        type=Path,
        metavar="FILE",
        help="a screenshot of the page at the band's width "
        "(default: the one `clicktrail screenshot` stored, if any)",
    )
    heat.add_argument(
        "--width",
        type=width_px,
        metavar="PX",
        help="width of the image (default: the band's width)",
    )
    heat.add_argument(
        "--scale",
        choices=SCALES,
        default="sqrt",
        help="how heat maps to colour",
    )
    heat.add_argument(
        "--channel",
        choices=CHANNEL_SLUGS,
        metavar="CHANNEL",
        help="only the clicks of visits of this channel (click and rage maps), from the "
        f"sessions' click rows: {', '.join(CHANNEL_SLUGS)}",
    )
    heat.add_argument(
        "-o",
        "--output",
        type=image_file,
        required=True,
        metavar="FILE",
        help="the image to write: .png, or .jpg/.jpeg for JPEG",
    )
    heat.set_defaults(run=cmd_heatmap, with_redis=True)

    pages = command(
        commands, "pages", parents=[common, dates], help="pages with page views and clicks per band"
    )
    pages.add_argument("--json", action="store_true", help="print JSON")
    pages.set_defaults(run=cmd_pages, with_redis=True)

    elements = command(
        commands, "elements", parents=[common, dates], help="a page's most clicked elements"
    )
    elements.add_argument("--page", required=True, help="a path or page template")
    elements.add_argument("--band", choices=BANDS, default="desktop", help="layout band")
    elements.add_argument(
        "--limit", type=int_between(1, 1000), default=20, metavar="N", help="how many"
    )
    elements.add_argument(
        "--wide", action="store_true", help="print whole labels and selectors, however long"
    )
    elements.add_argument("--json", action="store_true", help="print JSON")
    elements.set_defaults(run=cmd_elements, with_redis=True)


def _period(args: argparse.Namespace) -> tuple[date, date, list[str]]:
    first, last = period(args.first, args.last, PAGES_PERIOD_DAYS)
    return first, last, day_names(first, last)


def _selection(
    client: Any, site: Site, page: str, days: list[str], settings: Settings
) -> PageSelection:
    try:
        return selected(client, site, page, days, PageTemplates(settings.page_templates))
    except ValueError as exc:
        raise CommandError(f"--page: {exc}") from None


def _background(path: Path | None) -> Image.Image | None:
    if path is None:
        return None
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (OSError, UnidentifiedImageError) as exc:
        raise CommandError(f"--background: cannot read {path} as an image: {exc}") from None


def cmd_heatmap(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    site: Site = get_site(client, args.site)
    first, last, days = _period(args)
    selection = _selection(client, site, args.page, days, settings)
    # Else the picture of its most viewed template, if one was stored.
    background = _background(args.background)
    request = selection_request(
        client,
        site,
        selection,
        args.band,
        args.kind,
        (first, last),
        args.width,
        args.scale,
        background,
    )
    try:
        if args.channel:
            rules = report_config(args.config).channel_rules
            gap_ms, max_ms = settings.session_ms
            view = channel_click_view(
                client, request, args.channel, rules, settings.page_templates, gap_ms, max_ms
            )
        else:
            view = heatmap_view(client, request)
    except ChannelMapError as exc:
        raise CommandError(f"--channel: {exc}") from None
    except StoredDataError as exc:
        raise CommandError(str(exc)) from None
    warnings = view.warnings
    if request.background is None and view.views and selection.templates:  # on the ruler: why
        pictured = selection.templates[0]  # the template whose picture a map is drawn over
        note = missing_picture_note(
            client, site, pictured, picture_rules(settings), int(time.time() * 1000)
        )
        draw_note(view.image, note)
        warnings = [*warnings, note]
    _save(view.image, args.output)
    print(
        f"wrote {args.output}: {selection.label}, {args.band}, {first} to {last}: {view.events:,} "
        f"{args.kind} events, {view.views:,} page views"
    )
    warn(warnings)
    if view.views and not view.events:
        print(
            "no events in this period: is the worker running, and the page template right? "
            "`clicktrail pages` lists the pages"
        )
    return 0


def _save(image: Image.Image, path: Path) -> None:
    if IMAGE_FORMATS[path.suffix.lower()] == "JPEG":
        image.convert("RGB").save(path, format="JPEG", quality=90)  # JPEG has no alpha
    else:
        save_png(image, str(path))


def cmd_pages(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    site = get_site(client, args.site)
    _, _, days = _period(args)
    pages = load_pages(client, site, days)
    if args.json:
        print(json.dumps([asdict(p) for p in pages], indent=2))
        return 0
    print(f"{'page':<40} {'band':<8} {'views':>8} {'clicks':>8} {'rage':>6} {'dead':>6}")
    for p in pages:
        print(
            f"{p.template[:40]:<40} {p.band:<8} {p.views:>8,} {p.clicks:>8,} {p.rage:>6,} "
            f"{p.dead:>6,}"
        )
    return 0


def cmd_elements(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    site = get_site(client, args.site)
    _, _, days = _period(args)
    selection = _selection(client, site, args.page, days, settings)
    elements = load_elements(client, site, selection.templates, args.band, days)[: args.limit]
    views = load_page_views(client, site, selection.templates, args.band, days)
    warn(selection.warnings_for(views, args.band))
    if args.json:
        print(json.dumps([asdict(e) for e in elements], indent=2, ensure_ascii=False))
        return 0
    print_elements(elements, args.wide)
    return 0


LABEL_COLUMN = 28  # characters, without --wide
SELECTOR_COLUMN = 40


def print_elements(elements: list[ElementStats], wide: bool) -> None:
    """The label first, then the selector shortened from the left (whole with `wide`)."""
    rows = [(_printable(e.label) or "-", _printable(e.selector)) for e in elements]
    if wide:
        label_w = max([len("label"), *(len(label) for label, _ in rows)])
        selector_w = max([len("element"), *(len(sel) for _, sel in rows)])
    else:
        label_w, selector_w = LABEL_COLUMN, SELECTOR_COLUMN
        rows = [(_cut(label, label_w), short_selector(sel, selector_w)) for label, sel in rows]
    print(
        f"{'label':<{label_w}} {'element':<{selector_w}} {'clicks':>8} {'rage %':>7} {'dead %':>7}"
    )
    for (label, selector), e in zip(rows, elements, strict=True):
        rage = 100 * e.rage / e.clicks if e.clicks else 0
        dead = 100 * e.dead / e.clicks if e.clicks else 0
        print(
            f"{label:<{label_w}} {selector:<{selector_w}} {e.clicks:>8,} {rage:>6.1f}% "
            f"{dead:>6.1f}%"
        )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + ELLIPSIS


def _printable(text: str) -> str:
    """A stranger's string as a terminal shows it harmlessly: no escape sequences."""
    return "".join(c if c.isprintable() else "?" for c in text)
