"""Geometric multigrid for symmetric positive definite 9-point grid operators (numba kernels).

Symmetric systems only: Levin's exact system is not, and a geometric hierarchy cannot follow its
directed weights (see :mod:`varcolor.solvers.amg`).
"""

from __future__ import annotations

import time
from typing import ClassVar

import numba
import numpy as np

from ..errors import InputError
from .base import TOL, SolveInfo, not_symmetric, report
from .cg import pcg
from .stencil import GridOperator

__all__ = ["GridMultigrid", "MultigridSolver"]

# The four colours of the 8-neighbour grid and the backward sweep's order, as an array of its own
# (a reversed view would compile the sweep a second time).
_COLOURS = np.array([(0, 0), (1, 1), (0, 1), (1, 0)])
_COLOURS_BACKWARD = np.ascontiguousarray(_COLOURS[::-1])


@numba.njit(cache=True, inline="always")
def _side_weights(row, horizontal):
    """How a point between two coarse points leans on each: its couplings towards either side,
    over its own lumped diagonal (the column or row through it)."""
    if horizontal:
        first, second, centre = row[0] + row[3] + row[6], row[2] + row[5] + row[8], row[1] + row[4] + row[7]
    else:
        first, second, centre = row[0] + row[1] + row[2], row[6] + row[7] + row[8], row[3] + row[4] + row[5]
    if centre > 0.0:
        return -first / centre, -second / centre
    return 0.0, 0.0


