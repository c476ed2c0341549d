"""Build the bundled example from scikit-image's ``chelsea`` photo (redistributable, BSD).

Writes, under ``varcolor/data/`` (shipped with the package; ``examples/data/`` links to its files):

* ``chelsea.png`` — the same-lightness gray image (what varcolor colorizes),
* ``chelsea_marked.png`` — the gray image with colour scribbles (Levin's convention),
* ``chelsea.points.json`` — the same cues as a points file (one point per stroke vertex),
* ``chelsea_original.png`` — the colour original, for scoring.

Each scribble takes the median true chroma (Lab a, b) under it, drawn at the gray image's own
lightness, as a user picking a colour from a reference would.

Run: ``python examples/make_example.py [FOLDER]`` (writes into ``varcolor/data/`` unless a
FOLDER is given).
"""

import json
import sys
from pathlib import Path

import numpy as np
import skimage.data
from scipy import ndimage
from skimage.draw import line

import varcolor

# Strokes as (x, y) vertices over regions of one colour: fur, eyes, nose, chin, background.
STROKES = [
    [(150, 30), (250, 20), (320, 40)],
    [(60, 150), (90, 230), (120, 280)],
    [(330, 180), (360, 240)],
    [(152, 116), (168, 128)],
    [(307, 140), (318, 150)],
    [(245, 235), (268, 240)],
    [(405, 60), (430, 150), (420, 250)],
    [(15, 30), (20, 100)],
    [(200, 275), (280, 288)],
    [(205, 150), (230, 200)],
    [(290, 60), (335, 100), (375, 130)],
    [(35, 60), (60, 120)],
    [(370, 160), (385, 200)],
    [(100, 60), (125, 80)],
]


def stroke_mask(shape, vertices, width=3):
    mask = np.zeros(shape, bool)
    for (x0, y0), (x1, y1) in zip(vertices[:-1], vertices[1:], strict=True):
        rr, cc = line(y0, x0, y1, x1)
        mask[rr, cc] = True
    return ndimage.binary_dilation(mask, iterations=width // 2)


#: Where the bundled example lives: the package, so that an installed varcolor has it.
PACKAGE_DATA = Path(__file__).resolve().parent.parent / "varcolor" / "data"


def main(folder: Path = PACKAGE_DATA) -> None:
    folder = Path(folder)
    rgb = skimage.data.chelsea() / 255.0
    lab = varcolor.color.rgb_to_lab(rgb)
    gray = varcolor.color.gray_from_lightness(lab[..., 0])
    marked_lab = np.concatenate([lab[..., :1], np.zeros_like(lab[..., 1:])], axis=2)
    points = []
    for vertices in STROKES:
        mask = stroke_mask(gray.shape, vertices)
        chroma = np.median(lab[mask][:, 1:], axis=0)
        marked_lab[mask, 1:] = chroma
        points += [
            {"y": y, "x": x, "a": round(float(chroma[0]), 2), "b": round(float(chroma[1]), 2), "radius": 2}
            for x, y in vertices
        ]
    marked = varcolor.color.lab_to_rgb(marked_lab)
    varcolor.write_image(folder / "chelsea.png", gray)
    varcolor.write_image(folder / "chelsea_marked.png", marked)
    varcolor.write_image(folder / "chelsea_original.png", rgb)
    (folder / "chelsea.points.json").write_text(json.dumps(points, indent=1) + "\n")
    print(f"wrote the example to {folder}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
