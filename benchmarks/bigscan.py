"""Big scans: time, peak memory and distance from the exact solve of the default method at 4–64 MP.

Scenes as in ``speed.py`` (a Kodak photo resized to each size; cue patterns: 1 % random pixels,
a grid every 8 px, 0.05 % random pixels, Levin's example scribbles scaled up). Each scene is made
in a process of its own and saved; each solve runs in a fresh process that loads it and times
``varcolor.colorize`` end to end (system, solve, RGB result), with the solver given (``auto``:
what a user gets; ``direct``: the exact LU, the reference, where it fits). Peak memory is the
process's peak resident size (``ru_maxrss``), all of it (the loaded scene included; "above
inputs" subtracts the peak before the solve). Where the reference ran, the solution is compared
with it: largest and mean |Δab|, mean CIEDE2000 between the two RGB results, and each one's PSNR
against the photo (computed in bands of rows, so the comparison fits in memory at 16 MP). The
machine may be shared: each row also has the solve's CPU time (all its threads) and the 1-minute
load average when it ended (the solve's own share included).

Writes ``bigscan.json`` and ``bigscan.md`` (``--name`` changes the stem).
Run: ``nice python benchmarks/bigscan.py --sizes 4,16,36,64`` (``--reference-up-to 16``: sizes at
which the direct LU also runs; it needs about 11 GB at 16 MP).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np  # noqa: E402
import timing_environment  # noqa: E402,F401  (before NumPy: one BLAS thread, no huge pages)
from reports import in_child, write_report  # noqa: E402
from shared_data import SHARED  # noqa: E402

HERE = Path(__file__).resolve().parent
PATTERNS = ("random1", "grid8", "random005", "scribbles")
_BAND = 512  # rows per band of the quality comparison


def make_scene(megapixels: float, pattern: str, path: str) -> None:
    """Save the scene (gray, cue mask and values, the photo as 8-bit) to ``path`` (.npz)."""
    from skimage.transform import resize
    from speed import scene

    import varcolor

    gray, cues = scene(megapixels, pattern)
    rgb = varcolor.read_image(SHARED / "kodak" / "kodim05.png")
    # The same resize as the scene's (speed.scene does not return it): the photo, for PSNR.
    photo = np.clip(resize(rgb, gray.shape, order=1, anti_aliasing=True) * 255 + 0.5, 0, 255).astype(np.uint8)
    np.savez(path, gray=gray, mask=cues.mask, ab=cues.ab.astype(np.float32), photo=photo)


def measure(task: dict, queue) -> None:
    """Colorize the saved scene with ``task["solver"]`` in this fresh process."""
    import varcolor

    warm = np.random.default_rng(0).random((64, 64))
    warm_cues = varcolor.Cues.from_points([{"y": 5, "x": 5, "a": 20, "b": 0}], warm.shape)
    varcolor.colorize(warm, warm_cues, solver=task["solver"] if task["solver"] != "auto" else "direct")
    if task["solver"] in ("auto", "tiles"):
        varcolor.colorize(warm, warm_cues, solver="tiles")
    with np.load(task["scene"]) as scene:
        gray, mask, ab = scene["gray"], scene["mask"], scene["ab"]
    cues = varcolor.Cues(mask, np.where(mask[..., None], ab.astype(np.float64), 0.0))
    del ab
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    # The reference LU is given a budget of its own: its estimate is conservative (17.6 GB at 16 MP,
    # where it peaks at 11 GB), and it is measured, not chosen.
    budget = {"max_memory": 22e9} if task["solver"] == "direct" else {}
    result = varcolor.colorize(gray, cues, solver=task["solver"], **budget)
    seconds = time.perf_counter() - start
    # CPU time of all the process's threads: on a machine shared with other work it moves less
    # than the wall-clock time (on an idle 2-core machine the tiles run at about 1.6–1.8 cores).
    done = resource.getrusage(resource.RUSAGE_SELF)
    cpu = done.ru_utime + done.ru_stime - usage.ru_utime - usage.ru_stime
    load = os.getloadavg()[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    np.save(task["solution"], result.ab.astype(np.float32))
    queue.put(
        {
            **task,
            "seconds": seconds,
            "cpu_seconds": cpu,
            "load_after": load,
            "peak_bytes": peak,
            "peak_above_inputs_bytes": max(0, peak - before),
            "used": result.info["solver"],
            "tiles": result.info.get("iterations"),
            "residual": result.info.get("residual"),
            "shape": list(gray.shape),
            "cues": int(cues.count),
        }
    )


def _scene_job(megapixels, pattern, path, queue):
    make_scene(megapixels, pattern, path)
    queue.put({})


def compare(scene_path: str, solution: str, reference: str) -> dict:
    """Distance of ``solution`` from ``reference`` (both ``H×W×2`` ab), band by band."""
    from skimage.color import deltaE_ciede2000

    from varcolor.color import chroma_to_rgb, lightness_of_gray, rgb_to_lab

    with np.load(scene_path) as scene:
        gray, photo = scene["gray"], scene["photo"]
    ab, exact = np.load(solution, mmap_mode="r"), np.load(reference, mmap_mode="r")
    largest, total, delta_e, squared, squared_exact = 0.0, 0.0, 0.0, 0.0, 0.0
    for top in range(0, gray.shape[0], _BAND):
        rows = slice(top, min(top + _BAND, gray.shape[0]))
        a, e = np.asarray(ab[rows], np.float64), np.asarray(exact[rows], np.float64)
        largest = max(largest, float(np.abs(a - e).max()))
        total += float(np.abs(a - e).sum())
        lightness = lightness_of_gray(gray[rows])
        rgb, rgb_exact = chroma_to_rgb(lightness, a), chroma_to_rgb(lightness, e)
        delta_e += float(deltaE_ciede2000(rgb_to_lab(rgb), rgb_to_lab(rgb_exact), channel_axis=-1).sum())
        truth = photo[rows].astype(np.float64)
        squared += float(((np.round(rgb * 255) - truth) ** 2).sum())
        squared_exact += float(((np.round(rgb_exact * 255) - truth) ** 2).sum())
    pixels = gray.size
    return {
        "max_error": largest,
        "mean_error": total / (2 * pixels),
        "ciede2000_vs_exact": delta_e / pixels,
        "psnr": 10 * np.log10(255**2 / (squared / (3 * pixels))),
        "psnr_exact": 10 * np.log10(255**2 / (squared_exact / (3 * pixels))),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| MP | pattern | solver | seconds | CPU s | load | peak memory (above inputs) | tiles | residual | "
        "max / mean |Δab| vs direct | ΔE2000 vs direct (mean) | PSNR (direct) dB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        name = r["solver"] + (f" → {r['used']}" if r.get("used") and r["used"] != r["solver"] else "")
        if "error" in r:
            lines.append(f"| {r['megapixels']:g} | {r['pattern']} | {name} | {r['error']} | | | | | | | | |")
            continue
        versus = (
            f"{r['max_error']:.3f} / {r['mean_error']:.4f} | {r['ciede2000_vs_exact']:.3f} | "
            f"{r['psnr']:.2f} ({r['psnr_exact']:.2f})"
            if "max_error" in r
            else " | | "
        )
        residual = f"{r['residual']:.1e}" if r.get("residual") is not None else ""
        tiles = r["tiles"] if r.get("used") == "tiles" else ""
        cpu = f"{r['cpu_seconds']:.0f}" if "cpu_seconds" in r else ""
        load = f"{r['load_after']:.1f}" if "load_after" in r else str(r.get("load", ""))
        lines.append(
            f"| {r['megapixels']:g} | {r['pattern']} | {name} | {r['seconds']:.1f} | {cpu} | {load} | "
            f"{r['peak_bytes'] / 1e9:.2f} GB ({r['peak_above_inputs_bytes'] / 1e9:.2f}) | {tiles} | "
            f"{residual} | {versus} |"
        )
    return "\n".join(lines) + "\n"


def save(out: Path, rows: list[dict], name: str) -> str:
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "rows": [{k: v for k, v in r.items() if k not in ("solution", "scene")} for r in rows],
    }
    text = table(rows)
    write_report(out, name, report, text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="4,16,36,64", help="comma-separated megapixels")
    parser.add_argument("--patterns", default=",".join(PATTERNS))
    parser.add_argument("--solvers", default="auto", help="solvers besides the reference (default: %(default)s)")
    parser.add_argument(
        "--reference-up-to",
        type=float,
        default=16.0,
        help="largest size (MP) at which the direct LU runs as the reference",
    )
    parser.add_argument("--reference-patterns", default=",".join(PATTERNS), help="patterns on which the reference runs")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per measurement")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--name", default="bigscan", help="result file stem (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (SHARED / "kodak").is_dir():
        print(f"bigscan: error: {SHARED / 'kodak'}: no such folder", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="varcolor-bigscan-"))
    rows: list[dict] = []
    for size in (float(s) for s in args.sizes.split(",")):
        for pattern in args.patterns.split(","):
            scene = str(scratch / f"{size:g}-{pattern}.npz")
            made = in_child(_scene_job, (size, pattern, scene), args.timeout)
            if "error" in made:
                rows.append({"megapixels": size, "pattern": pattern, "solver": "scene", **made})
                continue
            solvers = args.solvers.split(",")
            if size <= args.reference_up_to and pattern in args.reference_patterns.split(","):
                solvers = ["direct"] + [s for s in solvers if s != "direct"]
            done = []
            for solver in solvers:
                task = {
                    "megapixels": size,
                    "pattern": pattern,
                    "solver": solver,
                    "scene": scene,
                    "solution": str(scratch / f"{size:g}-{pattern}-{solver}.npy"),
                }
                row = {**task, **in_child(measure, (task,), args.timeout)}
                rows.append(row)
                done.append(row)
                print(
                    f"{size:g} MP {pattern:10s} {solver:6s} "
                    + (
                        row.get("error")
                        or (f"{row['used']:6s} {row['seconds']:.1f} s  {row['peak_bytes'] / 1e9:.2f} GB")
                    ),
                    flush=True,
                )
            reference = scratch / f"{size:g}-{pattern}-direct.npy"
            for row in done:
                if row["solver"] != "direct" and "seconds" in row and reference.is_file():
                    row.update(compare(scene, row["solution"], str(reference)))
                    print(
                        f"    vs direct: max {row['max_error']:.3f} mean {row['mean_error']:.4f} ab, "
                        f"ΔE {row['ciede2000_vs_exact']:.3f}, PSNR {row['psnr']:.2f} ({row['psnr_exact']:.2f})",
                        flush=True,
                    )
            for row in done:
                Path(row["solution"]).unlink(missing_ok=True)
            Path(scene).unlink(missing_ok=True)
            save(out, rows, args.name)  # partial results survive an interrupted run
    scratch.rmdir()
    print(save(out, rows, args.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
