"""The tables of bench/scale.py: throughput per shape, CPU per event and a projection of the
cores needed, latency under open-loop load, and the caveats that go with them."""

from __future__ import annotations

import argparse
import math
import os
import statistics
from collections.abc import Callable
from typing import Any

Result = dict[str, Any]
TARGETS_EVS = (10_000, 100_000)
APP_TIERS = ("collectors", "workers", "redis")
CORES = os.cpu_count() or 1
LATE_MS = 5.0  # open-loop send lag p99 above which the generator itself fell behind
REDIS_CORE_CEILING = 0.8  # share of one core a Redis main thread can use before it queues


def _median(rows: list[Result], value: Callable[[Result], float | None]) -> float | None:
    values = [v for v in (value(r) for r in rows) if v is not None]
    return statistics.median(values) if values else None


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def _by_shape(runs: list[Result]) -> dict[str, list[Result]]:
    grouped: dict[str, list[Result]] = {}
    for run in runs:
        grouped.setdefault(run["shape"], []).append(run)
    return grouped


def throughput_table(runs: list[Result], args: argparse.Namespace) -> None:
    grouped = _by_shape(runs)
    base = _median(grouped.get("single-1x1", []), lambda r: r["e2e_evs"])
    print(
        f"\nEnd to end: POST /e batches of 20 events, wrk closed loop with {args.connections} "
        f"connections split over the collectors, {args.seconds:g} s of load, then until both "
        f"consumer groups acknowledged all; {args.shards} stream shards; medians of {args.reps}"
    )
    print(
        f"{'setup':<9}{'coll':>5}{'work':>5}{'accepted ev/s':>15}{'end-to-end ev/s':>17}"
        f"{'x 1x1 single':>14}{'drain s':>9}{'backlog':>9}{'our CPU':>9}{'other CPU':>11}"
    )
    for name, rows in grouped.items():
        setup, _, counts = name.partition("-")
        collectors, _, workers = counts.partition("x")
        e2e = _median(rows, lambda r: r["e2e_evs"])
        drain = _median(rows, lambda r: r["total_s"] - r["load_s"] if r["total_s"] else None)
        ours = _median(rows, lambda r: sum(r["cpu_s"].values()) / (r["window_s"] * CORES))
        other = _median(rows, lambda r: r["other_cpu_s"] / (r["window_s"] * CORES))
        print(
            f"{setup:<9}{collectors:>5}{workers:>5}"
            f"{_fmt(_median(rows, lambda r: r['accept_evs'])):>15}{_fmt(e2e):>17}"
            f"{_fmt(e2e / base if e2e and base else None, '.2f'):>14}{_fmt(drain, '.1f'):>9}"
            f"{_fmt(_median(rows, lambda r: r['backlog_at_load_end'])):>9}"
            f"{_fmt(ours, '.0%'):>9}{_fmt(other, '.0%'):>11}"
        )
    spreads = {tuple(r["shards_per_node"]) for r in runs if r["shape"].startswith("cluster")}
    for spread in spreads:
        print(f"cluster: the {args.shards} shards sit {'/'.join(map(str, spread))} per master")
    print(
        "accepted = events stored during the load window / its length; end-to-end = the same "
        "events / (load start to all aggregated).\ndrain = time after the load until aggregated; "
        "backlog = batches in the streams at load end; CPU = share of the machine's "
        f"{CORES} cores over the window, ours (Redis, collectors, workers, wrk) and everything "
        "else on the machine (noise)."
    )


def _cpu_per_event(rows: list[Result], tier: str) -> float:
    return float(statistics.median(r["cpu_s"][tier] / r["events"] for r in rows if r["events"]))


