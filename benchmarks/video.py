"""Video colorization: PSNR, flicker, speed and memory of the space-time method against the still
method frame by frame and the network alone (issue 40).

For each shot (bikes.mp4's shots and carphone_pristine.mp4 from ``../shared/data/video``, and a
generated pan over scikit-image's astronaut): decolorize (same-lightness gray), give stroke masks
of the true colours on two keyframes (20 % and 80 % through the shot), colorize, and score:

- PSNR (8-bit RGB) against the true frames, per frame and on average, and the gray frames' PSNR;
- flicker: mean |Δab| between consecutive output frames over the pixels where the true clip's
  Lab changes by at most 1.5 (the truth's own value there is the floor: re-encoding noise);
- seconds per frame and per megapixel-frame, and peak memory (the process's resident memory
  above what it held before, sampled every 20 ms).

Methods: ``space-time`` (:func:`varcolor.video.colorize_video`), ``still+carried`` (the still
method per frame, the same keyframe cues carried along the flow as hard cues: ``temporal=0``),
``network`` (the shipped network alone per frame, no cues) and ``network+space-time`` (its guesses
as the prior of the space-time system, no cues). Memory against clip length: the pan at 10 and 40
frames; 720p: a 1280×720 pan.

Chunked runs (:mod:`varcolor.video.chunks`): a generated 300-frame clip of four shots (pans over
scikit-image photos, 90 + 60 + 60 + 90 frames, cues on two keyframes a shot), colorized streamed
and in chunks of 50 frames with 1 and 2 local workers: seconds per frame, the peak resident memory
of the whole process tree (workers included), the work folder's peak size, the largest difference
from the streamed output (8-bit levels, lossless RGB), and the flicker across chunk borders inside
a shot against the flicker between frames within chunks (the same measure as above, pair by pair).

Writes ``benchmarks/results/video.json`` and ``video.md``; ``--strip`` also writes the
before/after picture of docs/video.md (network per frame vs network+space-time, on the pan);
``--chunked-only`` reruns only the chunked rows (keeping the rest of the results).

Run: ``python benchmarks/video.py`` (about 10 minutes on 2 cores); ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import skimage.data
from shared_data import SHARED
from skimage.transform import resize

import varcolor
from varcolor.color import chroma_to_rgb, lightness_of_gray, rgb_to_lab, to_gray
from varcolor.methods import build_options
from varcolor.metrics import psnr
from varcolor.video import colorize_video, open_clip

RESULTS = Path(__file__).resolve().parent / "results"
VIDEO = SHARED / "video"


class PeakMemory:
    """Peak resident memory of this process above its level at the start, sampled in a thread."""

    def __enter__(self):
        self.base = self.peak = self._rss()
        self._stop = False
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _watch(self):
        while not self._stop:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def used(self) -> int:
        return self.peak - self.base


def stroke_cues(rgb: np.ndarray, seed: int) -> varcolor.Cues:
    """Strokes of the true colours: 3-pixel-wide segments, about one per 2,000 pixels."""
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    mask = np.zeros((height, width), bool)
    for _ in range(max(8, height * width // 2000)):
        y, x = rng.integers(0, height - 3), rng.integers(0, width - 24)
        if rng.random() < 0.5:
            mask[y : y + 3, x : x + 24] = True
        else:
            mask[max(0, y - 10) : y + 14, x : x + 3] = True
    return varcolor.Cues(mask, rgb_to_lab(rgb)[..., 1:])


def read_shot(path: Path, start: int, stop: int) -> list[np.ndarray]:
    frames = []
    for k, frame in enumerate(open_clip(path).frames()):
        if k >= stop:
            break
        if k >= start:
            frames.append(frame)
    return frames


PAN_STEP = 3


def pan(frames: int, shape=(128, 192), scale=1.0, step=PAN_STEP) -> list[np.ndarray]:
    image = skimage.data.astronaut() / 255.0
    if scale != 1.0:
        image = resize(image, (int(512 * scale), int(512 * scale)), anti_aliasing=True)
    top = (image.shape[0] - shape[0]) // 2
    return [image[top : top + shape[0], step * k : step * k + shape[1]] for k in range(frames)]


def pair_flicker(abs_: list[np.ndarray], truth_lab: list[np.ndarray]) -> list[tuple[float, float]]:
    """For each pair of consecutive frames: the mean |Δab| over the pixels whose true Lab moves at
    most 1.5, and the truth's own |Δab| there (NaN where no pixel is still)."""
    pairs = []
    for k in range(len(abs_) - 1):
        still = np.linalg.norm(truth_lab[k + 1] - truth_lab[k], axis=-1) <= 1.5
        if still.any():
            pairs.append(
                (
                    float(np.linalg.norm(abs_[k + 1] - abs_[k], axis=-1)[still].mean()),
                    float(np.linalg.norm(truth_lab[k + 1][..., 1:] - truth_lab[k][..., 1:], axis=-1)[still].mean()),
                )
            )
        else:
            pairs.append((float("nan"), float("nan")))
    return pairs


