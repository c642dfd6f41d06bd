"""The peer side of bench/journeys.py: the open journey map and the A-to-B bins in DuckDB (window
functions over an in-memory table) and chDB (one array per visit, on a Memory table with
LowCardinality paths), over the clickstream's Parquet file.

    bench-out/peers-venv/bin/python bench/journeys_peers.py ENGINE PARQUET --reps 3

ENGINE is duckdb or chdb, with _t1 for one thread. Prints one JSON object whose `counts` is
what every engine must return identically (see `Counts` below). Run by the peers' python: this
module imports nothing of the project, only the standard library, the engine it runs and its
sibling funnel_peers.py (the command line and the timed runs every peers' module shares).

The rules, as clicktrail's reports.analyses.journeys reads them: a visit is a session id; in
time order, consecutive page views of the same raw path are one occurrence (a reload). Items
are page templates, here digits-only path segments read as `:id` (the only rule of
collector.pages.PageTemplates this clickstream needs). Column k holds each visit's k-th
occurrence; its nodes are the top ROWS items by visits, ties by label in byte order, then
`other` for the rest. A-to-B: from a visit's first occurrence matching A to the first matching
B after it, `between` counts the occurrences strictly between them.
"""

from __future__ import annotations

import json
from typing import Any

from funnel_peers import Result, chdb_events, duckdb_events, peer_main, repeat

