"""Folder-run throughput on Dask against a plain process pool, and the scheduler's cost per task.

Runs ``encode -e adaptive`` and ``colorize`` (50 ideepcolor hints per photo as a points file)
over Kodak in four ways, measured in one run: in this process; a process pool (as varcolor's
``--workers`` was before Dask: ``concurrent.futures``, spawned processes); an embedded Dask
LocalCluster of 1 and of 2 workers. Then the scheduler's overhead per task (no-op tasks), and,
from those numbers, images per hour for 10, 100 and 1,000 workers on paper.

    python benchmarks/batch_throughput.py [--limit 24] [--name batch_throughput]

Prints a table and writes ``benchmarks/results/NAME.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from shared_data import SHARED  # noqa: E402

import varcolor  # noqa: E402
from varcolor import app, batch  # noqa: E402
from varcolor.cli import build_parser  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def prepare(folder: Path, limit: int) -> Path:
    photos = sorted((SHARED / "kodak").glob("*.png"))[:limit]
    gray_folder = folder / "gray"
    (folder / "photos").mkdir()
    for index, path in enumerate(photos):
        rgb = varcolor.read_image(path)
        shutil.copy(path, folder / "photos" / path.name)
        gray = varcolor.color.same_lightness_gray(rgb)
        varcolor.write_image(gray_folder / path.name, gray)
        cues = varcolor.cues.sample_ideepcolor(rgb, n=50, patch=6, rng=index)
        ys, xs = np.nonzero(cues.mask)
        points = [
            {"y": int(y), "x": int(x), "a": float(cues.ab[y, x, 0]), "b": float(cues.ab[y, x, 1])}
            for y, x in zip(ys, xs)
        ]
        (gray_folder / f"{path.stem}.points.json").write_text(json.dumps(points))
    return folder


def jobs_of(argv: list[str]) -> list[batch.Job]:
    """The jobs the command line would plan (for the pool baseline)."""
    from varcolor.cli.common import run_options_of
    from varcolor.cli.ir import encode_options_of
    from varcolor.cli.solve_options import options_of

    args = build_parser().parse_args(argv)
    if args.command == "encode":
        return app.plan_encode(args.input, args.output, encode_options_of(args), run_options_of(args))
    return app.plan_colorize(args.input, args.output, options_of(args), run_options_of(args), cues="points")


def pool_run(jobs: list[batch.Job], workers: int) -> list[float]:
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return [seconds for _, seconds in pool.map(batch.attempt, [job.run for job in jobs])]


def measure(command: str, folder: Path, way: str, workers: int) -> dict:
    out = folder / f"out-{command}-{way}-{workers}"
    if command == "encode":
        argv = ["encode", "-i", str(folder / "photos"), "-o", str(out), "-e", "adaptive", "-q"]
    else:
        argv = ["colorize", str(folder / "gray"), "-o", str(out), "--points", "-q"]
    start = time.perf_counter()
    if way == "pool":
        seconds = pool_run(jobs_of(argv), workers)
    else:
        client = cluster = None
        if way == "dask":
            from dask.distributed import Client, LocalCluster

            threads = str(max(1, (os.cpu_count() or 1) // workers))
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                dashboard_address=None,
                env={k: threads for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
            )
            client = Client(cluster)
        started = time.perf_counter()
        rows = app.run_folder(
            argv[0],
            argv[2] if command == "encode" else argv[1],
            out,
            client=client,
            **({"encoder": "adaptive"} if command == "encode" else {"points": True}),
            quiet=True,
        )
        seconds = [r["seconds"] for r in rows if r["status"] == "done"]
        if client is not None:
            start = started  # the cluster's start-up is reported apart
            client.close()
            cluster.close()
    wall = time.perf_counter() - start
    work = float(np.sum(seconds))
    return {
        "command": command,
        "way": way,
        "workers": workers,
        "images": len(seconds),
        "wall_s": wall,
        "task_s": work,
        "images_per_hour": 3600 * len(seconds) / wall,
        "overhead_per_image_pct": 100 * (wall * workers - work) / work if work else float("nan"),
    }


def scheduler_overhead(tasks: int = 2000) -> float:
    """Seconds of scheduling per no-op task on a LocalCluster of 2 workers (submit to result)."""
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as c:
        c.gather(c.map(int, range(50), pure=False))  # warm
        start = time.perf_counter()
        c.gather(c.map(int, range(tasks), pure=False))
        return (time.perf_counter() - start) / tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=24)
    parser.add_argument("--name", default="batch_throughput")
    parser.add_argument("--commands", default="colorize,encode")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = prepare(Path(tmp), options.limit)
        for command in options.commands.split(","):
            for way, workers in (("serial", 1), ("pool", 2), ("dask", 1), ("dask", 2)):
                row = measure(command, folder, way, workers)
                rows.append(row)
                print(
                    f"{command:9} {way:6} {workers}  {row['images']:3d} img  wall {row['wall_s']:7.1f} s  "
                    f"tasks {row['task_s']:7.1f} s  {row['images_per_hour']:8.0f} img/h  "
                    f"overhead {row['overhead_per_image_pct']:6.1f} %",
                    flush=True,
                )
    per_task = scheduler_overhead()
    print(f"scheduler: {1e3 * per_task:.2f} ms per no-op task")
    load = os.getloadavg()[0]
    lines = [
        f"# Folder runs: Dask against a process pool ({options.limit} Kodak photos)",
        "",
        f"`python benchmarks/batch_throughput.py --limit {options.limit}`; {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {load:.1f} at the end (shared machine). Wall time excludes "
        "a LocalCluster's start-up (about 2 s); overhead = (wall × workers − Σ task seconds) / Σ task seconds.",
        "",
        "| command | way | workers | images | wall s | Σ task s | images/h | overhead % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['command']} | {r['way']} | {r['workers']} | {r['images']} | {r['wall_s']:.1f} | "
            f"{r['task_s']:.1f} | {r['images_per_hour']:.0f} | {r['overhead_per_image_pct']:.1f} |"
        )
    lines += [
        "",
        f"Scheduler cost per task (2,000 no-op tasks, 2 workers): {1e3 * per_task:.2f} ms.",
        "",
        "## On paper: images per hour with more workers",
        "",
        "Each worker processes one image at a time; the scheduler handles tasks one after another.",
        "",
        "| command | task s (mean) | 10 workers | 100 workers | 1,000 workers | scheduler limit |",
        "|---|---|---|---|---|---|",
    ]
    for command in options.commands.split(","):
        serial = next(r for r in rows if r["command"] == command and r["way"] == "serial")
        mean = serial["task_s"] / max(serial["images"], 1)
        limit = 3600 / per_task
        cells = [f"{min(n * 3600 / mean, limit):,.0f}" for n in (10, 100, 1000)]
        lines.append(f"| {command} | {mean:.2f} | " + " | ".join(cells) + f" | {limit:,.0f} |")
    lines += [
        "",
        "The scheduler stops the scaling once workers × (1 / task seconds) approaches 1 / its cost per "
        "task; before that, storage does: each image is read once and its outputs written once by a worker, "
        "so a shared file system must carry (input + output bytes) × images per second.",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{options.name}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{options.name}.json").write_text(
        json.dumps({"rows": rows, "scheduler_s_per_task": per_task, "load": load}, indent=2) + "\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
