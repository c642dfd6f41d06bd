"""Options and value parsers that several commands share: where the data is, host and port,
`--site`, days and periods, time zones, ranged integers."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from clicktrail.cli.errors import CommandError
from collector import days as day_rules
from collector import inputs
from collector.days import parse_zone
from collector.settings import SettingsError, parse_value


def setting(name: str) -> Callable[[str], Any]:
    """A parser for the option of setting `name`, checked as the settings file's value is."""

    def parse(raw: str) -> Any:
        try:
            return parse_value(name, raw, f"--{name.replace('_', '-')}")
        except SettingsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def int_between(low: int, high: int) -> Callable[[str], int]:
    return checked(inputs.int_between(low, high))


def iso_date(raw: str) -> date:
    parse: Callable[[str], date] = checked(inputs.iso_date)
    return parse(raw)


def checked(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse` as an argparse type: its ValueError becomes argparse's usage error."""

    def check(raw: str) -> Any:
        try:
            return parse(raw)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return check


def common_parser() -> argparse.ArgumentParser:
    """The parent parser of every command that reaches the data."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("where the data is")
    group.add_argument(
        "--redis-url",
        type=setting("redis_url"),
        metavar="URL",
        help="Redis to use; env REDIS_URL (default: an embedded Redis in the data folder)",
    )
    group.add_argument(
        "--data-dir",
        type=setting("data_dir"),
        metavar="DIR",
        help="the data folder (embedded Redis); env CLICKTRAIL_DATA (default: a clicktrail-data/ "
        "here or in a parent folder, else ~/.local/share/clicktrail)",
    )
    group.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="settings file, which must exist; env CLICKTRAIL_CONFIG "
        "(default: ./clicktrail.toml, if there)",
    )
    return common


def http_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        type=setting("host"),
        help="address to bind; env CLICKTRAIL_HOST (default: 127.0.0.1)",
    )
    parser.add_argument(
        "--port", type=setting("port"), help="port to bind; env CLICKTRAIL_PORT (default: 8000)"
    )


def site_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, help="the site's name")


def days_options(parser: argparse.ArgumentParser, counted: str, default_days: int) -> None:
    """--from and --to, the days of `counted` (the last `default_days` up to today unless
    given), and --tz, the time zone they are days of."""
    parser.add_argument(
        "--from", dest="first", type=iso_date, metavar="YYYY-MM-DD", help="first day"
    )
    parser.add_argument(
        "--to",
        dest="last",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help=f"last day; --from to --to are the days of {counted} "
        f"(default: the last {default_days} days up to today)",
    )
    zone_option(parser)


def zone_option(parser: argparse.ArgumentParser, help: str = "time zone of the days") -> None:
    parser.add_argument(
        "--tz",
        type=checked(lambda z: parse_zone(z).key),
        metavar="ZONE",
        help=f"{help} (default: the site's, `clicktrail site set NAME --tz ZONE`)",
    )


def period(first: date | None, last: date | None, days: int) -> tuple[date, date]:
    """`--from` and `--to`, by default the `days` days up to today (UTC); a range a read can
    take, else a CommandError naming both."""
    try:
        return day_rules.period(first, last, days)
    except ValueError as exc:
        raise CommandError(f"--from/--to: {exc}") from None
