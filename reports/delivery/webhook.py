"""Delivering a report to a webhook: one JSON POST (Slack and Discord read its `text`)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

from reports.delivery.targets import PermanentError, ReportFiles, WebhookTarget, link_lines


def webhook_payload(files: ReportFiles) -> dict[str, object]:
    return {
        "text": "\n".join([f"{files.title}: {files.headline}", *link_lines(files)]),
        "title": files.title,
        "headline": files.headline,
        "report": json.loads(files.json.read_text(encoding="utf-8")),
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without the body and call that success.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def post_report(target: WebhookTarget, body: bytes) -> None:
    if not is_http_url(target.url):
        raise PermanentError("only http and https URLs are supported")
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
        raise PermanentError(error) from exc


def is_http_url(url: str) -> bool:
    """Whether url is an absolute http or https URL with a host."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:  # or a malformed [IPv6] host
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", url)
