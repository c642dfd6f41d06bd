"""The channel of each visit: its touch (reports.sessions.touches) classified at query time
(reports.analyses.channels), once per distinct touch entry of the vocabulary, never per visit."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from reports.analyses.channel_names import Channel
from reports.analyses.channel_rules import ChannelRule
from reports.analyses.channels import Touchpoint, classify_many
from reports.sessions.touches import SOURCE_PREFIX, TOUCH_PREFIX, Touch, parse_entry

CHANNEL_SLUGS = tuple(channel.value for channel in Channel)


def touchpoint(touch: Touch) -> Touchpoint:
    """What the classifier reads of a touch: version 1's source alone, or every input."""
    if touch.legacy_source:
        return Touchpoint.from_source(touch.legacy_source)
    return Touchpoint(
        referrer=touch.referrer,
        source=touch.source,
        medium=touch.medium,
        campaign=touch.campaign,
        term=touch.term,
        content=touch.content,
        click_ids=frozenset(touch.click_ids),
    )


def entry_channels(
    vocab: Sequence[str], site_hosts: Collection[str], rules: Sequence[ChannelRule] = ()
) -> list[str]:
    """Per vocabulary entry, the channel slug of that touch ("" for entries that are not one:
    pages and events, which no session's source points at)."""
    touches = [i for i, entry in enumerate(vocab) if entry[:2] in (SOURCE_PREFIX, TOUCH_PREFIX)]
    slugs = classify_many((touchpoint(parse_entry(vocab[i])) for i in touches), site_hosts, rules)
    out = [""] * len(vocab)
    for i, slug in zip(touches, slugs, strict=True):
        out[i] = slug
    return out
