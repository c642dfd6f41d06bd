"""Retakes the README's dashboard screenshots (docs/dashboard-*.png) from a fresh demo.

    .venv/bin/python scripts/docs_screenshots.py [--out docs]

Runs `clicktrail demo --fresh` in a scratch folder, waits for its login link, then opens each
dashboard page in headless Chromium at desktop (1280 px) and, where the README shows one, phone
(390 px) width. Look at every picture before committing it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from clicktrail.demo.run import SITE
from heatmap.capture import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
FUNNEL = "step=/product/*&step=/cart&step=/checkout&step=/thanks"
LOGIN = re.compile(r"Open the dashboard: (\S+/login#token=\S+)")


@dataclass(frozen=True)
class Shot:
    name: str  # docs/dashboard-{name}.png
    path: str  # the dashboard's path, after the origin
    width: int
    ready: str  # a selector that is there once the page's script has drawn it


SHOTS = (
    Shot("sites", "/", 1280, "[data-site]"),
    Shot("overview", f"/sites/{SITE}?period=7d&goal=/thanks", 1280, "[data-overview][data-loaded]"),
    Shot(
        "overview-phone",
        f"/sites/{SITE}?period=7d&goal=/thanks",
        390,
        "[data-overview][data-loaded]",
    ),
    Shot("pages", f"/sites/{SITE}/pages", 1280, "table"),
    Shot("heatmap-desktop", f"/sites/{SITE}/heatmap?page=/cart&band=desktop", 1280, "#heatmap-img"),
    Shot("funnel", f"/sites/{SITE}/funnel?{FUNNEL}&window=1h&by=channel", 1280, ".funnel-chart"),
    Shot("journeys", f"/sites/{SITE}/journeys?goal=/thanks", 1280, "g.node"),
    Shot("journeys-phone", f"/sites/{SITE}/journeys?goal=/thanks", 390, "g.node"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_demo(scratch: Path) -> tuple[subprocess.Popen[str], str]:
    """The demo, serving; its login link once its visitors are in and filed."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # its own embedded Redis
    env["PYTHONUNBUFFERED"] = "1"  # the login link as soon as it is printed
    command = [str(ROOT / ".venv/bin/clicktrail"), "demo", "--fresh", "--out", str(scratch),
               "--port", str(free_port())]  # fmt: skip
    demo = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=scratch)
    assert demo.stdout is not None
    for line in demo.stdout:
        print(line, end="")
        if found := LOGIN.search(line):
            return demo, found.group(1)
    demo.wait()
    sys.exit(f"docs_screenshots: the demo ended ({demo.returncode}) before its login link")


def shoot(page: Page, origin: str, shot: Shot, out: Path) -> None:
    page.set_viewport_size({"width": shot.width, "height": 900})
    page.goto(origin + shot.path)
    page.wait_for_selector(shot.ready)
    if shot.name.startswith("heatmap"):
        page.wait_for_function("() => document.querySelector('#heatmap-img').naturalWidth > 0")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / f"dashboard-{shot.name}.png", full_page=True)
    print(f"wrote {out / f'dashboard-{shot.name}.png'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="default: docs/")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="clicktrail-shots-"))
    demo, login = start_demo(scratch)
    origin = login.split("/login")[0]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on("console", lambda m: print(f"console {m.type}: {m.text}", file=sys.stderr))
            page.on("pageerror", lambda e: print(f"page error: {e}", file=sys.stderr))
            page.goto(login)
            page.wait_for_url(f"{origin}/")
            for shot in SHOTS:
                shoot(page, origin, shot, args.out)
            browser.close()
    finally:
        demo.terminate()
        demo.wait(timeout=60)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"done in {time.monotonic() - started:.0f} s")
    sys.exit(code)
