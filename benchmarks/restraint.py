"""Restraint (issue 93): a restorer's few strokes colour their objects and leave the rest neutral.

Three checks, each with the default engine restrained (``restraint="on"``, today's default),
unrestrained (``"off"``: the propagation before it) and exact Levin (``--method levin``); the
restorer rows also with the crude restraint first tried (Levin's system pulled towards neutral
on every unmarked pixel, :data:`PULLS`):

- **Restorer strokes** (:mod:`restorer_strokes`): one antialiased stroke along each of the five
  most colourful objects of a photo, in its median colour, none on neutral objects: gain over the
  gray image (dB), photos below their gray image, leak (mean chroma on neutral pixels no stroke
  touches), reach (mean |Δab| in the stroked objects), and the confidence map's mean on the
  stroked objects less its mean on the neutral ones; at native size and with the photo and its
  strokes 4× larger a side (``--scale``; scale-free: the leak should not move). A ceiling row
  scores the truth's colour on the stroked objects and neutral elsewhere: what a result that
  colours only the stroked objects can reach; a flat row each stroke's colour over exactly its
  object: what the strokes alone say, perfectly placed (:func:`flat`).
- **Random hints**: the published protocol's hints (6×6 patches of the true mean ab) on 256²
  photos, 1 / 10 / 100 hints: mean PSNR, restrained against unrestrained, and the same hints
  taken as strokes.
- **Scribbles** (``../shared/data/scribbles``, research-only): PSNR of each pair with an
  original, restrained against unrestrained.

Photos: the test split (``bsds500/val`` and ``imagenet-sample/train`` from 300,
:mod:`shared_data`); the constants of :mod:`varcolor.restraint` were chosen on the tuning split.
Writes ``restraint.json`` and ``restraint.md`` (``--name``).

``--figure`` writes ``docs/images/restraint.png`` and ``restraint_whole.png`` instead (the cue
guide's pictures; the second: :func:`figure_whole`): scikit-image's
``coffee``, gray, with two coloured strokes (the coffee, the table) and one of gray paint (the
saucer) as a stroke mask, coloured
unrestrained and restrained, and the confidence map.

Run: ``python benchmarks/restraint.py [--photos 15] [--scale 4 --scaled 6] [--no-hints] [--no-scribbles]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import time
import warnings
from pathlib import Path

import numpy as np
from reports import write_report
from restorer_strokes import place, scores, upscaled
from shared_data import IMAGENET_TUNING, SHARED

HERE = Path(__file__).resolve().parent
ENGINES = {
    "restrained": {"restraint": "on"},
    "unrestrained": {"restraint": "off"},
    "levin (exact)": {"method": "levin"},
}
#: A scribble pair whose "original" has less mean chroma (ab) than this has no colour truth (the
#: lightalchemist set's .jpg files are gray): it is named, not scored.
COLOURLESS = 5.0
#: The row of what a perfectly restrained result scores (:func:`ceiling`).
CEILING = "ceiling: truth on the stroked objects, neutral elsewhere"
#: The row of a perfect segmentation: each stroke's colour flat over exactly its object (:func:`flat`).
FLAT = "flat: each stroke's colour over its object, neutral elsewhere"
#: The crude restraint the issue tried first, for comparison (:func:`pulled`): Levin's exact system
#: with a uniform pull of this weight towards neutral on every unmarked pixel (not scale-free).
PULLS = (3e-5, 1e-4)


def _photos(count: int) -> dict[str, list[str]]:
    bsds = sorted(glob.glob(str(SHARED / "bsds500" / "val" / "*.jpg")))[:count]
    imagenet = sorted(glob.glob(str(SHARED / "imagenet-sample" / "train" / "*")))[IMAGENET_TUNING:]
    return {"bsds500/val": bsds, "imagenet 300+": imagenet[:count]}


def restorer(count: int, scale: int, scaled: int) -> dict:
    import varcolor

    out: dict = {}
    for label, files in _photos(count).items():
        rows: dict = {}
        for index, path in enumerate(files):
            truth = varcolor.read_image(path)
            if truth.ndim != 3:
                continue  # a gray photo: nothing to colour
            case = place(truth[..., :3])
            if not case.objects:
                continue
            sizes = [("native", case)] + ([(f"{scale}×", upscaled(case, scale))] if index < scaled else [])
            for size, each in sizes:
                cues = varcolor.Cues.from_marked(each.gray, each.marked)
                for engine, keywords in ENGINES.items():
                    if size != "native" and engine == "levin (exact)":
                        continue  # its LU at 2.4 MP per photo: the native rows tell it
                    start = time.perf_counter()
                    result = varcolor.colorize(each.gray, cues, **keywords)
                    row = scores(result.rgb, each)
                    row["seconds"] = time.perf_counter() - start
                    confidence = result.confidence
                    if engine == "restrained" and confidence is not None and each.neutral.any():
                        row["confidence_gap"] = float(confidence[each.stroked].mean() - confidence[each.neutral].mean())
                    rows.setdefault((size, engine), []).append(row)
                if size == "native":
                    rows.setdefault((size, CEILING), []).append(scores(ceiling(each), each))
                    rows.setdefault((size, FLAT), []).append(scores(flat(each), each))
                    for pull in PULLS:
                        rows.setdefault((size, f"levin, pull {pull:g} to neutral"), []).append(
                            scores(pulled(each, cues, pull), each)
                        )
        out[label] = {
            f"{size} | {engine}": {
                "photos": len(values),
                "gray_psnr": float(np.mean([v["gray_psnr"] for v in values])),
                "psnr": float(np.mean([v["psnr"] for v in values])),
                "gain": float(np.mean([v["gain"] for v in values])),
                "below_gray": int(sum(v["gain"] < 0 for v in values)),
                "leak": float(np.nanmean([v["leak"] for v in values])),
                "reach": float(np.nanmean([v["reach"] for v in values])),
                "confidence_gap": float(np.mean([v["confidence_gap"] for v in values if "confidence_gap" in v]))
                if any("confidence_gap" in v for v in values)
                else None,
            }
            for (size, engine), values in rows.items()
        }
    return out


def pulled(case, cues, pull: float) -> np.ndarray:
    """Levin's exact system with ``pull × u(r)`` added on every unmarked row (a prior of neutral
    colour at weight ``pull``: :func:`varcolor.energies.levin.exact_operator`'s prior term), solved
    by SciPy's LU and painted at the gray's lightness."""
    from scipy.sparse.linalg import splu

    import varcolor
    from varcolor.energies.levin import exact_operator, exact_rhs

    weight = np.where(cues.mask, 0.0, pull)
    operator = exact_operator(case.gray, cues.mask, prior_weight=weight)
    rhs = exact_rhs(cues.mask, cues.ab, prior=np.zeros(cues.ab.shape), prior_weight=weight)
    ab = splu(operator.to_csr().tocsc()).solve(rhs.reshape(-1, 2)).reshape(rhs.shape)
    lab = np.concatenate([varcolor.color.lightness_of_gray(case.gray)[..., None], ab], axis=2)
    return np.clip(varcolor.color.lab_to_rgb(lab), 0, 1)


def ceiling(case) -> np.ndarray:
    """What a perfectly restrained result can score: the truth's colour on the stroked objects,
    neutral everywhere else (the gray's lightness)."""
    import varcolor

    lab = varcolor.color.rgb_to_lab(np.repeat(case.gray[..., None], 3, axis=2))
    lab[..., 1:] = np.where(case.stroked[..., None], varcolor.color.rgb_to_lab(case.truth)[..., 1:], 0.0)
    return np.clip(varcolor.color.lab_to_rgb(lab), 0, 1)


def flat(case) -> np.ndarray:
    """What the strokes alone say, placed perfectly: each stroked object (a connected part of
    ``case.stroked``) in the median ab of the paint on it, every other pixel neutral, at the gray's
    lightness. Unlike the ceiling, it knows only the strokes' colour, not the truth's."""
    from scipy import ndimage

    import varcolor

    lab = varcolor.color.rgb_to_lab(np.repeat(case.gray[..., None], 3, axis=2))
    paint = varcolor.color.rgb_to_lab(case.marked)[..., 1:]
    labels, count = ndimage.label(case.stroked)
    painted = case.paint > 0.99  # the stroke's core, not its antialiased edge
    for k in range(1, count + 1):
        region = labels == k
        if (region & painted).any():
            lab[region, 1:] = np.median(paint[region & painted], axis=0)
    return np.clip(varcolor.color.lab_to_rgb(lab), 0, 1)


def hints(count: int) -> dict:
    from skimage.transform import resize

    import varcolor

    files = _photos(count)["bsds500/val"]
    scores_: dict = {}
    for path in files:
        image = varcolor.read_image(path)
        if image.ndim != 3:
            continue
        rgb = np.clip(resize(image[..., :3], (256, 256), anti_aliasing=True), 0, 1)
        gray = varcolor.color.same_lightness_gray(rgb)
        for n in (1, 10, 100):
            cues = varcolor.cues.sample_ideepcolor(rgb, n=n, patch=6, rng=0)
            for engine in ("restrained", "unrestrained"):
                result = varcolor.colorize(gray, cues, **ENGINES[engine])
                scores_.setdefault(f"{n} | {engine}", []).append(varcolor.metrics.psnr(result.rgb, rgb))
            # the same hints taken as strokes (no points): what restraint would do to them
            as_strokes = varcolor.colorize(gray, dataclasses.replace(cues, points=None))
            scores_.setdefault(f"{n} | as strokes", []).append(varcolor.metrics.psnr(as_strokes.rgb, rgb))
    return {key: float(np.mean(values)) for key, values in scores_.items()}


def scribbles() -> dict:
    from skimage.transform import resize

    import varcolor

    out = {}
    root = SHARED / "scribbles"
    for marked in sorted(root.glob("*/*_marked.png")):
        base = marked.with_name(marked.name[: -len("_marked.png")])
        originals = [p for p in (Path(f"{base}_original.png"), Path(f"{base}_original.jpg"), base.with_suffix(".jpg"))]
        original = next((p for p in originals if p.exists()), None)
        if original is None or not base.with_suffix(".png").exists():
            continue
        gray = varcolor.read_image(base.with_suffix(".png"))
        gray = varcolor.color.to_gray(gray) if gray.ndim == 3 else gray
        truth = varcolor.read_image(original)[..., :3]
        lab = varcolor.color.rgb_to_lab(truth)
        if np.hypot(lab[..., 1], lab[..., 2]).mean() < COLOURLESS:  # a gray "original": no truth to score
            out.setdefault("gray originals", []).append(f"{marked.parent.name}/{base.name}")
            continue
        if truth.shape[:2] != gray.shape:
            truth = np.clip(resize(truth, gray.shape, anti_aliasing=True), 0, 1)
        cues = varcolor.Cues.from_marked(gray, varcolor.read_image(marked)[..., :3])
        out[f"{marked.parent.name}/{base.name}"] = {
            engine: varcolor.metrics.psnr(varcolor.colorize(gray, cues, **ENGINES[engine]).rgb, truth)
            for engine in ("restrained", "unrestrained")
        }
    return out


def markdown(report: dict) -> str:
    lines = ["# Restraint: a restorer's strokes colour their objects, the rest stays neutral", ""]
    lines.append(report["note"])
    for label, table in report["restorer"].items():
        lines += ["", f"## Restorer strokes, {label}", ""]
        lines.append(
            "| size | engine | photos | gray dB | result dB | gain dB | below gray | leak ab | reach ab | "
            "confidence gap |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|---|")
        for key, row in table.items():
            size, engine = key.split(" | ")
            gap = "" if row["confidence_gap"] is None else f"{row['confidence_gap']:.2f}"
            lines.append(
                f"| {size} | {engine} | {row['photos']} | {row['gray_psnr']:.2f} | {row['psnr']:.2f} | "
                f"{row['gain']:+.2f} | {row['below_gray']} | {row['leak']:.2f} | {row['reach']:.2f} | {gap} |"
            )
    if report.get("hints"):
        lines += [
            "",
            "## Random hints (256², bsds500/val), mean PSNR",
            "",
            "Hints are points (`Cues.points`): the default fills around them as Levin's flood does; "
            "the last column takes the same hints as strokes.",
            "",
            "| hints | restrained (default) | unrestrained | the hints as strokes |",
            "|---|---|---|---|",
        ]
        for n in (1, 10, 100):
            on, off = report["hints"][f"{n} | restrained"], report["hints"][f"{n} | unrestrained"]
            strokes = report["hints"].get(f"{n} | as strokes")
            shown = "" if strokes is None else f"{strokes:.2f}"
            lines.append(f"| {n} | {on:.2f} ({on - off:+.2f}) | {off:.2f} | {shown} |")
    if report.get("scribbles"):
        lines += [
            "",
            "## Scribbles (../shared/data/scribbles), PSNR",
            "",
            "| pair | restrained | unrestrained |",
            "|---|---|---|",
        ]
        for name, row in report["scribbles"].items():
            if name != "gray originals":
                lines.append(f"| {name} | {row['restrained']:.2f} | {row['unrestrained']:.2f} |")
        if report["scribbles"].get("gray originals"):
            gray = ", ".join(report["scribbles"]["gray originals"])
            lines += ["", f'Not scored, their "original" being gray: {gray}.']
    return "\n".join(lines) + "\n"


def figure(path: Path) -> None:
    """The cue guide's picture (``--figure``)."""
    import skimage.data
    from skimage.transform import resize

    import varcolor

    rgb = resize(skimage.data.coffee() / 255.0, (200, 300), anti_aliasing=True)
    gray = np.round(varcolor.color.same_lightness_gray(rgb) * 255) / 255
    mask = np.zeros(gray.shape + (3,))
    mask[62:65, 125:170] = (0.42, 0.24, 0.1)  # the coffee
    mask[185:188, 5:60] = (0.6, 0.4, 0.25)  # the table's wood
    mask[163:166, 110:200] = (0.6, 0.6, 0.6)  # the saucer: gray paint, kept neutral
    cues = varcolor.Cues.from_mask(mask)
    flood = varcolor.colorize(gray, cues, restraint="off")
    held = varcolor.colorize(gray, cues)
    shown = np.where(mask.any(axis=2)[..., None], mask, np.repeat(gray[..., None], 3, axis=2))
    confidence = np.repeat(held.confidence[..., None], 3, axis=2)
    gap = np.ones((200, 4, 3))
    row = np.concatenate([shown, gap, flood.rgb, gap, held.rgb, gap, confidence], axis=1)
    varcolor.write_image(path, row, bits=8, overwrite=True)


def figure_whole(path: Path) -> None:
    """The cue guide's second picture: scikit-image's ``astronaut`` (NASA, public domain), gray,
    three strokes along the orange suit in its median colour; unrestrained, restrained, the
    original and the confidence map."""
    import skimage.data
    from skimage.draw import line
    from skimage.transform import resize

    import varcolor

    rgb = resize(skimage.data.astronaut() / 255.0, (256, 256), anti_aliasing=True)
    lab = varcolor.color.rgb_to_lab(rgb)
    gray = np.round(varcolor.color.same_lightness_gray(rgb) * 255) / 255
    mask = np.zeros(gray.shape, bool)
    for y0, x0, y1, x1 in ((150, 35, 245, 40), (200, 30, 200, 110), (140, 95, 160, 130)):  # along the suit
        rows, cols = line(y0, x0, y1, x1)
        for step in range(3):
            mask[np.clip(rows + step, 0, 255), cols] = True
    ab = np.zeros(gray.shape + (2,))
    ab[mask] = np.median(lab[mask][:, 1:], axis=0)
    cues = varcolor.Cues(mask, ab)
    flood = varcolor.colorize(gray, cues, restraint="off")
    held = varcolor.colorize(gray, cues)
    shown = np.repeat(gray[..., None], 3, axis=2)
    shown[mask] = varcolor.color.lab_to_rgb(np.dstack([lab[..., :1], ab]))[mask]
    confidence = np.repeat(held.confidence[..., None], 3, axis=2)
    gap = np.ones((256, 4, 3))
    row = np.concatenate([shown, gap, flood.rgb, gap, held.rgb, gap, rgb, gap, confidence], axis=1)
    varcolor.write_image(path, row, bits=8, overwrite=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=15, help="photos of each test set (default 15)")
    parser.add_argument("--scale", type=int, default=4, help="the larger copy's factor a side (default 4)")
    parser.add_argument("--scaled", type=int, default=6, help="photos of each set also run larger (default 6)")
    parser.add_argument("--no-hints", action="store_true")
    parser.add_argument("--no-scribbles", action="store_true")
    parser.add_argument("--name", default="restraint")
    parser.add_argument(
        "--figure", action="store_true", help="write docs/images/restraint.png and restraint_whole.png instead"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.figure:
        figure(HERE.parent / "docs" / "images" / "restraint.png")
        figure_whole(HERE.parent / "docs" / "images" / "restraint_whole.png")
        return
    report = {
        "note": (
            f"Made by `python benchmarks/restraint.py --photos {args.photos} --scale {args.scale} --scaled "
            f"{args.scaled}`: test split photos ({args.photos} a set, the first {args.scaled} also {args.scale}× a "
            "side); strokes placed by benchmarks/restorer_strokes.py."
        ),
        "restorer": restorer(args.photos, args.scale, args.scaled),
        "hints": None if args.no_hints else hints(args.photos),
        "scribbles": None if args.no_scribbles else scribbles(),
    }
    text = markdown(report)
    print(text)
    write_report(HERE / "results", args.name, report, text)


if __name__ == "__main__":
    main()
