"""The funnel's rules, one hand-made case each: order, window, re-entry, strict mode, ranges,
in-progress units, identical steps, ties, visitors, and where those who dropped went."""

from __future__ import annotations

from typing import Any

import pytest

from reports.analyses.funnel_result import FunnelNumbers
from reports.analyses.funnel_table import FunnelQuery, compute_funnel
from tests.reports.tables import S, table_of

MIN = 60_000
HOUR = 60 * MIN
T0 = 1_700_000_000_000
SHOP = ["/product/*", "/cart", "/checkout", "/thanks"]


def funnel(sessions: list[S], steps: list[str] = SHOP, **query: Any) -> FunnelNumbers:
    settings: dict[str, Any] = {
        "window_ms": HOUR,
        "start_ms": T0 - HOUR,
        "end_ms": T0 + 24 * HOUR,
        "now_ms": T0 + 100 * HOUR,
    } | query
    result, _, _ = compute_funnel(table_of(sessions), FunnelQuery(steps, **settings))
    return result


def entered(result: FunnelNumbers) -> list[int]:
    return [step["entered"] for step in result["steps"]]


def pages(*paths: str, every_ms: int = MIN, at: int = T0) -> list[tuple[int, str]]:
    return [(at + i * every_ms, f"p:{path}") for i, path in enumerate(paths)]


def test_a_session_through_every_step_converts() -> None:
    result = funnel([S(pages("/", "/product/1", "/cart", "/checkout", "/thanks"))])
    assert entered(result) == [1, 1, 1, 1]
    assert result["overall"] == {
        "entered": 1,
        "converted": 1,
        "abandoned": 0,
        "in_progress": 0,
        "conversion_rate": 1.0,
    }


def test_steps_must_come_in_order() -> None:
    result = funnel([S(pages("/cart", "/product/1", "/checkout", "/thanks"))])
    assert entered(result) == [1, 0, 0, 0]
    assert result["steps"][0]["dropped"] == 1


def test_the_window_is_measured_from_step_one_and_includes_its_edge() -> None:
    edge = S(pages("/product/1", "/cart", "/checkout", "/thanks", every_ms=20 * MIN))
    assert entered(funnel([edge])) == [1, 1, 1, 1]  # /thanks exactly 60 min after step 1
    just_in = S([(T0, "p:/product/1"), (T0 + 30 * MIN, "p:/cart"), (T0 + HOUR, "p:/checkout")])
    just_out = S([(T0, "p:/product/1"), (T0 + 30 * MIN, "p:/cart"), (T0 + HOUR + 1, "p:/checkout")])
    assert entered(funnel([just_in])) == [1, 1, 1, 0]
    assert entered(funnel([just_out])) == [1, 1, 0, 0]


def test_a_new_step_one_event_starts_a_new_attempt_and_the_best_one_counts() -> None:
    late = S(
        [
            (T0, "p:/product/1"),
            (T0 + 2 * HOUR, "p:/product/2"),
            (T0 + 2 * HOUR + MIN, "p:/cart"),
            (T0 + 2 * HOUR + 2 * MIN, "p:/checkout"),
        ]
    )
    result = funnel([late])
    assert entered(result) == [1, 1, 1, 0]
    assert result["steps"][0]["median_s"] == 60.0  # from /product/2, the attempt that counted


def test_strict_mode_breaks_on_another_page_view_but_not_on_reloads_or_events() -> None:
    detour = S(pages("/product/1", "/about", "/cart"))
    reload = S(pages("/product/1", "/cart", "/cart", "/checkout"))
    event = S([(T0, "p:/product/1"), (T0 + 1, "e:add_to_cart"), (T0 + 2, "p:/cart")])
    assert entered(funnel([detour], strict=True)) == [1, 0, 0, 0]
    assert entered(funnel([detour], strict=False)) == [1, 1, 0, 0]
    assert entered(funnel([reload], strict=True)) == [1, 1, 1, 0]
    assert entered(funnel([event], strict=True)) == [1, 1, 0, 0]


def test_the_range_selects_step_one_and_later_steps_may_fall_after_it() -> None:
    at_start = S(pages("/product/1", "/cart", at=T0))
    at_end = S(pages("/product/1", "/cart", at=T0 + HOUR))
    result = funnel([at_start, at_end], start_ms=T0, end_ms=T0 + HOUR)
    assert entered(result) == [1, 1, 0, 0]  # the end is exclusive
    straddling = S([(T0 + HOUR - 1, "p:/product/1"), (T0 + HOUR + 5 * MIN, "p:/cart")])
    assert entered(funnel([straddling], start_ms=T0, end_ms=T0 + HOUR)) == [1, 1, 0, 0]


def test_a_unit_whose_window_is_still_open_is_in_progress_not_abandoned() -> None:
    session = S(pages("/product/1", "/cart"))
    result = funnel([session], now_ms=T0 + 30 * MIN)
    cart = result["steps"][1]
    assert (cart["in_progress"], cart["dropped"]) == (1, 0)
    assert result["overall"]["in_progress"] == 1 and result["overall"]["abandoned"] == 0
    later = funnel([session], now_ms=T0 + 2 * HOUR)
    assert (later["steps"][1]["in_progress"], later["steps"][1]["dropped"]) == (0, 1)


