"""The Krita plug-in's round trip with the real Krita (``varcolor krita check``) at a few document
sizes: each Colorize's seconds in Krita (the action to the layer placed), varcolor's own share of
it, and the whole round trip (Krita started with a fresh profile, a cancelled run, two runs, a save,
Krita ended); with the machine's load.

    python benchmarks/krita.py [--sizes 451x300,1200x900] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from reports import write_report

from varcolor.krita import check


def measure(width: int, height: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="varcolor-krita-bench-") as folder:
        load = os.getloadavg()[0]
        found = check.round_trip(Path(folder), (height, width))
        said = json.loads((Path(folder) / "report.json").read_text())["runs"]
    return {
        "size": f"{width}x{height}",
        "megapixels": round(width * height / 1e6, 2),
        "passed": found.passed,
        "levels": found.levels,
        "run_seconds": found.run_seconds,
        "varcolor_seconds": [float(run["message"].split()[-2]) for run in said],
        "round_trip_seconds": found.seconds,
        "load_before": round(load, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="451x300,1200x900")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    rows = [measure(*map(int, size.split("x"))) for size in args.sizes.split(",")]
    lines = [
        "| document | MP | passed | levels | Colorize in Krita (s) | of which varcolor (s) | round trip (s) | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        runs = ", ".join(f"{s:.1f}" for s in row["run_seconds"])
        own = ", ".join(f"{s:.1f}" for s in row["varcolor_seconds"])
        load = f"{row['load_before']}–{row['load_after']}"
        lines.append(
            f"| {row['size']} | {row['megapixels']} | {row['passed']} | {row['levels']} | {runs} | {own} "
            f"| {row['round_trip_seconds']:.0f} | {load} |"
        )
    table = "\n".join(lines)
    print(table)
    write_report(args.out, "krita", {"rows": rows}, "# The Krita round trip\n\n" + table)


if __name__ == "__main__":
    main()
