"""Marked images read for both kinds of paint: the hand scribbles redrawn antialiased against
their hard-edged twins, and true-colour marks against a strokes layer.

For every ``X.png`` + ``X_marked*.png`` pair under ``../shared/data/scribbles`` (research-only
data: only the numbers go to ``benchmarks/results``) the scribbles' strokes (the marked pixels,
less a noisy copy's faint differences) are redrawn twice from one smooth outline: **antialiased**,
each pixel the strokes' paint over the gray weighted by how much of it the outline covers (paint
of two colours side by side blended alike), as a paint program draws; and **hard-edged**, full
paint where the outline covers half the pixel or more. Each stroke's paint is its core's colour
(the strokes eroded by a pixel), so strokes of several colours that touch or cross keep their
places. Both twins are read by :meth:`varcolor.Cues.from_marked` and colorized with the default
method and with Levin's; the table gives the mean ab distance between the two results within 5
pixels of the strokes (target: under 1), and how many edge pixels were read as partial paint.

``--true-colour`` adds rows for strokes of true colours copied from scikit-image's colour photos
(hard-edged, textured, crossing): the same strokes read as a marked image and as a layered file's
strokes layer (:func:`varcolor.app.cues.layer_cues`), colorized with the default method: the
largest and mean difference in 8-bit levels (target: at most 1).

Run: ``python benchmarks/marked_paint.py [--only NAME ...] [--name NAME] [--true-colour]``;
writes ``results/NAME.json`` and ``results/NAME.md`` (default ``marked_paint``). Run it with
``PYTHONPATH`` at another checkout to measure that code under another ``--name``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage
from shared_data import SHARED

import varcolor

HERE = Path(__file__).resolve().parent
METHODS = ("levin-multiscale", "levin")
#: Supersampling of the redrawn outline, and its smoothing (pixels of the fine grid).
FACTOR, SMOOTH = 4, 2.0
#: Pixels around the strokes' outline where the results are compared.
NEAR = 5


def pairs(root: Path):
    """(name, gray path, marked path) for every scribble pair (a colour original used as the
    marked image is no strokes: left out)."""
    for marked in sorted(root.rglob("*_marked*.png")):
        gray = marked.with_name(marked.name.split("_marked")[0] + ".png")
        if gray.is_file() and "_original" not in marked.name:
            yield f"{marked.parent.name}/{marked.stem}", gray, marked


def _up(image: np.ndarray) -> np.ndarray:
    return image.repeat(FACTOR, axis=0).repeat(FACTOR, axis=1)


def _down(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // FACTOR, image.shape[1] // FACTOR
    return image.reshape(h, FACTOR, w, FACTOR, *image.shape[2:]).mean(axis=(1, 3))


def twins(gray: np.ndarray, marked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scribbles redrawn antialiased and hard-edged from one smooth outline (8-bit), and the
    hard twin's strokes."""
    difference = np.abs(marked - gray[..., None])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a noisy copy's warning
            read = varcolor.Cues.from_marked(gray, marked, edges="exact").mask
    except varcolor.InputError:  # a noisy copy (casual): read exactly, its noise is most of the photo
        read = difference.sum(axis=2) > varcolor.cues.MARKED_THRESHOLD
    strays = difference.max(axis=2)
    strokes = read & (strays > varcolor.reading.marks.copy_noise(gray, marked))
    core = ndimage.binary_erosion(strokes, border_value=1)
    core |= strokes & ~ndimage.binary_dilation(core, iterations=2)  # thin strokes: their own pixels
    fine_core = _up(core)
    nearest = ndimage.distance_transform_edt(~fine_core, return_distances=False, return_indices=True)
    paint = _up(marked)[tuple(nearest)]  # each fine pixel the colour of the nearest core
    outline = ndimage.gaussian_filter(_up(strokes).astype(np.float64), SMOOTH) >= 0.5
    fine_gray = _up(gray)[..., None]
    antialiased = _down(np.where(outline[..., None], paint, fine_gray))
    cover = _down(outline.astype(np.float64))
    centre = paint[FACTOR // 2 :: FACTOR, FACTOR // 2 :: FACTOR]
    drawn = cover >= 0.5
    hard = np.where(drawn[..., None], centre, gray[..., None])
    return np.round(antialiased * 255) / 255, np.round(hard * 255) / 255, drawn


def blended(note: str) -> int:
    """The count of edge pixels a cue note says were read as partial paint."""
    for part in note.split("; "):
        if "read as partial paint" in part:
            return int(part.split()[0].replace(",", ""))
    return 0


def run_pair(name: str, gray_path: Path, marked_path: Path) -> dict:
    gray = varcolor.color.to_gray(varcolor.read_image(gray_path))
    gray = gray[: gray.shape[0] // FACTOR * FACTOR or None, : gray.shape[1] // FACTOR * FACTOR or None]
    marked = varcolor.read_image(marked_path)[: gray.shape[0], : gray.shape[1], :3]
    antialiased, hard, drawn = twins(gray, marked)
    near = ndimage.binary_dilation(drawn, iterations=NEAR)
    start = time.perf_counter()
    read = varcolor.Cues.from_marked(gray, antialiased)
    seconds = time.perf_counter() - start
    twin = varcolor.Cues.from_marked(gray, hard)
    row = {
        "pair": name,
        "pixels": gray.size,
        "stroke_pixels": int(drawn.sum()),
        "blended": blended(read.note),
        "hard_blended": blended(twin.note),
        "read_seconds": seconds,
    }
    for method in METHODS:
        first = varcolor.colorize(gray, read, method=method).ab
        second = varcolor.colorize(gray, twin, method=method).ab
        apart = np.hypot(*np.moveaxis(first - second, -1, 0))[near]
        row[f"{method}_ab"] = float(apart.mean())
        row[f"{method}_over5"] = float(np.mean(apart > 5))
    return row


def run_true_colour(name: str, tmp: Path) -> dict:
    """True-colour strokes (7 px, crossing) copied from a scikit-image photo: as marks and as a
    strokes layer (the layered file's reading), the default method."""
    import skimage.data
    from skimage.draw import line
    from skimage.transform import resize

    from varcolor.app.cues import layer_cues
    from varcolor.color import same_lightness_gray

    shape, width = (384, 512), 7
    rgb = np.round(resize(getattr(skimage.data, name)() / 255.0, shape, anti_aliasing=True) * 255) / 255
    gray = np.round(same_lightness_gray(rgb) * 255) / 255
    strokes = np.zeros(shape, bool)
    for y0, x0, y1, x1 in np.random.default_rng(1).integers(8, min(shape) - 8 - width, (16, 4)):
        rows, cols = line(y0, x0, y1, x1)
        for dy in range(width):
            for dx in range(width):
                strokes[rows + dy, cols + dx] = True
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[strokes] = rgb[strokes]
    painted = np.abs(marked - gray[..., None]).sum(axis=2) > varcolor.cues.MARKED_THRESHOLD
    edge = painted & ~ndimage.binary_erosion(painted)
    read = varcolor.Cues.from_marked(gray, marked)
    layer = layer_cues(tmp / "work.ora", np.concatenate([marked, painted[..., None] * 1.0], axis=2))
    flat = np.round(varcolor.colorize(gray, read).rgb * 255)
    layered = np.round(varcolor.colorize(gray, layer).rgb * 255)
    apart = np.abs(flat - layered)
    return {
        "pair": f"true colour: {name}",
        "pixels": gray.size,
        "stroke_pixels": int(painted.sum()),
        "edge_pixels": int(edge.sum()),
        "blended": blended(read.note),
        "levels_max": float(apart.max()),
        "levels_mean": float(apart.mean()),
    }


def markdown(rows: list[dict]) -> str:
    out = [
        f"Antialiased twin against hard-edged twin: mean ab apart within {NEAR} px of the strokes "
        "(share of those pixels over 5 ab); blended: edge pixels read as partial paint.",
        "",
        "| pair | pixels | stroke pixels | blended | default ab | levin ab | default >5 | levin >5 | read s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "levels_max" in r:
            continue
        out.append(
            f"| {r['pair']} | {r['pixels']:,} | {r['stroke_pixels']:,} | {r['blended']:,} "
            f"| {r['levin-multiscale_ab']:.2f} | {r['levin_ab']:.2f} | {100 * r['levin-multiscale_over5']:.1f} % "
            f"| {100 * r['levin_over5']:.1f} % | {r['read_seconds']:.2f} |"
        )
    colour = [r for r in rows if "levels_max" in r]
    if colour:
        out += [
            "",
            "True-colour strokes (hard-edged, textured, crossing) as a marked image against a strokes layer, "
            "default method, 8-bit levels:",
            "",
            "| photo | stroke pixels | edge pixels | read as partial paint | levels max | levels mean |",
            "|---|---|---|---|---|---|",
        ]
        for r in colour:
            out.append(
                f"| {r['pair']} | {r['stroke_pixels']:,} | {r['edge_pixels']:,} | {r['blended']:,} "
                f"| {r['levels_max']:.0f} | {r['levels_mean']:.3f} |"
            )
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scribbles", default=str(SHARED / "scribbles"), help="folder of scribble pairs")
    parser.add_argument("--only", nargs="*", help="pair names (set/stem) to run")
    parser.add_argument("--out", default=str(HERE / "results"), help="output folder")
    parser.add_argument("--name", default="marked_paint", help="result file stem (default: %(default)s)")
    parser.add_argument("--true-colour", action="store_true", help="also true-colour marks against a strokes layer")
    args = parser.parse_args(argv)
    root = Path(args.scribbles)
    if not root.is_dir():
        print(f"marked_paint: error: {root}: no such folder", file=sys.stderr)
        return 2
    rows = []
    for pair in pairs(root):
        if args.only and pair[0] not in args.only:
            continue
        rows.append(run_pair(*pair))
        print(rows[-1], flush=True)
    if args.true_colour:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            for name in ("coffee", "chelsea", "astronaut"):
                rows.append(run_true_colour(name, Path(tmp)))
                print(rows[-1], flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with varcolor.io.atomic_path(out / f"{args.name}.json") as tmp:
        tmp.write_text(json.dumps({"varcolor": varcolor.__version__, "near": NEAR, "rows": rows}, indent=1))
    with varcolor.io.atomic_path(out / f"{args.name}.md") as tmp:
        tmp.write_text(markdown(rows))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
