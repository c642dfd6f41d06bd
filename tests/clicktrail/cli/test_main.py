"""The `clicktrail` command: sites, and clear errors for bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from clicktrail.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_site_add_prints_the_key_and_the_script_tag_to_paste(
    capsys: pytest.CaptureFixture[str], redis_url: str, redis_client: redis.Redis
) -> None:
    code, out, _ = run(
        capsys,
        "site",
        "add",
        "shop",
        "--origin",
        "https://shop.example",
        "--origin",
        "http://localhost:3000",
        "--redis-url",
        redis_url,
        "--public-url",
        "https://stats.shop.example",
    )
    assert code == 0
    key = next(line.split(": ")[1] for line in out.splitlines() if line.startswith("Public key"))
    assert f'<script defer src="https://stats.shop.example/t.js" data-site="{key}"></script>' in out
    code, out, _ = run(capsys, "site", "list", "--json", "--redis-url", redis_url)
    [listed] = json.loads(out)
    assert listed == {
        "name": "shop",
        "key": key,
        "shards": 1,
        "origins": ["https://shop.example", "http://localhost:3000"],
    }
    code, out, _ = run(capsys, "site", "remove", "shop", "--redis-url", redis_url)
    assert code == 0 and key in out
    code, out, _ = run(capsys, "site", "list", "--redis-url", redis_url)
    assert "No sites yet" in out


def test_site_errors_are_one_clear_line(
    capsys: pytest.CaptureFixture[str], redis_url: str, redis_client: redis.Redis
) -> None:
    run(capsys, "site", "add", "shop", "--origin", "https://shop.example", "--redis-url", redis_url)
    code, _, err = run(
        capsys, "site", "add", "shop", "--origin", "https://x.example", "--redis-url", redis_url
    )
    assert (code, err) == (2, "clicktrail: error: site 'shop' exists already\n")
    code, _, err = run(
        capsys, "site", "add", "blog", "--origin", "blog.example", "--redis-url", redis_url
    )
    assert code == 2 and "must look like https://shop.example" in err
    code, _, err = run(capsys, "site", "remove", "nope", "--redis-url", redis_url)
    assert code == 2 and "no site named 'nope'" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "99999"], "--port: expected an integer from 1 to 65535"),
        (["serve", "--redis-url", "localhost"], "--redis-url: expected a redis://"),
        (["site", "add", "shop"], "--origin"),
        (["site", "add", "shop", "--origin", "https://a.example", "--shards", "0"], "--shards"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_exit_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_bad_environment_value_stops_the_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLICKTRAIL_PORT", "eighty")
    with pytest.raises(SystemExit) as exited:
        main(["site", "list"])
    assert exited.value.code == 2
    assert "CLICKTRAIL_PORT" in capsys.readouterr().err


def test_without_redis_url_the_embedded_redis_of_the_data_dir_is_used(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    data = tmp_path / "data"
    run(capsys, "site", "add", "shop", "--origin", "https://shop.example", "--data-dir", str(data))
    assert (data / "appendonly.aof").exists() or (data / "appendonlydir").exists()
    _, out, _ = run(capsys, "site", "list", "--data-dir", str(data))
    assert out.startswith("shop\tct_")
