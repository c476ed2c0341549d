"""Reading marks against the floor (issue 94, item 0): a big scan with 80 strokes copied from its
colour original (bands of true, textured colour), stored as one channel and as a scanner's RGB
(each channel the gray plus noise of 1.5 levels) with its strokes painted on the one-channel copy.

For each storage, ``varcolor colorize --marked`` as a user runs it (a fresh process, under
``/usr/bin/time -v``: seconds and peak memory), the mean chroma of its result (the scan's RGB
must be coloured as its one-channel twin is, not near gray), and ``Cues.from_marked``'s own
seconds in a fresh process; beside them the floor: 50 CSR mat-vecs of the scene's Levin matrix,
measured in a fresh process in the same run (``engine.py``'s banded unit).

Scene: ``engine.make_scan(kind="photo")`` (kodim05 upscaled, 80 strokes 2 px wide drawn at 1 MP
and scaled up, their pixels the photo's own). Writes ``marks_reading.json`` and ``.md``.
Run: ``python benchmarks/marks_reading.py --megapixels 12,40``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from engine import _banded_unit, make_scan, run
from reports import write_report

HERE = Path(__file__).resolve().parent
NOISE = 1.5  # levels, a channel


def _scans(task: dict, queue) -> None:
    """The photo scan (``stem.png``, ``stem_marked.png``) and its scanner's RGB (``stem_rgb.png``)."""
    import imageio.v3 as iio

    made = make_scan(task["megapixels"], task["stem"], kind="photo")
    gray = iio.imread(f"{task['stem']}.png")
    rng = np.random.default_rng(1)
    rgb = np.empty(gray.shape + (3,), np.uint8)
    for top in range(0, gray.shape[0], 512):
        band = gray[top : top + 512].astype(np.float32)[..., None]
        band = band + rng.normal(0, NOISE, band.shape[:2] + (3,)).astype(np.float32)
        rgb[top : top + 512] = np.clip(band + 0.5, 0, 255).astype(np.uint8)
    iio.imwrite(f"{task['stem']}_rgb.png", rgb)
    queue.put(made)


def _reading(task: dict, queue) -> None:
    """``Cues.from_marked``'s seconds on the scan as the command line reads it."""
    import varcolor
    from varcolor.app.solve import read_marked_photo
    from varcolor.options import Options

    photo = Path(task["photo"])
    gray, _, marked = read_marked_photo(photo, Path(task["marked"]), Options(), None)
    if marked is None:
        marked = varcolor.read_image(task["marked"], np.float32)
    start = time.perf_counter()
    cues = varcolor.Cues.from_marked(gray, marked)
    queue.put({"from_marked_seconds": time.perf_counter() - start, "cues": cues.count})


def _chroma(path: str) -> float:
    import imageio.v3 as iio

    import varcolor

    total, count = 0.0, 0
    image = iio.imread(path)
    for top in range(0, image.shape[0], 256):
        lab = varcolor.color.rgb_to_lab(image[top : top + 256 : 4, ::4] / 255.0)
        total += float(np.hypot(lab[..., 1], lab[..., 2]).sum())
        count += lab.shape[0] * lab.shape[1]
    return total / count


def measure(megapixels: float, scratch: str, timeout: float) -> list[dict]:
    stem = str(Path(scratch) / f"scan{megapixels:g}")
    made = run(_scans, {"megapixels": megapixels, "stem": stem}, timeout)
    unit = run(_banded_unit, {"stem": stem}, timeout).get("unit_seconds")
    rows = []
    for storage, photo in (("one channel", f"{stem}.png"), ("scanner's RGB", f"{stem}_rgb.png")):
        out = f"{stem}_{len(rows)}_out.png"
        command = [sys.executable, "-m", "varcolor.cli", "colorize", photo, "--marked", f"{stem}_marked.png"]
        command += ["-o", out, "--quiet"]
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, timeout=timeout)
        seconds = time.perf_counter() - start
        peak = next(
            (int(line.split(":")[1]) * 1024 for line in done.stderr.splitlines() if "Maximum resident" in line), None
        )
        reading = run(_reading, {"photo": photo, "marked": f"{stem}_marked.png"}, timeout)
        rows.append(
            {
                "megapixels": megapixels,
                "storage": storage,
                "shape": made.get("shape"),
                "seconds": seconds,
                "peak_bytes": peak,
                "returncode": done.returncode,
                "floor_seconds": unit,
                "units": seconds / unit if unit else None,
                "chroma": _chroma(out) if done.returncode == 0 else None,
                "load": os.getloadavg()[0],
                **reading,
            }
        )
        print(rows[-1], flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "# Reading marks against the floor (issue 94, item 0)",
        "",
        "Made by `python benchmarks/marks_reading.py`: kodim05 upscaled, 80 strokes copied from the photo "
        "(textured), `varcolor colorize --marked` in a fresh process; the floor is 50 CSR mat-vecs of the "
        "scene's Levin matrix in a fresh process, the same run.",
        "",
        "| MP | stored as | command s | × floor | floor s | from_marked s | cues | peak GB | mean chroma | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        units = f"{r['units']:.2f}" if r.get("units") else "–"
        floor = f"{r['floor_seconds']:.1f}" if r.get("floor_seconds") else "–"
        peak = f"{r['peak_bytes'] / 1e9:.2f}" if r.get("peak_bytes") else "–"
        chroma = f"{r['chroma']:.1f}" if r.get("chroma") is not None else "–"
        lines.append(
            f"| {r['megapixels']:g} | {r['storage']} | {r['seconds']:.1f} | {units} | {floor} | "
            f"{r.get('from_marked_seconds', float('nan')):.2f} | {r.get('cues', 0):,} | {peak} | {chroma} | "
            f"{r['load']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", default="12,40")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--name", default="marks_reading")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for megapixels in (float(m) for m in args.megapixels.split(",")):
            rows += measure(megapixels, scratch, args.timeout)
    text = markdown(rows)
    print(text)
    write_report(HERE / "results", args.name, {"rows": rows}, text)


if __name__ == "__main__":
    main()
