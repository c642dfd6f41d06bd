"""One page syntax for every command, route and field that takes a page:

    /cart             an exact path, or a page template (/product/:id)
    /product/*        a glob ('*' also crosses '/')
    re:^/blog/\\d{4}/  a regular expression in RE2 syntax, over the whole path

Funnels and journeys match it against raw paths (`matches_path`). Heatmaps are stored per page
template, so there it selects templates (`matches_template`): a glob or a regular expression
those whose names it matches, an exact path its own template (/product/1 is /product/:id).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

from collector.pages import PageTemplates, normalize_path
from collector.regex import compile_fullmatch

EXACT, GLOB, REGEX = "exact", "glob", "regex"
REGEX_PREFIX = "re:"
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class PagePattern:
    text: str  # as written
    kind: str  # EXACT, GLOB or REGEX
    matches_path: Callable[[str], bool]  # a normalised raw path
    matches_template: Callable[[str], bool]  # a page template's name
    template: str = ""  # EXACT: the template the path belongs to

    def __str__(self) -> str:
        return self.text


def parse_page(text: str, templates: PageTemplates | None = None) -> PagePattern:
    """A page pattern from its text; ValueError says what is wrong."""
    templates = templates or PageTemplates()
    pattern = text.strip()
    if pattern.startswith(REGEX_PREFIX):
        try:
            fullmatch = compile_fullmatch(pattern[len(REGEX_PREFIX) :])
        except ValueError as exc:
            raise ValueError(f"page {text!r}: {exc}") from None
        matches = _not_none(fullmatch)
        return PagePattern(pattern, REGEX, matches, matches)
    if not pattern.startswith("/"):
        raise ValueError(f"page {text!r} must start with '/' or 're:'")
    if _GLOB_CHARS & set(pattern):
        regex = re.compile(fnmatch.translate(pattern))
        glob = _not_none(regex.match)
        return PagePattern(pattern, GLOB, glob, glob)
    wanted = normalize_path(pattern)
    template = templates.template(wanted)
    return PagePattern(
        pattern,
        EXACT,
        lambda path: path == wanted or templates.template(path) == wanted,
        lambda name: name == template,
        template,
    )


def _not_none(match: Callable[[str], object]) -> Callable[[str], bool]:
    return lambda value: match(value) is not None
