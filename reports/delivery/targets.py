"""Where a finished report goes: a folder, a webhook or e-mail; and the report's files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

TARGET_KINDS = ("dir", "email", "webhook")


@dataclass(frozen=True)
class ReportFiles:
    title: str
    headline: str
    html: Path  # self-contained: its images are inline data: URIs
    json: Path
    csv: Path
    images: dict[str, Path]
    links: dict[str, str] = field(default_factory=dict)  # label -> URL
    text: str = ""  # plain-text sections after the headline in the e-mail's text part


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


class PermanentError(Exception):
    """A failure that a retry will not fix, such as a 4xx reply or a rejected recipient."""


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


def target_kind(target: Target) -> str:
    """'dir', 'webhook' or 'email': how /metrics counts a target's attempts."""
    if isinstance(target, DirectoryTarget):
        return "dir"
    return "webhook" if isinstance(target, WebhookTarget) else "email"


def link_lines(files: ReportFiles) -> list[str]:
    return [f"{label}: {url}" for label, url in files.links.items()]
