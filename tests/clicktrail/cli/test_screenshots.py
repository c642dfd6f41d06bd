"""`clicktrail screenshot`: a page's picture, captured from the site's own origin or given as a
file, is drawn under that page's heatmaps."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from PIL import Image

from clicktrail.cli.main import main
from collector import sites
from heatmap.render import LEGEND_PX
from heatmap.screenshots import list_screenshots, load_screenshot
from tests.tracker_js.pages import serve_pages

PAGE = """<!doctype html><html><head><style>body { margin: 0; height: 1500px; background: #fff; }
#hero { position: absolute; left: 0; top: 300px; width: 100%; height: 200px; background: #0a7; }
</style></head><body><div id="hero"></div></body></html>"""


def cli(redis_url: str, *argv: str) -> int:
    return main([*argv, "--redis-url", redis_url])


def test_a_given_file_is_drawn_under_the_pages_heatmap(
    redis_url: str, redis_client: redis.Redis, site: sites.Site, tmp_path: Path
) -> None:
    shot = tmp_path / "cart.png"
    Image.new("RGB", (1280, 900), (200, 30, 30)).save(shot)
    argv = ["screenshot", "--site", "shop", "--page", "/cart", "--file", str(shot)]
    assert cli(redis_url, *argv, "--band", "desktop") == 0
    assert list_screenshots(redis_client, "shop") == [("desktop", "/cart")]
    out = tmp_path / "heat.png"
    assert cli(redis_url, "heatmap", "--site", "shop", "--page", "/cart", "-o", str(out)) == 0
    with Image.open(out) as image:
        assert image.getpixel((640, LEGEND_PX + 450)) == (200, 30, 30)  # no clicks: the page


def test_a_page_is_captured_at_the_bands_width_from_the_sites_origin(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    with serve_pages() as (origin, pages):
        pages["*"] = PAGE
        sites.add_site(redis_client, sites.new_site("shop", [origin]))
        argv = ["screenshot", "--site", "shop", "--url", f"{origin}/product/42?ref=x"]
        assert cli(redis_url, *argv, "--band", "mobile") == 0
    picture = load_screenshot(redis_client, "shop", "mobile", "/product/:id")
    assert picture is not None
    assert picture.width == 390 and picture.height >= 1500
    rgb = picture.convert("RGB")
    assert rgb.getpixel((195, 400)) == (0, 170, 119)  # the #0a7 hero
    assert rgb.getpixel((195, 100)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://169.254.169.254/latest/meta-data", "is not one of shop's origins"),
        ("https://shop.example.evil.test/", "is not one of shop's origins"),
        ("file:///etc/passwd", "not an http(s) URL"),
    ],
)
def test_only_the_sites_own_pages_are_captured(
    redis_url: str, site: sites.Site, url: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(redis_url, "screenshot", "--site", "shop", "--url", url) == 2
    assert message in capsys.readouterr().err


def test_a_file_that_is_not_an_image_is_refused(
    redis_url: str, site: sites.Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a picture")
    argv = ["screenshot", "--site", "shop", "--page", "/", "--file", str(bad)]
    assert cli(redis_url, *argv) == 2
    assert capsys.readouterr().err.startswith("clicktrail: error: --file:")
