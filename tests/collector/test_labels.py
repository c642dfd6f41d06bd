"""Element labels are masked at ingest, whoever sent them: no e-mail address and no run of 4 or
more digits is stored, and a label is at most 64 characters of single-spaced text without
control characters."""

from __future__ import annotations

import re

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from collector.labels import labelled, mask_label, unlabelled
from collector.sites import Site
from tests.factories import batch, click, decode_entry, stored_entries

EMAIL = re.compile(r"\S+@\S+")
DIGITS = re.compile(r"\d{4,}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Text that makes the rules work: digits of several scripts, '@', white space of all kinds.
PIECES = st.sampled_from(
    ["@", "1234", "٣٤٥٦", "\uff10\uff11\uff12\uff13", " ", "\n", "\u2003", "\x1b[31m", "a."]
)
LABELS = st.lists(st.text(max_size=8) | PIECES, max_size=12).map("".join)


@given(LABELS)
def test_a_masked_label_holds_no_email_no_digit_run_and_no_control_character(text: str) -> None:
    masked = mask_label(text)
    assert not EMAIL.search(masked) and not DIGITS.search(masked)
    assert not CONTROL.search(masked) and masked == " ".join(masked.split())
    assert len(masked) <= 64
    assert mask_label(masked) == masked  # the snippet masked it: the collector changes nothing


@given(LABELS, st.text(max_size=40))
def test_a_label_and_its_selector_come_apart_as_they_were_put_together(
    text: str, selector: str
) -> None:
    label = mask_label(text)
    assert unlabelled(labelled(selector, label)) == (selector, label)


def test_what_is_masked_and_what_is_kept() -> None:
    assert mask_label("Write to ann.lee+shop@example.co.uk today") == "Write to [email] today"
    assert mask_label("Card 4242 4242 4242 4242") == "Card #### #### #### ####"
    assert mask_label("Call +44 20 7946 0958") == "Call +44 20 #### ####"
    assert mask_label("  Blue shirt\n\t19.99 €  ") == "Blue shirt 19.99 €"  # a price stays
    assert mask_label("@shop on 12/2026") == "@shop on 12/####"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(LABELS.map(lambda s: s[:64]), min_size=1, max_size=5))
def test_the_collector_stores_every_label_masked(
    client: TestClient, redis_client: redis.Redis, site: Site, labels: list[str]
) -> None:
    sent = [click(label=label) for label in labels]
    assert client.post("/e", json=batch(site.key, sent)).status_code == 202
    _, stored = decode_entry(stored_entries(redis_client)[-1])
    assert [stored[e["id"]].label for e in sent] == [mask_label(label) for label in labels]
    for event in stored.values():
        assert not EMAIL.search(event.label) and not DIGITS.search(event.label)
