"""The channels a visit can come from: slugs in the CLI and the API, names in the dashboard."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    DIRECT = "direct"
    ORGANIC_SEARCH = "organic_search"
    PAID_SEARCH = "paid_search"
    ORGANIC_SOCIAL = "organic_social"
    PAID_SOCIAL = "paid_social"
    EMAIL = "email"
    AI_ASSISTANTS = "ai_assistants"
    VIDEO = "video"
    DISPLAY = "display"
    AFFILIATES = "affiliates"
    SMS = "sms"
    PUSH = "push"
    REFERRAL = "referral"
    INTERNAL = "internal"
    UNASSIGNED = "unassigned"
    SPAM = "spam"  # a referrer on the deny list: overviews leave these visits out

    @property
    def label(self) -> str:
        """The channel's name as the dashboard shows it."""
        return _LABELS[self]


_LABELS = {
    Channel.DIRECT: "Direct",
    Channel.ORGANIC_SEARCH: "Organic Search",
    Channel.PAID_SEARCH: "Paid Search",
    Channel.ORGANIC_SOCIAL: "Organic Social",
    Channel.PAID_SOCIAL: "Paid Social",
    Channel.EMAIL: "Email",
    Channel.AI_ASSISTANTS: "AI Assistants",
    Channel.VIDEO: "Video",
    Channel.DISPLAY: "Display",
    Channel.AFFILIATES: "Affiliates",
    Channel.SMS: "SMS",
    Channel.PUSH: "Push",
    Channel.REFERRAL: "Referral",
    Channel.INTERNAL: "Internal",
    Channel.UNASSIGNED: "Unassigned",
    Channel.SPAM: "Referrer spam",
}
