"""Funnel benchmark: a 4-step ordered funnel (/product/* -> /cart -> /checkout -> /thanks, 30-minute
window) over the peers' synthetic clickstream, side by side in one run for (a) clicktrail's engine
on its stored session layout, (b) DuckDB (an ASOF-join chain on an in-memory table) and (c) chDB
(windowFunnel on a Memory table with LowCardinality paths), the SQL engines at their default
threads (2 here) and at 1.

    .venv/bin/python bench/funnel.py [--ns 1000000,10000000] [--reps 3]
                                     [--engines clicktrail,duckdb,duckdb_t1,chdb,chdb_t1]
    .venv/bin/python bench/funnel.py --smoke     # CI: every engine once at 20k events

The data comes from the peers' gen_clickstream.py (bench-out/funnel, generated when missing).
We keep the peers' session ids as they are (gap and maximum length set out of reach): their
sessions contain 20-120 minute gaps, and the funnel must count the same sessions as the peers.
Every engine runs in its own process, which loads once and times --reps queries (all are
printed: the first is slower, memory first-touch on this VM); peak RSS is that process's.
clicktrail's layout (sessionize + SessionTable, what the worker does at ingest) is built in a
process of its own, timed once and saved; the query processes load it. The peers live in
bench-out/peers-venv (created or completed on first use) and run bench/funnel_peers.py, which
imports nothing of clicktrail. The peers' folder (shared/peers) sits beside the repo. Fails when
any counts differ.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from funnel_peers import PEER_ENGINES, STEPS, WINDOW_MS, repeat

from reports.analyses.funnel import match_steps, session_units
from reports.analyses.funnel_table import FunnelQuery, compute_funnel
from reports.analyses.steps import page_mask, parse_steps, step_matrix
from reports.sessions.layout import (
    KIND_PAGE,
    OPEN_ROW,
    SessionTable,
    offsets_of,
    sessionize,
)

ROOT = Path(__file__).resolve().parent.parent

OUT = ROOT / "bench-out" / "funnel"
PEERS_DIR = ROOT.parent / "shared" / "peers"  # gen_clickstream.py, seed 7; beside the repo
PEERS_MODULE = Path(__file__).resolve().parent / "funnel_peers.py"
PEERS_VENV = ROOT / "bench-out" / "peers-venv"
PEERS_PYTHON = PEERS_VENV / "bin" / "python"
PEERS_PACKAGES = (f"numpy=={np.__version__}", "pyarrow==26.0.1", "duckdb==2.0.0", "chdb==4.4.0")
PEERS_CHECK = "import pyarrow, duckdb, chdb"

KEEP_SESSIONS_MS = 1 << 62  # gap_ms and max_ms out of reach: the peers' session ids stay whole
DESKTOP = 2
ENGINES = ("clicktrail", "duckdb", "duckdb_t1", "chdb", "chdb_t1")
CHILD_TIMEOUT_S = 900
SMOKE_N = 20_000  # events: a few dozen sessions still reach step 4, so the counts are compared

Result = dict[str, Any]


# --- data --------------------------------------------------------------------------------------


def npy(n: int, column: str) -> Path:
    return OUT / f"events_{n}_{column}.npy"


def ensure_data(ns: list[int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    missing = [n for n in ns if not (OUT / f"events_{n}.parquet").exists()]
    if missing:
        print(f"generating the clickstream for N={missing} ...", file=sys.stderr)
        generate = [str(PEERS_PYTHON), str(PEERS_DIR / "gen_clickstream.py"), "--n"]
        subprocess.run([*generate, *map(str, missing), "--out-dir", str(OUT)], check=True)


def ensure_peers_venv() -> None:
    """bench-out/peers-venv with pyarrow, DuckDB and chDB at the versions of the peers' README
    (the heatmap benchmark shares this venv and adds its own packages)."""
    check = [str(PEERS_PYTHON), "-c", PEERS_CHECK]
    if PEERS_PYTHON.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return
    print(f"installing {', '.join(PEERS_PACKAGES)} into {PEERS_VENV} ...", file=sys.stderr)
    if not PEERS_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    pip = [str(PEERS_PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *PEERS_PACKAGES], check=True)
    subprocess.run(check, check=True)


# --- (a) clicktrail ------------------------------------------------------------------------------


def build_layout(n: int) -> Result:
    """The worker's part: page-view records to sessions and a SessionTable, saved for the query
    processes. Timed: sessionize and the table's columns, not filling the records."""
    session_id = np.load(npy(n, "session_id"))
    rows = np.zeros(len(session_id), OPEN_ROW)
    rows["ts"] = np.load(npy(n, "ts"))
    rows["item"] = np.load(npy(n, "path_id"))
    rows["kind"], rows["band"] = KIND_PAGE, DESKTOP
    start = time.perf_counter()
    closed = sessionize(rows, session_id, gap_ms=KEEP_SESSIONS_MS, max_ms=KEEP_SESSIONS_MS)
    sessions = closed.sessions
    columns: dict[str, Any] = {
        "offsets": offsets_of(sessions["rows"]),
        "ts": np.ascontiguousarray(closed.nav["ts"]),
        "item": np.ascontiguousarray(closed.nav["item"]),
        "start": np.ascontiguousarray(sessions["start"]),
        "band": np.ascontiguousarray(sessions["band"]),
        "source": np.ascontiguousarray(sessions["source"]),
        "visitor": np.ascontiguousarray(sessions["visitor"]),
        "click_offsets": offsets_of(sessions["clicks"]),
    }
    layout_s = time.perf_counter() - start
    np.savez(OUT / f"table_{n}.npz", clicks=closed.clicks, **columns)
    return {"layout_s": layout_s, "sessions": len(sessions), "rows": len(closed.nav)}


