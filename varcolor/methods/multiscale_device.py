"""``levin-multiscale`` on a device (``device="cuda"``): the default engine's steps written once
against an array module ``xp`` (CuPy on a GPU; NumPy standing in for it in the tests,
:func:`numpy_device`), through :class:`~varcolor.solvers.device.ArrayBackend`.

1. **Coarse**: the cues averaged over blocks on the device
   (:func:`~varcolor.solvers.multiscale.coarse_cues`); Levin's exact system on the block grid
   built on the host (:func:`~varcolor.energies.levin.exact_operator`, a CSR matrix) and solved
   on the device: by BiCGSTAB to the options' ``tol`` (:func:`coarse_solve`), preconditioned
   by an aggregation multigrid built on the device (Jacobi steps between its levels:
   :mod:`varcolor.solvers.aggregation`), from the last solve's coarse chroma after an edit; with
   NumPy's arrays, by SciPy's sparse LU. The cues' reach scales it as the CPU engine's does
   (:meth:`~varcolor.methods.levin_multiscale.LevinMultiscale._restrained`).
2. **Lift**: the guided filter's coefficients on the block grid and the lift to full resolution on
   the device (:func:`~varcolor.solvers.multiscale.guided_coefficients`,
   :func:`~varcolor.solvers.multiscale.lift`), clipped to the coarse range; the cues written in.
3. **Correct**: Levin's exact system on the pixels within ``margin`` of the cues, every other
   pixel held at the lifted chroma (the cues at their values): the CPU engine's sweep of
   overlapping tiles in waves (:mod:`varcolor.solvers.schwarz`): the tiles of a wave do not touch
   and are solved as one system, so with the CPU's answer. Each system's rows are built on the host
   (``exact_operator(..., rows=band)``) and solved on the device by BiCGSTAB
   (Jacobi-preconditioned) to a relative residual of :data:`BAND_TOL`.

   Then, around each cue whose lifted value is off, the closed region of its lightness holding it
   (found on the host as the CPU engine finds it: :func:`closed_regions`), solved the same way
   with the band's answer held.
4. The chroma copied to the host, where the colorizer paints it as the CPU engine's.

What differs from the CPU engine: an edit is solved afresh, its coarse grid from the last solve's
(``info["full_solve"]`` says so: no low-rank or kept corrections). A solve with a prior runs the
CPU engine's path.
"""

from __future__ import annotations

import time
import types
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from ..affinity import check_guide
from ..energies import levin
from ..solvers.aggregation import AggregationMultigrid
from ..solvers.device import ArrayBackend, backend, to_host
from ..solvers.direct import DirectSolver
from ..solvers.krylov import bicgstab
from ..solvers.multiscale import block_mean, coarse_cues, guide_statistics, guided_coefficients, lift
from ..solvers.schwarz import sweep_batches, sweep_tiles
from ..solvers.stencil import STENCIL_OFFSETS

__all__ = [
    "BAND_TOL",
    "BAND_MAXITER",
    "COARSE_MAXITER",
    "COARSE_METHOD",
    "backend_for",
    "numpy_device",
    "coarse_solve",
    "band_solve",
    "closed_regions",
    "grown",
    "solve",
]

#: The engine report's key saying why a result carries no residual (and so none is given) ...
NO_RESIDUAL = "residual_unmeasured"
#: ... for a restrained result, the default engine's on either path.
RESTRAINED = "restrained to the cues' reach: the result is not the solution of Levin's system (restraint='off' is)"

#: Relative residual the correction's band systems are solved to: the CPU engine's tiles' answer
#: within 1e-5 ab on a grainy photo (1e-8 left 1e-3 near a cue).
BAND_TOL = 1e-10
#: The most BiCGSTAB iterations of the band's solve (a narrow band held on both sides converges in
#: tens to hundreds).
BAND_MAXITER = 3000
#: The most BiCGSTAB iterations of a coarse grid's solve (tens to a few hundred with the
#: multigrid: :mod:`varcolor.solvers.aggregation`).
COARSE_MAXITER = 2000
#: How the coarse grid is solved (:func:`coarse_solve`): ``auto`` (SciPy's LU with NumPy's
#: arrays, BiCGSTAB with CuPy's), ``direct``, ``krylov``, or ``host`` (the CPU engine's LU on the
#: host, the answer copied to the device): what a benchmark sets to compare them.
COARSE_METHOD = "auto"
#: The values :data:`COARSE_METHOD` and :func:`coarse_solve`'s ``method`` take.
COARSE_METHODS = ("auto", "direct", "krylov", "host")


