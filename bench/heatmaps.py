"""Heatmap benchmark: time to render a click heatmap of a 1280x4000 page from N synthetic clicks,
side by side in one run for (a) clicktrail's renderer, (b) heatmappy 0.2.6 and (c) pyheatmap
0.1.12, against Pillow's PNG encode of an image of the same size; plus (d) the aggregation
worker's throughput in events per second.

    .venv/bin/python bench/heatmaps.py [--ns 10000,100000,1000000] [--reps 3] [--slow-reps K]
                                      [--skip-slow] [--agg-entries 5000]
    .venv/bin/python bench/heatmaps.py --smoke    # CI: everything once at 1,000 clicks

Every render runs in a fresh process; the timer covers only the render and the PNG save, not
imports, loading the clicks (.npy) and the background, or building the peers' list of tuples.
The peers live in their own venv (bench-out/peers-venv, created on first use: heatmappy does not
install as published). pyheatmap at N >= 1M takes over a minute a run: --slow-reps K runs it
only K times there, --skip-slow not at all. The default run takes about 6 minutes.
Prints medians and the ratios; writes everything under bench-out/heatmap.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import PIL
from PIL import Image, ImageDraw

from collector.consumer import Entry
from collector.pages import PageTemplates
from collector.schema import (
    Click,
    Event,
    StoredHeader,
    encode_events,
    encode_header,
)
from heatmap.aggregate import Aggregator
from heatmap.grid import cells_of, grid_from_cells
from heatmap.render import LEGEND_PX, Legend, render_heatmap, save_png

ROOT = Path(__file__).resolve().parent.parent

OUT = ROOT / "bench-out" / "heatmap"
PEERS_VENV = ROOT / "bench-out" / "peers-venv"
PEERS_PYTHON = PEERS_VENV / "bin" / "python"
RUNNER = OUT / "peer_runner.py"
W, H = 1280, 4000
SEED = 42
COMPRESS_LEVEL = 6
SLOW_N = 1_000_000  # pyheatmap at this N and above takes over a minute a run
CLICKS_PER_ENTRY = 20
CHILD_TIMEOUT_S = 900
SMOKE_N = 1000  # clicks: pyheatmap's pure-Python paint stays near a second
SMOKE_AGG_ENTRIES = 100

# (cx, cy, sx, sy, weight): the "buttons" of a long landing page that draw most clicks
BUTTONS = (
    (640, 180, 60, 14, 0.22),
    (1120, 40, 30, 10, 0.10),
    (320, 900, 90, 40, 0.12),
    (960, 900, 90, 40, 0.10),
    (640, 1700, 140, 20, 0.09),
    (200, 2600, 40, 40, 0.08),
    (640, 3300, 70, 16, 0.09),
    (640, 3900, 300, 30, 0.05),
)
NOISE_SHARE = 0.15
# grey boxes of the mock page: header, cart, hero button, two cards, banner, sidebar, footer
BOXES = (
    ((0, 0, W, 80), (40, 44, 52)),
    ((1090, 25, 1150, 55), (150, 150, 150)),
    ((500, 150, 780, 210), (120, 120, 120)),
    ((120, 600, 520, 1000), (225, 225, 228)),
    ((760, 600, 1160, 1000), (225, 225, 228)),
    ((300, 1640, 980, 1760), (200, 200, 200)),
    ((100, 2300, 300, 3000), (232, 232, 235)),
    ((500, 3270, 780, 3330), (110, 110, 110)),
    ((0, 3820, W, H), (40, 44, 52)),
)

PEERS_PACKAGES = ("pyheatmap==0.1.12", "matplotlib", "moviepy==1.0.3")
PEERS_CHECK = (
    "from PIL import Image; Image.ANTIALIAS = Image.Resampling.LANCZOS; "
    "import heatmappy, pyheatmap.heatmap"
)
PEER_RUNNER = '''"""Written by bench/heatmaps.py: one peer render in a fresh process; prints JSON.

    peers-venv/bin/python peer_runner.py {heatmappy|pyheatmap} clicks.npy background.png out.png
