"""Side-by-side picture of the demo: gray input | scribbles | varcolor result | original.

Run: ``python examples/plot_demo.py RESULT.png OUT.png`` (``make demo`` does).
"""

import sys
from pathlib import Path

import numpy as np

import varcolor

DATA = Path(__file__).parent / "data"


def main(result_path: str, out_path: str) -> None:
    gray = varcolor.read_image(DATA / "chelsea.png")
    marked = varcolor.read_image(DATA / "chelsea_marked.png")
    original = varcolor.read_image(DATA / "chelsea_original.png")
    result = varcolor.read_image(result_path)
    gap = np.ones((gray.shape[0], 6, 3))
    panels = [np.repeat(gray[..., None], 3, axis=2), marked, result, original]
    picture = np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1)
    varcolor.write_image(out_path, picture)
    print(f"{out_path}: gray | scribbles | result | original — "
          f"PSNR {varcolor.metrics.psnr(result, original):.2f} dB, "
          f"ΔE2000 {varcolor.metrics.ciede2000(result, original):.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
