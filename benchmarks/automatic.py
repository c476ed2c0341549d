"""Automatic colorization (no cues) by the network: PSNR and colourfulness per decoding.

For each held-out set (default: BSDS500 val, McMaster, Kodak) at 256², scores the gray image (the
result without colour), and the network alone with no cues under each decoding — its regression
output, or the annealed mean of its class head at each temperature — against the originals:
PSNR (8-bit RGB) and Hasler–Süsstrunk colourfulness, with the originals' colourfulness beside it.
Also times one 256² inference (median of 10, one thread).

Writes ``<name>.json`` and ``<name>.md`` in ``benchmarks/results``.

Run: ``python benchmarks/automatic.py --weights models/ideepcolor-w025.safetensors
--decodings regression,annealed:0.38`` (``annealed:T:S``: temperature T, rebalancing strength S,
default 0.75, for weights that carry their training photos' bin distribution).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from shared_data import SHARED

import varcolor
from varcolor import bench, metrics
from varcolor.color import chroma_to_rgb, rgb_to_lab, same_lightness_gray
from varcolor.cues import Cues
from varcolor.neural.classes import REBALANCE
from varcolor.neural.prior import predict
from varcolor.neural.weights import load

HERE = Path(__file__).resolve().parent
SETS = ("bsds500/val", "mcmaster", "kodak")


def decodings(text: str) -> list[tuple[str, str, float, float]]:
    """``regression`` or ``annealed:T[:S]`` items → (label, decode, temperature, rebalancing strength)."""
    out = []
    for item in text.split(","):
        parts = item.split(":")
        name, temperature, strength = parts[0], (parts[1:2] or ["0.38"])[0], (parts[2:3] or [str(REBALANCE)])[0]
        out.append((item, name, float(temperature), float(strength)))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="models/ideepcolor-w025.safetensors", help="comma-separated weights files")
    parser.add_argument("--decodings", default="regression,annealed:1,annealed:0.6,annealed:0.38")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--limit", type=int, default=0, help="first N images of each set")
    parser.add_argument("--name", default="automatic")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    rows, summary = [], {}
    for weights in args.weights.split(","):
        net = load(weights)
        for folder in args.sets.split(","):
            paths = [SHARED / folder / p for p in varcolor.walk_images(SHARED / folder)]
            paths = paths[: args.limit] if args.limit else paths
            for path in paths:
                rgb = bench.reference(varcolor.read_image(path), "256")
                gray = same_lightness_gray(rgb)
                lightness = rgb_to_lab(rgb)[..., 0]
                row = {
                    "weights": Path(weights).name,
                    "set": folder,
                    "image": path.name,
                    "original_colorfulness": metrics.colorfulness(rgb),
                    "gray_psnr": metrics.psnr(np.repeat(gray[..., None], 3, axis=2), rgb),
                }
                cues = Cues(np.zeros(gray.shape, bool), np.zeros(gray.shape + (2,)))
                for label, decode, temperature, strength in decodings(args.decodings):
                    ab, _ = predict(net, gray, cues, decode=decode, temperature=temperature, rebalance=strength)
                    result = chroma_to_rgb(lightness, ab, "chroma")
                    row[f"{label}/psnr"] = metrics.psnr(result, rgb)
                    row[f"{label}/colorfulness"] = metrics.colorfulness(result)
                    row[f"{label}/chroma"] = float(np.hypot(ab[..., 0], ab[..., 1]).mean())
                row["original_chroma"] = float(np.hypot(*np.moveaxis(rgb_to_lab(rgb)[..., 1:], -1, 0)).mean())
                rows.append(row)
            chosen = [r for r in rows if r["set"] == folder and r["weights"] == Path(weights).name]
            keys = [k for k in chosen[0] if k not in ("weights", "set", "image")]
            summary[f"{Path(weights).name}/{folder}"] = {k: float(np.mean([r[k] for r in chosen])) for k in keys} | {
                "count": len(chosen)
            }
        gray = same_lightness_gray(bench.reference(varcolor.read_image(paths[0]), "256"))
        for threads in (1, os.cpu_count()):
            torch.set_num_threads(threads)
            for label, decode, temperature, strength in decodings(args.decodings)[:2]:
                times = []
                for _ in range(15):
                    start = time.perf_counter()
                    predict(
                        net,
                        gray,
                        Cues(np.zeros(gray.shape, bool), np.zeros(gray.shape + (2,))),
                        decode=decode,
                        temperature=temperature,
                        rebalance=strength,
                    )
                    times.append(time.perf_counter() - start)
                summary[f"{Path(weights).name}/seconds_256/{label}/{threads} threads"] = float(np.median(times))
        torch.set_num_threads(1)

    lines = [
        "| weights | set | decoding | PSNR (dB) | − gray PSNR | colourfulness | % of originals' | mean chroma |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, values in summary.items():
        if "/seconds_256/" in key:
            continue
        weights, folder = key.split("/", 1)
        lines.append(f"| {weights} | {folder} ({values['count']}) | gray | {values['gray_psnr']:.2f} | 0 | 0 | 0 | 0 |")
        lines.append(
            f"| {weights} | {folder} ({values['count']}) | original | – | – | "
            f"{values['original_colorfulness']:.1f} | 100 | {values['original_chroma']:.1f} |"
        )
        for label, *_ in decodings(args.decodings):
            lines.append(
                f"| {weights} | {folder} ({values['count']}) | {label} | {values[label + '/psnr']:.2f} | "
                f"{values[label + '/psnr'] - values['gray_psnr']:+.2f} | {values[label + '/colorfulness']:.1f} | "
                f"{100 * values[label + '/colorfulness'] / values['original_colorfulness']:.0f} | "
                f"{values[label + '/chroma']:.1f} |"
            )
    times = [
        f"{k.split('/')[0]} {k.split('/')[2]}, {k.split('/')[3]}: {1000 * v:.0f} ms"
        for k, v in summary.items()
        if "/seconds_256/" in k
    ]
    table = (
        "Network alone, no cues, 256² (aspect not kept), 8-bit RGB PSNR; colourfulness: Hasler–Süsstrunk.\n\n"
        + "\n".join(lines)
        + f"\n\nInference at 256² (network input, forward, decoding, lift), median of 15: "
        f"{'; '.join(times)}\n"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "weights": args.weights,
        "decodings": args.decodings,
        "sets": args.sets,
        "summary": summary,
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "rows": rows,
    }
    with varcolor.io.atomic_path(out / f"{args.name}.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    with varcolor.io.atomic_path(out / f"{args.name}.md") as tmp:
        tmp.write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
