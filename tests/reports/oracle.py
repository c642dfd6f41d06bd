"""A plain, obviously correct funnel: every chain of events tried, one unit at a time.

Slow on purpose (exponential in the events of a unit): it restates the rules, it does not
optimise them, so the vectorised engine can be checked against it on small random sessions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Event = tuple[int, str]  # ms, "p:/path" or "e:name"
Matcher = Callable[[str], bool]


@dataclass(frozen=True)
class UnitResult:
    level: int  # best number of steps reached, 0 when no attempt started in range
    open: bool  # not converted and an attempt's window still open at now
    times: list[int]  # ms of each step's event in the canonical best attempt


def best_attempt(
    events: Sequence[Event],
    steps: Sequence[Matcher],
    window: int,
    start: int,
    end: int,
    now: int,
    strict: bool,
) -> UnitResult:
    n = len(steps)
    levels: list[tuple[int, int]] = []  # (level, start index)
    for i, (ms, name) in enumerate(events):
        if steps[0](name) and start <= ms < end:
            levels.append((_deepest(events, steps, window, strict, i, i, 1), i))
    if not levels:
        return UnitResult(0, False, [])
    best = max(level for level, _ in levels)
    first = min(i for level, i in levels if level == best)
    still_open = best < n and any(events[i][0] + window > now and lv < n for lv, i in levels)
    return UnitResult(best, still_open, _earliest_chain(events, steps, window, strict, first, best))


def _deepest(
    events: Sequence[Event],
    steps: Sequence[Matcher],
    window: int,
    strict: bool,
    first: int,
    last: int,
    reached: int,
) -> int:
    """Most steps reachable from a chain of `reached` steps that started at `first` and whose
    latest event is `last`: try every later event as the next step."""
    if reached == len(steps):
        return reached
    best = reached
    for j in range(last + 1, len(events)):
        if events[j][0] - events[first][0] > window:
            continue
        if strict and _broken(events, steps[reached - 1], last, j):
            continue
        if steps[reached](events[j][1]):
            best = max(best, _deepest(events, steps, window, strict, first, j, reached + 1))
    return best


def _broken(events: Sequence[Event], current: Matcher, last: int, j: int) -> bool:
    """A page view between the chain's last event and j that is not the current step again."""
    return any(
        events[m][1].startswith("p:") and not current(events[m][1]) for m in range(last + 1, j)
    )


def _earliest_chain(
    events: Sequence[Event],
    steps: Sequence[Matcher],
    window: int,
    strict: bool,
    first: int,
    level: int,
) -> list[int]:
    """Times of the chain that takes the earliest qualifying event for each step."""
    chain = [first]
    for k in range(1, level):
        for j in range(chain[-1] + 1, len(events)):
            in_window = events[j][0] - events[first][0] <= window
            if strict and _broken(events, steps[k - 1], chain[-1], j):
                break
            if in_window and steps[k](events[j][1]):
                chain.append(j)
                break
    return [events[i][0] for i in chain]
