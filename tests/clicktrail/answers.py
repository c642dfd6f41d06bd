"""Comparing the CLI's JSON with the API's: each says when it was asked (`as_of`), and the two
were asked one after the other, so they differ by moments (and may straddle a minute)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

APART_S = 60  # far more than one test's two questions take


def pop_as_of(*answers: dict[str, Any]) -> None:
    """Takes `as_of` out of every answer, checking that they were asked within a minute."""
    moments = [datetime.fromisoformat(answer.pop("as_of")) for answer in answers]
    apart = (max(moments) - min(moments)).total_seconds()
    assert apart < APART_S, f"asked {apart:.0f} s apart: {moments}"
