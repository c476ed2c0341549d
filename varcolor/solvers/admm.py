"""ADMM for bilaplacian-gtv (:mod:`varcolor.energies.bilaplacian_gtv`): over-relaxed,
preconditioned ADMM on the edge differences z = D u.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

from ..common.kernels import array_code
from ..common.neighbours import EDGE_OFFSETS, edge_slices
from ..errors import ConvergenceWarning, tell
from .amg import SymmetricHierarchy
from .device import backend, to_host
from .multigrid import GridMultigrid
from .stencil import graph_laplacian

__all__ = ["AdmmState", "minimize", "runs_array_code", "laplacian", "differences"]

# Iterations at which the ADMM penalty may be rebalanced.
_BALANCE_AT = frozenset(10 * 2**k for k in range(10))
# Over-relaxation of the z- and y-steps (Boyd et al. 2011, §3.4.3; convergent below 2)
# (docs/guide/methods.md, "bilaplacian-gtv in detail").
_RELAXATION = 1.9
# ADMM's edge variables z, y and the edge weights in single precision: four numbers per pixel and
# channel that the z- and y-steps stream every iteration; float32's 6e-8 lies far below the tolerances.
_EDGE_DTYPE = np.float32


@dataclass
class AdmmState:
    """ADMM's edge variables (z, scaled dual y) and penalty ρ where a solve stopped."""

    z: object = None
    y: object = None
    rho: float | None = None
    iterations: int = 0
    #: The kind of grid that left ``z`` and ``y`` (``_NumbaGrid.name`` or ``_ArrayGrid.name``): their layouts differ.
    grid: str | None = None


@numba.njit(cache=True, parallel=True)
def _divergences(z, y, rhs_fixed, rho, divergence_z, rhs, au, fixed):
    """:meth:`_NumbaGrid.divergences` in one pass (``Dᵀ z``: minus the differences leaving each
    pixel plus those arriving at it)."""
    height, width, _, channels = z.shape
    dual = y_norm = 0.0
    for i in numba.prange(height):
        for j in range(width):
            for c in range(channels):
                dz = dy = 0.0
                for e in range(4):
                    dz -= z[i, j, e, c]
                    dy -= y[i, j, e, c]
                    ii, jj = i - EDGE_OFFSETS[e, 0], j - EDGE_OFFSETS[e, 1]
                    if 0 <= ii < height and 0 <= jj < width:
                        dz += z[ii, jj, e, c]
                        dy += y[ii, jj, e, c]
                left = 0.0 if fixed[i, j] else rhs[i, j, c] - au[i, j, c]
                change = left + rho * (dz - divergence_z[i, j, c])
                dual += change * change
                y_norm += dy * dy
                divergence_z[i, j, c] = dz
                rhs[i, j, c] = rhs_fixed[i, j, c] + rho * (dz - dy)
    return dual, rho * rho * y_norm


@numba.njit(cache=True, parallel=True)
def _free_difference(a, b, fixed, out):
    height, width, channels = a.shape
    for i in numba.prange(height):
        for j in range(width):
            for c in range(channels):
                out[i, j, c] = 0.0 if fixed[i, j] else a[i, j, c] - b[i, j, c]


@numba.njit(cache=True, parallel=True)
def _add_free(u, correction, scale, fixed):
    height, width, channels = u.shape
    for i in numba.prange(height):
        for j in range(width):
            if not fixed[i, j]:
                for c in range(channels):
                    u[i, j, c] += scale * correction[i, j, c]


@numba.njit(cache=True, parallel=True)
def _differences(u, out):
    """``D u``: ``u_s − u_r`` on every edge (0 on edges that would leave the image)."""
    height, width, channels = u.shape
    for i in numba.prange(height):
        for j in range(width):
            for e in range(4):
                ii, jj = i + EDGE_OFFSETS[e, 0], j + EDGE_OFFSETS[e, 1]
                inside = 0 <= ii < height and 0 <= jj < width
                for c in range(channels):
                    out[i, j, e, c] = u[ii, jj, c] - u[i, j, c] if inside else 0.0


