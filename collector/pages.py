"""Which page a path belongs to, and which layout band a viewport falls in (shared by the
heatmaps and the funnels).

`/product/123/` and `/product/9912?ref=x` are one page, `/product/:id`: numeric and id-like path
segments collapse by themselves, and configured rules (globs, or regexes after `re:`) group more.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from collector.regex import compile_fullmatch

BANDS = ("mobile", "tablet", "desktop")
BAND_EDGES_PX = (768, 1024)  # mobile < 768 <= tablet < 1024 <= desktop
ID_SEGMENT = re.compile(
    r"""^(
        \d+                                   # 123
      | [0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}   # a UUID
      | (?=[A-Za-z_-]*\d)[0-9a-fA-F]{8,}      # hex with a digit: 5f2b9c1e...
      | (?=[^\d]*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{16,}  # long tokens mixing letters and digits
    )$""",
    re.VERBOSE,
)


def bands_of(viewport_widths: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Band index (into BANDS) of each viewport width."""
    bands: npt.NDArray[np.intp] = np.digitize(np.asarray(viewport_widths), BAND_EDGES_PX)
    return bands


def band_index(name: str) -> int:
    if name not in BANDS:
        raise ValueError(f"band must be one of {', '.join(BANDS)}, not {name!r}")
    return BANDS.index(name)


def normalize_path(path: str) -> str:
    """No query, no fragment, no repeated or trailing slash."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    path = re.sub(r"/{2,}", "/", path)
    return path.rstrip("/") or "/"


class PageTemplates:
    """Maps paths to page templates; remembers recent answers."""

    def __init__(self, rules: tuple[str, ...] = ()) -> None:
        self.rules = [(rule, _matcher(rule)) for rule in rules]
        self.template = lru_cache(maxsize=65_536)(self._template)

    def _template(self, path: str) -> str:
        path = normalize_path(path)
        for rule, matches in self.rules:
            if matches(path):
                return rule
        segments = [":id" if ID_SEGMENT.match(s) else s for s in path.split("/")]
        return "/".join(segments) or "/"


def _matcher(rule: str) -> Callable[[str], object | None]:
    if rule.startswith("re:"):
        try:
            return compile_fullmatch(rule[3:])
        except ValueError as exc:
            raise ValueError(f"page template {rule!r}: {exc}") from None
    if not rule.startswith("/"):
        raise ValueError(f"page template {rule!r} must start with '/' (or 're:' for a regex)")
    return re.compile(fnmatch.translate(rule)).fullmatch
