"""Where the demo's synthetic visitors come from: public addresses of a few countries, sent as
X-Forwarded-For by the demo's own poster (the demo's collector trusts 127.0.0.1 as a proxy), so
the overview's countries are not empty. Only the header travels: nothing is sent to them.

Each is a well-known server's address, and tests/clicktrail/demo/test_addresses.py checks that
the collector's lookup (iptocc) places it in the country named here.
"""

from __future__ import annotations

import random
from typing import NamedTuple


class VisitorAddress(NamedTuple):
    address: str
    country: str  # ISO 3166-1 alpha-2, as collector.geo finds it
    weight: float  # share of the visits, relative


VISITOR_ADDRESSES = (
    VisitorAddress("8.8.8.8", "US", 6),  # Google Public DNS
    VisitorAddress("2001:4860:4860::8888", "US", 3),  # Google Public DNS, IPv6
    VisitorAddress("193.99.144.80", "DE", 3),  # heise.de
    VisitorAddress("2a02:2e0::1", "DE", 1),  # Strato
    VisitorAddress("212.58.244.1", "GB", 3),  # the BBC
    VisitorAddress("2a00:1098::1", "GB", 1),  # Mythic Beasts
    VisitorAddress("212.27.48.10", "FR", 2),  # Free
    VisitorAddress("2a01:e0a::1", "FR", 1),  # Free, IPv6
    VisitorAddress("14.139.0.1", "IN", 2),  # India's National Knowledge Network
    VisitorAddress("2405:200::1", "IN", 1),  # Reliance Jio
    VisitorAddress("200.160.0.1", "BR", 2),  # NIC.br
    VisitorAddress("202.12.27.33", "JP", 2),  # the M root server (WIDE)
    VisitorAddress("2001:67c:2e8::1", "NL", 1),  # RIPE NCC
    VisitorAddress("1.1.1.1", "AU", 1),  # APNIC and Cloudflare's resolver
)


def pick_addresses(count: int, seed: int) -> list[str]:
    """`count` addresses drawn by weight, the same ones for the same seed."""
    rng = random.Random(f"addresses-{seed}")  # its own stream: the visits' draws stay as they were
    weights = [a.weight for a in VISITOR_ADDRESSES]
    return [a.address for a in rng.choices(VISITOR_ADDRESSES, weights, k=count)]
