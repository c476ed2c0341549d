"""Numba kernels compiled once, for arrays of any memory layout, and how many threads they run on.

Threads: a solve's kernels (numba's parallel loops, and the direct solver's two halves of the
LU tree) run on :func:`solve_threads` threads: as many as asked for (``threads=``,
``--threads``), else the cores that no other process keeps busy right now, at most
``NUMBA_NUM_THREADS`` (numba's own setting: every core unless set in the environment before
varcolor starts), and one below :data:`PARALLEL_PIXELS` pixels. A parallel loop waits for its
slowest thread: a thread sharing a core with another busy process makes every loop wait for a
time slice, so that with one of two cores busy a 256² bilaplacian-gtv solve took 4× longer on
two threads than on one (docs/guide/solvers.md, "Threads").
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numba

__all__ = ["PARALLEL_PIXELS", "threads_for", "solve_threads", "busy_cores", "any_layout", "compile_once"]

#: Below this many pixels a solve runs numba's kernels on one thread. Starting a parallel region
#: costs microseconds on an idle machine but about a scheduler time slice (7.9 ms measured, OpenMP
#: layer) while another process holds the other core, and a small solve starts thousands of them:
#: a 40×60 bilaplacian-GTV solve took 80 s on two threads at load 5, 0.6–1.0 s on one.
PARALLEL_PIXELS = 65_536


def busy_cores(samples: int = 3) -> int:
    """How many cores other processes keep busy now: the runnable threads the kernel counts
    (``/proc/loadavg``'s fourth field), less the one asking, the least of ``samples`` readings
    1 ms apart (a process that runs for a blink is not busy). Where there is no ``/proc`` (not
    Linux), the one-minute load average less this process's own share of it. In a container
    whose ``/proc`` shows the host's counts, the host's busy cores are counted: set ``threads``
    there."""
    try:
        counts = []
        for sample in range(samples):
            with open("/proc/loadavg") as file:
                counts.append(int(file.read().split()[3].split("/")[0]))
            if sample + 1 < samples:
                time.sleep(0.001)
        return max(min(counts) - 1, 0)
    except (OSError, ValueError, IndexError):
        try:
            return max(round(os.getloadavg()[0]) - 1, 0)
        except OSError:
            return 0


def solve_threads(pixels: int, threads: int | None = None) -> int:
    """The threads a solve of ``pixels`` pixels runs its kernels on: ``threads`` if given (at most
    numba's ``NUMBA_NUM_THREADS``), else the cores not :func:`busy_cores` (at least one); one
    below :data:`PARALLEL_PIXELS` either way.

    Parameters
    ----------
    pixels : int
        The size of the problem.
    threads : int, optional
        The most threads to use (``Options.threads``); None: decided from the cores free now.
    """
    most = numba.config.NUMBA_NUM_THREADS
    if pixels < PARALLEL_PIXELS:
        return 1
    if threads is not None:
        return max(1, min(int(threads), most))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(most, cores - busy_cores()))


@contextmanager
def threads_for(pixels: int, threads: int | None = None) -> Iterator[int]:
    """Within this, numba's kernels called from this thread run on :func:`solve_threads`
    threads (numba's thread count is the calling thread's own: other threads keep theirs);
    yields that count."""
    count = solve_threads(pixels, threads)
    before = numba.get_num_threads()
    if count == before:
        yield count
        return
    numba.set_num_threads(count)
    try:
        yield count
    finally:
        numba.set_num_threads(before)


def any_layout(ndim: int, readonly: bool = True) -> numba.types.Array:
    """The numba type of a float64 array of ``ndim`` dimensions and any strides (read-only
    arrays are passed to it, writable ones too)."""
    return numba.types.Array(numba.float64, ndim, "A", readonly=readonly)


def compile_once(kernel, *argument_types) -> None:
    """Compile ``kernel`` for ``argument_types`` on its first use, and no more: whole images and
    windows of them then share one version, where each variant numba would compile per layout cost
    an interactive update a cache load (benchmarks/results/solvers_measured.md, "Updates after a stroke"). On first
    use, not at import: a parallel kernel loaded at import sets up OpenMP in processes that fork
    workers afterwards, which then abort."""
    if kernel.signatures:
        return
    kernel.compile(argument_types)
    kernel.disable_compile()
