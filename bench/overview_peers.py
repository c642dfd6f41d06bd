"""The peer side of bench/overview.py: the 30-day traffic overview and its previous period in
DuckDB and chDB, each over a flat events table of its own (a Memory table with LowCardinality
strings in chDB), loaded from the clickstream's Parquet file; and the Parquet file itself.

    bench-out/peers-venv/bin/python bench/overview_peers.py ENGINE PARQUET --reps 3
    bench-out/peers-venv/bin/python bench/overview_peers.py parquet NPZ STRINGS PARQUET

ENGINE is duckdb or chdb, with _t1 for one thread. Prints one JSON object whose `counts` every
engine must return identically (see `Counts`). Run by the peers' python: this module imports
nothing of the project, only the standard library, numpy and pyarrow (for the file), the engine
it runs and its sibling funnel_peers.py.

The table has one row per page view (`name` = 'pageview', `page` its path) and per custom event
(`name`, `prop`, `value`; `page` empty), with the visit id, ts (ms), the visitor hash (0: none)
and the visit's band and touch (referrer, utm_*, click_ids, browser, os, country, host), the
same on every row of a visit, and its `channel`: clicktrail classifies each distinct touch once
in Python and hands the slug over, so the peers get classification for free.

The rules, as reports.analyses.overview counts: a visit's start is its first event; it belongs
to the period its start falls in (UTC days); `spam` visits are left out of every figure and
counted apart. Visitors: distinct (day, visitor hash) pairs summed, a visit without a hash its
own visitor. Bounce: one page view. Duration: first to last event, whole seconds; the median as
numpy's (the mean of the two middle values: DuckDB's median of integers does that; chDB's
quantileExact takes the upper one, so the mean of quantileExactLow and quantileExactHigh).
Entry and exit: first and last page viewed. Conversion: the visit viewed GOAL_PAGE. Lists: top
LIMIT by visits, ties by count then name in byte order; devices all.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from typing import Any

from funnel_peers import Result, chdb_events, duckdb_events, peer_main, repeat

DAY_MS = 86_400_000
FIRST_DAY_MS = 1_740_787_200_000  # 2025-03-01T00:00Z: the previous period's first day
DAYS = 30  # a period; the data covers two
P0, P1, P2 = FIRST_DAY_MS, FIRST_DAY_MS + DAYS * DAY_MS, FIRST_DAY_MS + 2 * DAYS * DAY_MS
GOAL_PAGE = "/thanks"
NOT_SET = "(not set)"  # reports.analyses.overview.NOT_SET (this runs in the peers' own venv)
LIMIT = 10
TOUCH_COLUMNS = ("referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term",
                 "utm_content", "click_ids", "browser", "os", "country", "host")  # fmt: skip
STRING_COLUMNS = ("band", "name", "page", "prop", "value", *TOUCH_COLUMNS, "channel")
TOUCH_LISTS = (  # (list, column or expression, unset): visits per value, "" as unset or left out
    ("sources", "source", ""), ("campaigns", "utm_campaign", ""), ("terms", "utm_term", ""),
    ("contents", "utm_content", ""), ("browsers", "browser", NOT_SET), ("os", "os", NOT_SET),
    ("countries", "country", NOT_SET), ("hostnames", "host", NOT_SET),
)  # fmt: skip
CHDB_COLUMNS = "visit_id UInt32, ts Int64, visitor UInt64, " + ", ".join(
    f"{name} LowCardinality(String)" for name in STRING_COLUMNS
)

# {"current"/"previous": totals and series, "spam_visits", every list}: see counts_of
Counts = dict[str, Any]


def source_sql(lower: str) -> str:
    """reports.sessions.touches.Touch.source_name: the UTM source lowered, else the referrer
    lowered without "www.", else (direct)."""
    ref = f"{lower}(referrer)"
    return (
        f"CASE WHEN utm_source <> '' THEN {lower}(utm_source) WHEN referrer <> '' THEN"
        f" (CASE WHEN substring({ref}, 1, 4) = 'www.' THEN substring({ref}, 5) ELSE {ref} END)"
        " ELSE '(direct)' END"
    )


def period_sql(start: str) -> str:
    return f"CASE WHEN {start} >= {P1} AND {start} < {P2} THEN 1 WHEN {start} >= {P0} THEN 0 END"


def list_queries(visits: str, rows: str, limit: str) -> dict[str, str]:
    """The top lists over the current period's visits (`visits`) and their rows (`rows`)."""
    out = {
        "pages": f"SELECT page, count(DISTINCT visit_id) AS v, count(*) AS n FROM {rows}"
        f" WHERE name = 'pageview' GROUP BY page ORDER BY v DESC, n DESC, page {limit}",
        "entry_pages": f"SELECT entry, count(*) AS v FROM {visits} WHERE views > 0"
        f" GROUP BY entry ORDER BY v DESC, entry {limit}",
        "exit_pages": f"SELECT exit, count(*) AS v FROM {visits} WHERE views > 0"
        f" GROUP BY exit ORDER BY v DESC, exit {limit}",
        "channels": f"SELECT channel, count(*) AS v, sum(CASE WHEN converted THEN 1 ELSE 0 END)"
        f" FROM {visits} GROUP BY channel ORDER BY v DESC, channel {limit}",
        "devices": f"SELECT band, count(*) AS v FROM {visits} GROUP BY band ORDER BY v DESC, band",
        "events": f"SELECT name, count(DISTINCT visit_id) AS v, count(*) AS n FROM {rows}"
        f" WHERE name <> 'pageview' GROUP BY name ORDER BY v DESC, n DESC, name {limit}",
        "properties": "SELECT name, prop, value, v, n FROM (SELECT name, prop, value, v, n,"
        " row_number() OVER (PARTITION BY name ORDER BY prop, v DESC, n DESC, value) AS r"
        f" FROM (SELECT name, prop, value, count(DISTINCT visit_id) AS v, count(*) AS n"
        f" FROM {rows} WHERE name <> 'pageview' GROUP BY name, prop, value))"
        f" WHERE r <= {LIMIT} ORDER BY name, r",
    }
    for key, column, unset in TOUCH_LISTS:
        value = f"CASE WHEN {column} = '' THEN '{unset}' ELSE {column} END" if unset else column
        out[key] = (
            f"SELECT {value} AS k, count(*) AS v FROM {visits} WHERE {value} <> ''"
            f" GROUP BY k ORDER BY v DESC, k {limit}"
        )
    return out


