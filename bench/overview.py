"""Traffic overview benchmark (issue 19): the 30-day overview of a site with its previous 30-day
period and a goal (reports.analyses.overview_request.run_overview: totals, daily series, top
pages, entry and exit pages, channels, sources, campaigns, terms, contents, devices, browsers,
systems, countries, hostnames, events with a property's values), side by side in one run for
(a) clicktrail over its visit rollups in the embedded Redis, (b) DuckDB and (c) chDB computing
the same figures on a flat events table of their own, at their default threads (2 here) and 1.

    .venv/bin/python bench/overview.py [--ns 1000000,10000000] [--reps 3]
        [--engines clicktrail,duckdb,duckdb_t1,chdb,chdb_t1]
    .venv/bin/python bench/overview.py --smoke     # CI: every engine once at 20k page views

N counts page views; bench/overview_data.py makes them (seeded: 60 days, about 2.5 page views
and 0.18 custom events per visit, 5,000 distinct touches) into bench-out/overview, and
bench/overview_peers.py writes them as the peers' Parquet file and holds their SQL. Filing is
not timed as part of any query: a process of its own builds the sessions as the worker does
(sessionize on OPEN_ROW records, roll_up, split_rolled) and writes the rollups per UTC day and
the shard vocabulary into the embedded Redis. Every engine then runs in its own process, which
loads once and times --reps queries (all listed); peak RSS is that process's, the Redis
server's memory is in none. clicktrail's query reads the 60 days' rollups from Redis on every
run (`load` times that read alone) and classifies each distinct touch; the peers get each
visit's channel as a column, so classification is free for them. Fails when any figure differs.

Measured on this 2-core box while other sessions' tests ran (load 3 to 5, so the figures are
noisy: read the runs, not only the medians), with
`.venv/bin/python bench/overview.py --ns 1000000,10000000 --reps 3`; seconds, median of 3:

    N page views   clicktrail   DuckDB 2 thr   DuckDB 1 thr   chDB 2 thr   chDB 1 thr
    1,000,000           0.349          1.989          1.332        0.609        0.939
    10,000,000          2.326         34.686         18.884       14.532       15.007

At 10M (1,976,466 visits in the period, 1,984,809 before it) clicktrail's query was 5.85 s
before the profiled fixes of overview.py and rollup_reader.py (1.35 s after, on a quieter box);
its peak RSS 706 MB against 4,987 (DuckDB) and 6,391 (chDB). Reading the 60 days' rollups
back (4.0M visit rows, 10.7M item rows) is about half of it. The peers' SQL is written plainly,
not tuned: most of their time is the GROUP BY visit_id that builds the visits.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import redis
from funnel import (
    PEERS_PYTHON,
    TABLE_HEAD,
    Line,
    against_peers,
    bench_args,
    child_result,
    median,
    peer_lines,
    print_lines,
)
from funnel_peers import repeat
from overview_data import EVENTS, load, save, touch_entries
from overview_peers import DAYS, GOAL_PAGE, P0, P1, P2, TOUCH_LISTS, Counts
from redis.typing import EncodableT, FieldT

from collector import keys
from collector.embedded import EmbeddedRedis, socket_path_for
from collector.sites import new_site
from reports.analyses.journey_request import VisitFilter
from reports.analyses.overview_request import OverviewRequest, run_overview
from reports.sessions.layout import KIND_CUSTOM, KIND_PAGE, KIND_PROP, OPEN_ROW, sessionize
from reports.sessions.rollup import property_entry, roll_up, split_rolled
from reports.sessions.rollup_reader import load_visits_rolled

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out" / "overview"
PEERS_MODULE = Path(__file__).resolve().parent / "overview_peers.py"
REDIS_DIR = OUT / "redis"
ORIGINS = ["https://shop.example"]
SITE = new_site("bench", ORIGINS)
ENGINES = ("clicktrail", "duckdb", "duckdb_t1", "chdb", "chdb_t1")
SMOKE_N = 20_000  # page views: about 130 visits a day, so every list and series point is compared

Result = dict[str, Any]


# --- data ----------------------------------------------------------------------------------------


def strings() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((OUT / "strings.json").read_text())
    return loaded


def ensure_data(ns: list[int]) -> None:
    """The clickstream of each N and its Parquet file, made when missing."""
    OUT.mkdir(parents=True, exist_ok=True)
    for n in ns:
        parquet = OUT / f"events_{n}.parquet"
        if parquet.exists():
            continue
        print(f"generating the clickstream for N={n:,} ...", file=sys.stderr)
        made = run_child("data", n, 1)  # its own process: a child inherits the parent's peak RSS
        print(f"  {made}", file=sys.stderr)
        files = [str(OUT / f"clickstream_{n}.npz"), str(OUT / "strings.json"), str(parquet)]
        subprocess.run([str(PEERS_PYTHON), str(PEERS_MODULE), "parquet", *files], check=True)


# --- (a) clicktrail ------------------------------------------------------------------------------


def redis_client() -> redis.Redis:
    return redis.Redis(unix_socket_path=str(socket_path_for(REDIS_DIR)))


def vocabulary() -> tuple[list[str], dict[str, int]]:
    """The shard vocabulary's entries in id order from 1 (pages, events, property values,
    touches), and the first id of each kind."""
    text = strings()
    entries = [f"p:{p}" for p in text["paths"]] + [f"e:{name}" for name in EVENTS]
    first = {"page": 1, "event": 1 + len(text["paths"]), "value": 1 + len(entries)}
    entries += [property_entry(e, prop, v) for e, (prop, values) in EVENTS.items() for v in values]
    first["touch"] = 1 + len(entries)
    return entries + touch_entries(text["touches"]), first


def open_rows(n: int) -> tuple[Any, Any]:
    """The clickstream as the worker's OPEN_ROW records and the visit owning each: a page view
    carries its visit's touch, a custom event is followed by its property value."""
    data = load(OUT, n)
    _, first = vocabulary()
    value_base = np.cumsum([0] + [len(vs) for _, vs in EVENTS.values()])[:-1]
    n_rows, is_event = len(data.ts), ~data.is_page
    slot = np.arange(n_rows) + np.concatenate([[0], np.cumsum(is_event)[:-1]])
    rows = np.zeros(n_rows + int(is_event.sum()), OPEN_ROW)
    owner = np.zeros(len(rows), np.int64)
    prop_slot = slot[is_event] + 1
    for at, pick in ((slot, slice(None)), (prop_slot, is_event)):
        rows["ts"][at] = data.ts[pick]
        rows["visitor"][at] = data.visitor[data.visit[pick]]
        rows["band"][at] = data.band[data.visit[pick]]
        owner[at] = data.visit[pick]
    item, visit = data.item, data.visit
    rows["item"][slot] = np.where(data.is_page, first["page"] + item, first["event"] + item)
    rows["kind"][slot] = np.where(data.is_page, KIND_PAGE, KIND_CUSTOM)
    rows["source"][slot] = np.where(data.is_page, first["touch"] + data.touch[visit], 0)
    events = item[is_event]
    rows["item"][prop_slot] = first["value"] + value_base[events] + data.value[is_event]
    rows["kind"][prop_slot] = KIND_PROP
    return rows, owner


