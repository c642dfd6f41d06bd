"""Scale benchmark: events per second accepted by `POST /e` and aggregated by the workers (end
to end), with 1, 2 and 4 collector processes and 1, 2 and 4 workers, against (a) one Redis with
AOF and (b) a 3-master local Redis Cluster with AOF; then POST /e latency at 50 % and 90 % of
the peak accept rate under open-loop (constant-rate) load.

    .venv/bin/python bench/scale.py [--seconds 10] [--reps 3]
    .venv/bin/python bench/scale.py --quick          # short run: 1x1 and 2x2, 3 s, 1 rep
    .venv/bin/python bench/scale.py --smoke          # CI: 1x1 in both setups, 1 s loads

Everything runs on 127.0.0.1: a fresh Redis (or cluster) per run, N `clicktrail collector`
processes on N ports (rate limits and backlog bound lifted), M `clicktrail worker` processes,
and wrk with one thread per collector port (connections split evenly, as a load balancer
would spread them). A run loads for --seconds, then waits until both consumer groups have read
and acknowledged every entry of every shard; end to end = events accepted / (load start to all
aggregated). Prints medians of --reps runs, CPU per event of each tier and a projection of
the cores needed; raw results go to bench-out/scale/results-TIME.json (rewritten after each
run). With the defaults it takes about 25 minutes; --quick about 1.5; --smoke under one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from clicktrail.demo.background import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rig
from scale_report import report

OUT = rig.ROOT / "bench-out" / "scale"
LUA = Path(__file__).parent / "post_batch.lua"
OPENLOOP = Path(__file__).parent / "openloop.py"
NOOP_APP_DIR = Path(__file__).parent
EVENTS_PER_BATCH = 20
SHARDS = 16  # per site: spread over the 3 masters by CRC16 of their tags ("shop": 7/5/4)
CONNECTIONS = 64  # wrk connections in all, split over the collector ports
WARMUP_S = 2
LATENCY_SHARES = (0.5, 0.9)
SETUPS = ("single", "cluster")

Result = dict[str, Any]


@dataclass(frozen=True)
class Shape:
    setup: str  # single or cluster
    collectors: int
    workers: int

    @property
    def name(self) -> str:
        return f"{self.setup}-{self.collectors}x{self.workers}"


def wrk(ports: list[int], key: str, seconds: float, connections: int) -> Result:
    """Closed-loop peak load spread over the ports; returns wrk's counts and its CPU time."""
    threads = len(ports)
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{max(connections, threads)}",
        f"-d{seconds:g}s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{ports[0]}/e",
        "--",
        key,
    ]
    env = {**os.environ, "CT_PORTS": ",".join(map(str, ports)), "CT_RUN": os.urandom(3).hex()}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = subprocess.run(
        argv, capture_output=True, text=True, check=True, timeout=seconds + 60, env=env
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    return {
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),  # type: ignore[union-attr]
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    }


