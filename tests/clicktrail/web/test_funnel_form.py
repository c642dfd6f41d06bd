"""The funnel form as the user left it: typed steps kept in their boxes, the faulty ones marked,
and the windows offered."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from clicktrail.web.funnel_form import WINDOWS, FunnelForm, StepBox, funnel_form
from reports.analyses.durations import MAX_WINDOW_MS, parse_duration_ms

CART = ("/product/*", "/cart", "/checkout", "/thanks")


def form(query: str) -> FunnelForm:
    return funnel_form(QueryParams(query), CART)


def test_nothing_typed_opens_on_the_default_steps_and_an_hour() -> None:
    assert form("") == FunnelForm(tuple(StepBox(s) for s in CART), "1h", WINDOWS)
    assert form("step=&step=+").steps == tuple(StepBox(s) for s in CART)


def test_what_was_typed_stays_in_its_box_and_the_faulty_step_says_why() -> None:
    typed = form("step=/p/:id&step=&step=re:(&step=/thanks")
    assert [box.value for box in typed.steps] == ["/p/:id", "", "re:(", "/thanks"]
    assert [box.problem is not None for box in typed.steps] == [False, False, True, False]
    assert typed.first_problem is not None and typed.first_problem.startswith("Step 3: ")


def test_one_typed_step_gets_a_second_box() -> None:
    assert form("step=/cart").steps == (StepBox("/cart"), StepBox(""))


def test_windows_run_from_a_minute_to_the_longest_the_funnel_takes() -> None:
    assert WINDOWS[0] == "1m" and parse_duration_ms(WINDOWS[-1]) == MAX_WINDOW_MS
    assert [parse_duration_ms(w) for w in WINDOWS] == sorted(parse_duration_ms(w) for w in WINDOWS)


def test_any_valid_window_in_the_url_is_offered_in_its_place() -> None:
    asked = form("window=2h")
    assert asked.window == "2h"
    assert asked.windows == ("1m", "5m", "15m", "30m", "1h", "2h", "6h", "1d", "7d")
    assert form("window=5m").windows == WINDOWS
    assert (form("window=30d").window, form("window=30d").windows) == ("1h", WINDOWS)
