"""Settings: declared once, read from the environment and `clicktrail.toml` in this module only."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from collector.days import HOUR_MS, MINUTE_MS
from collector.inputs import int_between
from collector.setting_values import (
    Network,
    bounded_float,
    parse_bool,
    parse_file,
    parse_fsync,
    parse_http_url,
    parse_log_level,
    parse_networks,
    parse_port,
    parse_redis_url,
    parse_secret,
    parse_templates,
)

ENV_PREFIX = "CLICKTRAIL_"
CONFIG_FILE = "clicktrail.toml"
DATA_FOLDER = "clicktrail-data"  # looked for in the working folder and its parents


class SettingsError(ValueError):
    """A setting has a bad value; the message names the key."""


@dataclass(frozen=True)
class Spec:
    """One setting: its name (also the CLI option), env var, parser and help text."""

    name: str
    env: str
    parse: Callable[[Any], Any]  # takes a string; a list too when `many`
    help: str
    many: bool = False  # holds several values: a TOML list is accepted as it is


# The one table of settings. README.md documents each row; tests/test_docs.py checks it.
SPECS: tuple[Spec, ...] = (
    Spec(
        "redis_url",
        "REDIS_URL",
        parse_redis_url,
        "Redis to use (redis://, rediss://, unix://; redis+cluster://HOST:PORT for a Redis "
        "Cluster, any node). Unset: an embedded Redis in data_dir.",
    ),
    Spec(
        "data_dir",
        "CLICKTRAIL_DATA",
        Path,
        "Folder of the embedded Redis (AOF files, socket). Default: a clicktrail-data/ in the "
        "working folder or a parent, else ~/.local/share/clicktrail.",
    ),
    Spec("host", "CLICKTRAIL_HOST", str, "Address the HTTP server binds. Default 127.0.0.1."),
    Spec("port", "CLICKTRAIL_PORT", parse_port, "Port the HTTP server binds. Default 8000."),
    Spec(
        "public_url",
        "CLICKTRAIL_PUBLIC_URL",
        parse_http_url,
        "URL where browsers reach the collector, used in the <script> tag that "
        "`site add` prints. Default http://HOST:PORT.",
    ),
    Spec(
        "max_body_bytes",
        "CLICKTRAIL_MAX_BODY_BYTES",
        int_between(1024, 16 * 1024 * 1024),
        "Largest accepted POST /e body, in bytes (413 above). Default 65536.",
    ),
    Spec(
        "max_header_bytes",
        "CLICKTRAIL_MAX_HEADER_BYTES",
        int_between(4096, 1024 * 1024),
        "Largest request line plus headers, in bytes, on every route (431 above). Default 32768.",
    ),
    Spec(
        "header_timeout_s",
        "CLICKTRAIL_HEADER_TIMEOUT_S",
        bounded_float(0.1, 600),
        "Seconds a connection may take to send a request's line and headers before it is "
        "closed. Default 10.",
    ),
    Spec(
        "body_timeout_s",
        "CLICKTRAIL_BODY_TIMEOUT_S",
        bounded_float(0.1, 600),
        "Seconds a request may take to send its body once its headers are in (POST /e answers "
        "408, other routes close). Default 10.",
    ),
    Spec(
        "max_events",
        "CLICKTRAIL_MAX_EVENTS",
        int_between(1, 1000),
        "Most events in one batch (400 above). Default 200.",
    ),
    Spec(
        "max_event_age_s",
        "CLICKTRAIL_MAX_EVENT_AGE_S",
        int_between(60, 30 * 86400),
        "Oldest event accepted, in seconds before the batch's sent_at. Default 172800 (48 h).",
    ),
    Spec(
        "rate_ip_per_s",
        "CLICKTRAIL_RATE_IP_PER_S",
        bounded_float(0.001, 1_000_000),
        "Batches per second one client IP may send (burst 5x). Default 20.",
    ),
    Spec(
        "rate_site_per_s",
        "CLICKTRAIL_RATE_SITE_PER_S",
        bounded_float(0.001, 1_000_000),
        "Batches per second one site may send to this collector (burst 5x). Default 5000.",
    ),
    Spec(
        "rate_invalid_per_s",
        "CLICKTRAIL_RATE_INVALID_PER_S",
        bounded_float(0.001, 1e6),
        "Refused POST /e requests (4xx) per second one client IP may send (burst 5x) before "
        "all its requests get 429. Default 5.",
    ),
    Spec(
        "metrics_token",
        "CLICKTRAIL_METRICS_TOKEN",
        parse_secret,
        "Bearer token that GET /metrics requires (at least 16 characters). Unset: /metrics "
        "answers 404.",
    ),
    Spec(
        "honor_dnt",
        "CLICKTRAIL_HONOR_DNT",
        parse_bool,
        "Drop requests with `DNT: 1` (Sec-GPC: 1 is always honoured). Default true.",
    ),
    Spec(
        "trusted_proxies",
        "CLICKTRAIL_TRUSTED_PROXIES",
        parse_networks,
        "CIDRs whose X-Forwarded-For and X-Forwarded-Proto are believed: comma-separated, "
        "or a list. Default none.",
        many=True,
    ),
    Spec(
        "geoip_file",
        "CLICKTRAIL_GEOIP_FILE",
        parse_file,
        "A MaxMind or DB-IP .mmdb file (City or Country) to find visitors' countries in. Unset: "
        "the registries' delegations bundled with clicktrail (iptocc).",
    ),
    Spec(
        "buffer_max_events",
        "CLICKTRAIL_BUFFER_MAX",
        int_between(1_000, 10**9),
        "Unprocessed batches a stream shard may hold before POST /e answers 503. Default 1000000.",
    ),
    Spec(
        "shards",
        "CLICKTRAIL_SHARDS",
        int_between(1, 1024),
        "Stream shards for a new site (fixed per site at `site add`). Default 1.",
    ),
    Spec(
        "redis_fsync",
        "CLICKTRAIL_REDIS_FSYNC",
        parse_fsync,
        "Embedded Redis appendfsync: everysec (default) or always.",
    ),
    Spec("log_level", "CLICKTRAIL_LOG_LEVEL", parse_log_level, "Logging level. Default info."),
    Spec(
        "retention_days",
        "CLICKTRAIL_RETENTION_DAYS",
        int_between(1, 3650),
        "Days of aggregates kept (heatmaps, page and element counts). Default 90.",
    ),
    Spec(
        "page_templates",
        "CLICKTRAIL_PAGE_TEMPLATES",
        parse_templates,
        "Page templates: globs (/blog/*) or regexes (re:^/u/.+$) whose matching paths count "
        "as one page; a list, or separated by spaces. Id-like segments collapse anyway.",
        many=True,
    ),
    Spec(
        "claim_idle_ms",
        "CLICKTRAIL_CLAIM_IDLE_MS",
        int_between(100, 86_400_000),
        "A worker takes over entries another worker left unacknowledged this long. Default 30000.",
    ),
    Spec(
        "session_gap_min",
        "CLICKTRAIL_SESSION_GAP_MIN",
        int_between(1, 24 * 60),
        "Minutes of inactivity after which a visit's next event starts a new session. Default 30.",
    ),
    Spec(
        "session_max_h",
        "CLICKTRAIL_SESSION_MAX_H",
        int_between(1, 7 * 24),
        "Hours after which a session ends even if the visitor stays active. Default 24.",
    ),
    Spec(
        "session_max_rows",
        "CLICKTRAIL_SESSION_MAX_ROWS",
        int_between(100, 1_000_000),
        "Events after which a session ends even if the visitor stays active. Default 10000.",
    ),
    Spec(
        "auto_pictures",
        "CLICKTRAIL_AUTO_PICTURES",
        parse_bool,
        "Take page pictures in headless Chromium in the worker, if installed. Default true.",
    ),
    *(
        Spec(f"picture_{name}", f"CLICKTRAIL_PICTURE_{name.upper()}", int_between(1, top), text)
        for name, top, text in (
            ("min_views", 10**7, "Page views in 14 days before a page's picture. Default 10."),
            ("min_visitors", 10**7, "Visitors in 14 days before a page's picture. Default 3."),
            ("max_age_days", 3650, "Days before an automatic picture is retaken. Default 30."),
        )
    ),
    Spec(
        "picture_deny",
        "CLICKTRAIL_PICTURE_DENY",
        parse_templates,
        "Paths never captured: globs (/account/*) or regexes (re:^/admin). Default none.",
        many=True,
    ),
    *(
        Spec(
            f"max_{kind}_per_day",
            f"CLICKTRAIL_MAX_{kind.upper()}_PER_DAY",
            int_between(10, 10_000_000),
            f"Distinct {what} one site may store per day; beyond, new ones count as "
            f"'(over limit)'. Default {default}.",
        )
        for kind, what, default in (
            ("paths", "page paths", 20_000),
            ("templates", "page templates", 5_000),
            ("selectors", "clicked selectors", 20_000),
            ("event_names", "custom event names", 1_000),
            ("sources", "traffic sources (UTM sources, referrer hosts)", 5_000),
            ("properties", "custom event property values", 5_000),
            ("labels", "element labels (selector and label together)", 20_000),
        )
    ),
)


@dataclass(frozen=True)
class Settings:
    redis_url: str | None = None
    data_dir: Path = Path("clicktrail-data")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    max_body_bytes: int = 64 * 1024
    max_header_bytes: int = 32 * 1024
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    max_events: int = 200
    max_event_age_s: int = 48 * 3600
    rate_ip_per_s: float = 20.0
    rate_site_per_s: float = 5000.0
    rate_invalid_per_s: float = 5.0
    metrics_token: str | None = field(default=None, repr=False)
    honor_dnt: bool = True
    trusted_proxies: tuple[Network, ...] = field(default_factory=tuple)
    geoip_file: Path | None = None
    buffer_max_events: int = 1_000_000
    shards: int = 1
    redis_fsync: str = "everysec"
    log_level: str = "info"
    retention_days: int = 90
    page_templates: tuple[str, ...] = ()
    claim_idle_ms: int = 30_000
    session_gap_min: int = 30
    session_max_h: int = 24
    session_max_rows: int = 10_000
    auto_pictures: bool = True
    picture_min_views: int = 10
    picture_min_visitors: int = 3
    picture_max_age_days: int = 30
    picture_deny: tuple[str, ...] = ()
    max_paths_per_day: int = 20_000  # collector.cardinality.Limits
    max_templates_per_day: int = 5_000
    max_selectors_per_day: int = 20_000
    max_event_names_per_day: int = 1_000
    max_sources_per_day: int = 5_000
    max_properties_per_day: int = 5_000
    max_labels_per_day: int = 20_000

    @property
    def collector_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def session_ms(self) -> tuple[int, int]:
        """The session gap and the longest session, in ms: the pair every session reader takes."""
        return self.session_gap_min * MINUTE_MS, self.session_max_h * HOUR_MS

    def with_overrides(self, **values: Any) -> Settings:
        """Apply already-parsed values (CLI options), ignoring those left as None."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


