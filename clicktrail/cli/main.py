"""`clicktrail`: the one command that composes the parts. The parser, and the dispatch to each
command family's module."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import version
from urllib.parse import urlsplit

import redis

from clicktrail.cli import (
    channels,
    demo,
    heatmaps,
    journeys,
    overview,
    reports,
    screenshots,
    serve,
    sites,
    tokens,
)
from clicktrail.cli.client import with_redis
from clicktrail.cli.data import check_data_dir
from clicktrail.cli.errors import CommandError, Unavailable
from clicktrail.cli.options import common_parser
from clicktrail.cli.parser import DefaultsFormatter, Parser
from collector.embedded import EmbeddedRedisError
from collector.settings import Settings, SettingsError, load_settings
from collector.sites import SiteError
from reports.scheduled.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    common = common_parser()
    parser = Parser(
        prog="clicktrail",
        description="Self-hosted clickstream and heatmap tracker.",
        formatter_class=DefaultsFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"clicktrail {version('clicktrail')}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # In this order in `clicktrail --help`: running it, then reading it, then managing it.
    serve.add_server_parsers(commands, common)
    demo.add_parser(commands, common)
    serve.add_worker_parser(commands, common)
    heatmaps.add_parsers(commands, common)
    reports.add_parsers(commands, common)
    journeys.add_parsers(commands, common)
    channels.add_parsers(commands, common)
    overview.add_parsers(commands, common)
    reports.add_report_parsers(commands, common)
    serve.add_scheduler_parser(commands, common)
    tokens.add_parsers(commands, common)
    screenshots.add_parsers(commands, common)
    sites.add_parsers(commands, common)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    # A command may keep data of its own unless told otherwise (the demo: beside its outputs).
    own_folder = getattr(args, "own_data_dir", None)
    default = own_folder(args) if own_folder else None
    settings = load_settings(config_path=args.config, default_data_dir=default)
    names = ("redis_url", "data_dir", "host", "port", "shards", "public_url", "claim_idle_ms")
    return settings.with_overrides(**{n: getattr(args, n, None) for n in names})


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
    except SettingsError as exc:
        parser.error(str(exc))
    configure_logging(settings, getattr(args, "long_running", False))
    try:
        check_data_dir(settings, getattr(args, "creates_data", False))
        if getattr(args, "with_redis", False):
            return with_redis(settings, lambda client: int(args.run(args, settings, client)))
        return int(args.run(args, settings))
    except (SiteError, CommandError, ConfigError) as exc:
        return _fail(str(exc), 2)
    except (Unavailable, EmbeddedRedisError) as exc:
        return _fail(str(exc), 1)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        return _fail(f"cannot reach Redis at {_redis_place(settings)}: {exc}", 1)
    except OSError as exc:  # a file to write or read: permissions, a full disk
        return _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), 1)
    except KeyboardInterrupt:
        return 130


def configure_logging(settings: Settings, long_running: bool) -> None:
    """The level of the settings for the processes that run; one-shot commands say only what
    went wrong (or everything, at debug), not an INFO line each time they reach Redis."""
    level = settings.log_level.upper()
    if not long_running and level == "INFO":
        level = "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _redis_place(settings: Settings) -> str:
    if not settings.redis_url:
        return f"the embedded Redis in {settings.data_dir}"
    parts = urlsplit(settings.redis_url)  # shown without its password, in either place
    return parts._replace(netloc=parts.netloc.rpartition("@")[2], query="").geturl()


def _fail(message: str, code: int) -> int:
    print(f"clicktrail: error: {message}", file=sys.stderr)
    return code
