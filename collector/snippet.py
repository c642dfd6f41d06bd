"""`GET /t.js`: the tracker snippet, with an ETag, cache headers and a precompressed body."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400"


def script_tag(collector_url: str, key: str) -> str:
    """The tag a site pastes into its pages."""
    return f'<script defer src="{collector_url}/t.js" data-site="{key}"></script>'


class SnippetEndpoint:
    def __init__(self, path: Path) -> None:
        self.body = path.read_bytes()
        self.gzipped = gzip.compress(self.body, compresslevel=9, mtime=0)
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'

    async def serve(self, request: Request) -> Response:
        headers = {"ETag": self.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = self.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = self.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)
