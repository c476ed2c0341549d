"""Colorization quality against the number of hints, with the ideepcolor evaluation protocol.

For every colour image of a folder (default: ``../shared/data/kodak``), every method and every
hint count, hints are drawn as in Zhang et al. 2017 (``varcolor.cues.sample_ideepcolor``: 6×6
patches of the mean true chroma, corners ~ N(centre, side/4)), the image is colorized from its
same-lightness gray, and PSNR (8-bit), SSIM and CIEDE2000 are measured against the original.
Two resolutions: 256×256 (the published protocol's resize, aspect not kept) and full size.
A method is a varcolor method (``levin``, ``bilaplacian-gtv``, ``ideepcolor`` — the network alone)
or ``METHOD+ideepcolor``: that method with the network as its prior (default weights: the
compact model shipped in ``models/``). With ``--global-hints`` every method also gets the image's
global hints as the ``global`` IR method stores them (8-bit histogram over the 313 gamut bins and
mean saturation), for a network with a global-hints branch (``--weights``).

Writes ``quality_<set>.json``, ``quality_<set>.md`` and ``quality_<set>.png`` (PSNR against
hints, with the published SIGGRAPH17 curve from ``../shared/data/anchors`` beside ours).

Run: ``python benchmarks/quality.py`` (``make bench``); ``--help`` for options.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from skimage.transform import resize
from tqdm import tqdm

import varcolor
import workers
from plotting import figure
from varcolor.cues import sample_ideepcolor
from varcolor.ir.encode import encode

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
HINTS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500)
METRICS = ("psnr", "ssim", "ciede2000")


def load(path: Path, resolution: str) -> np.ndarray:
    rgb = varcolor.read_image(path)
    rgb = np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb[..., :3]
    if resolution != "full":
        side = int(resolution)
        rgb = np.clip(resize(rgb, (side, side), order=1, anti_aliasing=True), 0, 1)
    return rgb


def options(method: str, weights: str | None, prior_weight: float, prior_mode: str,
            sharpness: float | None = None) -> dict:
    """``colorize`` keywords for a method name of this benchmark (``METHOD[+PRIOR]``)."""
    name, _, prior = method.partition("+")
    chosen = {"method": name}
    if name == "bilaplacian-gtv" and sharpness is not None:
        chosen["sharpness"] = sharpness
    if prior:
        chosen.update(prior=prior, prior_weight=prior_weight, prior_mode=prior_mode)
    if prior or name == "ideepcolor":
        chosen["weights"] = weights
    return chosen


def evaluate(task: tuple) -> dict:
    """One image at one resolution, every method and hint count (run in a worker process)."""
    path, index, resolution, methods, hints, seed, weights, prior_weight, prior_mode, with_global, sharpness = task
    if any("ideepcolor" in method for method in methods):
        import torch

        torch.set_num_threads(1)  # one image per process already fills the cores
    rgb = load(Path(path), resolution)
    gray = varcolor.color.same_lightness_gray(rgb)
    stored = encode(rgb, "global").global_hints() if with_global else None
    rows = []
    for n in hints:
        cues = sample_ideepcolor(rgb, n=n, patch=6, rng=[seed, index, n])
        for method in methods:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # 0 hints: the gray image, by design
                result = varcolor.colorize(gray, cues, global_hints=stored,
                                           **options(method, weights, prior_weight, prior_mode, sharpness))
            seconds = time.perf_counter() - start
            rows.append({"image": Path(path).name, "resolution": resolution, "method": method, "hints": n,
                         "psnr": varcolor.metrics.psnr(result.rgb, rgb),
                         "ssim": varcolor.metrics.ssim(result.rgb, rgb),
                         "ciede2000": varcolor.metrics.ciede2000(result.rgb, rgb),
                         "seconds": seconds})
    return {"rows": rows}


def summarize(rows: list[dict], resolutions, methods, hints) -> dict:
    table = {}
    for resolution in resolutions:
        for method in methods:
            for n in hints:
                chosen = [r for r in rows if (r["resolution"], r["method"], r["hints"]) == (resolution, method, n)]
                if chosen:
                    key = f"{resolution}/{method}/{n}"
                    table[key] = {m: float(np.mean([r[m] for r in chosen])) for m in (*METRICS, "seconds")}
                    table[key]["images"] = len(chosen)
    return table


def published_curve() -> dict[int, float]:
    path = SHARED / "anchors" / "psnr_vs_points_siggraph17.csv"
    if not path.is_file():
        return {}
    lines = path.read_text().strip().splitlines()[1:]
    curve = {int(line.split(",")[0]): float(line.split(",")[1]) for line in lines}
    if 500 not in curve and 501 in curve:  # the published sweep stops at 501 hints; show it as 500
        curve[500] = curve.pop(501)
    return curve


def markdown(summary: dict, resolutions, methods, hints, anchors: dict, label: str) -> str:
    out = [f"Mean over {label}, ideepcolor hint protocol (6×6 patches of mean true ab); "
           "PSNR in dB on 8-bit RGB, ΔE = CIEDE2000.", ""]
    header = "| resolution | method | metric | " + " | ".join(str(n) for n in hints) + " |"
    out += [header, "|" + "---|" * (3 + len(hints))]
    for resolution in resolutions:
        for method in methods:
            for metric, fmt in (("psnr", "{:.2f}"), ("ssim", "{:.4f}"), ("ciede2000", "{:.2f}")):
                cells = [fmt.format(summary[f"{resolution}/{method}/{n}"][metric])
                         if f"{resolution}/{method}/{n}" in summary else "" for n in hints]
                out.append(f"| {resolution} | {method} | {metric} | " + " | ".join(cells) + " |")
    if anchors:
        cells = [f"{anchors[n]:.2f}" if n in anchors else "" for n in hints]
        out.append("| 256 | SIGGRAPH17 (published: ImageNet val, 1000 images; 500 = 501) | psnr | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def plot(summary: dict, resolutions, methods, hints, anchors: dict, path: Path, label: str) -> None:
    with figure(path, "number of hints", "mean PSNR (dB)", f"PSNR vs hints — {label}") as ax:
        for resolution in resolutions:
            for method in methods:
                xs = [n for n in hints if f"{resolution}/{method}/{n}" in summary]
                ax.plot(xs, [summary[f"{resolution}/{method}/{n}"]["psnr"] for n in xs], marker="o",
                        label=f"varcolor {method} ({resolution if resolution == 'full' else f'{resolution}²'})")
        if anchors:
            xs = sorted(anchors)
            ax.plot(xs, [anchors[n] for n in xs], "k--", label="SIGGRAPH17 published (ImageNet, 256²)")
        ax.set_xscale("symlog", linthresh=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=str(SHARED / "kodak"), help="folder of colour images")
    parser.add_argument("--methods", default="levin", help="comma-separated methods, e.g. levin,ideepcolor,levin+ideepcolor")
    parser.add_argument("--weights", help="network weights for ideepcolor methods (default: the shipped model)")
    parser.add_argument("--prior-weight", type=float, default=varcolor.api.PRIOR_WEIGHT,
                        help="β of METHOD+ideepcolor (default: %(default)s)")
    parser.add_argument("--prior-mode", default="anchor", choices=varcolor.api.PRIOR_MODES,
                        help="how METHOD+ideepcolor uses the guess (default: anchor)")
    parser.add_argument("--hints", default=",".join(map(str, HINTS)), help="comma-separated hint counts")
    parser.add_argument("--resolutions", default="256,full", help="comma-separated: a side length, or 'full'")
    parser.add_argument("--global-hints", action="store_true",
                        help="give every method the image's global hints (needs global-hints --weights)")
    parser.add_argument("--sharpness", type=float,
                        help="bilaplacian-gtv's edge-weight sharpness (default: the energy's, 8)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N images")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--out", default=str(HERE / "results"), help="output folder")
    parser.add_argument("--name", default=None, help="result file stem (default: quality_<folder name>)")
    args = parser.parse_args(argv)

    folder = Path(args.images)
    if not folder.is_dir():
        print(f"quality: error: {folder}: no such folder", file=sys.stderr)
        return 2
    paths = [folder / p for p in varcolor.walk_images(folder)]
    if args.limit:
        paths = paths[: args.limit]
    methods = args.methods.split(",")
    hints = [int(h) for h in args.hints.split(",")]
    resolutions = args.resolutions.split(",")
    tasks = [(str(p), i, res, methods, hints, args.seed, args.weights, args.prior_weight,
              args.prior_mode, args.global_hints, args.sharpness)
             for res in resolutions for i, p in enumerate(paths)]
    rows = []
    start = time.perf_counter()
    with workers.pool(args.workers) as pool:
        for done in tqdm(pool.map(evaluate, tasks), total=len(tasks), desc="quality", unit="image"):
            rows += done["rows"]
    elapsed = time.perf_counter() - start

    label = f"{folder.name} ({len(paths)} images)"
    summary = summarize(rows, resolutions, methods, hints)
    anchors = published_curve()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = args.name or f"quality_{folder.name}"
    report = {"images": str(folder), "count": len(paths), "methods": methods, "hints": hints,
              "resolutions": resolutions, "seed": args.seed, "protocol": "ideepcolor, patch 6",
              "weights": args.weights, "prior_weight": args.prior_weight, "prior_mode": args.prior_mode,
              "global_hints": args.global_hints, "sharpness": args.sharpness,
              "varcolor": varcolor.__version__, "machine": f"{platform.machine()} {os.cpu_count()} cores",
              "python": platform.python_version(), "seconds": elapsed,
              "summary": summary, "published_siggraph17_psnr": anchors, "rows": rows}
    with varcolor.io.atomic_path(out / f"{stem}.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    table = markdown(summary, resolutions, methods, hints, anchors, label)
    with varcolor.io.atomic_path(out / f"{stem}.md") as tmp:
        tmp.write_text(table)
    with varcolor.io.atomic_path(out / f"{stem}.png") as tmp:
        plot(summary, resolutions, methods, hints, anchors, tmp, label)
    print(table)
    print(f"wrote {out / stem}.json/.md/.png in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
