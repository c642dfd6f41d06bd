"""The errors a command raises for the user to read: one line each, and the exit code it means."""

from __future__ import annotations


class CommandError(ValueError):
    """A bad option value that argparse could not catch alone (exit 2, as argparse's own)."""


class Unavailable(RuntimeError):
    """Something the command needs is missing or taken: the data folder, Redis, a port (exit 1)."""
