"""Cameras that stand in for Chromium in the picture taker's tests: the taker's own logic
(leases, bands, states) is under test, not the capture (tests/heatmap/test_capture.py)."""

from __future__ import annotations

from collections.abc import Collection

from heatmap.capture import Camera
from heatmap.screenshots import MAX_HEIGHT_PX


class StandInCamera(Camera):
    """A camera whose `picture` says what a capture of the page at that width gives."""

    def shoot(
        self,
        url: str,
        width: int,
        origins: Collection[str],
        max_height: int = MAX_HEIGHT_PX,
        same_path: bool = False,
    ) -> bytes:
        return self.picture(url, width)

    def picture(self, url: str, width: int) -> bytes:
        raise NotImplementedError
