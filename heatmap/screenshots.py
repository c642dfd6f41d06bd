"""Page screenshots drawn under the heatmaps: checked, re-encoded as PNG and kept in Redis, one
per (site, band, page template)."""

from __future__ import annotations

import io
import logging
import re
import warnings

import redis
from PIL import Image

from collector.pages import BANDS
from heatmap import keys
from heatmap.render import MAX_DRAWN_HEIGHT_PX, MAX_DRAWN_PIXELS

log = logging.getLogger(__name__)

# Bounded in pixels whatever the file size (a 44 KB 1-bit PNG can hold 4000 x 30000 px), checked
# on the header before decoding, when storing and again when loading. No more than a render
# draws: 1280 x 20,000 px, or 4000 x 6,400.
MIN_WIDTH_PX = 200
MAX_WIDTH_PX = 4000
MAX_HEIGHT_PX = MAX_DRAWN_HEIGHT_PX
MAX_PIXELS = MAX_DRAWN_PIXELS
MAX_BYTES = 8 * 1024 * 1024
FORMATS = ("PNG", "JPEG")
PNG_COMPRESS_LEVEL = 6
WHITE = (255, 255, 255)


class ScreenshotError(ValueError):
    """The bytes are not a screenshot we keep: not an image, or outside the size limits."""


def save_screenshot(client: redis.Redis, site: str, band: str, template: str, png: bytes) -> None:
    """Check the image (PNG or JPEG), re-encode it as PNG and store it, replacing any older one."""
    if band not in BANDS:
        raise ScreenshotError(f"band must be one of {', '.join(BANDS)}, not {band!r}")
    if len(png) > MAX_BYTES:
        raise ScreenshotError(
            f"screenshot is {len(png):,} bytes; at most {MAX_BYTES:,} (8 MiB) are accepted"
        )
    image = _decode(png, check=True)
    out = io.BytesIO()
    _flattened(image).save(out, format="PNG", optimize=False, compress_level=PNG_COMPRESS_LEVEL)
    client.set(keys.screenshot(site, band, template), out.getvalue())


def load_screenshot(client: redis.Redis, site: str, band: str, template: str) -> Image.Image | None:
    """The stored screenshot, decoded; None when there is none or it cannot be read."""
    data = client.get(keys.screenshot(site, band, template))
    if not isinstance(data, bytes):
        return None
    try:
        return _decode(data, check=True)  # one stored before the bounds must not cost a render
    except ScreenshotError as exc:
        log.warning("screenshot of %s %s %s not drawn: %s", site, band, template, exc)
        return None


def delete_screenshot(client: redis.Redis, site: str, band: str, template: str) -> bool:
    """Remove a screenshot; False when there was none."""
    return bool(client.delete(keys.screenshot(site, band, template)))


def list_screenshots(client: redis.Redis, site: str) -> list[tuple[str, str]]:
    """(band, template) of every screenshot of a site, by band then template."""
    prefix = _prefix(site)
    found = []
    for key in client.scan_iter(match=_glob_escape(prefix) + "*", count=1000):
        name = key.decode() if isinstance(key, bytes) else str(key)
        band, _, template = name[len(prefix) :].partition(":")
        if band in BANDS:
            found.append((band, template))
    return sorted(found, key=lambda shot: (BANDS.index(shot[0]), shot[1]))


def _prefix(site: str) -> str:
    """What every screenshot key of the site starts with, from keys.screenshot itself."""
    return keys.screenshot(site, "", "")[:-1]


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _decode(data: bytes, check: bool) -> Image.Image:
    """The decoded image; with `check`, refused unless within the format and size limits,
    which are read from the header: nothing is decoded past them."""
    try:
        # Our own limits bound the size; Pillow's bomb guard would warn below them.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            if check:
                _check_size(image.width, image.height)
            image.load()
    except ScreenshotError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ScreenshotError(f"not a readable PNG or JPEG image: {exc}") from None
    return image


def _check_size(width: int, height: int) -> None:
    if not MIN_WIDTH_PX <= width <= MAX_WIDTH_PX:
        raise ScreenshotError(
            f"screenshot is {width} px wide; it must be {MIN_WIDTH_PX} to {MAX_WIDTH_PX} px"
        )
    if height > MAX_HEIGHT_PX:
        raise ScreenshotError(
            f"screenshot is {height} px tall; it must be at most {MAX_HEIGHT_PX} px"
        )
    if width * height > MAX_PIXELS:
        raise ScreenshotError(
            f"screenshot is {width} x {height} px; it may hold at most {MAX_PIXELS:,} pixels "
            f"({MAX_PIXELS // width} px tall at this width)"
        )


def _flattened(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid over white (the heatmap draws on RGB)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        page = Image.new("RGB", image.size, WHITE)
        page.paste(rgba, (0, 0), rgba)
        return page
    return image.convert("RGB")


def screenshot_width(client: redis.Redis, site: str, band: str, template: str) -> int | None:
    """The stored picture's width in px, read from its PNG header alone; None without one."""
    head = client.getrange(keys.screenshot(site, band, template), 0, 23)
    if not isinstance(head, bytes) or len(head) < 24 or not head.startswith(b"\x89PNG"):
        return None
    return int.from_bytes(head[16:20], "big")  # IHDR: width, then height
