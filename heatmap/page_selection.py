"""Which page templates a page asked for selects (collector.page_patterns' one syntax): a glob
or a regular expression the templates seen in the period whose names it matches, an exact path
its own template, saying so when that is not the path itself. A heatmap of several templates is
their sum and names them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from collector.page_patterns import EXACT, parse_page
from collector.pages import PageTemplates, normalize_path
from heatmap.totals import unmatched_page

MAX_NAMED = 3  # templates a label names before "and N more"


@dataclass(frozen=True)
class PageSelection:
    asked: str
    templates: tuple[str, ...]  # most viewed first
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What a map's legend and a command's output call it."""
        if len(self.templates) == 1:
            return self.templates[0]
        if not self.templates:
            return self.asked
        named = ", ".join(self.templates[:MAX_NAMED])
        more = len(self.templates) - MAX_NAMED
        return f"{self.asked} ({named}{f' and {more} more' if more > 0 else ''})"

    @property
    def warnings(self) -> list[str]:
        if not self.templates:
            return [f"page {self.asked} matched no page template in this range", *self.notes]
        return list(self.notes)

    def warnings_for(self, views: int, band: str) -> list[str]:
        """Its warnings, and that its templates had no page view in the band."""
        if self.templates and not views:
            return [*self.warnings, unmatched_page(self.label, band)]
        return self.warnings


def select_pages(
    asked: str, seen: Sequence[tuple[str, int]], templates: PageTemplates
) -> PageSelection:
    """The templates `asked` selects among `seen` ((template, page views) of the period);
    ValueError for a pattern that cannot be read."""
    pattern = parse_page(asked, templates)
    if pattern.kind == EXACT:
        notes: tuple[str, ...] = ()
        if pattern.template != normalize_path(asked):
            notes = (
                f"{asked} is shown as its template {pattern.template}: heatmaps are kept per "
                "page template",
            )
        return PageSelection(asked, (pattern.template,), notes)
    ranked = sorted(seen, key=lambda pair: (-pair[1], pair[0]))
    chosen = tuple(t for t, _ in ranked if pattern.matches_template(t))
    return PageSelection(asked, chosen)
