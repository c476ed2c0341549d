"""A chain from a restorer's strokes (issue 93): eight frames of a street (``bikes.mp4``'s shot
behind the green fence, every fifth frame), strokes on the first frame's most colourful objects
(:mod:`restorer_strokes`, antialiased, in their median colours, none on neutral objects), and
``varcolor colorize frames/ --marked marks/ --chain -o out/`` as a user runs it, restrained (the
default) and ``--restraint off``: each frame's PSNR against its colour original beside its gray
image's, and the mean. Writes ``restraint_chain.json`` and ``.md``.

Run: ``python benchmarks/restraint_chain.py [--objects 8]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from reports import write_report
from restorer_strokes import place
from shared_data import SHARED

HERE = Path(__file__).resolve().parent
FRAMES = range(140, 180, 5)  # the shot behind the green fence (frames 137-186)


def main() -> None:
    import av

    import varcolor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=8, help="strokes on this many objects (default 8)")
    parser.add_argument(
        "--colourful", type=float, default=4.0, help="least median chroma of a stroked object (a muted street: 4)"
    )
    parser.add_argument("--smallest", type=float, default=0.001, help="least area of a stroked object (share)")
    parser.add_argument("--name", default="restraint_chain")
    args = parser.parse_args()
    with av.open(str(SHARED / "video" / "bikes.mp4")) as clip:
        decoded = [frame.to_ndarray(format="rgb24") for frame in clip.decode(video=0)]
    truths = [decoded[k] / 255.0 for k in FRAMES]
    rows: dict = {"frames": list(FRAMES), "restrained": [], "unrestrained": [], "gray": []}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "frames").mkdir()
        (folder / "marks").mkdir()
        for k, truth in zip(FRAMES, truths):
            gray = np.round(varcolor.color.same_lightness_gray(truth) * 255) / 255
            varcolor.write_image(folder / "frames" / f"f{k:04d}.png", gray, bits=8)
            rows["gray"].append(varcolor.metrics.psnr(np.repeat(gray[..., None], 3, axis=2), truth))
        case = place(truths[0], objects=args.objects, colourful=args.colourful, smallest=args.smallest)
        varcolor.write_image(folder / "marks" / f"f{FRAMES[0]:04d}_marked.png", case.marked, bits=8)
        for engine, extra in (("restrained", []), ("unrestrained", ["--restraint", "off"])):
            out = folder / engine
            command = [sys.executable, "-m", "varcolor.cli", "colorize", str(folder / "frames"), "--marked"]
            command += [str(folder / "marks"), "--chain", "-o", str(out), "-q", *extra]
            done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
            rows[f"{engine}_exit"] = done.returncode
            for k, truth in zip(FRAMES, truths):
                path = out / f"f{k:04d}.png"
                rows[engine].append(varcolor.metrics.psnr(varcolor.read_image(path), truth) if path.exists() else None)
        rows["objects"] = case.objects
    lines = [
        "# A chain from a restorer's strokes: the street behind the green fence",
        "",
        f"Made by `python benchmarks/restraint_chain.py --objects {args.objects} --colourful {args.colourful:g} "
        f"--smallest {args.smallest:g}`: frames {FRAMES[0]}–{FRAMES[-1]} of bikes.mp4 (every fifth), strokes on "
        f"the first frame's {rows['objects']} most colourful objects (benchmarks/restorer_strokes.py), "
        "`varcolor colorize frames/ --marked marks/ --chain`.",
        "",
        "| frame | gray dB | restrained dB | unrestrained dB |",
        "|---|---|---|---|",
    ]

    def cell(value):
        return "–" if value is None else f"{value:.2f}"

    for i, k in enumerate(FRAMES):
        lines.append(
            f"| {k} | {rows['gray'][i]:.2f} | {cell(rows['restrained'][i])} | {cell(rows['unrestrained'][i])} |"
        )
    means = {
        key: float(np.mean([v for v in rows[key] if v is not None])) for key in ("gray", "restrained", "unrestrained")
    }
    lines.append(f"| mean | {means['gray']:.2f} | {means['restrained']:.2f} | {means['unrestrained']:.2f} |")
    rows["means"] = means
    text = "\n".join(lines) + "\n"
    print(text)
    write_report(HERE / "results", args.name, rows, text)


if __name__ == "__main__":
    main()
