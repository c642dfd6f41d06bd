"""Per-site, per-day bounds on the distinct strangers' strings the workers store: raw paths, page
templates, selectors, custom event names and traffic sources. Beyond its bound, a new value of a
day folds into OVER_LIMIT.

Both consumer groups (the heatmap aggregates and the sessions) fold through one Redis set per
site, day and kind, to which a value is admitted atomically while the set is under its bound. A
value admitted stays admitted, and a full set stays full, so whichever group asks first, and a run
retried after a crash, get the same answer for the same value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from collector import keys
from collector.consumer import Commit
from collector.days import DAY_MS, day_name
from collector.labels import labelled
from collector.pages import PageTemplates, normalize_path
from collector.schema import Click, Custom, Event, RageClick

OVER_LIMIT = "(over limit)"  # not "(other)": the funnel table groups its long tail under that
# A day's sets outlive the day by this much: events arrive up to 48 h late (max_event_age_s),
# and a worker retrying a run within it folds the same way.
FOLD_KEEP_S = 4 * 86_400
VALUE_KINDS = ("paths", "templates", "selectors", "events", "sources", "properties", "labels")

# KEYS: one set per (day, kind). ARGV per key: bound, expiry (epoch s), n, values...
# Returns 1 (admitted) or 0 (over the bound) per value, in order.
ADMIT_LUA = """
local out, pos = {}, 1
for k = 1, #KEYS do
  local bound, expire_at, n = tonumber(ARGV[pos]), ARGV[pos + 1], tonumber(ARGV[pos + 2])
  pos = pos + 3
  for i = 1, n do
    local value = ARGV[pos]
    pos = pos + 1
    if redis.call('SISMEMBER', KEYS[k], value) == 1 then
      out[#out + 1] = 1
    elseif redis.call('SCARD', KEYS[k]) < bound then
      redis.call('SADD', KEYS[k], value)
      out[#out + 1] = 1
    else
      out[#out + 1] = 0
    end
  end
  if redis.call('TTL', KEYS[k]) == -1 then redis.call('EXPIREAT', KEYS[k], expire_at) end
end
return out
"""

Asked = tuple[int, str, str]  # (day number, kind, value)


@dataclass(frozen=True)
class Limits:
    """Distinct values a site may store per day, by kind (settings max_*_per_day)."""

    paths: int = 20_000
    templates: int = 5_000
    selectors: int = 20_000
    events: int = 1_000
    sources: int = 5_000
    properties: int = 5_000  # custom event property values (event, name and value together)
    labels: int = 20_000  # element labels (selector and label together: label_value)

    def of(self, kind: str) -> int:
        return int(getattr(self, kind))


class Folder:
    """Admits values under the limits; remembers what was admitted, per site, day and kind."""

    def __init__(self, client: redis.Redis, limits: Limits) -> None:
        self.client = client
        self.limits = limits
        self._admit = client.register_script(ADMIT_LUA)
        self._known: dict[tuple[str, int, str], set[str]] = {}  # admitted: asked once only

    def admitted(self, site: str, asked: Iterable[Asked]) -> set[Asked]:
        """The (day, kind, value) of `asked` under the site's limits."""
        out: set[Asked] = set()
        todo: dict[tuple[int, str], list[str]] = {}
        for day, kind, value in dict.fromkeys(asked):  # in order: the first asked are kept
            if value in self._known.get((site, day, kind), ()):
                out.add((day, kind, value))
            else:
                todo.setdefault((day, kind), []).append(value)
        if not todo:
            return out
        groups = sorted(todo.items())
        args: list[Any] = []
        for (day, kind), values in groups:
            expires_s = (day + 1) * DAY_MS // 1000 + FOLD_KEEP_S
            args += [self.limits.of(kind), expires_s, len(values), *values]
        names = [keys.distinct_values(site, day_name(day), kind) for (day, kind), _ in groups]
        answers = iter(self._admit(keys=names, args=args))
        for (day, kind), values in groups:
            known = self._known.setdefault((site, day, kind), set())
            for value in values:
                if next(answers):
                    known.add(value)
                    out.add((day, kind, value))
        self._forget_old_days()
        return out

    def _forget_old_days(self) -> None:
        newest = max(day for _, day, _ in self._known)
        for key in [k for k in self._known if k[1] < newest - FOLD_KEEP_S * 1000 // DAY_MS]:
            del self._known[key]


def fold_events(
    folder: Folder, site: str, dated: list[tuple[int, Event]], templates: PageTemplates
) -> Counter[str]:
    """Replace, in place, each path, selector and custom event name over the site's limits that
    day with OVER_LIMIT, and drop each label over them (or of a folded selector); returns how
    many events were folded, by kind. A path folds when the path or its page template is over
    its limit."""
    asked: list[Asked] = []
    for day, event in dated:
        path = normalize_path(event.p)
        asked += [(day, "paths", path), (day, "templates", templates.template(path))]
        if isinstance(event, Click | RageClick) and event.sel:
            asked.append((day, "selectors", event.sel))
            if isinstance(event, Click) and event.label:
                asked.append((day, "labels", labelled(event.sel, event.label)))
        elif isinstance(event, Custom):
            asked.append((day, "events", event.name))
    ok = folder.admitted(site, asked)
    folded: Counter[str] = Counter()
    for day, event in dated:
        path = normalize_path(event.p)
        if (day, "paths", path) not in ok:
            event.p, folded["paths"] = OVER_LIMIT, folded["paths"] + 1
        elif (day, "templates", templates.template(path)) not in ok:
            event.p, folded["templates"] = OVER_LIMIT, folded["templates"] + 1
        if isinstance(event, Click | RageClick) and event.sel:
            if isinstance(event, Click) and event.label:
                _fold_label(event, day, ok, folded)
            if (day, "selectors", event.sel) not in ok:
                event.sel, folded["selectors"] = OVER_LIMIT, folded["selectors"] + 1
        elif isinstance(event, Custom) and (day, "events", event.name) not in ok:
            event.name, folded["events"] = OVER_LIMIT, folded["events"] + 1
    return folded


def _fold_label(event: Click, day: int, ok: set[Asked], folded: Counter[str]) -> None:
    admitted = (day, "labels", labelled(event.sel, event.label)) in ok
    if not admitted or (day, "selectors", event.sel) not in ok:
        event.label, folded["labels"] = "", folded["labels"] + 1


def count_folded(commit: Commit, site: str, shard: int, group: str, folded: Counter[str]) -> None:
    """Add the folded events of a run to its commit, so they are counted exactly once."""
    for kind, count in folded.items():
        key = (keys.folded_counts(site, shard), f"{group}|{kind}")
        commit.increments[key] = commit.increments.get(key, 0) + count
