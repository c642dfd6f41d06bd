"""Delivery targets from clicktrail.toml: each table checked, every error naming its key."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from reports.delivery.targets import (
    TARGET_KINDS,
    DirectoryTarget,
    EmailTarget,
    Target,
    WebhookTarget,
)
from reports.delivery.webhook import is_http_url

_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")


def parse_target(
    raw: Mapping[str, object], where: str, *, environ: Mapping[str, str] | None = None
) -> Target:
    """Build a target from a clicktrail.toml table; where (e.g. "reports.daily.deliver[1]")
    prefixes every error. environ defaults to os.environ and supplies password_env."""
    table = _Table(raw, where)
    kind = table.text("type")
    if kind not in TARGET_KINDS:
        table.fail("type", f"must be one of {', '.join(map(repr, TARGET_KINDS))} (got {kind!r})")
    allowed = _KEYS[kind]
    for key in raw:
        if key not in allowed:
            table.fail(key, f"unknown key for {kind} targets (known: {', '.join(sorted(allowed))})")
    if kind == "dir":
        return DirectoryTarget(Path(table.text("path")).expanduser())
    if kind == "webhook":
        url = table.text("url")
        if not is_http_url(url):
            table.fail("url", "must be an http(s) URL")
        return WebhookTarget(url, table.number("timeout_s", 10.0))
    return _parse_email(table, os.environ if environ is None else environ)


_KEYS = {
    "dir": {"type", "path"},
    "webhook": {"type", "url", "timeout_s"},
    "email": set("type to from host port starttls ssl username password_env timeout_s".split()),
}


def _parse_email(table: _Table, environ: Mapping[str, str]) -> EmailTarget:
    to = table.raw.get("to")
    if not isinstance(to, list) or not all(isinstance(a, str) for a in to):
        table.fail("to", "must be a list of e-mail addresses")
    if not to:
        table.fail("to", "must list at least one address")
    for address in to:
        if not _ADDRESS.fullmatch(address):
            table.fail("to", f"{address!r} is not an e-mail address")
    sender = table.text("from")
    if not _ADDRESS.fullmatch(sender):
        table.fail("from", f"{sender!r} is not an e-mail address")
    use_ssl, starttls = table.flag("ssl"), table.flag("starttls")
    if use_ssl and starttls:
        table.fail("starttls", "cannot be combined with ssl = true (pick one)")
    # The usual port for each mode, so that ssl = true alone works.
    port = table.integer("port", 465 if use_ssl else 587 if starttls else 25, 1, 65535)
    username = table.text("username", required=False)
    password_env = table.text("password_env", required=False)
    if username and not password_env:
        table.fail("password_env", "required when username is set")
    if password_env and not username:
        table.fail("username", "required when password_env is set")
    password = environ.get(password_env, "") if password_env else ""
    if password_env and not password:
        table.fail("password_env", f"environment variable {password_env} is not set or empty")
    return EmailTarget(
        tuple(to),
        sender,
        table.text("host", default="localhost"),
        port,
        starttls,
        use_ssl,
        username,
        password,
        table.number("timeout_s", 30.0),
    )


class _Table:
    """Typed reads from one TOML table; every error names where.key."""

    def __init__(self, raw: Mapping[str, object], where: str) -> None:
        if not isinstance(raw, Mapping):
            raise ValueError(f'{where}: must be a table, like {{type = "dir", path = "reports"}}')
        self.raw, self.where = raw, where

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ValueError(f"{self.where}.{key}: {problem}")

    def text(self, key: str, *, default: str | None = None, required: bool = True) -> str:
        value = self.raw.get(key, default)
        if value is None:
            if required:
                self.fail(key, "required")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be a non-empty string")
        return value

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            self.fail(key, "must be true or false")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, f"must be a whole number from {low} to {high}")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, "must be a number of seconds")
        if not (math.isfinite(value) and value > 0):
            self.fail(key, "must be more than 0 seconds")
        return float(value)