SPEC_BY_NAME = {spec.name: spec for spec in SPECS}
assert set(SPEC_BY_NAME) == {f.name for f in fields(Settings)}, "SPECS and Settings disagree"


def parse_value(name: str, raw: Any, source: str) -> Any:
    """Cast one raw value (env string, TOML value or CLI string) or raise naming the key."""
    spec = SPEC_BY_NAME[name]
    if isinstance(raw, bool) and spec.parse is parse_bool:
        return raw
    if isinstance(raw, list | dict) and not (spec.many and isinstance(raw, list)):
        raise SettingsError(f"{source}: expected a single value, got {raw!r}")
    try:
        return spec.parse(raw if isinstance(raw, list) else str(raw))
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: {exc}") from None


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read: {exc}") from None
    table = data.get("clicktrail", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [clicktrail] must be a table")
    values = {}
    for key, raw in table.items():
        if key not in SPEC_BY_NAME:
            raise SettingsError(f"{path}: unknown setting [clicktrail].{key}")
        values[key] = parse_value(key, raw, f"{path}: [clicktrail].{key}")
    if "data_dir" in values:  # the file's folder, not wherever the command happens to run
        values["data_dir"] = path.parent / values["data_dir"]
    return values


def config_file(config_path: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The settings file: the one named, else $CLICKTRAIL_CONFIG, else ./clicktrail.toml."""
    env = os.environ if environ is None else environ
    return config_path or Path(env.get(f"{ENV_PREFIX}CONFIG") or CONFIG_FILE)


def user_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user data folder: $XDG_DATA_HOME/clicktrail, else ~/.local/share/clicktrail."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_DATA_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec says to ignore a relative one
        return Path(xdg) / "clicktrail"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".local" / "share" / "clicktrail"


def find_data_dir(cwd: Path, environ: Mapping[str, str] | None = None) -> Path:
    """A clicktrail-data/ in `cwd` or a parent, else the per-user folder (which may not exist)."""
    cwd = cwd.absolute()
    for folder in (cwd, *cwd.parents):
        if (folder / DATA_FOLDER).is_dir():
            return folder / DATA_FOLDER
    return user_data_dir(environ)


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    cwd: Path | None = None,
    default_data_dir: Path | None = None,
) -> Settings:
    """Defaults, then `clicktrail.toml` (if present), then the environment. A settings file that
    is named (`config_path`, or CLICKTRAIL_CONFIG) must exist; the data folder, unless a setting
    names it, is `default_data_dir` or else found from `cwd` (see `find_data_dir`)."""
    env = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    path = config_file(config_path, env)
    named = config_path is not None or bool(env.get(f"{ENV_PREFIX}CONFIG"))
    if not path.is_absolute():
        path = cwd / path
    if named and not path.is_file():
        source = "--config" if config_path is not None else f"{ENV_PREFIX}CONFIG"
        raise SettingsError(f"{source}: no settings file at {path}")
    values: dict[str, Any] = _from_file(path) if path.is_file() else {}
    for spec in SPECS:
        raw = env.get(spec.env)
        if raw is not None and raw != "":
            values[spec.name] = parse_value(spec.name, raw, spec.env)
    values.setdefault("data_dir", default_data_dir or find_data_dir(cwd, env))
    return Settings(**values)
