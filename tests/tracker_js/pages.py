"""Test pages, served from their own origin on 127.0.0.1 so the snippet's requests to the
collector (another port) are cross-origin, as on a real site."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

SHOP = """<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title>
<style>
  body {{ margin: 0; height: 3000px; font: 16px sans-serif; }}
  #buy {{ position: absolute; left: 100px; top: 200px; width: 120px; height: 40px; }}
  #far {{ position: absolute; left: 100px; top: 1200px; width: 120px; height: 40px; }}
  header {{ position: fixed; top: 0; left: 0; right: 0; height: 50px; background: #eee; }}
  .card {{ position: absolute; left: 400px; top: 300px; width: 200px; height: 100px; }}
</style>
<script>
  window.__errors = []; window.onerror = (m) => {{ window.__errors.push(String(m)); }};
</script>
{snippet}
</head><body>
<header><a class="nav-cart" href="#cart">Cart</a></header>
<button id="buy" class="btn primary active">Add to cart</button>
<button id="far" class="btn">Far</button>
<div class="card is-open item-42"><span class="price">19.99</span></div>
<input id="email" type="email">
</body></html>"""


def snippet_tag(collector_url: str, key: str, **attrs: str) -> str:
    extra = "".join(f' data-{name}="{value}"' for name, value in attrs.items())
    return f'<script defer src="{collector_url}/t.js" data-site="{key}"{extra}></script>'


class _Handler(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, str]] = {}  # each server gets a subclass with its own dict

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        body = self.pages.get(path, self.pages.get("*", "")).encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_pages() -> Iterator[tuple[str, dict[str, str]]]:
    """(origin, pages): put HTML into `pages` by path ("*" answers every path)."""
    pages: dict[str, str] = {}
    handler = type("Handler", (_Handler,), {"pages": pages})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()
