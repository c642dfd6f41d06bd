"""Ablation (c) of bench/ingest.py: the real collector, with its store replaced by an instant
answer. Its request rate is the ceiling of any storage design behind this HTTP stack: reading,
checking and answering the batch, with no Redis write and no wait.

Served by uvicorn like (a); REDIS_URL must point at a Redis holding the site (site lookups stay
real, and are cached after the first).
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from collector.app import create_app
from collector.batch_writer import PreparedBatch
from collector.settings import load_settings


class InstantWriter:
    """Answers as if every event were new and stored, without touching Redis."""

    async def write(self, prepared: PreparedBatch) -> int:
        return sum(ids.count(",") + 1 for _, _, ids in prepared.buckets)


def store_free_app() -> Starlette:
    app = create_app(load_settings(), os.environ["REDIS_URL"])
    app.state.collector.writer = InstantWriter()
    return app


app = store_free_app()
