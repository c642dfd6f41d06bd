"""Where settings become processes: the worker with its processors, the session builder and the
report scheduler, as `serve`, `worker`, `scheduler`, `demo` and the dashboard run them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import redis

from clicktrail.worker import Processor, Worker
from collector.cardinality import Folder, Limits
from collector.connections import sync_client
from collector.pages import PageTemplates
from collector.settings import Settings, config_file
from heatmap.aggregate import Aggregator
from heatmap.capture import chromium_missing
from heatmap.examples import SiteHosts
from heatmap.picture_taker import PictureTaker
from heatmap.pictures import PictureRules
from reports.scheduled.config import ReportConfig, load_report_config
from reports.scheduled.scheduler import ReportScheduler, SchedulerSettings
from reports.sessions.builder import SessionBuilder


def make_worker(settings: Settings, url: str, batch: int = 256) -> Worker:
    client = sync_client(url)
    # One folder for both consumer groups: they fold a value alike, and ask Redis once.
    folder = Folder(client, limits(settings))
    templates = PageTemplates(settings.page_templates)
    processors: list[Processor] = [
        Aggregator(templates, settings.retention_days, folder, SiteHosts(client)),
        session_builder(client, settings, folder),
    ]
    return Worker(client, processors, claim_idle_ms=settings.claim_idle_ms, batch_entries=batch)


def picture_rules(settings: Settings) -> PictureRules:
    """When pages get their pictures, and why not at all when they do not."""
    off = ""
    if not settings.auto_pictures:
        off = "automatic pictures are off (auto_pictures = false)"
    elif chromium_missing():
        off = "automatic pictures need Chromium, which is not installed here"
    return PictureRules(
        min_views=settings.picture_min_views,
        min_visitors=settings.picture_min_visitors,
        max_age_days=settings.picture_max_age_days,
        deny=settings.picture_deny,
        off=off,
    )


def make_picture_taker(settings: Settings, url: str) -> PictureTaker | None:
    """The background thread's job that takes page pictures; None when they are off."""
    rules = picture_rules(settings)
    return None if rules.off else PictureTaker(sync_client(url), rules)


def session_builder(
    client: redis.Redis, settings: Settings, folder: Folder | None = None
) -> SessionBuilder:
    gap_ms, max_ms = settings.session_ms
    return SessionBuilder(
        client,
        settings.retention_days,
        gap_ms=gap_ms,
        max_ms=max_ms,
        max_rows=settings.session_max_rows,
        folder=folder,
        templates=PageTemplates(settings.page_templates),
    )


def limits(settings: Settings) -> Limits:
    return Limits(
        paths=settings.max_paths_per_day,
        templates=settings.max_templates_per_day,
        selectors=settings.max_selectors_per_day,
        events=settings.max_event_names_per_day,
        sources=settings.max_sources_per_day,
        properties=settings.max_properties_per_day,
        labels=settings.max_labels_per_day,
    )


def report_config(config: Path | None) -> ReportConfig:
    """The funnels and reports of the settings file (clicktrail.toml); raises ConfigError."""
    return load_report_config(config_file(config))


def make_scheduler(
    settings: Settings, url: str, config: Path | None, out: Path | None = None
) -> ReportScheduler:
    scheduler_settings = SchedulerSettings(
        out_dir=out or settings.data_dir / "reports",
        templates=settings.page_templates,
        session_ms=settings.session_ms,
        base_url=settings.collector_url,
    )
    return ReportScheduler(sync_client(url), report_config(config), scheduler_settings)


def report_sender(settings: Settings, url: str, config: Path | None) -> Callable[[str], list[str]]:
    """The dashboard's "send now": sends a report of the settings file as it is at that moment.
    The sender raises ConfigError for a bad file and SiteError for a site that is gone."""
    scheduler = make_scheduler(settings, url, config)

    def send_now(name: str) -> list[str]:
        scheduler.config = report_config(config)  # the file as it is now
        return scheduler.send_now(name)

    return send_now
