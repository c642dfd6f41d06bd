"""uvicorn's httptools protocol with deadlines for slow clients.

uvicorn closes idle keep-alive connections, but not one that connects and never finishes its
request head, nor one that trickles a body to a route that does not read it: each would hold a
file descriptor for good. `POST /e` answers 408 itself when its body is late (see
collector/ingest.py); the body deadline here comes a little later and covers every other route.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

BODY_GRACE_S = 1.0  # lets the collector's own 408 go out before the connection is cut


class Phase(Enum):
    IDLE = "idle"  # between requests: uvicorn's keep-alive timeout applies
    HEAD = "head"
    BODY = "body"


class DeadlineProtocol(HttpToolsProtocol):
    """Closes a connection whose request head is not in `head_timeout_s` after it connected or
    began the request, or whose body is not in `body_timeout_s` (plus grace) after its head."""

    head_timeout_s = 10.0
    body_timeout_s = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = Phase.IDLE
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_timeout_s)  # a connection that never sends a byte counts too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Armed only when a request is still incomplete after this read: most requests arrive
        # whole in one read and never start a timer.
        if self._phase is not Phase.IDLE and self._deadline is None:
            if self._phase is Phase.HEAD:
                self._arm(self.head_timeout_s)
            else:
                self._arm(self.body_timeout_s + BODY_GRACE_S)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = Phase.HEAD

    def on_headers_complete(self) -> None:
        self._disarm()
        self._phase = Phase.BODY
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._phase = Phase.IDLE
        super().on_message_complete()

    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def deadline_protocol(head_timeout_s: float, body_timeout_s: float) -> type[DeadlineProtocol]:
    """The protocol class to give uvicorn.Config(http=...), with these deadlines."""

    class Configured(DeadlineProtocol):
        pass

    Configured.head_timeout_s = head_timeout_s
    Configured.body_timeout_s = body_timeout_s
    return Configured
