"""Funnel steps: which page views or custom events a step matches. Pages take the one page
syntax of collector.page_patterns, matched against raw paths; custom events their name:

    event:signup      the custom event named signup (globs allowed: event:checkout_*)

Matching runs once per vocabulary entry, never per event: the engine looks the answers up.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collector.page_patterns import REGEX_PREFIX, parse_page
from collector.pages import PageTemplates

MIN_STEPS, MAX_STEPS = 2, 20
PAGE, EVENT = "p:", "e:"
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Step:
    pattern: str  # as the user wrote it
    kind: str  # PAGE or EVENT
    matches: Callable[[str], bool]

    def __str__(self) -> str:
        return self.pattern


def parse_step(pattern: str, templates: PageTemplates | None = None) -> Step:
    """One step from its text; ValueError names what is wrong."""
    templates = templates or PageTemplates()
    text = pattern.strip()
    if not text:
        raise ValueError("a step must not be empty")
    if text.startswith("event:"):
        name = text[len("event:") :]
        if not name:
            raise ValueError(f"step {pattern!r} names no event")
        return Step(text, EVENT, _glob_or_exact(name))
    if not text.startswith(("/", REGEX_PREFIX)):
        raise ValueError(f"step {pattern!r} must start with '/', 're:' or 'event:'")
    try:
        page = parse_page(text, templates)
    except ValueError as exc:
        raise ValueError(f"step {pattern!r}: {str(exc).partition(': ')[2]}") from None
    return Step(text, PAGE, page.matches_path)


def parse_steps(patterns: Sequence[str], templates: PageTemplates | None = None) -> list[Step]:
    if not MIN_STEPS <= len(patterns) <= MAX_STEPS:
        raise ValueError(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {len(patterns)}")
    return [parse_step(p, templates) for p in patterns]


def _glob_or_exact(text: str) -> Callable[[str], bool]:
    if _GLOB_CHARS & set(text):
        regex = re.compile(fnmatch.translate(text))
        return lambda value: regex.match(value) is not None
    return lambda value: value == text


def step_matrix(steps: Sequence[Step], vocab: Sequence[str]) -> npt.NDArray[np.bool_]:
    """steps x vocabulary: does step k match item i."""
    out = np.zeros((len(steps), len(vocab)), dtype=bool)
    for i, entry in enumerate(vocab):
        prefix, value = entry[:2], entry[2:]
        for k, step in enumerate(steps):
            out[k, i] = step.kind == prefix and step.matches(value)
    return out


def page_mask(vocab: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Which vocabulary entries are page views (the rest are custom events)."""
    return np.array([entry.startswith(PAGE) for entry in vocab], dtype=bool)


def labels(vocab: Sequence[str], templates: PageTemplates) -> list[str]:
    """What to call each item in a report: the page template, or 'event: name'."""
    return [
        templates.template(entry[2:]) if entry.startswith(PAGE) else f"event: {entry[2:]}"
        for entry in vocab
    ]