def flicker(abs_: list[np.ndarray], truth_lab: list[np.ndarray]) -> tuple[float, float]:
    """Mean |Δab| of consecutive frames over the pixels whose true Lab moves at most 1.5; and the
    truth's own |Δab| there."""
    pairs = np.array(pair_flicker(abs_, truth_lab)).reshape(-1, 2)
    kept = ~np.isnan(pairs[:, 0])
    return (float(pairs[kept, 0].mean()), float(pairs[kept, 1].mean())) if kept.any() else (float("nan"),) * 2


_NET = {}


def network_alone(frames: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    from varcolor.neural.prior import predict
    from varcolor.neural.weights import load

    net = _NET.get("net") or _NET.setdefault("net", load(None))
    out = []
    for frame in frames:
        gray = to_gray(frame)
        ab, _ = predict(net, gray, varcolor.Cues.empty(gray.shape), decode="annealed")  # --automatic vivid
        out.append((chroma_to_rgb(lightness_of_gray(gray), ab, "chroma"), ab))
    return out


def run_method(name: str, frames: list[np.ndarray], keyframes: dict) -> tuple[list, float, int]:
    grays = [to_gray(f) for f in frames]
    with PeakMemory() as memory, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        if name == "space-time":
            out = [(f.rgb, f.ab) for f in colorize_video(iter(grays), keyframes)]
        elif name == "still+carried":
            out = [(f.rgb, f.ab) for f in colorize_video(iter(grays), keyframes, temporal=0.0, carry_weight=np.inf)]
        elif name == "network":
            out = network_alone(frames)
        elif name == "network+space-time":
            out = [(f.rgb, f.ab) for f in colorize_video(iter(grays), {}, prior="ideepcolor", automatic="vivid")]
        else:
            raise ValueError(name)
        seconds = time.perf_counter() - start
    return out, seconds, memory.used


def score(name, clip, frames, keyframes, rows):
    out, seconds, memory = run_method(name, frames, keyframes)
    truth_lab = [rgb_to_lab(f) for f in frames]
    per_frame = [psnr(rgb, f) for (rgb, _), f in zip(out, frames)]
    gray = [psnr(np.repeat(to_gray(f)[..., None], 3, axis=2), f) for f in frames]
    value, floor = flicker([ab for _, ab in out], truth_lab)
    megapixels = frames[0].shape[0] * frames[0].shape[1] / 1e6
    from varcolor.options import Options
    from varcolor.video.coarse import video_factor

    row = {
        "clip": clip,
        "method": name,
        "engine": "levin-multiscale" if video_factor(frames[0].shape[:2], Options()) > 1 else "levin",
        "frames": len(frames),
        "size": f"{frames[0].shape[1]}×{frames[0].shape[0]}",
        "keyframes": sorted(keyframes),
        "psnr": float(np.mean(per_frame)),
        "psnr_gray": float(np.mean(gray)),
        "psnr_min": float(np.min(per_frame)),
        "psnr_per_frame": [round(float(v), 2) for v in per_frame],
        "flicker": value,
        "flicker_truth": floor,
        "s_per_frame": seconds / len(frames),
        "s_per_mp_frame": seconds / len(frames) / megapixels,
        "peak_memory_mb": memory / 1e6,
    }
    rows.append(row)
    print(
        f"{clip:24s} {name:20s} PSNR {row['psnr']:.2f} (gray {row['psnr_gray']:.2f}) flicker {value:.2f} "
        f"(truth {floor:.2f}) {row['s_per_frame']:.2f} s/frame {row['peak_memory_mb']:.0f} MB",
        flush=True,
    )
    return out


def two_keyframes(frames: list[np.ndarray], seed: int) -> dict:
    keys = sorted({int(0.2 * (len(frames) - 1)), int(0.8 * (len(frames) - 1))})
    return {k: stroke_cues(frames[k], seed + k) for k in keys}


def strip(frames, network, spacetime, path: Path) -> None:
    """Rows: gray, network per frame, network + space-time, truth, on four frames; then, for the
    network and for network + space-time, |Δab| between each of those frames and the next along
    the pan's motion (black: none, white: 4 ab or more), where flicker shows in a still picture."""
    picks = np.linspace(0, len(frames) - 2, 4).round().astype(int)

    def change(out, k):
        shift = PAN_STEP
        difference = np.zeros(frames[0].shape[:2])
        difference[:, :-shift] = np.linalg.norm(out[k + 1][1][:, :-shift] - out[k][1][:, shift:], axis=-1)
        return np.repeat(np.clip(difference / 4.0, 0, 1)[..., None], 3, axis=2)

    rows = [
        [np.repeat(to_gray(frames[k])[..., None], 3, axis=2) for k in picks],
        [network[k][0] for k in picks],
        [spacetime[k][0] for k in picks],
        [frames[k] for k in picks],
        [change(network, k) for k in picks],
        [change(spacetime, k) for k in picks],
    ]
    gap = 4
    height, width = frames[0].shape[:2]
    canvas = np.ones((len(rows) * (height + gap) - gap, 4 * width + 3 * gap, 3))
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            canvas[r * (height + gap) : r * (height + gap) + height, c * (width + gap) : c * (width + gap) + width] = (
                image
            )
    varcolor.write_image(path, canvas)


class TreeMemory(PeakMemory):
    """Peak resident memory of this process and its children (Dask's workers) together, and the
    peak size of a folder's files, sampled every 50 ms."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.disk = 0

    def _rss(self) -> int:
        import psutil

        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _watch(self):
        while not self._stop:
            self.peak = max(self.peak, self._rss())
            try:
                self.disk = max(self.disk, sum(p.stat().st_size for p in self.folder.iterdir()))
            except OSError:
                pass
            time.sleep(0.05)


SHOTS = (("astronaut", 90, 0), ("coffee", 60, 150), ("chelsea", 60, 60), ("astronaut", 90, 300))


def shots_clip(shape=(128, 192), shots=SHOTS) -> list[np.ndarray]:
    """Pans over scikit-image photos, one a shot (cuts between them)."""
    frames = []
    for name, count, top in shots:
        image = getattr(skimage.data, name)()[..., :3] / 255.0
        top = min(top, image.shape[0] - shape[0])
        frames += [image[top : top + shape[0], PAN_STEP * k : PAN_STEP * k + shape[1]] for k in range(count)]
    return frames


def chunked_rows(quick: bool) -> list[dict]:
    """Streamed against chunked with 1 and 2 workers, on :func:`shots_clip`."""
    import tempfile

    from varcolor.video import write_clip
    from varcolor.video.chunks import colorize_chunked, plan_chunks, scan_cuts, work_folder

    shots = tuple((n, c // 3, t) for n, c, t in SHOTS) if quick else SHOTS
    frames = shots_clip(shots=shots)
    chunk_frames = 17 if quick else 50
    keys, first = {}, 0
    for seed, (_, count, _) in enumerate(shots):
        keys.update({first + k: cue for k, cue in two_keyframes(frames[first : first + count], seed).items()})
        first += count
    truth_lab = [rgb_to_lab(f) for f in frames]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        write_clip(folder / "gray.mkv", [np.dstack([to_gray(f)] * 3) for f in frames], fps=25, codec="lossless")
        clip = open_clip(folder / "gray.mkv")
        cuts = scan_cuts(clip)
        plan = plan_chunks(clip.frame_count, chunk_frames=chunk_frames, cuts=cuts, keyframes=list(keys))
        borders = [c.start for c in plan if c.after is not None]  # chunk borders inside a shot
        within = [k for k in range(1, len(frames)) if k not in borders and k not in cuts]
        streamed = None
        for workers in (0, 1, 2):
            output = folder / f"out{workers}.mkv"
            with TreeMemory(work_folder(output)) as memory, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                if workers == 0:
                    write_clip(
                        output, (f.rgb for f in colorize_video(clip.frames(), keys)), fps=clip.fps, codec="lossless"
                    )
                else:
                    colorize_chunked(
                        clip,
                        keys,
                        build_options(),
                        output,
                        chunk_frames=chunk_frames,
                        codec="lossless",
                        workers=workers,
                    )
                seconds = time.perf_counter() - start
            rgb = list(open_clip(output).frames())
            pairs = pair_flicker([rgb_to_lab(f)[..., 1:] for f in rgb], truth_lab)
            if workers == 0:
                streamed = rgb
            row = {
                "clip": f"{len(shots)} shots",
                "size": f"{frames[0].shape[1]}×{frames[0].shape[0]}",
                "frames": len(frames),
                "run": "streamed" if workers == 0 else f"chunks of {chunk_frames}, {workers} worker(s)",
                "chunks": 1 if workers == 0 else len(plan),
                "chunks_in_shots": len(borders),
                "s_per_frame": seconds / len(frames),
                "peak_memory_mb": memory.used / 1e6,
                "work_folder_mb": memory.disk / 1e6,
                "max_levels_from_streamed": float(np.abs(np.array(rgb) - np.array(streamed)).max() * 255),
                "flicker_seams": float(np.nanmean([pairs[k - 1][0] for k in borders])),
                "flicker_seams_max": float(np.nanmax([pairs[k - 1][0] for k in borders])),
                "flicker_within": float(np.nanmean([pairs[k - 1][0] for k in within])),
                "flicker_within_max": float(np.nanmax([pairs[k - 1][0] for k in within])),
            }
            rows.append(row)
            print(row, flush=True)
    return rows


def pan_views(frames: int, shape=(720, 1280), step=PAN_STEP):
    """A pan as views into one photo scaled to fit ``frames`` frames of ``shape`` (no copies: a
    long 720p clip is not held in memory)."""
    side = max(shape[0], shape[1] + step * frames)
    image = resize(skimage.data.astronaut() / 255.0, (side, side), anti_aliasing=True)
    top = (side - shape[0]) // 2
    return [image[top : top + shape[0], step * k : step * k + shape[1]] for k in range(frames)]


def stream_score(clip: str, name: str, frames: list[np.ndarray], keyframes: dict) -> dict:
    """One engine on a clip, scored as it streams (PSNR per frame, flicker per pair, seconds per
    frame without making the gray frames and the scoring), against the still engine's first solve
    of its first keyframe in the same run (warm; the median of three just before and three just after)."""
    from varcolor.options import Options
    from varcolor.video.coarse import video_factor

    method = {"space-time": "levin-multiscale", "space-time exact": "levin"}[name]
    key = sorted(keyframes)[0]
    gray_key = to_gray(frames[key])

    def still() -> float:
        start = time.perf_counter()
        varcolor.colorize(gray_key, keyframes[key])
        return time.perf_counter() - start

    still()
    stills = [still() for _ in range(3)]
    load = os.getloadavg()[0]
    psnrs, pairs, before, scoring = [], [], None, 0.0

    def grays():
        nonlocal scoring
        for f in frames:
            made = time.perf_counter()
            gray = to_gray(f)
            scoring += time.perf_counter() - made
            yield gray

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        for frame in colorize_video(grays(), keyframes, method=method):
            scored = time.perf_counter()
            truth = rgb_to_lab(frames[frame.index])
            psnrs.append(psnr(frame.rgb, frames[frame.index]))
            if before is not None:
                pairs.append(pair_flicker([before[0], frame.ab], [before[1], truth])[0])
            before = (frame.ab, truth)
            scoring += time.perf_counter() - scored
        seconds = time.perf_counter() - start - scoring
    stills += [still() for _ in range(3)]
    pairs = np.array(pairs).reshape(-1, 2)
    kept = ~np.isnan(pairs[:, 0])
    height, width = frames[0].shape[:2]
    row = {
        "clip": clip,
        "method": name,
        "engine": method if video_factor((height, width), Options(method=method)) > 1 else "levin",
        "frames": len(frames),
        "size": f"{width}×{height}",
        "keyframes": sorted(keyframes),
        "psnr": float(np.mean(psnrs)),
        "psnr_gray": float(np.mean([psnr(np.repeat(to_gray(f)[..., None], 3, axis=2), f) for f in frames])),
        "psnr_min": float(np.min(psnrs)),
        "flicker": float(pairs[kept, 0].mean()),
        "flicker_truth": float(pairs[kept, 1].mean()),
        "s_per_frame": seconds / len(frames),
        "still_first_solve_s": float(np.median(stills)),
        "still_first_solve_runs_s": [round(t, 3) for t in stills],
        "ratio_to_still": seconds / len(frames) / float(np.median(stills)),
        "load": [round(load, 1), round(os.getloadavg()[0], 1)],
    }
    print(row, flush=True)
    return row


def engine_rows(quick: bool) -> list[dict]:
    """The multi-scale engine (the default) against the exact full-resolution space-time solve
    (``method="levin"``) where the exact one finishes, and the multi-scale engine alone on a long
    720p pan."""
    clips = [("pan astronaut 720p", pan_views(4 if quick else 20))]
    if not quick and VIDEO.is_dir():
        clips += [
            ("bikes 30–75", read_shot(VIDEO / "bikes.mp4", 30, 76)),
            ("bikes 137–186", read_shot(VIDEO / "bikes.mp4", 137, 187)),
        ]
    rows = []
    for seed, (clip, frames) in enumerate(clips):
        keys = two_keyframes(frames, seed)
        for name in ("space-time", "space-time exact"):
            rows.append(stream_score(clip, name, frames, keys))
    frames = pan_views(12 if quick else 132)
    rows.append(stream_score("pan astronaut 720p", "space-time", frames, two_keyframes(frames, 9)))
    return rows


def engine_markdown(engines: list[dict]) -> list[str]:
    lines = [
        "",
        "## The multi-scale engine on clips",
        "",
        "`space-time` is the default since video uses the multi-scale engine (`levin-multiscale`: the "
        "space-time system on 4×4-block means, each frame lifted by its gray and corrected near its cues); "
        '`space-time exact` is `method="levin"`, the full-resolution space-time solve. Same keyframes and '
        "measures as above; s/frame without making the gray frames and the scoring; still: the still engine's "
        "first solve of the first keyframe in the same run (warm, the median of three before and three after the "
        "clip), and the ratio of s/frame to it. Load: the 1-minute load average before and after the row "
        "(2 cores, shared).",
        "",
        "| clip | method | engine | frames | PSNR | gray | min | flicker (truth) | s/frame | still s | ratio | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in engines:
        lines.append(
            f"| {r['clip']} {r['size']} | {r['method']} | {r['engine']} | {r['frames']} | {r['psnr']:.2f} | "
            f"{r['psnr_gray']:.2f} | {r['psnr_min']:.2f} | {r['flicker']:.2f} ({r['flicker_truth']:.2f}) | "
            f"{r['s_per_frame']:.2f} | {r['still_first_solve_s']:.2f} | {r['ratio_to_still']:.2f} | "
            f"{r['load'][0]}–{r['load'][1]} |"
        )
    return lines


def markdown(rows: list[dict], scaling: list[dict], chunked: list[dict] = (), engines: list[dict] = ()) -> str:
    lines = [
        "# Video colorization (benchmarks/video.py)",
        "",
        "Two keyframes with strokes of the true colours (20 % and 80 % through each shot); the network "
        "rows have no cues. Flicker: mean |Δab| between consecutive frames where the true Lab moves ≤ 1.5 "
        "(the truth's own value there in brackets). Memory: peak resident memory above the process's level "
        "before the run.",
        "",
        "| clip | method | frames | PSNR | gray | min | flicker (truth) | s/frame | s/MP-frame | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    if rows and "engine" not in rows[0]:
        lines[4:4] = [
            "Measured before clips used the multi-scale engine: the space-time rows here are the exact "
            'full-resolution solve (now `method="levin"`); the last section compares the two engines.',
            "",
        ]
    for r in rows:
        lines.append(
            f"| {r['clip']} {r['size']} | {r['method']} | {r['frames']} | {r['psnr']:.2f} | {r['psnr_gray']:.2f} | "
            f"{r['psnr_min']:.2f} | {r['flicker']:.2f} ({r['flicker_truth']:.2f}) | {r['s_per_frame']:.2f} | "
            f"{r['s_per_mp_frame']:.2f} | {r['peak_memory_mb']:.0f} |"
        )
    if scaling:
        lines += [
            "",
            "Memory against clip length (space-time, each in a fresh process: the run's peak resident memory "
            "above the process's level before it, sampled every 20 ms, and the whole process's peak with imports, "
            "frames and numba's compiler, an upper bound):",
            "",
            "| clip | frames | s/frame | run peak MB | process peak MB |",
            "|---|---|---|---|---|",
        ]
        for r in scaling:
            lines.append(
                f"| {r['clip']} {r['size']} | {r['frames']} | {r['s_per_frame']:.2f} | {r['peak_memory_mb']:.0f} | "
                f"{r.get('process_peak_mb', float('nan')):.0f} |"
            )
    if chunked:
        lines += [
            "",
            "Chunked runs (`varcolor.video.chunks`) on a generated clip of four shots (pans over scikit-image "
            "photos: 90, 60, 60 and 90 frames; strokes on two keyframes a shot), chunks of 50 frames: the "
            "streamed run, then chunks in this process (1 worker) and on a 2-worker LocalCluster. Memory: the whole "
            "process tree's peak resident memory above its level before (workers included); work folder: its peak "
            "size (16-bit FFV1 chroma and each chunk's last frame). Flicker (as above, mean and max over the pairs): "
            "across the chunk borders inside a shot, and between the frames within chunks (cuts left out).",
            "",
            "| run | chunks (borders in shots) | s/frame | peak MB | work folder MB | max Δ from streamed "
            "(8-bit levels) | flicker at borders mean / max | flicker within mean / max |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in chunked:
            lines.append(
                f"| {r['run']} | {r['chunks']} ({r['chunks_in_shots']}) | {r['s_per_frame']:.2f} | "
                f"{r['peak_memory_mb']:.0f} | {r['work_folder_mb']:.1f} | {r['max_levels_from_streamed']:.0f} | "
                f"{r['flicker_seams']:.3f} / {r['flicker_seams_max']:.3f} | "
                f"{r['flicker_within']:.3f} / {r['flicker_within_max']:.3f} |"
            )
    if engines:
        lines += engine_markdown(engines)
    lines += ["", f"Machine: {platform.machine()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}.", ""]
    return "\n".join(lines)


def probe(count: int, height: int, width: int) -> int:
    """Space-time on a ``count``-frame pan of ``height×width``; print its size, speed and the peak
    resident memory above the process's level after the frames were made (one JSON line)."""
    frames = pan(count, shape=(height, width), scale=max(1.0, width / 480))
    keys = two_keyframes(frames, 0)
    grays = [to_gray(f) for f in frames]
    del frames
    with PeakMemory() as memory:
        start = time.perf_counter()
        for _ in colorize_video(iter(grays), keys):
            pass
        seconds = time.perf_counter() - start
    # The whole process's peak (imports, the frames and numba's compiler included): an upper bound.
    whole = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    row = {
        "size": f"{width}×{height}",
        "frames": count,
        "s_per_frame": seconds / count,
        "peak_memory_mb": memory.used / 1e6,
        "process_peak_mb": whole / 1e6,
    }
    print(json.dumps(row))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short clips only (a smoke run)")
    parser.add_argument("--strip", type=Path, help="write the before/after picture here")
    parser.add_argument("--name", default="video", help="results file name (default: %(default)s)")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--strip-only", action="store_true", help="only the before/after picture (with --strip)")
    parser.add_argument("--memory-only", action="store_true", help="only the memory probes (rewrites their part)")
    parser.add_argument("--chunked-only", action="store_true", help="only the chunked runs (rewrites their part)")
    parser.add_argument(
        "--engines-only", action="store_true", help="only the multi-scale engine against the exact one (rewrites it)"
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # on the shared 2-core machine, 1 thread ran the network 3–4× faster than 2
    if args.probe:
        return probe(*map(int, args.probe.split(",")))
    rows, scaling = [], []
    if args.strip_only:
        frames = pan(30)
        network = run_method("network", frames, {})[0]
        strip(frames, network, run_method("network+space-time", frames, {})[0], args.strip)
        return 0
    if args.chunked_only or args.engines_only:
        previous = json.loads((RESULTS / f"{args.name}.json").read_text())
        chunked = chunked_rows(args.quick) if args.chunked_only else previous["chunked"]
        engines = engine_rows(args.quick) if args.engines_only else previous.get("engines", [])
        write_results(args.name, previous["rows"], previous["memory"], chunked, engines)
        return 0
    if args.memory_only:
        previous = json.loads((RESULTS / f"{args.name}.json").read_text())
        rows = previous["rows"]
    shots = [] if args.memory_only else [("pan astronaut", pan(12 if args.quick else 30))]
    if not args.quick and not args.memory_only and VIDEO.is_dir():
        shots += [
            ("bikes 30–75", read_shot(VIDEO / "bikes.mp4", 30, 76)),
            ("bikes 137–186", read_shot(VIDEO / "bikes.mp4", 137, 187)),
            ("carphone 0–59", read_shot(VIDEO / "carphone_pristine.mp4", 0, 60)),
        ]
    for seed, (clip, frames) in enumerate(shots):
        keys = two_keyframes(frames, seed)
        for method in ("space-time", "still+carried", "network", "network+space-time"):
            out = score(method, clip, frames, keys, rows)
            if clip.startswith("pan") and method == "network":
                network = out
            if clip.startswith("pan") and method == "network+space-time" and args.strip:
                strip(frames, network, out, args.strip)
    probes = [("pan astronaut", 10, 128, 192), ("pan astronaut", 40, 128, 192)]
    if not args.quick:
        probes += [("pan astronaut 720p", 4, 720, 1280), ("pan astronaut 720p", 8, 720, 1280)]
    for clip, count, height, width in probes:
        # Each in a fresh process: its peak resident memory is the run's alone.
        found = subprocess.run(
            [sys.executable, __file__, "--probe", f"{count},{height},{width}"],
            capture_output=True,
            text=True,
            check=True,
        )
        scaling.append({"clip": clip, **json.loads(found.stdout.strip().splitlines()[-1])})
        print(scaling[-1], flush=True)
    chunked = previous.get("chunked", []) if args.memory_only else chunked_rows(args.quick)
    write_results(args.name, rows, scaling, chunked, engine_rows(args.quick))
    return 0


def write_results(name: str, rows: list[dict], scaling: list[dict], chunked: list[dict], engines: list[dict]) -> None:
    RESULTS.mkdir(exist_ok=True)
    data = {"rows": rows, "memory": scaling, "chunked": chunked, "engines": engines}
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(rows, scaling, chunked, engines))
    print(markdown(rows, scaling, chunked, engines))


if __name__ == "__main__":
    sys.exit(main())
