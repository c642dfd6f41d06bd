"""Deliver a finished report to its target, retrying transient failures with backoff."""

from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Callable

from reports.delivery.email import build_message, send_mail
from reports.delivery.folder import copy_to_folder
from reports.delivery.targets import (
    DeliveryError,
    DirectoryTarget,
    PermanentError,
    ReportFiles,
    Target,
    WebhookTarget,
    describe,
    target_kind,
)
from reports.delivery.webhook import post_report, webhook_payload

log = logging.getLogger(__name__)

# OSError covers sockets, timeouts, urllib and smtplib; http.client's errors for a garbled or
# cut-off reply are not OSErrors, and a retry may fix them too.
_TRANSIENT = (OSError, http.client.HTTPException)


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
    kind, label = target_kind(target), describe(target)
    send: Callable[[], None] | None = None
    for attempt in range(1, attempts + 1):
        permanent = False
        try:
            send = send or _prepare(target, files)
            send()
        except PermanentError as exc:
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


def _prepare(target: Target, files: ReportFiles) -> Callable[[], None]:
    """Read the report once and return the action that sends it."""
    try:
        if isinstance(target, DirectoryTarget):
            return lambda: copy_to_folder(target, files)
        if isinstance(target, WebhookTarget):
            body = json.dumps(webhook_payload(files)).encode()
            return lambda: post_report(target, body)
        message = build_message(target, files)
        return lambda: send_mail(target, message)
    except (OSError, ValueError) as exc:
        raise PermanentError(f"cannot prepare the report: {exc}") from exc