@numba.njit(cache=True, parallel=True)
def _interpolation(stencil, fixed, weights):
    """``weights[i, j, c]``: how much fine pixel (i, j) takes from coarse corner c of its cell
    (corners (i//2, j//2) + (c//2, c%2))."""
    height, width = stencil.shape[:2]
    for i in numba.prange(height):
        for j in range(width):
            for c in range(4):
                weights[i, j, c] = 0.0
            row = stencil[i, j]
            if i % 2 == 0 and j % 2 == 0:
                weights[i, j, 0] = 1.0
                continue
            if fixed[i, j]:
                continue
            if i % 2 == 0:
                weights[i, j, 0], weights[i, j, 1] = _side_weights(row, True)
            elif j % 2 == 0:
                weights[i, j, 0], weights[i, j, 2] = _side_weights(row, False)
            elif row[4] > 0.0:
                # A cell centre: its edge neighbours' interpolations, weighted by its couplings to them.
                n0 = n1 = s0 = s1 = w0 = w2 = e1 = e3 = 0.0
                if row[1] != 0.0:
                    n0, n1 = _side_weights(stencil[i - 1, j], True)
                if row[7] != 0.0:
                    s0, s1 = _side_weights(stencil[i + 1, j], True)
                if row[3] != 0.0:
                    w0, w2 = _side_weights(stencil[i, j - 1], False)
                if row[5] != 0.0:
                    e1, e3 = _side_weights(stencil[i, j + 1], False)
                weights[i, j, 0] = -(row[0] + row[1] * n0 + row[3] * w0) / row[4]
                weights[i, j, 1] = -(row[2] + row[1] * n1 + row[5] * e1) / row[4]
                weights[i, j, 2] = -(row[6] + row[7] * s0 + row[3] * w2) / row[4]
                weights[i, j, 3] = -(row[8] + row[7] * s1 + row[5] * e3) / row[4]
            for c in range(4):  # fixed coarse points take no correction, so they give none
                ci, cj = 2 * (i // 2 + c // 2), 2 * (j // 2 + c % 2)
                if ci < height and cj < width and fixed[ci, cj]:
                    weights[i, j, c] = 0.0


@numba.njit(cache=True, parallel=True)
def _galerkin(stencil, weights, out):
    """The coarse operator ``Pᵀ A P`` as a 9-point stencil on the coarse grid."""
    height, width = stencil.shape[:2]
    coarse_height, coarse_width = out.shape[:2]
    for ci in numba.prange(coarse_height):
        for cj in range(coarse_width):
            for k in range(9):
                out[ci, cj, k] = 0.0
            for fi in range(max(2 * ci - 1, 0), min(2 * ci + 2, height)):
                for fj in range(max(2 * cj - 1, 0), min(2 * cj + 2, width)):
                    r = weights[fi, fj, 2 * (ci - fi // 2) + cj - fj // 2]
                    if r == 0.0:
                        continue
                    for k in range(9):
                        a = stencil[fi, fj, k]
                        if a == 0.0:
                            continue
                        gi, gj = fi + k // 3 - 1, fj + k % 3 - 1
                        for c in range(4):
                            p = weights[gi, gj, c]
                            if p != 0.0:
                                di, dj = gi // 2 + c // 2 - ci + 1, gj // 2 + c % 2 - cj + 1
                                out[ci, cj, 3 * di + dj] += r * a * p


@numba.njit(cache=True, parallel=True)
def _residual(stencil, x, b, out):
    height, width, channels = x.shape
    for i in numba.prange(height):
        for j in range(width):
            for c in range(channels):
                acc = b[i, j, c]
                for k in range(9):
                    a = stencil[i, j, k]
                    if a != 0.0:
                        acc -= a * x[i + k // 3 - 1, j + k % 3 - 1, c]
                out[i, j, c] = acc


@numba.njit(cache=True, parallel=True)
def _restrict(weights, fine, out):
    """``Pᵀ fine``."""
    height, width, channels = fine.shape
    coarse_height, coarse_width = out.shape[:2]
    for ci in numba.prange(coarse_height):
        for cj in range(coarse_width):
            for c in range(channels):
                out[ci, cj, c] = 0.0
            for fi in range(max(2 * ci - 1, 0), min(2 * ci + 2, height)):
                for fj in range(max(2 * cj - 1, 0), min(2 * cj + 2, width)):
                    r = weights[fi, fj, 2 * (ci - fi // 2) + cj - fj // 2]
                    if r != 0.0:
                        for c in range(channels):
                            out[ci, cj, c] += r * fine[fi, fj, c]


@numba.njit(cache=True, parallel=True)
def _prolong_add(weights, coarse, x):
    height, width, channels = x.shape
    for i in numba.prange(height):
        for j in range(width):
            for corner in range(4):
                w = weights[i, j, corner]
                if w != 0.0:
                    ci, cj = i // 2 + corner // 2, j // 2 + corner % 2
                    for c in range(channels):
                        x[i, j, c] += w * coarse[ci, cj, c]


@numba.njit(cache=True, parallel=True)
def _gauss_seidel(stencil, x, b, colours):
    """One multicolour Gauss–Seidel sweep, the colours in the given order."""
    height, width, channels = x.shape
    for colour in range(colours.shape[0]):
        first_row, first_column = colours[colour, 0], colours[colour, 1]
        for h in numba.prange((height - first_row + 1) // 2):
            i = first_row + 2 * h
            for j in range(first_column, width, 2):
                diagonal = stencil[i, j, 4]
                if diagonal == 0.0:
                    continue
                for c in range(channels):
                    acc = b[i, j, c]
                    for k in range(9):
                        a = stencil[i, j, k]
                        if k != 4 and a != 0.0:
                            acc -= a * x[i + k // 3 - 1, j + k % 3 - 1, c]
                    x[i, j, c] = acc / diagonal


class GridMultigrid:
    """A multigrid hierarchy for an SPD 9-point operator; :meth:`vcycle` approximates ``A⁻¹``."""

    def __init__(self, operator: GridOperator, fixed: np.ndarray | None = None, coarsest: int = 400, sweeps: int = 1):
        stencil = np.ascontiguousarray(operator.stencil, dtype=np.float64)
        fixed = np.zeros(stencil.shape[:2], bool) if fixed is None else np.ascontiguousarray(fixed, bool)
        self.sweeps = sweeps
        self.levels: list[tuple[np.ndarray, np.ndarray]] = []
        while stencil.shape[0] * stencil.shape[1] > coarsest and min(stencil.shape[:2]) > 2:
            height, width = stencil.shape[:2]
            weights = np.empty((height, width, 4))
            _interpolation(stencil, fixed, weights)
            coarse = np.empty(((height + 1) // 2, (width + 1) // 2, 9))
            _galerkin(stencil, weights, coarse)
            # Single-precision copies for the cycle: it reads them on every sweep, and the
            # preconditioner needs no more (it stays symmetric: symmetric entries round alike).
            self.levels.append((stencil.astype(np.float32), weights.astype(np.float32)))
            stencil, fixed = coarse, np.ascontiguousarray(fixed[::2, ::2])
        self.coarse_shape = stencil.shape[:2]
        self.coarse_inverse = np.linalg.pinv(GridOperator(stencil).to_csr().toarray(), hermitian=True)

    def vcycle(self, b: np.ndarray, level: int = 0) -> np.ndarray:
        """One V-cycle from a zero guess for ``A x = b`` (``H×W×C``); returns ``x``.

        Parameters
        ----------
        b : ndarray, ``H×W×C``
            The right-hand sides on ``level``'s grid, one a channel.
        level : int, optional
            The level the cycle starts on (0, the finest, by default; the cycle calls itself on the next).
        """
        b = np.ascontiguousarray(b, dtype=np.float64)
        if level == len(self.levels):
            flat = b.reshape(-1, b.shape[-1])
            return (self.coarse_inverse @ flat).reshape(b.shape)
        stencil, weights = self.levels[level]
        x = np.zeros_like(b)
        for _ in range(self.sweeps):
            _gauss_seidel(stencil, x, b, _COLOURS)
        residual = np.empty_like(b)
        _residual(stencil, x, b, residual)
        coarse_b = np.empty(((b.shape[0] + 1) // 2, (b.shape[1] + 1) // 2, b.shape[2]))
        _restrict(weights, residual, coarse_b)
        _prolong_add(weights, self.vcycle(coarse_b, level + 1), x)
        for _ in range(self.sweeps):
            _gauss_seidel(stencil, x, b, _COLOURS_BACKWARD)
        return x


class MultigridSolver:
    """Conjugate gradients preconditioned by one :class:`GridMultigrid` V-cycle per iteration.

    For symmetric positive definite systems (``method="levin-symmetric"``); Levin's exact system is
    refused. Rows of the identity with no couplings (eliminated cues) are held fixed.

    Parameters
    ----------
    operator, tol, maxiter
        As :class:`~varcolor.solvers.amg.AmgSolver` takes them.
    device : {"cpu"}
        The numba cycle runs on the CPU only.

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.energies.levin import symmetric_system
    >>> rng = np.random.default_rng(0)
    >>> mask = rng.random((40, 50)) < 0.05
    >>> operator, rhs = symmetric_system(rng.random((40, 50)), mask, np.full((40, 50, 2), 10.0))
    >>> x, info = MultigridSolver(operator).solve(rhs)
    >>> bool(np.allclose(x, 10.0)), info.residual <= 1e-8
    (True, True)
    """

    name: ClassVar[str] = "multigrid"
    supports_rebind: ClassVar[bool] = False

    def __init__(self, operator: GridOperator, tol: float = TOL, maxiter: int = 300, device: str = "cpu"):
        start = time.perf_counter()
        if device != "cpu":
            raise InputError("solver 'multigrid' runs on the CPU only; use solver='cg' with device='cuda'")
        if not operator.is_symmetric():
            raise InputError(not_symmetric(self.name))
        self.fixed = operator.identity_rows()
        self.operator, self.tol, self.maxiter = operator, tol, maxiter
        self.multigrid = GridMultigrid(operator, self.fixed)
        self.setup_seconds = time.perf_counter() - start

    def solve(self, rhs: np.ndarray, x0: np.ndarray | None = None) -> tuple[np.ndarray, SolveInfo]:
        """Solve ``A X = rhs`` (``H×W×C``) from ``x0`` (default: 0, with the fixed rows' values).

        Parameters
        ----------
        rhs, x0
            As :meth:`~varcolor.solvers.base.Solver.solve` takes them; ``x0`` is read at the pixels
            not fixed, the fixed ones start at their values, ``rhs`` there.

        Returns
        -------
        x, info
            As :meth:`~varcolor.solvers.amg.AmgSolver.solve` returns them.
        """
        start = time.perf_counter()
        rhs = np.ascontiguousarray(rhs, dtype=np.float64)
        shape, channels = rhs.shape, rhs.shape[-1]
        guess = np.where(self.fixed[..., None], rhs, 0.0 if x0 is None else x0)
        history: list[float] = []
        x, iterations, residual = pcg(
            lambda v: self.operator.apply(v.reshape(shape)).reshape(-1, channels),
            rhs.reshape(-1, channels),
            lambda r: self.multigrid.vcycle(r.reshape(shape)).reshape(-1, channels),
            np,
            guess.reshape(-1, channels),
            self.tol,
            self.maxiter,
            history,
        )
        return x.reshape(shape), report(
            self.name, iterations, residual, self.tol, time.perf_counter() - start + self.setup_seconds, history
        )
