"""The errors a command raises for the user to read: one line each, and the exit code it means;
and the warnings it prints when it answers all the same."""

from __future__ import annotations

import sys
from collections.abc import Iterable


class CommandError(ValueError):
    """A bad option value that argparse could not catch alone (exit 2, as argparse's own)."""


class Unavailable(RuntimeError):
    """Something the command needs is missing or taken: the data folder, Redis, a port (exit 1)."""


def warn(warnings: Iterable[str]) -> None:
    """One line on stderr per warning (a page or step that matched nothing); the exit stays 0."""
    for warning in warnings:
        print(f"clicktrail: warning: {warning}", file=sys.stderr)