class _NumpyModule(types.ModuleType):
    """NumPy under another name: ``xp is np`` is False for it, so that the array code written for
    CuPy (not the CPU's numba and SciPy shortcuts) is what runs."""

    def __init__(self) -> None:
        super().__init__("numpy_device")

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


def numpy_device() -> ArrayBackend:
    """NumPy in CuPy's place behind the array backend: the device path's own array code run on the
    CPU (what the tests check against the CPU engine)."""
    return ArrayBackend("numpy-device", _NumpyModule(), scipy.sparse, kernels=False)


def backend_for(device: str) -> ArrayBackend | None:
    """The array backend of the device path for ``device``: None on the CPU (the CPU engine's own
    path), CuPy's for ``"cuda"`` (an :class:`~varcolor.errors.InputError` in one line where CuPy
    or a GPU is missing: :func:`~varcolor.solvers.device.backend`).

    Parameters
    ----------
    device : str
        ``"cpu"`` or ``"cuda"``.
    """
    return None if device == "cpu" else backend(device)


def _host(device: ArrayBackend) -> bool:
    """Whether ``device``'s arrays are NumPy's (its coarse grid then solved by SciPy's LU)."""
    return device.sparse is scipy.sparse


@dataclass
class _State:
    """What the device path keeps on the device between solves of one engine: the gray at full
    resolution and on the block grid, the block grid's windows for the lift, the host's float64
    gray for the band's rows, and the last coarse solution (an edit's start)."""

    device: ArrayBackend
    guide: Any
    coarse_guide: Any
    host_guide: np.ndarray
    statistics: tuple
    last: Any = None
    solves: int = 0


def _state(engine) -> _State:
    state = engine._on_device
    if state is None or state.device is not engine.device:
        device = engine.device
        xp = device.xp
        parameters = engine.options.parameters
        coarse_guide = xp.asarray(engine.coarse_guide, dtype=xp.float64)
        state = _State(
            device,
            xp.asarray(engine.guide),
            coarse_guide,
            check_guide(engine.guide),
            guide_statistics(coarse_guide, parameters.radius, parameters.eps, xp),
        )
        engine._on_device = state
    return state


