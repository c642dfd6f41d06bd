"""`python -m clicktrail.cli` as a user runs it: its own process, a working folder, and an
environment without the test run's Redis or settings, whose home is a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def user_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "REDIS_URL" and k != "XDG_DATA_HOME" and not k.startswith("CLICKTRAIL_")
    }
    return {**env, "HOME": str(home), **extra}


def clicktrail(
    *argv: str, cwd: Path, env: dict[str, str], timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clicktrail.cli", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
