"""A first ``--method bilaplacian-gtv`` run, as a user who never ran ``varcolor warm`` meets it: the
bundled example (its scribbles) scaled to each ``--megapixels``, each run ``varcolor colorize`` in a
fresh process, the background compile off (``VARCOLOR_BACKGROUND_WARM=0``), three ways:

- *kernels, cold*: ADMM's numba kernels compiled in the run (numba's cache an empty folder), as every
  first run was before the array code;
- *kernels, warm*: the same run again, the kernels loaded from that cache;
- *array code*: ``VARCOLOR_KERNELS=array``, what a photo of up to
  ``varcolor.common.kernels.GTV_ARRAY_CODE_PIXELS`` pixels runs while its kernels are not compiled (nothing to
  compile).

Each row gives the ADMM iterations of the kernels' and the array code's runs and the largest
difference between their results (8-bit levels): the same minimum, reached in about as many
iterations. Where the array code beats the cold kernels is where it should run; the limit is set
from this table.

Writes ``benchmarks/results/first_run_gtv.json`` and ``.md``.

    python benchmarks/first_run_gtv.py [--megapixels 0.1 0.25 0.5 1]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
from first_run import photo, timed
from reports import csr_matvec_ms, write_report

import varcolor
import varcolor.common.kernels

ROOT = Path(__file__).resolve().parent.parent


def run(gray: Path, marked: Path, out: Path, cache: Path, choice: str) -> tuple[float, int]:
    """One ``varcolor colorize --method bilaplacian-gtv`` with ``VARCOLOR_KERNELS=choice``: its
    seconds and ADMM iterations (its progress bar's last count)."""
    os.environ[varcolor.common.kernels.KERNELS_VARIABLE] = choice
    argv = [sys.executable, "-m", "varcolor.cli", "colorize", str(gray), "--marked", str(marked)]
    argv += ["--method", "bilaplacian-gtv", "-o", str(out), "--overwrite"]
    seconds, stderr = timed(argv, cache)
    counts = re.findall(r"ADMM: 100%.*?\| (\d+)/\1 ", stderr)
    return seconds, int(counts[-1]) if counts else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    os.environ[varcolor.common.kernels.BACKGROUND_WARM_VARIABLE] = "0"
    speed = csr_matvec_ms()
    rows = []
    for megapixels in args.megapixels:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            gray, marked = photo(folder, megapixels)
            cache = folder / "cache"
            cold, iterations = run(gray, marked, folder / "cold.png", cache, "numba")
            warm, _ = run(gray, marked, folder / "warm.png", cache, "numba")
            array, array_iterations = run(gray, marked, folder / "array.png", cache, "array")
            kernels_result = np.round(varcolor.read_image(folder / "warm.png") * 255).astype(int)
            array_result = np.round(varcolor.read_image(folder / "array.png") * 255).astype(int)
            size = varcolor.read_image(gray).shape
        row = {
            "megapixels": size[0] * size[1] / 1e6,
            "size": list(size[:2]),
            "kernels_cold_s": cold,
            "kernels_warm_s": warm,
            "array_s": array,
            "iterations": iterations,
            "array_iterations": array_iterations,
            "largest_level_difference": int(np.abs(kernels_result - array_result).max()),
            "load": os.getloadavg()[0],
        }
        rows.append(row)
        print(row, flush=True)
    lines = [
        "# A first bilaplacian-gtv run, never warmed",
        "",
        f"`python benchmarks/first_run_gtv.py`; {os.cpu_count()} cores; a 1 MP CSR mat-vec {speed:.1f} ms. "
        "Each run `varcolor colorize --method bilaplacian-gtv` of the bundled example scaled (its scribbles "
        "with it) in a fresh process, the background compile off. Kernels cold: numba's cache empty, its "
        "kernels compiled in the run; warm: loaded from that cache; array code: `VARCOLOR_KERNELS=array`, "
        "what a small photo runs until its kernels are compiled. The limit of the array code is "
        f"{varcolor.common.kernels.GTV_ARRAY_CODE_PIXELS / 1e6:.2f} MP "
        "(`varcolor.common.kernels.GTV_ARRAY_CODE_PIXELS`).",
        "",
        "| photo | kernels, cold | kernels, warm | array code | array / cold | ADMM iterations (kernels / array) "
        "| largest difference (8-bit levels) | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        past = row["megapixels"] * 1e6 > varcolor.common.kernels.GTV_ARRAY_CODE_PIXELS  # the kernels, whatever asked
        lines.append(
            f"| {row['size'][1]}×{row['size'][0]} ({row['megapixels']:.2f} MP) | {row['kernels_cold_s']:.1f} s "
            f"| {row['kernels_warm_s']:.1f} s | {'past the limit, the kernels: ' if past else ''}"
            f"{row['array_s']:.1f} s "
            f"| {row['array_s'] / row['kernels_cold_s']:.2f} "
            f"| {row['iterations']} / {row['array_iterations']} | {row['largest_level_difference']} "
            f"| {row['load']:.1f} |"
        )
    write_report(args.out, "first_run_gtv", {"csr_matvec_ms": speed, "rows": rows}, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
