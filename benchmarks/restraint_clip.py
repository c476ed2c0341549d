"""A clip from a restorer's strokes on one keyframe: the street shot behind the green fence
(``bikes.mp4`` frames 137–186), strokes on frame 140's most colourful objects
(:mod:`restorer_strokes`, antialiased, in their median colours, none on neutral objects),
coloured by :func:`varcolor.video.colorize_video` restrained (the default) and with
``restraint="off"`` (Levin's flood, the clip engine before it was restrained): mean PSNR against
the colour frames beside the gray frames', flicker (:func:`varcolor.video.metrics.score_clip`:
mean |Δab| between consecutive frames where the truth holds still) and seconds, at the clip's
size and at 2× a side (the first 20 frames). Writes ``restraint_clip.json`` and ``.md``.

Run: ``python benchmarks/restraint_clip.py``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from reports import csr_matvec_ms, kernels_note, write_report
from restorer_strokes import place
from shared_data import SHARED

HERE = Path(__file__).resolve().parent
FIRST, STOP, KEY = 137, 187, 140  # the shot behind the green fence; the keyframe


def _clip(scale: int, frames: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The shot's colour frames (``scale``× a side, bicubic) and their 8-bit gray copies."""
    import av
    import cv2

    import varcolor

    with av.open(str(SHARED / "video" / "bikes.mp4")) as clip:
        decoded = [frame.to_ndarray(format="rgb24") for frame in clip.decode(video=0)]
    truths = []
    for k in range(FIRST, min(STOP, FIRST + frames)):
        frame = decoded[k]
        if scale > 1:
            size = (frame.shape[1] * scale, frame.shape[0] * scale)
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)
        truths.append(np.clip(frame / 255.0, 0.0, 1.0))
    grays = [np.round(varcolor.color.same_lightness_gray(t) * 255) / 255 for t in truths]
    return truths, grays


def main() -> None:
    import varcolor
    from varcolor.video import colorize_video
    from varcolor.video.metrics import score_clip

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=8, help="strokes on this many objects (default 8)")
    parser.add_argument("--name", default="restraint_clip")
    args = parser.parse_args()
    warm, note = kernels_note()
    rows: dict = {"csr_matvec_ms": csr_matvec_ms(), "warm": warm, "sizes": {}}
    lines = [
        "# A clip from a restorer's strokes on one keyframe: the street behind the green fence",
        "",
        f"Made by `python benchmarks/restraint_clip.py --objects {args.objects}`: bikes.mp4 frames "
        f"{FIRST}–{STOP - 1}, strokes on frame {KEY}'s most colourful objects (benchmarks/restorer_strokes.py), "
        '`colorize_video` restrained (the default) and with `restraint="off"`. Flicker: mean |Δab| between '
        "consecutive frames where the truth holds still. Seconds: after a two-frame run of each (imports, "
        f"first compiles). A 1 MP CSR mat-vec {rows['csr_matvec_ms']:.1f} ms. {note}",
        "",
        "| size | frames | engine | gray dB | result dB | gain dB | flicker ab | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for scale, frames in ((1, STOP - FIRST), (2, 20)):
        truths, grays = _clip(scale, frames)
        key = KEY - FIRST
        case = place(truths[key], objects=args.objects, colourful=4.0, smallest=0.001)
        cues = {key: varcolor.Cues.from_marked(grays[key], case.marked)}
        as_rgb = [np.repeat(g[..., None], 3, 2) for g in grays]
        gray_db = float(np.mean([varcolor.metrics.psnr(g, t) for g, t in zip(as_rgb, truths)]))
        label = f"{truths[0].shape[1]}×{truths[0].shape[0]}"
        rows["sizes"][label] = {"objects": case.objects, "gray": gray_db}
        for restraint in ("on", "off"):  # (imports and first compiles out of the timings)
            list(colorize_video(grays[key : key + 2], {0: cues[key]}, restraint=restraint))
        for engine, restraint in (("restrained", "on"), ("unrestrained", "off")):
            start = time.perf_counter()
            out = [frame.rgb for frame in colorize_video(grays, cues, restraint=restraint)]
            seconds = time.perf_counter() - start
            scores = score_clip(out, truths)
            row = {"psnr": scores.psnr, "gain": scores.psnr - gray_db, "flicker": scores.flicker, "seconds": seconds}
            rows["sizes"][label][engine] = row
            lines.append(
                f"| {label} | {len(truths)} | {engine} | {gray_db:.2f} | {row['psnr']:.2f} | {row['gain']:+.2f} | "
                f"{row['flicker']:.3f} | {seconds:.1f} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    write_report(HERE / "results", args.name, rows, text)


if __name__ == "__main__":
    main()
