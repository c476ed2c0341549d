"""The exact methods' GPU solver (``solver="aggregation"``: BiCGSTAB preconditioned by an
aggregation multigrid built on the device) on the CPU through the same array code: how its
iterations grow with the photo, how far it lands from the exact LU, on Levin's system, and its
peak memory (Python's allocations during the solver's build and solve, bytes a pixel: what
``estimate_bytes("aggregation", ...)`` plans from).

Scene: scikit-image's astronaut resized, film grain σ = 0.03, 12 strokes in its own colours
(3–5 px wide, a fifth of the width long). Iterations do not depend on the device; the times here
are the CPU's (SciPy's sparse products, one dense coarsest level), not a GPU's.

    python benchmarks/aggregation_iterations.py --out benchmarks/results/aggregation_iterations
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np
from skimage import data, transform

import varcolor
from varcolor.color import rgb_to_lab, same_lightness_gray

SIDES = (200, 400, 800)


def scene(side: int):
    shape = (side, int(side * 1.5))
    rng = np.random.default_rng(0)
    rgb = transform.resize(data.astronaut() / 255.0, shape, anti_aliasing=True)
    rgb = np.clip(rgb + rng.normal(0, 0.03, rgb.shape), 0, 1)
    mask = np.zeros(shape, bool)
    for _ in range(12):
        top, left = rng.integers(0, shape[0] - 10), rng.integers(0, shape[1] - shape[1] // 4)
        mask[top : top + max(3, side // 150), left : left + shape[1] // 5] = True
    ab = np.where(mask[..., None], rgb_to_lab(rgb)[..., 1:], 0.0)
    return same_lightness_gray(rgb), varcolor.Cues(mask, ab)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="PATH: writes PATH.md and PATH.json")
    parser.add_argument("--sides", type=int, nargs="+", default=SIDES, help="photo heights (width 1.5×)")
    args = parser.parse_args()
    rows = []
    for side in args.sides:
        gray, cues = scene(side)
        exact = varcolor.colorize(gray, cues, method="levin", solver="direct", tol=1e-12)
        for tol in (1e-8, 1e-10):
            start = time.perf_counter()
            tracemalloc.start()
            result = varcolor.colorize(gray, cues, method="levin", solver="aggregation", tol=tol, maxiter=2000)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            seconds = time.perf_counter() - start
            row = {
                "shape": list(gray.shape),
                "megapixels": round(gray.size / 1e6, 3),
                "tol": tol,
                "iterations": result.info["iterations"],
                "residual": result.info["residual"],
                "max_dab_vs_lu": float(np.abs(result.ab - exact.ab).max()),
                "cpu_seconds": round(seconds, 2),
                "peak_bytes_per_pixel": round(peak / gray.size),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = [
        "# The `aggregation` solver's iterations by photo size (Levin's exact system)",
        "",
        f"`benchmarks/aggregation_iterations.py` ({time.strftime('%Y-%m-%d')}), on this machine's CPU through the",
        "solver's array code (the iterations are the device's; the seconds are not a GPU's).",
        "",
        "| shape | MP | tol | iterations | max Δab vs the LU | CPU s | peak bytes a pixel |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['shape'][0]}×{row['shape'][1]} | {row['megapixels']} | {row['tol']:.0e} | {row['iterations']} "
            f"| {row['max_dab_vs_lu']:.1e} | {row['cpu_seconds']} | {row['peak_bytes_per_pixel']} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
