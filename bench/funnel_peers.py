"""The peer side of bench/funnel.py: DuckDB (an ASOF-join chain on an in-memory table) and chDB
(windowFunnel on a Memory table with LowCardinality paths) over the clickstream's Parquet file.

    bench-out/peers-venv/bin/python bench/funnel_peers.py ENGINE PARQUET --reps 3

ENGINE is duckdb or chdb, with _t1 for one thread. Prints one JSON object. Run by the peers'
python, whose venv holds pyarrow, DuckDB and chDB but not clicktrail: so this module imports
nothing of the project, only the standard library and the engine it runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable
from typing import Any

STEPS = ("/product/*", "/cart", "/checkout", "/thanks")
WINDOW_MS = 1_800_000
PEER_ENGINES = ("duckdb", "duckdb_t1", "chdb", "chdb_t1")

DUCKDB_STEP = """CASE WHEN starts_with(path, '/product/') THEN 1 WHEN path = '/cart' THEN 2
    WHEN path = '/checkout' THEN 3 WHEN path = '/thanks' THEN 4 ELSE 0 END"""
CHDB_SQL = f"""
SELECT countIf(level >= 1), countIf(level >= 2), countIf(level >= 3), countIf(level >= 4)
FROM (
    SELECT windowFunnel({WINDOW_MS})(toUInt64(ts), startsWith(path, '/product/'),
        path = '/cart', path = '/checkout', path = '/thanks') AS level
    FROM ev GROUP BY session_id
)"""

Result = dict[str, Any]


def duckdb_sql(window_ms: int = WINDOW_MS, n_steps: int = len(STEPS)) -> str:
    """An ASOF chain: each attempt takes the first step-k event after its step-(k-1) event,
    kept when within the window of its step-1 event; then each session's best level."""
    chain = ["c1 AS (SELECT session_id, ts AS t1, ts AS t FROM e WHERE step = 1)"]
    for k in range(2, n_steps + 1):
        chain.append(
            f"c{k} AS (SELECT a.session_id, a.t1, b.ts AS t FROM c{k - 1} a"
            f" ASOF JOIN (SELECT session_id, ts FROM e WHERE step = {k}) b"
            f" ON a.session_id = b.session_id AND b.ts > a.t WHERE b.ts <= a.t1 + {window_ms})"
        )
    levels = " UNION ALL ".join(
        f"SELECT session_id, {k} AS level FROM c{k}" for k in range(1, n_steps + 1)
    )
    counts = ", ".join(f"count(*) FILTER (WHERE level >= {k})" for k in range(1, n_steps + 1))
    return (
        f"WITH e AS (SELECT session_id, ts, {DUCKDB_STEP} AS step FROM ev), {', '.join(chain)},"
        f" best AS (SELECT session_id, max(level) AS level FROM ({levels}) GROUP BY session_id)"
        f" SELECT {counts} FROM best"
    )


def duckdb_events(parquet: str, threads: int | None) -> tuple[Any, float]:
    """A DuckDB connection holding the clickstream as table `ev`, and the seconds it took."""
    import duckdb  # in the peers' venv only

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    start = time.perf_counter()
    con.execute(f"CREATE TABLE ev AS SELECT * FROM read_parquet('{parquet}')")
    return con, time.perf_counter() - start


CHDB_COLUMNS = "session_id Int64, ts Int64, path LowCardinality(String)"


def chdb_events(parquet: str, columns: str = CHDB_COLUMNS) -> tuple[Any, float]:
    """A chDB session holding the Parquet file as Memory table `ev` of these columns (the
    clickstream's by default: LowCardinality paths), and the seconds it took."""
    from chdb import session  # in the peers' venv only

    db = session.Session()
    start = time.perf_counter()
    db.query(
        f"CREATE TABLE ev ({columns}) ENGINE = Memory AS SELECT * FROM file('{parquet}', Parquet)"
    )
    return db, time.perf_counter() - start


def query_duckdb(parquet: str, reps: int, threads: int | None) -> Result:
    con, load_s = duckdb_events(parquet, threads)
    sql = duckdb_sql()

    def engine() -> list[int]:
        row = con.execute(sql).fetchone()
        assert row is not None
        return [int(v) for v in row]

    return {"load_s": load_s, "query": repeat(engine, reps)}


def query_chdb(parquet: str, reps: int, threads: int | None) -> Result:
    db, load_s = chdb_events(parquet)
    sql = CHDB_SQL + (f" SETTINGS max_threads = {threads}" if threads else "")

    def engine() -> list[int]:
        return [int(v) for v in str(db.query(sql, "CSV")).strip().split(",")]

    return {"load_s": load_s, "query": repeat(engine, reps)}


def repeat(query: Callable[[], Any], reps: int) -> Result:
    """`reps` timed runs of one query, which must answer the same counts every time."""
    runs, counts = [], None
    for _ in range(reps):
        start = time.perf_counter()
        got = query()
        runs.append(time.perf_counter() - start)
        if counts is not None and got != counts:
            raise RuntimeError(f"counts changed between runs: {got} != {counts}")
        counts = got
    return {"runs_s": runs, "counts": counts}


Query = Callable[[str, int, int | None], Result]  # parquet, reps, threads -> result


def peer_main(doc: str | None, duckdb: Query, chdb: Query) -> None:
    """The command line of a peers' module: one engine over one Parquet file, printed as JSON
    with the process's peak RSS."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("engine", choices=PEER_ENGINES)
    parser.add_argument("parquet")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    engine, _, threads = args.engine.partition("_t")
    query = duckdb if engine == "duckdb" else chdb
    result = query(args.parquet, args.reps, int(threads) if threads else None)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    peer_main(__doc__, query_duckdb, query_chdb)
