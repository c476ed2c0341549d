"""Side-by-side picture of the demo: gray input | scribbles | varcolor result | original.

Run: ``python examples/plot_demo.py [RESULT.png] OUT.png``. ``make demo`` passes the result of
``varcolor colorize --marked``; without RESULT.png the script colorizes the bundled example from
its scribbles itself (the same solve, through the Python API).
"""

import sys
from pathlib import Path

import numpy as np

import varcolor

DATA = Path(__file__).parent / "data"


def main(result_path: str | None, out_path: str) -> dict:
    gray = varcolor.read_image(DATA / "chelsea.png")
    marked = varcolor.read_image(DATA / "chelsea_marked.png")
    original = varcolor.read_image(DATA / "chelsea_original.png")
    if result_path is None:
        result = varcolor.colorize(gray, varcolor.Cues.from_marked(gray, marked)).rgb
    else:
        result = varcolor.read_image(result_path)
    gap = np.ones((gray.shape[0], 6, 3))
    panels = [np.repeat(gray[..., None], 3, axis=2), marked, result, original]
    picture = np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1)
    varcolor.write_image(out_path, picture)
    report = {
        "psnr": varcolor.metrics.psnr(result, original),
        "ciede2000": varcolor.metrics.ciede2000(result, original),
    }
    print(
        f"{out_path}: gray | scribbles | result | original — PSNR {report['psnr']:.2f} dB, "
        f"ΔE2000 {report['ciede2000']:.2f}"
    )
    return report


if __name__ == "__main__":
    main(*([None] * (3 - len(sys.argv)) + sys.argv[1:3]))
