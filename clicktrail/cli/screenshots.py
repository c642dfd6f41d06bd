"""`clicktrail screenshot`: the page picture drawn under a page's heatmaps, captured by headless
Chromium at each band's width (the `browser` extra) or given as a file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from clicktrail.cli.errors import CommandError
from clicktrail.cli.parser import command
from collector.pages import BANDS, PageTemplates
from collector.settings import Settings
from collector.sites import Site, get_site, normalize_origin
from heatmap.capture import CaptureError, capture_page
from heatmap.pictures import give_picture
from heatmap.render import BAND_WIDTHS_PX
from heatmap.screenshots import ScreenshotError


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    shot = command(
        commands,
        "screenshot",
        parents=[common],
        help="capture (or give) the page picture under a page's heatmaps",
    )
    shot.add_argument("--site", required=True, help="the site's name")
    source = shot.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="the page to capture; must be on one of the site's origins")
    source.add_argument("--file", type=Path, metavar="FILE", help="a PNG or JPEG to use instead")
    shot.add_argument("--page", help="page path or template (default: the URL's path)")
    shot.add_argument(
        "--band",
        choices=[*BANDS, "all"],
        default="all",
        help="which layout band's width to capture at (all)",
    )
    shot.set_defaults(run=cmd_screenshot, with_redis=True)


def cmd_screenshot(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    site = get_site(client, args.site)
    path = args.page or (urlsplit(args.url).path or "/" if args.url else None)
    if not path or not path.startswith("/"):
        raise CommandError("--page: give the page path, e.g. /cart")
    template = PageTemplates(settings.page_templates).template(path)
    bands = BANDS if args.band == "all" else (args.band,)
    if args.url:
        _check_origin(site, args.url)
    for band in bands:
        png = _read(args.file) if args.file else _capture(site, args.url, BAND_WIDTHS_PX[band])
        try:
            give_picture(client, site.name, band, template, png)
        except ScreenshotError as exc:
            raise CommandError(f"--file: {exc}" if args.file else str(exc)) from None
        print(f"saved the {band} picture of {template} ({len(png):,} bytes)")
    return 0


def _check_origin(site: Site, url: str) -> None:
    """Only the site's own pages: the capture must not be a way to fetch anything else."""
    parts = urlsplit(url)
    try:
        origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")
    except ValueError:
        raise CommandError(f"--url: not an http(s) URL: {url!r}") from None
    if origin not in site.origins:
        allowed = ", ".join(site.origins)
        raise CommandError(f"--url: {origin} is not one of {site.name}'s origins ({allowed})")


def _capture(site: Site, url: str, width: int) -> bytes:
    try:
        return capture_page(url, width, origins=site.origins)
    except CaptureError as exc:
        raise CommandError(f"--url: {exc}") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"--file: cannot read {path}: {exc}") from None
