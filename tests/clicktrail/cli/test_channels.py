"""`clicktrail channels`: the table, the JSON the API also serves, and `--explain` as a tester of
the rules in clicktrail.toml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from clicktrail.cli.main import main
from clicktrail.web.app import create_web_app
from clicktrail.web.tokens import create_token
from collector.settings import Settings
from collector.sites import Site
from tests.clicktrail.answers import pop_as_of

RULES = """
[[channels.rules]]
channel = "affiliates"
medium = { contains = "influencer" }
"""


def run(capsys: pytest.CaptureFixture[str], redis_url: str, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["channels", *argv, "--site", "shop", "--redis-url", redis_url])
    except SystemExit as exc:
        code = int(str(exc.code))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_json_is_the_apis(
    shop: Site,
    redis_url: str,
    redis_client: redis.Redis,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, redis_url, "--goal", "/thanks", "--json")
    from_cli = json.loads(out)
    assert code == 0
    assert from_cli["channels"] == [
        {"channel": "direct", "name": "Direct", "visits": 30, "bounce_rate": 0.0,
         "conversions": 10, "conversion_rate": 10 / 30,
         "sources": [{"source": "(direct)", "visits": 30}]},
    ]  # fmt: skip
    app = create_web_app(Settings(data_dir=tmp_path), redis_url, None, lambda name: [])
    secret, _ = create_token(redis_client, "tests")
    with TestClient(app) as web:
        reply = web.get(
            "/api/sites/shop/channels?goal=/thanks", headers={"Authorization": f"Bearer {secret}"}
        )
    from_api = reply.json()
    pop_as_of(from_api, from_cli)
    assert from_api == from_cli


def test_the_table_names_channels_and_their_sources(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, redis_url, "--goal", "/thanks")
    assert code == 0
    assert "Direct                    30 100.0%      0%      10  33.3%  (direct) (30)" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--explain", "https://shop.example/?utm_source=google&utm_medium=cpc&gclid=1"],
         "paid_search (Paid Search): paid medium 'cpc' on a search platform"),
        (["--explain", "https://shop.example/?fbclid=abc", "--referrer", "m.facebook.com"],
         "organic_social (Organic Social): referrer m.facebook.com is social"),
        (["--explain", "https://shop.example/", "--referrer", "android-app://com.google.android.gm"],
         "email (Email): referrer android-app://com.google.android.gm is email"),
        (["--explain", "https://shop.example/?utm_source=ig&utm_medium=influencer"],
         "affiliates (Affiliates): your rule 1 (medium contains 'influencer')"),
    ],
)  # fmt: skip
def test_explain_says_which_rule_decided(
    shop: Site,
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    argv: list[str],
    expected: str,
) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text(RULES)
    code, out, _ = run(capsys, redis_url, *argv, "--config", str(config))
    assert (code, out.strip()) == (0, expected)


def test_a_bad_rule_in_the_file_is_one_line_and_exit_2(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text('[[channels.rules]]\nchannel = "tv"\n')
    code, _, err = run(capsys, redis_url, "--config", str(config))
    assert code == 2 and "channels rule 1: channel 'tv' is not one of" in err
    assert len(err.strip().splitlines()) == 1


def test_a_goal_can_be_named_in_the_settings_file(
    shop: Site, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text('[goals]\npurchase = "/thanks"\n')
    code, out, _ = run(capsys, redis_url, "--goal", "purchase", "--json", "--config", str(config))
    assert code == 0
    assert json.loads(out)["channels"][0]["conversions"] == 10
    code, _, err = run(capsys, redis_url, "--goal", "sale", "--config", str(config))
    assert code == 2
    assert "nor is it a goal's name in [goals] (known: purchase)" in err