@numba.njit(cache=True, parallel=True)
def _z_and_y_steps(u, z, y, weights, threshold, relaxation):
    """ADMM's z-step (group soft-threshold of the relaxed differences) and y-step, in place.
    Returns ``‖D u − z‖², ‖D u‖², ‖z‖²``."""
    height, width = u.shape[:2]
    primal = du_norm = z_norm = 0.0
    for i in numba.prange(height):
        for j in range(width):
            for e in range(4):
                ii, jj = i + EDGE_OFFSETS[e, 0], j + EDGE_OFFSETS[e, 1]
                if not (0 <= ii < height and 0 <= jj < width):
                    continue
                d0, d1 = u[ii, jj, 0] - u[i, j, 0], u[ii, jj, 1] - u[i, j, 1]
                v0 = relaxation * d0 + (1.0 - relaxation) * z[i, j, e, 0] + y[i, j, e, 0]
                v1 = relaxation * d1 + (1.0 - relaxation) * z[i, j, e, 1] + y[i, j, e, 1]
                norm = math.sqrt(v0 * v0 + v1 * v1)
                keep = max(0.0, 1.0 - threshold * weights[i, j, e] / norm) if norm > 0.0 else 0.0
                z0, z1 = keep * v0, keep * v1
                z[i, j, e, 0], z[i, j, e, 1] = z0, z1
                y[i, j, e, 0], y[i, j, e, 1] = v0 - z0, v1 - z1
                primal += (d0 - z0) ** 2 + (d1 - z1) ** 2
                du_norm += d0 * d0 + d1 * d1
                z_norm += z0 * z0 + z1 * z1
    return primal, du_norm, z_norm


@numba.njit(cache=True, parallel=True)
def _laplacian(x, out):
    """``−Δ x`` with the 5-point stencil and Neumann ends (``GᵀG x``)."""
    height, width, channels = x.shape
    for i in numba.prange(height):
        for j in range(width):
            for c in range(channels):
                acc = 0.0
                if i > 0:
                    acc += x[i, j, c] - x[i - 1, j, c]
                if i < height - 1:
                    acc += x[i, j, c] - x[i + 1, j, c]
                if j > 0:
                    acc += x[i, j, c] - x[i, j - 1, c]
                if j < width - 1:
                    acc += x[i, j, c] - x[i, j + 1, c]
                out[i, j, c] = acc


@numba.njit(cache=True, inline="always")
def _laplacian_at(x, i, j, c):
    """``−Δ x`` at one pixel (5-point stencil, Neumann ends)."""
    height, width = x.shape[:2]
    centre, acc = x[i, j, c], 0.0
    if i > 0:
        acc += centre - x[i - 1, j, c]
    if i < height - 1:
        acc += centre - x[i + 1, j, c]
    if j > 0:
        acc += centre - x[i, j - 1, c]
    if j < width - 1:
        acc += centre - x[i, j + 1, c]
    return acc


@numba.njit(cache=True, parallel=True)
def _u_operator(x, lam, rho, diagonal, fixed, out):
    """The u-step matrix ``λ Δ² + ρ DᵀD + diag`` applied to ``x`` in one pass (no ``−Δ x`` array
    written and read back); rows of ``fixed`` pixels are 0."""
    height, width, channels = x.shape
    for i in numba.prange(height):
        for j in range(width):
            if fixed[i, j]:
                for c in range(channels):
                    out[i, j, c] = 0.0
                continue
            # Two pixels from every side (most pixels): Δ² is the 13-point stencil, no bounds to check.
            deep = 1 < i < height - 2 and 1 < j < width - 2
            for c in range(channels):
                centre = x[i, j, c]
                if deep:
                    sides = x[i - 1, j, c] + x[i + 1, j, c] + x[i, j - 1, c] + x[i, j + 1, c]
                    corners = x[i - 1, j - 1, c] + x[i - 1, j + 1, c] + x[i + 1, j - 1, c] + x[i + 1, j + 1, c]
                    far = x[i - 2, j, c] + x[i + 2, j, c] + x[i, j - 2, c] + x[i, j + 2, c]
                    bilaplacian = 20.0 * centre - 8.0 * sides + 2.0 * corners + far
                    edges = 8.0 * centre - sides - corners
                else:
                    own = _laplacian_at(x, i, j, c)
                    bilaplacian = edges = 0.0
                    for di in range(-1, 2):
                        for dj in range(-1, 2):
                            ii, jj = i + di, j + dj
                            if (di != 0 or dj != 0) and 0 <= ii < height and 0 <= jj < width:
                                edges += centre - x[ii, jj, c]
                                if di == 0 or dj == 0:
                                    bilaplacian += own - _laplacian_at(x, ii, jj, c)
                out[i, j, c] = lam * bilaplacian + rho * edges + diagonal[i, j] * centre


