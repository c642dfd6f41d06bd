"""The argument parser every command uses: one-line usage errors, and help pages with a
description and the defaults."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line: the message names the option, and the usage
    block argparse prints above it would push that line off a small terminal."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


class DefaultsFormatter(argparse.HelpFormatter):
    """Adds "(default: X)" to an option's help, unless its help already says it or it has
    none worth saying (None, False, an empty list)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and "(default" not in text
            and default not in (None, False, [], argparse.SUPPRESS)
        ):
            text += " (default: %(default)s)"
        return text


def command(commands: Any, name: str, *, help: str, **kwargs: Any) -> Parser:
    """A subcommand whose own --help opens with `help` as its description."""
    parser: Parser = commands.add_parser(
        name,
        help=help,
        description=kwargs.pop("description", None) or f"{help[0].upper()}{help[1:]}.",
        formatter_class=DefaultsFormatter,
        **kwargs,
    )
    return parser
