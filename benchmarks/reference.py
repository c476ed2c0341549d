"""Colour from a reference photo (``Cues.from_reference``, ``varcolor colorize --reference``):
quality on pairs of the same scene and on unrelated pairs, and time and memory on big scans.

Pairs, each a gray target, its colour truth and a colour reference:

- **crops**: two overlapping crops of one photo (the left and the right 70 %), the second turned
  3° with another tone curve (γ 0.8) as the reference;
- **frames**: frames of one shot of the clips in ``../shared/data/video`` (bikes: the first frame
  of each shot as the reference, the frame 20 later as the target, within the shot; carphone:
  frame 0 for frames 60 and 119);
- **unrelated**: the first crop of one photo with another photo of the set as the reference.

Each target is colorized by: the gray image itself; the automatic colour (``prior="ideepcolor"``,
no cues); a Welsh-2002 baseline written here (luminance remapping, 200 jittered reference samples
matched by the lightness and its 5×5 standard deviation, every pixel's chroma transferred);
the reference (``Cues.from_reference`` through the default engine); and 20 hints of the truth's own
colours (``sample_ideepcolor``, for scale). Scores: PSNR, ΔE2000 (``varcolor.metrics``) and the
colourfulness ratio (the result's mean Lab chroma over the truth's).

Constants were chosen on the tuning part (``python benchmarks/reference.py --tuning``: BSDS500
train; and Kodak 1–14 while the matcher was written, so Kodak is left out of the report); the
report is on the test part's BSDS500 val and ImageNet sample 300+, and on the clips.

Time and peak memory: ``varcolor colorize`` on a Kodak photo upscaled to 1, 12 and 40 MP
(``benchmarks/engine.py``'s ``photo`` scan: 80 strokes of its own colours), with the photo itself
turned 2° as the reference of the same size, against the 80-stroke solve of the same target,
each under ``/usr/bin/time -v`` in its own process (40 MP: once, heavy).

Run: ``python benchmarks/reference.py [--part quality|speed] [--limit N] [--sizes 1,12,40]``;
writes ``benchmarks/results/reference.md`` (quality) and ``reference_speed.md`` (time and memory),
each with its ``.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import timing_environment  # noqa: F401  (before NumPy: one BLAS thread, no huge pages)

# isort: split
import numpy as np
from engine import _banded_psnr, make_scan
from reports import in_child, write_report
from shared_data import SHARED, colourless, label, split

RESULTS = Path(__file__).resolve().parent / "results"
#: The crops' overlap, turn and tone curve.
CROP, TURN, GAMMA = 0.7, 3.0, 0.8
#: Welsh et al.'s jittered samples, and the window of their standard deviation.
WELSH_SAMPLES, WELSH_WINDOW = 200, 5
#: The hints of the truth's colours in the "hints" row.
HINTS = 20
METHODS = ("gray", "automatic", "welsh", "reference", "hints")


def crops(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The truth (left crop) and the reference (right crop, turned, another tone curve)."""
    from skimage.transform import rotate

    width = int(photo.shape[1] * CROP)
    turned = np.clip(rotate(photo[:, -width:], TURN, mode="reflect"), 0, 1)
    return photo[:, :width], turned**GAMMA