def file_visits(n: int) -> Result:
    """What the worker's sweep leaves in Redis: the shard vocabulary and the rollups per day."""
    rows, owner = open_rows(n)
    started = time.perf_counter()
    closed = sessionize(rows, owner)
    if len(closed.sessions) != int(owner.max()) + 1:
        raise RuntimeError(f"{len(closed.sessions)} sessions for {int(owner.max()) + 1} visits")
    by_day = split_rolled(roll_up(closed, closed.page))
    roll_s = time.perf_counter() - started
    entries, _ = vocabulary()
    vocab: dict[FieldT, EncodableT] = {entry: i + 1 for i, entry in enumerate(entries)}
    client = redis_client()
    client.flushall()
    client.hset(keys.session_vocabulary(SITE.name, 0), mapping=vocab)
    for day, part in by_day.items():
        for name in ("visits", "items"):
            client.set(keys.session_log(SITE.name, 0, day, name), getattr(part, name).tobytes())
    client.close()
    visits = sum(len(part.visits) for part in by_day.values())
    items = sum(len(part.items) for part in by_day.values())
    return {"roll_s": roll_s, "days": len(by_day), "visits": visits, "items": items,
            "vocabulary": len(vocab)}  # fmt: skip


def request() -> OverviewRequest:
    first = datetime.fromtimestamp(P1 / 1000, UTC).date()
    visits = VisitFilter(first, first + timedelta(DAYS - 1), zone="UTC")
    return OverviewRequest(visits, goal=GOAL_PAGE)


def counts_of_json(got: dict[str, Any]) -> Counts:
    """run_overview's JSON in the peers' canonical form (overview_peers.counts_of)."""
    totals = ("visitors", "visits", "pageviews", "pages_per_visit", "bounce_rate",
              "median_duration_s", "conversions", "conversion_rate")  # fmt: skip

    def period(part: dict[str, Any]) -> Counts:
        out: Counts = {key: part[key] for key in totals}
        out["series"] = [[p["t"], p["visits"], p["pageviews"]] for p in part["series"]]
        return out

    def pairs(key: str, *fields: str) -> list[list[Any]]:
        return [[row[f] for f in fields] for row in got[key]]

    def properties(rows: list[dict[str, Any]]) -> list[list[Any]]:
        return [[row[f] for f in ("property", "value", "visits", "count")] for row in rows]

    out: Counts = {
        "current": period(got),
        "previous": period(got["previous"]),
        "spam_visits": got["spam_visits"],
        "pages": pairs("pages", "page", "visits", "pageviews"),
        "entry_pages": pairs("entry_pages", "page", "visits"),
        "exit_pages": pairs("exit_pages", "page", "exits"),
        "channels": pairs("channels", "channel", "visits", "conversions"),
        "devices": pairs("devices", "band", "visits"),
        "events": pairs("events", "name", "visits", "count"),
        "properties": {e["name"]: properties(e["properties"]) for e in got["events"]},
    }
    for key, _, _ in TOUCH_LISTS:
        field = {"sources": "source", "campaigns": "campaign", "terms": "term",
                 "contents": "content", "browsers": "browser", "os": "os",
                 "countries": "country", "hostnames": "hostname"}[key]  # fmt: skip
        out[key] = pairs(key, field, "visits")
    return out


