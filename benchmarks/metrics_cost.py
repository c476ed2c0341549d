"""Time and peak memory of each quality metric against image size.

Each measurement runs in a fresh process: a Kodak photo (kodim01) resized to the size and a
distorted copy of it (blur + noise) are made, the process's peak resident memory is reset
(``malloc_trim``, ``/proc/self/clear_refs``), and one metric is timed; "peak above inputs" is the peak resident
memory during the metric less the resident memory before it (the two float64 RGB images are
already in memory then: 48 bytes a pixel). ``score`` is everything ``varcolor metrics`` computes
for a pair; ``lpips`` runs the AlexNet network with random weights (same cost as the real ones).

Writes ``metrics_cost.json`` and ``metrics_cost.md`` in benchmarks/results.
Run: ``python benchmarks/metrics_cost.py`` (``--sizes 1,20``; ``--metrics vif,score``).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing as mp
import platform
import time
from pathlib import Path

import numpy as np  # noqa: E402
import timing_environment  # noqa: E402,F401  (before NumPy: one BLAS thread, no huge pages)
from reports import write_report  # noqa: E402
from shared_data import SHARED  # noqa: E402

HERE = Path(__file__).resolve().parent
METRICS = ("psnr", "ssim", "ms_ssim", "vif", "ciede2000", "ab_rmse", "colorfulness", "score", "lpips")


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def pair(megapixels: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy import ndimage
    from skimage.transform import resize

    import varcolor

    photo = varcolor.read_image(SHARED / "kodak" / "kodim01.png")  # 768×512
    height = int(round(np.sqrt(megapixels * 1e6 * 4 / 5)))  # 4:5, as 4000×5000 at 20 MP
    width = int(round(megapixels * 1e6 / height))
    reference = np.clip(resize(photo, (height, width), order=1), 0, 1)
    noise = np.random.default_rng(0).normal(0, 0.02, reference.shape)
    result = np.clip(ndimage.gaussian_filter(reference, (1, 1, 0)) + noise, 0, 1)
    return result, reference


def measure(task: dict, queue) -> None:
    from varcolor import metrics

    result, reference = pair(task["megapixels"])
    if task["metric"] == "lpips":
        import torch

        from varcolor.neural.lpips import LPIPS

        torch.manual_seed(0)
        net = LPIPS()
        for lin in net.lins:  # a calibration is non-negative
            lin.weight.abs_()
        net.distance(result[:64, :64], reference[:64, :64])  # warm up
        run = lambda: net.distance(result, reference)  # noqa: E731
    else:
        run = lambda: getattr(metrics, task["metric"])(result, reference)  # noqa: E731
        if task["metric"] == "colorfulness":
            run = lambda: metrics.colorfulness(result)  # noqa: E731
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # freed heap memory (from making the inputs) back to the system
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) restarts from the current size
    before = _status("VmRSS")
    start = time.perf_counter()
    value = run()
    seconds = time.perf_counter() - start
    peak = _status("VmHWM")
    queue.put(
        {
            **task,
            "shape": list(reference.shape[:2]),
            "seconds": seconds,
            "peak_above_inputs": peak - before,
            "value": value if isinstance(value, float) else None,
        }
    )


def run(task: dict) -> dict:
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=measure, args=(task, queue))
    process.start()
    process.join(1800)
    if process.is_alive():
        process.kill()
        return {**task, "error": "timeout"}
    return queue.get() if not queue.empty() else {**task, "error": f"exit {process.exitcode}"}


def markdown(rows: list[dict]) -> str:
    lines = [
        "Time and peak memory of each metric on one pair (Kodak kodim01 resized, 4:5; result blurred "
        "+ noise), one fresh process each; peak above the two float64 RGB inputs (48 B/pixel).",
        "",
        "| MP | size | metric | seconds | peak above inputs (MB) | bytes / pixel |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['megapixels']:g} | | {r['metric']} | {r['error']} | | |")
            continue
        h, w = r["shape"]
        lines.append(
            f"| {r['megapixels']:g} | {w}×{h} | {r['metric']} | {r['seconds']:.2f} | "
            f"{r['peak_above_inputs'] / 1e6:.0f} | {r['peak_above_inputs'] / (h * w):.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,20", help="megapixels, comma-separated (default: %(default)s)")
    parser.add_argument("--metrics", default=",".join(METRICS), help="(default: all)")
    parser.add_argument("--name", default="metrics_cost", help="output stem in benchmarks/results")
    args = parser.parse_args()
    rows = []
    for megapixels in (float(s) for s in args.sizes.split(",")):
        for metric in args.metrics.split(","):
            row = run({"megapixels": megapixels, "metric": metric})
            print(json.dumps(row), flush=True)
            rows.append(row)
    out = HERE / "results"
    meta = {"machine": platform.machine(), "python": platform.python_version(), "cpus": mp.cpu_count()}
    write_report(out, args.name, {"meta": meta, "rows": rows}, markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
