"""A capture stays on the site's origins, in Debian's Chromium: a redirect, a meta refresh, a
frame, an image or a redirected subresource that points elsewhere never reaches elsewhere
(here, a second server standing in for an internal address), and a page that leads away is
refused instead of being stored as the heatmap's picture."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from heatmap.capture import CaptureError, capture_page
from heatmap.lockdown import Lockdown, origin_of

pytestmark = pytest.mark.slow

Answer = tuple[int, dict[str, str], str]  # status, headers, body


class Server(ThreadingHTTPServer):
    """Answers each path from `answers` (404 otherwise) and notes every path asked for."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, Answer] = {}
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def page(self, path: str, body: str) -> None:
        self.answers[path] = (200, {"Content-Type": "text/html"}, body)

    def redirect(self, path: str, to: str) -> None:
        self.answers[path] = (302, {"Location": to}, "")


class _Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        status, headers, body = self.server.answers.get(self.path, (404, {}, "not found"))
        data = body.encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve() -> Iterator[Server]:
    server = Server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def site() -> Iterator[Server]:
    yield from _serve()


@pytest.fixture
def elsewhere() -> Iterator[Server]:
    """Another origin: an internal service the capture must never reach."""
    yield from _serve()


PLAIN = '<!doctype html><body style="margin:0;background:rgb(10,120,200);height:1200px">{}</body>'


def test_a_redirect_to_another_origin_is_refused_before_it_is_followed(
    site: Server, elsewhere: Server
) -> None:
    elsewhere.page("/admin", PLAIN.format("secret"))
    site.redirect("/", f"{elsewhere.url}/admin")
    with pytest.raises(CaptureError, match=f"leads off the site's origins, to {elsewhere.url}"):
        capture_page(site.url + "/", 1280, timeout_s=10)
    assert elsewhere.seen == []


def test_a_chain_of_redirects_is_checked_at_every_hop(site: Server, elsewhere: Server) -> None:
    site.redirect("/", "/step-1")
    site.redirect("/step-1", f"{elsewhere.url}/admin")
    with pytest.raises(CaptureError, match="leads off the site's origins"):
        capture_page(site.url + "/", 1280, timeout_s=10)
    assert site.seen == ["/", "/step-1"] and elsewhere.seen == []


def test_a_redirect_within_the_site_is_followed(site: Server) -> None:
    site.redirect("/cart", "/cart/")
    site.page("/cart/", PLAIN.format(""))
    shot = Image.open(io.BytesIO(capture_page(site.url + "/cart", 800, timeout_s=10)))
    assert shot.convert("RGB").getpixel((400, 600)) == (10, 120, 200)


def test_a_meta_refresh_to_another_origin_is_refused(site: Server, elsewhere: Server) -> None:
    refresh = f'<meta http-equiv="refresh" content="0;url={elsewhere.url}/admin">'
    site.page("/", refresh + PLAIN.format(""))
    with pytest.raises(CaptureError, match="leads off the site's origins"):
        capture_page(site.url + "/", 1280, timeout_s=10)
    assert elsewhere.seen == []


def test_frames_images_and_redirected_subresources_stay_on_the_site(
    site: Server, elsewhere: Server
) -> None:
    elsewhere.page("/frame", PLAIN.format("internal"))
    site.redirect("/logo.png", f"{elsewhere.url}/logo.png")
    site.page(
        "/",
        PLAIN.format(
            f'<iframe src="{elsewhere.url}/frame"></iframe>'
            f'<img src="{elsewhere.url}/pixel.png"><img src="/logo.png">'
            f'<link rel="stylesheet" href="{elsewhere.url}/style.css">'
        ),
    )
    shot = Image.open(io.BytesIO(capture_page(site.url + "/", 1280, timeout_s=10)))
    assert shot.convert("RGB").getpixel((1200, 1000)) == (10, 120, 200)  # the page itself
    assert elsewhere.seen == []
    assert "/logo.png" in site.seen


def test_the_sites_other_origins_may_serve_its_pages(site: Server, elsewhere: Server) -> None:
    elsewhere.page("/", PLAIN.format(""))
    site.redirect("/", f"{elsewhere.url}/")
    shot = capture_page(site.url + "/", 800, timeout_s=10, origins=[site.url, elsewhere.url])
    assert Image.open(io.BytesIO(shot)).width == 800
    assert elsewhere.seen == ["/"]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Shop.Example/cart", "https://shop.example"),
        ("https://shop.example:443/", "https://shop.example"),
        ("http://shop.example:8080/x", "http://shop.example:8080"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
    ],
)
def test_an_origin_is_compared_as_browsers_do(url: str, origin: str) -> None:
    assert origin_of(url) == origin
    assert Lockdown([origin]).allows(url)
    assert not Lockdown(["https://other.example"]).allows(url)
