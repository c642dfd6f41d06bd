"""`clicktrail site add | list | remove`: the sites to track."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clicktrail.cli.client import with_redis
from clicktrail.cli.options import setting, zone_option
from clicktrail.cli.parser import command
from collector import sites as site_store
from collector.settings import Settings
from collector.snippet import script_tag


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    site = command(commands, "site", help="register the sites to track")
    site_commands = site.add_subparsers(dest="site_command", required=True, metavar="ACTION")
    add = command(site_commands, "add", parents=[common], help="register a site")
    add.add_argument("name", help="short name: lowercase letters, digits and '-'")
    add.add_argument(
        "--origin",
        action="append",
        required=True,
        metavar="URL",
        help="origin allowed to send events, e.g. https://shop.example (repeatable)",
    )
    add.add_argument(
        "--shards",
        type=setting("shards"),
        help="stream shards for this site; env CLICKTRAIL_SHARDS (default: 1)",
    )
    add.add_argument(
        "--public-url",
        type=setting("public_url"),
        metavar="URL",
        help="collector URL for the script tag; env CLICKTRAIL_PUBLIC_URL",
    )
    zone_option(add, "the time zone its funnels and reports count days in (default: UTC)")
    add.set_defaults(run=cmd_site_add, creates_data=True)
    change = command(site_commands, "set", parents=[common], help="change a site's settings")
    change.add_argument("name", help="the site's name")
    change.add_argument(
        "--tz",
        required=True,
        metavar="ZONE",
        help="the time zone its funnels and reports count days in, e.g. Europe/Paris",
    )
    change.set_defaults(run=cmd_site_set)
    listing = command(site_commands, "list", parents=[common], help="list sites")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=cmd_site_list)
    remove = command(site_commands, "remove", parents=[common], help="forget a site")
    remove.add_argument("name", help="the site's name")
    remove.set_defaults(run=cmd_site_remove)


def cmd_site_add(args: argparse.Namespace, settings: Settings) -> int:
    site = site_store.new_site(args.name, args.origin, settings.shards, args.tz or "UTC")

    def add(client: Any) -> int:
        site_store.add_site(client, site)
        print(f"Site {site.name} added. Allowed origins: {', '.join(site.origins)}")
        print(f"Time zone: {site.time_zone}")
        print(f"Public key: {site.key}")
        print("Paste this into every page, before </head>:")
        print(script_tag(settings.collector_url, site.key))
        return 0

    return with_redis(settings, add)


def cmd_site_list(args: argparse.Namespace, settings: Settings) -> int:
    def show(client: Any) -> int:
        found = site_store.list_sites(client)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "name": s.name,
                            "key": s.key,
                            "origins": list(s.origins),
                            "shards": s.shards,
                            "time_zone": s.time_zone,
                        }
                        for s in found
                    ],
                    indent=2,
                )
            )
        elif not found:
            print("No sites yet: clicktrail site add NAME --origin https://your.site")
        else:
            print("name\tkey\ttime_zone\torigins")
            for s in found:
                print(f"{s.name}\t{s.key}\t{s.time_zone}\t{' '.join(s.origins)}")
        return 0

    return with_redis(settings, show)


def cmd_site_set(args: argparse.Namespace, settings: Settings) -> int:
    def change(client: Any) -> int:
        site = site_store.set_time_zone(client, args.name, args.tz)
        print(f"Site {site.name}: time zone {site.time_zone}")
        return 0

    return with_redis(settings, change)


def cmd_site_remove(args: argparse.Namespace, settings: Settings) -> int:
    def remove(client: Any) -> int:
        site = site_store.remove_site(client, args.name)
        print(f"Site {site.name} removed; its key {site.key} no longer works.")
        return 0

    return with_redis(settings, remove)
