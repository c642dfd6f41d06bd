"""Local servers that reports are delivered to in tests: an HTTP webhook receiver and an SMTP
server (aiosmtpd), both on 127.0.0.1 and ephemeral ports."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from clicktrail.demo.background import free_port
from reports.delivery.targets import EmailTarget

WebhookServer = Callable[[list[int]], tuple[str, list[tuple[dict[str, str], bytes]]]]


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    """Start an HTTP server that answers each POST with the next status in a list."""
    servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(statuses: list[int]) -> tuple[str, list[tuple[dict[str, str], bytes]]]:
        received: list[tuple[dict[str, str], bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                reply = b'{"ok": true}' if statuses[0] < 400 else b"no such hook"
                status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest's output clean

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval: shutdown() waits for one, 0.5 s by default.
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/hooks/T0/B0/secret", received

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()


class Inbox:
    """An aiosmtpd handler that keeps what it receives and answers DATA with a set reply."""

    def __init__(self, replies: list[str] | None = None) -> None:
        self.envelopes: list[Envelope] = []
        self.replies = replies or ["250 OK"]
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd then sends the 535 itself (with True it waits for us to).
        return AuthResult(success=auth_data.password == b"hunter2", handled=False)


SmtpServer = Callable[..., tuple[Inbox, EmailTarget]]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Start an SMTP server on 127.0.0.1; return its inbox and a target that mails to it."""
    controllers: list[Controller] = []

    def start(replies: list[str] | None = None, **smtp_kwargs: Any) -> tuple[Inbox, EmailTarget]:
        inbox = Inbox(replies)
        # Controller cannot take port 0: it connects to its own port to check it is up.
        controller = Controller(
            inbox,
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=inbox.authenticate,
            **smtp_kwargs,
        )
        controller.start()
        controllers.append(controller)
        target = EmailTarget(
            ("ops@example.com",), "reports@example.com", "127.0.0.1", controller.port, timeout_s=5
        )
        return inbox, target

    yield start
    for controller in controllers:
        controller.stop()


def received(inbox: Inbox) -> EmailMessage:
    [envelope] = inbox.envelopes
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message
