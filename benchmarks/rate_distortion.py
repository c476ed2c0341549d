"""Rate–distortion of the IR encoders: payload bytes against decoded quality, on Kodak.

For each method and a sweep of its parameters, every image is encoded, the ``.vcir`` payload
written (its exact size is the rate; the gray image is not counted), decoded with varcolor's
solver at full resolution, and scored (PSNR on 8-bit RGB, CIEDE2000). Two baselines measured the
same way: the a, b planes shrunk by 8/16/32 and stored as a PNG (8-bit, offset 128) then upsampled
bicubically; and the same thumbnail pixels used as cues for our solver.

Writes ``rate_distortion.json``, ``.md`` and ``.png`` (PSNR against bytes, one curve per method).
Run: ``python benchmarks/rate_distortion.py [--limit N] [--workers N] [--methods adaptive --name NAME]``
(seconds are per image; with several images at a time they include the contention for cores).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np  # noqa: E402
import timing_environment  # noqa: E402,F401  (before NumPy: one BLAS thread, no huge pages)
import workers
from PIL import Image
from plotting import figure
from shared_data import SHARED
from skimage.transform import resize
from tqdm import tqdm

import varcolor
from varcolor.ir.decode import payload_cues
from varcolor.ir.encode import encode
from varcolor.ir.format import write_payload

HERE = Path(__file__).resolve().parent

SWEEPS = {
    "grid": [dict(grid_size=4096, spacing=g) for g in (64, 32, 16, 8)],
    "grid p2": [dict(grid_size=4096, spacing=g, patch=2) for g in (32, 16)],
    "grid-exclude": [dict(grid_size=4096, spacing=g) for g in (32, 16)],
    "selective": [dict(grid_size=256, segments=n) for n in (100, 300, 1000)],
    "grid+selective": [dict(grid_size=256, spacing=32, segments=n) for n in (100, 300)],
    "adaptive": [dict(budget=b) for b in (256, 512, 1024, 2048, 4096, 8192)],  # palette up to 2 KB
    "adaptive no palette": [dict(budget=b, quantize=0) for b in (256, 512, 1024, 2048)],
    "adaptive q32": [dict(budget=b, quantize=32) for b in (4096, 8192)],
}
THUMBNAILS = (32, 16, 8)


def thumbnail_bytes(ab_small: np.ndarray) -> int:
    """Bytes of the a, b thumbnail as one 8-bit PNG (offset 128, third channel 0)."""
    planes = np.clip(np.round(ab_small + 128), 0, 255).astype(np.uint8)
    stacked = np.concatenate([planes, np.zeros(planes.shape[:2] + (1,), np.uint8)], axis=2)
    buffer = io.BytesIO()
    Image.fromarray(stacked).save(buffer, format="PNG", optimize=True)
    return len(buffer.getvalue())


def evaluate(path: str, methods: tuple[str, ...] = tuple(SWEEPS), baselines: bool = True) -> list[dict]:
    rgb = varcolor.read_image(path)[..., :3]
    gray = varcolor.color.same_lightness_gray(rgb)
    lightness = varcolor.color.lightness_of_gray(gray)
    true_ab = varcolor.color.rgb_to_lab(rgb)[..., 1:]
    rows = []

    def score(method, params, nbytes, result_rgb, seconds):
        rows.append(
            {
                "image": Path(path).name,
                "method": method,
                "params": params,
                "bytes": nbytes,
                "psnr": varcolor.metrics.psnr(result_rgb, rgb),
                "ciede2000": varcolor.metrics.ciede2000(result_rgb, rgb),
                "seconds": seconds,
            }
        )

    for label in methods:
        method, sweep = label.split()[0], SWEEPS[label]
        for params in sweep:
            start = time.perf_counter()
            payload = encode(rgb, method, **params)
            data = write_payload(payload)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = varcolor.colorize(gray, payload_cues(payload, gray.shape), solver="direct")
            score(label, params, len(data), result.rgb, time.perf_counter() - start)
    height, width = gray.shape
    for factor in THUMBNAILS if baselines else ():
        start = time.perf_counter()
        small_shape = (max(1, height // factor), max(1, width // factor))
        ab_small = np.round(resize(true_ab, small_shape, order=1, anti_aliasing=True))
        nbytes = thumbnail_bytes(ab_small)
        upsampled = resize(ab_small, (height, width), order=3)
        bicubic = varcolor.color.lab_to_rgb(np.concatenate([lightness[..., None], upsampled], axis=2))
        score("thumbnail-bicubic", {"factor": factor}, nbytes, bicubic, time.perf_counter() - start)
        start = time.perf_counter()
        mask = np.zeros((height, width), bool)
        cue_ab = np.zeros((height, width, 2))
        ys = np.minimum(((np.arange(small_shape[0]) + 0.5) * height / small_shape[0]).astype(int), height - 1)
        xs = np.minimum(((np.arange(small_shape[1]) + 0.5) * width / small_shape[1]).astype(int), width - 1)
        mask[np.ix_(ys, xs)] = True
        cue_ab[np.ix_(ys, xs)] = ab_small
        solved = varcolor.colorize(gray, varcolor.Cues(mask, cue_ab), solver="direct")
        score("thumbnail-solver", {"factor": factor}, nbytes, solved.rgb, time.perf_counter() - start)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=str(SHARED / "kodak"))
    parser.add_argument("--limit", type=int, default=0, help="use only the first N images")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument(
        "--methods",
        default=",".join(SWEEPS),
        help="comma-separated sweeps to run (default: all); baselines run with all of them",
    )
    parser.add_argument("--name", default="rate_distortion", help="base name of the result files")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    methods = tuple(args.methods.split(","))
    unknown = [m for m in methods if m not in SWEEPS]
    if unknown:
        print(
            f"rate_distortion: error: unknown sweep(s) {', '.join(unknown)}; available: {', '.join(SWEEPS)}",
            file=sys.stderr,
        )
        return 2
    folder = Path(args.images)
    if not folder.is_dir():
        print(f"rate_distortion: error: {folder}: no such folder", file=sys.stderr)
        return 2
    paths = [str(folder / p) for p in varcolor.walk_images(folder)]
    paths = paths[: args.limit] if args.limit else paths
    rows = []
    with workers.pool(args.workers) as pool:
        jobs = pool.map(evaluate, paths, [methods] * len(paths), [set(methods) == set(SWEEPS)] * len(paths))
        for done in tqdm(jobs, total=len(paths), desc="rate-distortion", unit="image"):
            rows += done
    curves = {}
    for row in rows:
        key = (row["method"], json.dumps(row["params"], sort_keys=True))
        curves.setdefault(key, []).append(row)
    summary = sorted(
        (
            {
                "method": m,
                "params": json.loads(p),
                "images": len(v),
                "bytes": float(np.mean([r["bytes"] for r in v])),
                "psnr": float(np.mean([r["psnr"] for r in v])),
                "ciede2000": float(np.mean([r["ciede2000"] for r in v])),
                "seconds": float(np.mean([r["seconds"] for r in v])),
            }
            for (m, p), v in curves.items()
        ),
        key=lambda s: (s["method"], s["bytes"]),
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(
        json.dumps({"images": len(paths), "workers": args.workers, "summary": summary, "rows": rows}, indent=1)
    )
    lines = [
        f"Mean over {len(paths)} images of {folder.name} at full resolution; bytes = .vcir payload "
        f"(or thumbnail PNG), gray image excluded; {args.workers} image(s) at a time on "
        f"{os.cpu_count()} cores.",
        "",
        "| method | parameters | bytes | PSNR (dB) | ΔE2000 | seconds (encode+decode) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {s['method']} | {', '.join(f'{k}={v}' for k, v in s['params'].items())} | {s['bytes']:.0f} | "
        f"{s['psnr']:.2f} | {s['ciede2000']:.2f} | {s['seconds']:.1f} |"
        for s in summary
    ]
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    title = f"Rate–distortion, {folder.name} ({len(paths)} images, full resolution)"
    with figure(out / f"{args.name}.png", "payload bytes per image", "mean PSNR (dB)", title) as ax:
        for method in dict.fromkeys(s["method"] for s in summary):
            points = [(s["bytes"], s["psnr"]) for s in summary if s["method"] == method]
            ax.plot(*zip(*points), marker="o", label=method, linestyle="--" if "thumbnail" in method else "-")
        ax.set_xscale("log", base=2)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
