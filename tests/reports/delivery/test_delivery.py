"""Report delivery against a real directory, HTTP server and SMTP server, all on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from clicktrail.demo.background import free_port
from reports.delivery.config import parse_target
from reports.delivery.dispatch import deliver
from reports.delivery.targets import (
    DeliveryError,
    DirectoryTarget,
    EmailTarget,
    ReportFiles,
    WebhookTarget,
)
from tests.reports.servers import SmtpServer, WebhookServer, received

TITLE = "Cart abandonment, shop, 2026-11-21"
HEADLINE = "62% of carts were abandoned, up from 55% last week."
REPORT = {"site": "shop", "carts": 8, "abandoned": 5}
CSV = b"step,sessions\r\nview,8\r\ncart,5\r\n"
LINKS = {"dashboard": "http://127.0.0.1:8000/sites/shop"}

Attempts = list[tuple[str, bool, str]]


@pytest.fixture
def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (3, 2), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def files(tmp_path: Path, png: bytes) -> ReportFiles:
    src = tmp_path / "src"
    src.mkdir()
    inline = base64.b64encode(png).decode()
    (src / "report.html").write_text(
        f'<html><body><h1>{TITLE}</h1><img alt="funnel" src="data:image/png;base64,{inline}">'
        "</body></html>"
    )
    (src / "report.json").write_text(json.dumps(REPORT))
    (src / "funnel.csv").write_bytes(CSV)
    (src / "funnel.png").write_bytes(png)
    return ReportFiles(
        TITLE,
        HEADLINE,
        src / "report.html",
        src / "report.json",
        src / "funnel.csv",
        {"funnel": src / "funnel.png"},
        LINKS,
    )


def recorder() -> tuple[Attempts, list[float], dict[str, Any]]:
    """on_attempt and sleep stand-ins that record their calls, as deliver() keyword arguments."""
    attempts: Attempts = []
    sleeps: list[float] = []
    kwargs = {
        "on_attempt": lambda kind, ok, error: attempts.append((kind, ok, error)),
        "sleep": sleeps.append,
    }
    return attempts, sleeps, kwargs


# --- directory


def test_directory_delivery_copies_every_file(tmp_path: Path, files: ReportFiles) -> None:
    attempts, _, kwargs = recorder()
    deliver(DirectoryTarget(tmp_path / "out"), files, **kwargs)
    deliver(DirectoryTarget(tmp_path / "out"), files)  # a second run overwrites in place

    dest = tmp_path / "out" / "cart-abandonment-shop-2026-11-21"
    names = sorted(p.name for p in dest.iterdir())
    assert names == ["funnel.csv", "funnel.png", "report.html", "report.json"]
    for source in (files.html, files.json, files.csv, files.images["funnel"]):
        assert (dest / source.name).read_bytes() == source.read_bytes()
    assert attempts == [("dir", True, "")]


def test_missing_report_file_fails_at_once(tmp_path: Path, files: ReportFiles) -> None:
    files.json.unlink()
    attempts, sleeps, kwargs = recorder()
    with pytest.raises(DeliveryError, match="cannot prepare the report"):
        deliver(WebhookTarget("http://127.0.0.1:9/"), files, **kwargs)
    assert [ok for _, ok, _ in attempts] == [False]
    assert sleeps == []


# --- webhook


def test_webhook_posts_slack_compatible_json(
    webhook_server: WebhookServer, files: ReportFiles
) -> None:
    url, received = webhook_server([200])
    attempts, _, kwargs = recorder()
    deliver(WebhookTarget(url), files, **kwargs)

    assert attempts == [("webhook", True, "")]
    [(headers, body)] = received
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    payload = json.loads(body)
    assert payload == {
        "text": f"{TITLE}: {HEADLINE}\ndashboard: {LINKS['dashboard']}",
        "title": TITLE,
        "headline": HEADLINE,
        "report": REPORT,
    }


@pytest.mark.parametrize("status", [500, 429])
def test_webhook_retries_with_backoff(
    webhook_server: WebhookServer, files: ReportFiles, status: int
) -> None:
    url, received = webhook_server([status, status, 200])
    attempts, sleeps, kwargs = recorder()
    deliver(WebhookTarget(url), files, **kwargs)

    assert len(received) == 3
    assert [(kind, ok) for kind, ok, _ in attempts] == [
        ("webhook", False),
        ("webhook", False),
        ("webhook", True),
    ]
    assert attempts[0][2].startswith(f"HTTP {status} ")
    assert sleeps == [2.0, 4.0]


def test_webhook_4xx_fails_without_retry(
    webhook_server: WebhookServer, files: ReportFiles, caplog: pytest.LogCaptureFixture
) -> None:
    url, received = webhook_server([404])
    attempts, sleeps, kwargs = recorder()
    with pytest.raises(DeliveryError, match="HTTP 404 Not Found: no such hook"):
        deliver(WebhookTarget(url), files, **kwargs)

    assert len(received) == 1
    assert attempts == [("webhook", False, "HTTP 404 Not Found: no such hook")]
    assert sleeps == []
    # The target is logged by host: a webhook URL's path is its secret.
    assert "webhook http://127.0.0.1:" in caplog.text
    assert "secret" not in caplog.text


def test_webhook_redirect_is_not_followed(
    webhook_server: WebhookServer, files: ReportFiles
) -> None:
    # urllib would follow it as a GET without the body, and call that a success.
    url, received = webhook_server([302, 200])
    attempts, _, kwargs = recorder()
    with pytest.raises(DeliveryError, match="HTTP 302 Found"):
        deliver(WebhookTarget(url), files, **kwargs)
    assert len(received) == 1
    assert len(attempts) == 1


def test_webhook_connection_refused_is_retried_then_fails(files: ReportFiles) -> None:
    attempts, sleeps, kwargs = recorder()
    with pytest.raises(DeliveryError, match="Connection refused"):
        deliver(WebhookTarget(f"http://127.0.0.1:{free_port()}/"), files, attempts=3, **kwargs)
    assert [ok for _, ok, _ in attempts] == [False, False, False]
    assert sleeps == [2.0, 4.0]


# --- e-mail


def test_email_has_text_html_with_cid_images_and_attachments(
    smtp_server: SmtpServer, files: ReportFiles, png: bytes
) -> None:
    inbox, target = smtp_server()
    target = replace(target, to=("ops@example.com", "cfo@example.com"))
    attempts, _, kwargs = recorder()
    deliver(target, files, **kwargs)

    assert attempts == [("email", True, "")]
    assert inbox.envelopes[0].mail_from == "reports@example.com"
    assert inbox.envelopes[0].rcpt_tos == ["ops@example.com", "cfo@example.com"]
    message = received(inbox)
    assert message["Subject"] == TITLE
    assert message["To"] == "ops@example.com, cfo@example.com"

    text = message.get_body(("plain",))
    assert text is not None
    assert text.get_content().splitlines() == [HEADLINE, "", f"dashboard: {LINKS['dashboard']}"]

    related = message.get_body(("related",))
    html = message.get_body(("html",))
    assert related is not None and html is not None
    body = html.get_content()
    assert "data:image" not in body
    [cid] = [part.split('"')[0] for part in body.split('src="cid:')[1:]]
    [image] = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{cid}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == png

    attachments = {str(p.get_filename()): p for p in message.iter_attachments()}
    assert sorted(attachments) == ["funnel.csv", "report.json"]
    assert attachments["report.json"].get_content_type() == "application/json"
    assert json.loads(attachments["report.json"].get_content()) == REPORT
    assert attachments["funnel.csv"].get_content_type() == "text/csv"
    assert attachments["funnel.csv"].get_payload(decode=True) == CSV


def test_email_logs_in_and_never_logs_the_password(
    smtp_server: SmtpServer, files: ReportFiles, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, target = smtp_server(auth_require_tls=False)
    target = replace(target, username="ci")
    attempts, _, kwargs = recorder()

    with pytest.raises(DeliveryError, match="535"):
        deliver(replace(target, password="wr0ng-pa55"), files, **kwargs)
    deliver(replace(target, password="hunter2"), files, **kwargs)

    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN) before giving up.
    assert {login for login, _ in inbox.logins} == {b"ci"}
    assert inbox.logins[-1] == (b"ci", b"hunter2")
    assert len(inbox.envelopes) == 1
    assert [ok for _, ok, _ in attempts] == [False, True]  # a bad password is not retried
    assert "wr0ng-pa55" not in caplog.text
    assert f"smtp://127.0.0.1:{target.port}" in caplog.text


@pytest.mark.parametrize(
    ("reply", "tries"),
    [("451 4.3.0 try again later", 3), ("554 5.7.1 rejected as spam", 1)],
)
def test_email_retries_4xx_but_not_5xx(
    smtp_server: SmtpServer, files: ReportFiles, reply: str, tries: int
) -> None:
    inbox, target = smtp_server([reply])
    attempts, sleeps, kwargs = recorder()
    with pytest.raises(DeliveryError, match=reply.split()[0]):
        deliver(target, files, attempts=3, **kwargs)
    assert len(inbox.envelopes) == tries
    assert [ok for _, ok, _ in attempts] == [False] * tries
    assert sleeps == [2.0, 4.0][: tries - 1]


# --- parse_target


def test_parse_target_builds_each_kind() -> None:
    where = "reports.daily.deliver[0]"
    assert parse_target({"type": "dir", "path": "reports"}, where) == DirectoryTarget(
        Path("reports")
    )
    assert parse_target(
        {"type": "webhook", "url": "https://hooks.example.com/x", "timeout_s": 3}, where
    ) == WebhookTarget("https://hooks.example.com/x", 3.0)
    raw = {
        "type": "email",
        "to": ["a@example.com"],
        "from": "r@example.com",
        "host": "smtp.example.com",
        "starttls": True,
        "username": "r",
        "password_env": "SMTP_PASSWORD",
    }
    target = parse_target(raw, where, environ={"SMTP_PASSWORD": "hunter2"})
    assert target == EmailTarget(
        ("a@example.com",), "r@example.com", "smtp.example.com", 587, True, False, "r", "hunter2"
    )
    assert "hunter2" not in repr(target)
    ssl_only = parse_target(
        {**raw, "starttls": False, "ssl": True}, where, environ={"SMTP_PASSWORD": "x"}
    )
    assert isinstance(ssl_only, EmailTarget) and ssl_only.port == 465


EMAIL = {"type": "email", "to": ["a@example.com"], "from": "r@example.com"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "webhook"}, "W.url: required"),
        ({"type": "webhook", "url": "ftp://example.com/x"}, "W.url: must be an http(s) URL"),
        ({"type": "webhook", "url": "https://"}, "W.url: must be an http(s) URL"),
        (
            {"type": "webhook", "url": "https://example.com", "method": "PUT"},
            "W.method: unknown key for webhook targets (known: timeout_s, type, url)",
        ),
        ({"type": "webhook", "url": "https://x.io", "timeout_s": 0}, "W.timeout_s: must be more"),
        ({"type": "dir"}, "W.path: required"),
        ({"type": "dir", "path": ""}, "W.path: must be a non-empty string"),
        ({**EMAIL, "port": 0}, "W.port: must be a whole number from 1 to 65535"),
        ({**EMAIL, "port": "25"}, "W.port: must be a whole number from 1 to 65535"),
        ({**EMAIL, "port": True}, "W.port: must be a whole number from 1 to 65535"),
        ({**EMAIL, "to": []}, "W.to: must list at least one address"),
        ({**EMAIL, "to": "a@example.com"}, "W.to: must be a list of e-mail addresses"),
        ({**EMAIL, "to": ["nobody"]}, "W.to: 'nobody' is not an e-mail address"),
        ({**EMAIL, "from": None}, "W.from: required"),
        ({**EMAIL, "password": "x"}, "W.password: unknown key for email targets"),
        ({**EMAIL, "ssl": "yes"}, "W.ssl: must be true or false"),
        ({**EMAIL, "ssl": True, "starttls": True}, "W.starttls: cannot be combined with ssl"),
        ({**EMAIL, "username": "r"}, "W.password_env: required when username is set"),
        (
            {**EMAIL, "username": "r", "password_env": "UNSET_VAR"},
            "W.password_env: environment variable UNSET_VAR is not set or empty",
        ),
        ({"type": "ftp"}, "W.type: must be one of 'dir', 'email', 'webhook' (got 'ftp')"),
        ({"path": "reports"}, "W.type: required"),
    ],
)
def test_parse_target_rejects_bad_input(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_target(raw, "W", environ={})
    assert str(info.value).startswith(message)