"""
import json
import resource
import sys
import time

import numpy as np
from PIL import Image

impl, clicks_path, background_path, out_path = sys.argv[1:5]
xy = np.load(clicks_path)
points = list(zip(xy[0].tolist(), xy[1].tolist()))
background = Image.open(background_path).convert("RGB")
background.load()
if impl == "heatmappy":
    if not hasattr(Image, "ANTIALIAS"):  # removed in Pillow 10; it was always LANCZOS
        Image.ANTIALIAS = Image.Resampling.LANCZOS
    from heatmappy import Heatmapper

    start = time.perf_counter()
    mapper = Heatmapper(point_diameter=50, point_strength=0.2, opacity=0.65, colours="default")
    image = mapper.heatmap_on_img(points, background)
elif impl == "pyheatmap":
    from pyheatmap.heatmap import HeatMap

    start = time.perf_counter()
    image = HeatMap(points, width=background.width, height=background.height).heatmap(
        base=background, r=10
    )
else:
    raise SystemExit(f"unknown peer {impl!r}")
rendered = time.perf_counter()
image.save(out_path, format="PNG", compress_level=6)
done = time.perf_counter()
print(json.dumps({
    "total_s": done - start,
    "render_s": rendered - start,
    "save_s": done - rendered,
    "mode": image.mode,
    "size": list(image.size),
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
'''

Result = dict[str, Any]


# --- inputs ----------------------------------------------------------------------------------


def gen_clicks(n: int, seed: int = SEED) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """n clicks on the W x H page: gaussian blobs around BUTTONS plus NOISE_SHARE uniform."""
    rng = np.random.default_rng(seed)
    noise = round(n * NOISE_SHARE)
    params = np.array(BUTTONS, dtype=np.float64)
    which = rng.choice(len(BUTTONS), size=n - noise, p=params[:, 4] / params[:, 4].sum())
    x = np.concatenate([rng.normal(params[which, 0], params[which, 2]), rng.uniform(0, W, noise)])
    y = np.concatenate([rng.normal(params[which, 1], params[which, 3]), rng.uniform(0, H, noise)])
    order = rng.permutation(n)
    return (
        np.clip(x[order], 0, W - 1).astype(np.int32),
        np.clip(y[order], 0, H - 1).astype(np.int32),
    )


def make_background() -> Image.Image:
    """A mock page screenshot: grey boxes and text lines on off-white (RGB)."""
    page = Image.new("RGB", (W, H), (250, 250, 250))
    draw = ImageDraw.Draw(page)
    for box, fill in BOXES:
        draw.rectangle(box, fill=fill)
    for top in range(1100, 3800, 60):
        draw.rectangle((380, top, 1180, top + 14), fill=(205, 205, 208))
    return page


def write_inputs(ns: list[int]) -> dict[int, Path]:
    """Background PNGs (page size, and output size for the encode-only runs) and clicks.npy."""
    background = make_background()
    background.save(OUT / "background.png")
    padded = Image.new("RGB", (W, H + LEGEND_PX), (255, 255, 255))
    padded.paste(background, (0, LEGEND_PX))
    padded.save(OUT / "background_padded.png")
    paths = {}
    for n in ns:
        paths[n] = OUT / f"clicks_{n}.npy"
        np.save(paths[n], np.stack(gen_clicks(n)))
    return paths


# --- one run in a child process --------------------------------------------------------------


def render_ours(xy: npt.NDArray[np.int32], background: Image.Image, out: Path) -> Result:
    """clicktrail's renderer, from clicks in memory to a PNG on disk, phase by phase."""
    start = time.perf_counter()
    grid = grid_from_cells(cells_of(xy[0], xy[1], W))
    binned = time.perf_counter()
    legend = Legend(page="/bench", band="desktop", period="synthetic", clicks=xy.shape[1], views=0)
    image = render_heatmap(grid, legend, background=background)
    rendered = time.perf_counter()
    save_png(image, str(out), compress_level=COMPRESS_LEVEL)
    done = time.perf_counter()
    return {
        "total_s": done - start,
        "bin_s": binned - start,
        "render_s": rendered - binned,
        "save_s": done - rendered,
        "mode": image.mode,
        "size": list(image.size),
    }


def encode_only(image: Image.Image, out: Path) -> Result:
    start = time.perf_counter()
    image.save(out, format="PNG", compress_level=COMPRESS_LEVEL)
    return {"total_s": time.perf_counter() - start, "mode": image.mode, "size": list(image.size)}


def load_rgb(path: Path) -> Image.Image:
    image = Image.open(path).convert("RGB")
    image.load()
    return image


