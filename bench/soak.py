"""Soak: a steady rate of `POST /e` through one collector, one worker and one Redis (AOF on) for
a few minutes, sampling the RSS of each process and the stream backlog; fails when a process's
memory keeps growing or the streams do not stay bounded.

    .venv/bin/python bench/soak.py [--seconds 300] [--rate 500] [--every 5]
    .venv/bin/python bench/soak.py --seconds 20 --every 2      # short run
    .venv/bin/python bench/soak.py --smoke                     # CI: 9 s at 50 batches/s

Load is bench/openloop.py at --rate batches of 20 events a second (500 = 10,000 events/s).
Thresholds, checked from the end of the first third of the run to its end:
- the collector's and the worker's RSS may grow by at most --max-growth (10 %);
- the streams (all shards) may hold at most --rate x 30 s of batches at any sample after the
  first third: the worker trims what both consumer groups acknowledged every 10 s.
Redis memory grows by design (each shard keeps the ids of the events it stored until their day
is 49 h old, to drop retried duplicates; open sessions), so it is reported per event, not
checked.
Raw samples go to bench-out/soak/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rig

OUT = rig.ROOT / "bench-out" / "soak"
OPENLOOP = Path(__file__).parent / "openloop.py"
STREAM_BOUND_S = 30.0  # trim period (10 s) plus the reclaim and read slack, with margin
EVENTS_PER_BATCH = 20

Sample = dict[str, float]


def sample(started: float, run: rig.Deployment, shards: int) -> Sample:
    states = rig.shard_state(run.client, shards)
    memory: Any = run.client.info("memory")
    return {
        "t_s": time.monotonic() - started,
        "collector_mb": rig.rss_mb(run.fleet.collector_pids[0]),
        "worker_mb": rig.rss_mb(run.fleet.worker_pids[0]),
        "redis_mb": rig.rss_mb(run.server.pids[0]),
        "redis_used_mb": memory["used_memory"] / 2**20,
        "stream_batches": sum(int(s["length"]) for s in states),
        "pending": sum(int(s["pending"]) for s in states),
        "accepted_events": rig.accepted_events(run.fleet.ports),
    }


def soak(args: argparse.Namespace) -> tuple[list[Sample], dict[str, Any]]:
    samples: list[Sample] = []
    with rig.deployment("single", OUT / "run", args.shards, collectors=1, workers=1) as run:
        argv = [
            sys.executable, str(OPENLOOP), "--ports", str(run.fleet.ports[0]), "--key", run.key,
            "--rate", str(args.rate), "--seconds", str(args.seconds),
        ]  # fmt: skip
        started = time.monotonic()
        load = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        try:
            while load.poll() is None:
                samples.append(sample(started, run, args.shards))
                run.fleet.check_alive()
                print(_row(samples[-1]), file=sys.stderr)
                deadline = started + len(samples) * args.every
                while load.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.05)
            output, _ = load.communicate()
        finally:
            if load.poll() is None:
                load.kill()
                load.wait()
        drained = rig.wait_drained(run.client, args.shards, 120.0)
        samples.append(sample(started, run, args.shards))
    summary = {**json.loads(output), "drained_after_s": drained - started if drained else None}
    return samples, summary


HEADER = (
    f"{'t s':>6}{'collector MB':>14}{'worker MB':>11}{'redis RSS MB':>14}{'redis used MB':>15}"
    f"{'stream batches':>16}{'pending':>9}{'accepted events':>17}"
)


def _row(s: Sample) -> str:
    return (
        f"{s['t_s']:>6.0f}{s['collector_mb']:>14.1f}{s['worker_mb']:>11.1f}{s['redis_mb']:>14.1f}"
        f"{s['redis_used_mb']:>15.1f}{s['stream_batches']:>16,.0f}{s['pending']:>9,.0f}"
        f"{s['accepted_events']:>17,.0f}"
    )


def verdict(samples: list[Sample], args: argparse.Namespace) -> list[str]:
    """The failed checks, as sentences; prints the growth figures."""
    during = samples[:-1] or samples  # the last sample is after the load, once drained
    base = next(s for s in during if s["t_s"] >= args.seconds / 3 or s is during[-1])
    end = during[-1]
    failures = []
    print(f"\nGrowth from t={base['t_s']:.0f} s (end of the first third) to t={end['t_s']:.0f} s:")
    for name in ("collector", "worker"):
        before, after = base[f"{name}_mb"], end[f"{name}_mb"]
        growth = after / before - 1
        print(f"  {name:<10} RSS {before:7.1f} -> {after:7.1f} MB  {growth:+.1%}")
        if growth > args.max_growth:
            failures.append(f"{name} RSS grew {growth:.1%} (limit {args.max_growth:.0%})")
    events = end["accepted_events"] - base["accepted_events"]
    used = (end["redis_used_mb"] - base["redis_used_mb"]) * 2**20
    print(
        f"  {'redis':<10} RSS {base['redis_mb']:7.1f} -> {end['redis_mb']:7.1f} MB; used memory "
        f"+{used / 2**20:.1f} MB for {events:,.0f} events = "
        f"{used / events if events else 0:.0f} bytes per event (dedup ids, open sessions)"
    )
    bound = args.rate * STREAM_BOUND_S
    longest = max(s["stream_batches"] for s in during if s["t_s"] >= base["t_s"])
    print(
        f"  streams: longest {longest:,.0f} batches after the first third (bound "
        f"{bound:,.0f} = rate x {STREAM_BOUND_S:.0f} s); {samples[-1]['stream_batches']:,.0f} "
        "after the load once drained"
    )
    if longest > bound:
        failures.append(f"streams held {longest:,.0f} batches (bound {bound:,.0f})")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the load (300)")
    parser.add_argument("--rate", type=float, default=500.0, help="batches per second (500)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples (5)")
    parser.add_argument("--shards", type=int, default=4, help="stream shards of the site (4)")
    parser.add_argument(
        "--max-growth", type=float, default=0.10, help="RSS growth allowed (0.10 = 10 %%)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="CI: 9 s at 50 batches/s, samples every 1 s"
    )
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rate, args.every = 9.0, 50.0, 1.0
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"soak: {args.rate:g} batches/s ({args.rate * EVENTS_PER_BATCH:,.0f} events/s) for "
        f"{args.seconds:g} s, 1 collector, 1 worker, Redis with AOF, {args.shards} shards",
        file=sys.stderr,
    )
    print(HEADER, file=sys.stderr)
    samples, summary = soak(args)
    print(f"\nSamples every {args.every:g} s (the last one after the load, once drained):")
    print(HEADER)
    for s in samples:
        print(_row(s))
    print(
        f"\nload: {summary['achieved_rps']:,.0f} of {summary['target_rps']:,.0f} batches/s, "
        f"statuses {summary['statuses']}, errors {summary['errors']}, "
        f"p50 {summary['p50_ms']:.2f} ms, p99 {summary['p99_ms']:.2f} ms, "
        f"max {summary['max_ms']:.1f} ms"
    )
    failures = verdict(samples, args)
    path = OUT / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(
        json.dumps({"args": vars(args), "load": summary, "samples": samples, "failed": failures})
    )
    print(f"\nraw samples: {path}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: memory and streams stayed within the thresholds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
