"""How close bilaplacian-gtv's ADMM tolerance gets to the minimiser, and what each costs.

For each Kodak photo at full size (768×512) with the ideepcolor protocol's hints, one ADMM run is
carried from the loosest tolerance to the tightest (``Colorizer.solve`` then ``refine``: the same
iteration continued), and each stop is compared with the last: iterations so far, PSNR, and the
chroma's distance from the tightest result (largest pixel, 99.9th percentile of pixels, RMS; ab units).

Writes ``gtv_tolerance.json`` and ``gtv_tolerance.md``.
Run: ``python benchmarks/gtv_tolerance.py --limit 10`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import workers
from shared_data import SHARED
from tqdm import tqdm

import varcolor
from varcolor import bench
from varcolor.cues import sample_ideepcolor
from varcolor.errors import ConvergenceWarning

HERE = Path(__file__).resolve().parent
TOLERANCES = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4)


def run(task: tuple) -> list[dict]:
    """One photo and hint count: the stops of one ADMM run (in a worker process)."""
    index, path, hints, tolerances = task
    rgb = bench.original(varcolor.read_image(path), "full")
    cues = sample_ideepcolor(rgb, n=hints, patch=6, rng=[bench.SEED, index, hints])
    colorizer = varcolor.Colorizer(
        varcolor.color.same_lightness_gray(rgb), method="bilaplacian-gtv", admm_tol=tolerances[0]
    )
    stops, iterations = [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the tightest may stop at the limit: reported
        for k, tol in enumerate(tolerances):
            result = colorizer.solve(cues) if k == 0 else colorizer.refine(tol)
            iterations += result.info["iterations"]
            stops.append((tol, iterations, result))
    tightest = stops[-1][2]
    rows = []
    for tol, iterations, result in stops:
        distance = np.abs(result.ab - tightest.ab)
        rows.append(
            {
                "image": Path(path).name,
                "hints": hints,
                "tol": tol,
                "iterations": iterations,
                "residual": result.info["residual"],
                "psnr": varcolor.metrics.psnr(result.rgb, rgb),
                "max_ab": float(distance.max()),
                "p999_ab": float(np.quantile(distance.max(axis=2), 0.999)),
                "rms_ab": float(np.sqrt(np.mean(distance**2))),
            }
        )
    return rows


def markdown(rows: list[dict], tolerances, hint_counts, label: str) -> str:
    out = [
        f"bilaplacian-gtv (default parameters) on {label}, full size, ideepcolor hints; one ADMM run "
        f"carried from {tolerances[0]:g} to {tolerances[-1]:g}. Distances (ab units) are from the "
        f"{tolerances[-1]:g} result; ranges over the photos, PSNR change against it as a mean.",
        "",
        "| hints | tolerance | iterations (so far) | largest pixel | 99.9 % of pixels | RMS | PSNR − tightest (dB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for hints in hint_counts:
        last = {r["image"]: r["psnr"] for r in rows if r["hints"] == hints and r["tol"] == tolerances[-1]}
        for tol in tolerances:
            chosen = [r for r in rows if (r["hints"], r["tol"]) == (hints, tol)]
            if not chosen:
                continue

            def span(key: str, fmt: str, chosen: list = chosen) -> str:
                return f"{fmt.format(min(r[key] for r in chosen))}–{fmt.format(max(r[key] for r in chosen))}"

            change = np.mean([r["psnr"] - last[r["image"]] for r in chosen])
            out.append(
                f"| {hints} | {tol:g} | {span('iterations', '{}')} | {span('max_ab', '{:.2f}')} | "
                f"{span('p999_ab', '{:.2f}')} | {span('rms_ab', '{:.3f}')} | {change:+.3f} |"
            )
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=str(SHARED / "kodak"), help="folder of colour images")
    parser.add_argument("--limit", type=int, default=10, help="the first N images (0: all)")
    parser.add_argument("--hints", default="50", help="comma-separated hint counts")
    parser.add_argument(
        "--tolerances", default=",".join(f"{t:g}" for t in TOLERANCES), help="comma-separated, loosest first"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--name", default="gtv_tolerance")
    args = parser.parse_args(argv)
    folder = Path(args.images)
    if not folder.is_dir():
        print(f"gtv_tolerance: error: {folder}: no such folder", file=sys.stderr)
        return 2
    paths = [folder / p for p in varcolor.walk_images(folder)][: args.limit or None]
    hint_counts = [int(h) for h in args.hints.split(",")]
    tolerances = sorted((float(t) for t in args.tolerances.split(",")), reverse=True)
    tasks = [(i, str(p), n, tolerances) for n in hint_counts for i, p in enumerate(paths)]
    rows, start = [], time.perf_counter()
    with workers.pool(args.workers) as pool:
        for done in tqdm(pool.map(run, tasks), total=len(tasks), desc="gtv_tolerance", unit="image"):
            rows += done
    label = f"{folder.name} ({len(paths)} images)"
    table = markdown(rows, tolerances, hint_counts, label)
    out = Path(args.out)
    with varcolor.io.atomic_path(out / f"{args.name}.json") as tmp:
        tmp.write_text(
            json.dumps(
                {
                    "images": str(folder),
                    "count": len(paths),
                    "hints": hint_counts,
                    "tolerances": tolerances,
                    "seconds": time.perf_counter() - start,
                    "varcolor": varcolor.__version__,
                    "rows": rows,
                },
                indent=1,
            )
        )
    with varcolor.io.atomic_path(out / f"{args.name}.md") as tmp:
        tmp.write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
