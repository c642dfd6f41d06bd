"""Which channel brought a visit, decided at query time from its touchpoint: the referrer host,
the UTM tags and which ad click ids were on the landing URL. One visit has one channel.

The first rule that matches decides:

1. the site owner's rules (`[channels]` in clicktrail.toml, channel_rules.py), in order;
2. referrer spam: a referrer on the deny list in channel_hosts.toml is `spam`, which overviews
   leave out (the same list can drop these visits at ingest later);
3. internal: a referrer from one of the site's own hosts, with no UTM tag or click id (with
   them, the own referrer is ignored and the tags decide);
4. paid mediums: display mediums (`display`, `cpm`, `banner`, ...) are Display; `cpc`, `ppc`,
   `paid*`, `retargeting` and other mediums containing `cp` go by the platform (the category
   of the source, else of the referrer): search and shopping are Paid Search, social is Paid
   Social, video is Video; an unknown platform goes by the click ids, else Unassigned;
5. click ids without a paid medium: gclid, gbraid, wbraid, gad_source, msclkid are Paid Search;
   ttclid, li_fat_id, twclid are Paid Social; fbclid is never paid by itself;
6. the category of the source, else of the referrer: ad platforms' names (`facebook_ads`) are
   paid; search, social, AI assistants, video, e-mail; shopping sites are Referral;
7. the medium: email, sms, push, affiliate, social, organic, video, referral;
8. fbclid without a referrer: Organic Social (a link in a Meta app);
9. any other referrer: Referral; UTM tags without a match: Unassigned; nothing: Direct.

Sessions filed before the touchpoint was kept have only a `source` (a UTM source, a referrer
host or "(direct)"): `Touchpoint.from_source` reads a dotted one as a referrer host and any
other as a UTM source, so unknown UTM-only sources become Unassigned.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from reports.analyses.channel_hosts import host_category, normalize_host, source_category
from reports.analyses.channel_names import Channel
from reports.analyses.channel_rules import ChannelRule

SEARCH_CLICK_IDS = frozenset({"gclid", "gbraid", "wbraid", "gad_source", "msclkid"})
SOCIAL_CLICK_IDS = frozenset({"ttclid", "li_fat_id", "twclid"})
CLICK_IDS = SEARCH_CLICK_IDS | SOCIAL_CLICK_IDS | {"fbclid"}
NOT_SET = frozenset({"(direct)", "(none)", "(not set)", "(not provided)"})

DISPLAY_MEDIUMS = frozenset({"display", "cpm", "banner", "expandable", "interstitial"})
PAID_MEDIUMS = frozenset(
    {"ppc", "retargeting", "remarketing", "sem", "social_paid", "social-paid", "search_paid"}
)
PAID_BY_PLATFORM = {
    "search": Channel.PAID_SEARCH,
    "shopping": Channel.PAID_SEARCH,  # marketplace ads are ads on a results page
    "social": Channel.PAID_SOCIAL,
    "video": Channel.VIDEO,
}
BY_CATEGORY = {
    "search": Channel.ORGANIC_SEARCH,
    "social": Channel.ORGANIC_SOCIAL,
    "ai": Channel.AI_ASSISTANTS,
    "video": Channel.VIDEO,
    "email": Channel.EMAIL,
    "shopping": Channel.REFERRAL,
    "referral": Channel.REFERRAL,
    "spam": Channel.SPAM,
}
BY_MEDIUM = {
    **dict.fromkeys(["email", "e-mail", "e_mail", "e mail", "newsletter"], Channel.EMAIL),
    **dict.fromkeys(["sms", "text", "text-message"], Channel.SMS),
    **dict.fromkeys(["push", "web-push", "notification", "app-push"], Channel.PUSH),
    **dict.fromkeys(["affiliate", "affiliates", "partner"], Channel.AFFILIATES),
    **dict.fromkeys(
        ["social", "social-network", "social-media", "sm", "social network", "social media"],
        Channel.ORGANIC_SOCIAL,
    ),
    "organic": Channel.ORGANIC_SEARCH,
    "video": Channel.VIDEO,
    "referral": Channel.REFERRAL,
}


@dataclass(frozen=True)
class Touchpoint:
    """A visit's raw inputs from its first page view; hashable, so visits group by it."""

    referrer: str = (
        ""  # host, with its scheme when not http(s): android-app://com.google.android.gm
    )
    source: str = ""
    medium: str = ""
    campaign: str = ""
    term: str = ""
    content: str = ""
    click_ids: frozenset[str] = frozenset()  # names of the ad click ids present, never values

    @classmethod
    def from_source(cls, source: str) -> Touchpoint:
        """A session filed before touchpoints were kept: its one `source` value."""
        text = source.strip()
        if not text or text.lower() in NOT_SET:
            return cls()
        if "." in text or "://" in text:
            return cls(referrer=text)
        return cls(source=text)


@dataclass(frozen=True)
class Decision:
    channel: Channel
    reason: str  # which rule decided, for `clicktrail channels --explain`


def classify(
    touch: Touchpoint, site_hosts: Collection[str] = (), user_rules: Sequence[ChannelRule] = ()
) -> str:
    """The channel slug of one touchpoint."""
    return explain(touch, site_hosts, user_rules).channel.value


def classify_many(
    touches: Iterable[Touchpoint],
    site_hosts: Collection[str] = (),
    user_rules: Sequence[ChannelRule] = (),
) -> list[str]:
    """The channel slugs of distinct touchpoints, in order; repeated ones are decided once."""
    own = own_hosts(site_hosts)
    decided: dict[Touchpoint, str] = {}
    out = []
    for touch in touches:
        slug = decided.get(touch)
        if slug is None:
            slug = decided[touch] = _decide(_Fields.of(touch), own, user_rules).channel.value
        out.append(slug)
    return out