DUCKDB_VISITS = f"""
CREATE TEMP TABLE v AS
SELECT *, {period_sql("start")} AS period FROM (
    SELECT visit_id, min(ts) AS start, max(ts) AS finish, any_value(visitor) AS visitor,
        any_value(band) AS band, any_value(channel) AS channel,
        {", ".join(f"any_value({c}) AS {c}" for c in TOUCH_COLUMNS)},
        count(*) FILTER (WHERE name = 'pageview') AS views,
        arg_min(page, ts) FILTER (WHERE name = 'pageview') AS entry,
        arg_max(page, ts) FILTER (WHERE name = 'pageview') AS exit,
        bool_or(name = 'pageview' AND page = '{GOAL_PAGE}') AS converted
    FROM ev GROUP BY visit_id
);
CREATE TEMP TABLE c AS
SELECT *, {source_sql("lower")} AS source FROM v WHERE period = 1 AND channel <> 'spam';
CREATE TEMP TABLE r AS SELECT visit_id, name, page, prop, value FROM ev SEMI JOIN c USING (visit_id)
"""
DUCKDB_TOTALS = f"""
SELECT period,
    count(DISTINCT (start // {DAY_MS}, visitor)) FILTER (WHERE visitor <> 0)
        + count(*) FILTER (WHERE visitor = 0),
    count(*), sum(views), count(*) FILTER (WHERE views = 1), median((finish - start) // 1000),
    count(*) FILTER (WHERE converted)
FROM v WHERE channel <> 'spam' AND period IS NOT NULL GROUP BY period ORDER BY period
"""
DUCKDB_SERIES = f"""
SELECT period, start // {DAY_MS} AS day, count(*), sum(views) FROM v
WHERE channel <> 'spam' AND period IS NOT NULL GROUP BY period, day ORDER BY period, day
"""
DUCKDB_SPAM = "SELECT count(*) FROM v WHERE period = 1 AND channel = 'spam'"

