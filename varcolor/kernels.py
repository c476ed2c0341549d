"""Numba kernels compiled once, for arrays of any memory layout."""

from __future__ import annotations

import numba


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
