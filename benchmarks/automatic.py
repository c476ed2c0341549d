"""Automatic colorization (no cues) by the network: PSNR, CIEDE2000 and colourfulness per mode,
on the tuning part and the test part separately.

The parts are :func:`shared_data.split`'s (tuning: ImageNet sample 0–299 and BSDS500 train; test:
BSDS500 val, McMaster, Kodak and ImageNet sample 300+). For each image at 256² (the ideepcolor
protocol, aspect not kept) it scores the gray image (the result without colour) and the network
alone with no cues under each decoding against the original: PSNR (8-bit RGB), CIEDE2000 and
Hasler–Süsstrunk colourfulness, with the originals' colourfulness beside it. Decodings:
``faithful`` (the regression output), ``vivid`` (the rebalanced annealed mean at the shipped T
and strength), or ``annealed:T:S`` for any other temperature T and strength S.

Writes ``<name>.json`` and ``<name>.md`` in ``benchmarks/results``; ``--timing`` adds the time of
one 256² inference (median of 15, at 1 thread and at every core).

Run: ``python benchmarks/automatic.py`` (both parts; ``--parts test``; ``--every`` and
``--set-every SET=N`` subsample).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from reports import write_report
from shared_data import UNSEEN, colourless, label, split

import varcolor
from varcolor import bench, metrics
from varcolor.color import chroma_to_rgb, rgb_to_lab, same_lightness_gray
from varcolor.cues import Cues
from varcolor.neural.classes import REBALANCE, TEMPERATURE
from varcolor.neural.prior import forward, predict, read_colours, upsample
from varcolor.neural.weights import DEFAULT_WEIGHTS, load

HERE = Path(__file__).resolve().parent
SCORES = ("psnr", "ciede2000", "colorfulness")


def decodings(text: str) -> list[tuple[str, str, float, float]]:
    """``faithful``, ``vivid`` or ``annealed:T:S`` items → (label, decode, temperature, rebalancing strength)."""
    out = []
    for item in text.split(","):
        if item in ("faithful", "regression"):
            out.append((item, "regression", TEMPERATURE, REBALANCE))
        elif item == "vivid":
            out.append((item, "annealed", TEMPERATURE, REBALANCE))
        else:
            name, temperature, strength = item.split(":")
            out.append((item, name, float(temperature), float(strength)))
    return out


def score_image(net, path: Path, chosen: list) -> dict | None:
    rgb = bench.original(varcolor.read_image(path), "256")
    if colourless(rgb):
        return None
    gray = same_lightness_gray(rgb)
    lightness = rgb_to_lab(rgb)[..., 0]
    gray_rgb = np.repeat(gray[..., None], 3, axis=2)
    row = {
        "image": path.name,
        "original/colorfulness": metrics.colorfulness(rgb),
        "gray/psnr": metrics.psnr(gray_rgb, rgb),
        "gray/ciede2000": metrics.ciede2000(gray_rgb, rgb),
        "gray/colorfulness": 0.0,
    }
    x, logits, ab = forward(net, gray, Cues.empty(gray.shape))
    for name, decode, temperature, strength in chosen:
        read = read_colours(net, x, logits, ab, decode=decode, temperature=temperature, rebalance=strength)
        result = chroma_to_rgb(lightness, upsample(read, gray.shape), "chroma")
        row |= {
            f"{name}/psnr": metrics.psnr(result, rgb),
            f"{name}/ciede2000": metrics.ciede2000(result, rgb),
            f"{name}/colorfulness": metrics.colorfulness(result),
        }
    return row


def mean(rows: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k not in ("image", "part", "set")} | {
        "count": len(rows)
    }


def timing(net, paths: list[Path], chosen: list) -> dict:
    gray = same_lightness_gray(bench.original(varcolor.read_image(paths[0]), "256"))
    empty = Cues.empty(gray.shape)
    out = {}
    for threads in (1, os.cpu_count()):
        torch.set_num_threads(threads)
        for name, decode, temperature, strength in chosen[:2]:
            times = []
            for _ in range(15):
                start = time.perf_counter()
                predict(net, gray, empty, decode=decode, temperature=temperature, rebalance=strength)
                times.append(time.perf_counter() - start)
            out[f"{name}, {threads} thread(s)"] = float(np.median(times))
    torch.set_num_threads(1)
    return out


def markdown(summary: dict, chosen: list, note: str) -> str:
    lines = [
        "| part | set | decoding | PSNR (dB) | − gray | CIEDE2000 | − gray | colourfulness | % of originals' |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, values in summary.items():
        part, name = key.split("/", 1)
        where = f"| {part} | {label(name) if not name.startswith('all') else name} ({values['count']}) |"
        original = values["original/colorfulness"]
        lines.append(f"{where} gray | {values['gray/psnr']:.2f} | 0 | {values['gray/ciede2000']:.2f} | 0 | 0 | 0 |")
        for decoding, *_ in chosen:
            psnr, de, cf = (values[f"{decoding}/{s}"] for s in SCORES)
            lines.append(
                f"{where} {decoding} | {psnr:.2f} | {psnr - values['gray/psnr']:+.2f} | {de:.2f} | "
                f"{de - values['gray/ciede2000']:+.2f} | {cf:.1f} | {100 * cf / original:.0f} |"
            )
    return (
        "Network alone, no cues, 256² (aspect not kept), 8-bit RGB PSNR, CIEDE2000 (lower is better), "
        "Hasler–Süsstrunk colourfulness (% of the originals' mean). " + note + "\n\n" + "\n".join(lines) + "\n"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network-file", default=None, help="network weights (default: the shipped model)")
    parser.add_argument(
        "--decodings", default="faithful,vivid", help="faithful, vivid or annealed:T:S, comma-separated"
    )
    parser.add_argument("--parts", default="tuning,test", help="tuning, test or both")
    parser.add_argument("--every", type=int, default=1, help="every n-th image of each set")
    parser.add_argument(
        "--set-every",
        action="append",
        default=[],
        metavar="SET=N",
        help="every n-th image of this set instead (e.g. 'bsds500/val=4'; repeatable)",
    )
    parser.add_argument("--timing", action="store_true", help="also time one 256² inference per decoding")
    parser.add_argument("--name", default="automatic")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    chosen = decodings(args.decodings)
    net = load(args.network_file)

    rows, summary, subsets = [], {}, {}
    start = time.perf_counter()
    overrides = {item.rsplit("=", 1)[0]: int(item.rsplit("=", 1)[1]) for item in args.set_every}
    for part in args.parts.split(","):
        for name, paths in split(part).items():
            paths = paths[:: overrides.get(name, args.every)]
            subsets[f"{part}/{name}"] = [p.name for p in paths]
            for number, path in enumerate(paths):
                print(f"{part} {name} {number + 1}/{len(paths)}", file=sys.stderr, flush=True)
                row = score_image(net, path, chosen)
                if row is not None:  # None: a colourless original, left out
                    rows.append({"part": part, "set": name} | row)
            summary[f"{part}/{name}"] = mean([r for r in rows if (r["part"], r["set"]) == (part, name)])
        if part == "test":
            unseen = [r for r in rows if r["part"] == "test" and r["set"] in UNSEEN]
            if unseen:
                summary["test/all unseen (BSDS500 val + McMaster + Kodak)"] = mean(unseen)
        everything = [r for r in rows if r["part"] == part]
        summary[f"{part}/all {part} images"] = mean(everything)
    seconds = time.perf_counter() - start
    times = (
        timing(net, [Path(varcolor.__file__).parent.parent / "examples/data/chelsea_original.png"], chosen)
        if (args.timing)
        else {}
    )
    every = "; ".join(
        [f"every {args.every}th image of each set" if args.every > 1 else "every image of each set"]
        + [f"{k}: every {v}th" for k, v in overrides.items()]
    )
    note = (
        f"Images: {every} (colourless originals left out). vivid: T = {TEMPERATURE}, strength {REBALANCE}. "
        "The ImageNet sample and BSDS500 train are the shipped network's training photos; BSDS500 val, "
        "McMaster and Kodak are unseen by its training and by the tuning."
    )
    table = markdown(summary, chosen, note)
    if times:
        table += (
            "\nInference at 256² (network input, forward, decoding, lift), median of 15: "
            + "; ".join(f"{k}: {1000 * v:.0f} ms" for k, v in times.items())
            + "\n"
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "network_file": args.network_file or DEFAULT_WEIGHTS,
        "decodings": [list(d) for d in chosen],
        "parts": args.parts,
        "every": args.every,
        "set_every": overrides,
        "images": subsets,
        "summary": summary,
        "seconds_per_inference": times,
        "seconds": seconds,
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "rows": rows,
    }
    write_report(out, args.name, report, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
