"""Automatic page pictures: which page templates are due for one (enough page views from enough
visitors, and no picture or an old one), where each is taken from (its most viewed path, on the
origin it was seen on), what became of the last try, and what a map without a picture says."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from urllib.parse import urlsplit

import redis

from collector.cardinality import OVER_LIMIT
from collector.days import DAY_MS, day_name
from collector.pages import BANDS, PageTemplates
from collector.sites import Site
from heatmap import keys
from heatmap.examples import parse_example
from heatmap.screenshots import save_screenshot

RETRY_FIRST_S = 3600  # after a failed capture; doubled after each further failure
RETRY_MAX_S = 2 * 86_400
MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class PictureRules:
    """When a page template gets its picture: the settings auto_pictures and picture_*."""

    min_views: int = 10
    min_visitors: int = 3
    max_age_days: int = 30
    deny: tuple[str, ...] = ()  # globs or re: regexes of paths (and templates) never captured
    off: str = ""  # why pictures are not taken automatically here; "" when they are

    def denies(self, path: str) -> bool:
        return any(matches(path) for _, matches in self._deny.rules)

    @cached_property
    def _deny(self) -> PageTemplates:
        return PageTemplates(self.deny)


@dataclass(frozen=True)
class PictureState:
    """The last automatic picture of a template, and the failures since."""

    taken_ms: int = 0
    url: str = ""  # what was captured, or tried
    failures: int = 0
    reason: str = ""  # of the last failure
    retry_ms: int = 0  # no new try before this
    bands: tuple[str, ...] = ()  # whose pictures were taken automatically; the others by hand

    def failed(self, url: str, reason: str, now_ms: int) -> PictureState:
        wait_s = min(RETRY_MAX_S, RETRY_FIRST_S * 2**self.failures)
        return replace(
            self,
            url=url,
            failures=self.failures + 1,
            reason=reason[:MAX_REASON_CHARS],
            retry_ms=now_ms + wait_s * 1000,
        )

    def taken(self, url: str, bands: tuple[str, ...], now_ms: int) -> PictureState:
        ours = {*self.bands, *bands}
        return PictureState(now_ms, url, bands=tuple(b for b in BANDS if b in ours))


@dataclass(frozen=True)
class DuePicture:
    site: Site
    template: str
    url: str  # the example path on the origin it was seen on
    bands: tuple[str, ...] = BANDS  # those without a picture given by hand


@dataclass(frozen=True)
class Example:
    """What the last PICTURE_WINDOW_DAYS say of a template: its page views and visitors, and
    its most viewed path with the host that path was most seen on."""

    views: int
    visitors: int
    path: str
    host: str


def load_states(client: redis.Redis, site: str) -> dict[str, PictureState]:
    states = {}
    for name, raw in client.hgetall(keys.picture_states(site)).items():
        try:
            fields = json.loads(raw)
            # States saved before bands were kept: their pictures were taken at every band.
            ours = fields.pop("bands", BANDS if fields.get("taken_ms") else ())
            states[_text(name)] = PictureState(**fields, bands=tuple(b for b in BANDS if b in ours))
        except (ValueError, TypeError, AttributeError):
            continue  # not ours: the template is tried as if never
    return states


def save_state(client: redis.Redis, site: str, template: str, state: PictureState) -> None:
    client.hset(keys.picture_states(site), template, json.dumps(asdict(state)))


def give_picture(client: redis.Redis, site: str, band: str, template: str, png: bytes) -> None:
    """A picture given by hand (`clicktrail screenshot`, the demo): saved, and from then on the
    owner's, never replaced by an automatic one."""
    save_screenshot(client, site, band, template, png)
    state = load_states(client, site).get(template)
    if state is not None and band in state.bands:
        bands = tuple(b for b in state.bands if b != band)
        save_state(client, site, template, replace(state, bands=bands))


def window(now_ms: int) -> list[str]:
    """The day names of the last PICTURE_WINDOW_DAYS (UTC, as the counts are kept)."""
    today = now_ms // DAY_MS
    return [day_name(today - back) for back in range(keys.PICTURE_WINDOW_DAYS)]