def moved(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A pair as fast motion makes it (tuning only): the truth (the left 60 %) and the reference
    (the same width 30 % further right, zoomed 1.3×, turned 6°, another tone curve)."""
    from skimage.transform import rescale, rotate

    width = int(photo.shape[1] * 0.6)
    shifted = photo[:, int(photo.shape[1] * 0.3) :][:, :width]
    zoomed = np.clip(rescale(shifted, 1.3, channel_axis=2, anti_aliasing=True), 0, 1)
    return photo[:, :width], np.clip(rotate(zoomed, 6.0, mode="reflect"), 0, 1) ** GAMMA


def welsh(gray: np.ndarray, reference: np.ndarray, seed: int = 0) -> np.ndarray:
    """Welsh, Ashikhmin & Mueller 2002, global matching: the reference's lightness remapped to the
    target's mean and spread; 200 jittered samples; each target pixel takes the chroma of the
    sample nearest in (lightness, 5×5 standard deviation), weighted equally."""
    from scipy import ndimage
    from scipy.spatial import cKDTree

    from varcolor.color import lab_to_rgb, lightness_of_gray, rgb_to_lab

    lightness = lightness_of_gray(gray)
    lab = rgb_to_lab(reference)
    ref_l = (lab[..., 0] - lab[..., 0].mean()) / (lab[..., 0].std() + 1e-9) * lightness.std() + lightness.mean()

    def spread(image):
        mean = ndimage.uniform_filter(image, WELSH_WINDOW)
        return np.sqrt(np.maximum(ndimage.uniform_filter(image**2, WELSH_WINDOW) - mean**2, 0))

    rng = np.random.default_rng(seed)
    side = int(np.sqrt(WELSH_SAMPLES))
    rows = ((np.arange(side) + rng.random(side)) * reference.shape[0] / side).astype(int)
    cols = ((np.arange(side) + rng.random(side)) * reference.shape[1] / side).astype(int)
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    samples = np.stack([ref_l[rr, cc], spread(ref_l)[rr, cc]], axis=-1).reshape(-1, 2)
    _, nearest = cKDTree(samples).query(np.stack([lightness, spread(lightness)], axis=-1).reshape(-1, 2))
    ab = lab[rr, cc, 1:].reshape(-1, 2)[nearest].reshape(gray.shape + (2,))
    return lab_to_rgb(np.concatenate([lightness[..., None], ab], axis=2))


def mean_chroma(rgb: np.ndarray) -> float:
    from varcolor.color import rgb_to_lab

    lab = rgb_to_lab(rgb)
    return float(np.hypot(lab[..., 1], lab[..., 2]).mean())


def score_pair(task: dict, queue) -> None:
    """Every method on one pair (in a child process): PSNR, ΔE2000, colourfulness ratio, seconds."""
    import warnings

    import varcolor
    from varcolor.color import same_lightness_gray
    from varcolor.cues import sample_ideepcolor

    warnings.simplefilter("ignore")
    truth, reference = np.load(task["truth"]), np.load(task["reference"])
    gray = same_lightness_gray(truth)
    rows = {}
    for method in task["methods"]:
        start = time.perf_counter()
        cues = None
        if method == "gray":
            rgb = np.repeat(gray[..., None], 3, axis=2)
        elif method == "automatic":
            rgb = varcolor.colorize(gray, varcolor.Cues.empty(gray.shape), prior="ideepcolor").rgb
        elif method == "welsh":
            rgb = welsh(gray, reference)
        elif method == "reference":
            cues = varcolor.Cues.from_reference(gray, reference)
            rgb = varcolor.colorize(gray, cues).rgb if cues.count else np.repeat(gray[..., None], 3, axis=2)
        else:
            rgb = varcolor.colorize(gray, sample_ideepcolor(truth, HINTS, rng=np.random.default_rng(0))).rgb
        rows[method] = {
            "psnr": varcolor.metrics.psnr(rgb, truth),
            "de2000": varcolor.metrics.ciede2000(rgb, truth),
            "colourfulness": mean_chroma(rgb) / max(mean_chroma(truth), 1e-9),
            "seconds": time.perf_counter() - start,
            **({"cues": cues.count} if cues is not None else {}),
        }
    queue.put(rows)


def photo_pairs(files: list[Path], kind: str, limit: int):
    """``(name, truth, reference)`` of ``kind`` ("crops", "moved" or "unrelated") from ``files``."""
    import warnings

    import varcolor

    photos = []
    for path in files:
        if len(photos) >= limit:
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # profiles converted: as any input
                rgb = varcolor.read_image(path)
        except varcolor.errors.VarcolorError:  # a gray JPEG with an RGB profile: no pair to make
            continue
        if rgb.ndim == 3 and not colourless(rgb[..., :3]):
            photos.append((path.name, rgb[..., :3]))
    for i, (name, rgb) in enumerate(photos):
        truth, reference = (moved if kind == "moved" else crops)(rgb)
        if kind == "unrelated":
            reference = photos[(i + len(photos) // 2) % len(photos)][1]
        yield name, truth, reference


def frame_pairs():
    """``(name, truth, reference)`` of frames of one shot of the clips (see the module's text)."""
    from varcolor.video.io import open_clip

    folder = SHARED / "video"
    plans = {
        "bikes.mp4": [(start, start + 20) for start in (0, 30, 76, 137, 187)],
        "carphone_pristine.mp4": [(0, 60), (0, 119)],
    }
    for clip_name, pairs in plans.items():
        if not (folder / clip_name).is_file():
            continue
        frames = list(open_clip(folder / clip_name).frames())
        for ref, target in pairs:
            yield f"{clip_name} {ref}→{target}", frames[target], frames[ref]


def quality(sets: dict, methods=METHODS, timeout: float = 600) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for set_name, pairs in sets.items():
            for name, truth, reference in pairs:
                paths = {"truth": f"{scratch}/t.npy", "reference": f"{scratch}/r.npy"}
                np.save(paths["truth"], truth)
                np.save(paths["reference"], reference)
                scores = in_child(score_pair, ({**paths, "methods": list(methods)},), timeout)
                rows.append({"set": set_name, "pair": name, **scores})
                print(
                    set_name,
                    name,
                    {m: round(s["psnr"], 2) for m, s in scores.items() if isinstance(s, dict)},
                    flush=True,
                )
    return rows


def kept(rows: list[dict], earlier: Path) -> list[dict]:
    """``rows`` with the methods they lack taken from the same pairs in ``earlier`` (a report's
    JSON): one method re-scored without re-running the slow automatic colour."""
    import json

    if not earlier.is_file():
        return rows
    before = {(row["set"], row["pair"]): row for row in json.loads(earlier.read_text())["pairs"]}
    return [{**before.get((row["set"], row["pair"]), {}), **row} for row in rows]


def summary(rows: list[dict], methods=METHODS) -> dict:
    """Per set: each method's mean PSNR, ΔE2000 and colourfulness ratio."""
    out = {}
    for set_name in dict.fromkeys(row["set"] for row in rows):
        chosen = [row for row in rows if row["set"] == set_name and "error" not in row]
        out[set_name] = {
            method: {
                key: float(np.mean([row[method][key] for row in chosen]))
                for key in ("psnr", "de2000", "colourfulness", "seconds")
            }
            | {"pairs": len(chosen)}
            for method in methods
            if chosen and all(method in row for row in chosen)
        }
    return out


def _rotated_reference(stem: str) -> None:
    """The scan's colour truth turned 2° (PIL, band-free but uint8), written as ``stem_ref.png``."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    with Image.open(f"{stem}_truth.png") as im:
        im.rotate(2.0, resample=Image.BILINEAR).save(f"{stem}_ref.png", compress_level=1)


def _timed(command: list[str], timeout: float) -> dict:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    try:
        done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s", "load": [load]}
    seconds = time.perf_counter() - start
    peak = next(
        (int(line.split(":")[1]) * 1024 for line in done.stderr.splitlines() if "Maximum resident set size" in line),
        None,
    )
    row = {"seconds": seconds, "peak_bytes": peak, "load": [load, os.getloadavg()[0]], "returncode": done.returncode}
    if done.returncode != 0:
        row["error"] = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
    return row


def _make(task: dict, queue) -> None:
    made = make_scan(task["megapixels"], task["stem"], "photo")
    _rotated_reference(task["stem"])
    queue.put(made)


def speed(sizes: list[float], scratch: str, timeout: float) -> list[dict]:
    """For each size: the 80-stroke solve and the reference solve of the same target (PSNR of both
    against the truth, from the files)."""
    rows = []
    for megapixels in sizes:
        stem = str(Path(scratch) / f"scan{megapixels:g}")
        made = in_child(_make, ({"megapixels": megapixels, "stem": stem},), timeout)
        base = [sys.executable, "-m", "varcolor.cli", "colorize", f"{stem}.png", "--quiet", "--overwrite"]
        strokes = _timed(base + ["--marked", f"{stem}_marked.png", "-o", f"{stem}_strokes.png"], timeout)
        matched = _timed(base + ["--reference", f"{stem}_ref.png", "-o", f"{stem}_reference.png"], timeout)
        for row, out in ((strokes, "strokes"), (matched, "reference")):
            if "error" not in row:
                row["psnr"] = _banded_psnr(f"{stem}_{out}.png", f"{stem}_truth.png")
        row = {"megapixels": megapixels, **made, "strokes": strokes, "reference": matched}
        if "error" not in strokes and "error" not in matched:
            row["ratio"] = matched["seconds"] / strokes["seconds"]
        rows.append(row)
        print(row, flush=True)
        for leftover in Path(scratch).glob(f"scan{megapixels:g}*"):
            leftover.unlink()
    return rows


def _gb(value) -> str:
    return "–" if value is None else f"{value / 1e9:.2f}"


def report(summaries: dict, note: str) -> str:
    """The quality table."""
    lines = [
        "# Colour from a reference photo: quality",
        "",
        "`python benchmarks/reference.py --part quality` (see its docstring for the pairs). " + note,
        "",
        "| set | pairs | method | PSNR dB | ΔE2000 | colourfulness (of truth's) | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for set_name, by_method in summaries.items():
        for method, s in by_method.items():
            lines.append(
                f"| {set_name} | {s['pairs']} | {method} | {s['psnr']:.2f} | {s['de2000']:.2f} | "
                f"{100 * s['colourfulness']:.0f} % | {s['seconds']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def speed_report(speeds: list[dict], note: str) -> str:
    """The time and memory table."""
    nan = float("nan")
    lines = [
        "# Colour from a reference photo: time and peak memory",
        "",
        "`python benchmarks/reference.py --part speed`: `varcolor colorize` (the whole command) on kodim05 "
        "upscaled, with 80 strokes of its own colours, and with the photo turned 2° as a reference of the same "
        "size. " + note,
        "",
        "| MP | 80 strokes: s | GB | PSNR | reference: s | GB | PSNR | ratio | load before → after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in speeds:
        s, r = row.get("strokes", {}), row.get("reference", {})
        lines.append(
            f"| {row['megapixels']:g} | {s.get('seconds', nan):.1f} | {_gb(s.get('peak_bytes'))} | "
            f"{s.get('psnr', nan):.2f} | {r.get('seconds', nan):.1f} | {_gb(r.get('peak_bytes'))} | "
            f"{r.get('psnr', nan):.2f} | {row.get('ratio', nan):.2f} | "
            f"{' → '.join(f'{x:.1f}' for x in r.get('load', [nan]))} |"
        )
        errors = [f"{name}: {side['error']}" for name, side in (("strokes", s), ("reference", r)) if "error" in side]
        if errors:
            lines.append(f"| | {'; '.join(errors)} | | | | | | | |")
    return "\n".join(lines) + "\n"


def tuning_shares(every: int, limit: int) -> None:
    """The trusted share (before growing) of same-scene pairs (crops, and crops moved as fast motion
    moves them) and of unrelated pairs on the tuning part (BSDS500 train): where
    :data:`varcolor.reference.MIN_SHARE` must fall between."""
    import varcolor.reference as matcher
    from varcolor.color import same_lightness_gray

    files = split("tuning", every=every).get("bsds500/train", [])
    shares = {"crops": [], "moved": [], "unrelated": []}
    original = matcher._confident

    def spy(*args):
        confidence, ab, share = original(*args)
        seen.append(share)  # the trusted share before growing: what the gate reads
        return confidence, ab, share

    matcher._confident = spy
    for kind in shares:
        for _, truth, reference in photo_pairs(files, kind, limit):
            seen = []
            matcher.match_reference(same_lightness_gray(truth), reference)
            shares[kind].append(max(seen))
    for kind, values in shares.items():
        print(
            kind,
            "trusted share: min",
            f"{min(values):.3f}",
            "median",
            f"{np.median(values):.3f}",
            "max",
            f"{max(values):.3f}",
        )
    print("MIN_SHARE", matcher.MIN_SHARE)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20, help="pairs per photo set (default %(default)s)")
    parser.add_argument("--sizes", default="1,12,40", help="megapixels of the speed rows (empty: none)")
    parser.add_argument("--part", choices=("quality", "speed", "all"), default="all", help="what to measure")
    parser.add_argument("--tuning", action="store_true", help="print the tuning part's trusted shares and stop")
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help="methods to score (default all); the others' scores are kept from the last report's JSON",
    )
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.tuning:
        tuning_shares(every=4, limit=args.limit)
        return 0
    if args.part in ("quality", "all"):
        test = split("test", every=1)
        sets = {}
        for set_name in ("bsds500/val", "imagenet-sample/train 300+"):
            if set_name in test:
                for kind in ("crops", "unrelated"):
                    sets[f"{label(set_name)}, {kind}"] = list(photo_pairs(test[set_name][::3], kind, args.limit))
        sets["clips, frames of one shot"] = list(frame_pairs())
        load = [os.getloadavg()[0]]
        methods = [m for m in args.methods.split(",") if m]
        rows = kept(quality(sets, methods), Path(args.out) / "reference.json")
        load.append(os.getloadavg()[0])
        summaries = summary(rows)
        note = (
            f"Load (1-minute average) {load[0]:.1f} before, {load[1]:.1f} after; 2 shared cores. Constants chosen "
            "on BSDS500 train (and Kodak 1–14 while the matcher was written); reported on test photos: every "
            "third photo of BSDS500 val and of the ImageNet sample 300+."
        )
        if set(methods) != set(METHODS):
            note += f" Re-scored here: {', '.join(methods)}; the other rows are the previous run's, on the same pairs."
        write_report(
            args.out, "reference", {"summary": summaries, "pairs": rows, "note": note}, report(summaries, note)
        )
        print(report(summaries, note))
    if args.part in ("speed", "all"):
        sizes = [float(x) for x in args.sizes.split(",") if x]
        with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as scratch:
            speeds = speed(sizes, scratch, timeout=1800)
        note = "Each row's two commands ran one after the other, in their own processes; 40 MP once."
        write_report(args.out, "reference_speed", {"speed": speeds, "note": note}, speed_report(speeds, note))
        print(speed_report(speeds, note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
