"""Journey-map benchmark (issue 17): the open map (5 steps, top 5 rows, reloads merged) and the
A-to-B bins from /product/* to /thanks, over the peers' synthetic clickstream, side by side in
one run for (a) clicktrail's engine on its stored session layout, in memory and loaded from a
real Redis, (b) DuckDB (window functions on an in-memory table) and (c) chDB (one array per
visit on a Memory table with LowCardinality paths), the SQL engines at their default threads (2
here) and at 1.

    .venv/bin/python bench/journeys.py [--ns 1000000,10000000] [--reps 3]
        [--engines clicktrail,clicktrail_redis,duckdb,duckdb_t1,chdb,chdb_t1]
    .venv/bin/python bench/journeys.py --smoke     # CI: every engine once at 20k events

The data, the session layout and the peers' venv are bench/funnel.py's (bench-out/funnel,
made when missing); the visits are the peers' session ids as they are. Every engine runs in its
own process, which loads once and times --reps queries; peak RSS is that process's. clicktrail
is timed three ways: the engine alone on visits already mapped; the query from the SessionTable
in memory (mapping rows to page templates, then the engine), which is what the peers' times
compare with, their tables being in memory too; and the same after reading the sessions back
from the embedded Redis (reports.sessions.reader.load_sessions), where a process of its own
first wrote the closed-session day logs and vocabulary the way the worker files them. The Redis
server's own memory is not in any RSS. The peers run bench/journeys_peers.py, which imports
nothing of clicktrail and states the rules every engine follows. Fails when any counts differ.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import redis
from funnel import OUT as DATA
from funnel import (
    TABLE_HEAD,
    Line,
    against_peers,
    bench_args,
    build_layout,
    child_result,
    load_table,
    median,
    npy,
    peer_lines,
    print_lines,
)
from funnel_peers import repeat
from journeys_peers import A_PREFIX, B_PATH, BINS, ROWS, STEPS, Counts, counts_of
from redis.typing import EncodableT, FieldT

from collector import keys
from collector.embedded import EmbeddedRedis, socket_path_for
from collector.pages import PageTemplates
from collector.sites import new_site
from reports.analyses.journey_visits import visits_from_table
from reports.analyses.journeys import (
    BoolArray,
    JourneyMap,
    JourneyQuery,
    Visits,
    map_journeys,
)
from reports.analyses.paths import AToB, find_paths
from reports.analyses.steps import parse_step
from reports.sessions.builder import split_by_day
from reports.sessions.layout import NAV_ROW, SESSION_ROW, Closed, SessionTable
from reports.sessions.reader import load_sessions
from reports.sessions.touches import DIRECT

OUT = Path(__file__).resolve().parent.parent / "bench-out" / "journeys"
PEERS_MODULE = Path(__file__).resolve().parent / "journeys_peers.py"
REDIS_DIR = OUT / "redis"
SITE = new_site("bench", ["https://bench.example"])
ENGINES = ("clicktrail", "clicktrail_redis", "duckdb", "duckdb_t1", "chdb", "chdb_t1")
START, END = parse_step(A_PREFIX + "*"), parse_step(B_PATH)
SMOKE_N = 20_000  # events: a few hundred visits still reach /thanks, so every bin is compared

Result = dict[str, Any]


# --- (a) clicktrail ------------------------------------------------------------------------------


def visits_of(table: SessionTable, templates: PageTemplates) -> tuple[Visits, BoolArray, BoolArray]:
    """Every session of the table as a visit, and per row whether it matches A and B."""
    rows = visits_from_table(table, templates, np.arange(len(table.offsets) - 1))
    return rows.visits, rows.matching(table, START), rows.matching(table, END)


def counts_of_map(result: JourneyMap, paths: AToB) -> Counts:
    if [(b.min, b.max) for b in paths.between] != list(BINS):
        raise RuntimeError(f"clicktrail bins {paths.between} are not the peers' {BINS}")
    nodes = [
        [node.id, node.visits, node.ends, node.beyond, node.repeats]
        for column in result.columns
        for node in column.nodes
    ]
    edges = [[edge.source, edge.target, edge.visits] for edge in result.edges]
    bins = [b.visits for b in paths.between]
    return counts_of(nodes, edges, [paths.visits_with_start, paths.reached_end, *bins])


def journeys(table: SessionTable, templates: PageTemplates) -> Counts:
    """The whole query from a SessionTable: rows to visits, the map, the A-to-B bins."""
    return engine(*visits_of(table, templates))


def engine(visits: Visits, start: BoolArray, end: BoolArray) -> Counts:
    result = map_journeys(visits, JourneyQuery(steps=STEPS, rows=ROWS))
    return counts_of_map(result, find_paths(visits, start, end))


def query_ours(n: int, reps: int) -> Result:
    table = load_table(n)
    templates = PageTemplates()
    visits = visits_of(table, templates)
    return {
        "engine": repeat(lambda: engine(*visits), reps),
        "query": repeat(lambda: journeys(table, templates), reps),
    }


# --- (a') clicktrail, reading the sessions from Redis ---------------------------------------------


def redis_client() -> redis.Redis:
    return redis.Redis(unix_socket_path=str(socket_path_for(REDIS_DIR)))


def file_sessions(n: int) -> Result:
    """What the worker's sweep leaves in Redis: the shard vocabulary and the day logs."""
    table = load_table(n)
    paths = [entry[2:] for entry in table.vocab]
    vocab: dict[FieldT, EncodableT] = {f"p:{p}": i + 1 for i, p in enumerate(paths)}  # from 1: INCR
    direct = vocab[f"s:{DIRECT}"] = len(vocab) + 1
    sessions = np.zeros(len(table.start), SESSION_ROW)
    sessions["start"], sessions["end"] = table.start, table.ts[table.offsets[1:] - 1]
    sessions["visitor"], sessions["rows"] = table.visitor, np.diff(table.offsets)
    sessions["clicks"], sessions["band"] = np.diff(table.click_offsets), table.band
    sessions["source"] = direct
    nav = np.zeros(len(table.ts), NAV_ROW)
    nav["ts"], nav["item"] = table.ts, table.item + 1
    by_day = split_by_day(Closed(sessions, nav, table.clicks))
    client = redis_client()
    client.flushall()
    client.hset(keys.session_vocabulary(SITE.name, 0), mapping=vocab)
    for day, part in by_day.items():
        for name in ("sessions", "nav", "clicks"):
            client.set(keys.session_log(SITE.name, 0, day, name), getattr(part, name).tobytes())
    client.close()
    return {"days": len(by_day)}


