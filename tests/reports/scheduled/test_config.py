"""Funnels and reports in clicktrail.toml: read as written, and every mistake named by its key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from reports.delivery.targets import DirectoryTarget, WebhookTarget
from reports.scheduled.config import (
    ConfigError,
    NoFunnelError,
    load_report_config,
    parse_report_config,
)

GOOD = """
[clicktrail]
port = 8000

[funnels.signup]
steps = ["/", "/pricing", "event:signup"]
window = "30m"
strict = true

[reports.weekly-signup]
site = "shop"
funnel = "signup"
period = "7d"
schedule = "0 8 * * 1"
time_zone = "Europe/Paris"
deliver = [{type = "dir", path = "reports"}, {type = "webhook", url = "https://hooks.example/x"}]
"""


def test_a_config_file_is_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "clicktrail.toml"
    path.write_text(GOOD)
    config = load_report_config(path)
    signup = config.funnels["signup"]
    assert (signup.steps, signup.window_ms, signup.strict) == (
        ("/", "/pricing", "event:signup"),
        1_800_000,
        True,
    )
    weekly = config.reports["weekly-signup"]
    assert (weekly.site, weekly.funnel, weekly.period, weekly.schedule, weekly.time_zone) == (
        "shop",
        "signup",
        "7d",
        "0 8 * * 1",
        "Europe/Paris",
    )
    assert weekly.deliver == (
        DirectoryTarget(Path("reports")),
        WebhookTarget("https://hooks.example/x"),
    )


def test_without_a_configured_funnel_there_is_none(tmp_path: Path) -> None:
    config = load_report_config(tmp_path / "missing.toml")
    assert config.reports == {}
    with pytest.raises(NoFunnelError, match=r"add a \[funnels.NAME\]"):
        config.funnel(None)
    with pytest.raises(ConfigError, match="no funnel named 'cart'"):
        config.funnel("cart")  # not the demo shop's, unless configured


def test_the_only_funnel_is_the_default_and_of_several_one_is_named() -> None:
    one = parse_report_config({"funnels": {"signup": {"steps": ["/", "/pricing"]}}})
    assert one.funnel(None).name == "signup"
    two = {"signup": {"steps": ["/", "/pricing"]}, "cart": {"steps": ["/cart", "/thanks"]}}
    with pytest.raises(ConfigError, match="name one of cart, signup"):
        parse_report_config({"funnels": two}).funnel(None)
    unnamed = {"funnels": {"signup": two["signup"]}, "reports": {"r": {"site": "s"}}}
    assert parse_report_config(unnamed).reports["r"].funnel == "signup"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"funnels": {"f": {"steps": ["/a"]}}}, "funnels.f: a funnel has 2 to 20 steps"),
        ({"funnels": {"f": {"steps": "/a,/b"}}}, "funnels.f.steps: a list"),
        ({"funnels": {"f": {"steps": ["/a", "/b"], "window": "soon"}}}, "expected a duration"),
        ({"funnels": {"f": {"steps": ["/a", "/b"], "strict": "yes"}}}, "funnels.f.strict"),
        ({"funnels": {"f": {"steps": ["/a", "/b"], "unit": "user"}}}, "funnels.f.unit"),
        ({"funnels": {"f": {"steps": ["/a", "/b"], "colour": 1}}}, "unknown key 'colour'"),
        ({"funnels": ["x"]}, "[funnels.NAME] entries must be tables"),
        ({"reports": {"r": {}}}, "reports.r.site: the site's name is required"),
        ({"reports": {"r": {"site": "s", "funnel": "nope"}}}, "no [funnels.nope] table"),
        ({"reports": {"r": {"site": "s"}}}, "reports.r.funnel: no funnel is configured"),
        ({"reports": {"r": {"site": "s", "period": "fortnight"}}}, "reports.r.period"),
        ({"reports": {"r": {"site": "s", "schedule": "every day"}}}, "not a cron expression"),
        ({"reports": {"r": {"site": "s", "schedule": "61 8 * * *"}}}, "not a cron expression"),
        ({"reports": {"r": {"site": "s", "time_zone": "Mars/Base"}}}, "unknown time zone"),
        ({"reports": {"r": {"site": "s", "deliver": {"type": "dir"}}}}, "reports.r.deliver"),
        (
            {"reports": {"r": {"site": "s", "deliver": [{"type": "ftp"}]}}},
            "reports.r.deliver[0].type",
        ),
        (
            {"reports": {"r": {"site": "s", "deliver": [{"type": "webhook", "url": "x"}]}}},
            "reports.r.deliver[0].url",
        ),
    ],
)
def test_mistakes_name_their_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_report_config(data)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "clicktrail.toml"
    path.write_text("[funnels.f\nsteps = 1")
    with pytest.raises(ConfigError, match=r"clicktrail\.toml: cannot read"):
        load_report_config(path)


@pytest.mark.parametrize(
    "name", ["../../etc", "..", ".", ".hidden", "a/b", "a\\b", "", "x" * 65, "nul\0", "sp ace"]
)
def test_a_report_name_that_is_not_a_safe_file_name_is_refused(name: str) -> None:
    # The name becomes a folder under --out: '../' would write outside it.
    with pytest.raises(ConfigError, match="a report name is a file name") as raised:
        parse_report_config({"reports": {name: {"site": "s"}}})
    assert "\n" not in str(raised.value)


def test_a_report_name_may_hold_dots_dashes_and_underscores() -> None:
    funnels = {"cart": {"steps": ["/cart", "/thanks"]}}
    config = parse_report_config(
        {"funnels": funnels, "reports": {"cart-daily_v2.1": {"site": "s"}}}
    )
    assert list(config.reports) == ["cart-daily_v2.1"]