class _NumbaGrid:
    """The ADMM's grid operations on the CPU: numba kernels, the grid multigrid. Its arrays are the
    host's: ``u`` is ``H×W×C``, the edge variables ``H×W×4×C`` (float32: :data:`_EDGE_DTYPE`)."""

    name = "numba"
    xp = np
    edge_dtype = _EDGE_DTYPE

    def asarray(self, array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array)

    def to_host(self, array: np.ndarray) -> np.ndarray:
        return array

    def edges(self, array: np.ndarray) -> np.ndarray:
        """Edge variables given as the host's ``H×W×4×C`` in this grid's layout."""
        return np.ascontiguousarray(array, self.edge_dtype)

    def edges_to_host(self, array: np.ndarray) -> np.ndarray:
        return array

    def edge_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The edge variables' shape for an ``H×W×C`` image's."""
        return tuple(shape[:2]) + (4,) + tuple(shape[2:])

    def differences(self, u: np.ndarray) -> np.ndarray:
        out = np.empty(self.edge_shape(u.shape))
        _differences(u, out)
        return out

    def divergences(self, z, y, rhs_fixed, rho: float, divergence_z, rhs, au, fixed) -> tuple[float, float]:
        """After the z- and y-steps: ``‖left + ρ Dᵀ(z − z_old)‖²`` (the dual residual; ``left`` = ``rhs −
        au`` at the free pixels, what the u-step left unsolved) and ``‖ρ Dᵀ y‖²``; in place."""
        return _divergences(z, y, rhs_fixed, rho, divergence_z, rhs, au, fixed)

    def free_difference(self, a, b, fixed):
        """``a − b``, 0 at the ``fixed`` pixels."""
        out = np.empty_like(a)
        _free_difference(a, b, fixed, out)
        return out

    def add_free(self, u, correction, scale: float, fixed) -> None:
        """``u += scale · correction`` at the free pixels."""
        _add_free(u, correction, scale, fixed)

    def z_and_y_steps(self, u, z, y, weights, threshold: float, relaxation: float) -> tuple[float, float, float]:
        return _z_and_y_steps(u, z, y, weights, threshold, relaxation)

    def u_operator(self, x, lam: float, rho: float, diagonal, fixed) -> np.ndarray:
        out = np.empty_like(x)
        _u_operator(x, lam, rho, diagonal, fixed, out)
        return out

    def preconditioner(self, rho: float, diagonal: np.ndarray, fixed: np.ndarray):
        """A symmetric V-cycle of ``ρ DᵀD + diag`` on the free pixels (rows of ``fixed``: the identity's)."""
        nothing = np.zeros(diagonal.shape + (1,))
        operator, _ = graph_laplacian(np.full(diagonal.shape + (4,), rho), fixed, nothing, diagonal, nothing)
        return GridMultigrid(operator, fixed).vcycle


class _ArrayGrid:
    """The same operations as :class:`_NumbaGrid` in plain array code: on CuPy arrays (a GPU), or on NumPy
    ones for a small photo whose kernels are not compiled (:func:`runs_array_code`)."""

    name = "array"

    def __init__(self, device_backend, edge_dtype=_EDGE_DTYPE):
        self.backend = device_backend
        self.xp = device_backend.xp
        self.edge_dtype = edge_dtype

    def asarray(self, array: np.ndarray):
        """A host array on the device; ``H×W×C`` becomes ``C×H×W``."""
        array = self.backend.asarray(array)
        return self.xp.ascontiguousarray(self.xp.moveaxis(array, -1, 0)) if array.ndim == 3 else array

    def to_host(self, array) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(to_host(array, self.xp), 0, -1))

    def edges(self, array: np.ndarray):
        """Edge variables given as the host's ``H×W×4×C``, as ``4×C×H×W``."""
        moved = self.xp.transpose(self.backend.asarray(array), (2, 3, 0, 1))
        return self.xp.ascontiguousarray(moved, dtype=self.edge_dtype)

    def edges_to_host(self, array) -> np.ndarray:
        return np.ascontiguousarray(np.transpose(to_host(array, self.xp), (2, 3, 0, 1)))

    def edge_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The edge variables' shape for an ``H×W×C`` image's."""
        return (4, shape[2], shape[0], shape[1])

    def differences(self, u):
        out = self.xp.zeros((4,) + tuple(u.shape), u.dtype)
        for e, r, s in edge_slices(*u.shape[1:]):
            self.xp.subtract(u[(slice(None),) + s], u[(slice(None),) + r], out=out[(e, slice(None)) + r])
        return out

    def _divergence(self, z):
        """``Dᵀ z`` (``C×H×W``, double precision)."""
        out = -z.sum(axis=0, dtype=np.float64)
        for e, r, s in edge_slices(*z.shape[2:]):
            out[(slice(None),) + s] += z[(e, slice(None)) + r]
        return out

    def _squares(self, array) -> float:
        flat = array.ravel()
        return float(self.xp.vdot(flat, flat))

    def divergences(self, z, y, rhs_fixed, rho, divergence_z, rhs, au, fixed):
        xp = self.xp
        dz, dy = self._divergence(z), self._divergence(y)
        change = xp.where(fixed, 0.0, rhs - au)
        change += rho * (dz - divergence_z)
        divergence_z[...] = dz
        xp.subtract(dz, dy, out=rhs)
        rhs *= rho
        rhs += rhs_fixed
        return self._squares(change), rho * rho * self._squares(dy)

    def free_difference(self, a, b, fixed):
        return self.xp.where(fixed, 0.0, a - b)

    def add_free(self, u, correction, scale, fixed):
        u += self.xp.where(fixed, 0.0, scale * correction)

    def z_and_y_steps(self, u, z, y, weights, threshold, relaxation):
        xp = self.xp
        d = self.differences(u)
        v = relaxation * d
        v += (1.0 - relaxation) * z
        v += y
        norm = xp.sqrt(xp.sum(v * v, axis=1))
        keep = xp.where(norm > 0, 1.0 - threshold * weights / xp.where(norm > 0, norm, 1.0), 0.0)
        xp.maximum(keep, 0.0, out=keep)
        xp.multiply(v, keep[:, None], out=z)
        xp.subtract(v, z, out=y)
        du2 = self._squares(d)
        d -= z
        return self._squares(d), du2, self._squares(z)

    def laplacian(self, x):
        """``−Δ x`` (``C×H×W``), 5-point, Neumann ends."""
        out = self.xp.zeros_like(x)
        for axis in (1, 2):
            step = self.xp.diff(x, axis=axis)
            lower = (slice(None),) * axis + (slice(0, -1),)
            upper = (slice(None),) * axis + (slice(1, None),)
            out[lower] -= step
            out[upper] += step
        return out

    def u_operator(self, x, lam, rho, diagonal, fixed):
        edges = self.xp.zeros_like(x)  # DᵀD x with unit weights
        for _, r, s in edge_slices(*x.shape[1:]):
            r, s = (slice(None),) + r, (slice(None),) + s
            step = x[s] - x[r]
            edges[r] -= step
            edges[s] += step
        out = lam * self.laplacian(self.laplacian(x)) + rho * edges + diagonal * x
        return self.xp.where(fixed, 0.0, out)

    def preconditioner(self, rho: float, diagonal: np.ndarray, fixed: np.ndarray):
        hierarchy = SymmetricHierarchy(_nine_point_matrix(rho, diagonal, fixed), device=self.backend)
        xp = self.xp

        def precondition(r):
            channels = r.shape[0]
            solved = hierarchy.precondition(xp.ascontiguousarray(r.reshape(channels, -1).T))
            return xp.ascontiguousarray(solved.T).reshape(r.shape)

        return precondition


def _nine_point_matrix(rho: float, diagonal: np.ndarray, fixed: np.ndarray) -> sp.csr_matrix:
    """``ρ DᵀD + diag`` on the free pixels as a sparse matrix (rows of ``fixed`` are the identity's, and the
    free rows' couplings to them are left out), by array code: no kernel to compile."""
    height, width = diagonal.shape
    index = np.arange(height * width).reshape(height, width)
    first = np.concatenate([index[r].ravel() for _, r, _ in edge_slices(height, width)])
    second = np.concatenate([index[s].ravel() for _, _, s in edge_slices(height, width)])
    free = ~fixed.ravel()
    degree = np.bincount(np.concatenate([first, second]), minlength=index.size).astype(np.float64)
    coupled = free[first] & free[second]
    rows = np.concatenate([first[coupled], second[coupled], index.ravel()])
    cols = np.concatenate([second[coupled], first[coupled], index.ravel()])
    centre = np.where(free, rho * degree + diagonal.ravel(), 1.0)
    values = np.concatenate([np.full(2 * int(coupled.sum()), -rho), centre])
    return sp.csr_matrix((values, (rows, cols)), shape=(index.size, index.size))


def runs_array_code(device: str, shape: tuple[int, int]) -> bool:
    """Whether a solve on ``device`` of an image of ``shape`` runs :class:`_ArrayGrid` on NumPy: a small
    photo on the CPU whose ADMM kernels are not compiled.

    Parameters
    ----------
    device : str
        ``"cpu"`` or a GPU's (``"cuda"``).
    shape : tuple of int
        The image's ``(H, W)``.
    """
    return device == "cpu" and array_code(shape[0] * shape[1], "bilaplacian-gtv")


def array_grid() -> _ArrayGrid:
    """The array code's grid on the CPU: NumPy, SciPy's sparse products, no kernel. Its edge
    variables in double precision: NumPy casts mixed precisions, and small photos' memory is no concern."""
    return _ArrayGrid(backend("cpu", kernels=False), np.float64)


def _grid(device: str, shape: tuple[int, int]):
    if runs_array_code(device, shape):
        return array_grid()
    return _NumbaGrid() if device == "cpu" else _ArrayGrid(backend(device))


class _UStep:
    """The u-step for penalty ``rho``, linearized (preconditioned ADMM; Bredies and Sun, 2015): u moves
    once by ``M⁻¹ (b − A u)``, ``M⁻¹`` a scaled multigrid V-cycle with ``M ⪰ A``, so ADMM converges
    (docs/guide/methods.md, "bilaplacian-gtv in detail", "Solver")."""

    def __init__(self, grid, lam: float, rho: float, diagonal: np.ndarray, fixed: np.ndarray, unit=None):
        self.grid, self.lam, self.rho = grid, lam, rho
        self.scale = 1.0 / (1.0 + 8.0 * lam / rho)
        if unit is None:
            self.precondition = grid.preconditioner(rho, diagonal, fixed)
        else:
            self.precondition, self.scale = unit, self.scale / rho
        self.diagonal, self.fixed = grid.asarray(diagonal), grid.asarray(fixed)

    def apply(self, u):
        """``A u`` at the free pixels, 0 at the fixed ones (whose values ``u`` holds)."""
        return self.grid.u_operator(u, self.lam, self.rho, self.diagonal, self.fixed)

    def step(self, rhs, u, au):
        """Move ``u`` (in place; ``au`` = ``A u``) for the subproblem with right-hand side ``rhs``;
        returns the new ``A u``."""
        grid = self.grid
        grid.add_free(u, self.precondition(grid.free_difference(rhs, au, self.fixed)), self.scale, self.fixed)
        return self.apply(u)


def minimize(device, u, weights, params, diagonal, fixed, rhs_fixed, info, progress=None, state=None, *, warn=True):
    """ADMM on ``device`` from ``u`` (host arrays in and out; the iterations run on ``device``), and from
    ``state``'s z, y and ρ where it has them for this image."""
    grid = _grid(device, u.shape[:2])
    xp = grid.xp
    # Where the same kind of grid left them (a background compile may have made the kernels
    # arrive between two solves: the array code's variables are laid out otherwise).
    resume = (
        state is not None
        and state.z is not None
        and state.grid == grid.name
        and state.z.shape == grid.edge_shape(u.shape)
    )
    rho = state.rho if resume else params.rho
    done = state.iterations if resume else 0
    unit = None if diagonal.any() else grid.preconditioner(1.0, diagonal, fixed)
    step = _UStep(grid, params.lam, rho, diagonal, fixed, unit)
    host_shape = u.shape
    u, rhs_fixed = grid.asarray(u), grid.asarray(rhs_fixed)
    weights = grid.asarray(weights.astype(grid.edge_dtype))
    au = step.apply(u)
    z, y = (
        (state.z, state.y)
        if resume
        else (grid.differences(u).astype(grid.edge_dtype), xp.zeros(grid.edge_shape(host_shape), grid.edge_dtype))
    )
    divergence_z, rhs = xp.zeros_like(u), au.copy()
    grid.divergences(z, y, rhs_fixed, rho, divergence_z, rhs, au, step.fixed)
    # Absolute floors of 1e-3 ab units per entry under the relative tolerances (Boyd et al. §3.3.1).
    primal_floor, dual_floor = 1e-3 * np.sqrt(z.size), 1e-3 * np.sqrt(u.size)
    for iteration in range(1, params.maxiter + 1):
        au = step.step(rhs, u, au)
        primal2, du2, z2 = grid.z_and_y_steps(u, z, y, weights, params.mu / rho, _RELAXATION)
        # The dual residual: the change of z, and what the linearized u-step left unsolved.
        dual2, y_divergence2 = grid.divergences(z, y, rhs_fixed, rho, divergence_z, rhs, au, step.fixed)
        primal_scale = max(np.sqrt(du2), np.sqrt(z2), primal_floor)
        info.update(
            iterations=iteration,
            primal_residual=np.sqrt(primal2) / primal_scale,
            dual_residual=np.sqrt(dual2) / max(np.sqrt(y_divergence2), dual_floor),
        )
        if progress is not None:
            progress(dict(info, maxiter=params.maxiter))
        if info["primal_residual"] <= params.tol and info["dual_residual"] <= params.tol:
            info["converged"] = True
            break
        # Residual balancing (Boyd et al. §3.4.1) at iterations 10, 20, 40, 80, …: a change of the
        # penalty may rebuild the u-step's multigrid, so they become rarer as the iterate settles.
        ratio = info["primal_residual"] / max(info["dual_residual"], 1e-300)
        if done + iteration in _BALANCE_AT and not 0.1 <= ratio <= 10:
            factor = 2.0 if info["primal_residual"] > info["dual_residual"] else 0.5
            rho *= factor
            y /= factor
            step = _UStep(grid, params.lam, rho, diagonal, fixed, unit)
            au = step.apply(u)
            rhs[...] = au  # nothing left unsolved to report: only the right-hand side is wanted
            grid.divergences(z, y, rhs_fixed, rho, divergence_z, rhs, au, step.fixed)
    else:
        info["converged"] = False
    if warn and not info["converged"]:
        tell(
            f"bilaplacian-gtv: ADMM stopped after {params.maxiter} iterations at relative residuals "
            f"{info['primal_residual']:.1e} (primal), {info['dual_residual']:.1e} (dual)",
            ConvergenceWarning,
            stacklevel=3,
        )
    if state is not None:
        state.z, state.y, state.rho, state.iterations = z, y, rho, done + info["iterations"]
        state.grid = grid.name
    return grid.to_host(u)


laplacian = _laplacian  # the 5-point Laplacian with Neumann ends, into ``out`` (numba kernel)
differences = _differences  # u_s − u_r on the four forward edge directions, into ``out`` (numba kernel)
