"""Solutions after more cues from a direct solve's factors: low-rank corrections, no new LU.

A cue added at a pixel that was an unknown replaces its row by ``x = value``. Relaxing the ``k``
rows held so, the new solution solves ``A x = b + Δb + P s`` for some ``s`` at them, so
``x = x₀ + A⁻¹ (Δb + P s)`` (``x₀`` the first solution, ``Δb`` the right-hand side's change where
cues of the first solve were recoloured), with ``s`` from the ``k×k`` system
``Pᵀ A⁻¹ P s = values − Pᵀ (x₀ + A⁻¹ Δb)``. The block ``Pᵀ A⁻¹ P`` grows with the held pixels
(:class:`~varcolor.solvers.multifrontal.InverseBlock`); the correction is one solve with a sparse
right-hand side whose backward pass leaves out the subtrees where it is below ``tiny``
(:meth:`~varcolor.solvers.multifrontal.MultifrontalLU.solve_local`).

Strokes add up, and a correction from ``x₀`` spans all of them. So a correction starts from the
last solution instead: ``x = x_prev + A⁻¹ P (s − s_applied)``, where the multipliers of strokes
far from the new one barely move. Both the skipped subtrees and the multipliers left out are
bounded by the maximum principle, which Levin's systems (M-matrices with nonnegative row sums)
obey: a change ``δ`` at pixel ``j`` moves no pixel by more than ``|δ| (A⁻¹)_jj``. Each step's
error bound adds up, and once the sum would pass ``budget`` the next correction starts from
``x₀`` again (exact to ``tiny``).
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.linalg import lu_factor, solve_triangular

from .direct import DirectSolver
from .multifrontal import InverseBlock
from .stencil import CENTRE

__all__ = ["LowRankUpdater"]

_NOWHERE = (slice(0, 0), slice(0, 0))


def _union(*boxes: tuple[slice, slice]) -> tuple[slice, slice]:
    """The smallest pair of slices holding every non-empty box."""
    boxes = [box for box in boxes if box[0].stop > box[0].start and box[1].stop > box[1].start]
    if not boxes:
        return _NOWHERE
    return (
        slice(min(b[0].start for b in boxes), max(b[0].stop for b in boxes)),
        slice(min(b[1].start for b in boxes), max(b[1].stop for b in boxes)),
    )


@numba.njit(cache=True, parallel=True)
def _add_changes(x, delta, top, bottom, left, right, tiny):
    """``x[i, j, c] += delta[c, i, j]`` in the box, where that change reaches ``tiny``."""
    for i in numba.prange(top, bottom):
        for j in range(left, right):
            for c in range(x.shape[2]):
                if abs(delta[c, i, j]) >= tiny:
                    x[i, j, c] += delta[c, i, j]


def _net(pixels: np.ndarray, values: np.ndarray, minus_pixels: np.ndarray, minus_values: np.ndarray):
    """``values`` at ``pixels`` less ``minus_values`` at ``minus_pixels``, one row per pixel where
    that is not zero."""
    every, where = np.unique(np.concatenate([pixels, minus_pixels]), return_inverse=True)
    total = np.zeros((len(every), values.shape[1]))
    np.add.at(total, where, np.concatenate([values, -minus_values]))
    keep = np.any(total != 0, axis=1)
    return every[keep], total[keep]


def _box_of(pixels: np.ndarray, width: int) -> tuple[slice, slice]:
    if not len(pixels):
        return _NOWHERE
    rows, columns = np.divmod(pixels, width)
    return slice(int(rows.min()), int(rows.max()) + 1), slice(int(columns.min()), int(columns.max()) + 1)


class _GrowingLU:
    """LU factors of a square matrix grown by whole rows and columns, ``M[perm] = L U`` (packed
    in one array, unit ``L``): ``m`` more rows and columns cost ``O(k² m)`` — the new rows and
    columns through the old factors, their Schur complement factored with partial pivoting —
    not a new ``O(k³)`` factorisation. (In single precision the Green's functions' tails
    underflow to subnormal numbers, and the triangular solves ran several times slower:
    docs/guide/solvers.md, "Measurements behind the solvers' settings".)"""

    def __init__(self) -> None:
        self._lu = np.zeros((0, 0), order="F")  # column-major: LAPACK takes it without a copy
        self._perm = np.zeros(0, np.int64)

    def grow(self, columns: np.ndarray, rows: np.ndarray, corner: np.ndarray) -> None:
        """Border ``M`` with ``columns`` (``k×m``), ``rows`` (``m×k``) and ``corner`` (``m×m``)."""
        k, m = len(self._perm), len(corner)
        lu = self._lu
        if k:
            upper = solve_triangular(lu, columns[self._perm], lower=True, unit_diagonal=True, check_finite=False)
            lower = solve_triangular(lu, rows.T, trans="T", check_finite=False).T
        else:
            upper, lower = columns, rows
        factors, pivots = lu_factor(corner - lower @ upper, check_finite=False)
        perm = np.arange(m)
        for i, p in enumerate(pivots):  # LAPACK's row swaps, in order
            perm[[i, p]] = perm[[p, i]]
        self._lu = np.zeros((k + m, k + m), order="F")
        self._lu[:k, :k] = lu
        self._lu[:k, k:] = upper
        self._lu[k:, :k] = lower[perm]
        self._lu[k:, k:] = factors
        self._perm = np.concatenate([self._perm, k + perm])

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``M⁻¹ rhs``."""
        lu = self._lu
        forward = solve_triangular(lu, rhs[self._perm], lower=True, unit_diagonal=True, check_finite=False)
        return solve_triangular(lu, forward, check_finite=False)


