"""Instance-aware automatic colorization against the whole-image network, on photos.

For each set (default: Kodak, BSDS500 val, the ImageNet sample), every photo (at most
``--side`` pixels on its longer side) is made gray (same lightness) and the detector
(``--detector``, default ``auto``) looks for instances. Where it finds some, the photo is
colorized automatically (no cues, ``prior="ideepcolor"``, Levin's method) without and with
``instances`` (at each ``--margins`` context margin) and scored against the original: PSNR (8-bit
RGB), mean CIEDE2000 and Hasler–Süsstrunk colourfulness, over the whole photo and inside the
instances' masks (soft mask > ½) only; times per image and per instance. Where it finds none,
instance-aware colorization is the base colorization by construction (the prior is unchanged);
``--others`` such photos per set are colorized both ways anyway to check that (difference 0).
Whole-set means count the photos without instances as unchanged.

Writes ``<name>.json`` and ``<name>.md`` in ``benchmarks/results``, and with ``--sheet PNG`` the
contact sheet (gray | base | instance-aware | original) of scikit-image's bundled photos
(redistributable; the sets' photos are not).

Run: ``python benchmarks/instances.py`` (``--limit N``: the first N photos of each set; ``--sets ""
--sheet instances_sheet.png --name instances_sheet``: the contact sheet alone).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from reports import write_report
from shared_data import SHARED
from skimage.transform import resize

import varcolor
from varcolor import metrics
from varcolor.color import same_lightness_gray
from varcolor.instances import find, fusion, pick

HERE = Path(__file__).resolve().parent
SETS = ("kodak", "bsds500/val", "imagenet-sample")


def photo(path: Path, side: int) -> np.ndarray:
    """RGB in [0, 1], its longer side at most ``side``."""
    rgb = varcolor.read_image(path)
    rgb = np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb[..., :3]
    factor = max(rgb.shape[:2]) / side
    if factor > 1:
        size = (round(rgb.shape[0] / factor), round(rgb.shape[1] / factor))
        rgb = np.clip(resize(rgb, size, order=1, anti_aliasing=True), 0, 1)
    return rgb


def scores(result: np.ndarray, rgb: np.ndarray, inside: np.ndarray | None) -> dict:
    """PSNR, ΔE2000 and colourfulness of ``result``, over the photo and over ``inside``'s pixels."""
    out = {
        "psnr": metrics.psnr(result, rgb),
        "de2000": metrics.ciede2000(result, rgb),
        "colorfulness": metrics.colorfulness(result),
    }
    if inside is not None and inside.any():
        a, b = result[inside][:, None], rgb[inside][:, None]
        out |= {
            "in_psnr": metrics.psnr(a, b),
            "in_de2000": metrics.ciede2000(a, b),
            "in_colorfulness": metrics.colorfulness(a),
        }
    return out


def colorize(gray: np.ndarray, instances: str, margin: float | None = None) -> tuple[varcolor.Result, list]:
    saved = fusion.MARGIN
    try:
        if margin is not None:
            fusion.MARGIN = margin
        colorizer = varcolor.Colorizer(gray, prior="ideepcolor", instances=instances)
        result = colorizer.solve(varcolor.Cues.empty(gray.shape))
        return result, colorizer.instances or []
    finally:
        fusion.MARGIN = saved


def union_mask(shape: tuple[int, int], found: list) -> np.ndarray:
    mask = np.zeros(shape, bool)
    for instance in found:
        top, left, height, width = instance.box
        mask[top : top + height, left : left + width] |= instance.mask > 0.5
    return mask


