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

``--strokes N`` reads the few-strokes case instead (issue 108, item 3): the same scan with N flat
colour strokes (a few pixels wide, a third of its width long) painted on its one-channel copy,
where the reading's own work is a larger share than with 80; ``--noise`` sets the scanner's noise
(levels, a channel) and ``--rounds`` how many times each storage is measured, the two alternating
(medians reported): ``python benchmarks/marks_reading.py --strokes 6 --noise 2 --megapixels 4
--rounds 3 --name marks_reading_few_strokes``.

``--gray-mask SHARE`` lays flat gray paint (level 128) over that share of the photo's width, from
its left, before the few strokes (a restorer keeping a background neutral):
``python benchmarks/marks_reading.py --strokes 6 --gray-mask 0.78 --megapixels 12 --name marks_reading_gray_mask``.
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
#: The few-strokes case's paints (``--strokes``), taken in turn.
FLAT_PAINTS = ((200, 60, 40), (40, 160, 60), (50, 80, 200), (220, 200, 40), (160, 60, 160), (30, 160, 170))


def _scans(task: dict, queue) -> None:
    """The photo scan (``stem.png``, ``stem_marked.png``) and its scanner's RGB (``stem_rgb.png``)."""
    import imageio.v3 as iio

    made = make_scan(task["megapixels"], task["stem"], kind="photo")
    gray = iio.imread(f"{task['stem']}.png")
    rng = np.random.default_rng(1)
    rgb = np.empty(gray.shape + (3,), np.uint8)
    for top in range(0, gray.shape[0], 512):
        band = gray[top : top + 512].astype(np.float32)[..., None]
        band = band + rng.normal(0, task.get("noise", NOISE), band.shape[:2] + (3,)).astype(np.float32)
        rgb[top : top + 512] = np.clip(band + 0.5, 0, 255).astype(np.uint8)
    iio.imwrite(f"{task['stem']}_rgb.png", rgb)
    if task.get("strokes"):  # a few flat strokes on the one-channel copy instead of the 80 copied ones
        height, width = gray.shape
        marked = np.repeat(gray[..., None], 3, axis=2)
        marked[:, : int(width * task.get("gray_mask", 0.0))] = 128
        for k in range(task["strokes"]):
            top = int(height * (0.15 + 0.7 * k / max(task["strokes"], 1)))
            marked[top : top + max(3, height // 300), width // 5 : width // 2] = FLAT_PAINTS[k % len(FLAT_PAINTS)]
        iio.imwrite(f"{task['stem']}_marked.png", marked)
        made["cues"] = int(np.count_nonzero(np.any(marked != gray[..., None], axis=2)))
    queue.put(made)


def _reading(task: dict, queue) -> None:
    """``Cues.from_marked``'s seconds on the scan as the command line reads it."""
    import varcolor
    from varcolor.app.solve import read_marked_photo
    from varcolor.options import Options

    photo = Path(task["photo"])
    start = time.perf_counter()
    gray, _, marked = read_marked_photo(photo, Path(task["marked"]), Options(), None)
    if marked is None:
        marked = varcolor.read_image(task["marked"], np.float32)
    read = time.perf_counter() - start
    start = time.perf_counter()
    cues = varcolor.Cues.from_marked(gray, marked)
    seconds = time.perf_counter() - start
    # The library's reading of the same files: the photo as read_image gives it (an RGB scan's three channels).
    photo_floats, marked = varcolor.read_image(photo), varcolor.read_image(task["marked"], np.float32)
    start = time.perf_counter()
    library = varcolor.Cues.from_marked(photo_floats, marked)
    queue.put(
        {
            "read_seconds": read,
            "from_marked_seconds": seconds,
            "cues": cues.count,
            "library_seconds": time.perf_counter() - start,
            "library_cues": library.count,
        }
    )


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


def measure(
    megapixels: float,
    scratch: str,
    timeout: float,
    strokes: int = 0,
    noise: float = NOISE,
    rounds: int = 1,
    gray_mask: float = 0.0,
) -> list[dict]:
    stem = str(Path(scratch) / f"scan{megapixels:g}")
    task = {"megapixels": megapixels, "stem": stem, "strokes": strokes, "noise": noise, "gray_mask": gray_mask}
    made = run(_scans, task, timeout)
    unit = run(_banded_unit, {"stem": stem}, timeout).get("unit_seconds")
    storages = (("one channel", f"{stem}.png"), ("scanner's RGB", f"{stem}_rgb.png"))
    seen: dict[str, list[dict]] = {storage: [] for storage, _ in storages}
    for _ in range(rounds):  # the two storages alternating: a busy machine's slow minutes fall on both
        for storage, photo in storages:
            out = f"{stem}_{len(seen[storage])}_{storage[:3]}_out.png"
            command = [sys.executable, "-m", "varcolor.cli", "colorize", photo, "--marked", f"{stem}_marked.png"]
            command += ["-o", out, "--quiet", "--overwrite"]
            start = time.perf_counter()
            done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, timeout=timeout)
            seconds = time.perf_counter() - start
            peak = next(
                (int(line.split(":")[1]) * 1024 for line in done.stderr.splitlines() if "Maximum resident" in line),
                None,
            )
            reading = run(_reading, {"photo": photo, "marked": f"{stem}_marked.png"}, timeout)
            seen[storage].append(
                {
                    "seconds": seconds,
                    "peak_bytes": peak,
                    "returncode": done.returncode,
                    "chroma": _chroma(out) if done.returncode == 0 else None,
                    "load": os.getloadavg()[0],
                    **reading,
                }
            )
            print(storage, seen[storage][-1], flush=True)
    rows = []
    for storage, _ in storages:
        runs = seen[storage]
        median = {
            key: float(np.median([r[key] for r in runs]))
            for key in ("seconds", "read_seconds", "from_marked_seconds", "library_seconds")
            if all(r.get(key) is not None for r in runs)
        }
        rows.append(
            {
                **runs[-1],
                **median,
                "megapixels": megapixels,
                "storage": storage,
                "strokes": strokes or None,
                "noise": noise,
                "gray_mask": gray_mask or None,
                "shape": made.get("shape"),
                "floor_seconds": unit,
                "units": median["seconds"] / unit if unit and "seconds" in median else None,
                "peak_bytes": max((r["peak_bytes"] or 0 for r in runs), default=0) or None,
                "rounds": runs,
            }
        )
    return rows


def ratios(rows: list[dict]) -> list[str]:
    """Lines of the scanner's RGB's medians over the one channel's, a size at a time."""
    lines = []
    for one, rgb in zip(rows[::2], rows[1::2]):
        for row in (one, rgb):  # a fresh process's first kernels load in whichever step runs them first
            if row.get("read_seconds") is not None and row.get("from_marked_seconds") is not None:
                row["reading_seconds"] = row["read_seconds"] + row["from_marked_seconds"]
        parts = [
            f"{label} {rgb[key] / one[key]:.2f}×"
            for key, label in (
                ("seconds", "command"),
                ("read_seconds", "CLI reading"),
                ("from_marked_seconds", "CLI from_marked"),
                ("reading_seconds", "CLI reading and from_marked"),
                ("library_seconds", "library from_marked"),
            )
            if rgb.get(key) and one.get(key)
        ]
        lines.append(f"- {one['megapixels']:g} MP, scanner's RGB ÷ one channel (medians): " + ", ".join(parts))
    return lines


def markdown(rows: list[dict], strokes: int = 0, noise: float = NOISE, rounds: int = 1, gray_mask: float = 0.0) -> str:
    scene = (
        f"{strokes} flat colour strokes painted on the one-channel copy, the RGB's noise {noise:g} levels a channel"
        if strokes
        else "80 strokes copied from the photo (textured)"
    )
    if gray_mask:
        scene += f", over flat gray paint on the left {100 * gray_mask:.0f} % of its width"
    title = "Reading a few strokes (issue 108, item 3)"
    title = title if strokes else "Reading marks against the floor (issue 94, item 0)"
    title = "Reading a flat gray mask and a few strokes" if gray_mask else title
    lines = [
        f"# {title}",
        "",
        f"Made by `python benchmarks/marks_reading.py`: kodim05 upscaled, {scene}, "
        "`varcolor colorize --marked` in a fresh process; the floor is 50 CSR mat-vecs of the "
        "scene's Levin matrix in a fresh process, the same run"
        + (f"; {rounds} rounds, the two storages alternating, medians." if rounds > 1 else "."),
        "`from_marked` is the command's reading (after `read_marked_photo`: `read s`), `library` the library's "
        "`Cues.from_marked` given the photo as `read_image` gives it.",
        "",
        "| MP | stored as | command s | × floor | floor s | read s | from_marked s | library s | cues | peak GB "
        "| mean chroma | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        units = f"{r['units']:.2f}" if r.get("units") else "–"
        floor = f"{r['floor_seconds']:.1f}" if r.get("floor_seconds") else "–"
        peak = f"{r['peak_bytes'] / 1e9:.2f}" if r.get("peak_bytes") else "–"
        chroma = f"{r['chroma']:.1f}" if r.get("chroma") is not None else "–"
        lines.append(
            f"| {r['megapixels']:g} | {r['storage']} | {r['seconds']:.1f} | {units} | {floor} | "
            f"{r.get('read_seconds', float('nan')):.2f} | {r.get('from_marked_seconds', float('nan')):.2f} | "
            f"{r.get('library_seconds', float('nan')):.2f} | {r.get('cues', 0):,} | {peak} | {chroma} | "
            f"{r['load']:.1f} |"
        )
    return "\n".join([*lines, "", *ratios(rows)]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", default="12,40")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--name", default="marks_reading")
    parser.add_argument("--strokes", type=int, default=0, help="a few flat strokes instead of 80 copied ones")
    parser.add_argument("--noise", type=float, default=NOISE, help="the RGB's noise, levels a channel")
    parser.add_argument("--rounds", type=int, default=1, help="measurements of each storage, alternating")
    parser.add_argument("--gray-mask", type=float, default=0.0, help="flat gray paint over this share (with --strokes)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for megapixels in (float(m) for m in args.megapixels.split(",")):
            rows += measure(megapixels, scratch, args.timeout, args.strokes, args.noise, args.rounds, args.gray_mask)
    text = markdown(rows, args.strokes, args.noise, args.rounds, args.gray_mask)
    print(text)
    write_report(HERE / "results", args.name, {"rows": rows}, text)


if __name__ == "__main__":
    main()
