"""Levin's system in space and time, over a window of consecutive frames of one shot.

Each pixel r of frame t is coupled to its 8 neighbours in t and, through the motion
(:mod:`varcolor.video.flow`), to the 3×3 pixels around where it goes in frame t+1 and where it
came from in frame t−1; every weight is ``exp(−(Y_r − Y_s)² / σ_r²)`` with the still method's
σ_r (:func:`varcolor.common.affinity.scale_at`), temporal ones times ``temporal``, and a row's weights sum
to 1 (Levin, Lischinski & Weiss 2004, section 3)::

    (1 + β c_r) u_r − Σ_{s ∈ N(r)} w_rs u_s = β c_r p_r,      u_r = cue_r on cue pixels.

``β c p`` is a soft guess: the keyframes' cues carried along the flow, or the network's colours.
With one frame (or no trusted motion) a row is exactly the still system's
(:func:`varcolor.energies.levin.exact_operator`). A frame before the window whose chroma is
already known (the previous window's last output frame) enters as boundary values on the
right-hand side; a frame after the window is not coupled.

The window is solved by BiCGSTAB preconditioned by a forward block Gauss–Seidel sweep, each
frame's block solved by the ``direct`` solver's LU, reused by the next window where the frame's
rows do not change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from ..common.affinity import check_guide, fill_levin_weights, scale_at
from ..errors import ConvergenceWarning, InputError, tell
from ..solvers.direct import DirectSolver
from ..solvers.stencil import GridOperator

__all__ = ["FrameRows", "frame_rows", "WindowSystem", "TEMPORAL", "Diverged"]

#: How the window's Krylov solve is preconditioned: ``lu``, a forward block Gauss–Seidel sweep with
#: each frame's block solved by its LU; ``diagonal``, the rows' diagonal (enough where every frame
#: is coupled to the one before, which keeps the rows far from singular).
PRECONDITIONERS = ("lu", "diagonal")
#: Weight of a temporal neighbour relative to a spatial one of the same luminance difference.
TEMPORAL = 1.0
#: A window's relative residual above this is no answer (:class:`Diverged`): its frames are not written.
DIVERGED = 1.0


class Diverged(InputError):
    """A window's solve that ended further from its answer than it began (:data:`DIVERGED`)."""


@numba.njit(cache=True, parallel=True)
def _rows(
    guide, mask, prior_weight, prev_guide, prev_target, next_guide, next_target, temporal, spatial, back, ahead, trust
):
    height, width = guide.shape
    has_prev = prev_target.shape[0] == height
    has_next = next_target.shape[0] == height
    trusted = trust.shape[1] == height  # (each side's: 2×H×W, or none)
    for i in numba.prange(height):
        row = np.empty(9)
        for j in range(width):
            for k in range(9):
                back[i, j, k] = 0.0
                ahead[i, j, k] = 0.0
            if mask[i, j]:
                for k in range(9):
                    spatial[i, j, k] = 0.0
                spatial[i, j, 4] = 1.0
                continue
            total = fill_levin_weights(guide, i, j, row)  # normalised row; the sum before normalisation
            csig = scale_at(guide, i, j)
            centre = guide[i, j]
            extra = 0.0
            for side in range(2):
                if side == 0 and not has_prev:
                    continue
                if side == 1 and not has_next:
                    continue
                q = prev_target[i, j] if side == 0 else next_target[i, j]
                if q < 0:
                    continue
                other = prev_guide if side == 0 else next_guide
                qi = q // width
                qj = q % width
                for k in range(9):
                    ii = qi + k // 3 - 1
                    jj = qj + k % 3 - 1
                    if 0 <= ii < height and 0 <= jj < width:
                        w = temporal * math.exp(-((other[ii, jj] - centre) ** 2) / csig)
                        if trusted:  # a neighbour's colour pulls as firmly as it is known
                            w *= trust[side, ii, jj]
                        if side == 0:
                            back[i, j, k] = w
                        else:
                            ahead[i, j, k] = w
                        extra += w
            if extra == 0.0:  # no temporal neighbour: exactly the still system's row
                for k in range(9):
                    spatial[i, j, k] = -row[k]
            else:
                whole = total + extra
                for k in range(9):
                    spatial[i, j, k] = -row[k] * total / whole
                    back[i, j, k] = -back[i, j, k] / whole
                    ahead[i, j, k] = -ahead[i, j, k] / whole
            spatial[i, j, 4] = 1.0 + prior_weight[i, j]


@numba.njit(cache=True, parallel=True)
def _add_temporal(coefficients, target, other, out):
    """``out += C x_other`` for the 3×3 temporal coefficients ``C`` around each pixel's target."""
    height, width, channels = out.shape
    for i in numba.prange(height):
        for j in range(width):
            q = target[i, j]
            if q < 0:
                continue
            qi = q // width
            qj = q % width
            for k in range(9):
                c = coefficients[i, j, k]
                if c != 0.0:  # zero outside the frame, so the index below is inside
                    ii = qi + k // 3 - 1
                    jj = qj + k % 3 - 1
                    for ch in range(channels):
                        out[i, j, ch] += c * other[ii, jj, ch]


