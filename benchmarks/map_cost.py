"""What the confidence map's resampling costs (``Reach.confidence`` and ``Reach.at``): the reach
solved on its grid of about 100 cells a side, followed to the photo's pixels along the gray
(:func:`varcolor.restraint.follow_edges`) for the map, and to an engine's coarse grid (blocks of
2 and 3 pixels) for the colour. Each tree named is timed in its own process, the trees in turns,
so that their ratio is read from one run.

Photo: scikit-image's astronaut enlarged to each size, with grain; eight strokes in two colours.

Run: ``python benchmarks/map_cost.py --megapixels 1.5 12 40 --tree now=. --tree before=/tmp/old
[--rounds 2] [--name map_cost]`` (a tree: a checkout of varcolor, such as a ``git worktree``).
Writes ``benchmarks/results/NAME.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from reports import csr_matvec_ms, write_report

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, sys, time
import numpy as np
from skimage import data
from skimage.transform import resize
from varcolor.color import same_lightness_gray
from varcolor.restraint import Restraint

megapixels = float(sys.argv[1])
height = int(round((megapixels * 1e6 * 2 / 3) ** 0.5)); width = int(round(height * 1.5))
gray = same_lightness_gray(resize(data.astronaut(), (512, 768)))
gray = resize(gray, (height, width), order=1)
gray = np.clip(gray + np.random.default_rng(0).normal(0, 0.02, gray.shape), 0, 1)
mask = np.zeros(gray.shape, bool); ab = np.zeros(gray.shape + (2,), np.float32)
rng = np.random.default_rng(1)
for k in range(8):
    top, left = int(rng.integers(0, height - height // 50)), int(rng.integers(0, width // 2))
    rows, columns = slice(top, top + max(2, height // 200)), slice(left, left + width // 4)
    mask[rows, columns] = True
    ab[rows, columns] = (40.0, 30.0) if k % 2 else (-20.0, 40.0)
reach = Restraint(gray).reach(mask, None, ab)
out = {}
for what, call in (
    ("map", lambda: reach.confidence()),
    ("grid of 2", lambda: reach.at((-(-height // 2), -(-width // 2)), 2)),
    ("grid of 3", lambda: reach.at((-(-height // 3), -(-width // 3)), 3)),
):
    times = []
    for _ in range(3):
        start = time.perf_counter(); call(); times.append(time.perf_counter() - start)
    out[what] = min(times)
print(json.dumps(out))
"""


def measure(tree: Path, megapixels: float) -> dict:
    """The seconds of each resampling, in a fresh process importing varcolor from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(megapixels)],
        env=env,
        cwd=tree,  # (a ``-c`` child's first path is its folder, before PYTHONPATH)
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, nargs="+", default=[1.5, 12.0, 40.0])
    parser.add_argument("--tree", action="append", required=True, help="NAME=PATH: a checkout to time")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--name", default="map_cost")
    args = parser.parse_args()
    trees = dict(item.split("=", 1) for item in args.tree)
    rows = []
    for size in args.megapixels:
        for round_ in range(args.rounds):
            order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for name in order:
                result = measure(Path(trees[name]), size)
                rows.append({"megapixels": size, "round": round_, "tree": name, **result})
                print(json.dumps(rows[-1]), flush=True)
    names, parts = list(trees), ("map", "grid of 2", "grid of 3")
    lines = [
        "# The confidence map's resampling: what it costs",
        "",
        f"Made by `python benchmarks/map_cost.py --megapixels {' '.join(f'{m:g}' for m in args.megapixels)} "
        + " ".join(f"--tree {n}=…" for n in names)
        + f" --rounds {args.rounds}`; trees: {', '.join(f'`{n}`' for n in names)}; a 1 MP CSR mat-vec "
        f"{csr_matvec_ms():.1f} ms. Seconds: the best of three calls in a process, the median over the rounds.",
        "",
        "| MP | what | " + " | ".join(names) + (f" | {names[0]} / {names[1]} |" if len(names) > 1 else " |"),
        "|---|---|" + "---|" * (len(names) + (1 if len(names) > 1 else 0)),
    ]
    summary = {}
    for size in args.megapixels:
        for part in parts:
            values = {}
            for name in names:
                seconds = [r[part] for r in rows if r["megapixels"] == size and r["tree"] == name and part in r]
                values[name] = statistics.median(seconds) if seconds else float("nan")
            summary[f"{size:g} MP {part}"] = values
            cells = " | ".join(f"{values[n]:.3f}" for n in names)
            ratio = f" | {values[names[0]] / values[names[1]]:.2f} |" if len(names) > 1 else " |"
            lines.append(f"| {size:g} | {part} | {cells}{ratio}")
    write_report(HERE / "results", args.name, {"rows": rows, "summary": summary}, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
