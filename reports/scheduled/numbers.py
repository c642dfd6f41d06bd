"""The abandonment report's numbers as its JSON carries them (report.json, the webhook, the
HTML page): typed, in the order their keys are written."""

from __future__ import annotations

from typing import TypedDict

from reports.analyses.funnel_result import FunnelResult
from reports.analyses.journey_result import JourneyResult


class FunnelName(TypedDict):
    name: str
    steps: list[str]


# Functional form: "from" is a Python keyword.
Period = TypedDict("Period", {"from": str, "to": str, "time_zone": str, "covers": str})
PreviousPeriod = TypedDict("PreviousPeriod", {"from": str, "to": str})


class ConversionChange(TypedDict):
    """Step 1 to the last step, now against the previous period (reports.analyses.stats)."""

    metric: str
    current: float | None
    previous: float | None
    difference: float | None
    ci95_low: float | None
    ci95_high: float | None
    significant: bool


class DayConversion(TypedDict):
    day: str  # ISO date
    entered: int
    converted: int
    conversion_rate: float | None


class HeatSummary(TypedDict):
    step: int
    pattern: str
    band: str
    abandoning_sessions: int
    clicks: int
    rage_clicks: int


class AfterDrop(TypedDict):
    """Where the units that dropped after a step went: the map from that step's event."""

    step: int  # 1-based, every step but the last
    pattern: str
    dropped: int  # the funnel's; the map's first column holds as many visits
    map: JourneyResult


class ReportJourneys(TypedDict):
    into_first_step: JourneyResult  # backward from the step-1 event of every unit that entered
    after_drop: list[AfterDrop]


class ChannelFigures(TypedDict):
    visits: int
    conversions: int  # visits that reached the funnel's last step
    conversion_rate: float | None


class ChannelConversion(TypedDict):
    """One entry channel's visits and conversions, now and in the previous period
    (reports.scheduled.channels)."""

    channel: str  # a slug (reports.analyses.channel_names)
    visits: int
    conversions: int
    conversion_rate: float | None
    previous: ChannelFigures
    difference: float | None  # conversion_rate - previous conversion_rate
    significant: bool  # its 95 % interval excludes zero (reports.analyses.stats)


class ReportNumbers(TypedDict):
    site: str
    funnel: FunnelName
    period: Period
    previous_period: PreviousPeriod
    current: FunnelResult
    previous: FunnelResult
    change: ConversionChange
    daily: list[DayConversion]
    previous_daily: list[DayConversion]
    abandonment_heatmaps: list[HeatSummary]
    journeys: ReportJourneys
    channels: list[ChannelConversion]
    headline: str
