"""What the benchmark scripts share: a measurement in a fresh child process with a time limit, a
result written as JSON and Markdown side by side in ``benchmarks/results/``, and the machine's
speed of the day (:func:`csr_matvec_ms`: the same machine measured 7.8 to 13.8 ms on different days).

A child process per measurement keeps one run's memory peak and caches out of the next, and lets a
run that takes too long or is killed for memory become a row with an error, not the end of the
script. Results are published atomically, so a killed benchmark never leaves half a table.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import varcolor.io

__all__ = ["in_child", "write_report", "csr_matvec_ms", "kernels_note"]


def csr_matvec_ms(side: int = 1000, repeats: int = 30) -> float:
    """The median milliseconds of one product of a ``side²``-pixel 9-point grid matrix (CSR, as
    Levin's) with a vector: the unit the issues state the machine's speed in ("a 1 MP CSR mat-vec
    8-10 ms"), so that timings taken on different days can be told apart from the code's changes."""
    n = side * side
    offsets = [0, 1, -1, side, -side, side - 1, 1 - side, side + 1, -side - 1]
    matrix = sp.diags([np.full(n - abs(k), -1.0 if k else 8.0) for k in offsets], offsets, format="csr")
    x = np.random.default_rng(0).random(n)
    for _ in range(3):
        matrix @ x
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matrix @ x
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def in_child(target: Callable, args: tuple, timeout: float) -> dict:
    """``target(*args, queue)`` in a spawned process: the dict it puts on ``queue``, or
    ``{"error": ...}`` where it ran past ``timeout`` seconds (then killed) or died first.

    Parameters
    ----------
    target : callable
        A module-level function (spawn pickles it by name) that ends with ``queue.put(result)``.
    args : tuple
        Its arguments before the queue.
    timeout : float
        Seconds before the child is killed.
    """
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        return {"error": f"timed out after {timeout:.0f} s"}
    if process.exitcode != 0 or queue.empty():
        return {"error": f"exit code {process.exitcode} (out of memory?)"}
    return queue.get()


def write_report(out: str | Path, name: str, report: dict, markdown: str) -> None:
    """Publish ``out/name.json`` (``report``) and ``out/name.md`` (``markdown``), each atomically.

    Parameters
    ----------
    out : path
        The results folder (made if missing).
    name : str
        The files' stem.
    report, markdown
        The measurements as JSON values, and the table people read.
    """
    out = Path(out)
    with varcolor.io.atomic_path(out / f"{name}.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1) + "\n")
    with varcolor.io.atomic_path(out / f"{name}.md") as tmp:
        tmp.write_text(markdown if markdown.endswith("\n") else markdown + "\n")


def kernels_note() -> tuple[bool, str]:
    """Whether varcolor's kernels are compiled for the sources imported (``varcolor warm``'s mark),
    and a sentence for a report where they are not. Numba's cache is per source file, and the mark
    is for every source's size and time: an edit since the last ``varcolor warm`` voids it, and the
    small systems (a full tile's correction, an edit's small solves) then run as array code, as for
    a user who never warmed. (Timed so, the studio's 1:1 view took 1.2 s where it took 1.0 s warm.)"""
    from varcolor.common.kernels import kernels_warm

    if kernels_warm():
        return True, ""
    return False, (
        "**Not warm**: varcolor's kernels were not compiled for these sources (run `varcolor warm` after an "
        "edit); the small systems ran as array code, as for a user who never warmed."
    )