def run_photo(rgb: np.ndarray, detector: str, margins: list[float], force: bool) -> dict | None:
    gray = same_lightness_gray(rgb)
    start = time.perf_counter()
    found = find(pick(detector), gray)
    detect_seconds = time.perf_counter() - start
    if not found and not force:
        return {"found": 0, "detect_seconds": detect_seconds}
    inside = union_mask(gray.shape, found)
    base, _ = colorize(gray, "none")
    row = {
        "found": len(found),
        "labels": [i.label for i in found],
        "mask_share": float(inside.mean()),
        "detect_seconds": detect_seconds,
        "original_colorfulness": metrics.colorfulness(rgb),
        "base": scores(base.rgb, rgb, inside) | {"seconds": base.info["seconds"]},
    }
    if inside.any():
        row["original_in_colorfulness"] = metrics.colorfulness(rgb[inside][:, None])
    for margin in margins:
        result, _ = colorize(gray, detector, margin)
        row[f"margin {margin:g}"] = scores(result.rgb, rgb, inside) | {
            "seconds": result.info["seconds"],
            "instance_seconds": [r["seconds"] for r in result.info["instances"]],
            "max_difference": float(np.abs(result.ab - base.ab).max()),
        }
    return row


def summarise(rows: list[dict], margins: list[float]) -> dict:
    fired = [r for r in rows if r["found"]]
    quiet = [r for r in rows if not r["found"] and "base" in r]
    out = {"photos": len(rows), "fired": len(fired), "instances": sum(r["found"] for r in fired)}
    out["checked_without"] = len(quiet)
    if quiet:
        out["max_difference_without"] = max(r[f"margin {m:g}"]["max_difference"] for r in quiet for m in margins)
    if not fired:
        return out
    keys = ("psnr", "de2000", "colorfulness", "in_psnr", "in_de2000", "in_colorfulness")
    out["base"] = {k: float(np.mean([r["base"][k] for r in fired])) for k in keys}
    out["original_in_colorfulness"] = float(np.mean([r["original_in_colorfulness"] for r in fired]))
    out["original_colorfulness"] = float(np.mean([r["original_colorfulness"] for r in fired]))
    for m in margins:
        label = f"margin {m:g}"
        out[label] = {k: float(np.mean([r[label][k] for r in fired])) for k in keys}
        gains = [r[label]["psnr"] - r["base"]["psnr"] for r in fired]
        out[label]["psnr_gain_whole_set"] = float(np.sum(gains) / len(rows))
        out[label]["psnr_gain_min"] = float(np.min(gains))
        out[label]["seconds"] = float(np.mean([r[label]["seconds"] for r in fired]))
        out[label]["seconds_per_instance"] = float(
            np.mean([s for r in fired for s in r[label]["instance_seconds"]] or [0.0])
        )
    out["base"]["seconds"] = float(np.mean([r["base"]["seconds"] for r in fired]))
    out["detect_seconds"] = float(np.mean([r["detect_seconds"] for r in rows]))
    return out


def table(summary: dict, margins: list[float]) -> str:
    lines = [
        "| set | photos (with instances) | instances | run | PSNR | ΔE2000 | colourfulness | PSNR inside | "
        "ΔE2000 inside | colourfulness inside | Δ PSNR, whole set | s / photo | s / instance |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        if not s.get("fired"):
            lines.append(f"| {name} | {s['photos']} (0) | 0 | – | | | | | | | 0 | | |")
            continue
        head = f"| {name} | {s['photos']} ({s['fired']}) | {s['instances']} |"
        b = s["base"]
        lines.append(
            f"{head} original | – | – | {s['original_colorfulness']:.1f} | – | – | "
            f"{s['original_in_colorfulness']:.1f} | | | |"
        )
        lines.append(
            f"{head} base | {b['psnr']:.2f} | {b['de2000']:.2f} | {b['colorfulness']:.1f} | {b['in_psnr']:.2f} | "
            f"{b['in_de2000']:.2f} | {b['in_colorfulness']:.1f} | | {b['seconds']:.2f} | |"
        )
        for m in margins:
            r = s[f"margin {m:g}"]
            lines.append(
                f"{head} instances, margin {m:g} | {r['psnr']:.2f} | {r['de2000']:.2f} | {r['colorfulness']:.1f} | "
                f"{r['in_psnr']:.2f} | {r['in_de2000']:.2f} | {r['in_colorfulness']:.1f} | "
                f"{r['psnr_gain_whole_set']:+.3f} | {r['seconds']:.2f} | {r['seconds_per_instance']:.2f} |"
            )
    return "\n".join(lines)


def sheet(path: Path, detector: str) -> list[dict]:
    """gray | base | instance-aware | original, one row per scikit-image photo."""
    from skimage import data

    rows, found = [], []
    for name in ("astronaut", "coffee", "chelsea"):
        rgb = getattr(data, name)() / 255.0
        gray = same_lightness_gray(rgb)
        base, _ = colorize(gray, "none")
        inst, _ = colorize(gray, detector)
        found.append({"photo": name, "instances": inst.info["instances"]})
        height = 160  # the sheet stays small enough to commit (< 1 MB)
        width = round(rgb.shape[1] * height / rgb.shape[0])
        cells = [np.dstack([gray] * 3), base.rgb, inst.rgb, rgb]
        rows.append(np.hstack([resize(c, (height, width), order=1, anti_aliasing=True) for c in cells]))
    widest = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, widest - r.shape[1]), (0, 0)), constant_values=1.0) for r in rows]
    varcolor.write_image(path, np.vstack(rows), overwrite=True)
    return found


