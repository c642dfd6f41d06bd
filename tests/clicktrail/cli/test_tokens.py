"""`clicktrail token create | list | revoke`."""

from __future__ import annotations

import pytest
import redis

from clicktrail.cli.main import main


def test_token_list_is_a_table_with_a_header_and_never_the_secret(
    capsys: pytest.CaptureFixture[str], redis_url: str, redis_client: redis.Redis
) -> None:
    assert main(["token", "create", "--name", "ops", "--redis-url", redis_url]) == 0
    secret = capsys.readouterr().out.splitlines()[1]
    assert main(["token", "list", "--redis-url", redis_url]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split("\t") == ["id", "name", "sites", "created"]
    assert row.split("\t")[1:3] == ["ops", "*"]
    assert secret not in row
