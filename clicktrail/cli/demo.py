"""`clicktrail demo`: its options; what it does is in clicktrail.demo.run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from clicktrail.cli.options import http_options, int_between
from clicktrail.cli.parser import command
from clicktrail.demo.state import HISTORY_DAYS, HISTORY_VISITS_PER_DAY
from clicktrail.wiring import make_picture_taker, make_scheduler, make_worker
from clicktrail.worker import Worker
from collector.settings import Settings
from heatmap.picture_taker import PictureTaker
from reports.scheduled.scheduler import ReportScheduler


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    demo = command(
        commands,
        "demo",
        parents=[common],
        help="see it work: a demo shop, its visitors, heatmaps, the cart funnel and a report",
    )
    http_options(demo)
    demo.add_argument(
        "--visitors",
        type=int_between(1, 5000),
        default=40,
        metavar="N",
        help="visitors driven through the shop now, in headless Chromium when it is there "
        "(default: 40; about 1.3 s each on 2 cores); the first run also posts "
        f"{HISTORY_DAYS} days of synthetic history "
        f"({HISTORY_DAYS * HISTORY_VISITS_PER_DAY:,} past visits)",
    )
    demo.add_argument(
        "--out", type=Path, default=Path("clicktrail-demo"), metavar="DIR",
        help="where the heatmap PNGs and the report go, and the demo's data (DIR/data) unless "
        "--data-dir or CLICKTRAIL_DATA names another",
    )  # fmt: skip
    demo.add_argument(
        "--shop-port", type=int_between(1, 65535), metavar="PORT",
        help="port of the demo shop (default: a free one)",
    )  # fmt: skip
    demo.add_argument(
        "--no-history",
        action="store_true",
        help=f"skip the {HISTORY_DAYS} days of synthetic past visits",
    )
    demo.add_argument(
        "--fresh",
        action="store_true",
        help="start over: delete the data, history and token of earlier demo runs "
        "(else a run adds its visitors to them and prints the same login link)",
    )
    demo.add_argument(
        "--no-browser",
        action="store_true",
        help="post synthetic events instead of driving headless Chromium",
    )
    demo.add_argument(
        "--exit", action="store_true", help="stop once the outputs are written (CI, scripts)"
    )
    # The demo's shop never shares a data folder with real sites by accident.
    demo.set_defaults(
        run=cmd_demo, creates_data=True, long_running=True, own_data_dir=_own_data_dir
    )


def _own_data_dir(args: argparse.Namespace) -> Path:
    return Path(args.out) / "data"


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    # Here, not at the top: the demo's shop and visitors would double every command's start-up.
    from clicktrail.demo.background import free_port
    from clicktrail.demo.run import DemoOptions, run_demo

    options = DemoOptions(
        visitors=args.visitors,
        out=args.out,
        shop_port=args.shop_port or free_port(),
        history=not args.no_history,
        browser=not args.no_browser,
        keep_serving=not args.exit,
        fresh=args.fresh,
    )

    def jobs(url: str) -> list[Worker | ReportScheduler | PictureTaker]:
        out: list[Worker | ReportScheduler | PictureTaker] = [
            make_worker(settings, url),
            make_scheduler(settings, url, args.config),
        ]
        # While it serves, the pages the demo did not picture itself (/checkout, /thanks) get
        # theirs in the background, as a real site's do; a run that exits at once needs none.
        taker = (
            make_picture_taker(settings, url) if options.browser and options.keep_serving else None
        )
        return [*out, taker] if taker else out

    return run_demo(settings, options, args.config, jobs)
