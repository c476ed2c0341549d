"""levin-multiscale's full-resolution correction, before and after a change, under the same load.

For each scene (``engine.scene``: kodim05 with sparse scribbles, hints or dense scribbles) a
fresh ``Colorizer(gray).solve(cues)`` is timed ``--repeats`` times, in a child process per
varcolor tree, the trees taking turns (``--rounds``): the whole first solve, the correction's
own seconds (``info["engine"]["correct_seconds"]``), the unknowns it solved, both as multiples of
50 CSR mat-vecs of Levin's matrix measured in the same child; and the largest |Δab| between the
trees' results. ``--before`` is a folder holding the other ``varcolor`` package, e.g.
``git archive main varcolor | tar -x -C /tmp/before``.

Run: ``python benchmarks/multiscale_correction.py --before /tmp/before --sizes 1``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import timing_environment  # noqa: F401  (before NumPy's first use: one BLAS thread)
from reports import write_report

HERE = Path(__file__).resolve().parent
PATTERNS = ("sparse-scribbles", "hints", "dense-scribbles")


def measure(sizes: list[float], patterns: list[str], repeats: int, out: str) -> None:
    """In this process (its ``varcolor``): each scene's medians, and its last result's ab in ``out``."""
    import time

    from engine import matvec_unit, scene

    import varcolor

    rows, results = [], {}
    for megapixels in sizes:
        for pattern in patterns:
            gray, cues = scene(megapixels, pattern)
            varcolor.Colorizer(gray).solve(cues)  # kernels loaded, caches warm
            seconds, correct = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                result = varcolor.Colorizer(gray).solve(cues)
                seconds.append(time.perf_counter() - start)
                correct.append(result.info["engine"]["correct_seconds"])
            unit = matvec_unit(gray, cues.mask)
            engine = result.info["engine"]
            rows.append(
                dict(
                    megapixels=megapixels,
                    pattern=pattern,
                    seconds=float(np.median(seconds)),
                    correct_seconds=float(np.median(correct)),
                    unit_seconds=unit,
                    tiles=engine["tiles"],
                    unknowns=engine["corrected_pixels"],
                )
            )
            results[f"{megapixels}-{pattern}"] = result.ab
    np.savez(out, **results)
    print(json.dumps(rows))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="a folder holding the varcolor package to compare with")
    parser.add_argument("--sizes", default="1")
    parser.add_argument("--patterns", default=",".join(PATTERNS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--name", default="engine_multiscale_correction_ab")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",")]
    patterns = args.patterns.split(",")
    if args.measure:
        measure(sizes, patterns, args.repeats, args.measure)
        return 0
    trees = {"before": str(Path(args.before).resolve()), "after": str(HERE.parent)}
    runs: dict[str, list] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            for label, tree in trees.items():
                out = os.path.join(scratch, f"{label}.npz")
                command = [sys.executable, __file__, "--measure", out, "--before", tree, "--sizes", args.sizes]
                command += ["--patterns", args.patterns, "--repeats", str(args.repeats)]
                env = {**os.environ, "PYTHONPATH": tree}
                done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
                runs[label].append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(f"round {round_ + 1} {label}: {runs[label][-1]}", flush=True)
        before, after = (np.load(os.path.join(scratch, f"{label}.npz")) for label in ("before", "after"))
        differences = {key: float(np.abs(before[key] - after[key]).max()) for key in before}
    rows = []
    for k, first in enumerate(runs["after"][0]):
        row = {key: first[key] for key in ("megapixels", "pattern", "tiles", "unknowns")}
        for label in trees:
            measured = [run[k] for run in runs[label]]
            for key in ("seconds", "correct_seconds"):
                row[f"{label}_{key}"] = float(np.median([m[key] for m in measured]))
            row[f"{label}_units"] = float(np.median([m["seconds"] / m["unit_seconds"] for m in measured]))
            row[f"{label}_correct_units"] = float(
                np.median([m["correct_seconds"] / m["unit_seconds"] for m in measured])
            )
        row["max_delta_ab"] = differences[f"{row['megapixels']}-{row['pattern']}"]
        rows.append(row)
    load = os.getloadavg()
    lines = [
        f"# {args.name}",
        "",
        f"`benchmarks/multiscale_correction.py`: medians of {args.repeats} solves × {args.rounds} rounds per tree, "
        f"the trees taking turns; load average {load[0]:.1f} at the end (2 cores, shared). × 50 mv: multiples of "
        "50 CSR mat-vecs of the scene's Levin matrix, measured in the same child.",
        "",
        "| MP | pattern | tiles | unknowns | first solve before → after (s) | × 50 mv before → after | "
        "correction before → after (s) | correction × 50 mv before → after | max |Δab| |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['megapixels']:g} | {r['pattern']} | {r['tiles']} | {r['unknowns']} | "
            f"{r['before_seconds']:.3f} → {r['after_seconds']:.3f} | "
            f"{r['before_units']:.2f} → {r['after_units']:.2f} | "
            f"{r['before_correct_seconds']:.3f} → {r['after_correct_seconds']:.3f} | "
            f"{r['before_correct_units']:.2f} → {r['after_correct_units']:.2f} | {r['max_delta_ab']:.2g} |"
        )
    write_report(args.out, args.name, {"load_average": load, "rows": rows, "runs": runs}, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
