"""The error a command raises for a bad option value that argparse could not catch alone."""

from __future__ import annotations


class CommandError(ValueError):
    """A bad option value that argparse could not catch alone."""