def explain(
    touch: Touchpoint, site_hosts: Collection[str] = (), user_rules: Sequence[ChannelRule] = ()
) -> Decision:
    """The channel of one touchpoint and the rule that decided it."""
    return _decide(_Fields.of(touch), own_hosts(site_hosts), user_rules)


def own_hosts(site_hosts: Collection[str]) -> frozenset[str]:
    """The site's hosts (or origins) as referrers are compared with them."""
    return frozenset(normalize_host(host) for host in site_hosts) - {""}


@dataclass(frozen=True)
class _Fields:
    referrer: str
    source: str
    medium: str
    campaign: str
    tagged: bool  # any UTM value present
    click_ids: frozenset[str]

    @classmethod
    def of(cls, touch: Touchpoint) -> _Fields:
        source, medium, campaign = map(_clean, (touch.source, touch.medium, touch.campaign))
        tagged = bool(source or medium or campaign or _clean(touch.term) or _clean(touch.content))
        ids = frozenset(name.strip().lower() for name in touch.click_ids) & CLICK_IDS
        return cls(normalize_host(touch.referrer), source, medium, campaign, tagged, ids)

    def as_rule_input(self) -> dict[str, str]:
        return {
            "source": self.source,
            "medium": self.medium,
            "campaign": self.campaign,
            "referrer": self.referrer,
        }


def _clean(value: str) -> str:
    text = value.strip().lower()
    return "" if text in NOT_SET else text


def _decide(fields: _Fields, own: frozenset[str], rules: Sequence[ChannelRule]) -> Decision:
    if rules:
        values = fields.as_rule_input()
        for rule in rules:
            if rule.matches(values):
                return Decision(rule.channel, f"your {rule}")
    referrer_category = host_category(fields.referrer) if fields.referrer else None
    if referrer_category == "spam":
        return Decision(Channel.SPAM, f"referrer {fields.referrer} is on the referrer-spam list")
    if fields.referrer in own:
        if not fields.tagged and not fields.click_ids:
            return Decision(Channel.INTERNAL, f"referrer {fields.referrer} is this site")
        fields, referrer_category = replace(fields, referrer=""), None
    source_cat, ad_platform = source_category(fields.source) if fields.source else (None, False)
    platform = source_cat or referrer_category
    return (
        _by_paid_medium(fields, platform)
        or _by_click_id(fields, "")
        or _by_category(fields, source_cat, ad_platform, referrer_category)
        or _by_medium(fields)
        or _by_rest(fields)
    )


def _by_paid_medium(fields: _Fields, platform: str | None) -> Decision | None:
    medium = fields.medium
    if medium in DISPLAY_MEDIUMS:
        return Decision(Channel.DISPLAY, f"medium {medium!r} is a display medium")
    if not (medium in PAID_MEDIUMS or medium.startswith("paid") or "cp" in medium):
        return None
    channel = PAID_BY_PLATFORM.get(platform or "")
    if channel is not None:
        return Decision(channel, f"paid medium {medium!r} on a {platform} platform")
    if "social" in medium:
        return Decision(Channel.PAID_SOCIAL, f"paid medium {medium!r} names social")
    if "search" in medium:
        return Decision(Channel.PAID_SEARCH, f"paid medium {medium!r} names search")
    return _by_click_id(fields, f" with paid medium {medium!r}") or Decision(
        Channel.UNASSIGNED, f"paid medium {medium!r} from a platform not on the list"
    )


def _by_click_id(fields: _Fields, context: str) -> Decision | None:
    for ids, channel in (
        (SEARCH_CLICK_IDS, Channel.PAID_SEARCH),
        (SOCIAL_CLICK_IDS, Channel.PAID_SOCIAL),
    ):
        found = sorted(fields.click_ids & ids)
        if found:
            return Decision(channel, f"ad click id {found[0]} on the landing URL{context}")
    return None


def _by_category(
    fields: _Fields, source_cat: str | None, ad_platform: bool, referrer_cat: str | None
) -> Decision | None:
    if source_cat is not None:
        if ad_platform:
            channel = PAID_BY_PLATFORM.get(source_cat, Channel.UNASSIGNED)
            return Decision(channel, f"source {fields.source!r} is a {source_cat} ad platform")
        return Decision(BY_CATEGORY[source_cat], f"source {fields.source!r} is {source_cat}")
    if referrer_cat is not None:
        return Decision(BY_CATEGORY[referrer_cat], f"referrer {fields.referrer} is {referrer_cat}")
    return None


def _by_medium(fields: _Fields) -> Decision | None:
    medium = fields.medium
    channel = BY_MEDIUM.get(medium)
    if channel is None and medium.endswith("push"):
        channel = Channel.PUSH
    if channel is None and "affiliate" in medium:
        channel = Channel.AFFILIATES
    if channel is None:
        return None
    return Decision(channel, f"medium {medium!r}")


def _by_rest(fields: _Fields) -> Decision:
    if "fbclid" in fields.click_ids and not fields.referrer and not fields.tagged:
        return Decision(Channel.ORGANIC_SOCIAL, "fbclid without a referrer: a link in a Meta app")
    if fields.referrer:
        return Decision(Channel.REFERRAL, f"referrer {fields.referrer} is another site")
    if fields.tagged:
        return Decision(Channel.UNASSIGNED, "UTM tags that no rule matches")
    return Decision(Channel.DIRECT, "no referrer, UTM tag or click id")