def _machine_busy_s() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def measure(shape: Shape, args: argparse.Namespace) -> Result:
    """One run: fresh Redis and processes, warm-up, load, wait until aggregated."""
    with rig.deployment(
        shape.setup, OUT / shape.name, args.shards, shape.collectors, shape.workers
    ) as run:
        ports, client = run.fleet.ports, run.client
        wrk(ports, run.key, WARMUP_S, args.connections)
        if rig.wait_drained(client, args.shards, args.drain_timeout) is None:
            raise RuntimeError(f"{shape.name}: the workers did not catch up after the warm-up")
        tiers = {
            "collectors": run.fleet.collector_pids,
            "workers": run.fleet.worker_pids,
            "redis": run.server.pids,
        }
        cpu_before = {tier: rig.cpu_seconds(pids) for tier, pids in tiers.items()}
        accepted_before = rig.accepted_events(ports)
        kept_before = run.server.used_memory() - rig.streams_memory(client, args.shards)
        dedup_before = rig.dedup_memory(client, args.shards)
        busy_before = _machine_busy_s()
        started = time.monotonic()
        load = wrk(ports, run.key, args.seconds, args.connections)
        load_s = time.monotonic() - started
        time.sleep(0.3)  # requests cut off when wrk stopped may still be stored
        accepted = rig.accepted_events(ports) - accepted_before
        backlog = sum(int(s["length"]) for s in rig.shard_state(client, args.shards))
        done = rig.wait_drained(client, args.shards, args.drain_timeout)
        total_s = (done - started) if done is not None else None
        cpu = {t: rig.cpu_seconds(pids) - cpu_before[t] for t, pids in tiers.items()}
        cpu["load"] = load["cpu_s"]
        busy = _machine_busy_s() - busy_before
        spread = rig.shards_per_node(client, args.shards)
        kept = run.server.used_memory() - rig.streams_memory(client, args.shards) - kept_before
        dedup = rig.dedup_memory(client, args.shards) - dedup_before
    return {
        "shape": shape.name,
        "events": accepted,
        "load_s": load_s,
        "total_s": total_s,
        "accept_evs": accepted / load_s,
        "e2e_evs": accepted / total_s if total_s else None,
        "backlog_at_load_end": backlog,
        "shards_per_node": spread,
        "redis_kept_bytes": kept,
        "dedup_bytes": dedup,
        "wrk": load,
        "cpu_s": cpu,
        "other_cpu_s": max(0.0, busy - sum(cpu.values())),
        "window_s": total_s or load_s,
    }


