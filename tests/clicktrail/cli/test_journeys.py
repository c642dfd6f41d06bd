"""`clicktrail journeys` and `clicktrail paths` over the shop's sessions, posted through POST /e
and built by the worker (tests/clicktrail/conftest.py: JOURNEYS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from clicktrail.cli.main import main
from collector.sites import Site


def run(capsys: pytest.CaptureFixture[str], redis_url: str, *argv: str) -> tuple[int, str, str]:
    try:
        code = main([*argv, "--site", "shop", "--redis-url", redis_url])
    except SystemExit as exc:  # argparse's own checks exit
        code = int(str(exc.code))
    out, err = capsys.readouterr()
    return code, out, err


def visits_by_node(result: dict[str, Any], step: int) -> dict[str, int]:
    return {n["id"]: n["visits"] for n in result["columns"][step - 1]["nodes"]}


def test_journeys_json_follows_every_visit(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, redis_url, "journeys", "--json", "--goal", "/thanks")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert list(result)[:8] == [
        "site",
        "from",
        "to",
        "time_zone",
        "as_of",
        "mode",
        "direction",
        "start",
    ]
    assert (result["mode"], result["visits"], result["never_reached"]) == ("open", 30, None)
    assert visits_by_node(result, 1) == {"1:/product/:id": 20, "1:/": 10}
    assert visits_by_node(result, 2) == {"2:/cart": 15, "2:/product/:id": 10, "2:/about": 5}
    assert visits_by_node(result, 5) == {"5:/thanks": 10}
    first = result["columns"][0]["nodes"][1]
    assert first | {"median_next_s": None} == {
        "id": "1:/", "page": "/", "event": None, "other": False, "visits": 10, "ends": 0,
        "in_progress": 0, "beyond": 0, "repeats": 0, "returns": 0, "goal": 10,
        "median_next_s": None,
    }  # fmt: skip
    assert first["median_next_s"] == 60.0
    edges = {(e["from"], e["to"]): e["visits"] for e in result["edges"]}
    assert edges[("1:/product/:id", "2:/cart")] == 15
    assert sum(edges.values()) == 30 + 25 + 10 + 10 - 0  # every visit that goes on, per column


def test_journeys_backward_from_a_page_as_a_table(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, redis_url, "journeys", "--end", "/checkout", "--steps", "3")
    assert code == 0
    assert "to /checkout, backward: 18 visits" in out
    assert "step 2: 18 visits, 0 entered" in out
    assert "step 3: 18 visits, 8 entered" in out  # 8 landed on a product, 10 came from / (beyond)


def test_paths_counts_pages_between(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, redis_url, "paths", "--start", "/product/*", "--end", "/thanks", "--json"
    )
    result = json.loads(out)
    assert code == 0
    assert (result["visits_with_start"], result["reached_end"], result["never_reached"]) == (
        30,
        10,
        20,
    )
    assert [b["visits"] for b in result["between"]] == [0, 0, 10, 0, 0, 0, 0, 0]
    assert result["time_s"]["median"] == 180.0
    assert result["paths"][0] == {
        "pages": ["/product/:id", "/cart", "/checkout", "/thanks"], "other": False, "visits": 10,
    }  # fmt: skip
    code, out, _ = run(capsys, redis_url, "paths", "--start", "/product/*", "--end", "/thanks")
    assert "30 visits reached /product/*; 10 went on to /thanks (33.3%), 20 never did" in out
    assert "median 3 min" in out


def test_an_anchor_that_matches_nothing_warns_and_exits_0(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, redis_url, "journeys", "--start", "/nowhere", "--json")
    assert code == 0 and json.loads(out)["visits"] == 0
    assert err == "clicktrail: warning: start (/nowhere) matched no page view in this range\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["journeys", "--steps", "11"], "--steps: steps runs from 2 to 10 here, not 11"),
        (
            ["journeys", "--steps", "21", "--start", "/"],
            "--steps: expected a whole number from 2 to 20",
        ),
        (["journeys", "--rows", "0"], "--rows: expected a whole number from 1 to 10"),
        (["journeys", "--start", "re:("], "--start: "),
        (["journeys", "--converted", "true"], "--converted: needs a goal"),
        (["journeys", "--converted", "yes"], "expected true or false"),
        (["journeys", "--band", "watch"], "invalid choice"),
        (["journeys", "--from", "2024-01-01", "--to", "2026-01-01"], "--from/--to: "),
        (["paths", "--start", "/"], "required: --end"),
        (["paths", "--start", "event:add", "--end", "/"], "--start: 'event:add': A to B runs"),
    ],
)
def test_bad_options_fail_with_one_line_and_exit_2(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, redis_url, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_journeys_and_paths_draw_pngs(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    journeys_png, paths_png = tmp_path / "map.png", tmp_path / "paths.png"
    code, out, err = run(
        capsys, redis_url, "journeys", "--goal", "/thanks", "-o", str(journeys_png)
    )
    assert (code, out) == (0, "")
    assert err == f"wrote {journeys_png}: 30 visits\n"
    with Image.open(journeys_png) as image:
        assert image.width == 1280 and image.format == "PNG"
    argv = ["paths", "--start", "/", "--end", "/thanks", "-o", str(paths_png), "--width", "800"]
    code, out, err = run(capsys, redis_url, *argv, "--json")
    assert code == 0 and json.loads(out)["reached_end"] == 10  # --json prints all the same
    assert err == f"wrote {paths_png}: 10 of 10 visits reached B\n"
    with Image.open(paths_png) as image:
        assert image.width == 800


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "map.jpg"], "expected a .png file"),
        (["-o", "/no/such/folder/map.png"], "no folder /no/such/folder"),
        (["-o", "map.png", "--width", "100"], "--width: expected a whole number from 320 to 4000"),
    ],
)
def test_bad_picture_options_fail_with_one_line(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, redis_url, "journeys", *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
