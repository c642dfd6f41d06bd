"""`clicktrail token create | list | revoke`: the read API's and the dashboard's tokens."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from clicktrail.cli.errors import CommandError
from clicktrail.cli.parser import command
from clicktrail.web.tokens import TokenError, create_token, list_tokens, revoke_token
from collector.settings import Settings
from collector.sites import check_name, get_site


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    token = command(commands, "token", help="tokens for the dashboard and the read API")
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = command(actions, "create", parents=[common], help="make a token (shown once)")
    create.add_argument("--name", default="dashboard", help="what it is for")
    create.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="NAME",
        help="the only site it may read (repeatable; default: every site)",
    )
    create.set_defaults(run=cmd_create, with_redis=True)
    listing = command(actions, "list", parents=[common], help="list tokens (never the secret)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=cmd_list, with_redis=True)
    revoke = command(actions, "revoke", parents=[common], help="make a token stop working")
    revoke.add_argument("id", help="the id `token list` shows")
    revoke.set_defaults(run=cmd_revoke, with_redis=True)


def cmd_create(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    for name in args.site:
        get_site(client, check_name(name))  # a typo would make a token that sees nothing
    try:
        secret, token = create_token(client, args.name, tuple(args.site))
    except TokenError as exc:
        raise CommandError(f"--name: {exc}") from None
    scope = ", ".join(token.sites) or "every site"
    print(f"Token {token.id} ({token.name}) for {scope}. Shown once, stored only as a hash:")
    print(secret)
    print(f"Dashboard: {settings.collector_url}/login#token={secret}")
    print(f"API: curl -H 'Authorization: Bearer {secret}' {settings.collector_url}/api/sites")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    tokens = list_tokens(client)
    if args.json:
        rows = [
            {"id": t.id, "name": t.name, "sites": list(t.sites), "created": _when(t.created_ms)}
            for t in tokens
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not tokens:
        print("No tokens yet: clicktrail token create")
        return 0
    print("id\tname\tsites\tcreated")
    for t in tokens:
        print(f"{t.id}\t{t.name}\t{','.join(t.sites) or '*'}\t{_when(t.created_ms)}")
    return 0


def cmd_revoke(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    try:
        token = revoke_token(client, args.id)
    except TokenError as exc:
        raise CommandError(str(exc)) from None
    print(f"Token {token.id} ({token.name}) revoked.")
    return 0


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
