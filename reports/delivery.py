"""Deliver a finished report to a directory, a webhook or by e-mail, retrying with backoff."""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import logging
import math
import os
import re
import shutil
import smtplib
import ssl
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import NoReturn

log = logging.getLogger(__name__)

KINDS = ("dir", "email", "webhook")
# OSError covers sockets, timeouts, urllib and smtplib; http.client's errors for a garbled or
# cut-off reply are not OSErrors, and a retry may fix them too.
_TRANSIENT = (OSError, http.client.HTTPException)
_DATA_IMAGE = re.compile(r"data:image/([a-z0-9.+-]+);base64,([A-Za-z0-9+/=]+)")
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")


@dataclass(frozen=True)
class ReportFiles:
    title: str
    headline: str
    html: Path  # self-contained: its images are inline data: URIs
    json: Path
    csv: Path
    images: dict[str, Path]
    links: dict[str, str] = field(default_factory=dict)  # label -> URL


@dataclass(frozen=True)
class DirectoryTarget:
    path: Path  # the files go to path/<slug of title>/


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    timeout_s: float = 10.0


@dataclass(frozen=True)
class EmailTarget:
    to: tuple[str, ...]
    sender: str
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 30.0


Target = DirectoryTarget | WebhookTarget | EmailTarget


class DeliveryError(Exception):
    """A report could not be delivered to a target."""


class _Permanent(Exception):
    """A failure that a retry will not fix, such as a 4xx reply or a rejected recipient."""


def deliver(
    target: Target,
    files: ReportFiles,
    *,
    attempts: int = 5,
    backoff_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    on_attempt: Callable[[str, bool, str], None] | None = None,
) -> None:
    """Deliver files to target, retrying transient failures; raise DeliveryError at the end."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    kind, label = _kind(target), describe(target)
    send: Callable[[], None] | None = None
    for attempt in range(1, attempts + 1):
        permanent = False
        try:
            send = send or _prepare(target, files)
            send()
        except _Permanent as exc:
            permanent, error = True, str(exc)
        except _TRANSIENT as exc:
            error = str(exc) or type(exc).__name__
        else:
            if on_attempt:
                on_attempt(kind, True, "")
            log.info("delivered %r to %s (attempt %d)", files.title, label, attempt)
            return
        if on_attempt:
            on_attempt(kind, False, error)
        if permanent or attempt == attempts:
            log.error("giving up delivering %r to %s: %s", files.title, label, error)
            raise DeliveryError(f"{label}: {error}")
        log.warning("delivery to %s failed (attempt %d of %d): %s", label, attempt, attempts, error)
        sleep(backoff_s * 2 ** (attempt - 1))


def describe(target: Target) -> str:
    """Name a target for logs and errors, without its password or webhook path."""
    if isinstance(target, DirectoryTarget):
        return f"dir {target.path}"
    if isinstance(target, WebhookTarget):
        # A Slack or Discord webhook's path is its secret: name the host only.
        scheme, _, rest = target.url.partition("://")
        host = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
        return f"webhook {scheme}://{host}/..."
    return f"email smtp://{target.host}:{target.port} to {', '.join(target.to)}"


def slugify(title: str) -> str:
    """Turn a report title into a lowercase ASCII directory name."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "report"


def _kind(target: Target) -> str:
    if isinstance(target, DirectoryTarget):
        return "dir"
    return "webhook" if isinstance(target, WebhookTarget) else "email"


def _prepare(target: Target, files: ReportFiles) -> Callable[[], None]:
    """Read the report once and return the action that sends it."""
    try:
        if isinstance(target, DirectoryTarget):
            return lambda: _copy(target, files)
        if isinstance(target, WebhookTarget):
            body = json.dumps(_webhook_payload(files)).encode()
            return lambda: _post(target, body)
        message = build_message(target, files)
        return lambda: _send_mail(target, message)
    except (OSError, ValueError) as exc:
        raise _Permanent(f"cannot prepare the report: {exc}") from exc


