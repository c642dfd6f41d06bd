"""`clicktrail demo`: the README's "see it work" command completes, and what it promises
exists: page pictures, heatmaps, a report with a real cart drop-off, a login link. Twenty live
visitors instead of the default fifty keep it under half a minute; the synthetic history is the
same."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.clicktrail.server import free_port

pytestmark = pytest.mark.slow


def test_the_demo_drives_visitors_and_writes_heatmaps_and_a_report(tmp_path: Path) -> None:
    out, port = tmp_path / "out", free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # the embedded Redis
    argv = ["demo", "--visitors", "20", "--exit", "--out", str(out), "--port", str(port)]
    done = subprocess.run(
        [sys.executable, "-m", "clicktrail.cli", *argv, "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"20 of 20 visitors went through the shop in headless Chromium", done.stdout)
    assert re.search(rf"http://127\.0\.0\.1:{port}/login#token=ctt_[\w-]+", done.stdout)

    for name, width in (("heatmap-cart-desktop.png", 1280), ("heatmap-product-mobile.png", 390)):
        with Image.open(out / name) as image:
            assert image.width == width and image.height > 600
    report = json.loads((out / "report" / "report.json").read_text())
    steps = report["current"]["steps"]
    entered = [step["entered"] for step in steps]
    assert entered == sorted(entered, reverse=True) and entered[-1] > 0  # some buy
    assert steps[1]["dropped"] > 0, "a cart drop-off"
    assert (out / "report" / "report.html").stat().st_size > 20_000
    assert (out / "report" / "funnel.csv").read_text().count("\n") == 5
