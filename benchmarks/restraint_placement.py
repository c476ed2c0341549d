"""How the restorer-strokes protocol's objects move its numbers: the same tuning photos with
objects found coarser or finer (:data:`restorer_strokes.MERGE`, the colour distance within which
superpixels are one object), restrained against unrestrained, with the ceiling.

Why: the issue's own table was made with a placement we do not have. On ours (MERGE 12) the
unrestrained default scores below its gray images on average, where the issue's gained 4.3 and
5.6 dB; coarser objects (a stroke on a bigger share of the photo) bring the unrestrained row
nearer the issue's. This says how the restrained engine's gain, leak and reach follow, and how
high the ceiling (the truth on the stroked objects, neutral elsewhere) goes; and, beside them,
the issue's crude experiment (Levin's system pulled towards neutral on every unmarked pixel,
:func:`restraint.pulled`, at :data:`restraint.PULLS`), which gained 6.2 and 6.6 dB on the issue's
placement: how it fares against the restrained engine on ours, at each object size; and a flat
row (:func:`restraint.flat`): each stroke's colour over exactly its object, neutral elsewhere, what a
perfect segmentation makes of the strokes alone.

Photos: the tuning split's first ``--photos`` of ``bsds500/train`` and of
``imagenet-sample/train`` (never the test split's). A photo the ceiling colours exactly (every
object stroked) is scored at 60 dB. Writes ``restraint_placement.json`` and ``.md``.

Run: ``python benchmarks/restraint_placement.py [--photos 30] [--merges 12,20,30]``.
"""

from __future__ import annotations

import argparse
import glob
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import restorer_strokes
from reports import write_report
from restraint import FLAT, PULLS, ceiling, flat, pulled
from shared_data import IMAGENET_TUNING, SHARED

HERE = Path(__file__).resolve().parent
ROWS = ("unrestrained", "restrained", "ceiling", FLAT) + tuple(f"levin, pull {pull:g} to neutral" for pull in PULLS)
#: A PSNR past this (the ceiling on a photo whose every object is stroked) counts as this.
CAP = 60.0


def _placed(task: tuple[str, float]):
    import varcolor

    path, merge = task
    restorer_strokes.MERGE = merge
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # embedded profiles converted to sRGB
        truth = varcolor.read_image(path)
    if truth.ndim != 3:
        return None
    case = restorer_strokes.place(truth[..., :3])
    return case if case.objects else None


def _scored(task) -> dict[str, float]:
    import varcolor

    case, row = task
    if row == "ceiling":
        rgb = ceiling(case)
    elif row == FLAT:
        rgb = flat(case)
    elif row.startswith("levin, pull"):
        rgb = pulled(case, varcolor.Cues.from_marked(case.gray, case.marked), PULLS[ROWS.index(row) - 4])
    else:
        cues = varcolor.Cues.from_marked(case.gray, case.marked)
        rgb = varcolor.colorize(case.gray, cues, restraint="on" if row == "restrained" else "off").rgb
    out = restorer_strokes.scores(rgb, case)
    out["gain"] = min(out["psnr"], CAP) - out["gray_psnr"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=30, help="photos a set (default 30)")
    parser.add_argument("--merges", default="12,20,30", help="MERGE values (default 12,20,30; 12 shipped)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--name", default="restraint_placement")
    args = parser.parse_args()
    start = time.perf_counter()
    sets = {
        "bsds500/train": sorted(glob.glob(str(SHARED / "bsds500" / "train" / "*.jpg")))[: args.photos],
        "imagenet 0-299": sorted(glob.glob(str(SHARED / "imagenet-sample" / "train" / "*")))[:IMAGENET_TUNING][
            : args.photos
        ],
    }
    merges = [float(m) for m in args.merges.split(",")]
    report: dict = {"photos": args.photos, "rows": []}
    with ProcessPoolExecutor(args.workers) as pool:
        for merge in merges:
            for label, files in sets.items():
                cases = [c for c in pool.map(_placed, [(f, merge) for f in files]) if c is not None]
                for row in ROWS:
                    scored = list(pool.map(_scored, [(c, row) for c in cases]))
                    entry = {
                        "merge": merge,
                        "set": label,
                        "row": row,
                        "photos": len(cases),
                        "stroked": float(np.mean([c.stroked.mean() for c in cases])),
                        "neutral": float(np.mean([c.neutral.mean() for c in cases])),
                        "gray": float(np.mean([s["gray_psnr"] for s in scored])),
                        "gain": float(np.mean([s["gain"] for s in scored])),
                        "below_gray": int(sum(s["gain"] < 0 for s in scored)),
                        "leak": float(np.nanmean([s["leak"] for s in scored])),
                        "reach": float(np.nanmean([s["reach"] for s in scored])),
                    }
                    report["rows"].append(entry)
                    print(entry, flush=True)
    report["seconds"] = time.perf_counter() - start
    lines = [
        "# Restorer strokes: how the size of the objects moves the numbers",
        "",
        f"Made by `python benchmarks/restraint_placement.py --photos {args.photos} --merges {args.merges}` "
        "on the tuning split (never the test split). MERGE: superpixels whose mean colours lie within it (ΔE) "
        "are one object (12 shipped); stroked and neutral: the shares of the photo in stroked and in neutral "
        "objects. The ceiling is the truth on the stroked objects and neutral elsewhere "
        f"(PSNR capped at {CAP:.0f} dB).",
        "",
        "| MERGE | set | photos | stroked | neutral | row | gray dB | gain dB | below gray | leak ab | reach ab |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in report["rows"]:
        lines.append(
            f"| {e['merge']:.0f} | {e['set']} | {e['photos']} | {e['stroked']:.2f} | {e['neutral']:.2f} | {e['row']} | "
            f"{e['gray']:.2f} | {e['gain']:+.2f} | {e['below_gray']} | {e['leak']:.2f} | {e['reach']:.2f} |"
        )
    write_report(HERE / "results", args.name, report, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
