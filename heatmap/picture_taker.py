"""The background thread that takes the pictures heatmap.pictures finds due: one Chromium kept
between captures, one capture at a time, at a low CPU priority so that ingest and the worker
never wait for it, each page locked to the site's origins (heatmap/lockdown.py)."""

from __future__ import annotations

import io
import logging
import os
import threading
import time

import redis
from PIL import Image

from collector.failures import REDIS_DOWN, count_failure
from collector.sites import list_sites
from heatmap import keys
from heatmap.capture import Camera, CaptureError
from heatmap.pictures import (
    DuePicture,
    PictureRules,
    PictureState,
    due_pictures,
    load_states,
    save_state,
)
from heatmap.render import BAND_WIDTHS_PX
from heatmap.screenshots import ScreenshotError, save_screenshot

log = logging.getLogger(__name__)

SCAN_EVERY_S = 60.0  # between looks for templates that are due
LEASE_S = 300  # one capture of every band of a page; another process may take it after this
# Let go of a lease only while it is still ours: checked and deleted in one step, so a lease
# that expired and went to another process meanwhile is never taken from it.
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
NICE = 10  # added to the thread's (and its browser's) CPU niceness
MAX_REDIS_WAIT_S = 60.0


class PictureTaker:
    """Takes the due pictures of every site, until stopped."""

    def __init__(
        self,
        client: redis.Redis,
        rules: PictureRules,
        scan_every_s: float = SCAN_EVERY_S,
        camera: Camera | None = None,
    ) -> None:
        self.client = client
        self.rules = rules
        self.scan_every_s = scan_every_s
        self.camera = camera or Camera()
        self.stopping = threading.Event()
        self.taken = 0  # pages pictured by this taker
        self._owner = f"{os.getpid()}-{threading.get_native_id()}-{os.urandom(3).hex()}"
        self._release = client.register_script(RELEASE_LUA)

    def run(self) -> int:
        """Scan and capture until stopped; returns the pages pictured."""
        _lower_priority()
        failures = 0
        try:
            while not self.stopping.is_set():
                try:
                    self.run_once()
                    failures = 0
                except REDIS_DOWN as exc:
                    failures += 1
                    log.warning("pictures: Redis unreachable (%d): %s", failures, exc)
                    self.stopping.wait(min(MAX_REDIS_WAIT_S, 0.5 * 2**failures))
                    continue
                except Exception:
                    log.exception("pictures: a scan failed; trying again later")
                    count_failure(self.client, "pictures", "", "")
                self.stopping.wait(self.scan_every_s)
        finally:
            self.camera.close()
        return self.taken

    def run_once(self) -> int:
        """Take every picture due now; returns how many were taken."""
        taken = 0
        for site in list_sites(self.client):
            for due in due_pictures(self.client, site, self.rules, _now_ms()):
                if self.stopping.is_set():
                    return taken
                try:
                    taken += self.take(due)
                except REDIS_DOWN:
                    raise
                except Exception:  # one page's trouble is not the others'
                    log.exception("pictures: %s of %s failed", due.template, site.name)
                    count_failure(self.client, "pictures", site.name, "")
        self.taken += taken
        return taken

    def take(self, due: DuePicture) -> bool:
        """Capture the page at each band's width, unless another process is at it."""
        site, template = due.site.name, due.template
        lease = keys.picture_lease(site, template)
        if not self.client.set(lease, self._owner, nx=True, ex=LEASE_S):
            return False
        try:
            state = load_states(self.client, site).get(template, PictureState())
            try:
                pictures = {band: self._shoot(due, BAND_WIDTHS_PX[band]) for band in due.bands}
            except CaptureError as exc:
                self._failed(due, state, str(exc))
                return False
            for band, png in pictures.items():
                try:
                    save_screenshot(self.client, site, band, template, png)
                except ScreenshotError as exc:
                    self._failed(due, state, str(exc))
                    return False
            save_state(self.client, site, template, state.taken(due.url, due.bands, _now_ms()))
            log.info("pictures: took %s of %s from %s", template, site, due.url)
            return True
        finally:
            self._release(keys=[lease], args=[self._owner])

    def _shoot(self, due: DuePicture, width: int) -> bytes:
        png = self.camera.shoot(due.url, width, due.site.origins, same_path=True)
        if _blank(png):
            raise CaptureError(f"could not capture {due.url}: the page showed nothing (all blank)")
        return png

    def _failed(self, due: DuePicture, state: PictureState, reason: str) -> None:
        if not state.failures or state.reason != reason:  # once per page, not once per retry
            log.warning("pictures: %s of %s: %s", due.template, due.site.name, reason)
        failed = state.failed(due.url, reason, _now_ms())
        save_state(self.client, due.site.name, due.template, failed)


def _blank(png: bytes) -> bool:
    with Image.open(io.BytesIO(png)) as image:
        low, high = image.convert("L").getextrema()  # one band: (lowest, highest)
        return bool(low == high)


def _lower_priority() -> None:
    """On Linux niceness belongs to the thread (and what it starts: the browser), not the
    process: the collector's and worker's threads keep theirs."""
    try:
        os.nice(NICE)
    except OSError as exc:
        log.info("pictures: cannot lower the priority: %s", exc)


def _now_ms() -> int:
    return int(time.time() * 1000)
