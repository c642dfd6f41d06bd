"""The interval for a change in conversion, against published values."""

from __future__ import annotations

import pytest

from reports.analyses.stats import compare, wilson


def test_wilson_matches_newcombes_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 -> 0.2553 to 0.3662.
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_the_difference_interval_matches_newcombes_method_10() -> None:
    # Newcombe (1998b), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80
    # -> difference 0.2000, method 10 interval 0.0524 to 0.3339.
    change = compare((56, 70), (48, 80))
    assert round(change.difference or 0, 4) == 0.2
    assert (round(change.low or 0, 4), round(change.high or 0, 4)) == (0.0524, 0.3339)
    assert change.significant


def test_a_small_wobble_on_small_samples_is_not_news() -> None:
    assert not compare((9, 100), (7, 100)).significant
    assert compare((900, 10_000), (700, 10_000)).significant


def test_an_empty_period_has_no_interval() -> None:
    change = compare((3, 10), (0, 0))
    assert change.difference is None and not change.significant


def test_a_proportion_needs_trials() -> None:
    with pytest.raises(ValueError, match="at least one trial"):
        wilson(0, 0)
