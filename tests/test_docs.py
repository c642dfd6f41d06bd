"""The README stays true: every setting, command and option is documented."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from clicktrail.cli.main import build_parser
from clicktrail.demo.state import HISTORY_DAYS
from collector.settings import SPECS

README = (Path(__file__).parent.parent / "README.md").read_text()


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_setting_is_documented_with_env_var_and_file_key(spec: object) -> None:
    assert f"| `{spec.env}` | `{spec.name}` |" in README  # type: ignore[attr-defined]


def _commands(parser: argparse.ArgumentParser, prefix: str = "clicktrail") -> dict[str, object]:
    found: dict[str, object] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(_commands(sub, f"{prefix} {name}") or {f"{prefix} {name}": sub})
    return found


@pytest.mark.parametrize("command", sorted(_commands(build_parser())))
def test_every_command_and_option_is_documented(command: str) -> None:
    assert f"`{command}" in README
    parser = _commands(build_parser())[command]
    for action in parser._actions:  # type: ignore[attr-defined]
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert option in README, f"{command} {option} is not in README.md"


def test_the_readme_opens_with_the_run_and_test_commands() -> None:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert "scripts/run" in first_block and "scripts/test" in first_block
    assert "scripts/test" in (Path(__file__).parent.parent / ".ci" / "run").read_text()


def test_demo_help_and_readme_agree_on_the_history_length() -> None:
    demo = _commands(build_parser())["clicktrail demo"]
    help_text = " ".join(demo.format_help().split())  # type: ignore[attr-defined]
    assert f"{HISTORY_DAYS} days of synthetic" in help_text and "week" not in help_text
    readme = " ".join(README.split())
    assert f"posts {HISTORY_DAYS} days of synthetic visits" in readme
    assert f"visits of the last {HISTORY_DAYS} days" in readme


def test_the_demo_output_folder_is_ignored_by_git() -> None:
    demo = _commands(build_parser())["clicktrail demo"]
    out = demo.parse_args([]).out  # type: ignore[attr-defined]
    ignored = (Path(__file__).parent.parent / ".gitignore").read_text().splitlines()
    assert f"{out}/" in ignored
