"""The channel classifier: a table of touchpoints and their channels (the peers' known mistakes
included), the site owner's rules, and hostile input."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.analyses.channel_hosts import host_category, host_list, normalize_host
from reports.analyses.channel_names import Channel
from reports.analyses.channel_rules import parse_rules
from reports.analyses.channels import (
    CLICK_IDS,
    Touchpoint,
    classify,
    classify_many,
    explain,
)

SITE = ("https://shop.example", "http://www.shop.example:8080")
T = Touchpoint


def ids(*names: str) -> frozenset[str]:
    return frozenset(names)


CASES = [
    # direct, internal, referral
    (T(), "direct"),
    (T(referrer="shop.example"), "internal"),
    (T(referrer="www.shop.example"), "internal"),
    (T(referrer="blog.example.org"), "referral"),
    (T(referrer="shop.example", source="newsletter", medium="email"), "email"),
    (T(referrer="docs.google.com"), "referral"),  # not a search engine, though under google.*
    (T(referrer="news.example.net", campaign="spring"), "referral"),
    # search, with the many-TLD engines
    (T(referrer="google.com"), "organic_search"),
    (T(referrer="www.google.co.uk"), "organic_search"),
    (T(referrer="google.de"), "organic_search"),
    (T(referrer="www.google.co.jp"), "organic_search"),
    (T(referrer="www.google.com.br"), "organic_search"),
    (T(referrer="bing.com"), "organic_search"),
    (T(referrer="duckduckgo.com"), "organic_search"),
    (T(referrer="yandex.ru"), "organic_search"),
    (T(referrer="baidu.com"), "organic_search"),
    (T(referrer="ecosia.org"), "organic_search"),
    (T(referrer="search.brave.com"), "organic_search"),
    (T(referrer="android-app://com.google.android.googlequicksearchbox"), "organic_search"),
    (T(source="google", medium="organic"), "organic_search"),
    # Umami never reached Paid Search for google / cpc
    (T(source="google", medium="cpc"), "paid_search"),
    (T(source="bing", medium="ppc", referrer="bing.com"), "paid_search"),
    (T(referrer="google.com", click_ids=ids("gclid")), "paid_search"),
    (T(click_ids=ids("gbraid")), "paid_search"),
    (T(click_ids=ids("wbraid")), "paid_search"),
    (T(click_ids=ids("gad_source")), "paid_search"),
    (T(referrer="bing.com", click_ids=ids("msclkid")), "paid_search"),
    (T(source="adwords"), "paid_search"),
    (T(source="newsletter", medium="email", click_ids=ids("gclid")), "paid_search"),
    (T(source="amazon", medium="cpc"), "paid_search"),
    # social: fbclid alone is never paid (Umami counted organic Facebook as paid)
    (T(referrer="m.facebook.com", click_ids=ids("fbclid")), "organic_social"),
    (T(referrer="l.facebook.com"), "organic_social"),
    (T(click_ids=ids("fbclid")), "organic_social"),
    (T(referrer="blog.example.org", click_ids=ids("fbclid")), "referral"),
    (T(source="facebook", medium="paid_social", click_ids=ids("fbclid")), "paid_social"),
    (T(source="facebook", medium="cpc"), "paid_social"),
    (T(source="ig", medium="paid"), "paid_social"),
    (T(click_ids=ids("ttclid")), "paid_social"),
    (T(referrer="linkedin.com", click_ids=ids("li_fat_id")), "paid_social"),
    (T(referrer="t.co", click_ids=ids("twclid")), "paid_social"),
    (T(source="facebook_ads"), "paid_social"),
    (T(referrer="t.co"), "organic_social"),
    (T(referrer="news.ycombinator.com"), "organic_social"),
    (T(referrer="android-app://com.linkedin.android"), "organic_social"),
    (T(source="newsletter_partner", medium="social"), "organic_social"),
    # AI assistants fell into Direct or Referral
    (T(referrer="chatgpt.com"), "ai_assistants"),
    (T(source="chatgpt.com"), "ai_assistants"),
    (T(referrer="chat.openai.com"), "ai_assistants"),
    (T(referrer="perplexity.ai"), "ai_assistants"),
    (T(referrer="claude.ai"), "ai_assistants"),
    (T(referrer="gemini.google.com"), "ai_assistants"),  # not google.* search
    (T(referrer="copilot.microsoft.com"), "ai_assistants"),
    (T(referrer="android-app://com.openai.chatgpt"), "ai_assistants"),
    # e-mail, with Android app referrers that showed as direct
    (T(referrer="android-app://com.google.android.gm"), "email"),
    (T(referrer="mail.google.com"), "email"),
    (T(referrer="outlook.live.com"), "email"),
    (T(referrer="mail.yahoo.co.jp"), "email"),  # not yahoo.* search
    (T(source="mailchimp"), "email"),
    (T(source="Newsletter-March", medium="Email"), "email"),
    (T(source="facebook", medium="email"), "organic_social"),  # the source's category first
    # video, display, affiliates, sms, push
    (T(referrer="youtube.com"), "video"),
    (T(referrer="m.youtube.com"), "video"),
    (T(source="youtube", medium="cpc"), "video"),
    (T(source="criteo", medium="display"), "display"),
    (T(source="google", medium="cpm"), "display"),
    (T(source="awin", medium="affiliate"), "affiliates"),
    (T(source="twilio", medium="sms"), "sms"),
    (T(source="onesignal", medium="web-push"), "push"),
    (T(source="app", medium="push"), "push"),
    # shopping sites are referrers; unknown tags are unassigned
    (T(referrer="www.amazon.de"), "referral"),
    (T(source="spring_promo"), "unassigned"),
    (T(campaign="spring"), "unassigned"),
    (T(source="partner", medium="cpc"), "unassigned"),
    (T(source="partner", medium="cpc", click_ids=ids("gclid")), "paid_search"),
    # referrer spam
    (T(referrer="semalt.com"), "spam"),
    (T(referrer="www.darodar.com"), "spam"),
    (T(referrer="x.buttons-for-website.com"), "spam"),
    # case, ports, paths, (not set)
    (T(referrer="HTTPS://WWW.GOOGLE.COM:443/search?q=x"), "organic_search"),
    (T(source="(direct)", medium="(none)"), "direct"),
]


@pytest.mark.parametrize(("touch", "channel"), CASES, ids=[repr(case[0]) for case in CASES])
def test_channel(touch: Touchpoint, channel: str) -> None:
    assert classify(touch, SITE) == channel, explain(touch, SITE).reason


def test_the_table_covers_every_channel() -> None:
    assert {channel for _, channel in CASES} == {channel.value for channel in Channel}
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("source", "channel"),
    [
        ("(direct)", "direct"),
        ("", "direct"),
        ("google", "organic_search"),
        ("google.com", "organic_search"),
        ("news.ycombinator.com", "organic_social"),
        ("com.google.android.gm", "email"),  # the old snippet sent an app's bare id
        ("chatgpt.com", "ai_assistants"),
        ("blog.example.org", "referral"),
        ("spring_promo", "unassigned"),
        ("semalt.com", "spam"),
    ],
)
def test_sessions_filed_before_touchpoints_are_classified_from_their_source(
    source: str, channel: str
) -> None:
    assert classify(Touchpoint.from_source(source), SITE) == channel


def test_classify_many_decides_each_distinct_touchpoint_once_and_keeps_the_order() -> None:
    touches = [
        T(referrer="google.com"),
        T(),
        T(referrer="google.com"),
        T(source="google", medium="cpc"),
    ]
    assert classify_many(touches, SITE) == [
        "organic_search",
        "direct",
        "organic_search",
        "paid_search",
    ]


def test_explain_names_the_deciding_rule() -> None:
    assert "gclid" in explain(T(referrer="google.com", click_ids=ids("gclid"))).reason
    assert explain(T(referrer="chatgpt.com")).channel is Channel.AI_ASSISTANTS
    assert Channel.AI_ASSISTANTS.label == "AI Assistants"


def rules(*tables: dict[str, object]) -> list:
    return parse_rules({"rules": list(tables)})


def test_user_rules_come_first_and_the_first_match_wins() -> None:
    own = rules(
        {"channel": "paid_social", "medium": {"contains": "influencer"}},
        {"channel": "affiliates", "source": {"equals": ["Partner", "awin"]}},
        {"channel": "email", "medium": {"contains": "influencer"}},  # never reached
        {"channel": "internal", "referrer": {"regex": r"(.+\.)?shop-group\.example"}},
        {"channel": "referral", "source": {"equals": "google"}, "campaign": {"equals": "jobs"}},
        {"channel": "spam", "referrer": {"equals": "bad.example"}},
    )
    cases = [
        (T(source="google", medium="influencer-cpc"), "paid_social"),
        (T(source="partner", medium="cpc"), "affiliates"),
        (T(referrer="blog.shop-group.example"), "internal"),
        (T(referrer="SHOP-GROUP.example"), "internal"),
        (T(source="google", campaign="jobs"), "referral"),
        (T(source="google", campaign="sale"), "organic_search"),  # both conditions must hold
        (T(referrer="bad.example"), "spam"),
        (T(referrer="semalt.com"), "spam"),
    ]
    assert classify_many([touch for touch, _ in cases], SITE, own) == [c for _, c in cases]
    assert explain(cases[0][0], SITE, own).reason == ("your rule 1 (medium contains 'influencer')")


def test_a_regex_matches_the_whole_value_and_ignores_case() -> None:
    own = rules({"channel": "email", "source": {"regex": "News.*"}})
    assert classify(T(source="newsletter"), (), own) == "email"
    assert classify(T(source="the-newsletter"), (), own) == "unassigned"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"rule": []}, "channels: unknown key 'rule'"),
        ({"rules": {"channel": "email"}}, "channels.rules must be a list of tables"),
        ({"rules": [{"medium": {"equals": "x"}}]}, "channels rule 1: 'channel' is missing"),
        (
            {"rules": [{"channel": "email", "source": {"equals": "x"}}, {"channel": "paid"}]},
            "channels rule 2: channel 'paid' is not one of direct, organic_search",
        ),
        ({"rules": [{"channel": "email"}]}, "channels rule 1: give at least one of source"),
        (
            {"rules": [{"channel": "email", "sorce": {"equals": "x"}}]},
            "channels rule 1: unknown key 'sorce'",
        ),
        (
            {"rules": [{"channel": "email", "medium": {"startswith": "x"}}]},
            "channels rule 1: medium: unknown match 'startswith'",
        ),
        (
            {"rules": [{"channel": "email", "medium": "email"}]},
            "channels rule 1: medium: write one of",
        ),
        (
            {"rules": [{"channel": "email", "medium": {"equals": "x", "contains": "y"}}]},
            "channels rule 1: medium: write one of",
        ),
        (
            {"rules": [{"channel": "email", "medium": {"equals": ""}}]},
            "channels rule 1: medium.equals must be a non-empty string",
        ),
        (
            {"rules": [{"channel": "email", "medium": {"contains": ["a", 3]}}]},
            "channels rule 1: medium.contains must be a non-empty string or a list",
        ),
        (
            {"rules": [{"channel": "email", "medium": {"regex": ["a"]}}]},
            "channels rule 1: medium.regex must be a non-empty string",
        ),
        (
            {"rules": [{"channel": "email", "referrer": {"regex": "(a)\\1"}}]},
            "channels rule 1: referrer.regex: '(?i)(a)\\\\1' is not a valid regex",
        ),
    ],
)
def test_bad_user_rules_are_named(table: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_rules(table)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_rules_parse_from_toml() -> None:
    text = """
        [[channels.rules]]
        channel = "paid_social"
        source = { equals = ["facebook", "instagram"] }
        medium = { contains = "influencer" }
    """
    (rule,) = parse_rules(tomllib.loads(text)["channels"])
    assert classify(T(source="Instagram", medium="influencer"), (), [rule]) == "paid_social"


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("WWW.Example.COM.", "example.com"),
        ("https://user@www.example.com:8443/a?b#c", "example.com"),
        ("android-app://com.google.android.gm/", "android-app://com.google.android.gm"),
        ("[::1]:80", "[::1]"),
        ("", ""),
    ],
)
def test_hosts_are_normalised(value: str, normal: str) -> None:
    assert normalize_host(value) == normal


def test_the_host_list_is_large_enough_and_every_entry_resolves_to_its_category() -> None:
    hosts = host_list()
    assert len(hosts.hosts) >= 300
    assert sum(category == "spam" for category in hosts.hosts.values()) >= 30
    for host, category in hosts.hosts.items():
        assert host_category(host.replace("*", "com")) == category, host
    for app, category in hosts.apps.items():
        assert host_category(f"android-app://{app}") == category, app


def test_an_app_referrer_matches_its_id_only() -> None:
    assert host_category("android-app://com.google.android.gm.evil") is None
    assert host_category("android-app://google.com") is None


def test_a_lookalike_host_is_not_the_engine() -> None:
    assert classify(T(referrer="google.com.evil.example")) == "referral"
    assert classify(T(referrer="notgoogle.com")) == "referral"


HOSTILE = st.text(max_size=300) | st.sampled_from(
    ["", ".", "..", "://", "a://", "[", "]:", "@", "*", "google.*", "www.", ".co.uk", "a" * 300]
)
SLUGS = {channel.value for channel in Channel}


@given(
    referrer=HOSTILE,
    source=HOSTILE,
    medium=HOSTILE,
    campaign=HOSTILE,
    term=HOSTILE,
    content=HOSTILE,
    click_ids=st.frozensets(st.sampled_from(sorted(CLICK_IDS)) | st.text(max_size=20)),
    site=st.lists(HOSTILE, max_size=3),
)
def test_classify_never_raises_and_always_answers_a_known_slug(
    referrer: str,
    source: str,
    medium: str,
    campaign: str,
    term: str,
    content: str,
    click_ids: frozenset[str],
    site: list[str],
) -> None:
    touch = T(referrer, source, medium, campaign, term, content, click_ids)
    own = rules({"channel": "email", "referrer": {"regex": ".*mail.*"}})
    assert classify(touch, site) in SLUGS
    assert classify(touch, site, own) in SLUGS
    assert classify(Touchpoint.from_source(source), site) in SLUGS
