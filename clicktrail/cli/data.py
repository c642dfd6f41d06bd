"""The data folder rule: `serve`, `demo` and `site add` may make the data folder; every other
command needs one that exists, so that a command run from the wrong folder does not quietly
start an empty Redis there."""

from __future__ import annotations

from pathlib import Path

from clicktrail.cli.errors import Unavailable
from collector.settings import DATA_FOLDER, Settings, user_data_dir


def check_data_dir(settings: Settings, may_create: bool) -> None:
    """Raise Unavailable, saying where it looked, when the embedded Redis has no folder."""
    if settings.redis_url or may_create or settings.data_dir.is_dir():
        return
    hint = (
        "start with `clicktrail serve` or `clicktrail site add`, or point at your data with "
        "--data-dir DIR or CLICKTRAIL_DATA"
    )
    if settings.data_dir != user_data_dir():
        raise Unavailable(f"no data folder at {settings.data_dir}; {hint}")
    raise Unavailable(
        f"no clicktrail data: no {DATA_FOLDER}/ in {Path.cwd()} or a parent folder, "
        f"and no {settings.data_dir}; {hint}"
    )
