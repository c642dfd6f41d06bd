"""Element labels: the short text of a clicked element the snippet sends, masked again here.

The snippet already masks e-mail addresses and runs of digits, but whoever posts to `POST /e`
need not run the snippet, so every label is masked at ingest, and again by the worker for
events stored before this rule (collector.schema bounds a label to 64 characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from collector.schema import Click, Event

MAX_LABEL_CHARS = 64
EMAIL_MASK = "[email]"
DIGITS_MASK = "####"
# Anything with an '@' between other characters, and 4 or more digits in a row (any script's
# digits): e-mail addresses, phone, card, order and account numbers. The snippet's rules are
# the same, in JavaScript (tracker_js/src/clicktrail.js).
_EMAIL = re.compile(r"\S+@\S+")
_DIGITS = re.compile(r"\d{4,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # never printed, whatever a terminal does


def mask_label(label: str) -> str:
    """The label with e-mail addresses and runs of 4 or more digits masked, control characters
    dropped and white space collapsed, in at most MAX_LABEL_CHARS characters."""
    text = " ".join(_CONTROL.sub("", label).split())
    text = _DIGITS.sub(DIGITS_MASK, _EMAIL.sub(EMAIL_MASK, text))
    return text[:MAX_LABEL_CHARS].rstrip()


def mask_labels(events: Iterable[Event]) -> None:
    """Mask the label of every click, in place."""
    for event in events:
        if type(event) is Click and event.label:
            event.label = mask_label(event.label)


def labelled(selector: str, label: str) -> str:
    """'label<TAB>selector': a masked label holds no tab, so the first one splits them."""
    return f"{label}\t{selector}"


def unlabelled(value: str) -> tuple[str, str]:
    """(selector, label) of a labelled() value."""
    label, _, selector = value.partition("\t")
    return selector, label
