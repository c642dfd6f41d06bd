"""The parsers of the settings' values: each takes what a person wrote (an environment string, a
TOML value, a CLI option) and returns the typed value or raises ValueError saying what it
expected. `collector/settings.py` names one per setting in its table."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collector.inputs import int_between
from collector.pages import PageTemplates  # validates page-template rules

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def many_values(raw: str | list[Any], split: Callable[[str], list[str]]) -> list[str]:
    """The values of a setting that holds several: a TOML list, a JSON array (from the
    environment or the command line), or one string cut by `split`."""
    if isinstance(raw, str) and raw.lstrip().startswith("["):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"expected a JSON array of strings: {exc}") from None
    if isinstance(raw, str):
        return [p for p in split(raw) if p]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ValueError(f"expected a list of strings, got {raw!r}")
    return [v.strip() for v in raw if v.strip()]


def parse_networks(raw: str | list[Any]) -> tuple[Network, ...]:
    parts = many_values(raw, lambda text: [p.strip() for p in text.split(",")])
    return tuple(ipaddress.ip_network(p, strict=False) for p in parts)


def parse_redis_url(raw: str) -> str:
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in {"redis", "rediss", "unix", "redis+cluster", "rediss+cluster"}:
        raise ValueError(
            "expected a redis://, rediss://, unix://, redis+cluster:// or rediss+cluster:// URL, "
            f"got {raw!r}"
        )
    return raw


def parse_http_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")) or len(raw) < 10:
        raise ValueError(f"expected an http:// or https:// URL, got {raw!r}")
    return raw.rstrip("/")


def parse_templates(raw: str | list[Any]) -> tuple[str, ...]:
    # Whitespace separates templates in a string: a regex may hold commas (\d{1,5}), while a
    # path never holds a raw space (browsers send %20).
    rules = tuple(many_values(raw, str.split))
    for rule in rules:
        if not rule.startswith("re:") and (",/" in rule or ",re:" in rule):
            raise ValueError(
                f"page template {rule!r}: separate templates with spaces or give a list"
            )
    PageTemplates(rules)
    return rules


def parse_log_level(raw: str) -> str:
    level = raw.strip().lower()
    if level not in {"debug", "info", "warning", "error"}:
        raise ValueError(f"expected debug, info, warning or error, got {raw!r}")
    return level


def parse_fsync(raw: str) -> str:
    if raw not in {"always", "everysec"}:
        raise ValueError(f"expected always or everysec, got {raw!r}")
    return raw


def bounded_float(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(str(raw).strip())
        if not low <= value <= high:  # NaN fails too
            raise ValueError(f"expected a number from {low:g} to {high:g}, got {raw!r}")
        return value

    return parse


def parse_secret(raw: str) -> str:
    if len(raw) < 16 or not raw.isascii() or not raw.isprintable() or " " in raw:
        raise ValueError("expected at least 16 printable ASCII characters without spaces")
    return raw


def parse_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file():
        raise ValueError(f"no file {raw!r}")
    return path


def parse_port(raw: str) -> int:
    return int_between(1, 65535)(raw)
