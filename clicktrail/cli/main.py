"""`clicktrail`: the one command that composes the parts. The parser, and the dispatch to each
command family's module."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from clicktrail.cli import demo, heatmaps, reports, screenshots, serve, sites, tokens
from clicktrail.cli.client import with_redis
from clicktrail.cli.errors import CommandError
from clicktrail.cli.options import common_parser
from collector.settings import Settings, SettingsError, load_settings
from collector.sites import SiteError
from reports.scheduled.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    common = common_parser()
    parser = argparse.ArgumentParser(
        prog="clicktrail", description="Self-hosted clickstream and heatmap tracker."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # In this order in `clicktrail --help`: running it, then reading it, then managing it.
    serve.add_server_parsers(commands, common)
    demo.add_parser(commands, common)
    serve.add_worker_parser(commands, common)
    heatmaps.add_parsers(commands, common)
    reports.add_parsers(commands, common)
    reports.add_report_parsers(commands, common)
    serve.add_scheduler_parser(commands, common)
    tokens.add_parsers(commands, common)
    screenshots.add_parsers(commands, common)
    sites.add_parsers(commands, common)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    settings = load_settings(config_path=args.config)
    names = ("redis_url", "data_dir", "host", "port", "shards", "public_url", "claim_idle_ms")
    return settings.with_overrides(**{n: getattr(args, n, None) for n in names})


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
    except SettingsError as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if getattr(args, "with_redis", False):
            return with_redis(settings, lambda client: int(args.run(args, settings, client)))
        return int(args.run(args, settings))
    except (SiteError, CommandError, ConfigError) as exc:
        print(f"clicktrail: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
