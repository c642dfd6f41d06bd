"""Screenshots in Redis: PNG or JPEG in, a checked PNG stored, the same pixels out."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
import redis
from PIL import Image, ImageFile

from collector.sites import Site
from heatmap import keys
from heatmap.screenshots import (
    MAX_BYTES,
    MAX_PIXELS,
    ScreenshotError,
    delete_screenshot,
    list_screenshots,
    load_screenshot,
    save_screenshot,
    screenshot_width,
)

BLUE = (10, 120, 200)


def image_bytes(
    width: int,
    height: int,
    format: str = "PNG",
    mode: str = "RGB",
    colour: float | tuple[int, ...] = BLUE,
) -> bytes:
    out = io.BytesIO()
    image = Image.new(mode, (width, height), colour)
    image.save(out, format=format, compress_level=1)  # quick to write; ignored but by PNG
    return out.getvalue()


def bomb(width: int, height: int) -> bytes:
    """A few hundred bytes whose PNG header says width x height, 1 bit a pixel: the header is
    all a size check may read (the audit's 14.6 KB file of 4000 x 30000 px cost 1 GB a render)."""
    png = image_bytes(200, 1, mode="1", colour=1)
    header = b"IHDR" + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + header + struct.pack(">I", zlib.crc32(header)) + png[33:]


def test_a_saved_png_loads_back_with_the_same_pixels(redis_client: redis.Redis, site: Site) -> None:
    page = Image.new("RGB", (390, 600), BLUE)
    page.putpixel((389, 599), (255, 0, 0))
    out = io.BytesIO()
    page.save(out, format="PNG")
    save_screenshot(redis_client, site.name, "mobile", "/product/:id", out.getvalue())
    loaded = load_screenshot(redis_client, site.name, "mobile", "/product/:id")
    assert loaded is not None
    assert (loaded.format, loaded.mode, loaded.size) == ("PNG", "RGB", (390, 600))
    assert loaded.getpixel((0, 0)) == BLUE
    assert loaded.getpixel((389, 599)) == (255, 0, 0)


def test_a_jpeg_is_stored_as_png(redis_client: redis.Redis, site: Site) -> None:
    save_screenshot(redis_client, site.name, "desktop", "/", image_bytes(1280, 300, "JPEG"))
    stored = redis_client.get(keys.screenshot(site.name, "desktop", "/"))
    assert isinstance(stored, bytes) and stored.startswith(b"\x89PNG\r\n\x1a\n")
    loaded = load_screenshot(redis_client, site.name, "desktop", "/")
    assert loaded is not None and loaded.size == (1280, 300)


def test_transparency_is_laid_over_white(redis_client: redis.Redis, site: Site) -> None:
    clear = image_bytes(400, 100, mode="RGBA", colour=(0, 0, 0, 0))
    save_screenshot(redis_client, site.name, "tablet", "/", clear)
    loaded = load_screenshot(redis_client, site.name, "tablet", "/")
    assert loaded is not None
    assert (loaded.mode, loaded.getpixel((10, 10))) == ("RGB", (255, 255, 255))


@pytest.mark.parametrize("size", [(200, 20000), (4000, 10)])
def test_the_size_limits_themselves_are_accepted(
    redis_client: redis.Redis, site: Site, size: tuple[int, int]
) -> None:
    save_screenshot(redis_client, site.name, "desktop", "/", image_bytes(*size))
    loaded = load_screenshot(redis_client, site.name, "desktop", "/")
    assert loaded is not None and loaded.size == size


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>not an image</html>", "not a readable PNG or JPEG"),
        (b"", "not a readable PNG or JPEG"),
        (image_bytes(400, 100, "GIF", "P", 1), "not a readable PNG or JPEG"),
        (image_bytes(400, 100)[:60], "not a readable PNG or JPEG"),  # truncated
        (image_bytes(199, 800), "199 px wide; it must be 200 to 4000 px"),
        (image_bytes(4001, 10), "4001 px wide; it must be 200 to 4000 px"),
        (image_bytes(200, 20001), "20001 px tall; it must be at most 20000 px"),
        (b"\x89PNG\r\n\x1a\n" + bytes(MAX_BYTES), "at most 8,388,608 (8 MiB)"),
        (bomb(4000, 30000), "30000 px tall; it must be at most 20000 px"),
        (bomb(4000, 20000), "4000 x 20000 px; it may hold at most 25,600,000 pixels"),
    ],
    ids=[
        "html", "empty", "gif", "truncated", "narrow", "wide", "tall", "over-8-MiB",
        "bomb-tall", "bomb-pixels",
    ],
)  # fmt: skip
def test_what_is_not_a_usable_screenshot_is_refused_and_not_stored(
    redis_client: redis.Redis, site: Site, data: bytes, message: str
) -> None:
    with pytest.raises(ScreenshotError, match=re.escape(message)):
        save_screenshot(redis_client, site.name, "desktop", "/", data)
    assert list_screenshots(redis_client, site.name) == []


