"""The `clicktrail` command: sites, clear errors for bad arguments, its version, help pages
that describe and show defaults, and a quiet stderr."""

from __future__ import annotations

import argparse
import json
from importlib.metadata import version
from pathlib import Path

import pytest
import redis

from clicktrail.cli.main import build_parser, main
from tests.clicktrail.cli.process import clicktrail, user_env


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
        "time_zone": "UTC",
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
        (["serve", "--port", "99999"], "--port: expected a whole number from 1 to 65535"),
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
    assert out.splitlines()[1].startswith("shop\tct_")


def test_version_names_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"clicktrail {version('clicktrail')}\n"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= {f"{parser.prog} {name}": sub, **_subcommands(sub)}
    return found


@pytest.mark.parametrize(("name", "parser"), sorted(_subcommands(build_parser()).items()))
def test_every_help_page_has_a_description_and_shows_the_defaults(
    name: str, parser: argparse.ArgumentParser
) -> None:
    page = " ".join(parser.format_help().split())  # unwrapped
    assert parser.description, f"{name} --help has no description"
    assert parser.description in page
    for action in parser._actions:
        if not action.option_strings or action.default == argparse.SUPPRESS:
            continue
        assert action.help, f"{name} {action.option_strings[0]} has no help"
        if action.default not in (None, False, []):
            shown = f"(default: {action.default})" in page or "(default" in action.help
            assert shown, f"{name} --help hides the default of {action.option_strings[0]}"


def test_a_one_shot_command_writes_nothing_on_stderr_when_all_is_well(tmp_path: Path) -> None:
    env, data = user_env(tmp_path / "home"), str(tmp_path / "data")
    added = clicktrail("site", "add", "shop", "--origin", "https://a.example", "--data-dir", data,
                       cwd=tmp_path, env=env)  # fmt: skip
    listed = clicktrail("site", "list", "--data-dir", data, cwd=tmp_path, env=env)
    assert (added.returncode, added.stderr) == (0, "")  # it started the embedded Redis
    assert (listed.returncode, listed.stderr) == (0, "")  # it used the running one
