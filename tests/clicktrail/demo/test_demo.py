"""`clicktrail demo`: the README's "see it work" command completes, and what it promises
exists: page pictures, heatmaps, a report with a real cart drop-off, a login link. Twenty live
visitors instead of the default fifty keep it under half a minute; the synthetic history is the
same."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from clicktrail.demo.background import free_port
from collector.embedded import socket_path_for

pytestmark = pytest.mark.slow


ENV = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # the embedded Redis
# The leanest demo: one synthetic visitor, no page pictures.
LEAN = ["--visitors", "1", "--no-browser"]


def clicktrail(*argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "clicktrail.cli", *argv],
        capture_output=True, text=True, env=ENV, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_demo_drives_visitors_and_writes_heatmaps_and_a_report(tmp_path: Path) -> None:
    out, port = tmp_path / "out", free_port()
    argv = ["demo", "--visitors", "20", "--exit", "--out", str(out), "--port", str(port)]
    done = clicktrail(*argv, "--data-dir", str(tmp_path / "data"))
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


def page_views(stdout: str) -> int:
    """Page views of the cart over the report's 7 days, as the demo reports them."""
    found = re.search(r"heatmap-cart-desktop\.png: [\d,]+ clicks over ([\d,]+) page views", stdout)
    assert found, stdout
    return int(found[1].replace(",", ""))


def login_token(stdout: str) -> str:
    found = re.search(r"/login#token=(ctt_[\w-]+)", stdout)
    assert found, stdout
    return found[1]


def test_a_second_run_reuses_the_history_and_the_token_and_fresh_starts_over(
    tmp_path: Path,
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    demo = ["demo", *LEAN, "--exit", "--out", str(tmp_path / "out"), "--port", str(free_port())]

    first = clicktrail(*demo, *data).stdout
    assert "posted 1,260 visits of the last 14 days" in first
    # The history's visits are on the shop's host and in the demo's countries, as a browser's.
    overview = json.loads(clicktrail("overview", "--site", "demo-shop", "--json", *data).stdout)
    assert overview["hostnames"] == [{"hostname": "127.0.0.1", "visits": overview["visits"]}]
    assert "(not set)" not in {c["country"] for c in overview["countries"]}
    again = clicktrail(*demo, *data).stdout
    assert "reusing the 14 days of history posted on" in again
    assert "posted 1,260" not in again
    assert page_views(first) <= page_views(again) <= page_views(first) + 3  # one more visitor
    assert login_token(again) == login_token(first)
    tokens = clicktrail("token", "list", *data).stdout.strip().splitlines()
    assert len([t for t in tokens if "\tdemo\t" in t]) == 1, tokens

    fresh = clicktrail(*demo, "--fresh", *data).stdout
    assert "posted 1,260 visits of the last 14 days" in fresh
    assert page_views(fresh) <= page_views(first) + 3  # the old history went first
    assert login_token(fresh) != login_token(first)
    tokens = clicktrail("token", "list", *data).stdout.strip().splitlines()
    assert len([t for t in tokens if "\tdemo\t" in t]) == 1, tokens


def redis_servers_of(data: Path) -> list[int]:
    """Process ids of the redis-servers serving the data folder (redis-server retitles itself
    `redis-server unixsocket:PATH`, so the socket names it)."""
    socket = str(socket_path_for(data)).encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes()
        except OSError:
            continue  # gone, or not a process
        if proc.name.isdigit() and b"redis-server" in argv and socket in argv:
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_demo_and_its_redis(tmp_path: Path, sig: signal.Signals) -> None:
    data = tmp_path / "data"
    argv = ["demo", *LEAN, "--no-history", "--out", str(tmp_path / "out"), "--port",
            str(free_port()), "--data-dir", str(data)]  # fmt: skip
    with subprocess.Popen(
        [sys.executable, "-m", "clicktrail.cli", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**ENV, "PYTHONUNBUFFERED": "1"},
    ) as demo:  # fmt: skip
        try:
            assert demo.stdout is not None
            printed = []
            for line in demo.stdout:  # until it serves, waiting for Ctrl-C
                printed.append(line)
                if line.startswith("Ctrl-C stops the demo"):
                    break
            assert redis_servers_of(data), "".join(printed)
            demo.send_signal(sig)
            demo.wait(timeout=60)
            assert redis_servers_of(data) == [], "".join(printed) + demo.stdout.read()
        finally:
            if demo.poll() is None:
                demo.kill()
            for pid in redis_servers_of(data):  # only when the test failed: leave nothing behind
                os.kill(pid, signal.SIGKILL)