_NONE = np.zeros((0, 0), np.int64)
_NO_GUIDE = np.zeros((0, 0))
_NO_TRUST = np.zeros((2, 0, 0))


@dataclass
class FrameRows:
    """One frame's rows of the space-time system."""

    spatial: GridOperator
    back: np.ndarray | None
    back_target: np.ndarray | None
    ahead: np.ndarray | None
    ahead_target: np.ndarray | None
    _solver: DirectSolver | None = None

    def preconditioner(self) -> DirectSolver:
        """The LU of the frame's own block (made at the first call, then kept)."""
        if self._solver is None:
            self._solver = DirectSolver(self.spatial, tol=1e-4)
        return self._solver

    def apply(self, x: np.ndarray, before: np.ndarray | None, after: np.ndarray | None) -> np.ndarray:
        """This frame's rows applied to the chroma of the frame, the one before and the one after."""
        out = self.spatial.apply(x)
        if self.back is not None and before is not None:
            _add_temporal(self.back, self.back_target, before, out)
        if self.ahead is not None and after is not None:
            _add_temporal(self.ahead, self.ahead_target, after, out)
        return out


def frame_rows(
    guide: np.ndarray,
    mask: np.ndarray,
    *,
    prior_weight: np.ndarray | None = None,
    before: tuple[np.ndarray, np.ndarray] | None = None,
    after: tuple[np.ndarray, np.ndarray] | None = None,
    temporal: float = TEMPORAL,
    trust: tuple[np.ndarray | None, np.ndarray | None] | None = None,
) -> FrameRows:
    """A frame's rows: ``before``/``after`` are (the neighbouring frame's guide, this frame's pixels'
    targets in it — :attr:`varcolor.video.flow.Motion.backward` / ``forward``), None at a shot's
    ends or a window's end.

    Examples
    --------
    >>> import numpy as np
    >>> from varcolor.energies.levin import exact_operator
    >>> guide, mask = np.random.default_rng(1).random((5, 6)), np.zeros((5, 6), bool)
    >>> rows = frame_rows(guide, mask)   # no neighbouring frame: the still system
    >>> still = exact_operator(guide, mask).stencil   # another kernel: equal up to rounding
    >>> bool(np.allclose(rows.spatial.stencil, still, rtol=1e-14, atol=1e-15))
    True
    """
    guide = check_guide(guide)
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    weight = np.zeros(guide.shape) if prior_weight is None else np.ascontiguousarray(prior_weight, dtype=np.float64)
    if mask.shape != guide.shape or weight.shape != guide.shape:
        raise InputError(f"mask and prior weight must match the frame's size {guide.shape}")
    if not (np.isfinite(temporal) and temporal >= 0):
        raise InputError(f"temporal must be a non-negative number, got {temporal}")
    prev_guide, prev_target = (_NO_GUIDE, _NONE) if before is None else _checked(before, guide.shape)
    next_guide, next_target = (_NO_GUIDE, _NONE) if after is None else _checked(after, guide.shape)
    spatial = np.empty(guide.shape + (9,))
    back, ahead = np.empty(guide.shape + (9,)), np.empty(guide.shape + (9,))
    trusts = _NO_TRUST
    if trust is not None:
        trusts = np.ones((2,) + guide.shape)
        for side, given in enumerate(trust):
            if given is not None:
                trusts[side] = given  # (a wrong shape: numpy's own error)
    _rows(
        guide, mask, weight, prev_guide, prev_target, next_guide, next_target, float(temporal), spatial, back, ahead,
        trusts,
    )  # fmt: skip
    return FrameRows(
        GridOperator(spatial),
        back if before is not None else None,
        prev_target if before is not None else None,
        ahead if after is not None else None,
        next_target if after is not None else None,
    )


