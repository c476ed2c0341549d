"""Pictures of automatic colorization (the shipped network, no cues) for the documentation.

Writes ``benchmarks/results/local/automatic_kodak.png`` — for each of the 24 Kodak photos, the
network's ``faithful`` and ``vivid`` colours with no cues next to the original (thumbnails); kept
out of the repository because the Kodak photos carry no licence to redistribute them — and
``docs/images/automatic.png`` — the bundled example's gray input, its ``faithful`` and ``vivid``
colours with no cues, and the original.

Run: ``python benchmarks/contact_sheet.py``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from shared_data import SHARED
from skimage.transform import resize

import varcolor

ROOT = Path(__file__).resolve().parent.parent
THUMB = 120  # longer side of a contact-sheet thumbnail


def automatic(rgb: np.ndarray, mode: str) -> np.ndarray:
    """The network's colours for ``rgb``'s gray, with no cues (what ``--prior ideepcolor
    --automatic MODE`` gives)."""
    gray = varcolor.color.same_lightness_gray(rgb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return varcolor.colorize(gray, varcolor.Cues.empty(gray.shape), method="ideepcolor", automatic=mode).rgb


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` fitted into a THUMB×THUMB white square."""
    scale = THUMB / max(rgb.shape[:2])
    small = np.clip(
        resize(rgb, (round(rgb.shape[0] * scale), round(rgb.shape[1] * scale)), order=1, anti_aliasing=True), 0, 1
    )
    tile = np.ones((THUMB, THUMB, 3))
    y, x = (THUMB - small.shape[0]) // 2, (THUMB - small.shape[1]) // 2
    tile[y : y + small.shape[0], x : x + small.shape[1]] = small
    return tile


def main() -> int:
    torch.set_num_threads(1)
    folder = SHARED / "kodak"
    cells = []
    for name in varcolor.walk_images(folder):
        rgb = varcolor.read_image(folder / name)[..., :3]
        gap = np.ones((THUMB, 4, 3))
        colours = [thumbnail(automatic(rgb, mode)) for mode in ("faithful", "vivid")]
        cells.append(np.concatenate([colours[0], gap, colours[1], gap, thumbnail(rgb)], axis=1))
    columns = 3
    rows = [
        np.concatenate(sum(([cell, np.ones((THUMB, 16, 3))] for cell in cells[k : k + columns]), [])[:-1], axis=1)
        for k in range(0, len(cells), columns)
    ]
    sheet = np.concatenate(sum(([row, np.ones((8, row.shape[1], 3))] for row in rows), [])[:-1], axis=0)
    varcolor.write_image(ROOT / "benchmarks" / "results" / "local" / "automatic_kodak.png", sheet)

    original = varcolor.read_image(ROOT / "examples" / "data" / "chelsea_original.png")[..., :3]
    gray = np.repeat(varcolor.color.same_lightness_gray(original)[..., None], 3, axis=2)
    gap = np.ones((original.shape[0], 6, 3))
    varcolor.write_image(
        ROOT / "docs" / "images" / "automatic.png",
        np.concatenate(
            [gray, gap, automatic(original, "faithful"), gap, automatic(original, "vivid"), gap, original], axis=1
        ),
    )
    print(f"wrote benchmarks/results/local/automatic_kodak.png ({len(cells)} photos) and docs/images/automatic.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
