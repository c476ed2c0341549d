"""``levin-multiscale`` on a device (``device="cuda"``): the default engine's steps written once
against an array module ``xp`` (CuPy on a GPU; NumPy standing in for it in the tests,
:func:`numpy_device`), through :class:`~varcolor.solvers.device.ArrayBackend`. The shared solvers
are asked for their array code (``portable=True``), not the CPU's numba and SciPy shortcuts, so
that NumPy runs what CuPy runs.

The coarse solve (BiCGSTAB with an aggregation multigrid), the lift and the corrections around the
cues run as the CPU engine's do, on the device; an edit starts from the last coarse solve and keeps
the corrections that no changed cue touches (``info["update"]`` is ``"window"``). A solve with a
prior runs the CPU engine's path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from ..common.affinity import check_guide
from ..common.raster import box_of, changed_pixels, dilated
from ..energies import levin
from ..solvers.aggregation import AggregationMultigrid
from ..solvers.device import ArrayBackend, backend, to_host
from ..solvers.direct import DirectSolver
from ..solvers.krylov import bicgstab
from ..solvers.multiscale import block_mean, coarse_cues, guide_statistics, guided_coefficients, lift
from ..solvers.schwarz import sweep_tiles, sweep_waves, tile_overlap
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

#: The side of the squares in which an edit reads how far the lift moved (pixels).
CELL = 16
#: Relative residual the correction's band systems are solved to: the CPU engine's tiles' answer
#: within 1e-5 ab on a grainy photo (1e-8 left 1e-3 near a cue).
BAND_TOL = 1e-10
#: The most BiCGSTAB iterations of the band's solve (a narrow band held on both sides converges in
#: tens to hundreds).
BAND_MAXITER = 3000
#: The most BiCGSTAB iterations of a coarse grid's solve (tens to a few hundred with the
#: multigrid: :mod:`varcolor.solvers.aggregation`).
COARSE_MAXITER = 2000
#: How the coarse grid is solved (:func:`coarse_solve`): ``auto``, ``direct``, ``krylov`` or ``host``
#: (the CPU engine's LU): what a benchmark sets to compare them.
COARSE_METHOD = "auto"
#: The values :data:`COARSE_METHOD` and :func:`coarse_solve`'s ``method`` take.
COARSE_METHODS = ("auto", "direct", "krylov", "host")


def numpy_device() -> ArrayBackend:
    """NumPy in CuPy's place behind the array backend: the device path's own array code run on the
    CPU (what the tests check against the CPU engine)."""
    return ArrayBackend("numpy-device", np, scipy.sparse, kernels=False)


def backend_for(device: str) -> ArrayBackend | None:
    """The array backend of the device path for ``device``: None on the CPU (the CPU engine's own path),
    CuPy's for ``"cuda"``.

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
    """What the device path keeps on the device between solves of one engine: the gray at full resolution
    and on the block grid, the block grid's windows for the lift."""

    device: ArrayBackend
    guide: Any
    coarse_guide: Any
    exact_guide: Any
    statistics: tuple
    last: Any = None
    solves: int = 0
    correction: _Correction | None = None


@dataclass
class _Correction:
    """What the last solve's correction leaves for an edit's: the lift it corrected, its cues and the off
    ones, each tile's kept corrections, how far the lift moved under them since, and the margin."""

    lift: Any
    cues: tuple
    off: np.ndarray
    kept: dict
    drift: dict
    margin: int


@dataclass
class _Step:
    """One step of the correction's sweep: a tile's (or its regions') unknowns solved (``kind``
    ``"solve"``), or a tile's kept corrections added to the new lift."""

    kind: str
    key: tuple
    pixels: np.ndarray
    deltas: list | None = None


def _state(engine) -> _State:
    """``engine``'s device state (:attr:`~varcolor.methods.levin_multiscale.LevinMultiscale.on_device`), made
    for its device where it has none or another's."""
    state = engine.on_device
    if state is None or state.device is not engine.device:
        device = engine.device
        xp = device.xp
        parameters = engine.options.parameters
        coarse_guide = xp.asarray(engine.coarse_guide, dtype=xp.float64)
        state = _State(
            device,
            xp.asarray(engine.guide),
            coarse_guide,
            xp.asarray(check_guide(engine.guide)),
            guide_statistics(coarse_guide, parameters.radius, parameters.eps, xp, portable=True),
        )
        engine.on_device = state
    return state


def solve(engine, problem, x0=None, span: dict | None = None) -> tuple[np.ndarray, dict]:
    """``engine``'s (a :class:`~varcolor.methods.levin_multiscale.LevinMultiscale` whose
    ``device`` is set) chroma for ``problem`` on its device (coarse solve, lift, corrections), and the report;
    ``span``: how far the correction goes past the band (the engine's ``_span()``)."""
    span = span or {"above": np.inf}
    if problem.prior is not None:
        if engine.on_device is not None:
            engine.on_device.correction = None  # (what an edit would start from is not on the device)
        chroma, said = engine.cpu_solve(problem, x0)
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
    shown_h = engine.restrained(to_host(coarse, xp), held, problem, False)
    times["coarse_seconds"] = time.perf_counter() - start
    report: dict = {}
    previous, state.correction = state.correction, None
    windowed = edit and previous is not None and previous.margin == margin and margin > 0 and factor > 1
    if edit and not windowed:
        report["full_solve"] = "the device path solves this edit afresh (its coarse grid from the last solve's)"
    elif windowed:
        report["update"] = "window"  # the tiles the edit touches solved again, the others' kept
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
    chroma, lifted, off = _lifted(engine, state, problem, shown_h, flat_d, values_d, span)
    times["lift_seconds"] = time.perf_counter() - start
    cues = (flat, values, flat_d, off)
    corrected = _corrections(engine, state, problem, span, (chroma, lifted), cues, previous, windowed, times)
    engine_report["correction_update"] = "windowed" if windowed else "fresh"
    start = time.perf_counter()
    out = to_host(chroma, xp)
    times["transfer_seconds"] = time.perf_counter() - start
    engine_report.update(corrected, margin=margin, correction_solver="bicgstab", **times)
    restrained = problem.reach is not None and engine.restrains
    engine_report[NO_RESIDUAL] = RESTRAINED if restrained else "the device path does not compute it"
    report.update(solver="multiscale", iterations=None, residual=None, engine=engine_report)
    return out, report


def _lifted(engine, state, problem, shown_h, flat_d, values_d, span) -> tuple:
    """The coarse chroma lifted to full resolution with the cues written in, a copy of the
    lift for the next edit, and which cues' lifted values were off."""
    xp, options, factor = state.device.xp, engine.options, engine.factor
    shown = xp.asarray(shown_h)
    parameters = options.parameters
    a, b = guided_coefficients(
        state.coarse_guide, shown, parameters.radius, parameters.eps, xp, statistics=state.statistics, portable=True
    )
    low, high = shown.min(axis=(0, 1)), shown.max(axis=(0, 1))
    dtype = np.result_type(problem.targets.dtype, np.float32)  # the cues' precision, as the CPU's lift
    out = xp.empty(engine.guide.shape + (2,), dtype)
    chroma = lift(a, b, state.guide, factor, low, high, xp, out=out, portable=True)
    lifted = chroma.copy()  # kept for the next edit: how far the lift moves under each tile
    pixels = chroma.reshape(-1, 2)
    # the cues whose lifted value is off: their closed regions are solved again (span["above"])
    above = span["above"] * (1.0 if options.space == "lab" else 1 / 500)  # YIQ spans 1/500 of ab
    off = to_host(xp.abs(pixels[flat_d] - values_d).max(axis=-1) > above, xp)
    pixels[flat_d] = values_d  # the cues held exactly
    return chroma, lifted, off


def _corrections(engine, state, problem, span, lifts, cues, previous, windowed, times) -> dict:
    """The bands around the cues and the closed regions of the off cues corrected in
    ``chroma`` (tiles the edit leaves alone kept), and the report; ``state.correction`` set."""
    chroma, lifted = lifts
    flat, values, flat_d, off = cues
    device, xp = state.device, state.device.xp
    options = engine.options
    margin = options.parameters.margin
    start = time.perf_counter()
    corrected: dict = {"corrected_pixels": 0}
    if margin and flat.size:
        shape = problem.mask.shape
        mask_d = xp.zeros(problem.mask.size, bool)
        mask_d[flat_d] = True
        mask_d = mask_d.reshape(shape)
        near = to_host(grown(mask_d, margin, xp) & ~mask_d, xp)
        side = span.get("tile", max(shape))
        moved = touched = None
        if windowed:
            assert previous is not None  # windowed: an edit after a corrected solve
            moved = _cell_maxima(xp.abs(lifted - previous.lift).max(axis=-1), xp)
            changed = changed_pixels(previous.cues, (flat, values), shape)
            # a cue whose lifted value came to be off, or no more, spans as far as a changed one
            changed.ravel()[np.setxor1d(previous.off, flat[off], assume_unique=True)] = True
            far = max(margin, span["span"] + span["pad"] + margin) + tile_overlap(margin)
            touched = dilated(changed, far + 3, box_of(changed, far + 3))
        below = span.get("reuse", 0.0) * (1.0 if options.space == "lab" else 1 / 500)
        kept: dict = {}
        steps, drift, solved_keys, reused = [], {}, [], []
        for key, window in sweep_tiles(shape, side, margin):
            if windowed:
                assert previous is not None and moved is not None and touched is not None
                # how far the lift moved here since the kept corrections were solved, over edits
                here = previous.drift.get(key, 0.0) + _cells_max(moved, window)
                if here < below and not touched[window].any():
                    reused.append(key)
                    drift[key] = here
                    steps.append(_kept_step(previous.kept, kept, "band", key))
                    continue
            steps.append(_Step("solve", key, _indices(near, window)))
            solved_keys.append(key)
        corrected = _swept(device, state.exact_guide, mask_d, steps, chroma, kept, "band")
        corrected["tiles_reused"] = len(reused)
        times["correct_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        # The regions after the bands, as a fresh solve: a kept tile's regions at its place
        regions: list = []
        if off.any():
            seeds = np.zeros(shape, bool)
            seeds.ravel()[flat[off]] = True
            regions = closed_regions(engine, span, problem.mask, seeds, near, margin, keys=set(solved_keys))
        found = dict(regions)
        steps = []
        for key, _ in sweep_tiles(shape, side, margin):
            if key in found:
                steps.append(_Step("solve", key, found[key]))
            elif previous is not None and key in reused:
                steps.append(_kept_step(previous.kept, kept, "regions", key))
        if steps:
            solved = _swept(device, state.exact_guide, mask_d, steps, chroma, kept, "regions")
            corrected.update(
                region_pixels=solved["corrected_pixels"], region_iterations=solved["correction_iterations"]
            )
        times["regions_seconds"] = time.perf_counter() - start
        state.correction = _Correction(lifted, (flat, values), flat[off], kept, drift, margin)
    return corrected


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
    (``h×w×C``, on the device, the cues written in exactly) and what the solve did."""
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
        start_x = rhs
        if guess is not None:  # the last solve's colours, the cue cells at their (new) targets
            held_rows = xp.asarray(held).reshape(-1, 1)
            start_x = xp.where(held_rows, rhs, xp.asarray(guess, dtype=xp.float64).reshape(rhs.shape))
        report["start"] = "cues" if guess is None else "guess"
        # How far the start lies from the solution: a warm start's claim, which iteration counts
        # (whole numbers, often equal) cannot settle.
        x, iterations, residual = bicgstab(
            lambda v: operator @ v, rhs, cycle, xp, start_x, tol=tol, maxiter=COARSE_MAXITER
        )
        report.update(solver="bicgstab", iterations=int(iterations), residual=float(np.max(residual)))

        def distance(start) -> float:  # how far a start lay from the solution (relative)
            d = start - x
            return float(np.max(device.to_host(xp.sqrt((d * d).sum(axis=0) / xp.maximum((x * x).sum(axis=0), 1e-300)))))

        # A warm start's claim, which iteration counts (whole numbers, often equal) cannot settle.
        report["start_error"] = distance(start_x)
        if guess is not None:
            report["cues_start_error"] = distance(rhs)
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
    """``operator`` (a :class:`~varcolor.solvers.stencil.GridOperator`) solved for ``rhs`` (``N×C``, on the
    device) by the host's LU."""
    xp = device.xp
    start = time.perf_counter()
    b = to_host(rhs, xp).reshape(shape + (rhs.shape[-1],))
    x, info = DirectSolver(operator, tol).solve(b)
    report = {"solver": "host LU", "iterations": int(info.iterations), "residual": float(info.residual)}
    report["solve_seconds"] = time.perf_counter() - start
    return xp.asarray(x.reshape(rhs.shape)), report


def closed_regions(
    engine,
    span: dict,
    mask: np.ndarray,
    seeds: np.ndarray,
    near: np.ndarray,
    margin: int,
    keys: set | None = None,
) -> list[tuple[tuple[int, int], np.ndarray]]:
    """The pixels (raster indices, no cue among them) the correction solves again past the band ``near``, a
    set a tile (with its key): around each cue of ``seeds`` (one whose lifted value is off)."""

    height, width = mask.shape
    side, pad = span["tile"], span["span"] + span["pad"] + 1
    region, out = near.copy(), []
    rows, columns = np.nonzero(seeds)
    seeded_tiles = set(zip((rows // side * side).tolist(), (columns // side * side).tolist()))
    for key, _ in sweep_tiles(mask.shape, side, margin):
        if key not in seeded_tiles or (keys is not None and key not in keys):
            continue
        top, left = key
        core = (slice(top, min(top + side, height)), slice(left, min(left + side, width)))
        window = (
            slice(max(top - pad, 0), min(core[0].stop + pad, height)),
            slice(max(left - pad, 0), min(core[1].stop + pad, width)),
        )
        interior = engine.interior(key, window)
        grown_here = _closed_in_window(interior, seeds[core], core, window, region, mask, span)
        if grown_here is None:
            continue
        region[window] |= grown_here
        out.append((key, _indices(grown_here, window, width)))
    return out


def _closed_in_window(interior, seeds, core, window, band, mask, span: dict):
    """The closed regions of ``interior`` (the ``window``'s) holding a seed of ``core`` that extend
    past ``band``, grown by ``span["pad"]`` off the cues ``mask``; None where there are none."""
    from scipy import ndimage

    labels, _ = ndimage.label(interior, structure=np.ones((3, 3)))
    local = tuple(slice(c.start - w.start, c.stop - w.start) for c, w in zip(core, window))
    seeded = np.unique(labels[local][seeds])
    seeded = seeded[seeded > 0]
    if not seeded.size:
        return None
    # The seeded regions numbered 1..n (the grain leaves many small others: not looked at).
    number = np.zeros(labels.max() + 1, np.int32)
    number[seeded] = np.arange(1, seeded.size + 1)
    labels = number[labels]
    across = np.array([max(s.stop - s.start for s in box) for box in ndimage.find_objects(labels)])
    # Closed, and extending past the band: a region inside it is solved already.
    beyond = np.bincount(labels[~band[window]], minlength=seeded.size + 1)[1:] > 0
    sizes = np.bincount(labels.ravel(), minlength=seeded.size + 1)[1:]
    closed = np.flatnonzero((across <= span["span"]) & beyond & (sizes >= span["area"])) + 1
    if not closed.size:
        return None
    size = 2 * span["pad"] + 1
    grown = ndimage.maximum_filter(np.isin(labels, closed).view(np.uint8), size=size).view(bool)
    grown &= ~mask[window]
    return grown


def _indices(free: np.ndarray, window: tuple[slice, slice], width: int | None = None) -> np.ndarray:
    """The raster indices (in an image ``width`` wide) of the pixels ``free`` marks in ``window``
    (``free`` window-sized; or image-sized where ``width`` is None)."""
    if width is None:
        free, width = free[window], free.shape[1]
    rows, columns = np.nonzero(free)
    return (rows + window[0].start) * width + (columns + window[1].start)


def _kept_step(last: dict, kept: dict, phase: str, key: tuple) -> _Step:
    """The step adding the tile ``key``'s kept corrections of ``phase`` (``"band"`` or
    ``"regions"``) from the last solve's (``last``), kept again in ``kept``."""
    deltas = last.get((phase, key), [])
    if deltas:
        kept[(phase, key)] = deltas
    pixels = np.concatenate([delta[0] for delta in deltas]) if deltas else np.empty(0, np.int64)
    return _Step("add", key, pixels, deltas)


def _swept(
    device: ArrayBackend, guide: np.ndarray, mask: np.ndarray, steps: list, chroma, kept: dict, phase: str
) -> dict:
    """The sweep's ``steps`` (:class:`_Step`, in the CPU engine's order) done wave by wave
    (:func:`~varcolor.solvers.schwarz.sweep_waves`): in each wave the kept corrections added."""
    xp = device.xp
    values = chroma.reshape(-1, chroma.shape[-1])
    solves = [step for step in steps if step.kind == "solve"]
    report: dict = {"corrected_pixels": sum(int(step.pixels.size) for step in solves), "correction_iterations": 0}
    waves = sweep_waves([step.pixels for step in steps], mask.shape)
    systems = 0
    for wave in range(waves.max(initial=-1) + 1):
        here = [steps[k] for k in np.flatnonzero(waves == wave)]
        for step in here:
            if step.kind == "add":
                for _, at, delta in step.deltas or ():
                    values[at] += delta
        units = [step for step in here if step.kind == "solve"]
        if not units:
            continue
        system = np.sort(np.concatenate([step.pixels for step in units]))
        system_d = xp.asarray(system)
        before = values[system_d].copy()
        solved = band_solve(device, guide, mask, system, chroma)
        changes = values[system_d] - before
        systems += 1
        for step in units:
            at = xp.asarray(np.searchsorted(system, step.pixels))
            kept.setdefault((phase, step.key), []).append((step.pixels, xp.asarray(step.pixels), changes[at]))
        report["correction_iterations"] += solved["correction_iterations"]
        report["correction_residual"] = max(report.get("correction_residual", 0.0), solved["correction_residual"])
        report["correction_build_seconds"] = (
            report.get("correction_build_seconds", 0.0) + solved["correction_build_seconds"]
        )
    report["correction_systems"] = systems
    return report


def _cell_maxima(values, xp) -> np.ndarray:
    """The largest of ``values`` (``H×W``, on the device) in each :data:`CELL`-pixel square, on
    the host: how far the lift moved, read tile by tile."""
    height, width = values.shape
    rows, columns = -(-height // CELL), -(-width // CELL)
    padded = xp.zeros((rows * CELL, columns * CELL), values.dtype)
    padded[:height, :width] = values
    return to_host(padded.reshape(rows, CELL, columns, CELL).max(axis=(1, 3)), xp)


def _cells_max(cells: np.ndarray, window: tuple[slice, slice]) -> float:
    """The largest of :func:`_cell_maxima`'s ``cells`` over the cells ``window`` touches."""
    rows = slice(window[0].start // CELL, -(-window[0].stop // CELL))
    columns = slice(window[1].start // CELL, -(-window[1].stop // CELL))
    return float(cells[rows, columns].max())


def band_solve(device: ArrayBackend, guide, mask, band: np.ndarray, chroma) -> dict:
    """Solve Levin's exact system on the pixels ``band`` (raster indices, sorted, none of them cues), in
    place in ``chroma`` (``H×W×C``, on the device), every other pixel held at its value there."""
    xp = device.xp
    if not band.size:
        return {"corrected_pixels": 0, "correction_iterations": 0}
    start = time.perf_counter()
    height, width = guide.shape
    count = band.size
    band_d = xp.asarray(band)
    i, j = xp.divmod(band_d, width)
    # Each row's 3×3 window of the gray (9×k, stencil order), and which of it lies in the image.
    values = xp.empty((9, count))
    inside = xp.empty((9, count), bool)
    for k, (dy, dx) in enumerate(STENCIL_OFFSETS.tolist()):
        ii, jj = i + dy, j + dx
        inside[k] = (ii >= 0) & (ii < height) & (jj >= 0) & (jj < width)
        values[k] = guide[xp.clip(ii, 0, height - 1), xp.clip(jj, 0, width - 1)]
    rows = levin.rows_of(values, inside, 0.0, mask[i, j], False, xp).T  # k×9
    steps = xp.asarray(STENCIL_OFFSETS[:, 0] * width + STENCIL_OFFSETS[:, 1])
    # Out-of-image neighbours have coefficient 0: their clipped indices are read harmlessly.
    neighbours = xp.clip(band_d[:, None] + steps[None, :], 0, height * width - 1)
    position = xp.minimum(xp.searchsorted(band_d, neighbours), count - 1)
    unknown = (band_d[position] == neighbours) & (rows != 0)
    at = xp.repeat(xp.arange(count), 9).reshape(count, 9)
    operator = device.sparse.coo_matrix((rows[unknown], (at[unknown], position[unknown])), shape=(count, count)).tocsr()
    known = xp.where(unknown, 0.0, rows)  # the held neighbours' coefficients: they go to the right
    build = time.perf_counter() - start
    channels = chroma.shape[-1]
    values = chroma.reshape(-1, channels)
    rhs = -xp.einsum("kn,knc->kc", known, values[neighbours].astype(xp.float64))
    inverse_diagonal = (1.0 / rows[:, 4])[:, None]
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
