"""What the demo remembers between runs: its history mark and its token, and `--fresh` forgets
them with the demo site's data, and nothing of any other site's."""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from clicktrail.demo.state import demo_token, history_posted_at, mark_history_posted, wipe_demo
from clicktrail.web.tokens import create_token, find_token, list_tokens, revoke_token
from collector import keys
from heatmap import keys as heatmap_keys


def test_the_history_mark_is_kept(redis_client: redis.Redis) -> None:
    assert history_posted_at(redis_client) is None
    at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    mark_history_posted(redis_client, at)
    assert history_posted_at(redis_client) == at


def test_the_token_is_made_once_and_made_again_when_revoked(redis_client: redis.Redis) -> None:
    first = demo_token(redis_client)
    assert demo_token(redis_client) == first
    assert [t.name for t in list_tokens(redis_client)] == ["demo"]

    token = find_token(redis_client, first)
    assert token is not None
    revoke_token(redis_client, token.id)
    second = demo_token(redis_client)
    assert second != first and find_token(redis_client, second) is not None


def test_wiping_forgets_the_demo_and_nothing_else(redis_client: redis.Redis) -> None:
    secret = demo_token(redis_client)
    mark_history_posted(redis_client, datetime.now(UTC))
    other, _ = create_token(redis_client, "mine")
    demo_keys = [
        keys.events_stream("demo-shop", 0),
        heatmap_keys.page_counts("demo-shop", 3, "2026-11-20"),
        heatmap_keys.screenshot("demo-shop", "desktop", "/cart"),
    ]
    kept_keys = [
        keys.events_stream("demo-shop-2", 0),
        heatmap_keys.screenshot("shop", "desktop", "/"),
        keys.visitor_salt("2026-11-20"),
    ]
    for key in demo_keys + kept_keys:
        redis_client.set(key, "x")

    assert wipe_demo(redis_client, "demo-shop") == len(demo_keys) + 1  # and the state hash
    assert [redis_client.exists(k) for k in demo_keys] == [0, 0, 0]
    assert [redis_client.exists(k) for k in kept_keys] == [1, 1, 1]
    assert find_token(redis_client, secret) is None and find_token(redis_client, other)
    assert history_posted_at(redis_client) is None
