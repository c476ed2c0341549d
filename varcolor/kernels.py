"""Numba kernels compiled once, for arrays of any memory layout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba

#: Below this many pixels a solve runs numba's kernels on one thread. Starting a parallel region
#: costs microseconds on an idle machine but about a scheduler time slice (7.9 ms measured, OpenMP
#: layer) while another process holds the other core, and a small solve starts thousands of them:
#: a 40×60 bilaplacian-GTV solve took 80 s on two threads at load 5, 0.6–1.0 s on one.
PARALLEL_PIXELS = 65_536


@contextmanager
def threads_for(pixels: int) -> Iterator[None]:
    """numba's kernels on one thread while a problem of fewer than :data:`PARALLEL_PIXELS` pixels
    is solved (numba's thread count is the calling thread's own: other threads keep theirs)."""
    if pixels >= PARALLEL_PIXELS:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
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
