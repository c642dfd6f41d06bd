"""What a user agent says of its owner: a bot, or a browser family on a system family.

Bots: `crawlerdetect` (a maintained list of crawlers, headless browsers and HTTP libraries: it
knows `HeadlessChrome`, which a hand-written pattern here missed), and ua-parser's "Spider"
devices. Families: `ua-parser` with its RE2 resolver (linear time on a stranger's string).

Each user agent is parsed once: answers are cached by a 64-bit hash of it (BLAKE2b), so the
cache holds no user agent, and it is bounded in entries. The user agent is never stored; only
the families are, and they are short.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from crawlerdetect import CrawlerDetect
from ua_parser import Parser, load_lazy_builtins
from ua_parser.re2 import Resolver

CACHE_ENTRIES = 8192
MAX_FAMILY_CHARS = 48
UNKNOWN = "Other"  # ua-parser's own word for a family it does not know
_HEADLESS = frozenset({"HeadlessChrome", "PhantomJS"})


@dataclass(frozen=True, slots=True)
class Agent:
    bot: bool
    browser: str  # "Chrome", "Mobile Safari", "Firefox", ...; "Other" when unknown
    os: str  # "Windows", "Mac OS X", "iOS", "Android", ...


BOT = Agent(True, UNKNOWN, UNKNOWN)


class AgentParser:
    """Parses user agents, remembering the last CACHE_ENTRIES answers (thread-safe)."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self.entries = entries
        self._parser = Parser(Resolver(load_lazy_builtins()))
        self._crawlers = CrawlerDetect()
        self._cache: OrderedDict[bytes, Agent] = OrderedDict()
        self._lock = Lock()

    def __call__(self, user_agent: str) -> Agent:
        if not user_agent:
            return BOT
        key = hashlib.blake2b(user_agent.encode(), digest_size=8).digest()
        with self._lock:
            known = self._cache.get(key)
            if known is not None:
                self._cache.move_to_end(key)
                return known
        agent = self._parse(user_agent)
        with self._lock:
            self._cache[key] = agent
            if len(self._cache) > self.entries:
                self._cache.popitem(last=False)
        return agent

    def _parse(self, user_agent: str) -> Agent:
        result = self._parser.parse(user_agent)
        browser = _family(result.user_agent.family if result.user_agent else None)
        system = _family(result.os.family if result.os else None)
        spider = result.device is not None and result.device.family == "Spider"
        bot = spider or browser in _HEADLESS or self._crawlers.isCrawler(user_agent)
        return Agent(bool(bot), browser, system)


def _family(name: str | None) -> str:
    if not name:
        return UNKNOWN
    return "".join(c for c in name if c.isprintable())[:MAX_FAMILY_CHARS] or UNKNOWN
