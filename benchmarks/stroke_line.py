"""A stroke drawn into the photo: paint more saturated than its object, and the result's chroma
across the stroke's edge.

Strokes as :mod:`restorer_strokes` places them (one along each of the most colourful objects),
their paint's chroma scaled by ``--boost`` (a restorer's guess more saturated than the wall),
on BSDS500 train photos at native size and ``--scale`` times a side (with ``--grain``, the larger
copy's gray given film grain of that σ in 8-bit levels and the paint laid over that grain: a
grainy scan, not a smooth enlargement). Chroma (Lab) is averaged
by distance from the stroke's core (full paint), inside the stroked objects: the result's
against the truth's. A line shows as a step: the core far above the pixels a few stroke widths
out, where the truth is flat. Engines: the default (restraint on and off) and exact Levin.

``python benchmarks/stroke_line.py --photos 4 --scale 4 [--grain 4]`` writes ``results/stroke_line.json``/``.md``
(``--name``).
"""

from __future__ import annotations

import argparse
import glob
import warnings
from pathlib import Path

import numpy as np
from reports import write_report
from restorer_strokes import Marked, place, upscaled
from shared_data import SHARED

HERE = Path(__file__).resolve().parent

#: Rings by distance from the stroke's core, in pixels at native size (times ``--scale`` above it).
RINGS = ((0, 0), (0.5, 3), (3, 6), (6, 10), (10, 20), (20, 40))
#: Engines: label → colorize's keyword arguments.
ENGINES = {"default": {}, "default, restraint off": {"restraint": "off"}, "levin": {"method": "levin"}}


def boosted(case: Marked, boost: float) -> np.ndarray:
    """``case``'s marked copy with its paint's ab scaled by ``boost`` (clipped to sRGB, 8-bit)."""
    from varcolor import color

    lab = color.rgb_to_lab(case.marked)
    painted = case.paint > 0
    lab[..., 1:] = np.where(painted[..., None], lab[..., 1:] * boost, lab[..., 1:])
    rgb = np.round(np.clip(color.lab_to_rgb(lab), 0, 1) * 255) / 255
    return np.where(painted[..., None], rgb, case.marked)


def grainy(case: Marked, marked: np.ndarray, sigma: float, seed: int = 0) -> tuple[Marked, np.ndarray]:
    """``case`` and its marked copy with film grain of ``sigma`` (8-bit levels) on the gray, the paint
    laid over the grainy gray as a brush lays it (coverage × the stroke's colour, the rest the
    grainy gray: each pixel's colour that of the nearest fully painted one), rounded to 8 bits."""
    import dataclasses

    from scipy import ndimage

    noise = np.random.default_rng(seed).normal(0.0, sigma / 255, case.gray.shape)
    gray = np.round(np.clip(case.gray + noise, 0, 1) * 255) / 255
    full = case.paint >= 0.999
    _, (rows, columns) = ndimage.distance_transform_edt(~full, return_indices=True)
    colour = marked[rows, columns]
    cover = case.paint[..., None]
    out = np.round(np.clip((1 - cover) * gray[..., None] + cover * colour, 0, 1) * 255) / 255
    return dataclasses.replace(case, gray=gray), out


def profile(rgb: np.ndarray, case: Marked, scale: int) -> list[float]:
    """Mean chroma of ``rgb`` in each ring of :data:`RINGS` (inside the stroked objects)."""
    from scipy import ndimage

    from varcolor import color

    lab = color.rgb_to_lab(rgb)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    distance = ndimage.distance_transform_edt(case.paint < 0.999)
    out = []
    for low, high in RINGS:
        ring = (distance >= low * scale) & (distance <= high * scale) & case.stroked
        out.append(float(chroma[ring].mean()) if ring.any() else float("nan"))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=4, help="BSDS500 train photos (default %(default)s)")
    parser.add_argument("--scale", type=int, default=4, help="times a side, beside native (default %(default)s)")
    parser.add_argument("--boost", type=float, default=1.8, help="paint's chroma × this (default %(default)s)")
    parser.add_argument("--grain", type=float, default=0.0, help="σ of film grain above native, 8-bit levels")
    parser.add_argument("--name", default="stroke_line", help="results' file stem (default %(default)s)")
    parser.add_argument("--out", default=None, help="results folder (default: benchmarks/results)")
    args = parser.parse_args(argv)
    import imageio.v3 as iio

    import varcolor

    files = sorted(glob.glob(str(SHARED / "bsds500" / "train" / "*.jpg")))[: args.photos]
    rows = []
    for scale in (1, args.scale):
        for engine, keywords in ENGINES.items():
            if engine == "levin" and scale > 1 and args.scale > 4:
                continue  # exact Levin beyond 4× a side: minutes a photo
            results, truths = [], []
            for path in files:
                case = place(iio.imread(path)[..., :3] / 255.0)
                if not case.objects:
                    continue
                case = upscaled(case, scale) if scale > 1 else case
                marked = boosted(case, args.boost)
                if scale > 1 and args.grain:
                    case, marked = grainy(case, marked, args.grain)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    cues = varcolor.Cues.from_marked(case.gray, marked)
                    result = varcolor.colorize(case.gray, cues, **keywords)
                results.append(profile(result.rgb, case, scale))
                truths.append(profile(case.truth, case, scale))
            mean, truth = np.nanmean(results, axis=0), np.nanmean(truths, axis=0)
            rows.append({"scale": scale, "engine": engine, "result": mean.tolist(), "truth": truth.tolist()})
            print(scale, engine, " ".join(f"{v:.1f}" for v in mean), flush=True)
    rings = [f"{low:g}–{high:g} px" if high else "core" for low, high in RINGS]
    lines = [
        "# A stroke drawn into the photo: chroma across its edge",
        "",
        f"`python benchmarks/stroke_line.py --photos {args.photos} --scale {args.scale} --boost {args.boost:g}"
        + (f" --grain {args.grain:g}" if args.grain else "")
        + "`: "
        + ("the larger copy with film grain, " if args.grain else "")
        + f"restorer strokes (benchmarks/restorer_strokes.py) on {len(files)} BSDS500 train photos, their paint's "
        f"ab × {args.boost:g}; mean chroma (ab) inside the stroked objects by distance from the stroke's core "
        "(native pixels; × the scale above native). The truth's row is the same rings of the colour original.",
        "",
        "| size | engine | " + " | ".join(rings) + " |",
        "|---|---|" + "---|" * len(rings),
    ]
    for row in rows:
        size = "native" if row["scale"] == 1 else f"{row['scale']}×"
        lines.append(f"| {size} | {row['engine']} | " + " | ".join(f"{v:.1f}" for v in row["result"]) + " |")
        if row["engine"] == "default":
            lines.append(f"| {size} | truth | " + " | ".join(f"{v:.1f}" for v in row["truth"]) + " |")
    write_report(args.out or HERE / "results", args.name, {"rows": rows}, "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
