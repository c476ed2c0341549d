"""Colorization quality against the number of hints, with the ideepcolor evaluation protocol.

Runs :mod:`varcolor.bench` (the protocol, the methods and the table; ``varcolor bench`` on the
command line) over a folder of colour images (default: ``../shared/data/kodak``) at several
resolutions, one image per process. With ``--global-hints`` every method also gets the image's
global hints as the ``global`` IR method stores them (8-bit histogram over the 313 gamut bins and
mean saturation), for a network with a global-hints branch (``--network-file``).

Writes ``quality_<set>.json``, ``quality_<set>.md`` and ``quality_<set>.png`` (PSNR against
hints, with the published SIGGRAPH17 curve from ``../shared/data/anchors`` beside ours).

``--part tuning`` or ``--part test`` runs over that part of :func:`shared_data.split` instead of
``--images`` (``--every``, ``--imagenet-every`` subsample it), one table per set, named
``<name>_<set>``: constants are chosen on the tuning part, figures quoted from the test part.

Run: ``python benchmarks/quality.py`` (``make bench``); ``--help`` for options.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import workers
from plotting import figure
from shared_data import SHARED, label, split
from tqdm import tqdm

import varcolor
from varcolor import bench
from varcolor.ir.encode import encode

HERE = Path(__file__).resolve().parent


def evaluate(task: tuple) -> dict:
    """One image at one resolution, every method and hint count (run in a worker process)."""
    path, index, resolution, methods, hints, seed, options, with_global = task
    if any("ideepcolor" in method for method in methods):
        import torch

        torch.set_num_threads(1)  # one image per process already fills the cores
    rgb = bench.original(varcolor.read_image(path), resolution)
    stored = encode(rgb, "global").global_hints() if with_global else None
    rows = bench.evaluate(rgb, methods, hints, resolution, index, seed, stored, **options)
    return {"rows": [{"image": Path(path).name, **row} for row in rows]}


def published_curve() -> dict[int, float]:
    path = SHARED / "anchors" / "psnr_vs_points_siggraph17.csv"
    if not path.is_file():
        return {}
    lines = path.read_text().strip().splitlines()[1:]
    curve = {int(line.split(",")[0]): float(line.split(",")[1]) for line in lines}
    if 500 not in curve and 501 in curve:  # the published sweep stops at 501 hints; show it as 500
        curve[500] = curve.pop(501)
    return curve


def plot(summary: dict, resolutions, methods, hints, anchors: dict, path: Path, label: str) -> None:
    with figure(path, "number of hints", "mean PSNR (dB)", f"PSNR vs hints — {label}") as ax:
        for resolution in resolutions:
            for method in methods:
                xs = [n for n in hints if f"{resolution}/{method}/{n}" in summary]
                ax.plot(
                    xs,
                    [summary[f"{resolution}/{method}/{n}"]["psnr"] for n in xs],
                    marker="o",
                    label=f"varcolor {method} ({resolution if resolution == 'full' else f'{resolution}²'})",
                )
        if anchors:
            xs = sorted(anchors)
            ax.plot(xs, [anchors[n] for n in xs], "k--", label="SIGGRAPH17 published (ImageNet, 256²)")
        ax.set_xscale("symlog", linthresh=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=str(SHARED / "kodak"), help="folder of colour images")
    parser.add_argument(
        "--methods", default="levin", help="comma-separated methods, e.g. levin,ideepcolor,levin+ideepcolor"
    )
    parser.add_argument("--network-file", help="network weights for ideepcolor methods (default: the shipped model)")
    parser.add_argument(
        "--prior-weight",
        type=float,
        default=varcolor.api.PRIOR_WEIGHT,
        help="β of METHOD+ideepcolor (default: %(default)s)",
    )
    parser.add_argument(
        "--prior-mode",
        default="spread",
        choices=varcolor.api.PRIOR_MODES,
        help="how METHOD+ideepcolor uses the guess (default: spread)",
    )
    parser.add_argument(
        "--automatic",
        choices=tuple(varcolor.options.AUTOMATIC),
        help="the network's colours: faithful or vivid (default: the library's, faithful)",
    )
    parser.add_argument("--part", choices=("tuning", "test"), help="run over this part of the split, not --images")
    parser.add_argument("--every", type=int, default=1, help="with --part: every n-th image of each set")
    parser.add_argument("--imagenet-every", type=int, default=1, help="with --part: every n-th ImageNet image")
    parser.add_argument("--hints", default=",".join(map(str, bench.HINTS)), help="comma-separated hint counts")
    parser.add_argument("--resolutions", default="256,full", help="comma-separated: a side length, or 'full'")
    parser.add_argument(
        "--global-hints",
        action="store_true",
        help="give every method the image's global hints (needs global-hints --network-file)",
    )
    parser.add_argument(
        "--sharpness", type=float, help="bilaplacian-gtv's edge-weight sharpness (default: the energy's, 8)"
    )
    parser.add_argument(
        "--lam", type=float, help="bilaplacian-gtv's bilaplacian weight λ (default: the energy's, 1e-3)"
    )
    parser.add_argument("--limit", type=int, default=0, help="use only the first N images")
    parser.add_argument("--seed", type=int, default=bench.SEED)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--out", default=str(HERE / "results"), help="output folder")
    parser.add_argument("--name", default=None, help="result file stem (default: quality_<folder name>)")
    args = parser.parse_args(argv)

    methods = args.methods.split(",")
    hints = [int(h) for h in args.hints.split(",")]
    resolutions = args.resolutions.split(",")
    options = dict(
        network_file=args.network_file,
        prior_weight=args.prior_weight,
        prior_mode=args.prior_mode,
        automatic=args.automatic,
        sharpness=args.sharpness,
        lam=args.lam,
    )
    if args.part:
        for name, paths in split(args.part, every=args.every).items():
            paths = paths[:: args.imagenet_every] if name.startswith("imagenet") else paths
            slug = name.replace("/", "_").replace(" ", "_").replace("–", "-").replace("+", "plus")
            stem = f"{args.name or 'quality_' + args.part}_{slug}"
            run(
                paths,
                f"{label(name)}, {args.part} part ({len(paths)} images)",
                stem,
                args,
                methods,
                hints,
                resolutions,
                options,
            )
        return 0
    folder = Path(args.images)
    if not folder.is_dir():
        print(f"quality: error: {folder}: no such folder", file=sys.stderr)
        return 2
    paths = [folder / p for p in varcolor.walk_images(folder)]
    if args.limit:
        paths = paths[: args.limit]
    label_ = f"{folder.name} ({len(paths)} images)"
    run(paths, label_, args.name or f"quality_{folder.name}", args, methods, hints, resolutions, options)
    return 0


def run(paths, label, stem, args, methods, hints, resolutions, options) -> None:
    """Score ``paths`` and write ``<stem>.json``, ``.md`` and ``.png``."""
    tasks = [
        (str(p), i, res, methods, hints, args.seed, options, args.global_hints)
        for res in resolutions
        for i, p in enumerate(paths)
    ]
    rows = []
    start = time.perf_counter()
    with workers.pool(args.workers) as pool:
        for done in tqdm(pool.map(evaluate, tasks), total=len(tasks), desc="quality", unit="image"):
            rows += done["rows"]
    elapsed = time.perf_counter() - start

    summary = bench.summarize(rows, resolutions, methods, hints)
    anchors = published_curve()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "images": sorted({str(Path(p).parent) for p in paths}),
        "files": [Path(p).name for p in paths],
        "part": args.part,
        "count": len(paths),
        "methods": methods,
        "hints": hints,
        "resolutions": resolutions,
        "seed": args.seed,
        "protocol": "ideepcolor, patch 6",
        "network_file": args.network_file,
        "prior_weight": args.prior_weight,
        "prior_mode": args.prior_mode,
        "automatic": args.automatic,
        "global_hints": args.global_hints,
        "sharpness": args.sharpness,
        "lam": args.lam,
        "varcolor": varcolor.__version__,
        "versions": bench.versions(methods, args.network_file),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "python": platform.python_version(),
        "seconds": elapsed,
        "summary": summary,
        "published_siggraph17_psnr": anchors,
        "rows": rows,
    }
    with varcolor.io.atomic_path(out / f"{stem}.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    table = bench.markdown(summary, resolutions, methods, hints, label, anchors)
    table += f"\nVersions: {bench.versions_line(report['versions'])}\n"
    with varcolor.io.atomic_path(out / f"{stem}.md") as tmp:
        tmp.write_text(table)
    with varcolor.io.atomic_path(out / f"{stem}.png") as tmp:
        plot(summary, resolutions, methods, hints, anchors, tmp, label)
    print(table)
    print(f"wrote {out / stem}.json/.md/.png in {elapsed:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