def test_identical_consecutive_steps_need_distinct_events() -> None:
    once = S(pages("/faq"))
    twice = S(pages("/faq", "/faq"))
    assert entered(funnel([once, twice], ["/faq", "/faq"])) == [2, 1]


def test_events_at_the_same_millisecond_keep_their_recorded_order() -> None:
    tied = S([(T0, "p:/product/1"), (T0, "p:/cart"), (T0, "p:/checkout")])
    backwards = S([(T0, "p:/cart"), (T0, "p:/product/1")])
    assert entered(funnel([tied])) == [1, 1, 1, 0]
    assert entered(funnel([backwards])) == [1, 0, 0, 0]


def test_custom_events_and_templates_can_be_steps() -> None:
    session = S([(T0, "p:/product/77"), (T0 + 1, "e:add_to_cart"), (T0 + 2, "p:/cart")])
    result = funnel([session], ["/product/:id", "event:add_to_cart", "/cart"])
    assert entered(result) == [1, 1, 1]


def test_a_visitor_unit_joins_the_sessions_of_one_visitor() -> None:
    first = S(pages("/product/1"), visitor=7)
    second = S(pages("/cart", at=T0 + 10 * MIN), visitor=7)
    stranger = S(pages("/cart", at=T0 + 11 * MIN), visitor=8)
    assert entered(funnel([first, second, stranger], unit="session")) == [1, 0, 0, 0]
    assert entered(funnel([first, second, stranger], unit="visitor")) == [1, 1, 0, 0]


def test_those_who_dropped_are_followed_to_their_next_and_exit_page() -> None:
    sessions = [
        S(pages("/product/1", "/cart", "/cart", "/shipping", "/faq")),
        S(pages("/product/2", "/cart", "/shipping")),
        S(pages("/product/3", "/cart")),
        S(pages("/product/4", "/cart", "/checkout", "/thanks")),
    ]
    cart = funnel(sessions)["steps"][1]
    assert (cart["entered"], cart["converted"], cart["dropped"]) == (4, 1, 3)
    assert cart["next_pages"] == [
        {"page": "/shipping", "count": 2},  # the reload of /cart is skipped
        {"page": "(left the site)", "count": 1},
    ]
    assert cart["exit_pages"] == [
        {"page": "/cart", "count": 1},
        {"page": "/faq", "count": 1},
        {"page": "/shipping", "count": 1},
    ]
    assert cart["drop_off_rate"] == 0.75 and cart["conversion_rate"] == 0.25


def test_only_the_ten_most_frequent_next_pages_are_named() -> None:
    sessions = [S(pages("/product/1", f"/page-{i}-x")) for i in range(12) for _ in range(i + 1)]
    next_pages = funnel(sessions)["steps"][0]["next_pages"]
    assert len(next_pages) == 11 and next_pages[0] == {"page": "/page-11-x", "count": 12}
    assert next_pages[-1] == {"page": "(other)", "count": 1 + 2}


def test_times_to_the_next_step_are_median_and_90th_percentile() -> None:
    sessions = [S(pages("/product/1", "/cart", every_ms=i * 1000)) for i in range(1, 11)]
    product = funnel(sessions)["steps"][0]
    assert product["median_s"] == 5.5 and product["p90_s"] == pytest.approx(9.1)


def test_breakdown_by_band_and_source() -> None:
    sessions = [
        S(pages("/product/1", "/cart"), band=0, source="news.example"),
        S(pages("/product/1"), band=0, source="(direct)"),
        S(pages("/product/1", "/cart", "/checkout", "/thanks"), band=2, source="news.example"),
    ]
    by_band = funnel(sessions, breakdown="band")["breakdown"]
    assert by_band["groups"] == [
        {
            "group": "mobile",
            "entered": 2,
            "converted": 0,
            "conversion_rate": 0.0,
            "steps": [2, 1, 0, 0],
        },
        {
            "group": "desktop",
            "entered": 1,
            "converted": 1,
            "conversion_rate": 1.0,
            "steps": [1, 1, 1, 1],
        },
    ]
    by_source = funnel(sessions, breakdown="source")["breakdown"]["groups"]
    assert [(g["group"], g["entered"], g["converted"]) for g in by_source] == [
        ("news.example", 2, 1),
        ("(direct)", 1, 0),
    ]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (["/cart"], "2 to 20 steps"),
        (["/a"] * 21, "2 to 20 steps"),
        (["/cart", "cart"], "must start with '/'"),
        (["/cart", "re:("], "not a valid regex"),
        (["/cart", r"re:(/\w+)\1"], "no backreferences"),
        (["/cart", "event:"], "names no event"),
        (["/cart", " "], "must not be empty"),
    ],
)
def test_bad_steps_are_refused_with_a_reason(steps: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        funnel([S(pages("/cart"))], steps)


def test_an_empty_table_gives_zeros_not_errors() -> None:
    result = funnel([])
    assert entered(result) == [0, 0, 0, 0] and result["overall"]["conversion_rate"] is None
