"""The browser snippet. `t.js` is the file that `GET /t.js` serves."""

from __future__ import annotations

from pathlib import Path

SNIPPET_PATH = Path(__file__).parent / "t.js"
