"""Funnels and scheduled reports, declared in `clicktrail.toml`:

    [funnels.cart]
    steps = ["/product/*", "/cart", "/checkout", "/thanks"]
    window = "1h"            # optional; strict = false, unit = "session" likewise

    [reports.cart-daily]
    site = "shop"
    funnel = "cart"          # optional when it is the only funnel
    period = "yesterday"     # today, yesterday, 7d, 30d, 7d-today, 30d-today (periods.py)
    schedule = "0 8 * * *"   # cron: minute hour day month weekday
    time_zone = "Europe/Paris"  # optional: the site's (`clicktrail site set NAME --tz ZONE`)
    deliver = [{type = "dir", path = "reports"}, {type = "webhook", url = "https://..."}]

    [goals]                  # pages or events the overview counts conversions of
    purchase = "/thanks"
    signup = "event:signup"

Every mistake is reported with the key that holds it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cronsim import CronSim, CronSimError

from collector.days import parse_zone
from reports.analyses.channel_rules import ChannelRule, parse_rules
from reports.analyses.durations import parse_duration_ms
from reports.analyses.funnel_request import (
    DEFAULT_WINDOW_MS,
    FunnelRequest,
)
from reports.analyses.steps import parse_step, parse_steps
from reports.delivery.config import parse_target
from reports.delivery.targets import Target
from reports.scheduled.periods import DEFAULT_PERIOD, PERIODS

# A report's name is a folder under --out: one path segment, never '.', '..' or hidden.
REPORT_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
GOAL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ConfigError(ValueError):
    """clicktrail.toml has a bad funnel or report; the message names the key."""


class NoFunnelError(ConfigError):
    """No funnel is configured: nothing is assumed in its place (a real site is not the demo)."""


@dataclass(frozen=True)
class FunnelDefinition:
    """A funnel as configured: its step patterns stay text, since what a step matches depends
    on the page templates of the run (FunnelRun.steps holds them parsed)."""

    name: str
    steps: tuple[str, ...]
    window_ms: int = DEFAULT_WINDOW_MS
    strict: bool = False
    unit: str = "session"

    def request(
        self,
        first: date,
        last: date,
        *,
        breakdown: str | None = None,
        zone: str = "UTC",
        templates: tuple[str, ...] = (),
    ) -> FunnelRequest:
        """This funnel over the days from first to last."""
        return FunnelRequest(
            steps=list(self.steps),
            first=first,
            last=last,
            window_ms=self.window_ms,
            strict=self.strict,
            unit=self.unit,
            breakdown=breakdown,
            zone=zone,
            templates=templates,
        )


@dataclass(frozen=True)
class ReportDef:
    name: str
    site: str
    funnel: str
    period: str
    schedule: str
    time_zone: str | None  # None: the site's
    deliver: tuple[Target, ...]


@dataclass(frozen=True)
class ReportConfig:
    """What clicktrail.toml says beyond the settings: funnels, reports and channel rules."""

    funnels: dict[str, FunnelDefinition]
    reports: dict[str, ReportDef]
    channel_rules: tuple[ChannelRule, ...] = ()
    goals: Mapping[str, str] = field(default_factory=dict)  # name -> page or event pattern

    def funnel(self, name: str | None) -> FunnelDefinition:
        """The funnel `name`; unnamed, the only one configured."""
        known = ", ".join(sorted(self.funnels)) or "none"
        if name is None and not self.funnels:
            raise NoFunnelError("no funnel is configured: add a [funnels.NAME] to clicktrail.toml")
        if name is None:
            if len(self.funnels) > 1:
                raise ConfigError(f"several funnels are configured: name one of {known}")
            return next(iter(self.funnels.values()))
        if name not in self.funnels:
            raise ConfigError(f"no funnel named {name!r} in clicktrail.toml (known: {known})")
        return self.funnels[name]


def load_report_config(path: Path) -> ReportConfig:
    """The funnels and reports of a settings file; an empty config when it does not exist."""
    if not path.is_file():
        return ReportConfig({}, {})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_report_config(data, str(path))


def parse_report_config(data: Mapping[str, Any], where: str = "clicktrail.toml") -> ReportConfig:
    funnels = {
        name: _funnel(name, raw, f"{where}: funnels.{name}")
        for name, raw in _table(data, "funnels", where).items()
    }
    channels = data.get("channels", {})
    if not isinstance(channels, dict):
        raise ConfigError(f"{where}: [channels] must be a table")
    try:
        rules = tuple(parse_rules(channels))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    config = ReportConfig(funnels, {}, rules, _goals(data.get("goals", {}), where))
    for name, raw in _table(data, "reports", where).items():
        config.reports[name] = _report(name, raw, f"{where}: reports.{name}", config)
    return config


def _goals(raw: Any, where: str) -> dict[str, str]:
    """[goals]: name = "a page or event:NAME", checked as funnel steps are."""
    if not isinstance(raw, dict):
        raise ConfigError(f'{where}: [goals] must be a table of name = "page or event:NAME"')
    for name, pattern in raw.items():
        if not isinstance(pattern, str):
            raise ConfigError(f'{where}: goals.{name} must be a string, like "/thanks"')
        if not GOAL_NAME.fullmatch(name):
            raise ConfigError(f"{where}: goals.{name}: a name of 1 to 64 letters, digits, _ or -")
        try:
            parse_step(pattern)
        except ValueError as exc:
            raise ConfigError(f"{where}: goals.{name}: {exc}") from None
    return dict(raw)


def _table(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise ConfigError(f"{where}: [{key}.NAME] entries must be tables")
    return table


def _funnel(name: str, raw: dict[str, Any], where: str) -> FunnelDefinition:
    _only(raw, {"steps", "window", "strict", "unit"}, where)
    steps = raw.get("steps")
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise ConfigError(f"{where}.steps: a list of step patterns is required")
    try:
        parse_steps(steps)
        window = parse_duration_ms(str(raw.get("window", "1h")))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    strict = raw.get("strict", False)
    if not isinstance(strict, bool):
        raise ConfigError(f"{where}.strict: expected true or false")
    unit = raw.get("unit", "session")
    if unit not in ("session", "visitor"):
        raise ConfigError(f"{where}.unit: expected session or visitor, got {unit!r}")
    return FunnelDefinition(name, tuple(steps), window, strict, unit)


def _report(name: str, raw: dict[str, Any], where: str, config: ReportConfig) -> ReportDef:
    if not REPORT_NAME.fullmatch(name):
        raise ConfigError(
            f"{where}: a report name is a file name of letters, digits, '.', '_' and '-' "
            "(at most 64, not starting with '.')"
        )
    _only(raw, {"site", "funnel", "period", "schedule", "time_zone", "deliver"}, where)
    site = raw.get("site")
    if not isinstance(site, str) or not site:
        raise ConfigError(f"{where}.site: the site's name is required")
    period = raw.get("period", DEFAULT_PERIOD)
    if period not in PERIODS:
        raise ConfigError(f"{where}.period: expected one of {', '.join(PERIODS)}")
    schedule = str(raw.get("schedule", "0 8 * * *"))
    try:
        CronSim(schedule, _any_time())
    except CronSimError as exc:
        raise ConfigError(
            f"{where}.schedule: {schedule!r} is not a cron expression: {exc}"
        ) from None
    zone = raw.get("time_zone")
    try:
        zone = None if zone is None else parse_zone(str(zone)).key
    except ValueError as exc:
        raise ConfigError(f"{where}.time_zone: {exc}") from None
    targets = raw.get("deliver", [])
    if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
        raise ConfigError(f'{where}.deliver: a list of tables like {{type = "dir", path = "..."}}')
    try:
        deliver = tuple(parse_target(t, f"{where}.deliver[{i}]") for i, t in enumerate(targets))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    funnel = _report_funnel(raw, where, config)  # last: the other keys' mistakes come first
    return ReportDef(name, site, funnel, period, schedule, zone, deliver)


def _report_funnel(raw: Mapping[str, Any], where: str, config: ReportConfig) -> str:
    """The report's funnel: named, or the only one configured."""
    funnel = raw.get("funnel")
    if funnel is None:
        try:
            return config.funnel(None).name
        except ConfigError as exc:
            raise ConfigError(f"{where}.funnel: {exc}") from None
    if str(funnel) not in config.funnels:
        raise ConfigError(f"{where}.funnel: no [funnels.{funnel}] table")
    return str(funnel)


def _only(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _any_time() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)