def openloop(ports: list[int], key: str, rate: float, seconds: float) -> Result:
    argv = [
        sys.executable,
        str(OPENLOOP),
        "--ports",
        ",".join(map(str, ports)),
        "--key",
        key,
        "--rate",
        f"{rate:.1f}",
        "--seconds",
        f"{seconds:g}",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return dict(json.loads(out.stdout))


def measure_latency(shape: Shape, peak_rps: float, args: argparse.Namespace) -> list[Result]:
    """Open-loop load at each share of the peak request rate, workers running meanwhile."""
    results: list[Result] = []
    with rig.deployment(
        shape.setup, OUT / f"latency-{shape.name}", args.shards, shape.collectors, shape.workers
    ) as run:
        wrk(run.fleet.ports, run.key, WARMUP_S, args.connections)
        for share in LATENCY_SHARES:
            rig.wait_drained(run.client, args.shards, args.drain_timeout)
            found = openloop(run.fleet.ports, run.key, share * peak_rps, args.latency_seconds)
            results.append({"shape": shape.name, "share": share, "peak_rps": peak_rps, **found})
            print(f"  latency {shape.name} at {share:.0%}: {found}", file=sys.stderr)
    return results


def generator_ceiling(rate: float, seconds: float) -> Result:
    """The open-loop generator against bench/noop_app.py (204, no Redis) at `rate`: whether it
    can itself send that rate on time while sharing the cores with a server."""
    port = free_port()
    argv = [
        str(rig.VENV_BIN / "uvicorn"), "noop_app:app", "--app-dir", str(NOOP_APP_DIR),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log",
        "--log-level", "warning", "--port", str(port),
    ]  # fmt: skip
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:
        rig.wait_http(port, server, "/e")
        return openloop([port], "ct_noop", rate, seconds)
    finally:
        rig.stop(server)


def shapes(args: argparse.Namespace) -> list[Shape]:
    if args.smoke:
        pairs = [(1, 1)]
    elif args.quick:
        pairs = [(1, 1), (2, 2)]
    else:
        pairs = [(c, w) for c in args.collectors for w in args.workers]
    return [Shape(setup, c, w) for setup in args.setups for c, w in pairs]


def _setups(raw: str) -> list[str]:
    names = [part for part in raw.split(",") if part]
    if not names or set(names) - set(SETUPS):
        raise argparse.ArgumentTypeError(f"expected some of {','.join(SETUPS)}, got {raw!r}")
    return names


def _ints(raw: str) -> list[int]:
    return [int(part) for part in raw.split(",") if part]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load per run (10)")
    parser.add_argument("--reps", type=int, default=3, help="runs per shape; medians (3)")
    parser.add_argument("--quick", action="store_true", help="short run: 1x1, 2x2, 3 s, 1 rep")
    parser.add_argument(
        "--smoke", action="store_true", help="CI: 1x1 in both setups, 1 s loads, 1 rep"
    )
    parser.add_argument("--setups", type=_setups, default=list(SETUPS), help="single,cluster")
    parser.add_argument("--collectors", type=_ints, default=[1, 2, 4], help="counts (1,2,4)")
    parser.add_argument("--workers", type=_ints, default=[1, 2, 4], help="counts (1,2,4)")
    parser.add_argument(
        "--connections", type=int, default=CONNECTIONS, help=f"wrk's, in all ({CONNECTIONS})"
    )
    parser.add_argument("--shards", type=int, default=SHARDS, help=f"of the site ({SHARDS})")
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="per rate (10)")
    parser.add_argument("--no-latency", action="store_true", help="skip the open-loop runs")
    parser.add_argument(
        "--drain-timeout", type=float, default=0.0, help="s to wait for the workers (20x load)"
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.reps, args.latency_seconds = 3.0, 1, 2.0
    if args.smoke:
        args.seconds, args.reps, args.latency_seconds = 1.0, 1, 1.0
    args.drain_timeout = args.drain_timeout or max(60.0, 20 * args.seconds)
    return args


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    print(f"about {estimate_s(args) / 60:.0f} minutes", file=sys.stderr)
    results: dict[str, Any] = {"args": vars(args), "runs": [], "latency": [], "generator": {}}
    started = time.monotonic()
    for rep in range(args.reps):
        for shape in shapes(args):
            run = measure(shape, args)
            results["runs"].append(run)
            path.write_text(json.dumps(results, indent=2))
            print(
                f"rep {rep + 1} {shape.name}: accepted {run['accept_evs']:,.0f} ev/s, "
                f"end to end {run['e2e_evs'] or 0:,.0f} ev/s ({time.monotonic() - started:.0f} s)",
                file=sys.stderr,
            )
    if not args.no_latency:
        for shape, peak in latency_shapes(results["runs"], shapes(args)):
            results["latency"] += [
                r for _ in range(args.reps) for r in measure_latency(shape, peak, args)
            ]
        top = max((r["target_rps"] for r in results["latency"]), default=0.0)
        if top:
            results["generator"] = generator_ceiling(top, args.latency_seconds)
    path.write_text(json.dumps(results, indent=2))
    report(results, args)
    print(f"\nraw results: {path} ({time.monotonic() - started:.0f} s in all)")


def estimate_s(args: argparse.Namespace) -> float:
    """Rough length of the whole benchmark, from smoke runs on 2 cores: start-up, warm-up and
    stop take 7 s a run (9 with a cluster), the drain about a quarter of the load; the latency
    runs (two shapes per setup at most) two loads and their drains each."""
    runs = sum(1.25 * args.seconds + (9 if s.setup == "cluster" else 7) for s in shapes(args))
    latency = 0 if args.no_latency else len(args.setups) * 2 * (8 + 2 * (args.latency_seconds + 2))
    return float(args.reps * (runs + latency) + args.latency_seconds)


def latency_shapes(runs: list[Result], all_shapes: list[Shape]) -> list[tuple[Shape, float]]:
    """1x1 and the shape with the highest accept rate, per setup, with its median peak req/s."""
    picked: list[tuple[Shape, float]] = []
    for setup in dict.fromkeys(s.setup for s in all_shapes):
        mine = [s for s in all_shapes if s.setup == setup]
        peak = {
            s: statistics.median(r["accept_evs"] for r in runs if r["shape"] == s.name)
            / EVENTS_PER_BATCH
            for s in mine
        }
        best = max(peak, key=lambda s: peak[s])
        for shape in dict.fromkeys([mine[0], best]):
            picked.append((shape, peak[shape]))
    return picked


if __name__ == "__main__":
    main()