def query_ours_redis(n: int, reps: int) -> Result:
    ts = np.load(npy(n, "ts"))
    first, last = int(ts.min()), int(ts.max())
    del ts
    client = redis_client()
    templates = PageTemplates()

    def loaded() -> Counts:
        table = load_sessions(client, SITE, first, last + 1, window_ms=0)
        return journeys(table, templates)

    return {"query": repeat(loaded, reps)}


# --- processes -----------------------------------------------------------------------------------


def child(what: str, n: int, reps: int) -> None:
    """Ours only: the peers run bench/journeys_peers.py, which their venv can import."""
    if what == "layout":
        result = build_layout(n)
    elif what == "file_sessions":
        result = file_sessions(n)
    elif what == "clicktrail":
        result = query_ours(n, reps)
    elif what == "clicktrail_redis":
        result = query_ours_redis(n, reps)
    else:
        raise SystemExit(f"unknown engine {what!r}")
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(what: str, n: int, reps: int) -> Result:
    return child_result(__file__, PEERS_MODULE, DATA, what, n, reps)


def steps_of(engines: list[str]) -> list[str]:
    """The processes to run for these engines, the layout and the filing first."""
    ours = [e for e in engines if e.startswith("clicktrail")]
    before = ["layout"] if ours else []
    before += ["file_sessions"] if "clicktrail_redis" in ours else []
    return [*before, *engines]