def _checked(side: tuple[np.ndarray, np.ndarray], shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    other, target = check_guide(side[0]), np.ascontiguousarray(side[1], dtype=np.int64)
    if other.shape != shape or target.shape != shape:
        raise InputError(f"a neighbouring frame must have the frame's size {shape}")
    return other, target


class WindowSystem:
    """The space-time system of consecutive frames, with known chroma before the first.

    Examples
    --------
    >>> import numpy as np
    >>> guide = np.tile(np.linspace(0.3, 0.7, 8), (6, 1))
    >>> mask = np.zeros((6, 8), bool); mask[3, 1] = True
    >>> values = np.zeros((6, 8, 2)); values[3, 1] = (30.0, -10.0)
    >>> system = WindowSystem([frame_rows(guide, mask)], values[None])
    >>> u, info = system.solve()
    >>> bool(np.allclose(u[0], (30.0, -10.0)))   # one cue on a smooth ramp colours it all
    True
    """

    def __init__(
        self, rows: list[FrameRows], rhs: np.ndarray, before: np.ndarray | None = None, *, preconditioner: str = "lu"
    ):
        if preconditioner not in PRECONDITIONERS:
            raise InputError(f"unknown preconditioner {preconditioner!r}; available: {', '.join(PRECONDITIONERS)}")
        self.preconditioner = preconditioner
        self.rows = rows
        self.rhs = np.array(rhs, dtype=np.float64)
        if self.rhs.shape[0] != len(rows):
            raise InputError(f"{len(rows)} frames but right-hand sides for {self.rhs.shape[0]}")
        if before is not None and rows[0].back is not None:
            # The known frame's terms move to the right-hand side of the first frame's rows.
            coupling = np.zeros_like(self.rhs[0])
            _add_temporal(rows[0].back, rows[0].back_target, np.ascontiguousarray(before, dtype=np.float64), coupling)
            self.rhs[0] -= coupling

    def apply(self, x: np.ndarray) -> np.ndarray:
        """The window's operator applied to ``x`` (``T×H×W×C``)."""
        out = np.empty_like(x)
        count = len(self.rows)
        for t, rows in enumerate(self.rows):
            out[t] = rows.apply(x[t], x[t - 1] if t > 0 else None, x[t + 1] if t + 1 < count else None)
        return out

    def precondition(self, r: np.ndarray) -> np.ndarray:
        """Forward block Gauss–Seidel: frame by frame, each block solved by its LU with the frame
        before's correction on the right-hand side, so that one application carries a change
        through the whole window (block Jacobi needs an iteration per frame)."""
        if self.preconditioner == "diagonal":
            return np.stack([r[t] / rows.spatial.stencil[..., 4:5] for t, rows in enumerate(self.rows)])
        z = np.empty_like(r)
        for t, rows in enumerate(self.rows):
            rhs = r[t]
            if t > 0 and rows.back is not None:
                rhs = rhs.copy()
                coupling = np.zeros_like(rhs)
                _add_temporal(rows.back, rows.back_target, z[t - 1], coupling)
                rhs -= coupling
            z[t] = rows.preconditioner().solve(rhs)[0]
        return z

    def solve(self, x0: np.ndarray | None = None, *, tol: float = 1e-6, maxiter: int = 200) -> tuple[np.ndarray, dict]:
        """BiCGSTAB (right-preconditioned, each channel its own scalars) from ``x0``; returns the
        chroma ``T×H×W×C`` and a report (iterations, relative residual per channel). Raises
        :class:`InputError` on a breakdown or a non-finite iterate, :class:`Diverged` where the
        residual ends above :data:`DIVERGED`; warns
        (:class:`~varcolor.errors.ConvergenceWarning`) if ``maxiter`` is reached."""
        b = self.rhs
        axes = tuple(range(b.ndim - 1))
        b_norm = np.sqrt((b * b).sum(axis=axes))
        b_norm = np.where(b_norm > 0, b_norm, 1.0)
        x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=np.float64)
        r = b - self.apply(x)
        shadow = r.copy()
        rho = alpha = omega = np.ones(b.shape[-1])
        v = np.zeros_like(b)
        p = np.zeros_like(b)
        iterations = 0

        def dot(a, c):
            return (a * c).sum(axis=axes)

        residual = np.sqrt(dot(r, r)) / b_norm
        while iterations < maxiter and np.any(residual > tol):
            rho_new = dot(shadow, r)
            if np.any((rho_new == 0) & (residual > tol)):
                shadow, rho_new = r.copy(), dot(r, r)  # restart the shadow space on a breakdown
            beta = (rho_new / np.where(rho == 0, 1.0, rho)) * (alpha / np.where(omega == 0, 1.0, omega))
            p = r + beta * (p - omega * v)
            p_hat = self.precondition(p)
            v = self.apply(p_hat)
            denominator = dot(shadow, v)
            alpha = rho_new / np.where(denominator == 0, 1.0, denominator)
            s = r - alpha * v
            s_hat = self.precondition(s)
            t = self.apply(s_hat)
            tt = dot(t, t)
            omega = dot(t, s) / np.where(tt == 0, 1.0, tt)
            x += alpha * p_hat + omega * s_hat
            r = s - omega * t
            rho = rho_new
            iterations += 1
            residual = np.sqrt(dot(r, r)) / b_norm
            if not np.all(np.isfinite(residual)):
                raise InputError("the space-time solve broke down (non-finite values)")
        # The recurrence's residual drifts from the true one: report the true one.
        r = b - self.apply(x)
        residual = np.sqrt(dot(r, r)) / b_norm
        if np.any(residual > DIVERGED):  # worse than no answer at all: chroma in the billions came out
            raise Diverged(
                f"the space-time solve diverged (residual {residual.max():.1e} after {iterations} iterations)"
            )
        if np.any(residual > 10 * tol):
            tell(
                f"the space-time solve stopped at {iterations} iterations with residual {residual.max():.1e}",
                ConvergenceWarning,
                stacklevel=2,
            )
        return x, {"iterations": iterations, "residual": float(residual.max())}
