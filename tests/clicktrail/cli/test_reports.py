"""`clicktrail funnel` over sessions posted through POST /e and built by the worker."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clicktrail.cli.main import main
from collector.sites import Site

SHOP = ["/product/*", "/cart", "/checkout", "/thanks"]


def funnel(capsys: pytest.CaptureFixture[str], redis_url: str, *argv: str) -> tuple[int, str, str]:
    steps = [arg for step in SHOP for arg in ("--step", step)]
    code = main(["funnel", "--site", "shop", *steps, *argv, "--redis-url", redis_url])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_counts_every_session_exactly(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = funnel(capsys, redis_url, "--json", "--by", "band")
    assert code == 0
    result = json.loads(out)
    assert [s["entered"] for s in result["steps"]] == [30, 25, 18, 10]
    assert result["overall"] | {} == {
        "entered": 30,
        "converted": 10,
        "abandoned": 20,
        "in_progress": 0,
        "conversion_rate": round(10 / 30, 6),
    }
    cart = result["steps"][1]
    assert cart["next_pages"] == [{"page": "/shipping", "count": 7}]
    assert result["steps"][0]["next_pages"] == [{"page": "/about", "count": 5}]
    assert result["steps"][2]["median_s"] == 60.0
    assert {g["group"]: g["entered"] for g in result["breakdown"]["groups"]} == {
        "mobile": 10,
        "desktop": 20,
    }
    assert result["to"] == datetime.now(UTC).date().isoformat()


def test_the_table_names_steps_and_where_people_went(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = funnel(capsys, redis_url, "--window", "30m")
    assert code == 0
    assert "/product/* -> /cart -> /checkout -> /thanks" in out
    assert "10 of 30 converted (33.3%); 20 abandoned" in out
    assert "next page: /shipping (7)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--window", "forever"], "expected a duration"),
        (["--window", "30d"], "from 1s to 7d"),
        (["--from", "2026-13-01"], "expected a date"),
        (["--from", "2026-11-20", "--to", "2026-11-01"], "ends (2026-11-01) before it starts"),
        (["--tz", "Mars/Olympus"], "unknown time zone"),
        (["--step", "cart"], "must start with '/'"),
        (["--by", "moon"], "invalid choice"),
    ],
)
def test_bad_options_fail_with_a_reason(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    try:
        code, _, err = funnel(capsys, redis_url, *argv)
    except SystemExit as exc:  # argparse's own checks exit
        code, err = int(str(exc.code)), capsys.readouterr().err
    assert code == 2 and message in err


def test_an_unknown_site_is_an_error(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["funnel", "--site", "nope", "--step", "/a", "--step", "/b", "--redis-url", redis_url]
    )
    assert code == 2 and "nope" in capsys.readouterr().err


def test_a_report_without_a_configured_funnel_suggests_one_from_the_sites_pages(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "report"
    argv = ["--site", "shop", "--out", str(out), "--redis-url", redis_url]
    (tmp_path / "empty.toml").write_text("[clicktrail]\n")
    code = main(["report", "abandonment", *argv, "--config", str(tmp_path / "empty.toml")])
    printed, err = capsys.readouterr()
    assert code == 1 and not out.exists()  # no empty report over the demo shop's funnel
    assert err.count("\n") == 1 and "add a [funnels.NAME] table to clicktrail.toml" in err
    # A block to paste: the most viewed page templates, most viewed first.
    assert tomllib.loads(printed)["funnels"]["main"]["steps"] == [
        "/product/:id", "/cart", "/checkout", "/"
    ]  # fmt: skip
    (tmp_path / "clicktrail.toml").write_text(printed)
    code = main(["report", "abandonment", *argv, "--config", str(tmp_path / "clicktrail.toml")])
    assert code == 0 and (out / "report.html").is_file()


CART_TOML = '[funnels.cart]\nsteps = ["/product/*", "/cart", "/checkout", "/thanks"]\n'


def report(
    capsys: pytest.CaptureFixture[str], redis_url: str, tmp_path: Path, *argv: str
) -> tuple[int, str, str]:
    config = tmp_path / "clicktrail.toml"
    config.write_text(CART_TOML)
    where = ["--config", str(config), "--redis-url", redis_url]
    out_dir = str(tmp_path / "out")
    code = main(["report", "abandonment", "--site", "shop", "--out", out_dir, *argv, *where])
    out, err = capsys.readouterr()
    return code, out, err


def test_today_reports_on_todays_sessions_and_says_what_it_covers(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A first day's report: its sessions are today's, which no period ending yesterday sees.
    today = datetime.now(UTC).date().isoformat()
    code, out, _ = report(capsys, redis_url, tmp_path, "--period", "today")
    assert code == 0 and f"covers {today} (UTC)" in out
    sent = json.loads((tmp_path / "out" / "report.json").read_text())
    assert sent["period"]["covers"] == f"{today} (UTC)"
    assert f"covers {today} (UTC)" in (tmp_path / "out" / "report.html").read_text()
    drops = sent["journeys"]["after_drop"]
    assert [(d["dropped"], d["map"]["columns"][0]["visits"]) for d in drops] == [
        (5, 5), (7, 7), (8, 8)
    ]  # fmt: skip
    assert sent["journeys"]["into_first_step"]["visits"] == 30
    for name in ("journeys-into-step-1", "journeys-after-step-2"):
        assert (tmp_path / "out" / f"{name}.png").is_file()


def test_from_and_to_choose_the_reports_days(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ("--from", "2026-11-25", "--to", "2026-12-01", "--tz", "Europe/Paris")
    code, out, _ = report(capsys, redis_url, tmp_path, *argv)
    assert code == 0 and "covers 2026-11-25 to 2026-12-01 (Europe/Paris)" in out
    code, _, err = report(capsys, redis_url, tmp_path, "--period", "7d", "--from", "2026-11-25")
    assert code == 2 and err.count("\n") == 1 and "--period: give it or --from/--to" in err


def test_a_step_that_matches_nothing_is_said_and_the_funnel_still_answers(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = ["--step", "/cart", "--step", "/checkout", "--step", "/chekout", "--step", "event:x"]
    argv = ["funnel", "--site", "shop", *steps, "--redis-url", redis_url]
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    warnings = [
        "step 3 (/chekout) matched no page view in this range",
        "step 4 (event:x) matched no event in this range",
    ]
    assert code == 0 and json.loads(out)["warnings"] == warnings
    assert json.loads(out)["steps"][0]["entered"] == 25
    assert err.splitlines() == [f"clicktrail: warning: {w}" for w in warnings]
    code = main([*argv[:3], "--step", "/cart", "--step", "/checkout", *argv[-2:]])
    assert code == 0 and capsys.readouterr().err == ""  # steps that match: no word


def test_the_report_says_which_step_matched_nothing(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "typo.toml"
    config.write_text('[funnels.cart]\nsteps = ["/cart", "/chekout"]\n')
    argv = ["--site", "shop", "--period", "today", "--out", str(tmp_path / "out")]
    code = main(["report", "abandonment", *argv, "--config", str(config), "--redis-url", redis_url])
    err = capsys.readouterr().err
    assert code == 0
    assert err == "clicktrail: warning: step 2 (/chekout) matched no page view in this range\n"
    sent = json.loads((tmp_path / "out" / "report.json").read_text())
    assert sent["current"]["warnings"] == ["step 2 (/chekout) matched no page view in this range"]