def _copy(target: DirectoryTarget, files: ReportFiles) -> None:
    dest = target.path / slugify(files.title)
    dest.mkdir(parents=True, exist_ok=True)
    sources = {p.name: p for p in (files.html, files.json, files.csv)}
    sources.update({f"{name}{p.suffix}": p for name, p in files.images.items()})
    for name, source in sources.items():
        # Copy then rename, so whatever serves the directory never sees half a file.
        partial = dest / f".{name}.partial"
        shutil.copyfile(source, partial)
        partial.replace(dest / name)


def _webhook_payload(files: ReportFiles) -> dict[str, object]:
    return {
        "text": "\n".join([f"{files.title}: {files.headline}", *_link_lines(files)]),
        "title": files.title,
        "headline": files.headline,
        "report": json.loads(files.json.read_text(encoding="utf-8")),
    }


def _link_lines(files: ReportFiles) -> list[str]:
    return [f"{label}: {url}" for label, url in files.links.items()]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without the body and call that success.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _post(target: WebhookTarget, body: bytes) -> None:
    if not is_http_url(target.url):
        raise _Permanent("only http and https URLs are supported")
    request = urllib.request.Request(
        target.url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "clicktrail"},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=target.timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            detail = exc.read(200).decode("utf-8", "replace").strip()
        error = f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")
        if exc.code == 429 or exc.code >= 500:
            raise ConnectionError(error) from exc
        raise _Permanent(error) from exc


def build_message(target: EmailTarget, files: ReportFiles) -> EmailMessage:
    """Build the report e-mail: text and HTML with cid: images, the JSON and CSV attached."""
    message = EmailMessage()
    message["Subject"] = files.title
    message["From"] = target.sender
    message["To"] = ", ".join(target.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="clicktrail")
    message.set_content("\n\n".join([files.headline, "\n".join(_link_lines(files))]).strip())
    html, images = _inline_images(files.html.read_text(encoding="utf-8"))
    message.add_alternative(html, subtype="html")
    *_, html_part = message.iter_parts()  # the HTML alternative just added
    for n, (cid, subtype, data) in enumerate(images, 1):
        name = f"image{n}.{subtype.partition('+')[0]}"
        html_part.add_related(
            data, "image", subtype, cid=f"<{cid}>", disposition="inline", filename=name
        )
    message.add_attachment(files.json.read_bytes(), "application", "json", filename=files.json.name)
    message.add_attachment(files.csv.read_bytes(), "text", "csv", filename=files.csv.name)
    return message


def _inline_images(html: str) -> tuple[str, list[tuple[str, str, bytes]]]:
    """Swap data: images for cid: references, since many mail clients block data: URIs."""
    images: dict[str, tuple[str, str, bytes]] = {}  # base64 text -> (cid, subtype, bytes)

    def swap(match: re.Match[str]) -> str:
        subtype, encoded = match.groups()
        if encoded not in images:
            try:
                data = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                return match.group(0)
            images[encoded] = (make_msgid(domain="clicktrail")[1:-1], subtype, data)
        return f"cid:{images[encoded][0]}"

    return _DATA_IMAGE.sub(swap, html), list(images.values())