@pytest.mark.parametrize("size", [(4000, 30000), (4000, 20000), (1300, 20000)])
def test_a_picture_over_the_bounds_is_judged_by_its_header_and_never_decoded(
    redis_client: redis.Redis, site: Site, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    def decode(image: ImageFile.ImageFile) -> None:
        raise AssertionError(f"decoded a {image.size} picture")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    assert size[0] * size[1] > MAX_PIXELS
    with pytest.raises(ScreenshotError):
        save_screenshot(redis_client, site.name, "desktop", "/", bomb(*size))
    # One stored before the bounds (or by hand) is not drawn: a render costs nothing for it.
    redis_client.set(keys.screenshot(site.name, "desktop", "/"), bomb(*size))
    assert load_screenshot(redis_client, site.name, "desktop", "/") is None


def test_a_band_that_does_not_exist_is_refused(redis_client: redis.Redis, site: Site) -> None:
    with pytest.raises(ScreenshotError, match="band must be one of mobile, tablet, desktop"):
        save_screenshot(redis_client, site.name, "watch", "/", image_bytes(400, 100))


def test_loading_what_is_absent_or_unreadable_gives_none(
    redis_client: redis.Redis, site: Site
) -> None:
    assert load_screenshot(redis_client, site.name, "desktop", "/") is None
    redis_client.set(keys.screenshot(site.name, "desktop", "/"), b"garbage")
    assert load_screenshot(redis_client, site.name, "desktop", "/") is None


def test_listing_gives_the_sites_own_screenshots_by_band_then_template(
    redis_client: redis.Redis, site: Site
) -> None:
    shot = image_bytes(400, 100)
    for band, template in [
        ("desktop", "/"),
        ("mobile", "/p/:id"),
        ("mobile", "/a:b"),
        ("tablet", "/"),
    ]:
        save_screenshot(redis_client, site.name, band, template, shot)
    save_screenshot(redis_client, "blog", "desktop", "/other", shot)
    assert list_screenshots(redis_client, site.name) == [
        ("mobile", "/a:b"),
        ("mobile", "/p/:id"),
        ("tablet", "/"),
        ("desktop", "/"),
    ]
    assert list_screenshots(redis_client, "blog") == [("desktop", "/other")]
    assert list_screenshots(redis_client, "none") == []


def test_deleting_says_whether_there_was_a_screenshot(
    redis_client: redis.Redis, site: Site
) -> None:
    save_screenshot(redis_client, site.name, "mobile", "/", image_bytes(390, 100))
    assert delete_screenshot(redis_client, site.name, "mobile", "/") is True
    assert delete_screenshot(redis_client, site.name, "mobile", "/") is False
    assert load_screenshot(redis_client, site.name, "mobile", "/") is None
    assert list_screenshots(redis_client, site.name) == []


def test_a_pictures_width_is_read_from_its_header(redis_client: redis.Redis, site: Site) -> None:
    save_screenshot(redis_client, site.name, "desktop", "/cart", image_bytes(1265, 900, "JPEG"))
    assert screenshot_width(redis_client, site.name, "desktop", "/cart") == 1265
    assert screenshot_width(redis_client, site.name, "mobile", "/cart") is None
