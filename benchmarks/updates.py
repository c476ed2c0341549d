"""A session of strokes: ``Colorizer.update`` after each of a sequence of strokes on one photo.

A Kodak photo resized to ``--megapixels`` with 1 % random cues is solved once; then ``--strokes``
strokes (4×40 px, random places and colours, seed 0) are added one at a time. Each update's time,
kind (low-rank correction of the first LU — from the last result or from the first solve —, window,
or global solve) and pixels held (and of them those next to unknowns, which need a multiplier) are recorded,
and the last result is compared with a fresh direct solve of all the cues. Writes
``updates.json`` and ``updates.md`` (``--name`` changes the stem).

Run: ``python benchmarks/updates.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np  # noqa: E402
import timing_environment  # noqa: E402,F401  (before NumPy: one BLAS thread, no huge pages)

HERE = Path(__file__).resolve().parent

from speed import SHARED, scene  # noqa: E402


def session(megapixels: float, strokes: int, method: str, solver: str) -> dict:
    import varcolor

    gray, cues = scene(megapixels, "random1")
    warm = varcolor.Colorizer(gray[:64, :64], method=method, solver=solver)  # load the kernels
    warm.solve(varcolor.Cues(cues.mask[:64, :64], cues.ab[:64, :64]))
    dot = np.zeros((64, 64), bool)
    dot[30:32, 30:34] = True
    warm.update(varcolor.Cues(dot, np.where(dot[..., None], (30.0, -20.0), 0.0)))
    colorizer = varcolor.Colorizer(gray, method=method, solver=solver)
    start = time.perf_counter()
    colorizer.solve(cues)
    first = time.perf_counter() - start
    rng = np.random.default_rng(0)
    steps = []
    for _ in range(strokes):
        mask = np.zeros(gray.shape, bool)
        i, j = rng.integers(0, gray.shape[0] - 4), rng.integers(0, gray.shape[1] - 40)
        mask[i : i + 4, j : j + 40] = True
        stroke = varcolor.Cues(mask, np.where(mask[..., None], rng.uniform(-40, 40, 2), 0.0))
        cues = cues.merged(stroke)
        result = colorizer.update(stroke)
        steps.append(
            {
                "seconds": result.info["seconds"],
                "update": result.info.get("update", "global"),
                "correction": result.info.get("correction"),
                "held": result.info.get("held"),
                "block": result.info.get("block"),
            }
        )
    fresh = varcolor.colorize(gray, cues, method=method, solver="direct")
    return {
        "megapixels": megapixels,
        "shape": list(gray.shape),
        "method": method,
        "solver": solver,
        "first_seconds": first,
        "steps": steps,
        "final_max_error": float(np.abs(result.ab - fresh.ab).max()),
    }


def table(run: dict) -> str:
    lines = [
        f"{run['method']}, solver {run['solver']}, {run['shape'][1]}×{run['shape'][0]} Kodak photo, "
        f"1 % random cues; first solve {run['first_seconds']:.2f} s; after the last stroke, "
        f"max |Δab| against a fresh direct solve: {run['final_max_error']:.4f}",
        "",
        "| stroke | update | seconds | pixels held | of them with a multiplier |",
        "|---|---|---|---|---|",
    ]
    for k, s in enumerate(run["steps"]):
        kind = s["update"] + (f" ({s['correction']})" if s.get("correction") else "")
        lines.append(
            f"| {k + 1} | {kind} | {s['seconds']:.3f} | {s['held'] if s['held'] is not None else ''} | "
            f"{s['block'] if s.get('block') is not None else ''} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, default=1.0)
    parser.add_argument("--strokes", type=int, default=12)
    parser.add_argument("--method", default="levin", choices=("levin", "levin-symmetric"))
    parser.add_argument("--solver", default="direct", choices=("direct", "amg", "multigrid", "cg", "auto"))
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--name", default="updates", help="result file stem (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.strokes < 1 or args.megapixels <= 0:
        parser.error("--strokes must be at least 1 and --megapixels positive")
    if not (SHARED / "kodak").is_dir():
        print(f"updates: error: {SHARED / 'kodak'}: no such folder", file=sys.stderr)
        return 2
    run = session(args.megapixels, args.strokes, args.method, args.solver)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(run, indent=1))
    text = table(run)
    (out / f"{args.name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
