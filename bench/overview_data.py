"""The traffic overview benchmark's data (bench/overview.py): a seeded generator of 60 days of page
views and custom events (the overview's 30-day period and the one before it), kept as numeric
columns and the strings they index, from which each engine's store is built.

Visits: a start uniform over the 60 days; 1 to 40 page views (geometric, 40 % bounces), 1 to 180 s
apart, over 400 paths (Zipf); one custom event in 15 % of visits and a second in 3 %, on one of
their page views, each with one property value; a daily visitor hash (a third as many people as
visits, the hash changing each UTC day; 1 % of visits without one); a band; a touch drawn
(Zipf) from 5,000 distinct ones, the per-day bound on traffic sources (collector.settings
max_sources_per_day): direct, search engines, social networks, AI assistants, e-mail
providers, video sites, other sites, the site itself, an Android app, referrer spam, tagged
campaigns (UTM source, medium, campaign, term, content) with ad click ids, and per touch a
browser, system, country and hostname. Every string is ASCII.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from collector.days import DAY_MS
from collector.schema import CLICK_IDS
from reports.analyses.visit_channels import entry_channels
from reports.sessions.touches import TOUCH_PREFIX

SEED = 19
DAYS = 60  # the period and the one before it
FIRST_DAY_MS = 1_740_787_200_000  # 2025-03-01T00:00Z
N_PATHS, N_TOUCHES = 400, 5_000
MAX_VIEWS = 40
PAGE_GAP_MS = (1_000, 180_000)  # between page views of a visit
EVENTS = {  # name -> (property, values)
    "signup": ("plan", ["free", "pro", "team", "enterprise"]),
    "add_to_cart": ("product", [f"sku-{i}" for i in range(40)]),
    "download": ("file", [f"guide-{i}.pdf" for i in range(12)]),
    "play_video": ("video", [f"v{i}" for i in range(25)]),
    "newsletter": ("list", ["weekly", "offers"]),
    "share": ("network", ["x", "facebook", "linkedin", "mail"]),
    "search": ("results", ["0", "1-10", "11+"]),
    "outbound": ("host", [f"partner{i}.example" for i in range(15)]),
}
BANDS_P = (0.42, 0.06, 0.52)  # mobile, tablet, desktop
SITE_HOST = "shop.example"

SEARCH = [
    "www.google.com",
    "google.de",
    "www.bing.com",
    "duckduckgo.com",
    "search.yahoo.com",
    "yandex.ru",
    "ecosia.org",
    "www.google.co.uk",
    "search.brave.com",
    "baidu.com",
]
SOCIAL = [
    "m.facebook.com",
    "t.co",
    "www.linkedin.com",
    "www.reddit.com",
    "out.reddit.com",
    "l.instagram.com",
    "news.ycombinator.com",
    "mastodon.social",
    "www.pinterest.com",
]
AI = ["chatgpt.com", "perplexity.ai", "gemini.google.com", "copilot.microsoft.com", "claude.ai"]
VIDEO = ["www.youtube.com", "vimeo.com", "www.twitch.tv"]
EMAIL = ["mail.google.com", "outlook.live.com", "mail.yahoo.com"]
SPAM = ["semalt.com", "darodar.com", "buttons-for-website.com"]
APPS = [
    "android-app://com.google.android.gm",
    "android-app://com.slack",
    "android-app://org.telegram.messenger",
]
CAMPAIGNS = [  # (source, medium, click ids)
    ("google", "cpc", ["gclid"]), ("bing", "cpc", ["msclkid"]), ("facebook", "paid_social",
    ["fbclid"]), ("Newsletter", "email", []), ("partner", "affiliate", []), ("tiktok", "paid",
    ["ttclid"]), ("linkedin", "social", ["li_fat_id"]), ("sms", "sms", []), ("display-net",
    "display", ["gclid"]), ("Mailchimp", "email", []), ("facebook", "", ["fbclid"]), ("x", "",
    ["twclid"]),
]  # fmt: skip
KINDS = (  # (kind of touch, share of the pool's touches, share of the visits)
    ("direct", 0.2, 0.3), ("search", 0.2, 0.28), ("social", 0.1, 0.1), ("ai", 0.05, 0.04),
    ("video", 0.03, 0.02), ("email", 0.03, 0.02), ("site", 0.02, 0.01), ("other", 0.15, 0.08),
    ("campaign", 0.17, 0.12), ("app", 0.02, 0.02), ("spam", 0.03, 0.01),
)  # fmt: skip
BROWSERS = ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet", "Opera", "Chrome Mobile"]
SYSTEMS = ["Windows", "Mac OS X", "iOS", "Android", "Linux", "Chrome OS"]
COUNTRIES = [*"US DE GB FR IN BR CA NL ES IT PL SE JP AU MX CH AT BE DK FI NO IE PT".split(),
             *"CZ RO TR KR SG ZA AR CL CO NZ IL UA HU GR ID PH VN".split(), ""]  # fmt: skip
HOSTS = [SITE_HOST, "www." + SITE_HOST, "blog." + SITE_HOST, ""]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Clickstream:
    """Rows are page views and custom events in time order within each visit, visits in id order.
    `item` indexes `paths` for page views, EVENTS' names for events; `value` indexes the
    event's `values` (-1 on page views). Per visit: `visitor` (0: none), `touch` (index of
    `touches`), `band` (index of collector.pages.BANDS)."""

    visit: npt.NDArray[np.uint32]
    ts: IntArray
    is_page: npt.NDArray[np.bool_]
    item: npt.NDArray[np.int32]
    value: npt.NDArray[np.int32]
    visitor: npt.NDArray[np.uint64]
    touch: npt.NDArray[np.int32]
    band: npt.NDArray[np.uint8]


def zipf_p(n: int, s: float = 1.1) -> npt.NDArray[np.float64]:
    weights = 1.0 / np.arange(1, n + 1) ** s
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def paths() -> list[str]:
    fixed = ["/", "/pricing", "/cart", "/checkout", "/thanks", "/about", "/contact", "/login",
             "/signup", "/docs", "/blog", "/search", "/account", "/faq"]  # fmt: skip
    rng = np.random.default_rng(SEED + 1)
    out = list(fixed)
    while len(out) < N_PATHS:
        section = ["product", "blog", "docs", "category"][int(rng.integers(4))]
        out.append(f"/{section}/{int(rng.integers(1, 10_000))}")
        out = list(dict.fromkeys(out))
    return out


def touches() -> tuple[list[list[Any]], IntArray]:
    """N_TOUCHES distinct touches, each the 11 fields of reports.sessions.touches' version 2,
    and the index in KINDS of each one's kind."""
    rng = np.random.default_rng(SEED + 2)
    names, shares, _ = zip(*KINDS, strict=True)
    found: dict[str, list[Any]] = {}
    kinds: dict[str, int] = {}
    others = [f"{w}{i}.example" for i in range(300) for w in ("blog", "www.news")]
    while len(found) < N_TOUCHES:
        kind = names[int(rng.choice(len(names), p=np.array(shares) / sum(shares)))]
        ref, utm, ids = "", ["", "", "", "", ""], []

        def pick(values: list[Any]) -> Any:
            return values[int(rng.integers(len(values)))]

        if kind in ("search", "social", "ai", "video", "email", "spam", "app"):
            pool = {"search": SEARCH, "social": SOCIAL, "ai": AI, "video": VIDEO, "email": EMAIL,
                    "spam": SPAM, "app": APPS}[kind]  # fmt: skip
            ref = pick(pool)
        elif kind == "site":
            ref = pick(HOSTS[:3])
        elif kind == "other":
            ref = pick(others)
        elif kind == "campaign":
            source, medium, ids = pick(CAMPAIGNS)
            name = pick(["spring", "summer", "launch", "retarget", "brand"])
            campaign = f"{name}-{rng.integers(6)}"
            term = pick(["", "", "shoes", "running shoes", "cheap boots", "gift"])
            content = pick(["", "", "banner-a", "banner-b", "text-link"])
            utm = [source, medium, campaign, term, content]
            ref = pick(["", "", "www.google.com", "m.facebook.com"])
        fields = [ref, *utm, [n for n in CLICK_IDS if n in ids], pick(BROWSERS), pick(SYSTEMS),
                  pick(COUNTRIES), pick(HOSTS)]  # fmt: skip
        key = msgspec.json.encode(fields).decode()
        found.setdefault(key, fields)
        kinds.setdefault(key, names.index(kind))
    return list(found.values()), np.array(list(kinds.values()), dtype=np.int64)