def query_ours(reps: int) -> Result:
    client = redis_client()
    asked = request()

    def overview() -> Counts:
        return counts_of_json(run_overview(client, SITE, asked, now_ms=P2))

    def loaded() -> list[int]:
        table = load_visits_rolled(client, SITE, P0, P2)
        return [len(table), len(table.items), len(table.vocab)]

    return {"query": repeat(overview, reps), "load": repeat(loaded, reps)}


# --- processes -----------------------------------------------------------------------------------


def child(what: str, n: int, reps: int) -> None:
    """Ours only: the peers run bench/overview_peers.py, which their venv can import."""
    if what == "data":
        result = save(OUT, n, ORIGINS)
    elif what == "file":
        result = file_visits(n)
    elif what == "clicktrail":
        result = query_ours(reps)
    else:
        raise SystemExit(f"unknown engine {what!r}")
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(what: str, n: int, reps: int) -> Result:
    return child_result(__file__, PEERS_MODULE, OUT, what, n, reps)


def run_all(args: argparse.Namespace) -> dict[int, dict[str, Result]]:
    results: dict[int, dict[str, Result]] = {}
    server = None
    if "clicktrail" in args.engines:
        shutil.rmtree(REDIS_DIR, ignore_errors=True)
        server = EmbeddedRedis(REDIS_DIR, fsync="no").ensure()
    try:
        for n in args.ns:
            results[n] = {}
            steps = ["file", *args.engines] if "clicktrail" in args.engines else args.engines
            for what in steps:
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
        lines.append(("clicktrail run_overview", "clicktrail", found["clicktrail"]["query"], None))
    return lines + peer_lines(found)


def summary(counts: Counts) -> str:
    now, before = counts["current"], counts["previous"]
    return (
        f"{now['visits']:,} visits ({before['visits']:,} before), {now['pageviews']:,} page "
        f"views, {now['visitors']:,} visitors, bounce {now['bounce_rate']:.3f}, median "
        f"{now['median_duration_s']} s, {now['conversions']:,} conversions, "
        f"{counts['spam_visits']:,} spam visits left out"
    )


def report(results: dict[int, dict[str, Result]], reps: int) -> list[str]:
    """Prints the table; returns the mismatches."""
    print(
        f"\nTraffic overview, 30 days + the previous 30, goal {GOAL_PAGE}; seconds, median of "
        f"{reps} runs in one process per engine (all runs listed, first one first);\n"
        "the peers get each visit's channel as a column (classified by clicktrail: free for "
        "them);\nvs ours = the engine's median / clicktrail run_overview's (above 1: slower)"
    )
    print(TABLE_HEAD)
    mismatches = []
    for n, found in results.items():
        lines = lines_of(found)
        ours = median(found["clicktrail"]["query"]) if "clicktrail" in found else None
        print_lines(n, found, lines, ours)
        counts = {label: json.dumps(runs["counts"], sort_keys=True) for label, _, runs, _ in lines}
        same = len(set(counts.values())) == 1
        verdict = "identical in all engines" if same else "DIFFER between engines"
        print(f"{'':<27}{summary(lines[0][2]['counts'])}: {verdict}")
        if "file" in found:
            filed, read = found["file"], found["clicktrail"]["load"]
            print(
                f"{'':<27}of clicktrail's median: reading the rollups back "
                f"(load_visits_rolled) {median(read):.3f} s for {read['counts'][0]:,} visits, "
                f"{read['counts'][1]:,} item rows, {read['counts'][2]:,} vocabulary entries\n"
                f"{'':<27}filing (sessionize + roll_up + split_rolled, at ingest): "
                f"{filed['roll_s']:.3f} s for {filed['visits']:,} visits over {filed['days']} days"
            )
        if not same:
            differ = [label for label, text in counts.items() if text != counts[lines[0][0]]]
            mismatches.append(f"N={n:,}: {', '.join(differ)} differ from {lines[0][0]}")
    return mismatches


def print_targets(results: dict[int, dict[str, Result]]) -> None:
    found = results.get(10_000_000, {})
    if "clicktrail" not in found or "chdb" not in found:
        print("\ntarget at 10M: not measured in this run")
        return
    ours, peer = median(found["clicktrail"]["query"]), median(found["chdb"]["query"])
    print(
        f"\ntarget: clicktrail run_overview <= chDB (2 threads) at 10M page views: "
        f"{ours:.3f} s vs {peer:.3f} s, {'MET' if ours <= peer else 'MISSED'}"
    )


def main() -> None:
    args = bench_args(__doc__, ENGINES, SMOKE_N)
    if args.child:
        child(args.child, args.ns[0], args.reps)
        return
    against_peers(args, OUT, run_all, report, print_targets, ensure=ensure_data)


if __name__ == "__main__":
    main()