def load_example(client: redis.Redis, site: Site, template: str, now_ms: int) -> Example:
    names = [(shard, day) for shard in range(site.shards) for day in window(now_ms)]
    pipe = client.pipeline(transaction=False)
    for shard, day in names:
        pipe.hgetall(keys.picture_paths(site.name, shard, day, template))
    # One by one: a Redis Cluster pipeline refuses PFCOUNT (a many-key command).
    visitors = sum(
        client.pfcount(keys.picture_visitors(site.name, shard, day, template))
        for shard, day in names
    )
    views: Counter[tuple[str, str]] = Counter()
    for found in pipe.execute():
        for name, count in found.items():
            seen = parse_example(name)
            if seen is not None:
                views[seen] += int(count)
    by_path: Counter[str] = Counter()
    for (_, path), count in views.items():
        by_path[path] += count
    if not by_path:
        return Example(0, visitors, "", "")
    # Most viewed, then the shortest and first in order: the same example on every scan.
    path = min(by_path, key=lambda p: (-by_path[p], len(p), p))
    host = max((h for h, p in views if p == path), key=lambda h: (views[(h, path)], h))
    return Example(sum(by_path.values()), visitors, path, host)


def example_url(site: Site, example: Example) -> str:
    """The example path on the site's origin with the host it was seen on (else the first)."""
    origin = next(
        (o for o in site.origins if urlsplit(o).hostname == example.host), site.origins[0]
    )
    return origin + example.path


def pictured_bands(client: redis.Redis, site: str, template: str) -> tuple[str, ...]:
    """The bands a picture of the template is kept for, by hand or automatically."""
    pipe = client.pipeline(transaction=False)
    for band in BANDS:
        pipe.exists(keys.screenshot(site, band, template))
    return tuple(b for b, there in zip(BANDS, pipe.execute(), strict=True) if there)


def has_picture(client: redis.Redis, site: str, template: str) -> bool:
    return pictured_bands(client, site, template) == BANDS


def candidates(client: redis.Redis, site: Site, now_ms: int, min_views: int) -> list[str]:
    """Templates with at least `min_views` page views in the window, most viewed first."""
    views: Counter[str] = Counter()
    pipe = client.pipeline(transaction=False)
    for shard in range(site.shards):
        for day in window(now_ms):
            pipe.hgetall(keys.page_counts(site.name, shard, day))
    for found in pipe.execute():
        for name, count in found.items():
            _, counter, template = name.decode().split("|", 2)
            if counter == "views" and template != OVER_LIMIT:
                views[template] += int(count)
    return [t for t, n in views.most_common() if n >= min_views]


def due_pictures(
    client: redis.Redis, site: Site, rules: PictureRules, now_ms: int
) -> list[DuePicture]:
    """The site's templates whose picture should be taken now, most viewed first."""
    states = load_states(client, site.name)
    due = []
    for template in candidates(client, site, now_ms, rules.min_views):
        state = states.get(template, PictureState())
        if state.retry_ms > now_ms or rules.denies(template):
            continue
        there = pictured_bands(client, site.name, template)
        # A band pictured by hand (`clicktrail screenshot`) is the owner's, never replaced; the
        # others are taken when missing, and all of them again once the last capture is old.
        ours = tuple(b for b in BANDS if b in state.bands or b not in there)
        old = bool(state.taken_ms) and now_ms - state.taken_ms >= rules.max_age_days * DAY_MS
        bands = ours if old else tuple(b for b in ours if b not in there)
        if not bands:
            continue
        example = load_example(client, site, template, now_ms)
        enough = example.views >= rules.min_views and example.visitors >= rules.min_visitors
        if enough and example.path and not rules.denies(example.path):
            due.append(DuePicture(site, template, example_url(site, example), bands))
    return due


def missing_picture_note(
    client: redis.Redis, site: Site, template: str, rules: PictureRules, now_ms: int
) -> str:
    """Why a map of `template` is drawn on the ruler, for its warnings."""
    if rules.off:
        return f"no picture: {rules.off}; `clicktrail screenshot` takes one by hand"
    state = load_states(client, site.name).get(template, PictureState())
    if state.failures:
        retry = datetime.fromtimestamp(state.retry_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"picture failed: {state.reason}; retried at {retry}"
    example = load_example(client, site, template, now_ms)
    if rules.denies(template) or (example.path and rules.denies(example.path)):
        return "no picture: the path is denied by picture_deny"
    if example.views >= rules.min_views and example.visitors >= rules.min_visitors:
        return "no picture yet: it is due, and taken in the background within minutes"
    return (
        f"no picture yet: taken after {rules.min_views} page views from {rules.min_visitors} "
        f"visitors in {keys.PICTURE_WINDOW_DAYS} days (so far {example.views} from "
        f"about {example.visitors})"
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