CHDB_VISITS = f"""
CREATE TABLE v ENGINE = Memory AS
SELECT visit_id, min(ts) AS start, max(ts) AS finish, any(visitor) AS visitor,
    any(band) AS band, any(channel) AS channel,
    {", ".join(f"any({c}) AS {c}" for c in TOUCH_COLUMNS)},
    countIf(name = 'pageview') AS views,
    argMinIf(page, ts, name = 'pageview') AS entry,
    argMaxIf(page, ts, name = 'pageview') AS exit,
    max(name = 'pageview' AND page = '{GOAL_PAGE}') AS converted,
    multiIf(start >= {P1} AND start < {P2}, 1, start >= {P0}, 0, -1) AS period
FROM ev GROUP BY visit_id
"""
CHDB_CURRENT = f"""
CREATE TABLE c ENGINE = Memory AS
SELECT *, {source_sql("lower")} AS source FROM v WHERE period = 1 AND channel != 'spam'
"""
CHDB_ROWS = """
CREATE TABLE r ENGINE = Memory AS SELECT visit_id, name, page, prop, value FROM ev
WHERE visit_id IN (SELECT visit_id FROM c)
"""
CHDB_TOTALS = f"""
SELECT period,
    uniqExactIf((intDiv(start, {DAY_MS}), visitor), visitor != 0) + countIf(visitor = 0),
    count(), sum(views), countIf(views = 1),
    (quantileExactLow(0.5)(d) + quantileExactHigh(0.5)(d)) / 2, countIf(converted)
FROM (SELECT *, intDiv(finish - start, 1000) AS d FROM v)
WHERE channel != 'spam' AND period >= 0 GROUP BY period ORDER BY period
"""
CHDB_SERIES = f"""
SELECT period, intDiv(start, {DAY_MS}) AS day, count(), sum(views) FROM v
WHERE channel != 'spam' AND period >= 0 GROUP BY period, day ORDER BY period, day
"""
CHDB_SPAM = "SELECT count() FROM v WHERE period = 1 AND channel = 'spam'"


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def period_counts(total: list[Any] | None, series: list[list[Any]], first_ms: int) -> Counts:
    visitors, visits, views, bounces, median, conversions = (total or [0, 0, 0, 0, None, 0])[1:]
    by_day = {int(day): (int(v), int(n)) for _, day, v, n in series}
    days = [first_ms // DAY_MS + k for k in range(DAYS)]
    epoch = date(1970, 1, 1)
    return {
        "visitors": int(visitors),
        "visits": int(visits),
        "pageviews": int(views),
        "pages_per_visit": rate(int(views), int(visits)),
        "bounce_rate": rate(int(bounces), int(visits)),
        "median_duration_s": None if median is None else float(median),
        "conversions": int(conversions),
        "conversion_rate": rate(int(conversions), int(visits)),
        "series": [[(epoch + timedelta(d)).isoformat(), *by_day.get(d, (0, 0))] for d in days],
    }


def counts_of(totals: list[list[Any]], series: list[list[Any]], spam: int, lists: Counts) -> Counts:
    """The canonical form every engine's answer is compared in."""
    per = {int(row[0]): row for row in totals}
    out: Counts = {
        "current": period_counts(per.get(1), [s for s in series if int(s[0]) == 1], P1),
        "previous": period_counts(per.get(0), [s for s in series if int(s[0]) == 0], P0),
        "spam_visits": int(spam),
    }
    properties: dict[str, list[list[Any]]] = {}
    for name, prop, value, v, n in lists.pop("properties"):
        properties.setdefault(str(name), []).append([str(prop), str(value), int(v), int(n)])
    for key, rows in lists.items():
        out[key] = [[str(row[0]), *(int(x) for x in row[1:])] for row in rows]
    out["properties"] = {name: properties.get(name, []) for name, _, _ in out["events"]}
    return out


def query_duckdb(parquet: str, reps: int, threads: int | None) -> Result:
    con, load_s = duckdb_events(parquet, threads)
    queries = list_queries("c", "r", f"LIMIT {LIMIT}")

    def engine() -> Counts:
        con.execute(DUCKDB_VISITS)
        totals = con.execute(DUCKDB_TOTALS).fetchall()
        series = con.execute(DUCKDB_SERIES).fetchall()
        spam = con.execute(DUCKDB_SPAM).fetchone()
        lists = {key: con.execute(sql).fetchall() for key, sql in queries.items()}
        con.execute("DROP TABLE r; DROP TABLE c; DROP TABLE v")
        assert spam is not None
        return counts_of([list(t) for t in totals], [list(s) for s in series], spam[0], lists)

    return {"load_s": load_s, "query": repeat(engine, reps)}


def query_chdb(parquet: str, reps: int, threads: int | None) -> Result:
    db, load_s = chdb_events(parquet, CHDB_COLUMNS)
    settings = f" SETTINGS max_threads = {threads}" if threads else ""
    queries = list_queries("c", "r", f"LIMIT {LIMIT}")

    def rows(sql: str) -> list[list[Any]]:
        data: list[list[Any]] = json.loads(str(db.query(sql + settings, "JSONCompact")))["data"]
        return data

    def engine() -> Counts:
        for sql in (CHDB_VISITS, CHDB_CURRENT, CHDB_ROWS):
            db.query(sql + settings)
        totals, series, spam = rows(CHDB_TOTALS), rows(CHDB_SERIES), rows(CHDB_SPAM)[0][0]
        lists = {key: rows(sql) for key, sql in queries.items()}
        for table in ("r", "c", "v"):
            db.query(f"DROP TABLE {table}")
        return counts_of(totals, series, int(spam), lists)

    return {"load_s": load_s, "query": repeat(engine, reps)}


def write_parquet(npz: str, strings_json: str, parquet: str) -> None:
    """The flat events table of bench/overview_data.py's clickstream, strings as dictionaries."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    strings = json.loads(open(strings_json).read())
    with np.load(npz) as saved:
        data = {name: saved[name] for name in saved.files}
    visit, is_page, item, value = data["visit"], data["is_page"], data["item"], data["value"]
    events = list(strings["events"].items())

    def column(indices: Any, dictionary: list[str]) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(dictionary))

    def per_visit(values: list[str], per: Any) -> pa.DictionaryArray:
        labels = sorted(set(values))
        code = np.array([labels.index(x) for x in values], np.int32)
        return column(code[per][visit], labels)

    names = ["pageview", *(name for name, _ in events)]
    props = ["", *(prop for _, (prop, _) in events)]
    values = [""] + [v for _, (_, vs) in events for v in vs]
    first_value = np.cumsum([1] + [len(vs) for _, (_, vs) in events])[:-1]
    event = np.where(is_page, -1, item)
    table = {
        "visit_id": pa.array(visit),
        "ts": pa.array(data["ts"]),
        "visitor": pa.array(data["visitor"][visit]),
        "band": column(data["band"][visit].astype(np.int32), ["mobile", "tablet", "desktop"]),
        "name": column(event + 1, names),
        "page": column(np.where(is_page, item + 1, 0), ["", *strings["paths"]]),
        "prop": column(event + 1, props),
        "value": column(np.where(is_page, 0, first_value[np.maximum(event, 0)] + value), values),
    }
    touches, touch = strings["touches"], data["touch"]
    for k, name in enumerate(TOUCH_COLUMNS):
        got = [",".join(t[k]) if name == "click_ids" else t[k] for t in touches]
        table[name] = per_visit(got, touch)
    table["channel"] = per_visit(strings["channels"], touch)
    pq.write_table(pa.table(table), parquet)


if __name__ == "__main__":
    if sys.argv[1:2] == ["parquet"]:
        write_parquet(*sys.argv[2:5])
    else:
        peer_main(__doc__, query_duckdb, query_chdb)
