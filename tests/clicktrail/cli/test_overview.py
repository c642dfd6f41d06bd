"""`clicktrail overview`: the JSON the API also serves, the text a site owner reads, goals from
clicktrail.toml, and one-line errors for what cannot be answered."""

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

GOALS = """
[goals]
purchase = "/thanks"
"""


def run(capsys: pytest.CaptureFixture[str], redis_url: str, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["overview", *argv, "--site", "shop", "--redis-url", redis_url])
    except SystemExit as exc:
        code = int(str(exc.code))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_json_is_the_apis_with_goals_from_the_settings_file(
    shop: Site,
    redis_url: str,
    redis_client: redis.Redis,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text(GOALS)
    code, out, _ = run(capsys, redis_url, "--goal", "purchase", "--json", "--config", str(config))
    from_cli = json.loads(out)
    assert code == 0
    assert (from_cli["visits"], from_cli["conversions"]) == (30, 10)  # JOURNEYS: 10 reach /thanks
    assert from_cli["goals"][0] | {"channels": []} == {
        "name": "purchase", "pattern": "/thanks", "conversions": 10,
        "conversion_rate": 10 / 30, "channels": [],
    }  # fmt: skip
    app = create_web_app(Settings(data_dir=tmp_path), redis_url, config, lambda name: [])
    secret, _ = create_token(redis_client, "tests")
    with TestClient(app) as web:
        reply = web.get(
            "/api/sites/shop/overview?goal=purchase",
            headers={"Authorization": f"Bearer {secret}"},
        )
        bad = web.get(
            "/api/sites/shop/overview?goal=nothing", headers={"Authorization": f"Bearer {secret}"}
        )
    from_api = reply.json()
    pop_as_of(from_api, from_cli)
    assert from_api == from_cli
    assert bad.status_code == 400
    assert "nor is it a goal's name in [goals] (known: purchase)" in bad.json()["error"]


def test_the_text_shows_cards_against_the_previous_period_and_lists(
    shop: Site, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, redis_url, "--goal", "/thanks")
    assert code == 0
    assert "visits                                   30   before          0" in out
    assert "conversions                              10   before          0" in out
    assert "Top pages (visits / views)" in out
    assert "Channels (visits / conversions)" in out
    assert "Direct" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--goal", "cart"], "--goal: step 'cart' must start with '/', 're:' or 'event:'"),
        (["--limit", "-1"], "--limit"),
        (["--from", "2026-02-30"], "--from"),
        (["--channel", "nowhere"], "--channel"),
        (["--tz", "Mars/Olympus"], "--tz"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(
    shop: Site,
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    code, _, err = run(capsys, redis_url, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3


def test_a_bad_goals_table_is_one_line(
    shop: Site, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "clicktrail.toml"
    config.write_text('[goals]\npurchase = "thanks"\n')
    code, _, err = run(capsys, redis_url, "--config", str(config))
    assert code == 2
    assert "goals.purchase: step 'thanks' must start with '/'" in err