def child(impl: str, source: Path, out: Path) -> None:
    """`ours`: source is clicks.npy; `encode`: source is an RGB PNG to encode again."""
    if impl == "ours":
        result = render_ours(np.load(source), load_rgb(OUT / "background.png"), out)
    else:
        result = encode_only(load_rgb(source), out)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(argv: list[str]) -> Result:
    done = subprocess.run(
        argv, capture_output=True, text=True, cwd=OUT, timeout=CHILD_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    result: Result = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_impl(impl: str, n: int, clicks: Path) -> Result:
    out = OUT / f"{impl}_{n}.png"
    if impl == "ours":
        argv = [sys.executable, __file__, "--child", "ours", str(clicks), str(out)]
    elif impl == "encode_out":  # our own output for this N, encoded again
        source = OUT / f"ours_{n}.png"
        argv = [sys.executable, __file__, "--child", "encode", str(source), str(out)]
    elif impl == "encode_bg":  # the page alone (and the blank legend strip)
        source = OUT / "background_padded.png"
        argv = [sys.executable, __file__, "--child", "encode", str(source), str(out)]
    else:
        background = OUT / "background.png"
        argv = [str(PEERS_PYTHON), str(RUNNER), impl, str(clicks), str(background), str(out)]
    return run_child(argv)


# --- peers' venv -----------------------------------------------------------------------------


def ensure_peers_venv() -> None:
    """bench-out/peers-venv with heatmappy (without its unbuildable pins) and pyheatmap, on
    this venv's NumPy and Pillow so that all three encode PNGs with the same zlib build."""
    check = [str(PEERS_PYTHON), "-c", PEERS_CHECK]
    if PEERS_PYTHON.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return
    print(f"creating {PEERS_VENV} (heatmappy, pyheatmap) ...", file=sys.stderr)
    if not PEERS_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    pip = [str(PEERS_PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    pinned = (f"numpy=={np.__version__}", f"pillow=={PIL.__version__}", *PEERS_PACKAGES)
    subprocess.run([*pip, *pinned], check=True)
    subprocess.run([*pip, "--no-deps", "heatmappy==0.2.6"], check=True)
    subprocess.run(check, check=True)


# --- (d) aggregation -------------------------------------------------------------------------


def make_entries(count: int) -> list[Entry]:
    """Stream entries as the collector stores them: msgpack header + CLICKS_PER_ENTRY clicks."""
    x, y = gen_clicks(count * CLICKS_PER_ENTRY, seed=SEED + 1)
    xs, ys = x.tolist(), y.tolist()
    now = int(time.time() * 1000)
    entries: list[Entry] = []
    for e in range(count):
        header = StoredHeader(v=1, site="shop", sid=f"s{e % 997}", vid="v", recv=now, skew=0)
        clicks: list[Event] = [
            make_click(e, i, xs[e * CLICKS_PER_ENTRY + i], ys[e * CLICKS_PER_ENTRY + i], now)
            for i in range(CLICKS_PER_ENTRY)
        ]
        fields = {b"h": encode_header(header), b"e": encode_events(clicks)}
        entries.append((f"{now}-{e}", fields))
    return entries


def make_click(entry: int, i: int, x: float, y: float, now: int) -> Click:
    return Click(
        id=f"c{entry:07d}{i:02d}",
        ts=now - i * 1000,
        p=("/", f"/product/{entry % 50}", "/cart", "/checkout")[entry % 4],
        pv=f"pv{entry}",
        x=float(x),
        y=float(y),
        vw=(390, 820, 1280, 1280)[(entry // 4) % 4],
        vh=800,
        dh=float(H),
        sel=("button.buy", "a.nav", "div.card", "")[i % 4],
        tag=("button", "a", "div", "span")[i % 4],
        ptr="mouse",
        dead=i % 20 == 0,
    )


def time_aggregation(entries: list[Entry], reps: int) -> list[float]:
    """Seconds per commit_for over all entries; a fresh Aggregator (cold template cache) each."""
    runs = []
    for _ in range(reps):
        aggregator = Aggregator(PageTemplates(), 90)
        start = time.perf_counter()
        commit = aggregator.commit_for("shop", 0, entries)
        runs.append(time.perf_counter() - start)
        if len(commit.entry_ids) != len(entries) or commit.dead:
            raise RuntimeError("aggregation dropped entries")
    return runs


# --- driver and report -----------------------------------------------------------------------


def reps_for(impl: str, n: int, args: argparse.Namespace) -> int:
    if impl == "pyheatmap" and n >= SLOW_N:
        slow_reps = args.reps if args.slow_reps is None else args.slow_reps
        return 0 if args.skip_slow else int(min(slow_reps, args.reps))
    return int(args.reps)


def run_all(
    args: argparse.Namespace, clicks: dict[int, Path]
) -> dict[str, dict[int, list[Result]]]:
    impls = ("ours", "encode_out", "encode_bg", "heatmappy", "pyheatmap")
    results: dict[str, dict[int, list[Result]]] = {impl: {} for impl in impls}
    for n in args.ns:
        for rep in range(args.reps):
            for impl in impls:
                if rep >= reps_for(impl, n, args):
                    continue
                result = run_impl(impl, n, clicks[n])
                results[impl].setdefault(n, []).append(result)
                print(f"n={n} rep {rep + 1} {impl}: {result['total_s']:.3f} s", file=sys.stderr)
    return results


def med(results: dict[int, list[Result]], n: int, field: str = "total_s") -> float | None:
    runs = results.get(n)
    return statistics.median(r[field] for r in runs) if runs else None


def cell(value: float | None, width: int, digits: int = 3, suffix: str = "") -> str:
    return f"{'n/a' if value is None else f'{value:.{digits}f}{suffix}':>{width}}"


def ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or bottom is None else top / bottom


def report(results: dict[str, dict[int, list[Result]]], agg: list[float], args: Any) -> None:
    ours, enc, bg = results["ours"], results["encode_out"], results["encode_bg"]
    hpy, phm = results["heatmappy"], results["pyheatmap"]
    print(
        f"\nHeatmap of a {W}x{H} page, PNG zlib level {COMPRESS_LEVEL}; seconds, medians of "
        f"{args.reps} runs, each in a fresh process (timer: render + save only)"
    )
    print(
        f"{'N clicks':>9}{'ours':>8}{'bin':>7}{'render':>8}{'save':>7}{'enc out':>9}{'enc bg':>8}"
        f"{'heatmappy':>11}{'pyheatmap':>11}{'hpy/ours':>10}{'phm/ours':>10}{'ours/enc':>10}"
    )
    for n in args.ns:
        print(
            f"{n:>9,}{cell(med(ours, n), 8)}{cell(med(ours, n, 'bin_s'), 7)}"
            f"{cell(med(ours, n, 'render_s'), 8)}{cell(med(ours, n, 'save_s'), 7)}"
            f"{cell(med(enc, n), 9)}{cell(med(bg, n), 8)}{cell(med(hpy, n), 11, 2)}"
            f"{cell(med(phm, n), 11, 2)}{cell(ratio(med(hpy, n), med(ours, n)), 10, 1, 'x')}"
            f"{cell(ratio(med(phm, n), med(ours, n)), 10, 1, 'x')}"
            f"{cell(ratio(med(ours, n), med(enc, n)), 10, 2, 'x')}"
        )
    print(
        "ours = bin + render + save (render_heatmap: blur, colour, composite, legend; "
        f"output {W}x{H + LEGEND_PX} RGB);\n"
        "enc out = Pillow PNG encode alone of ours' output image for that N; enc bg = of the "
        "page alone at the same size.\npeers save the image their library returns: "
        + "; ".join(peer_modes(name, results[name]) for name in ("heatmappy", "pyheatmap"))
    )
    slow = [(n, len(runs)) for n, runs in phm.items() if len(runs) < args.reps]
    skipped = [n for n in args.ns if n not in phm]
    if slow or skipped:
        print(
            "pyheatmap: "
            + "; ".join(f"N={n:,} {k} run(s) only" for n, k in slow)
            + ("; " if slow and skipped else "")
            + ("skipped at N=" + ", ".join(f"{n:,}" for n in skipped) if skipped else "")
        )
    print_rss(results, args.ns)
    rate = args.agg_entries * CLICKS_PER_ENTRY / statistics.median(agg)
    print(
        f"\n(d) Aggregator.commit_for over {args.agg_entries:,} entries x {CLICKS_PER_ENTRY} "
        f"clicks: median {statistics.median(agg):.3f} s of {len(agg)} "
        f"({', '.join(f'{s:.3f}' for s in agg)}) = {rate:,.0f} events/s"
    )
    print_targets(results, rate)


def misshapen(results: dict[str, dict[int, list[Result]]]) -> list[str]:
    """Runs whose image is not the page: the peers' exactly the page; ours (and its encodes)
    the page's width, the legend strip above it and at least its height (the blur's tail
    below the lowest clicks may go deeper)."""
    wrong = []
    for impl, runs in results.items():
        peer = impl in ("heatmappy", "pyheatmap")
        for n, found in runs.items():
            for size in (r["size"] for r in found):
                fits = size == [W, H] if peer else size[0] == W and size[1] >= H + LEGEND_PX
                wrong += [] if fits else [f"{impl} N={n:,}: {size[0]}x{size[1]}"]
    return wrong


def peer_modes(name: str, runs: dict[int, list[Result]]) -> str:
    shapes = {f"{r['mode']} {r['size'][0]}x{r['size'][1]}" for rs in runs.values() for r in rs}
    return f"{name} {', '.join(sorted(shapes)) or 'n/a'}"


def print_rss(results: dict[str, dict[int, list[Result]]], ns: list[int]) -> None:
    names = ("ours", "heatmappy", "pyheatmap")
    print(f"\npeak RSS of the whole process, MB (median)\n{'N clicks':>9}", end="")
    print("".join(f"{name:>11}" for name in names))
    for n in ns:
        print(f"{n:>9,}" + "".join(cell(med(results[name], n, "rss_mb"), 11, 0) for name in names))


def print_targets(results: dict[str, dict[int, list[Result]]], rate: float) -> None:
    ours, enc = results["ours"], results["encode_out"]
    m = 1_000_000
    checks = [  # name, value, at most (True) or at least (False), bound
        ("whole render / PNG encode at 1M", ratio(med(ours, m), med(enc, m)), True, 2.0),
        ("heatmappy / ours at 1M", ratio(med(results["heatmappy"], m), med(ours, m)), False, 30),
        (
            "heatmappy / ours at 100k",
            ratio(med(results["heatmappy"], m // 10), med(ours, m // 10)),
            False,
            10,
        ),
        ("aggregation events/s", rate, False, 100_000),
    ]
    print("\ntargets:")
    for name, value, at_most, bound in checks:
        big = bound >= 1000
        target = f"{'<=' if at_most else '>='} {f'{bound:,}' if big else f'{bound:.1f}x'}"
        if value is None:
            shown, verdict = "n/a", "not measured"
        else:
            shown = f"{value:,.0f}" if big else f"{value:.2f}x"
            verdict = "MET" if (value <= bound if at_most else value >= bound) else "MISSED"
        print(f"  {name:<34}{shown:>12}   target {target:<12}{verdict}")
    page_only = ratio(med(ours, m), med(results["encode_bg"], m))
    if page_only is not None:
        print(f"  (whole render at 1M / PNG encode of the page alone: {page_only:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--ns", default="10000,100000,1000000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--slow-reps", type=int, help="pyheatmap runs at N >= 1M (default: --reps)")
    parser.add_argument("--skip-slow", action="store_true", help="skip pyheatmap at N >= 1M")
    parser.add_argument("--agg-entries", type=int, default=5000)
    parser.add_argument(
        "--smoke", action="store_true", help=f"1 run of everything at N={SMOKE_N:,} (CI)"
    )
    parser.add_argument("--child", nargs=3, metavar=("IMPL", "SOURCE", "OUT"), help="internal")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    if args.smoke:
        args.ns, args.reps, args.agg_entries = str(SMOKE_N), 1, SMOKE_AGG_ENTRIES
    args.ns = [int(n) for n in args.ns.split(",")]
    ensure_peers_venv()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    RUNNER.write_text(PEER_RUNNER)
    clicks = write_inputs(args.ns)
    entries = make_entries(args.agg_entries)
    agg = time_aggregation(entries, args.reps)
    results = run_all(args, clicks)
    (OUT / "results.json").write_text(
        json.dumps({"renders": results, "aggregation_s": agg, "args": vars(args)}, indent=2)
    )
    report(results, agg, args)
    wrong = misshapen(results)
    if wrong:
        raise SystemExit("renders not of the page's size:\n" + "\n".join(wrong))


if __name__ == "__main__":
    main()
