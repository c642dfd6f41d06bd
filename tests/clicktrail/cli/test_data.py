"""The data folder is found, not assumed: --data-dir, CLICKTRAIL_DATA, data_dir in the settings
file, a clicktrail-data/ here or in a parent folder, else the per-user folder. Only `serve`,
`demo` and `site add` make one; every other command says where it looked."""

from __future__ import annotations

from pathlib import Path

import pytest

from clicktrail.cli.main import build_parser, settings_from
from tests.clicktrail.cli.process import clicktrail, user_env

ORIGIN = ("--origin", "https://shop.example")


def test_a_command_run_in_a_subfolder_finds_the_projects_data(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "clicktrail-data").mkdir(parents=True)
    (project / "src" / "deep").mkdir(parents=True)
    env = user_env(tmp_path / "home")
    assert clicktrail("site", "add", "shop", *ORIGIN, cwd=project, env=env).returncode == 0
    listed = clicktrail("site", "list", cwd=project / "src" / "deep", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].startswith("shop\tct_")
    assert not (tmp_path / "home").exists()


def test_without_any_data_folder_a_reading_command_says_where_it_looked_and_makes_none(
    tmp_path: Path,
) -> None:
    here = tmp_path / "somewhere" / "else"
    here.mkdir(parents=True)
    home = tmp_path / "home"
    done = clicktrail("pages", "--site", "x", cwd=here, env=user_env(home))
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("clicktrail: error: no clicktrail data: ")
    assert f"no clicktrail-data/ in {here} or a parent folder" in line
    assert f"no {home}/.local/share/clicktrail" in line
    assert "--data-dir" in line and "CLICKTRAIL_DATA" in line
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert made == [Path("somewhere"), Path("somewhere/else")]


def test_site_add_makes_the_per_user_folder_that_every_folder_then_finds(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = user_env(tmp_path / "home", XDG_DATA_HOME=str(tmp_path / "xdg"))
    assert clicktrail("site", "add", "shop", *ORIGIN, cwd=tmp_path / "a", env=env).returncode == 0
    assert (tmp_path / "xdg" / "clicktrail").is_dir()
    assert not (tmp_path / "a" / "clicktrail-data").exists()
    listed = clicktrail("site", "list", cwd=tmp_path / "b", env=env)
    assert listed.stdout.splitlines()[1].startswith("shop\tct_")


def test_a_named_data_folder_that_does_not_exist_is_not_made(tmp_path: Path) -> None:
    env = user_env(tmp_path / "home", CLICKTRAIL_DATA=str(tmp_path / "typo"))
    done = clicktrail("site", "list", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert done.stderr.startswith(f"clicktrail: error: no data folder at {tmp_path / 'typo'};")
    assert not (tmp_path / "typo").exists()


def test_a_named_settings_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    done = clicktrail(
        "site", "list", "--config", "missing.toml", cwd=tmp_path, env=user_env(tmp_path)
    )
    assert (done.returncode, done.stderr) == (
        2,
        f"clicktrail: error: --config: no settings file at {tmp_path / 'missing.toml'}\n",
    )


def test_the_demo_keeps_its_data_beside_its_outputs_not_in_a_real_sites_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "clicktrail-data").mkdir()  # a real site's data, found from here by serve
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLICKTRAIL_DATA", raising=False)
    parser = build_parser()
    assert settings_from(parser.parse_args(["demo"])).data_dir == Path("clicktrail-demo/data")
    out = settings_from(parser.parse_args(["demo", "--out", "elsewhere"]))
    assert out.data_dir == Path("elsewhere/data")
    named = settings_from(parser.parse_args(["demo", "--data-dir", "mine"]))
    assert named.data_dir == Path("mine")
    monkeypatch.setenv("CLICKTRAIL_DATA", str(tmp_path / "env"))
    assert settings_from(parser.parse_args(["demo"])).data_dir == tmp_path / "env"
    assert settings_from(parser.parse_args(["pages", "--site", "x"])).data_dir == tmp_path / "env"
    monkeypatch.delenv("CLICKTRAIL_DATA")
    serve = settings_from(parser.parse_args(["serve"]))
    assert serve.data_dir.resolve() == (tmp_path / "clicktrail-data").resolve()
