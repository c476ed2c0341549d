"""Sparse direct solve: one LU factorisation, every right-hand side solved against it."""

from __future__ import annotations

import time

import numba
import numpy as np

from ..errors import InputError
from .base import SolveInfo, relative_norm
from .multifrontal import MultifrontalLU
from .stencil import CENTRE, STENCIL_OFFSETS, GridOperator


@numba.njit(cache=True)
def _diagonal_only_rows(stencil):
    height, width = stencil.shape[:2]
    fixed = np.zeros(height * width, np.bool_)
    for i in range(height):
        for j in range(width):
            others = 0.0
            for k in range(9):
                if k != 4:
                    others += abs(stencil[i, j, k])
            fixed[i * width + j] = stencil[i, j, 4] != 0 and others == 0
    return fixed


class DirectSolver:
    """Factor the operator once, then solve for any number of right-hand sides.

    The factors are a multifrontal LU on a nested dissection of the pixel grid
    (:class:`~varcolor.solvers.multifrontal.MultifrontalLU`): dense fronts reduced by BLAS-3
    kernels, the root's two halves on two threads. They are kept in single precision (half the
    memory and time) and each solve is brought to double-precision accuracy by iterative
    refinement: residuals in float64, corrections from the single-precision factors, until the
    relative residual is at most ``tol`` (one correction on photos at the default). Should
    refinement stall, the operator is refactored in double precision, so the answer is always
    exact.

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.solvers.stencil import GridOperator
    >>> s = np.zeros((1, 2, 9)); s[..., 4] = (2.0, 4.0)
    >>> x, info = DirectSolver(GridOperator(s)).solve(np.full((1, 2, 1), 2.0))
    >>> x.ravel().tolist(), info.iterations
    ([1.0, 0.5], 0)
    """

    name = "direct"
    #: Refinement steps before falling back to double-precision factors.
    max_corrections = 6

    def __init__(self, operator: GridOperator, tol: float = 1e-8):
        start = time.perf_counter()
        self.operator = GridOperator(operator.stencil.astype(np.float64, copy=False))
        self._transposed = None
        self.tol = tol
        # Rows with only a diagonal entry (pixels under a cue) are solved in closed form and left
        # out of the factorisation: under dense cue patches that is a tenth of the unknowns.
        fixed = _diagonal_only_rows(self.operator.stencil)
        self._free_mask = ~fixed.reshape(operator.shape)
        self._fixed = np.flatnonzero(fixed)
        self._fixed_diagonal = self.operator.stencil[..., CENTRE].ravel()[self._fixed][:, None]
        self._lu = self._factor(np.float32)
        self._cue_couplings = list(self._couplings(self._fixed))  # used by every solve
        self._exact = False
        self.setup_seconds = time.perf_counter() - start

    def _factor(self, dtype) -> MultifrontalLU | None:
        if not self._free_mask.any():
            return None
        try:
            return MultifrontalLU(self.operator.stencil, self._free_mask, dtype)
        except ZeroDivisionError:
            raise InputError("the system is singular (a zero pivot): part of the image is cut off from every "
                             "cue; add a cue there") from None

    def _product(self, x: np.ndarray, transpose: bool) -> np.ndarray:
        """``A x`` (``Aᵀ x``) for ``x`` of shape ``N×C``."""
        if transpose and self._transposed is None:
            self._transposed = self.operator.transposed()
        operator = self._transposed if transpose else self.operator
        return operator.apply(x.reshape(self.operator.shape + x.shape[-1:])).reshape(x.shape)

    def _couplings(self, cue_pixels: np.ndarray):
        """For each of the 8 neighbour directions: the cue pixels with a free neighbour there, that
        neighbour, and ``A[neighbour, cue pixel]`` (the only entries coupling cue pixels to the
        free block; a cue pixel's own row is diagonal)."""
        height, width = self.operator.shape
        rows, cols = np.divmod(cue_pixels, width)
        stencil = self.operator.stencil.reshape(-1, 9)
        for k, (dy, dx) in enumerate(STENCIL_OFFSETS):
            if k == CENTRE:
                continue
            i, j = rows + dy, cols + dx
            index = np.flatnonzero((i >= 0) & (i < height) & (j >= 0) & (j < width))
            neighbour = i[index] * width + j[index]
            keep = self._free_mask.ravel()[neighbour]
            index, neighbour = index[keep], neighbour[keep]
            yield index, neighbour, stencil[neighbour, 8 - k][:, None]

    def _apply_inverse(self, b: np.ndarray, transpose: bool) -> np.ndarray:
        fixed = b[self._fixed] / self._fixed_diagonal
        if self._lu is None:
            if transpose:
                return b / self.operator.stencil[..., CENTRE].reshape(-1, 1)
            x = np.zeros_like(b)
            x[self._fixed] = fixed
            return x
        # [A_ff A_fc; 0 D] x = b: the cue pixels first, their coupling moved to the free block's
        # right-hand side. Transposed, [A_ffᵀ 0; A_fcᵀ D]: the free block first, then the cue pixels.
        if transpose:
            x = self._lu.solve(b, True).astype(np.float64)
            x[self._fixed] = fixed
            for index, neighbour, coupling in self._cue_couplings:
                x[self._fixed[index]] -= coupling * x[neighbour] / self._fixed_diagonal[index]
        else:
            rhs = b.copy()
            for index, neighbour, coupling in self._cue_couplings:
                rhs[neighbour] -= coupling * fixed[index]  # one cue pixel per neighbour and direction
            x = self._lu.solve(rhs).astype(np.float64)
            x[self._fixed] = fixed
        return x

    def solve(self, rhs: np.ndarray, x0: np.ndarray | None = None,
              transpose: bool = False) -> tuple[np.ndarray, SolveInfo]:
        """Solve ``A X = rhs`` (``Aᵀ X = rhs`` with ``transpose``) for ``rhs`` of shape ``H×W×C``
        (``x0`` is not needed and ignored)."""
        start = time.perf_counter()
        b = np.asarray(rhs, dtype=np.float64).reshape(-1, rhs.shape[-1])
        x = self._apply_inverse(b, transpose)
        for step in range(self.max_corrections + 1):
            r = b - self._product(x, transpose)
            residual = relative_norm(r, b)
            if residual <= self.tol or self._exact:
                break
            if step == self.max_corrections:  # refinement stalled: the single-precision factors are too coarse
                self._lu, self._exact = self._factor(np.float64), True
                x = self._apply_inverse(b, transpose)
                residual = relative_norm(b - self._product(x, transpose), b)
                break
            x += self._apply_inverse(r, transpose)
        info = SolveInfo(self.name, 0, residual, time.perf_counter() - start + self.setup_seconds)
        return x.reshape(rhs.shape), info

    def with_held(self, base: np.ndarray, held: np.ndarray, values: np.ndarray,
                  rhs_change: tuple[np.ndarray, np.ndarray] | None = None, tiny: float = 1e-3,
                  known: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, dict]:
        """The solution after the rows at ``held`` pixels (raster indices of unknowns) are
        replaced by ``x = values`` (``k×C``) and the right-hand side has changed by
        ``rhs_change`` (raster indices, ``m×C`` values), from ``base`` (``H×W×C``, the solution
        before), with the factors as they are.

        Relaxing those ``k`` rows, ``A x = b + Δb + P s`` for some ``s`` at them, so
        ``x = base + A⁻¹ (Δb + P s)`` with ``Pᵀ A⁻¹ P s = values − Pᵀ (base + A⁻¹ Δb)``. The
        ``k×k`` block ``Pᵀ A⁻¹ P`` and ``Pᵀ A⁻¹ Δb`` come from solves evaluated at the held
        pixels only (:meth:`MultifrontalLU.solve_at`); ``known``, an earlier call's
        ``info["block"]`` (its held pixels and their block), spares the solves for the pixels
        held then and still held, so only the new pixels' rows (by ``Aᵀ``) and columns are solved
        for. The correction is one solve with a sparse right-hand side
        (:meth:`MultifrontalLU.solve_local`, which leaves out the subtrees where the change is
        below ``tiny``, and changes below ``tiny`` are dropped: an error of at most ``tiny`` for
        M-matrices with nonnegative row sums such as Levin's). Single precision, no refinement.

        Returns
        -------
        x : ndarray, ``H×W×C``
        info : dict
            ``held`` (k), ``nodes`` (tree nodes the backward pass solved, of ``nodes_total``) and
            ``box`` (a pair of slices outside which ``x`` is ``base``, but at the held pixels).
            Changes below ``tiny`` are dropped, so that the box holds only what moved. ``block``:
            the held pixels and their block of ``A⁻¹``, for the next call's ``known``.
        """
        held = np.asarray(held, np.int64)
        if self._lu is None or not np.all(self._free_mask.ravel()[held]):
            raise ValueError("held pixels must be unknowns of the factored system, not its cue pixels")
        flat = base.reshape(-1, base.shape[-1])
        channels = flat.shape[1]
        (fixed_pixels, fixed_change), free_pixels, free_change = self._split_change(rhs_change, channels)
        k = len(held)
        block = self._inverse_block(held, known)
        spread = self._lu.solve_at(free_pixels, free_change, held) if len(free_pixels) else 0.0
        weights = np.linalg.solve(block, values - flat[held] - spread)
        delta, nodes, (top, bottom, left, right) = self._lu.solve_local(
            np.concatenate([held, free_pixels]), np.concatenate([weights, free_change]), tiny)
        height, width = self.operator.shape
        if len(fixed_pixels):
            rows, cols = np.divmod(fixed_pixels, width)
            top, bottom = min(top, rows.min()), max(bottom, rows.max() + 1)
            left, right = min(left, cols.min()), max(right, cols.max() + 1)
        box = (slice(top, bottom), slice(left, right))
        change = delta.reshape(channels, height, width)[:, box[0], box[1]].transpose(1, 2, 0)
        change[np.abs(change) < tiny] = 0.0
        x = base.copy()
        x[box] += change
        flat = x.reshape(-1, channels)
        flat[fixed_pixels] += fixed_change
        flat[held] = values
        return x, {"held": k, "nodes": nodes, "nodes_total": len(self._lu.tree.parent), "box": box,
                   "block": (held, block)}

    def _inverse_block(self, held: np.ndarray, known: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """``A⁻¹`` at the held pixels (sorted raster indices), reusing ``known``'s block where its
        pixels are all still held."""
        k = len(held)
        if known is None or not np.isin(known[0], held).all():
            return self._lu.solve_at(held, np.eye(k), held)
        was = np.isin(held, known[0])
        old, new = np.flatnonzero(was), np.flatnonzero(~was)
        block = np.empty((k, k))
        order = np.searchsorted(known[0], held[old])
        block[np.ix_(old, old)] = known[1][np.ix_(order, order)]
        if len(new):
            unit = np.eye(len(new))
            block[:, new] = self._lu.solve_at(held[new], unit, held)
            block[np.ix_(new, old)] = self._lu.solve_at(held[new], unit, held[old], transpose=True).T
        return block

    def _split_change(self, rhs_change, channels: int):
        """A right-hand-side change as the change it makes at cue pixels (solved in closed form)
        and the free block's right-hand-side change, with the cue pixels' coupling moved there."""
        if rhs_change is None:
            return (np.zeros(0, np.int64), np.zeros((0, channels))), np.zeros(0, np.int64), np.zeros((0, channels))
        pixels, change = np.asarray(rhs_change[0], np.int64), np.asarray(rhs_change[1], np.float64)
        free = self._free_mask.ravel()[pixels]
        fixed_pixels = pixels[~free]
        fixed_values = change[~free] / self.operator.stencil[..., CENTRE].ravel()[fixed_pixels][:, None]
        extra_pixels, extra_values = [pixels[free]], [change[free]]
        for index, neighbour, coupling in self._couplings(fixed_pixels):
            extra_pixels.append(neighbour)
            extra_values.append(-coupling * fixed_values[index])
        return (fixed_pixels, fixed_values), np.concatenate(extra_pixels), np.concatenate(extra_values)
