"""Interactive colorization: solve once, then add strokes one at a time.

The bundled example's scribbles are solved first; then three strokes a user might add (a
recoloured collar, a warmer background patch, a correction on the nose) are given one at a
time to :meth:`varcolor.Colorizer.update`, which corrects the first solve's LU instead of
solving again. Each update is checked against a fresh solve of all the cues so far.

Run: ``python examples/interactive.py [OUT.png]`` (writes the four stages side by side).
"""

import sys
import time
from pathlib import Path

import numpy as np

import varcolor

DATA = Path(__file__).parent / "data"

# (rows, columns, a, b): rectangles of one colour, as a brush would paint them.
STROKES = [
    (slice(262, 266), slice(170, 260), 18.0, 40.0),
    (slice(20, 24), slice(380, 440), 25.0, 30.0),
    (slice(205, 208), slice(215, 235), 30.0, 12.0),
]


def main(out_path: str | None = None) -> list[dict]:
    gray = varcolor.read_image(DATA / "chelsea.png")
    cues = varcolor.Cues.from_marked(gray, varcolor.read_image(DATA / "chelsea_marked.png"))
    colorizer = varcolor.Colorizer(gray)
    start = time.perf_counter()
    stages = [colorizer.solve(cues)]
    print(f"first solve: {time.perf_counter() - start:.3f} s ({cues.count} cue pixels)")
    report = []
    for rows, columns, a, b in STROKES:
        mask = np.zeros(gray.shape, bool)
        mask[rows, columns] = True
        stroke = varcolor.Cues(mask, np.where(mask[..., None], (a, b), 0.0))
        cues = cues.merged(stroke)
        stages.append(colorizer.update(stroke))
        fresh = varcolor.colorize(gray, cues)
        report.append(
            {
                "update": stages[-1].info["update"],
                "seconds": stages[-1].info["seconds"],
                "max_ab_difference": float(np.abs(stages[-1].ab - fresh.ab).max()),
            }
        )
        print(
            f"stroke of {stroke.count} px: {report[-1]['update']} update in {report[-1]['seconds']:.3f} s, "
            f"{report[-1]['max_ab_difference']:.4f} ab from a fresh solve"
        )
    if out_path:
        gap = np.ones((gray.shape[0], 6, 3))
        varcolor.write_image(out_path, np.concatenate([p for s in stages for p in (s.rgb, gap)][:-1], axis=1))
        print(f"{out_path}: the first solve, then after each stroke")
    return report


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
