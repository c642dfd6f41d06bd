"""GET /api/sites/{site}/journeys and /paths: the same JSON as the commands, over the shop's
sessions posted through POST /e (tests/clicktrail/conftest.py: JOURNEYS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
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


@pytest.fixture
def web(redis_url: str, tmp_path: Path) -> Iterator[TestClient]:
    app = create_web_app(Settings(data_dir=tmp_path), redis_url, None, lambda name: [])
    with TestClient(app) as client:
        yield client


@pytest.fixture
def auth(redis_client: redis.Redis) -> dict[str, str]:
    secret, _ = create_token(redis_client, "tests")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(
    ("query", "argv"),
    [
        ("", []),
        (
            "start=/product/*&goal=/thanks&converted=false&steps=3&rows=2&band=desktop",
            ["--start", "/product/*", "--goal", "/thanks", "--converted", "false", "--steps",
             "3", "--rows", "2", "--band", "desktop"],
        ),
        (
            "end=/checkout&exclude=/cart&merge_templates=true&events=true&source=(direct)",
            ["--end", "/checkout", "--exclude", "/cart", "--merge-templates", "--events",
             "--source", "(direct)"],
        ),
        (
            "start=/&end=/thanks&tz=Europe/Paris",
            ["--start", "/", "--end", "/thanks", "--tz", "Europe/Paris"],
        ),
    ],
)  # fmt: skip
def test_journeys_are_the_same_json_as_the_command(
    web: TestClient,
    shop: Site,
    auth: dict[str, str],
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
    query: str,
    argv: list[str],
) -> None:
    from_api = web.get(f"/api/sites/shop/journeys?{query}", headers=auth).json()
    assert main(["journeys", "--site", "shop", *argv, "--json", "--redis-url", redis_url]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    pop_as_of(from_api, from_cli)
    assert from_api == from_cli
    assert from_api["visits"] > 0


def test_paths_are_the_same_json_as_the_command(
    web: TestClient,
    shop: Site,
    auth: dict[str, str],
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from_api = web.get("/api/sites/shop/paths?start=/&end=/thanks", headers=auth).json()
    argv = ["paths", "--site", "shop", "--start", "/", "--end", "/thanks", "--json"]
    assert main([*argv, "--redis-url", redis_url]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    pop_as_of(from_api, from_cli)
    assert from_api == from_cli
    assert (from_api["visits_with_start"], from_api["reached_end"]) == (10, 10)
    assert from_api["between"][3] == {"steps": "3", "min": 3, "max": 3, "visits": 10}


def test_an_anchor_that_matches_nothing_is_a_warning_not_an_error(
    web: TestClient, shop: Site, auth: dict[str, str]
) -> None:
    response = web.get("/api/sites/shop/journeys?goal=/nowhere", headers=auth)
    assert response.status_code == 200
    assert response.json()["warnings"] == ["goal (/nowhere) matched no page view in this range"]
