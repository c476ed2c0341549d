"""Colour that follows the object (issue 107), on the shared protocol's placement.

Runs ``../shared/protocols/skeleton_strokes.py``'s placement (a stroke along the whole skeleton of
each of a photo's five most colourful objects, in the object's median colour) and its harder
variant (each stroke kept to the 40 % of its skeleton nearest the object's centre, its colour
guessed: hue turned by up to ±15°, chroma scaled 0.8–1.25), and scores the default engine with
the protocol's own scores: gain over the gray image, photos below it, leak (chroma on truly
neutral pixels of no stroked object), reach (|Δab| inside the stroked objects), with the bounds
``ceiling`` and ``flat`` beside it; and the confidence map's mean on leaked pixels (result
chroma ≥ 6 where the truth is neutral, in no stroked object) and on the stroked objects.

Photos: ``--part tuning`` (what constants are chosen on) or ``test`` (what is reported),
``--photos N`` a set. Writes ``skeleton_strokes[_NAME].json`` and ``.md`` in
``benchmarks/results`` (``--name``).

Run: ``python benchmarks/skeleton_strokes.py --part test --photos 40``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path

import numpy as np
from shared_data import SHARED, split

import varcolor

RESULTS = Path(__file__).parent / "results"


def protocol():
    """The shared protocol's module (placement and scores), loaded from ``../shared/protocols``."""
    path = SHARED.parent / "protocols" / "skeleton_strokes.py"
    spec = importlib.util.spec_from_file_location("skeleton_strokes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def harder(mask: np.ndarray, ab: np.ndarray, stroked_labels: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """The variant: each stroke kept to the 40 % of its pixels nearest its object's centre, its
    colour guessed (hue ±15°, chroma × 0.8–1.25)."""
    out_mask = np.zeros_like(mask)
    out_ab = np.zeros_like(ab)
    for label in np.unique(stroked_labels[mask]):
        line = mask & (stroked_labels == label)
        ys, xs = np.nonzero(stroked_labels == label)
        cy, cx = ys.mean(), xs.mean()
        ly, lx = np.nonzero(line)
        distance = np.hypot(ly - cy, lx - cx)
        keep = distance <= np.quantile(distance, 0.4)
        a, b = ab[ly[0], lx[0]]
        turn = np.radians(rng.uniform(-15, 15))
        scale = rng.uniform(0.8, 1.25)
        guessed = scale * np.array([a * np.cos(turn) - b * np.sin(turn), a * np.sin(turn) + b * np.cos(turn)])
        out_mask[ly[keep], lx[keep]] = True
        out_ab[ly[keep], lx[keep]] = guessed
    return out_mask, out_ab


def objects_of(module, rgb: np.ndarray) -> np.ndarray:
    """Each stroked object's label (0: none), by the protocol's segmentation and choice."""
    from skimage import color, segmentation

    lab = color.rgb2lab(rgb)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    seg = segmentation.felzenszwalb(rgb, scale=300, sigma=0.8, min_size=int(0.005 * chroma.size))
    return seg + 1


def run(module, photos: list[Path], variant: str, seed: int = 0) -> list[dict]:
    rows = []
    rng = np.random.default_rng(seed)
    for path in photos:
        rgb = module.load(path)
        gray, lab, chroma, mask, ab, stroked = module.strokes(rgb)
        if not mask.any():
            continue
        if variant == "short guessed":
            labels = objects_of(module, rgb)
            mask, ab = harder(mask, ab, np.where(stroked, labels, 0), rng)
            if not mask.any():
                continue
        start = time.perf_counter()
        result = varcolor.colorize(gray, varcolor.Cues(mask, ab.astype(np.float32)))
        seconds = time.perf_counter() - start
        ceiling, flat = module.bounds(rgb, lab, mask, ab, stroked)
        p, leak, reach, neutral = module.score(result.rgb, rgb, lab, chroma, stroked)
        out_chroma = np.hypot(*varcolor.color.rgb_to_lab(result.rgb)[..., 1:].transpose(2, 0, 1))
        leaked = neutral & (out_chroma >= 6)
        confidence = result.confidence
        rows.append(
            {
                "photo": path.name,
                "gray": module.psnr(np.dstack([gray] * 3), rgb),
                "result": p,
                "ceiling": module.psnr(ceiling, rgb),
                "flat": module.psnr(flat, rgb),
                "leak": leak,
                "reach": reach,
                "confidence_leaked": float(confidence[leaked].mean()) if leaked.any() else float("nan"),
                "confidence_stroked": float(confidence[stroked & ~mask].mean()),
                "seconds": seconds,
            }
        )
    return rows


def summary(rows: list[dict]) -> dict:
    r = {k: np.array([row[k] for row in rows], float) for k in rows[0] if k != "photo"}
    return {
        "photos": len(rows),
        "gain": float((r["result"] - r["gray"]).mean()),
        "ceiling": float((r["ceiling"] - r["gray"]).mean()),
        "flat": float((r["flat"] - r["gray"]).mean()),
        "below_gray": int((r["result"] < r["gray"]).sum()),
        "leak": float(np.nanmean(r["leak"])),
        "reach": float(r["reach"].mean()),
        "confidence_leaked": float(np.nanmean(r["confidence_leaked"])),
        "confidence_stroked": float(np.nanmean(r["confidence_stroked"])),
        "seconds": float(r["seconds"].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("tuning", "test"), default="test")
    parser.add_argument("--photos", type=int, default=40, help="photos a set (the first N)")
    parser.add_argument("--name", default="")
    args = parser.parse_args()
    module = protocol()
    wanted = {"bsds500/val", "bsds500/train", "imagenet-sample/train 300+", "imagenet-sample/train 0–299"}
    sets = {label: paths[: args.photos] for label, paths in split(args.part).items() if label in wanted}
    table = []
    for label, photos in sets.items():
        for variant in ("whole skeleton", "short guessed"):
            rows = run(module, photos, variant)
            table.append({"set": label, "variant": variant, **summary(rows), "rows": rows})
            s = table[-1]
            print(
                f"{label:28s} {variant:15s} n={s['photos']:3d} gain {s['gain']:+.2f} (ceiling {s['ceiling']:+.2f}, "
                f"flat {s['flat']:+.2f}) below {s['below_gray']} leak {s['leak']:.2f} reach {s['reach']:.2f} "
                f"conf leaked {s['confidence_leaked']:.2f} stroked {s['confidence_stroked']:.2f} {s['seconds']:.2f} s",
                flush=True,
            )
    name = "skeleton_strokes" + (f"_{args.name}" if args.name else "")
    RESULTS.mkdir(exist_ok=True)
    record = {"part": args.part, "photos": args.photos, "table": table}
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=1))
    lines = [
        "# Colour that follows the object: the shared skeleton protocol",
        "",
        f"Made by `python benchmarks/skeleton_strokes.py --part {args.part} --photos {args.photos}"
        + (f" --name {args.name}" if args.name else "")
        + "`: the default engine; gain and bounds in dB over the gray image; leak, reach in ab; "
        "confidence: the map's mean on leaked pixels (chroma ≥ 6 on truly neutral pixels of no stroked object) "
        "and on the stroked objects.",
        "",
        "| set | strokes | photos | gain | ceiling | flat | below gray | leak | reach "
        "| conf. leaked | conf. stroked | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in table:
        lines.append(
            f"| {s['set']} | {s['variant']} | {s['photos']} | {s['gain']:+.2f} | {s['ceiling']:+.2f} "
            f"| {s['flat']:+.2f} "
            f"| {s['below_gray']} | {s['leak']:.2f} | {s['reach']:.2f} | {s['confidence_leaked']:.2f} "
            f"| {s['confidence_stroked']:.2f} | {s['seconds']:.2f} |"
        )
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
