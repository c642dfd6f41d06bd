"""Demo visitors benchmark: seconds per visit driven through headless Chromium (at concurrency
1 and 4) and posted synthetically, and page captures with one browser launch against one launch
per page. Not a peer comparison: it sizes `clicktrail demo` on this machine.

    .venv/bin/python bench/visitors.py [--visits 20] [--reps 3]
    .venv/bin/python bench/visitors.py --smoke   # CI: 2 visits, 2 captures, 1 rep
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from clicktrail.demo.background import BackgroundServer, free_port
from clicktrail.demo.chromium_visits import drive_chromium
from clicktrail.demo.shop import shop_app
from clicktrail.demo.synthetic import post_visits
from clicktrail.demo.visitors import plan_visits
from collector.app import create_app
from collector.connections import resolve, sync_client
from collector.settings import Settings
from collector.sites import add_site, new_site
from collector.snippet import script_tag
from heatmap.capture import capture_page, capture_pages

ROOT = Path(__file__).resolve().parent.parent


def timed(action: object, reps: int) -> float:
    runs = []
    for _ in range(reps):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visits", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--smoke", action="store_true", help="CI: 2 visits (50 synthetic), 2 captures, 1 rep"
    )
    args = parser.parse_args()
    if args.smoke:
        args.visits, args.reps = 2, 1
    with tempfile.TemporaryDirectory() as data:
        port, shop_port = free_port(), free_port()
        settings = Settings(data_dir=Path(data), port=port, rate_ip_per_s=1e5)
        target = resolve(settings, hold=True)
        shop_url = f"http://127.0.0.1:{shop_port}"
        site = add_site(sync_client(target.url), new_site("bench", [shop_url]))
        tag = script_tag(f"http://127.0.0.1:{port}", site.key)
        servers = [
            BackgroundServer(create_app(settings, target.url), port).start(),
            BackgroundServer(shop_app(tag), shop_port).start(),
        ]
        try:
            visits = plan_visits(args.visits, 11)
            collector = f"http://127.0.0.1:{port}"
            print(f"{args.visits} visits, median of {args.reps} runs")
            for concurrency in (1, 4):
                s = timed(lambda c=concurrency: drive_chromium(shop_url, visits, c), args.reps)
                print(f"  Chromium, concurrency {concurrency}: {s / args.visits:.2f} s per visit")
            many = plan_visits(50 if args.smoke else 500, 12)
            s = timed(lambda: post_visits(collector, site.key, shop_url, many, 12), args.reps)
            print(f"  synthetic POST /e: {1000 * s / len(many):.1f} ms per visit")
            shots = [(f"{shop_url}{p}", w) for p in ("/", "/cart") for w in (1280, 390)]
            shots = shots[:2] if args.smoke else shots
            one = timed(lambda: capture_pages(shots), args.reps)
            each = timed(lambda: [capture_page(u, w) for u, w in shots], args.reps)
            print(f"  {len(shots)} page captures: one launch {one:.1f} s, a launch each "
                  f"{each:.1f} s (ratio {each / one:.2f})")  # fmt: skip
        finally:
            for server in servers:
                server.stop()
            target.close()


if __name__ == "__main__":
    main()
