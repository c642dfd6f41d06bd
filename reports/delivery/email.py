"""Delivering a report by e-mail: text and HTML with its images inline, JSON and CSV attached."""

from __future__ import annotations

import base64
import binascii
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import NoReturn

from reports.delivery.targets import EmailTarget, PermanentError, ReportFiles, link_lines

log = logging.getLogger(__name__)

_DATA_IMAGE = re.compile(r"data:image/([a-z0-9.+-]+);base64,([A-Za-z0-9+/=]+)")


def build_message(target: EmailTarget, files: ReportFiles) -> EmailMessage:
    """Build the report e-mail: text and HTML with cid: images, the JSON and CSV attached."""
    message = EmailMessage()
    message["Subject"] = files.title
    message["From"] = target.sender
    message["To"] = ", ".join(target.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="clicktrail")
    parts = [files.headline, files.text, "\n".join(link_lines(files))]
    message.set_content("\n\n".join(part for part in parts if part))
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


def send_mail(target: EmailTarget, message: EmailMessage) -> None:
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
        raise PermanentError(f"{type(exc).__name__}: {exc}") from exc
    if refused:
        # The others have it already: a retry would send them a second copy.
        log.warning("report %r not delivered to %s", message["Subject"], refused)


def _raise_smtp(code: int, error: str, cause: Exception) -> NoReturn:
    # SMTP 4xx means "try again later"; 5xx means it will never work.
    if code >= 500:
        raise PermanentError(error) from cause
    raise ConnectionError(error) from cause
