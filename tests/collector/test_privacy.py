"""Privacy rules: bots and opt-outs recognised, the client IP read only through trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest
from starlette.datastructures import Headers

from collector.privacy import client_ip, opted_out
from tests.factories import tiny_async_client

PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.1", None, "198.51.100.1"),
        ("198.51.100.1", "1.2.3.4", "198.51.100.1"),  # untrusted peer: its header is ignored
        ("10.0.0.5", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9", "1.2.3.4"),  # spoofed left hop is skipped
        ("10.0.0.5", "10.0.0.7, 10.0.0.9", "10.0.0.7"),
        ("10.0.0.5", "garbage, 1.2.3.4", "1.2.3.4"),
        ("10.0.0.5", "", "10.0.0.5"),
        (None, "1.2.3.4", ""),
    ],
)
def test_client_ip_believes_forwarded_for_only_from_trusted_proxies(
    peer: str | None, forwarded: str | None, expected: str
) -> None:
    assert client_ip(peer, forwarded, PROXIES) == expected


@pytest.mark.parametrize(
    ("headers", "honor_dnt", "out"),
    [
        ({"sec-gpc": "1"}, False, True),
        ({"dnt": "1"}, True, True),
        ({"dnt": "1"}, False, False),
        ({"dnt": "0", "sec-gpc": "0"}, True, False),
        ({}, True, False),
    ],
)
def test_opt_out_signals(headers: dict[str, str], honor_dnt: bool, out: bool) -> None:
    assert opted_out(Headers(headers), honor_dnt) is out


def test_a_burst_of_first_visitors_fetches_the_day_s_salt_once(redis_url: str) -> None:
    import asyncio

    from collector.privacy import VisitorHasher

    async def burst() -> set[str]:
        # A pool of 2: one fetch per waiting request would fail with "Too many connections".
        client = tiny_async_client(redis_url, max_connections=2)
        hasher = VisitorHasher(client)
        ids = await asyncio.gather(
            *(hasher.visitor_id("shop", "203.0.113.9", "UA") for _ in range(200))
        )
        other = await hasher.visitor_id("shop", "203.0.113.10", "UA")
        await client.aclose()
        return {*ids, other}

    assert len(asyncio.run(burst())) == 2
