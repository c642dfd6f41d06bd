"""Is a change in conversion real? Newcombe's hybrid score interval for a difference of two
proportions: unlike the textbook Wald interval it stays honest for small samples and for rates
near 0 % or 100 %, which is where funnels live."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959964


@dataclass(frozen=True)
class Change:
    current: float | None  # rate now
    previous: float | None  # rate in the previous period
    difference: float | None  # current - previous
    low: float | None  # 95 % interval of the difference
    high: float | None

    @property
    def significant(self) -> bool:
        """The interval excludes zero: the change is unlikely to be noise."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if trials <= 0:
        raise ValueError("a proportion needs at least one trial")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def compare(current: tuple[int, int], previous: tuple[int, int], z: float = Z_95) -> Change:
    """(successes, trials) now and before -> the difference with its interval."""
    (s1, n1), (s0, n0) = current, previous
    p1 = s1 / n1 if n1 else None
    p0 = s0 / n0 if n0 else None
    if p1 is None or p0 is None:
        return Change(p1, p0, None, None, None)
    l1, u1 = wilson(s1, n1, z)
    l0, u0 = wilson(s0, n0, z)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return Change(p1, p0, d, low, high)