def per_core(runs: list[Result]) -> None:
    grouped = _by_shape(runs)
    print(
        "\nCPU per event (user + system CPU of each tier over the window / events), at each "
        "setup's best end-to-end shape:"
    )
    print(
        f"{'shape':<14}{'e2e ev/s':>10}{'ev/s per core':>15}{'collectors us':>15}"
        f"{'workers us':>12}{'redis us':>10}{'wrk us':>8}{'app ev/CPU-s':>14}"
    )
    best: dict[str, tuple[str, list[Result]]] = {}
    for name, rows in grouped.items():
        setup = name.partition("-")[0]
        e2e = _median(rows, lambda r: r["e2e_evs"]) or 0.0
        if setup not in best or e2e > (_median(best[setup][1], lambda r: r["e2e_evs"]) or 0.0):
            best[setup] = (name, rows)
    for name, rows in best.values():
        e2e = _median(rows, lambda r: r["e2e_evs"]) or 0.0
        us = {t: 1e6 * _cpu_per_event(rows, t) for t in (*APP_TIERS, "load")}
        app = sum(us[t] for t in APP_TIERS)
        print(
            f"{name:<14}{e2e:>10,.0f}{e2e / CORES:>15,.0f}{us['collectors']:>15.1f}"
            f"{us['workers']:>12.1f}{us['redis']:>10.1f}{us['load']:>8.1f}{1e6 / app:>14,.0f}"
        )
    print(
        "\nProjection: cores needed = target x (collector + worker + Redis CPU per event), "
        f"load generator excluded; a Redis main thread counted at most {REDIS_CORE_CEILING:.0%} "
        "busy:"
    )
    for name, rows in best.values():
        us = {t: 1e6 * _cpu_per_event(rows, t) for t in APP_TIERS}
        parts = []
        for target in TARGETS_EVS:
            cores = {t: target * us[t] / 1e6 for t in APP_TIERS}
            masters = math.ceil(cores["redis"] / REDIS_CORE_CEILING)
            fits = "one Redis" if masters == 1 else f"{masters} cluster masters at least"
            parts.append(
                f"{target:,} ev/s: {sum(cores.values()):.1f} cores (collectors "
                f"{cores['collectors']:.1f}, workers {cores['workers']:.1f}, Redis "
                f"{cores['redis']:.2f}: {fits})"
            )
        print(f"  {name}: " + "; ".join(parts))
    for name, rows in best.values():
        kept = statistics.median(r["redis_kept_bytes"] / r["events"] for r in rows if r["events"])
        dedup = statistics.median(r["dedup_bytes"] / r["events"] for r in rows if r["events"])
        per_day = ", ".join(
            f"{t * 86_400 * dedup / 1e9:,.0f} GB at {t:,} ev/s" for t in TARGETS_EVS
        )
        print(
            f"  {name}: Redis memory kept once aggregated and trimmed: {kept:.0f} bytes per event, "
            f"{dedup:.0f} of them the dedup ids, which stay until their day is 49 h old: "
            f"{per_day} per day of traffic, held 2 to 3 days (the rest here is mostly this "
            "synthetic load's open sessions, bounded by active sessions rather than events)"
        )


def _on_time(runs: list[Result]) -> str:
    """Whether the generator kept its schedule in every run: sent within LATE_MS at p99 and
    achieved the target rate."""
    late = any(
        r["send_lag_p99_ms"] > LATE_MS or r["achieved_rps"] < 0.98 * r["target_rps"] for r in runs
    )
    return "LATE" if late else "on time"


def latency_table(results: dict[str, Any]) -> None:
    rows = results["latency"]
    if not rows:
        return
    print(
        "\nPOST /e latency under open-loop load (bench/openloop.py: constant rate, latency "
        "from each request's scheduled send time), workers running; medians of runs:"
    )
    print(
        f"{'shape':<14}{'share':>6}{'target req/s':>13}{'achieved':>10}{'p50 ms':>8}"
        f"{'p99 ms':>8}{'max ms':>8}{'p99 from send':>14}{'send lag p99':>13}{'non-202':>9}"
        f"{'generator':>11}"
    )
    grouped: dict[tuple[str, float], list[Result]] = {}
    for row in rows:
        grouped.setdefault((row["shape"], row["share"]), []).append(row)
    for (shape, share), runs in grouped.items():

        def med(field: str, runs: list[Result] = runs) -> float | None:
            return _median(runs, lambda r: r[field])

        bad = _median(runs, lambda r: r["completed"] - r["statuses"].get("202", 0) + r["errors"])
        print(
            f"{shape:<14}{share:>6.0%}{_fmt(med('target_rps')):>13}{_fmt(med('achieved_rps')):>10}"
            f"{_fmt(med('p50_ms'), '.2f'):>8}{_fmt(med('p99_ms'), '.2f'):>8}"
            f"{_fmt(med('max_ms'), '.1f'):>8}{_fmt(med('service_p99_ms'), '.2f'):>14}"
            f"{_fmt(med('send_lag_p99_ms'), '.2f'):>13}{_fmt(bad):>9}{_on_time(runs):>11}"
        )
    generator = results.get("generator")
    if generator:
        print(
            f"Generator ceiling check, alone against a no-op server (204, no Redis) on the same "
            f"cores at {generator['target_rps']:,.0f} req/s: achieved "
            f"{generator['achieved_rps']:,.0f}, p50 {generator['p50_ms']:.2f} ms, p99 "
            f"{generator['p99_ms']:.2f} ms, send lag p99 {generator['send_lag_p99_ms']:.2f} ms. "
            "Its timer ticks every 1 ms, so up to ~1 ms of every latency is its own. LATE: its "
            f"send lag p99 exceeded {LATE_MS:g} ms or it missed the rate (starved of CPU by the "
            "server on the same cores), so p99 from the schedule overstates the server's; p99 "
            "from send is then the lower bound (it leaves out queueing before the send)."
        )


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    throughput_table(results["runs"], args)
    per_core(results["runs"])
    latency_table(results)
    print(
        f"\nCaveat: this machine has {CORES} cores. Every process here (wrk, the collectors, the "
        "workers, Redis and its AOF, the generator) competes for the same CPU, so adding "
        "collectors or workers past the core count mostly adds contention: the shapes show how "
        "the parts share a small box, not how they scale out. CPU per event, measured per tier, "
        "is the figure that carries over to bigger machines, and the projection assumes it stays "
        "flat (no contention, no network hop, which a real deployment adds)."
    )
