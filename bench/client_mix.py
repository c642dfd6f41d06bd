"""Realistic, deterministic clients for bench/ingest.py: about 5,000 distinct user agents of real
browser families (Chrome, Firefox, Safari, Edge, Samsung Internet on Windows, macOS, Linux,
Android and iOS, across many versions, plus a few % of crawlers so the dropped path runs too),
each with a public client address (IPv4 and IPv6, many countries).

The addresses come from a fixed grid of candidates kept when iptocc (the collector's own
lookup) names a country, so every one reaches the country code path, never the private-address
shortcut. `write_lua_clients` writes them as a Lua table that bench/post_batch.lua rotates
through (one client per request, sent as User-Agent and X-Forwarded-For).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import iptocc

CLIENTS = 5000
BOT_SHARE = 0.03  # of the clients; their batches are answered 202 and dropped
IPV6_SHARE = 0.3  # of the addresses
ADDRESSES_PER_COUNTRY = 12
SEED = 19  # the number: any fixed seed gives the same files on every run

_DESKTOPS = (
    "Windows NT 10.0; Win64; x64",
    "Windows NT 10.0; WOW64",
    "Windows NT 6.1; Win64; x64",
    "Macintosh; Intel Mac OS X 10_15_7",
    "Macintosh; Intel Mac OS X 13_{minor}",
    "X11; Linux x86_64",
    "X11; Ubuntu; Linux x86_64",
)
_ANDROIDS = ("SM-S918B", "SM-A546B", "Pixel 7", "Pixel 8 Pro", "SM-G991B", "M2101K20G", "K")
_CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/{major}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "python-requests/2.{major}.0",
    "curl/8.{major}.0",
)


@dataclass(frozen=True, slots=True)
class Client:
    user_agent: str
    address: str


def _chrome(rng: random.Random) -> str:
    major, build = rng.randint(90, 131), rng.randint(4000, 6800)
    patch = rng.randint(0, 250)
    if rng.random() < 0.4:
        device = rng.choice(_ANDROIDS)
        return (
            f"Mozilla/5.0 (Linux; Android {rng.randint(9, 14)}; {device}) AppleWebKit/537.36 "
            f"(KHTML, like Gecko) Chrome/{major}.0.{build}.{patch} Mobile Safari/537.36"
        )
    system = rng.choice(_DESKTOPS).format(minor=rng.randint(0, 6))
    return (
        f"Mozilla/5.0 ({system}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.{build}.{patch} Safari/537.36"
    )


def _edge(rng: random.Random) -> str:
    major = rng.randint(100, 131)
    system = rng.choice(_DESKTOPS[:3] + _DESKTOPS[3:5]).format(minor=rng.randint(0, 6))
    build = f"{rng.randint(1000, 2900)}.{rng.randint(0, 99)}"
    return (
        f"Mozilla/5.0 ({system}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36 Edg/{major}.0.{build}"
    )


def _firefox(rng: random.Random) -> str:
    major = rng.randint(90, 133)
    if rng.random() < 0.2:
        return (
            f"Mozilla/5.0 (Android {rng.randint(10, 14)}; Mobile; rv:{major}.0) "
            f"Gecko/{major}.0 Firefox/{major}.0"
        )
    system = rng.choice(_DESKTOPS).format(minor=rng.randint(0, 6))
    system = (
        system.replace("_", ".") if system.startswith("Macintosh") else system
    )  # as Firefox writes it
    return f"Mozilla/5.0 ({system}; rv:{major}.0) Gecko/20100101 Firefox/{major}.0"


def _safari(rng: random.Random) -> str:
    major, minor = rng.randint(14, 18), rng.randint(0, 6)
    if rng.random() < 0.6:
        device = rng.choice(("iPhone", "iPad"))
        ios = f"{major}_{minor}" if rng.random() < 0.5 else f"{major}_{minor}_{rng.randint(1, 3)}"
        return (
            f"Mozilla/5.0 ({device}; CPU {'iPhone ' if device == 'iPhone' else ''}OS {ios} like "
            f"Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{major}.{minor} "
            f"Mobile/15E148 Safari/604.1"
        )
    return (
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        f"Gecko) Version/{major}.{minor} Safari/605.1.15"
    )


def _samsung(rng: random.Random) -> str:
    major, chrome = rng.randint(14, 26), rng.randint(90, 130)
    return (
        f"Mozilla/5.0 (Linux; Android {rng.randint(9, 14)}; {rng.choice(_ANDROIDS)}) "
        f"AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/{major}.{rng.randint(0, 4)} "
        f"Chrome/{chrome}.0.0.0 Mobile Safari/537.36"
    )


# Rough shares of the families on the web; crawlers are added apart.
_MAKERS: tuple[Callable[[random.Random], str], ...] = (_chrome, _safari, _edge, _firefox, _samsung)
_SHARES = (0.55, 0.2, 0.1, 0.08, 0.07)


def user_agents(count: int = CLIENTS, bot_share: float = BOT_SHARE) -> list[str]:
    """`count` distinct user agents, `bot_share` of them crawlers, in a fixed shuffled order."""
    rng = random.Random(SEED)
    bots = max(1, round(count * bot_share))
    chosen: dict[str, None] = {}  # a dict keeps the order and drops repeats
    for n in itertools.count():
        if len(chosen) >= bots:
            break
        chosen[_CRAWLERS[n % len(_CRAWLERS)].format(major=20 + n // len(_CRAWLERS))] = None
    while len(chosen) < count:
        chosen[rng.choices(_MAKERS, _SHARES)[0](rng)] = None
    agents = list(chosen)
    rng.shuffle(agents)
    return agents


def client_addresses(per_country: int = ADDRESSES_PER_COUNTRY) -> list[str]:
    """Public addresses that iptocc places in a country: up to `per_country` of each country
    found on a grid over the IPv4 space and the registries' IPv6 blocks."""
    v4 = [
        f"{a}.{b}.{(a * 7 + b) % 256}.{(b * 3) % 254 + 1}"
        for a in range(1, 224)
        for b in range(256)
    ]
    v6_blocks = [0x2001, *range(0x2400, 0x2410), *range(0x2600, 0x2610), *range(0x2800, 0x2810)]
    v6_blocks += [*range(0x2A00, 0x2A10), 0x2C0F]
    v6 = [f"{hi:x}:{lo:x}::{lo % 250 + 1:x}" for hi in v6_blocks for lo in range(0, 0x10000, 0x80)]
    by_country: dict[str, list[str]] = {}
    want_v6 = round(per_country * IPV6_SHARE)
    for family, quota in ((v6, want_v6), (v4, per_country)):
        for address, country in zip(family, iptocc.country_code(family), strict=True):
            taken = by_country.setdefault(country, []) if country else None
            if taken is not None and len(taken) < quota:
                taken.append(address)
    addresses = [a for country in sorted(by_country) for a in by_country[country]]
    random.Random(SEED).shuffle(addresses)
    return addresses


def clients(count: int = CLIENTS) -> list[Client]:
    """`count` clients: each user agent with one address, addresses reused round-robin."""
    addresses = client_addresses()
    return [Client(ua, addresses[i % len(addresses)]) for i, ua in enumerate(user_agents(count))]


def write_lua_clients(path: Path, mix: list[Client]) -> None:
    """A Lua chunk returning {{user_agent, address}, ...} for bench/post_batch.lua."""
    rows = (f"{{{_lua_string(c.user_agent)},{_lua_string(c.address)}}}," for c in mix)
    path.write_text("return {\n" + "\n".join(rows) + "\n}\n")


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
