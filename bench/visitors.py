"""Demo visitors benchmark: seconds per visit driven through headless Chromium (at concurrency
1 and 4) and posted synthetically, and page captures with one browser launch against one launch
per page. Not a peer comparison: it sizes `clicktrail demo` on this machine.

    .venv/bin/python bench/visitors.py [--visits 20] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clicktrail.demo.background import BackgroundServer, free_port  # noqa: E402
from clicktrail.demo.chromium_visits import drive_chromium  # noqa: E402
from clicktrail.demo.shop import shop_app  # noqa: E402
from clicktrail.demo.synthetic import post_visits  # noqa: E402
from clicktrail.demo.visitors import plan_visits  # noqa: E402
from collector.app import create_app  # noqa: E402
from collector.connections import resolve, sync_client  # noqa: E402
from collector.settings import Settings  # noqa: E402
from collector.sites import add_site, new_site  # noqa: E402
from collector.snippet import script_tag  # noqa: E402
from heatmap.capture import capture_page, capture_pages  # noqa: E402


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
    args = parser.parse_args()
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
            many = plan_visits(500, 12)
            s = timed(lambda: post_visits(collector, site.key, shop_url, many, 12), args.reps)
            print(f"  synthetic POST /e: {1000 * s / len(many):.1f} ms per visit")
            shots = [(f"{shop_url}{p}", w) for p in ("/", "/cart") for w in (1280, 390)]
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
