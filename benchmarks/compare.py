"""Comparing with a method run elsewhere, end to end, as the guide walks through it.

On scikit-image's colour photos (redistributable: the plot goes into the docs), at the published
256×256 protocol: ``varcolor bench --export-hints`` writes each photo's gray and hints; the
"outside" method is the shipped network run from those files by ``varcolor colorize --method
ideepcolor`` (any program that reads a gray PNG and a points file would do); ``varcolor bench
--results`` scores its results beside the built-in ``levin`` row, with
the published SIGGRAPH17 curve (``../shared/data/anchors``, when there) drawn dashed.

Writes ``benchmarks/results/compare_skimage.json`` and ``.md`` (the table) and
``docs/images/bench_compare.png`` (the plot), and checks that ``levin`` run from the exported
files scores exactly as its built-in row.

Run: ``python benchmarks/compare.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import skimage.data
from reports import write_report
from shared_data import SHARED

import varcolor

HERE = Path(__file__).resolve().parent
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
HINTS = "0,1,2,5,10,20,50,100,200,500"
CURVE = SHARED / "anchors" / "psnr_vs_points_siggraph17.csv"


def varcolor_cli(*argv) -> str:
    """``varcolor ARGV…`` in a child process, as a user types it; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "varcolor.cli", *map(str, argv)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"varcolor {' '.join(map(str, argv))}: exit {done.returncode}\n{done.stderr}")
    return done.stdout


def main() -> int:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for name in PHOTOS:
            varcolor.write_image(work / "photos" / f"{name}.png", getattr(skimage.data, name)() / 255.0)
        protocol = ["--hints", HINTS, "-q"]
        # 1. The inputs out (and the built-in rows, which start from exactly these files).
        varcolor_cli("bench", work / "photos", "-m", "", "--export-hints", work / "export", *protocol)
        # 2. "Elsewhere": the network, and levin as a check, each run from the exported files.
        for method in ("ideepcolor", "levin"):
            varcolor_cli("colorize", work / "export", "-o", work / method, "--method", method, "-q")
            shutil.copy(work / "export" / "manifest.json", work / method / "manifest.json")
        # 3. Their results in: one table, one plot.
        curve = []
        if CURVE.is_file():  # its file name is its label on the plot
            curve = ["--plot-published", shutil.copy(CURVE, work / "SIGGRAPH17 on ImageNet.csv")]
        plot = HERE.parent / "docs" / "images" / "bench_compare.png"
        flags = ["-m", "levin", "--results", f"network-from-files={work / 'ideepcolor'}", *protocol]
        table = varcolor_cli("bench", work / "photos", *flags, "--plot", plot, "--overwrite", *curve)
        check = ["--results", f"levin-from-files={work / 'levin'}", "--format", "json"]
        report = json.loads(varcolor_cli("bench", work / "photos", *flags, *check))
    means = {(m["method"], m["hints"]): m["psnr"] for m in report["summary"]}
    exact = all(means["levin", n] == means["levin-from-files", n] for n in map(int, HINTS.split(",")))
    report.update(photos=list(PHOTOS), hints=HINTS, seconds=time.perf_counter() - start, round_trip_exact=exact)
    write_report(HERE / "results", "compare_skimage", report, table)
    print(table)
    print(f"levin from the exported files scores as its built-in row: {exact}; plot: {plot}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
