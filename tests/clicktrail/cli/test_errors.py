"""Every mistake a user can make ends in one line on stderr and an exit code: 2 for a bad
command line (as argparse's own), 1 when something the command needs is missing or taken.
Never a traceback."""

from __future__ import annotations

import shlex
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest

from clicktrail.demo.background import free_port
from collector import sites
from collector.connections import sync_client
from tests.clicktrail.cli.process import clicktrail, user_env
from tests.clicktrail.server import ServeProcess

# (command line, exit code, what the line says). {redis} names the test Redis, which holds a site
# "shop"; {tmp} is the working folder, holding only settings.toml.
MISTAKES = [
    ("", 2, "the following arguments are required: COMMAND"),
    ("frobnicate", 2, "invalid choice: 'frobnicate'"),
    ("pages --site shop --from 2024-02-30", 2, "argument --from: expected a date as YYYY-MM-DD"),
    ("pages --site shop --to yesterday", 2, "argument --to: expected a date"),
    ("pages --site shop --from 2024-03-02 --to 2024-03-01 {redis}", 2, "ends (2024-03-01) before"),
    ("pages --site nope {redis}", 2, "no site named 'nope'"),
    ("heatmap --site shop --page / --band huge -o x.png", 2, "argument --band: invalid choice"),
    ("heatmap --site shop --page / --kind heat -o x.png", 2, "argument --kind: invalid choice"),
    ("heatmap --site shop --page / --width 50 -o x.png", 2, "expected a width from 100"),
    ("heatmap --site shop --page / --scale cubic -o x.png", 2, "argument --scale"),
    ("heatmap --site shop --page / -o {tmp}/missing/x.png", 2, "no folder {tmp}/missing"),
    ("heatmap --site shop --page / -o x.gif", 2, "expected a .png, .jpg or .jpeg file"),
    ("heatmap --site shop --page / -o x.png --background {tmp}/no.png {redis}", 2, "--background"),
    (
        "elements --site shop --page / --limit -3",
        2,
        "argument --limit: expected a whole number from 1 to 1000",
    ),
    (
        "elements --site shop --page / --limit lots",
        2,
        "expected a whole number from 1 to 1000, got 'lots'",
    ),
    ("funnel --site shop --step / --step re:(", 2, "step 're:('"),
    ("funnel --site shop --step /cart {redis}", 2, "give 2 to 20 steps, not 1"),
    ("funnel --site shop --step / --step /cart --step cart {redis}", 2, "must start with '/'"),
    ("funnel --site shop --step / --step /cart --unit person", 2, "argument --unit"),
    ("funnel --site shop --step / --step /cart --window forever", 2, "argument --window"),
    ("funnel --site shop --step / --step /cart --tz Mars/Base", 2, "argument --tz"),
    ("funnel --site shop --step / --step /cart --by country", 2, "argument --by"),
    (
        "funnel --site shop --step / --step /cart --from 2024-03-02 --to 2024-03-01 {redis}",
        2,
        "2024",
    ),
    ("report abandonment --site shop --period fortnight --out {tmp}", 2, "argument --period"),
    ("report abandonment --site shop --funnel nope --out {tmp} {redis}", 2, "--funnel"),
    ("token revoke nope {redis}", 2, "nope"),
    ("token create --site nope {redis}", 2, "no site named 'nope'"),
    ("site add 'Bad Name' --origin https://x.example {redis}", 2, "Bad Name"),
    ("site add blog --origin blog.example {redis}", 2, "must look like https://shop.example"),
    ("site add blog --origin https://x.example --shards 0 {redis}", 2, "--shards"),
    ("site remove nope {redis}", 2, "no site named 'nope'"),
    ("screenshot --site shop --file {tmp}/no.png --page / {redis}", 2, "--file: cannot read"),
    (
        "screenshot --site shop --url https://elsewhere.example/ {redis}",
        2,
        "not one of shop's origins",
    ),
    ("worker --batch 0", 2, "argument --batch: expected a whole number from 1 to 10000"),
    ("demo --visitors 0", 2, "argument --visitors"),
    ("serve --port 99999", 2, "--port: expected a whole number from 1 to 65535"),
    ("serve --redis-url localhost", 2, "--redis-url: expected a redis://"),
    ("pages --site shop --config {tmp}/missing.toml", 2, "--config: no settings file at"),
    ("pages --site shop --config {tmp}/settings.toml", 2, "unknown setting [clicktrail].prot"),
    ("pages --site shop --redis-url redis://:secret@127.0.0.1:1/0", 1, "cannot reach Redis"),
    ("serve --port 8999 --redis-url redis://127.0.0.1:1/0", 1, "cannot reach Redis"),
]


Outcomes = tuple[Path, dict[str, subprocess.CompletedProcess[str]]]


@pytest.fixture(scope="module")
def outcomes(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Outcomes:
    """Every row's process, four at a time: each one spends about a second importing."""
    client = sync_client(redis_url)
    client.flushdb()
    sites.add_site(client, sites.new_site("shop", ["https://shop.example"]))
    client.close()
    tmp = tmp_path_factory.mktemp("mistakes")
    (tmp / "settings.toml").write_text("[clicktrail]\nprot = 1\n")
    env = user_env(tmp / "home")

    def run(line: str) -> subprocess.CompletedProcess[str]:
        argv = shlex.split(line.format(tmp=tmp, redis=f"--redis-url {redis_url}"))
        return clicktrail(*argv, cwd=tmp, env=env)

    lines = [line for line, _, _ in MISTAKES]
    with ThreadPoolExecutor(4) as pool:
        return tmp, dict(zip(lines, pool.map(run, lines), strict=True))


@pytest.mark.parametrize(
    ("line", "code", "says"), MISTAKES, ids=[line or "(nothing)" for line, _, _ in MISTAKES]
)
def test_a_mistake_is_one_line_and_an_exit_code(
    outcomes: Outcomes, line: str, code: int, says: str
) -> None:
    tmp, done = outcomes[0], outcomes[1][line]
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("clicktrail") and ": error: " in done.stderr
    assert says.format(tmp=tmp) in done.stderr
    assert "secret" not in done.stderr  # a Redis URL is shown without its password
    assert done.returncode == code


def test_a_port_in_use_is_refused_before_serve_says_it_serves(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = clicktrail(
            "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"),
            cwd=tmp_path, env=user_env(tmp_path / "home"),
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == (
        f"clicktrail: error: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "is another clicktrail there? choose another with --port\n"
    )
    assert done.stdout == ""


def test_a_second_serve_on_the_same_data_names_the_first_ones_pid(tmp_path: Path) -> None:
    first = ServeProcess(tmp_path / "data").start()
    try:
        done = clicktrail(
            "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "data"),
            cwd=tmp_path, env=user_env(tmp_path / "home"),
        )  # fmt: skip
        assert first.process is not None
        assert (done.returncode, done.stderr) == (
            1,
            f"clicktrail: error: another clicktrail is using {tmp_path / 'data'} "
            f"(pid {first.process.pid}); stop it, or give this one its own --data-dir\n",
        )
        assert httpx.get(f"{first.url}/readyz").status_code == 200  # the first one is unharmed
    finally:
        assert first.stop() == 0