def text(detector: str, side: int, summary: dict, margins: list[float], sheet: tuple | None = None) -> str:
    out = ""
    if summary:
        out = (
            f"Automatic colorization (no cues, `--prior ideepcolor`, Levin's method, shipped network) without and "
            f"with `--instances {detector}`, photos at most {side} px on a side; scores over the photos where the "
            "detector found instances (whole photo, and inside the instances' masks); Δ PSNR, whole set: the mean "
            "gain over every photo of the set (those without instances are unchanged).\n\n"
            + table(summary, margins)
            + "\n"
        )
    if sheet:
        name, found = sheet
        out += (
            f"\nContact sheet `{name}` (gray | base | instance-aware | original; automatic, `--prior ideepcolor`, "
            f"`--instances {detector}`), scikit-image's photos:\n\n"
            + "".join(
                f"- {f['photo']}: "
                + (
                    ", ".join(f"{i['label']} (score {i['score']:.2f}, box {i['box']})" for i in f["instances"])
                    or "none"
                )
                + "\n"
                for f in found
            )
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--detector", default="auto")
    parser.add_argument("--margins", default=str(fusion.MARGIN), help="comma-separated context margins")
    parser.add_argument("--side", type=int, default=768, help="longest side of the photos")
    parser.add_argument("--limit", type=int, default=0, help="first N photos of each set")
    parser.add_argument("--stride", type=int, default=1, help="every Nth photo of each set (before --limit)")
    parser.add_argument("--others", type=int, default=2, help="photos without instances colorized both ways, per set")
    parser.add_argument("--sheet", metavar="PNG", help="write the contact sheet (scikit-image photos) to this file")
    parser.add_argument("--name", default="instances")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    margins = [float(m) for m in args.margins.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    rows, summary = [], {}
    report = {
        "command": " ".join(sys.argv),
        "detector": args.detector,
        "margins": margins,
        "side": args.side,
        "summary": summary,
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "python": platform.python_version(),
        "rows": rows,
    }
    for folder in [f for f in args.sets.split(",") if f]:
        paths = [SHARED / folder / p for p in varcolor.walk_images(SHARED / folder)]
        paths = paths[:: args.stride]
        paths = paths[: args.limit] if args.limit else paths
        mine, forced = [], 0
        for path in paths:
            rgb = photo(path, args.side)
            row = run_photo(rgb, args.detector, margins, force=False)
            if not row["found"] and forced < args.others:
                row, forced = run_photo(rgb, args.detector, margins, force=True), forced + 1
            row |= {"set": folder, "image": path.name, "shape": list(rgb.shape[:2])}
            mine.append(row)
            print(folder, path.name, row["found"], flush=True)
        rows += mine
        summary[folder] = summarise(mine, margins)
        write_report(out, args.name, report, text(args.detector, args.side, summary, margins))  # each set as it ends
    if args.sheet:
        report["sheet"] = sheet(out / args.sheet, args.detector)
    shown = (args.sheet, report["sheet"]) if args.sheet else None
    write_report(out, args.name, report, text(args.detector, args.side, summary, margins, shown))
    print(text(args.detector, args.side, summary, margins))
    return 0


if __name__ == "__main__":
    sys.exit(main())
