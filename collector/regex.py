"""Regular expressions from people (page template rules, funnel steps) run over paths that
strangers send. RE2 matches in linear time, so no pattern and path together can stall a worker
or a request the way a backtracking engine can (`(a+)+$` over a long path)."""

from __future__ import annotations

from collections.abc import Callable

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is the caller's ValueError, not a log line


def compile_fullmatch(pattern: str) -> Callable[[str], object | None]:
    """The pattern's fullmatch; ValueError says why a pattern is refused (RE2 has no
    backreferences or lookaround)."""
    try:
        return re2.compile(pattern, options=_OPTIONS).fullmatch  # type: ignore[no-any-return]
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(
            f"{pattern!r} is not a valid regex (RE2: no backreferences or lookaround): {reason}"
        ) from None