def _send_mail(target: EmailTarget, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    try:
        smtp = (
            smtplib.SMTP_SSL(target.host, target.port, timeout=target.timeout_s, context=context)
            if target.ssl
            else smtplib.SMTP(target.host, target.port, timeout=target.timeout_s)
        )
        with smtp:
            if target.starttls:
                smtp.starttls(context=context)
            if target.username:
                smtp.login(target.username, target.password)
            refused = smtp.send_message(message, target.sender, list(target.to))
    except smtplib.SMTPServerDisconnected:
        raise  # a dropped connection is worth a retry, unlike the SMTPExceptions below
    except smtplib.SMTPResponseException as exc:
        _raise_smtp(exc.smtp_code, f"SMTP {exc.smtp_code} {exc.smtp_error!r}", exc)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        _raise_smtp(min(codes), f"all recipients refused: {exc.recipients!r}", exc)
    except (smtplib.SMTPException, ssl.SSLCertVerificationError) as exc:
        raise _Permanent(f"{type(exc).__name__}: {exc}") from exc
    if refused:
        # The others have it already: a retry would send them a second copy.
        log.warning("report %r not delivered to %s", message["Subject"], refused)


def _raise_smtp(code: int, error: str, cause: Exception) -> NoReturn:
    # SMTP 4xx means "try again later"; 5xx means it will never work.
    if code >= 500:
        raise _Permanent(error) from cause
    raise ConnectionError(error) from cause


def is_http_url(url: str) -> bool:
    """Whether url is an absolute http or https URL with a host."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:  # or a malformed [IPv6] host
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", url)


def parse_target(
    raw: Mapping[str, object], where: str, *, environ: Mapping[str, str] | None = None
) -> Target:
    """Build a target from a clicktrail.toml table; where (e.g. "reports.daily.deliver[1]")
    prefixes every error. environ defaults to os.environ and supplies password_env."""
    table = _Table(raw, where)
    kind = table.text("type")
    if kind not in KINDS:
        table.fail("type", f"must be one of {', '.join(map(repr, KINDS))} (got {kind!r})")
    allowed = _KEYS[kind]
    for key in raw:
        if key not in allowed:
            table.fail(key, f"unknown key for {kind} targets (known: {', '.join(sorted(allowed))})")
    if kind == "dir":
        return DirectoryTarget(Path(table.text("path")).expanduser())
    if kind == "webhook":
        url = table.text("url")
        if not is_http_url(url):
            table.fail("url", "must be an http(s) URL")
        return WebhookTarget(url, table.number("timeout_s", 10.0))
    return _parse_email(table, os.environ if environ is None else environ)


_KEYS = {
    "dir": {"type", "path"},
    "webhook": {"type", "url", "timeout_s"},
    "email": set("type to from host port starttls ssl username password_env timeout_s".split()),
}


def _parse_email(table: _Table, environ: Mapping[str, str]) -> EmailTarget:
    to = table.raw.get("to")
    if not isinstance(to, list) or not all(isinstance(a, str) for a in to):
        table.fail("to", "must be a list of e-mail addresses")
    if not to:
        table.fail("to", "must list at least one address")
    for address in to:
        if not _ADDRESS.fullmatch(address):
            table.fail("to", f"{address!r} is not an e-mail address")
    sender = table.text("from")
    if not _ADDRESS.fullmatch(sender):
        table.fail("from", f"{sender!r} is not an e-mail address")
    use_ssl, starttls = table.flag("ssl"), table.flag("starttls")
    if use_ssl and starttls:
        table.fail("starttls", "cannot be combined with ssl = true (pick one)")
    # The usual port for each mode, so that ssl = true alone works.
    port = table.integer("port", 465 if use_ssl else 587 if starttls else 25, 1, 65535)
    username = table.text("username", required=False)
    password_env = table.text("password_env", required=False)
    if username and not password_env:
        table.fail("password_env", "required when username is set")
    if password_env and not username:
        table.fail("username", "required when password_env is set")
    password = environ.get(password_env, "") if password_env else ""
    if password_env and not password:
        table.fail("password_env", f"environment variable {password_env} is not set or empty")
    return EmailTarget(
        tuple(to),
        sender,
        table.text("host", default="localhost"),
        port,
        starttls,
        use_ssl,
        username,
        password,
        table.number("timeout_s", 30.0),
    )


class _Table:
    """Typed reads from one TOML table; every error names where.key."""

    def __init__(self, raw: Mapping[str, object], where: str) -> None:
        if not isinstance(raw, Mapping):
            raise ValueError(f'{where}: must be a table, like {{type = "dir", path = "reports"}}')
        self.raw, self.where = raw, where

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ValueError(f"{self.where}.{key}: {problem}")

    def text(self, key: str, *, default: str | None = None, required: bool = True) -> str:
        value = self.raw.get(key, default)
        if value is None:
            if required:
                self.fail(key, "required")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be a non-empty string")
        return value

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            self.fail(key, "must be true or false")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, f"must be a whole number from {low} to {high}")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, "must be a number of seconds")
        if not (math.isfinite(value) and value > 0):
            self.fail(key, "must be more than 0 seconds")
        return float(value)