STEPS, ROWS = 5, 5
A_PREFIX, B_PATH = "/product/", "/thanks"  # A: the glob /product/*, B: /thanks
BINS = ((0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (7, 10), (11, None))  # between, inclusive

# nodes: [id, visits, ends, beyond, repeats] sorted; edges: [from, to, visits] sorted;
# paths: [visits_with_start, reached_end, [visits per bin of BINS]]
Counts = dict[str, Any]


def bin_sql(between: str) -> str:
    """One count per bin of BINS, for a SELECT over rows with a `between` expression."""
    conds = [
        f"{between} >= {lo}" + ("" if hi is None else f" AND {between} <= {hi}") for lo, hi in BINS
    ]
    return ", ".join(f"count(*) FILTER (WHERE {c})" for c in conds)


DUCKDB_OCCURRENCES = """
CREATE TEMP TABLE o AS
WITH r AS (
    SELECT session_id, path, row_number() OVER w AS rn, lag(path) OVER w AS prev,
        count(*) OVER (PARTITION BY session_id) AS n_rows
    FROM ev WINDOW w AS (PARTITION BY session_id ORDER BY ts)
)
SELECT session_id, path, row_number() OVER w AS k, lead(rn, 1, n_rows + 1) OVER w - rn AS size,
    count(*) OVER (PARTITION BY session_id) AS n_occ,
    regexp_replace(path, '/[0-9]+(/|$)', '/:id\\1', 'g') AS item
FROM r WHERE prev IS NULL OR prev <> path
WINDOW w AS (PARTITION BY session_id ORDER BY rn)
"""
DUCKDB_LABELLED = f"""
CREATE TEMP TABLE s AS
WITH c AS (SELECT k, item, count(*) AS v FROM o WHERE k <= {STEPS} GROUP BY k, item),
top AS (
    SELECT k, item FROM (
        SELECT k, item, row_number() OVER (PARTITION BY k ORDER BY v DESC, item) AS r
        FROM c
    ) WHERE r <= {ROWS}
)
SELECT o.session_id, o.k, o.size, o.n_occ,
    concat(o.k, ':', CASE WHEN top.item IS NULL THEN 'other' ELSE o.item END) AS node
FROM o LEFT JOIN top ON o.k = top.k AND o.item = top.item WHERE o.k <= {STEPS}
"""
DUCKDB_NODES = f"""
SELECT node, count(*), count(*) FILTER (WHERE n_occ = k),
    count(*) FILTER (WHERE k = {STEPS} AND n_occ > {STEPS}), count(*) FILTER (WHERE size >= 2)
FROM s GROUP BY node
"""
DUCKDB_EDGES = """
SELECT a.node, b.node, count(*) FROM s a JOIN s b ON a.session_id = b.session_id AND b.k = a.k + 1
GROUP BY a.node, b.node
"""
DUCKDB_PATHS = f"""
WITH a AS (
    SELECT session_id, min(k) AS fa FROM o WHERE starts_with(path, '{A_PREFIX}') GROUP BY session_id
),
b AS (
    SELECT a.session_id, a.fa, min(o.k) AS fb FROM a
    LEFT JOIN o ON o.session_id = a.session_id AND o.path = '{B_PATH}' AND o.k > a.fa
    GROUP BY a.session_id, a.fa
)
SELECT count(*), count(fb), {bin_sql("fb - fa - 1")} FROM b
"""

CHDB_VISITS = f"""
CREATE TABLE v ENGINE = Memory AS
SELECT n_occ, arraySlice(occ_items, 1, {STEPS}) AS items,
    arraySlice(sizes, 1, {STEPS}) AS sizes,
    arrayFirstIndex(p -> startsWith(p, '{A_PREFIX}'), occ) AS fa,
    if(fa = 0, 0,
        arrayFirstIndex((p, j) -> j > fa AND p = '{B_PATH}', occ, arrayEnumerate(occ))) AS fb
FROM (
    SELECT arrayMap(i -> paths[i], firsts) AS occ, length(firsts) AS n_occ,
        arrayMap(p -> replaceRegexpAll(p, '/[0-9]+(/|$)', '/:id\\\\1'), occ) AS occ_items,
        arrayMap((f, j) -> if(j < n_occ, firsts[j + 1], length(paths) + 1) - f,
            firsts, arrayEnumerate(firsts)) AS sizes
    FROM (
        SELECT paths, arrayFilter((i, p) -> i = 1 OR p != paths[i - 1],
            arrayEnumerate(paths), paths) AS firsts
        FROM (
            SELECT arraySort((p, t) -> t, groupArray(path), groupArray(ts)) AS paths
            FROM ev GROUP BY session_id
        )
    )
)
"""
CHDB_TOP = f"""
SELECT groupArray((k, item)) FROM (
    SELECT k, item, row_number() OVER (PARTITION BY k ORDER BY count() DESC, item) AS r
    FROM v ARRAY JOIN items AS item, arrayEnumerate(items) AS k GROUP BY k, item
) WHERE r <= {ROWS}
"""
CHDB_LABELLED = f"""
WITH ({CHDB_TOP}) AS top
SELECT n_occ, sizes,
    arrayMap((it, k) -> toString(k) || ':' || if(has(top, (k, it)), it, 'other'),
        items, arrayEnumerate(items)) AS nodes
FROM v
"""
CHDB_NODES = f"""
SELECT node, count(), countIf(n_occ = k), countIf(k = {STEPS} AND n_occ > {STEPS}),
    countIf(size >= 2)
FROM ({CHDB_LABELLED}) ARRAY JOIN nodes AS node, sizes AS size, arrayEnumerate(nodes) AS k
GROUP BY node
"""
CHDB_EDGES = f"""
SELECT nodes[k], nodes[k + 1], count()
FROM ({CHDB_LABELLED}) ARRAY JOIN arrayEnumerate(arrayPopBack(nodes)) AS k
GROUP BY nodes[k], nodes[k + 1]
"""
CHDB_PATHS = f"""
SELECT countIf(fa > 0), countIf(fb > 0), {bin_sql("(toInt64(fb) - toInt64(fa) - 1)")}
FROM v WHERE fb > 0 OR fa > 0
"""


def counts_of(nodes: list[list[Any]], edges: list[list[Any]], paths: list[Any]) -> Counts:
    """The canonical form every engine's answer is compared in."""
    return {
        "nodes": sorted([str(n[0]), *(int(x) for x in n[1:])] for n in nodes),
        "edges": sorted([str(a), str(b), int(v)] for a, b, v in edges),
        "paths": [int(paths[0]), int(paths[1]), [int(x) for x in paths[2:]]],
    }


def query_duckdb(parquet: str, reps: int, threads: int | None) -> Result:
    con, load_s = duckdb_events(parquet, threads)

    def engine() -> Counts:
        con.execute(DUCKDB_OCCURRENCES)
        con.execute(DUCKDB_LABELLED)
        nodes = con.execute(DUCKDB_NODES).fetchall()
        edges = con.execute(DUCKDB_EDGES).fetchall()
        paths = con.execute(DUCKDB_PATHS).fetchone()
        con.execute("DROP TABLE s; DROP TABLE o")
        assert paths is not None
        return counts_of([list(n) for n in nodes], [list(e) for e in edges], list(paths))

    return {"load_s": load_s, "query": repeat(engine, reps)}


def query_chdb(parquet: str, reps: int, threads: int | None) -> Result:
    db, load_s = chdb_events(parquet)
    settings = f" SETTINGS max_threads = {threads}" if threads else ""

    def rows(sql: str) -> list[list[Any]]:
        out = str(db.query(sql + settings, "JSONCompact"))
        data: list[list[Any]] = json.loads(out)["data"]
        return data

    def engine() -> Counts:
        db.query(CHDB_VISITS + settings)
        nodes, edges, paths = rows(CHDB_NODES), rows(CHDB_EDGES), rows(CHDB_PATHS)[0]
        db.query("DROP TABLE v")
        return counts_of(nodes, edges, paths)

    return {"load_s": load_s, "query": repeat(engine, reps)}


if __name__ == "__main__":
    peer_main(__doc__, query_duckdb, query_chdb)