def load_table(n: int) -> SessionTable:
    vocab = ["p:" + path for path in json.loads((OUT / "paths.json").read_text())]
    with np.load(OUT / f"table_{n}.npz") as saved:
        columns = {name: saved[name] for name in saved.files}
    is_open = np.zeros(len(columns["start"]), dtype=bool)  # the peers' sessions are all closed
    return SessionTable(vocab=vocab, sources=["(direct)"], open=is_open, **columns)


def query_ours(n: int, reps: int) -> Result:
    """match_steps alone (units, step matrix and the pass; both cores, then one), then the whole
    compute_funnel."""
    table = load_table(n)
    steps = parse_steps(STEPS)
    first, last = int(table.ts.min()), int(table.ts.max())
    span: dict[str, Any] = {"start_ms": first, "end_ms": last + 1, "now_ms": last + 10 * WINDOW_MS}

    def engine(threads: int | None = None) -> list[int]:
        outcome = match_steps(
            session_units(table),
            step_matrix(steps, table.vocab),
            page_mask(table.vocab),
            window_ms=WINDOW_MS,
            threads=threads,
            **span,
        )
        return [int((outcome.level >= k).sum()) for k in range(1, len(STEPS) + 1)]

    query = FunnelQuery(patterns=STEPS, window_ms=WINDOW_MS, **span)

    def whole() -> list[int]:
        result, _, _ = compute_funnel(table, query)
        return [int(step["entered"]) for step in result["steps"]]

    return {
        "run_funnel": repeat(engine, reps),
        "run_funnel_t1": repeat(lambda: engine(threads=1), reps),
        "compute_funnel": repeat(whole, reps),
    }


# --- processes -----------------------------------------------------------------------------------


def child(what: str, n: int, reps: int) -> None:
    """Ours only: the peers run bench/funnel_peers.py, which their venv can import."""
    if what == "layout":
        result = build_layout(n)
    elif what == "clicktrail":
        result = query_ours(n, reps)
    else:
        raise SystemExit(f"unknown engine {what!r}")
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(what: str, n: int, reps: int) -> Result:
    return child_result(__file__, PEERS_MODULE, OUT, what, n, reps)


