"""What the benchmark scripts share: a measurement in a fresh child process with a time limit, and
a result written as JSON and Markdown side by side in ``benchmarks/results/``.

A child process per measurement keeps one run's memory peak and caches out of the next, and lets a
run that takes too long or is killed for memory become a row with an error, not the end of the
script. Results are published atomically, so a killed benchmark never leaves half a table.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from collections.abc import Callable
from pathlib import Path

import varcolor.io

__all__ = ["in_child", "write_report"]


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