class LowRankUpdater:
    """Solutions of a factored system with more and more of its unknowns held at given values.

    Parameters
    ----------
    solver : DirectSolver
        The factored system (an M-matrix with nonnegative row sums, as both of Levin's are).
    base : ndarray, ``H×W×C``
        Its solution.
    tiny : float
        The change below which a correction leaves pixels out (each correction's error bound).
    budget : float
        The error bound corrections from the last solution may add up to before one starts from
        ``base`` again.
    max_block : int
        The most held pixels the ``k×k`` block may have (:meth:`hold` raises beyond).

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.solvers.stencil import GridOperator
    >>> s = np.zeros((1, 4, 9)); s[..., 4] = 2.0; s[0, 1:3, 3] = s[0, 1:3, 5] = -1.0
    >>> solver = DirectSolver(GridOperator(s))   # x0 and x3 given, x1 and x2 their neighbours' mean
    >>> base, _ = solver.solve(np.array([[[0.0], [0.0], [0.0], [6.0]]]))
    >>> base.ravel().round(6).tolist()
    [0.0, 1.0, 2.0, 3.0]
    >>> x, info = LowRankUpdater(solver, base, tiny=0.0).hold(np.array([1]), np.array([[3.0]]))
    >>> x.ravel().round(6).tolist()
    [0.0, 3.0, 3.0, 3.0]
    """

    def __init__(
        self, solver: DirectSolver, base: np.ndarray, tiny: float = 1e-3, budget: float = 1e-2, max_block: int = 1000
    ):
        if solver._lu is None:
            raise ValueError("the system has no unknowns to hold")
        self.solver, self.base = solver, base
        self.tiny, self.budget, self.max_block = tiny, budget, max_block
        self._start()

    def _start(self) -> None:
        """Forget every held pixel: the next correction starts from ``base``."""
        channels = self.base.shape[-1]
        self._block = InverseBlock(self.solver._lu, channels)
        self._factors = _GrowingLU()  # of the block
        self._applied = np.zeros((0, channels))  # the multipliers ``x`` holds
        nothing = np.zeros(0, np.int64), np.zeros((0, channels))
        self._rhs = (nothing, nothing)  # the right-hand-side change ``x`` holds, split (see _split)
        self._x = self.base
        self._bound = 0.0  # the error bound of ``x``
        self._touched = _NOWHERE  # where ``x`` may differ from ``base``

    def hold(
        self, held: np.ndarray, values: np.ndarray, rhs_change: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, dict]:
        """The solution with the unknowns at ``held`` (raster indices) held at ``values``
        (``k×C``) and the right-hand side changed by ``rhs_change`` (raster indices, ``m×C``
        values; cue pixels of the first solve may be among them).

        Pixels held by earlier calls must be held again (else the correction starts afresh).
        Returns the solution (``H×W×C``, a new read-only array) and an info dict: ``held``,
        ``block`` (the held pixels coupled to an unknown, the block's size), ``correction``
        (``"incremental"`` from the last solution or ``"full"`` from ``base``), ``nodes`` and
        ``nodes_total`` (tree nodes the backward pass solved), ``bound`` (the result's error
        bound) and ``box`` (a pair of slices outside which the result equals the previous one).
        """
        solver, channels = self.solver, self.base.shape[-1]
        held = np.asarray(held, np.int64)
        values = np.asarray(values, np.float64)
        if not np.all(solver._free_mask.ravel()[held]):
            raise ValueError("held pixels must be unknowns of the factored system, not its cue pixels")
        if not np.isin(self._block.pixels, held).all():
            self._start()
        coupled = self._coupled(held)
        new = coupled[~np.isin(coupled, self._block.pixels)]
        if len(self._block.pixels) + len(new) > self.max_block:
            raise ValueError(f"more than {self.max_block} held pixels coupled to unknowns")
        (fixed_pixels, fixed_change), (free_pixels, free_change) = rhs = self._split(rhs_change)
        # The free block's right-hand side since the last call: the new change in, the held one out.
        step_pixels, step_change = _net(free_pixels, free_change, *self._rhs[1])
        self._block.add_to_rhs(step_pixels, step_change)
        old = len(self._block.pixels)
        self._block.add(new)
        if len(new):
            block = self._block.block
            self._factors.grow(block[:old, old:], block[old:, :old], block[old:, old:])
        self._applied = np.concatenate([self._applied, np.zeros((len(new), channels))])
        pixels = self._block.pixels
        order = np.argsort(held)
        targets = values[order[np.searchsorted(held, pixels, sorter=order)]]
        flat_base = self.base.reshape(-1, channels)
        multipliers = (
            self._factors.solve(targets - flat_base[pixels] - self._block.solution) if len(pixels) else targets
        )
        incremental = self._x is not self.base
        if incremental:
            step = multipliers - self._applied
            # Leave out the smallest steps while their summed bound stays under ``tiny``.
            effect = np.abs(step).max(axis=1) * np.diag(self._block.block)
            order = np.argsort(effect)
            left_out = order[: np.searchsorted(np.cumsum(effect[order]), self.tiny, side="right")]
            taken = np.ones(len(pixels), bool)
            taken[left_out] = False
            bound = self._bound + self.tiny + effect[left_out].sum()
            incremental = bound <= self.budget
        if incremental:
            x, nodes, box = self._correct(
                self._x, np.concatenate([pixels[taken], step_pixels]), np.concatenate([step[taken], step_change])
            )
            self._applied[taken] = multipliers[taken]
        else:
            x, nodes, box = self._correct(
                self.base, np.concatenate([pixels, free_pixels]), np.concatenate([multipliers, free_change])
            )
            self._applied = multipliers
            bound = self.tiny
        # Pixels set in closed form: cues of the first solve (recoloured, or back to their first
        # value) and the held ones.
        flat, previous = x.reshape(-1, channels), self._x.reshape(-1, channels)
        undone = self._rhs[0][0]
        flat[undone] = flat_base[undone]
        flat[fixed_pixels] = flat_base[fixed_pixels] + fixed_change
        flat[held] = values
        assigned = np.concatenate([undone, fixed_pixels, held])
        moved = assigned[np.any(flat[assigned] != previous[assigned], axis=1)]
        box = _union(box, _box_of(moved, x.shape[1]))
        changed = box if incremental else _union(box, self._touched)
        x.flags.writeable = False  # the next correction starts from it
        self._x, self._rhs, self._bound, self._touched = x, rhs, bound, _union(self._touched, box)
        return x, {
            "held": len(held),
            "block": len(pixels),
            "correction": "incremental" if incremental else "full",
            "nodes": nodes,
            "nodes_total": len(solver._lu.tree.parent),
            "bound": bound,
            "box": changed,
        }

    def _correct(self, start: np.ndarray, pixels: np.ndarray, values: np.ndarray):
        """``start + A⁻¹ b`` for ``b`` zero but at ``pixels`` (``values``), changes under
        ``tiny`` left out; with the nodes solved and the box of what changed."""
        x = start.copy()
        if not len(pixels):
            return x, 0, _NOWHERE
        delta, nodes, (top, bottom, left, right) = self.solver._lu.solve_local(pixels, values, self.tiny)
        box = (slice(top, max(top, bottom)), slice(left, max(left, right)))
        _add_changes(
            x,
            delta.reshape((x.shape[-1],) + x.shape[:2]),
            box[0].start,
            box[0].stop,
            box[1].start,
            box[1].stop,
            self.tiny,
        )
        return x, nodes, box

    def _coupled(self, held: np.ndarray) -> np.ndarray:
        """The held pixels with an unknown neighbour that is not held: the others' values reach
        no row that is not held, so they need no multiplier."""
        is_held = np.zeros(self.solver._free_mask.size, bool)
        is_held[held] = True
        coupled = np.zeros(len(held), bool)
        for index, neighbour, coupling in self.solver._couplings(held):
            coupled[index[~is_held[neighbour] & (coupling[:, 0] != 0)]] = True
        return held[coupled]

    def _split(self, rhs_change):
        """A right-hand-side change as the change it makes at cue pixels (closed form) and the
        free block's right-hand-side change, with the cue pixels' coupling moved there."""
        solver, channels = self.solver, self.base.shape[-1]
        if rhs_change is None:
            return (np.zeros(0, np.int64), np.zeros((0, channels))), (np.zeros(0, np.int64), np.zeros((0, channels)))
        pixels, change = np.asarray(rhs_change[0], np.int64), np.asarray(rhs_change[1], np.float64)
        free = solver._free_mask.ravel()[pixels]
        fixed_pixels = pixels[~free]
        fixed_values = change[~free] / solver.operator.stencil[..., CENTRE].ravel()[fixed_pixels][:, None]
        extra_pixels, extra_values = [pixels[free]], [change[free]]
        for index, neighbour, coupling in solver._couplings(fixed_pixels):
            extra_pixels.append(neighbour)
            extra_values.append(-coupling * fixed_values[index])
        return (fixed_pixels, fixed_values), (np.concatenate(extra_pixels), np.concatenate(extra_values))
