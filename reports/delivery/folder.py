"""Delivering a report to a folder: one subfolder per report title, files swapped in whole."""

from __future__ import annotations

import re
import shutil
import unicodedata

from reports.delivery.targets import DirectoryTarget, ReportFiles


def slugify(title: str) -> str:
    """Turn a report title into a lowercase ASCII directory name."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "report"


def copy_to_folder(target: DirectoryTarget, files: ReportFiles) -> None:
    dest = target.path / slugify(files.title)
    dest.mkdir(parents=True, exist_ok=True)
    sources = {p.name: p for p in (files.html, files.json, files.csv)}
    sources.update({f"{name}{p.suffix}": p for name, p in files.images.items()})
    for name, source in sources.items():
        # Copy then rename, so whatever serves the directory never sees half a file.
        partial = dest / f".{name}.partial"
        shutil.copyfile(source, partial)
        partial.replace(dest / name)
