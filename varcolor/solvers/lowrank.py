"""Solutions after any cue edit from a direct solve's factors: low-rank corrections, no new LU.

An edit changes a few rows of the factored system; the new solution is the last one corrected
through ``M⁻¹`` with a small dense Schur complement over the held and released pixels. Levin's
systems obey a maximum principle, which bounds each correction's error; once the summed bounds
would pass ``budget``, the next correction starts from the first solution again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from scipy.linalg import lu_factor, lu_solve, solve_triangular

from ..common.neighbours import CENTRE, STENCIL_OFFSETS
from .direct import DirectSolver
from .inverse_block import InverseBlock
from .multifrontal import MultifrontalLU

__all__ = ["LowRankUpdater", "Released", "TooCostly"]

_NOWHERE = (slice(0, 0), slice(0, 0))


def _union(*boxes: tuple[slice, slice]) -> tuple[slice, slice]:
    """The smallest pair of slices holding every non-empty box."""
    kept = [box for box in boxes if box[0].stop > box[0].start and box[1].stop > box[1].start]
    if not kept:
        return _NOWHERE
    return (
        slice(min(b[0].start for b in kept), max(b[0].stop for b in kept)),
        slice(min(b[1].start for b in kept), max(b[1].stop for b in kept)),
    )


@numba.njit(cache=True, parallel=True)
def _add_changes(x, delta, top, bottom, left, right, tiny):
    """``x[i, j, c] += delta[c, i, j]`` in the box, where that change reaches ``tiny``."""
    for i in numba.prange(top, bottom):
        for j in range(left, right):
            for c in range(x.shape[2]):
                if abs(delta[c, i, j]) >= tiny:
                    x[i, j, c] += delta[c, i, j]


def _net(
    pixels: np.ndarray, values: np.ndarray, minus_pixels: np.ndarray, minus_values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
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
    """LU factors of a square matrix grown by whole rows and columns (``M[perm] = L U``): ``m`` more
    cost ``O(k² m)``, not a new ``O(k³)`` factorisation."""

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


class TooCostly(ValueError):
    """An edit whose low-rank correction is predicted to cost more than the limit it was given
    (a fresh solve's seconds): the message says both."""


@dataclass(frozen=True, eq=False)
class Released:
    """Cue pixels of the factored system that are unknowns again (an undo, the eraser), with the new system
    around them: ``pixels`` (raster indices), and the new operator's stencil.
    """

    pixels: np.ndarray
    window: tuple[slice, slice]
    stencil: np.ndarray
    rhs: np.ndarray


def _neighbours(pixels: np.ndarray, shape: tuple[int, int]):
    """For each of the 8 directions ``k``: the indices into ``pixels`` with a neighbour there
    inside the image, and that neighbour (raster index)."""
    height, width = shape
    rows, columns = np.divmod(pixels, width)
    for k, (dy, dx) in enumerate(STENCIL_OFFSETS):
        if k == CENTRE:
            continue
        i, j = rows + dy, columns + dx
        index = np.flatnonzero((i >= 0) & (i < height) & (j >= 0) & (j < width))
        yield k, index, i[index] * width + j[index]


class LowRankUpdater:
    """Solutions of a factored system after cue edits: unknowns held at values (cues added),
    cue pixels made unknowns again (cues removed) and right-hand-side changes (cues recoloured)."""

    def __init__(
        self,
        solver: DirectSolver,
        base: np.ndarray,
        tiny: float = 1e-3,
        budget: float = 1e-2,
        max_block: int = 1000,
        refine_tol: float = 1e-8,
    ):
        lu = solver.multifrontal()  # what the corrections read
        if lu is None:
            raise ValueError("the system has no unknowns to hold")
        self.lu: MultifrontalLU = lu
        self.solver, self.base = solver, base
        self.tiny, self.budget, self.max_block = tiny, budget, max_block
        self.refine_tol = refine_tol
        self.max_refinements = 3
        self._diagonal = solver.operator.stencil[..., CENTRE].ravel()
        # The cost model (:meth:`_predict`): dense work at the factorisation's timed rate, the rest as
        # the last edits took it (first guessed from the refined solve).
        factor_flops, _ = self.lu.flops()
        self._dense_rate = solver.factor_seconds / max(factor_flops, 1.0)
        self._rest_seconds = solver.solve_seconds if solver.solve_seconds is not None else 0.1 * solver.setup_seconds
        self._start()

    def learn_from(self, other: LowRankUpdater) -> None:
        """Take ``other``'s cost model (what its edits took here): for factors of the same grid
        made where their own timing says little (in a thread, beside edits).

        Parameters
        ----------
        other : LowRankUpdater
            The updater whose cost model is taken.
        """
        self._dense_rate, self._rest_seconds = other._dense_rate, other._rest_seconds

    def _start(self) -> None:
        """Forget every correction: the next one starts from ``base`` with a new block."""
        channels = self.base.shape[-1]
        self._block = InverseBlock(self.lu, channels)
        self._position = np.full(self.solver._free_mask.size, -1, np.int64)  # pixel -> its row in the block
        self._factors: _GrowingLU | None = None  # of the small system, while only held pixels grow it
        self._keys = np.zeros(0, np.int64)  # the held pixels it was factored for, in order
        nothing = np.zeros(0, np.int64), np.zeros((0, channels))
        self._applied = nothing  # the sparse right-hand side T that ``_free`` holds
        self._rhs = (nothing, nothing)  # the right-hand-side change the block's solution holds (_split)
        self._free = self.base  # x₀ + M⁻¹ T on the unknowns (before values are set in closed form)
        self._x = self.base  # the last result
        self._assigned = np.zeros(0, np.int64)  # the pixels it set in closed form
        self._bound = 0.0  # the error bound of ``_free``
        self._touched = _NOWHERE  # where ``_free`` may differ from ``base``

    def hold(
        self, held: np.ndarray, values: np.ndarray, rhs_change: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, dict]:
        """:meth:`solve` with no released pixels (cues added and recoloured only)."""
        return self.solve(held, values, rhs_change)

    def solve(
        self,
        held: np.ndarray,
        values: np.ndarray,
        rhs_change: tuple[np.ndarray, np.ndarray] | None = None,
        released: Released | None = None,
        residual: Callable[[np.ndarray], tuple[np.ndarray, float]] | None = None,
        limit: float | None = None,
    ) -> tuple[np.ndarray, dict]:
        """The solution with the unknowns at ``held`` (raster indices) held at ``values`` (``k×C``), the
        right-hand side changed by ``rhs_change``."""
        channels = self.base.shape[-1]
        held = np.asarray(held, np.int64)
        values = np.asarray(values, np.float64).reshape(len(held), channels)
        released_pixels, coupled, rows, needed, restart = self._block_for(held, values, rhs_change, released)
        predicted = self._predict(needed, coupled, len(released_pixels), restart)
        if limit is not None and predicted["seconds"] > limit:
            raise TooCostly(
                f"a low-rank correction is predicted to take {predicted['seconds']:.2f} s "
                f"({predicted['new']} new block pixels, {predicted['dense_flops'] / 1e9:.1f} GFlop of dense work), "
                f"a fresh solve {limit:.2f} s"
            )
        began = time.perf_counter()
        if restart:
            self._start()  # the block is full of pixels of earlier edits: start afresh
        (fixed_pixels, fixed_change), (free_pixels, free_change) = rhs = self._split(rhs_change)
        # The free block's right-hand side since the last call: the new change in, the held one out.
        step_pixels, step_change = _net(free_pixels, free_change, *self._rhs[1])
        self._block.add_to_rhs(step_pixels, step_change)
        new = np.unique(needed[self._position[needed] < 0])
        self._position[new] = np.arange(len(self._block.pixels), len(self._block.pixels) + len(new))
        dense_start = time.perf_counter()
        self._block.add(new)
        self._rhs = rhs
        flat_base = self.base.reshape(-1, channels)
        order = np.argsort(held)
        targets = values[order[np.searchsorted(held, coupled, sorter=order)]]
        multipliers, unknowns, small = self._small_system(coupled, targets - flat_base[coupled], rows, flat_base)
        dense_seconds = time.perf_counter() - dense_start
        # The sparse right-hand side T of the unknowns: Δb, the multipliers, −B y_R.
        total = (np.concatenate([free_pixels, coupled]), np.concatenate([free_change, multipliers]))
        if rows is not None:
            total = (
                np.concatenate([total[0], rows[0]]),
                np.concatenate([total[1], -(rows[1] @ unknowns)]),
            )
        total = _net(*total, np.zeros(0, np.int64), np.zeros((0, channels)))
        free_x, nodes, box, incremental, bound = self._corrected(total)
        # Pixels set in closed form: cues of the first solve recoloured (or released: overwritten
        # next), the released ones' own values, and the held ones.
        x = free_x.copy()
        flat = x.reshape(-1, channels)
        flat[fixed_pixels] = flat_base[fixed_pixels] + fixed_change
        if rows is not None:
            flat[rows[2]] = unknowns
        flat[held] = values
        assigned = np.concatenate([fixed_pixels, held, released_pixels])
        previous = self._x.reshape(-1, channels)
        every = np.unique(np.concatenate([assigned, self._assigned]))
        moved = every[np.any(flat[every] != previous[every], axis=1)]
        box = _union(box, _box_of(moved, x.shape[1]))
        changed = box if incremental else _union(box, self._touched)
        relative, refinements = None, 0
        if residual is not None:
            r, relative = residual(x)
            # The single-precision factors' rounding (and the left-out changes): refine, as the
            # direct solver does, a few times at most.
            while relative > self.refine_tol and refinements < self.max_refinements:
                box = _union(box, self._refine(x, r, relative, held, coupled, rows, small))
                r, relative = residual(x)
                refinements += 1
        x.flags.writeable = False
        self._touched = _union(self._touched, box)
        self._free, self._x, self._assigned, self._bound = free_x, x, assigned, bound
        self._learn(predicted, dense_seconds, time.perf_counter() - began)
        return x, {
            "held": len(held),
            "released": len(released_pixels),
            "block": len(coupled) + len(released_pixels),
            "correction": "incremental" if incremental else "full",
            "nodes": nodes,
            "nodes_total": len(self.lu.tree.parent),
            "bound": bound,
            "residual": relative,
            "refinements": refinements,
            "predicted_seconds": predicted["seconds"],
            "box": changed,
        }

    def _block_for(self, held, values, rhs_change, released):
        """The edit checked, and what its small system needs: the released pixels, the held ones
        coupled to unknowns, the released rows, the block pixels needed and whether to restart."""
        free = self.solver._free_mask.ravel()
        if not np.all(free[held]):
            raise ValueError("held pixels must be unknowns of the factored system, not its cue pixels")
        released_pixels = np.zeros(0, np.int64) if released is None else np.asarray(released.pixels, np.int64)
        if np.any(free[released_pixels]):
            raise ValueError("released pixels must be cue pixels of the factored system")
        coupled = self._coupled(held)
        if len(coupled) + len(released_pixels) > self.max_block:  # before the released rows' dense blocks
            raise ValueError(f"more than {self.max_block} held pixels coupled to unknowns and released pixels")
        rows = (
            self._released_rows(released, held, values, rhs_change)
            if released is not None and len(released_pixels)
            else None
        )
        near = np.zeros(0, np.int64) if rows is None else rows[0]
        needed = np.concatenate([coupled, near])
        if len(needed) > self.max_block:
            raise ValueError(f"more than {self.max_block} held pixels or unknowns next to released ones")
        restart = np.count_nonzero(self._position[needed] < 0) + len(self._block.pixels) > self.max_block
        return released_pixels, coupled, rows, needed, restart

    def _corrected(self, total):
        """The unknowns corrected for the sparse right-hand side ``total``: from the last result
        while the error bounds allow, else from ``base``; with the nodes, box, mode and bound."""
        step_pixels, step = _net(*total, *self._applied)
        incremental = self._free is not self.base
        if incremental:
            # Leave out the smallest steps at block pixels while their summed bound stays under ``tiny``.
            at = self._position[step_pixels]
            in_block = np.flatnonzero(at >= 0)
            effect = np.abs(step[in_block]).max(axis=1, initial=0.0) * np.abs(np.diag(self._block.block)[at[in_block]])
            order = np.argsort(effect)
            left_out = in_block[order[: np.searchsorted(np.cumsum(effect[order]), self.tiny, side="right")]]
            taken = np.ones(len(step_pixels), bool)
            taken[left_out] = False
            bound = self._bound + self.tiny + np.abs(effect[np.isin(in_block, left_out)]).sum()
            incremental = bound <= self.budget
        if incremental:
            free_x, nodes, box = self._correct(self._free, step_pixels[taken], step[taken])
            self._applied = _net(*total, step_pixels[~taken], step[~taken])
        else:
            free_x, nodes, box = self._correct(self.base, *total)
            self._applied = total
            bound = self.tiny
        free_x.flags.writeable = False  # the next correction starts from it
        return free_x, nodes, box, incremental, bound

    def _predict(self, needed, coupled, released: int, restart: bool) -> dict:
        """The predicted seconds of an edit (:meth:`solve`), its dense work and new block pixels."""
        if restart:
            new, block = np.unique(needed), InverseBlock(self.lu, self.base.shape[-1])
        else:
            new, block = np.unique(needed[self._position[needed] < 0]), self._block
        k = float(len(coupled) + released)
        if released or restart or self._factors is None:
            small = 2.0 / 3.0 * k**3
        else:  # the held pixels' factors grow by the new ones
            m = float(np.count_nonzero(~np.isin(coupled, self._keys)))
            small = 2.0 * (k - m) ** 2 * m + 2.0 / 3.0 * m**3
        dense = block.cost(new) + small
        return {
            "seconds": dense * self._dense_rate + self._rest_seconds,
            "dense_flops": dense,
            "new": len(new),
        }

    def _learn(self, predicted: dict, dense_seconds: float, seconds: float) -> None:
        """Move the cost model toward what this edit took."""
        if predicted["dense_flops"] > 1e8:  # below, the time is overheads, not the rate
            rate = min(dense_seconds / predicted["dense_flops"], 2.0 * self._dense_rate)
            self._dense_rate = 0.5 * (self._dense_rate + rate)
        rest = min(max(seconds - dense_seconds, 0.0), 2.0 * self._rest_seconds)
        self._rest_seconds = 0.5 * (self._rest_seconds + rest)

    def _refine(self, x, r, relative, held, coupled, rows, small) -> tuple[slice, slice]:
        """Add to ``x`` (in place) the correction for the residual ``r`` (relative norm ``relative``) of the
        new system: the same correction as an edit's."""
        channels = x.shape[-1]
        lu, free = self.lu, self.solver._free_mask.ravel()
        flat_r = np.where(free[:, None], r.reshape(-1, channels), 0.0)
        flat_r[held] = 0.0
        size = np.abs(flat_r).max(axis=1)
        norm = float(np.sqrt(np.einsum("ij,ij->", flat_r, flat_r)))
        drop = 0.1 * self.refine_tol * norm / max(relative, 1e-300) / np.sqrt(len(size))
        support = np.flatnonzero(size > drop)
        found = {}

        def between(forward):
            at = self._block.values_at(forward)  # M⁻¹ r at the block's pixels
            at_h = -at[self._position[coupled]]
            if rows is None:
                multipliers = np.zeros((0, channels)) if small is None else small(at_h, None)[0]
                return coupled, multipliers
            near, coupling, released_at, own, _ = rows
            multipliers, found["unknowns"] = small(
                at_h, r.reshape(-1, channels)[released_at] - own[1] @ at[self._position[near]]
            )
            return np.concatenate([coupled, near]), np.concatenate([multipliers, -(coupling @ found["unknowns"])])

        delta, _, (top, bottom, left, right) = lu.solve_local(support, flat_r[support], self.tiny * 1e-4, between)
        box = (slice(top, max(top, bottom)), slice(left, max(left, right)))
        flat = x.reshape(-1, channels)
        keep = free.copy()
        keep[held] = False
        flat[keep] += delta.T[keep]
        if rows is not None:
            flat[rows[2]] += found["unknowns"]
            box = _union(box, _box_of(rows[2], x.shape[1]))
        return box

    def _small_system(self, coupled, held_rhs, rows, flat_base):
        """The multipliers at the ``coupled`` held pixels and the released pixels' values: the Schur
        complement ``[[G_HH, −G_HN B], [D G_NH, A_RR − D G_NN B]]``."""
        channels = held_rhs.shape[1]
        block, solution = self._block.block, self._block.solution
        h = self._position[coupled]
        g_h = held_rhs - solution[h]
        if rows is None:
            if not len(coupled):
                return np.zeros((0, channels)), None, None
            # Only held pixels: grow the factors while the earlier ones stay (strokes added).
            earlier = np.isin(coupled, self._keys)
            if self._factors is None or np.count_nonzero(earlier) != len(self._keys):
                self._factors, self._keys = _GrowingLU(), np.zeros(0, np.int64)
                earlier[:] = False
            keys = np.concatenate([self._keys, coupled[~earlier]])  # the factored order
            permutation = _lookup(coupled, keys)
            at = self._position[keys]
            old = len(self._keys)
            if len(keys) > old:
                self._factors.grow(
                    block[np.ix_(at[:old], at[old:])],
                    block[np.ix_(at[old:], at[:old])],
                    block[np.ix_(at[old:], at[old:])],
                )
            self._keys = keys
            factors = self._factors

            def small(held_rhs, _):
                multipliers = np.empty_like(held_rhs)
                multipliers[permutation] = factors.solve(held_rhs[permutation])
                return multipliers, None

            return *small(g_h, None), small
        self._factors, self._keys = None, np.zeros(0, np.int64)
        near, coupling, released_at, own, beta = rows
        n = self._position[near]
        g_n = flat_base[near] + solution[n]
        k_h = len(coupled)
        system = np.empty((k_h + len(released_at),) * 2)
        system[:k_h, :k_h] = block[np.ix_(h, h)]
        system[:k_h, k_h:] = -block[np.ix_(h, n)] @ coupling
        system[k_h:, :k_h] = own[1] @ block[np.ix_(n, h)]
        system[k_h:, k_h:] = own[0] - own[1] @ block[np.ix_(n, n)] @ coupling
        factors = lu_factor(system, check_finite=False)

        def small(held_rhs, released_rhs):
            answer = lu_solve(factors, np.concatenate([held_rhs, released_rhs]), check_finite=False)
            return answer[:k_h], answer[k_h:]

        return *small(g_h, beta - own[1] @ g_n), small

    def _released_rows(self, released: Released, held, values, rhs_change):
        """The released pixels' rows, split: the unknowns ``N`` next to them (not held), ``B`` (``A[N, R]``,
        ``|N|×|R|``), the released pixels, ``(A_RR, D = A[R, N])`` and ``β``."""
        solver, channels = self.solver, self.base.shape[-1]
        shape = solver._free_mask.shape
        width = shape[1]
        pixels = np.asarray(released.pixels, np.int64)
        top, left = released.window[0].start, released.window[1].start
        window_width = released.window[1].stop - left
        stencil = released.stencil.reshape(-1, 9)
        rhs = released.rhs.reshape(-1, channels)

        def local(p):
            r, c = np.divmod(p, width)
            return (r - top) * window_width + (c - left)

        free = solver._free_mask.ravel()
        order = np.argsort(held)
        held_sorted, held_values = held[order], values[order]
        now = self.base.reshape(-1, channels)  # cue values now: the first solve's, recoloured
        fixed_pixels, fixed_values = np.zeros(0, np.int64), np.zeros((0, channels))
        if rhs_change is not None:
            (fixed_pixels, fixed_change), _ = self._split(rhs_change)
            order = np.argsort(fixed_pixels)
            fixed_pixels, fixed_values = fixed_pixels[order], (now[fixed_pixels] + fixed_change)[order]
        own_rows = stencil[local(pixels)]
        count = len(pixels)
        a_rr = np.zeros((count, count))
        a_rr[np.arange(count), np.arange(count)] = own_rows[:, CENTRE]
        beta = rhs[local(pixels)].astype(np.float64)
        d_entries, nears = [], []  # (released index, neighbour pixel, entry); the unknowns next to them
        for k, index, neighbour in _neighbours(pixels, shape):
            other = _lookup(pixels, neighbour)
            holding = _lookup(held_sorted, neighbour)
            unknown = (other < 0) & free[neighbour] & (holding < 0)
            nears.append(neighbour[unknown])
            entry = own_rows[index, k]
            is_released = other >= 0
            a_rr[index[is_released], other[is_released]] += entry[is_released]
            d_entries.append((index[unknown], neighbour[unknown], entry[unknown]))
            # Held and cue neighbours: their values to the right-hand side.
            value = now[neighbour].copy()
            recoloured = _lookup(fixed_pixels, neighbour)
            value[recoloured >= 0] = fixed_values[recoloured[recoloured >= 0]]
            value[holding >= 0] = held_values[holding[holding >= 0]]
            fixed = ~is_released & ~unknown
            np.add.at(beta, index[fixed], -entry[fixed, None] * value[fixed])
        # Every unknown next to a released pixel (the stencil is 8-neighbour: its row and column
        # reach exactly these).
        near = np.unique(np.concatenate(nears))
        d = np.zeros((count, len(near)))
        for index, neighbour, entry in d_entries:
            np.add.at(d, (index, _lookup(near, neighbour)), entry)
        coupling = np.zeros((len(near), count))
        near_rows = stencil[local(near)]
        for k, index, neighbour in _neighbours(near, shape):
            other = _lookup(pixels, neighbour)
            keep = other >= 0
            np.add.at(coupling, (index[keep], other[keep]), near_rows[index[keep], k])
        return near, coupling, pixels, (a_rr, d), beta

    def _correct(self, start: np.ndarray, pixels: np.ndarray, values: np.ndarray):
        """``start + M⁻¹ b`` for ``b`` zero but at ``pixels`` (``values``), changes under
        ``tiny`` left out; with the nodes solved and the box of what changed."""
        x = start.copy()
        if not len(pixels):
            return x, 0, _NOWHERE
        delta, nodes, (top, bottom, left, right) = self.lu.solve_local(pixels, values, self.tiny)
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
        """The held pixels with an unknown neighbour that is not held: the others' values reach no row of
        ``M`` that is not held, so they need no multiplier."""
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
        fixed_values = change[~free] / self._diagonal[fixed_pixels][:, None]
        extra_pixels, extra_values = [pixels[free]], [change[free]]
        for index, neighbour, coupling in solver._couplings(fixed_pixels):
            extra_pixels.append(neighbour)
            extra_values.append(-coupling * fixed_values[index])
        return (fixed_pixels, fixed_values), _net(
            np.concatenate(extra_pixels), np.concatenate(extra_values), np.zeros(0, np.int64), np.zeros((0, channels))
        )


def _lookup(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Where each of ``queries`` is in ``keys`` (distinct), −1 where it is not there."""
    if not len(keys):
        return np.full(len(queries), -1, np.int64)
    order = np.argsort(keys, kind="stable")
    at = np.minimum(np.searchsorted(keys, queries, sorter=order), len(keys) - 1)
    found = order[at]
    return np.where(keys[found] == queries, found, -1)