def solve(engine, problem, x0=None, reach: dict | None = None) -> tuple[np.ndarray, dict]:
    """``engine``'s (a :class:`~varcolor.methods.levin_multiscale.LevinMultiscale` whose
    ``device`` is set) chroma for ``problem`` on its device, and the report: steps 1-4 above.

    Parameters
    ----------
    engine : LevinMultiscale
        The engine: its gray, block grid, options and restraint.
    problem : Problem
        The cues (and reach); with a prior, the CPU engine's path solves it.
    x0 : ndarray, optional
        A caller's start (``H×W×2``), averaged over the blocks where no coarse solve is kept.
    reach : dict, optional
        The correction's reach over closed regions, as the engine's module sets it
        (:func:`closed_regions`); None: none.
    """
    reach = reach or {"above": np.inf}
    if problem.prior is not None:
        chroma, said = engine._solve(problem, x0)
        said.setdefault("engine", {})["device_path"] = "cpu: a prior is on (the device path takes none)"
        return chroma, said
    state = _state(engine)
    device, xp = state.device, state.device.xp
    options, factor = engine.options, engine.factor
    margin = options.parameters.margin
    times: dict[str, float] = {}
    start = time.perf_counter()
    # The cue pixels alone go to the device, not the image-sized mask and values.
    flat = np.flatnonzero(problem.mask)
    values = problem.targets[np.divmod(flat, problem.mask.shape[1])]
    flat_d, values_d = xp.asarray(flat), xp.asarray(values)
    held_d, targets_d = coarse_cues(problem.mask, None, factor, xp, pixels=(flat_d, values_d))
    held = to_host(held_d, xp)
    guess = state.last
    if guess is None and x0 is not None:
        guess = xp.asarray(block_mean(np.asarray(x0, np.float64), factor))
    edit = state.solves > 0 and state.last is not None
    coarse, solved = coarse_solve(device, engine.coarse_guide, held, targets_d, options.tol, guess=guess)
    state.last, state.solves = coarse, state.solves + 1
    shown_h = engine._restrained(to_host(coarse, xp), held, problem, False)
    times["coarse_seconds"] = time.perf_counter() - start
    report: dict = {}
    if edit:
        report["full_solve"] = "the device path solves an edit afresh (its coarse grid from the last solve's)"
    engine_report: dict = {
        "device": device.name,
        "factor": factor,
        "coarse_shape": list(held.shape),
        "coarse_update": "fresh",
        **{f"coarse_{key}": value for key, value in solved.items()},
    }
    if factor == 1:
        report.update(solver="multiscale", iterations=None, residual=None, engine={**engine_report, **times})
        return np.asarray(shown_h, np.float64), report
    start = time.perf_counter()
    shown = xp.asarray(shown_h)
    parameters = options.parameters
    a, b = guided_coefficients(
        state.coarse_guide, shown, parameters.radius, parameters.eps, xp, statistics=state.statistics
    )
    low, high = shown.min(axis=(0, 1)), shown.max(axis=(0, 1))
    dtype = np.result_type(problem.targets.dtype, np.float32)  # the cues' precision, as the CPU's lift
    chroma = lift(a, b, state.guide, factor, low, high, xp, out=xp.empty(engine.guide.shape + (2,), dtype))
    pixels = chroma.reshape(-1, 2)
    # the cues whose lifted value is off: their closed regions are solved again (reach["above"])
    above = reach["above"] * (1.0 if options.space == "lab" else 1 / 500)  # YIQ spans 1/500 of ab
    off = to_host(xp.abs(pixels[flat_d] - values_d).max(axis=-1) > above, xp)
    pixels[flat_d] = values_d  # the cues held exactly
    times["lift_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    corrected: dict = {"corrected_pixels": 0}
    if margin and flat.size:
        mask_d = xp.zeros(problem.mask.size, bool)
        mask_d[flat_d] = True
        mask_d = mask_d.reshape(problem.mask.shape)
        near = to_host(grown(mask_d, margin, xp) & ~mask_d, xp)
        side = reach.get("tile", max(near.shape))
        units = [_indices(near, window) for _, window in sweep_tiles(near.shape, side, margin)]
        corrected = _swept(device, state.host_guide, problem.mask, units, chroma)
        times["correct_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        if off.any():
            seeds = np.zeros(problem.mask.shape, bool)
            seeds.ravel()[flat[off]] = True
            regions = closed_regions(engine, reach, problem.mask, seeds, near, margin)
            solved = _swept(device, state.host_guide, problem.mask, regions, chroma)
            corrected.update(
                region_pixels=solved["corrected_pixels"], region_iterations=solved["correction_iterations"]
            )
        times["regions_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    out = to_host(chroma, xp)
    times["transfer_seconds"] = time.perf_counter() - start
    engine_report.update(corrected, margin=margin, correction_solver="bicgstab", **times)
    restrained = problem.reach is not None and engine.restrains
    engine_report[NO_RESIDUAL] = RESTRAINED if restrained else "the device path does not compute it"
    report.update(solver="multiscale", iterations=None, residual=None, engine=engine_report)
    return out, report


def coarse_solve(
    device: ArrayBackend,
    guide: np.ndarray,
    held: np.ndarray,
    targets,
    tol: float,
    *,
    guess=None,
    method: str = "auto",
) -> tuple[Any, dict]:
    """Levin's exact system on a grid (``guide``, cues ``held`` at ``targets``): the chroma
    (``h×w×C``, on the device, the cues written in exactly) and what the solve did.

    Its CSR matrix is built on the host; ``method`` ``"direct"`` solves it by SciPy's sparse LU
    (NumPy's arrays) or cuSOLVER's sparse QR (CuPy's ``spsolve``), ``"host"`` by the CPU engine's
    LU on the host, ``"krylov"`` on the device by BiCGSTAB to ``tol`` from ``guess`` (``h×w×C``;
    else the cues, 0 elsewhere), preconditioned by an aggregation multigrid's V-cycle with damped
    Jacobi steps (:class:`~varcolor.solvers.aggregation.AggregationMultigrid`, built on the
    device); where it stalls, the host's LU finishes (``fallback`` in the report). ``"auto"``:
    :data:`COARSE_METHOD`, whose own ``"auto"`` is ``"direct"`` for NumPy's arrays and
    ``"krylov"`` for CuPy's.

    Parameters
    ----------
    device : ArrayBackend
        Where it is solved.
    guide : ndarray, ``h×w``
        The gray on the grid (host).
    held : bool ndarray, ``h×w``
        The cue cells (host).
    targets : array, ``h×w×C``
        Their values (on the device; read at ``held``).
    tol : float
        Relative residual of the Krylov solve.
    guess : array, optional
        Its start (``h×w×C``, on the device).
    method : str
        One of :data:`COARSE_METHODS`.
    """
    xp = device.xp
    if method == "auto":
        method = COARSE_METHOD if COARSE_METHOD != "auto" else "direct" if _host(device) else "krylov"
    if method not in COARSE_METHODS[1:]:
        raise ValueError(f"method must be one of {', '.join(COARSE_METHODS)}, got {method!r}")
    start = time.perf_counter()
    report: dict
    operator = levin.exact_operator(guide, held)
    channels = targets.shape[-1]
    rhs = xp.where(xp.asarray(held)[..., None], targets, 0.0).reshape(-1, channels)
    if method == "host":
        x, report = _host_solve(device, operator, rhs, held.shape, tol)
        report["build_seconds"] = time.perf_counter() - start - report["solve_seconds"]
        return _holding(x.reshape(held.shape + (channels,)), held, targets, xp), report
    matrix = operator.to_csr()
    report = {"build_seconds": time.perf_counter() - start}
    start = time.perf_counter()
    if method == "direct":
        if _host(device):
            solution = scipy.sparse.linalg.spsolve(matrix.tocsc(), np.asarray(rhs))
            x = xp.asarray(np.asarray(solution).reshape(rhs.shape))
        else:  # cuSOLVER's sparse QR, a column at a time
            import cupyx.scipy.sparse.linalg as device_linalg

            x = device_linalg.spsolve(device.csr(matrix), rhs).reshape(rhs.shape)
        report.update(solver="direct", iterations=None)
    else:
        cycle = AggregationMultigrid(matrix, held.shape, device)
        operator = cycle.levels[0][0] if cycle.levels else device.sparse.csr_matrix(matrix)
        report.update(setup_seconds=time.perf_counter() - start, levels=len(cycle.levels) + 1)
        start_x = rhs if guess is None else xp.asarray(guess, dtype=xp.float64).reshape(rhs.shape)
        report["start"] = "cues" if guess is None else "guess"
        x, iterations, residual = bicgstab(
            lambda v: operator @ v, rhs, cycle, xp, start_x, tol=tol, maxiter=COARSE_MAXITER
        )
        report.update(solver="bicgstab", iterations=int(iterations), residual=float(np.max(residual)))
        if not np.max(residual) <= tol:  # stalled: the host's LU finishes it, and the report says so
            x, fallback = _host_solve(device, operator, rhs, held.shape, tol)
            report.update(fallback="host LU: BiCGSTAB stalled", fallback_seconds=fallback["solve_seconds"])
    report["solve_seconds"] = time.perf_counter() - start
    return _holding(x.reshape(held.shape + (channels,)), held, targets, xp), report


def _holding(x, held: np.ndarray, targets, xp):
    """``x`` with the cue cells ``held`` at ``targets``: exactly, not to a solver's tolerance."""
    held_d = xp.asarray(held)
    x[held_d] = targets[held_d]
    return x


def _host_solve(device: ArrayBackend, operator, rhs, shape: tuple[int, int], tol: float) -> tuple[Any, dict]:
    """``operator`` (a :class:`~varcolor.solvers.stencil.GridOperator`) solved for ``rhs``
    (``N×C``, on the device) by the host's LU (:class:`~varcolor.solvers.direct.DirectSolver`,
    the CPU engine's coarse solver), the answer back on the device."""
    xp = device.xp
    start = time.perf_counter()
    b = to_host(rhs, xp).reshape(shape + (rhs.shape[-1],))
    x, info = DirectSolver(operator, tol).solve(b)
    report = {"solver": "host LU", "iterations": int(info.iterations), "residual": float(info.residual)}
    report["solve_seconds"] = time.perf_counter() - start
    return xp.asarray(x.reshape(rhs.shape)), report


def closed_regions(
    engine, reach: dict, mask: np.ndarray, seeds: np.ndarray, near: np.ndarray, margin: int
) -> list[np.ndarray]:
    """The pixels (raster indices, no cue among them) the correction solves again past the band
    ``near``, a set a tile: around each cue of ``seeds`` (one whose lifted value is off), the
    closed region of its lightness holding it, found as the CPU engine finds it
    (:meth:`~varcolor.methods.levin_multiscale.LevinMultiscale._regions`): tile by tile in the
    sweep's order (:func:`~varcolor.solvers.schwarz.sweep_tiles`), in each tile holding such a cue,
    the connected regions where the gray changes slowly
    (:meth:`~varcolor.methods.levin_multiscale.LevinMultiscale._interior`, the engine's kept
    windows) seeded there, at most ``reach["reach"]`` pixels across, of at least
    ``reach["area"]`` pixels, reaching past the pixels solved so far, grown by ``reach["pad"]``.

    Parameters
    ----------
    engine : LevinMultiscale
        Its gray and kept windows.
    reach : dict
        ``reach``, ``pad``, ``area``, ``tile``: the engine's ``REACH``, ``REACH_PAD``,
        ``REACH_AREA`` and ``TILE``.
    mask, seeds, near : bool ndarray, ``H×W``
        The cues, those whose lifted value is off, and the band solved.
    margin : int
        The band's margin (the tiles' order is the sweep's for it).
    """
    from scipy import ndimage

    height, width = mask.shape
    side, pad = reach["tile"], reach["reach"] + reach["pad"] + 1
    region, out = near.copy(), []
    rows, columns = np.nonzero(seeds)
    seeded_tiles = set(zip((rows // side * side).tolist(), (columns // side * side).tolist()))
    for key, _ in sweep_tiles(mask.shape, side, margin):
        if key not in seeded_tiles:
            continue
        top, left = key
        core = (slice(top, min(top + side, height)), slice(left, min(left + side, width)))
        window = (
            slice(max(top - pad, 0), min(core[0].stop + pad, height)),
            slice(max(left - pad, 0), min(core[1].stop + pad, width)),
        )
        labels, _ = ndimage.label(engine._interior(key, window), structure=np.ones((3, 3)))
        local = tuple(slice(c.start - w.start, c.stop - w.start) for c, w in zip(core, window))
        seeded = np.unique(labels[local][seeds[core]])
        seeded = seeded[seeded > 0]
        if not seeded.size:
            continue
        number = np.zeros(labels.max() + 1, np.int32)
        number[seeded] = np.arange(1, seeded.size + 1)
        labels = number[labels]
        across = np.array([max(s.stop - s.start for s in box) for box in ndimage.find_objects(labels)])
        beyond = np.bincount(labels[~region[window]], minlength=seeded.size + 1)[1:] > 0
        sizes = np.bincount(labels.ravel(), minlength=seeded.size + 1)[1:]
        closed = np.flatnonzero((across <= reach["reach"]) & beyond & (sizes >= reach["area"])) + 1
        if not closed.size:
            continue
        size = 2 * reach["pad"] + 1
        grown_here = ndimage.maximum_filter(np.isin(labels, closed).view(np.uint8), size=size).view(bool)
        grown_here &= ~mask[window]
        region[window] |= grown_here
        out.append(_indices(grown_here, window, width))
    return out


def _indices(free: np.ndarray, window: tuple[slice, slice], width: int | None = None) -> np.ndarray:
    """The raster indices (in an image ``width`` wide) of the pixels ``free`` marks in ``window``
    (``free`` window-sized; or image-sized where ``width`` is None)."""
    if width is None:
        free, width = free[window], free.shape[1]
    rows, columns = np.nonzero(free)
    return (rows + window[0].start) * width + (columns + window[1].start)


def _swept(device: ArrayBackend, guide: np.ndarray, mask: np.ndarray, units: list, chroma) -> dict:
    """The sweep's solves (``units``: each one's unknowns, in the CPU engine's order) in as few
    systems as give its answer (:func:`~varcolor.solvers.schwarz.sweep_batches`), each by
    :func:`band_solve`; what they did, added up."""
    report = {"corrected_pixels": sum(int(unit.size) for unit in units), "correction_iterations": 0}
    systems = sweep_batches(units, mask.shape)
    for system in systems:
        solved = band_solve(device, guide, mask, system, chroma)
        report["correction_iterations"] += solved["correction_iterations"]
        report["correction_residual"] = max(report.get("correction_residual", 0.0), solved["correction_residual"])
        report["correction_build_seconds"] = (
            report.get("correction_build_seconds", 0.0) + solved["correction_build_seconds"]
        )
    report["correction_systems"] = len(systems)
    return report


def band_solve(device: ArrayBackend, guide: np.ndarray, mask: np.ndarray, band: np.ndarray, chroma) -> dict:
    """Solve Levin's exact system on the pixels ``band`` (raster indices, sorted, none of them
    cues), in place in ``chroma`` (``H×W×C``, on the device), every other pixel held at its
    value there: ``A_bb x_b = −A_bk x_k``, its rows built on the host
    (:func:`~varcolor.energies.levin.exact_operator` with ``rows``), solved by BiCGSTAB with a
    Jacobi preconditioner to :data:`BAND_TOL`. Returns what it did.

    Parameters
    ----------
    device : ArrayBackend
        Where ``chroma`` lives.
    guide : ndarray, ``H×W``
        The gray (host, float64).
    mask : bool ndarray, ``H×W``
        The cue pixels (host).
    band : ndarray of int
        The unknowns.
    chroma : array, ``H×W×C``
        The values held around them, and where their solution is written.
    """
    xp = device.xp
    if not band.size:
        return {"corrected_pixels": 0, "correction_iterations": 0}
    start = time.perf_counter()
    # Only the band's rows are built (the operator's other pages are never touched).
    rows = levin.exact_operator(guide, mask, rows=band).stencil.reshape(-1, 9)[band]
    height, width = guide.shape
    steps = STENCIL_OFFSETS[:, 0] * width + STENCIL_OFFSETS[:, 1]
    # Out-of-image neighbours have coefficient 0: their clipped indices are read harmlessly.
    neighbours = np.clip(band[:, None] + steps[None, :], 0, height * width - 1)
    position = np.minimum(np.searchsorted(band, neighbours), band.size - 1)
    inside = (band[position] == neighbours) & (rows != 0)
    count = band.size
    matrix = scipy.sparse.csr_matrix(
        (rows[inside], (np.repeat(np.arange(count), 9).reshape(count, 9)[inside], position[inside])),
        shape=(count, count),
    )
    known = np.where(inside, 0.0, rows)  # the held neighbours' coefficients: they go to the right
    build = time.perf_counter() - start
    channels = chroma.shape[-1]
    values = chroma.reshape(-1, channels)
    neighbours_d = xp.asarray(neighbours)
    rhs = -xp.einsum("kn,knc->kc", xp.asarray(known), values[neighbours_d].astype(xp.float64))
    operator = device.csr(matrix)
    inverse_diagonal = xp.asarray(1.0 / rows[:, 4])[:, None]
    band_d = xp.asarray(band)
    x, iterations, residual = bicgstab(
        lambda v: operator @ v,
        rhs,
        lambda v: v * inverse_diagonal,
        xp,
        values[band_d].astype(xp.float64),
        tol=BAND_TOL,
        maxiter=BAND_MAXITER,
    )
    values[band_d] = x.astype(values.dtype)
    return {
        "corrected_pixels": int(count),
        "correction_iterations": int(iterations),
        "correction_residual": float(np.max(residual)),
        "correction_build_seconds": build,
    }


def grown(mask, radius: int, xp=np):
    """``mask`` (``H×W`` bool) grown by ``radius`` pixels, a square: each axis's shifts OR-ed in
    turn (array code for either module).

    Parameters
    ----------
    mask : bool array, ``H×W``
    radius : int
        Pixels grown by.
    xp : module
        NumPy or CuPy.

    Examples
    --------
    >>> mask = np.zeros((5, 5), bool); mask[2, 2] = True
    >>> int(grown(mask, 1).sum()), int(grown(mask, 2).sum())
    (9, 25)
    """
    out = mask.copy()
    for axis in (0, 1):
        source = out.copy()
        size = out.shape[axis]
        for shift in range(1, min(radius, size - 1) + 1):
            if axis == 0:
                out[shift:] |= source[:-shift]
                out[:-shift] |= source[shift:]
            else:
                out[:, shift:] |= source[:, :-shift]
                out[:, :-shift] |= source[:, shift:]
    return out
