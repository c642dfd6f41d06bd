"""User agents: bots recognised (crawlers, HTTP libraries, headless browsers), browser and
system families of real browsers, answers cached by hash and bounded, hostile strings handled."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.agents import MAX_FAMILY_CHARS, AgentParser

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36"
)

parse = AgentParser()


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "facebookexternalhit/1.1",
        "curl/8.5.0",
        "python-requests/2.32",
        "",
        HEADLESS,  # a headless browser the old hand-written pattern let through
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) PhantomJS/2.1.1 Safari/538.1",
        "UptimeRobot/2.0",
    ],
)
def test_bots_are_recognised(agent: str) -> None:
    assert parse(agent).bot


@pytest.mark.parametrize(
    ("agent", "browser", "system"),
    [
        (CHROME_WINDOWS, "Chrome", "Windows"),
        (SAFARI_IPHONE, "Mobile Safari", "iOS"),
        (FIREFOX_LINUX, "Firefox", "Linux"),
    ],
)
def test_browsers_are_named_by_family(agent: str, browser: str, system: str) -> None:
    answer = parse(agent)
    assert (answer.bot, answer.browser, answer.os) == (False, browser, system)


def test_answers_are_cached_by_hash_and_bounded() -> None:
    small = AgentParser(entries=2)
    first = small(CHROME_WINDOWS)
    assert small(CHROME_WINDOWS) is first
    small(SAFARI_IPHONE)
    small(FIREFOX_LINUX)
    assert len(small._cache) == 2
    assert all(len(key) == 8 for key in small._cache)  # hashes, never the user agents


@settings(max_examples=200, deadline=None)
@given(agent=st.text(max_size=1024))
def test_any_string_gets_an_answer_with_short_printable_families(agent: str) -> None:
    answer = parse(agent)
    for family in (answer.browser, answer.os):
        assert 0 < len(family) <= MAX_FAMILY_CHARS and family.isprintable()