def visit_touches(rng: np.random.Generator, n_visits: int) -> npt.NDArray[np.int32]:
    """Per visit a touch: its kind by KINDS' share of visits, then Zipf within the kind."""
    _, kind_of = touches()
    share = np.array([visits for _, _, visits in KINDS])
    kind = rng.choice(len(KINDS), size=n_visits, p=share / share.sum())
    out = np.zeros(n_visits, np.int32)
    for k in range(len(KINDS)):
        members = np.flatnonzero(kind_of == k)
        chosen = kind == k
        drawn = rng.choice(len(members), size=int(chosen.sum()), p=zipf_p(len(members)))
        out[chosen] = members[drawn]
    return out


def generate(n: int) -> Clickstream:
    """About n page views (exactly n: the last visit is cut) and their visits' custom events."""
    rng = np.random.default_rng(SEED)
    views = np.minimum(rng.geometric(0.4, size=n // 2 + 10), MAX_VIEWS)
    last = int(np.searchsorted(np.cumsum(views), n))
    views = views[: last + 1]
    views[-1] -= int(views.sum()) - n
    n_visits = len(views)
    start = FIRST_DAY_MS + rng.integers(0, DAYS * DAY_MS - 3 * 3_600_000, n_visits)
    offsets = np.concatenate([[0], np.cumsum(views)])
    owner = np.repeat(np.arange(n_visits), views)
    gap = rng.integers(*PAGE_GAP_MS, n).astype(np.int64)
    gap[offsets[:-1]] = 0
    elapsed = np.cumsum(gap)
    page_ts = start[owner] + elapsed - elapsed[offsets[:-1]][owner]
    page_item = rng.choice(N_PATHS, size=n, p=zipf_p(N_PATHS)).astype(np.int32)

    with_event = np.flatnonzero(rng.random(n_visits) < 0.15)
    second = with_event[rng.random(len(with_event)) < 0.2]
    ev_visit = np.sort(np.concatenate([with_event, second]))
    host = offsets[ev_visit] + (rng.random(len(ev_visit)) * views[ev_visit]).astype(np.int64)
    ev_ts = page_ts[host] + rng.integers(1, 1_000, len(ev_visit))  # before the next page view
    ev_name = rng.choice(len(EVENTS), size=len(ev_visit), p=zipf_p(len(EVENTS), 0.8))
    sizes = np.array([len(values) for _, values in EVENTS.values()])
    ev_value = (rng.random(len(ev_visit)) * sizes[ev_name]).astype(np.int32)

    visit = np.concatenate([owner, ev_visit]).astype(np.uint32)
    ts = np.concatenate([page_ts, ev_ts])
    order = np.lexsort((ts, visit))
    people = rng.integers(0, max(n_visits // 3, 1), n_visits).astype(np.uint64)
    visitor = _mixed(people * np.uint64(1_000_003) + (start // DAY_MS).astype(np.uint64))
    visitor[rng.random(n_visits) < 0.01] = 0
    return Clickstream(
        visit=visit[order],
        ts=ts[order],
        is_page=np.concatenate([np.ones(n, bool), np.zeros(len(ev_visit), bool)])[order],
        item=np.concatenate([page_item, ev_name.astype(np.int32)])[order],
        value=np.concatenate([np.full(n, -1, np.int32), ev_value])[order],
        visitor=visitor,
        touch=visit_touches(rng, n_visits),
        band=rng.choice(3, size=n_visits, p=BANDS_P).astype(np.uint8),
    )


def _mixed(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser, or 1 where it gives 0: a visitor hash is never 0."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return np.where(x == 0, np.uint64(1), x)


def touch_entries(pool: list[list[Any]]) -> list[str]:
    """The vocabulary entries of the touches, as reports.sessions.touches.touch_entry writes."""
    return [TOUCH_PREFIX + msgspec.json.encode(fields).decode() for fields in pool]


def save(out: Path, n: int, origins: list[str]) -> dict[str, Any]:
    """Generates N and writes it as clickstream_N.npz and strings.json (the paths, events,
    touches, and the channel of each touch as clicktrail classifies it for a site of these
    origins: the peers get it as a column)."""
    started = time.perf_counter()
    data = generate(n)
    np.savez(out / f"clickstream_{n}.npz", **vars(data))
    pool, _ = touches()
    channels = entry_channels(touch_entries(pool), origins)
    strings = {"paths": paths(), "events": EVENTS, "touches": pool, "channels": channels}
    (out / "strings.json").write_text(json.dumps(strings))
    return {"generate_s": time.perf_counter() - started, "visits": len(data.visitor),
            "rows": len(data.ts)}  # fmt: skip


def load(out: Path, n: int) -> Clickstream:
    with np.load(out / f"clickstream_{n}.npz") as saved:
        return Clickstream(**{name: saved[name] for name in saved.files})