def run_all(args: argparse.Namespace) -> dict[int, dict[str, Result]]:
    results: dict[int, dict[str, Result]] = {}
    server = None
    if "clicktrail_redis" in args.engines:
        shutil.rmtree(REDIS_DIR, ignore_errors=True)
        server = EmbeddedRedis(REDIS_DIR, fsync="no").ensure()
    try:
        for n in args.ns:
            results[n] = {}
            for what in steps_of(args.engines):
                results[n][what] = run_child(what, n, args.reps)
                print(f"N={n:,} {what}: done", file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
    return results


# --- report --------------------------------------------------------------------------------------


def lines_of(found: dict[str, Result]) -> list[Line]:
    """(label, engine, {runs_s, counts}, load s) per line of the table, ours first."""
    lines: list[Line] = []
    if "clicktrail" in found:
        lines.append(("clicktrail query", "clicktrail", found["clicktrail"]["query"], None))
        lines.append(("clicktrail engine only", "clicktrail", found["clicktrail"]["engine"], None))
    if "clicktrail_redis" in found:
        redis_runs = found["clicktrail_redis"]["query"]
        lines.append(("clicktrail + Redis load", "clicktrail_redis", redis_runs, None))
    return lines + peer_lines(found)


def summary(counts: Counts) -> str:
    totals: dict[str, int] = {}
    for node_id, visits, *_ in counts["nodes"]:
        step = node_id.partition(":")[0]
        totals[step] = totals.get(step, 0) + visits
    with_start, reached, bins = counts["paths"]
    return (
        f"{len(counts['nodes'])} nodes, {len(counts['edges'])} edges, visits per column "
        f"{list(totals.values())}; A-to-B {with_start:,} with A, {reached:,} reach B, bins {bins}"
    )


def report(results: dict[int, dict[str, Result]], reps: int) -> list[str]:
    """Prints the table; returns the count mismatches."""
    print(
        f"\nJourney map (open, {STEPS} steps, top {ROWS}, reloads merged) + A-to-B bins "
        f"({A_PREFIX}* -> {B_PATH}); seconds, median of {reps} runs in one process per engine\n"
        "(all runs listed, first one first); visits are the peers' session ids as they are;\n"
        "vs ours = the engine's median / clicktrail query's (above 1: slower than ours)"
    )
    print(TABLE_HEAD)
    mismatches = []
    for n, found in results.items():
        lines = lines_of(found)
        ours = median(found["clicktrail"]["query"]) if "clicktrail" in found else None
        print_lines(n, found, lines, ours)
        counts = {label: json.dumps(runs["counts"]) for label, _, runs, _ in lines}
        same = len(set(counts.values())) == 1
        verdict = "identical in all engines" if same else "DIFFER between engines"
        print(f"{'':<27}{summary(lines[0][2]['counts'])}: {verdict}")
        if "layout" in found:
            layout = found["layout"]
            print(
                f"{'':<27}layout build (sessionize + SessionTable, at ingest): "
                f"{layout['layout_s']:.3f} s for {layout['rows']:,} rows in "
                f"{layout['sessions']:,} sessions"
            )
        if not same:
            differ = [label for label, text in counts.items() if text != counts[lines[0][0]]]
            mismatches.append(f"N={n:,}: {', '.join(differ)} differ from {lines[0][0]}")
    return mismatches


def print_targets(results: dict[int, dict[str, Result]]) -> None:
    found = results.get(10_000_000, {})
    if "clicktrail" not in found or "chdb" not in found or "duckdb" not in found:
        print("\ntargets at 10M: not measured in this run")
        return
    ours, peer = median(found["clicktrail"]["query"]), median(found["chdb"]["query"])
    rss, duck_rss = found["clicktrail"]["rss_mb"], found["duckdb"]["rss_mb"]
    print(
        f"\ntarget: clicktrail query <= chDB (2 threads) at 10M: {ours:.3f} s vs {peer:.3f} s, "
        f"{'MET' if ours <= peer else 'MISSED'}\n"
        f"target: clicktrail peak RSS < DuckDB's at 10M: {rss:.0f} MB vs {duck_rss:.0f} MB, "
        f"{'MET' if rss < duck_rss else 'MISSED'}"
    )


def main() -> None:
    args = bench_args(__doc__, ENGINES, SMOKE_N)
    if args.child:
        child(args.child, args.ns[0], args.reps)
        return
    against_peers(args, OUT, run_all, report, print_targets)


if __name__ == "__main__":
    main()
