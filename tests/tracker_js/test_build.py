"""The shipped snippet: built from its source, within its size budget, with no dependencies."""

from __future__ import annotations

import gzip
import json
import re
import shlex
import subprocess
from pathlib import Path

from collector.pages import BAND_EDGES_PX
from tracker_js import SNIPPET_PATH

ROOT = SNIPPET_PATH.parent
BUDGET_GZIP_BYTES = 3584  # 3.5 KB


def test_the_snippet_stays_within_3_5_kb_gzipped() -> None:
    size = len(gzip.compress(SNIPPET_PATH.read_bytes(), compresslevel=9))
    assert size <= BUDGET_GZIP_BYTES, f"t.js is {size} bytes gzipped, over {BUDGET_GZIP_BYTES}"


def test_the_snippet_has_no_dependencies_and_one_global() -> None:
    code = SNIPPET_PATH.read_text()
    assert "import" not in code and "require(" not in code
    assert code.count("window.clicktrail=") >= 1
    assert "document.cookie" not in code


def test_the_committed_t_js_is_the_build_of_the_source(tmp_path: Path) -> None:
    # scripts/test runs `npm ci` in tracker_js/, so terser is there
    build = json.loads((ROOT / "package.json").read_text())["scripts"]["build"]
    argv = shlex.split(build.replace("--output t.js", f"--output {tmp_path / 't.js'}"))
    argv[0] = str(ROOT / "node_modules" / ".bin" / argv[0])
    subprocess.run(argv, cwd=ROOT, check=True, timeout=60)
    assert (tmp_path / "t.js").read_bytes() == SNIPPET_PATH.read_bytes(), (
        "t.js is stale: run tracker_js/build.sh and commit t.js"
    )


def test_the_snippets_device_bands_are_the_collectors() -> None:
    # The snippet keeps its own copy of the band edges (it cannot import Python): they must agree.
    source = (ROOT / "src" / "clicktrail.js").read_text()
    found = re.search(r'width < (\d+) \? "mobile" : width < (\d+) \? "tablet" : "desktop"', source)
    assert found, "the snippet's device class is no longer written as expected"
    assert tuple(int(edge) for edge in found.groups()) == BAND_EDGES_PX
