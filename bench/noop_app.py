"""Peer (a) of bench/ingest.py: the same Starlette stack answering 204 without touching Redis."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def collect(request: Request) -> Response:
    await request.body()
    return Response(status_code=204)


app = Starlette(routes=[Route("/e", collect, methods=["POST"])])