def child_result(
    script: str, peers_module: Path, data: Path, what: str, n: int, reps: int
) -> Result:
    """One engine's run in a process of its own: a peer in the peers' venv over
    data/events_N.parquet, else `script --child WHAT`; its last line of output, as JSON."""
    if what in PEER_ENGINES:
        parquet = data / f"events_{n}.parquet"
        argv = [str(PEERS_PYTHON), str(peers_module), what, str(parquet), "--reps", str(reps)]
    else:
        argv = [sys.executable, script, "--child", what, "--ns", str(n), "--reps", str(reps)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    result: Result = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_all(args: argparse.Namespace) -> dict[int, dict[str, Result]]:
    results: dict[int, dict[str, Result]] = {}
    for n in args.ns:
        results[n] = {}
        for what in ("layout", *args.engines) if "clicktrail" in args.engines else args.engines:
            results[n][what] = run_child(what, n, args.reps)
            print(f"N={n:,} {what}: done", file=sys.stderr)
    return results


# --- report --------------------------------------------------------------------------------------


def rows_of(found: dict[str, Result]) -> list[Line]:
    """(label, engine, {runs_s, counts}, load s) per line of the table, ours first."""
    lines: list[Line] = []
    if "clicktrail" in found:
        ours = found["clicktrail"]
        lines.append(("clicktrail run_funnel", "clicktrail", ours["run_funnel"], None))
        if "run_funnel_t1" in ours:
            lines.append(("clicktrail (1 thread)", "clicktrail", ours["run_funnel_t1"], None))
        lines.append(("clicktrail compute_funnel", "clicktrail", ours["compute_funnel"], None))
    return lines + peer_lines(found)


Line = tuple[str, str, Result, float | None]  # label, engine, {runs_s, counts}, load s
TABLE_HEAD = (
    f"{'engine':<27}{'N':>12}{'median s':>10}{'vs ours':>9}{'RSS MB':>8}{'load s':>8}   runs s"
)


def peer_lines(found: dict[str, Result]) -> list[Line]:
    """The table's lines of the peers that ran, in PEER_ENGINES order."""
    lines: list[Line] = []
    for name in PEER_ENGINES:
        if name in found:
            label = name.replace("_t1", " (1 thread)") if "_t1" in name else f"{name} (2 threads)"
            lines.append((label, name, found[name]["query"], found[name]["load_s"]))
    return lines


def median(runs: Result) -> float:
    return float(statistics.median(runs["runs_s"]))


def print_lines(n: int, found: dict[str, Result], lines: list[Line], ours: float | None) -> None:
    """One table line per engine: median, ratio to ours, peak RSS, load time, every run."""
    for label, engine, runs, load_s in lines:
        rss = found[engine]["rss_mb"]
        ratio = "" if ours is None else f"{median(runs) / ours:.2f}x"
        load = "" if load_s is None else f"{load_s:.3f}"
        print(
            f"{label:<27}{n:>12,}{median(runs):>10.3f}{ratio:>9}{rss:>8.0f}{load:>8}   "
            + ", ".join(f"{s:.3f}" for s in runs["runs_s"])
        )


def report(results: dict[int, dict[str, Result]], reps: int) -> list[str]:
    """Prints the table; returns the count mismatches."""
    print(
        f"\nOrdered funnel {' -> '.join(STEPS)}, window {WINDOW_MS // 60_000} min; seconds, "
        f"median of {reps} runs in one process per engine (all runs listed, first one first);\n"
        "sessions are the peers' session ids as they are (clicktrail's 30-min gap not applied);\n"
        "vs ours = the engine's median / clicktrail run_funnel's (above 1: slower than ours)"
    )
    print(TABLE_HEAD)
    mismatches = []
    for n, found in results.items():
        lines = rows_of(found)
        ours = median(found["clicktrail"]["run_funnel"]) if "clicktrail" in found else None
        print_lines(n, found, lines, ours)
        counts = {label: runs["counts"] for label, _, runs, _ in lines}
        same = len({str(c) for c in counts.values()}) == 1
        verdict = "identical in all engines" if same else "DIFFER between engines"
        print(f"{'':<27}counts >=1, >=2, >=3, >=4: {next(iter(counts.values()))} {verdict}")
        if "layout" in found:
            layout = found["layout"]
            print(
                f"{'':<27}layout build (sessionize + SessionTable, at ingest): "
                f"{layout['layout_s']:.3f} s for {layout['rows']:,} rows in "
                f"{layout['sessions']:,} sessions, RSS {layout['rss_mb']:.0f} MB"
            )
        if not same:
            mismatches.append(f"N={n:,}: {counts}")
    return mismatches


def print_target(results: dict[int, dict[str, Result]]) -> None:
    found = results.get(10_000_000, {})
    if "clicktrail" not in found or "chdb" not in found:
        print("\ntarget: clicktrail <= chDB on its own table at 10M (not measured in this run)")
        return
    ours, peer = median(found["clicktrail"]["run_funnel"]), median(found["chdb"]["query"])
    verdict = "MET" if ours <= peer else "MISSED"
    print(
        f"\ntarget: clicktrail <= chDB on its own table at 10M "
        f"(measured {ours:.3f} s vs {peer:.3f} s: {verdict})"
    )


def bench_args(doc: str | None, engines: tuple[str, ...], smoke_n: int) -> argparse.Namespace:
    """The command line every engine-against-peers benchmark takes (this one and journeys.py):
    sizes, repetitions, engines, the smoke run, and the internal --child."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--ns", default="1000000,10000000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--engines", default=",".join(engines))
    parser.add_argument(
        "--smoke", action="store_true", help=f"1 run of every engine at N={smoke_n:,} (CI)"
    )
    parser.add_argument("--child", help="internal: layout or one engine, in its own process")
    args = parser.parse_args()
    if args.smoke:
        args.ns, args.reps = str(smoke_n), 1
    args.ns = [int(n) for n in args.ns.split(",")]
    args.engines = args.engines.split(",")
    unknown = set(args.engines) - set(engines)
    if unknown and not args.child:
        parser.error(f"unknown engines {sorted(unknown)}; choose from {', '.join(engines)}")
    return args


def against_peers(
    args: argparse.Namespace,
    out: Path,
    run: Callable[[argparse.Namespace], dict[int, dict[str, Result]]],
    report: Callable[[dict[int, dict[str, Result]], int], list[str]],
    targets: Callable[[dict[int, dict[str, Result]]], None],
    ensure: Callable[[list[int]], None] = ensure_data,
) -> None:
    """What every engine-against-peers benchmark does once its engines are chosen: the peers'
    venv and the data (`ensure`: the peers' clickstream unless told), every engine's runs, the
    table, the targets; fails when counts differ."""
    if not PEERS_DIR.is_dir():  # before the peers' install, which takes a minute
        raise SystemExit(f"{PEERS_DIR} not found: the peers' folder goes beside the repo")
    ensure_peers_venv()
    out.mkdir(parents=True, exist_ok=True)
    ensure(args.ns)
    results = run(args)
    (out / "results.json").write_text(json.dumps({"results": results, "args": vars(args)}))
    mismatches = report(results, args.reps)
    targets(results)
    if mismatches:
        raise SystemExit("counts differ between engines:\n" + "\n".join(mismatches))


def main() -> None:
    args = bench_args(__doc__, ENGINES, SMOKE_N)
    if args.child:
        child(args.child, args.ns[0], args.reps)
        return
    against_peers(args, OUT, run_all, report, print_target)


if __name__ == "__main__":
    main()
