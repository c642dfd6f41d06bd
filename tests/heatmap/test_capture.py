"""Capturing a real page in Debian's Chromium: the width asked for, the whole (lazy) page, the
pixels where the page put them, and never a request to the page's own tracker."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from clicktrail.demo.background import free_port
from heatmap import capture
from heatmap.capture import CaptureError, capture_page

BLOCK = (220, 30, 120)  # at left 40, top 1800, 200 x 200
LAZY = (20, 160, 60)  # painted into #lazy (top 2300) once it is scrolled into view
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<style>
  body { margin: 0; height: 2600px; background: #fff; position: relative; }
  div { position: absolute; left: 40px; width: 200px; height: 200px; }
  #block { top: 1800px; background: rgb(220, 30, 120); animation: fade 5s; }
  #lazy { top: 2300px; background: #ddd; }
  @keyframes fade { from { opacity: 0; } to { opacity: 1; } }
</style>
<script defer src="/t.js" data-site="abc"></script>
</head><body>
<div id="block"></div>
<div id="lazy"></div>
<script>
  fetch("/e", {method: "POST", body: "{}"}).catch(() => {});
  const lazy = document.getElementById("lazy");
  new IntersectionObserver(async (entries, observer) => {
    if (!entries[0].isIntersecting) return;
    observer.disconnect();
    lazy.style.background = await (await fetch("/lazy-colour")).text();
  }).observe(lazy);
</script>
</body></html>"""
BODIES = {"/": (PAGE, "text/html"), "/lazy-colour": ("rgb(20, 160, 60)", "text/plain")}


class Pages(ThreadingHTTPServer):
    """Serves PAGE at /, the lazy element's colour at /lazy-colour, 404 elsewhere; notes every
    path it is asked for."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Pages

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        body, kind = BODIES.get(self.path, ("not found", "text/plain"))
        data = body.encode()
        self.send_response(200 if self.path in BODIES else 404)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.server.seen.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def pages() -> Iterator[Pages]:
    server = Pages()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1280])
def test_the_whole_page_is_captured_at_the_width_with_lazy_content_and_no_tracking(
    pages: Pages, width: int
) -> None:
    shot = Image.open(io.BytesIO(capture_page(pages.url + "/", width)))
    assert shot.format == "PNG"
    assert shot.width == width and shot.height >= 2500
    assert shot.convert("RGB").getpixel((140, 1900)) == BLOCK  # finished fading in
    assert shot.convert("RGB").getpixel((140, 2400)) == LAZY
    assert shot.convert("RGB").getpixel((300, 1900)) == (255, 255, 255)
    assert "/lazy-colour" in pages.seen
    assert "/t.js" not in pages.seen and "/e" not in pages.seen


@pytest.mark.slow
def test_a_long_page_is_cut_at_max_height(pages: Pages) -> None:
    shot = Image.open(io.BytesIO(capture_page(pages.url + "/", 820, max_height=1000)))
    assert shot.size == (820, 1000)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "javascript:alert(1)", "ftp://example.com/", "http:///path"]
)
def test_only_http_and_https_pages_are_captured(url: str) -> None:
    with pytest.raises(CaptureError, match="only http:// and https:// pages can be captured"):
        capture_page(url, 1280)


@pytest.mark.parametrize("width", [199, 4001])
def test_the_width_must_be_one_a_screenshot_may_have(width: int) -> None:
    with pytest.raises(CaptureError, match="width must be 200 to 4000 px"):
        capture_page("http://127.0.0.1/", width)


@pytest.mark.parametrize("max_height", [0, 20001])
def test_the_height_limit_must_be_one_a_screenshot_may_have(max_height: int) -> None:
    with pytest.raises(CaptureError, match="max_height must be 1 to 20000 px"):
        capture_page("http://127.0.0.1/", 1280, max_height=max_height)


def test_without_playwright_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import raises ImportError
    with pytest.raises(CaptureError, match="install clicktrail's `browser` extra"):
        capture_page("http://127.0.0.1/", 1280)


def test_without_chromium_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(CaptureError, match="install Debian's chromium package"):
        capture_page("http://127.0.0.1/", 1280)


@pytest.mark.slow
def test_a_page_that_does_not_load_says_why() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(CaptureError, match=f"could not capture {url}: .*ERR_CONNECTION_REFUSED"):
        capture_page(url, 1280, timeout_s=5)


@pytest.mark.slow
def test_an_error_page_is_not_captured(pages: Pages) -> None:
    with pytest.raises(CaptureError, match="it answered HTTP 404"):
        capture_page(pages.url + "/gone", 1280, timeout_s=5)
