"""Snippet benchmark: gzipped size beside the peers', and the main-thread time the snippet adds
to 1,000 synthetic clicks in Chromium, against the same page without it.

    .venv/bin/python bench/snippet.py [--reps 3]
    .venv/bin/python bench/snippet.py --smoke    # CI: Umami built, 1 rep of 100 clicks

Umami's tracker is built here from its npm package with terser, as its own build does; for
Plausible (script.js is not published on npm) the figure is the one Plausible publishes.
Needs node/npm (scripts/install-system-deps) and Debian's Chromium.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.* (the test servers) is not part of the installed package

from playwright.sync_api import sync_playwright  # noqa: E402

from heatmap.capture import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.clicktrail.server import ServeProcess  # noqa: E402
from tests.tracker_js.pages import SHOP, serve_pages, snippet_tag  # noqa: E402
from tracker_js import SNIPPET_PATH  # noqa: E402

OUT = ROOT / "bench-out" / "snippet"
UMAMI = "umami@2.10.0"
PLAUSIBLE_PUBLISHED = "< 1 KB (plausible.io: 'less than 1 KB')"
CLICKS = 1000
SMOKE_CLICKS = 100

# Dispatches real click events at the buttons and the card, the way a page's clicks reach
# listeners, and returns the main-thread time the dispatches took.
CLICK_LOOP = """(n) => {
  const targets = [...document.querySelectorAll('#buy, #far, .card, header')];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const el = targets[i % targets.length];
    const box = el.getBoundingClientRect();
    el.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true,
      clientX: box.left + (i % 50), clientY: box.top + (i % 20)}));
  }
  return performance.now() - start;
}"""


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def umami_minified() -> bytes:
    work = OUT / "umami"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "pack", UMAMI, "--silent"], cwd=work, check=True, capture_output=True, timeout=120
    )
    with tarfile.open(next(work.glob("umami-*.tgz"))) as archive:
        archive.extract("package/src/tracker/index.js", work, filter="data")
    terser = ROOT / "tracker_js" / "node_modules" / ".bin" / "terser"
    return subprocess.run(
        [
            str(terser),
            str(work / "package/src/tracker/index.js"),
            "--compress",
            "evaluate=false",
            "--mangle",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout


def click_times(reps: int, clicks: int = CLICKS) -> dict[str, list[float]]:
    collector = ServeProcess(OUT / "data")
    collector.data_dir.mkdir(parents=True)
    times: dict[str, list[float]] = {"without": [], "with": []}
    with serve_pages() as (origin, pages), sync_playwright() as playwright:
        added = collector.cli("site", "add", "bench", "--origin", origin)
        key = next(
            line.split(": ")[1]
            for line in added.stdout.splitlines()
            if line.startswith("Public key")
        )
        collector.start()
        pages["/without"] = SHOP.format(snippet="")
        pages["/with"] = SHOP.format(snippet=snippet_tag(collector.url, key))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(reps):
                for variant in ("without", "with"):
                    page = browser.new_page(viewport={"width": 1280, "height": 720})
                    page.goto(f"{origin}/{variant}")
                    page.evaluate(CLICK_LOOP, 50)  # warm up the JIT
                    times[variant].append(page.evaluate(CLICK_LOOP, clicks))
                    page.close()
        finally:
            browser.close()
            collector.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--smoke", action="store_true", help=f"CI: 1 rep of {SMOKE_CLICKS} clicks, Umami built"
    )
    args = parser.parse_args()
    clicks = SMOKE_CLICKS if args.smoke else CLICKS
    if args.smoke:
        args.reps = 1
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    ours = SNIPPET_PATH.read_bytes()
    umami = umami_minified()
    print("gzipped size (gzip -9), minified:")
    print(
        f"  clicktrail t.js   {gzip_size(ours):>5} B  ({len(ours)} B raw): page views (SPA), "
        "clicks, rage/dead clicks, scroll depth, retry outbox, consent"
    )
    print(
        f"  Umami {UMAMI[6:]:<10} {gzip_size(umami):>5} B  ({len(umami)} B raw): page views, "
        "custom events"
    )
    print(f"  Plausible          {PLAUSIBLE_PUBLISHED}: page views, custom events")
    print(f"  ratio clicktrail / Umami: {gzip_size(ours) / gzip_size(umami):.2f}")
    times = click_times(args.reps, clicks)
    without, with_snippet = (statistics.median(times[k]) for k in ("without", "with"))
    print(f"\n{clicks} synthetic clicks in Chromium, main-thread ms (median of {args.reps}):")
    print(f"  page without the snippet {without:8.1f} ms")
    print(f"  page with the snippet    {with_snippet:8.1f} ms")
    print(f"  added per click          {(with_snippet - without) / clicks * 1000:8.1f} us")


if __name__ == "__main__":
    main()
