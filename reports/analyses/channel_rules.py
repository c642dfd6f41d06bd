"""A site owner's own channel rules, from the `[channels]` table of clicktrail.toml:

    [[channels.rules]]
    channel = "paid_social"
    source = { equals = ["facebook", "instagram"] }
    medium = { contains = "influencer" }

    [[channels.rules]]
    channel = "email"
    referrer = { regex = "mail\\..*" }

A rule names a channel slug and one or more conditions on `source`, `medium`, `campaign` or
`referrer` (the referrer's host, `www.` dropped); all its conditions must hold. A condition is
`equals` or `contains` (a string or a list of strings, any of which may match) or `regex` (RE2,
over the whole value, like funnel steps' `re:`). Matching ignores case. Rules are tried in order
before the built-in ones; the first that matches decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from collector.regex import compile_fullmatch
from reports.analyses.channel_names import Channel

FIELDS = ("source", "medium", "campaign", "referrer")
KINDS = ("equals", "contains", "regex")
MAX_RULES = 200  # rules run once per distinct touchpoint, but a list this long is a mistake
MAX_VALUE_CHARS = 500
SLUGS = tuple(channel.value for channel in Channel)


@dataclass(frozen=True)
class Condition:
    field: str  # one of FIELDS
    kind: str  # one of KINDS
    values: tuple[str, ...]  # lower case; one pattern for a regex
    test: Callable[[str], bool]

    def __str__(self) -> str:
        shown = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.field} {self.kind} {shown!r}"


@dataclass(frozen=True)
class ChannelRule:
    number: int  # 1-based, as `clicktrail channels --explain` names it
    channel: Channel
    conditions: tuple[Condition, ...]

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether every condition holds over normalised touchpoint fields."""
        return all(condition.test(fields[condition.field]) for condition in self.conditions)

    def __str__(self) -> str:
        return f"rule {self.number} ({' and '.join(map(str, self.conditions))})"


def parse_rules(table: Mapping[str, Any]) -> list[ChannelRule]:
    """The rules of a `[channels]` table; ValueError names the rule and the key at fault."""
    unknown = sorted(set(table) - {"rules"})
    if unknown:
        raise ValueError(f"channels: unknown key {unknown[0]!r} (expected 'rules')")
    rules = table.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise ValueError("channels.rules must be a list of tables ([[channels.rules]])")
    if len(rules) > MAX_RULES:
        raise ValueError(f"channels.rules: at most {MAX_RULES} rules, got {len(rules)}")
    return [_parse_rule(number, rule) for number, rule in enumerate(rules, start=1)]


def _parse_rule(number: int, rule: Mapping[str, Any]) -> ChannelRule:
    where = f"channels rule {number}"
    for key in rule:
        if key != "channel" and key not in FIELDS:
            raise ValueError(
                f"{where}: unknown key {key!r} (expected channel, {', '.join(FIELDS)})"
            )
    channel = rule.get("channel")
    if channel is None:
        raise ValueError(f"{where}: 'channel' is missing")
    if channel not in SLUGS:
        raise ValueError(f"{where}: channel {channel!r} is not one of {', '.join(SLUGS)}")
    conditions = tuple(
        _parse_condition(f"{where}: {field}", field, rule[field])
        for field in FIELDS
        if field in rule
    )
    if not conditions:
        raise ValueError(f"{where}: give at least one of {', '.join(FIELDS)}")
    return ChannelRule(number, Channel(channel), conditions)


def _parse_condition(where: str, field: str, spec: object) -> Condition:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ValueError(
            f"{where}: write one of {{equals = ...}}, {{contains = ...}}, {{regex = ...}}"
        )
    ((kind, raw),) = spec.items()
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown match {kind!r} (equals, contains or regex)")
    values = _strings(f"{where}.{kind}", raw, many=kind != "regex")
    if kind == "equals":
        wanted = frozenset(values)
        return Condition(field, kind, values, lambda value: value in wanted)
    if kind == "contains":
        return Condition(field, kind, values, lambda value: any(part in value for part in values))
    try:
        fullmatch = compile_fullmatch("(?i)" + values[0])
    except ValueError as exc:
        raise ValueError(f"{where}.regex: {exc}") from None
    return Condition(field, kind, values, lambda value: fullmatch(value) is not None)


def _strings(where: str, raw: object, *, many: bool) -> tuple[str, ...]:
    """One string, or (where many are allowed) a list of them; lower case, not empty."""
    items: list[object] = list(raw) if many and isinstance(raw, list) else [raw]
    strings = [item.strip() for item in items if isinstance(item, str) and item.strip()]
    if not strings or len(strings) != len(items):
        wanted = "a non-empty string or a list of them" if many else "a non-empty string"
        raise ValueError(f"{where} must be {wanted}")
    if any(len(text) > MAX_VALUE_CHARS for text in strings):
        raise ValueError(f"{where}: values are at most {MAX_VALUE_CHARS} characters")
    # a regex keeps its case (`\D` is not `\d`); it runs with (?i) instead
    return tuple(text.lower() if many else text for text in strings)
