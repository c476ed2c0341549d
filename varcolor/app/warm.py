"""Warming numba's cache: each kind of run colorizes the bundled example once, so that its kernels
are compiled (tens of seconds, once per installation) before a first real photo needs them.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import data
from ..api import Colorizer, colorize
from ..color import gray_by_bands
from ..common import kernels
from ..common.kernels import (
    kernels_at_every_size,
    kernels_warm,
    mark_kernels_warm,
    start_background_warm,
)
from ..cues import Cues
from ..energies.levin import exact_operator
from ..options import DEFAULT_METHOD
from ..reading.marks import unmarked_to_gray
from ..solvers.aggregation import AggregationSolver
from ..solvers.device import ArrayBackend, backend

__all__ = ["WARM_RUNS", "Warmed", "warm", "warm_device", "start_background_warm", "warm_in_background", "WARMING_LOCK"]

#: The lock file beside numba's cache that one background compile holds: a second one leaves at once.
WARMING_LOCK = "varcolor-warming.lock"


def _example() -> tuple[np.ndarray, Cues]:
    """The bundled example's gray and the cues of its scribbles."""
    gray = data.chelsea()
    return gray, Cues.from_marked(gray, data.chelsea_marked())


def _cues() -> None:
    gray = data.chelsea()
    marked = data.chelsea_marked()
    cues = Cues.from_marked(gray, marked)
    colorize(gray, cues)
    colorize(gray, cues, bits=8)  # the command line's paint, straight into a file's levels
    # A gray scan stored as RGB beside its marked copy (8 and 16 bits): read_marked_photo's kernels.
    for dtype in (np.uint8, np.uint16):
        levels = np.round(np.repeat(gray[..., None], 3, axis=2) * np.iinfo(dtype).max).astype(dtype)
        unmarked_to_gray(np.asarray(marked, np.float32), levels, gray_by_bands(levels, colour=True))


def _automatic() -> None:
    colorize(data.chelsea(), Cues.empty(data.chelsea().shape), prior="ideepcolor")


def _edits() -> None:
    # The studio's and Colorizer's path: a first solve, then a stroke added as an update.
    gray, cues = _example()
    cz = Colorizer(gray)
    cz.solve(cues)
    cz.update(Cues.from_points([{"y": 40, "x": 60, "r": 90, "g": 140, "b": 200, "radius": 3}], shape=gray.shape))
    # A stroke's worth of new cues too: eight or more run a version of the kernels with BLAS calls.
    line = [{"y": 200, "x": x, "r": 200, "g": 120, "b": 60, "radius": 1} for x in range(100, 228, 8)]
    cz.update(Cues.from_points(line, shape=gray.shape))


def _levin() -> None:
    # --method levin: the direct solver's LU and the overlapping tiles, forced here on the small example.
    gray, cues = _example()
    colorize(gray, cues, method="levin")
    colorize(gray, cues, method="levin", solver="tiles", bits=8)


def _gtv() -> None:
    # --method bilaplacian-gtv: ADMM's steps and their multigrid (benchmarks/results/first_run_gtv.md).
    colorize(*_example(), method="bilaplacian-gtv", bits=8)


def _symmetric() -> None:
    # --method levin-symmetric: its Laplacian and multigrid
    # (benchmarks/results/first_run_never_warmed_levin_symmetric.md).
    colorize(*_example(), method="levin-symmetric", bits=8)


def _cuda() -> None:
    # --device cuda: the default engine's device path, CuPy's kernels compiled ahead of a first solve.
    warm_device()


def warm_device(device: ArrayBackend | None = None) -> float:
    """Run the device path once, on a small made-up photo and one edit of it, so that the kernels
    it compiles.

    Parameters
    ----------
    device : ArrayBackend, optional
        The device (default: CuPy's, ``backend("cuda")``;
        :func:`~varcolor.methods.multiscale_device.numpy_device` runs it on NumPy).
    """
    start = time.perf_counter()
    device = backend("cuda") if device is None else device
    rng = np.random.default_rng(0)
    shape = (256, 384)  # above levin-multiscale's EXACT_BELOW: the lift and the band run
    gray = np.clip(np.linspace(0.2, 0.8, shape[1])[None, :] + rng.normal(0, 0.02, shape), 0, 1).astype(np.float32)
    mask = np.zeros(shape, bool)
    mask[40:44, 20:200] = mask[180:183, 150:360] = True
    ab = np.zeros(shape + (2,), np.float32)
    ab[40:44] = (30.0, -10.0)
    ab[180:183] = (-20.0, 25.0)
    stroke = np.zeros(shape, bool)
    stroke[120:123, 60:300] = True
    extra = np.zeros(shape + (2,), np.float32)
    extra[stroke] = (10.0, 40.0)
    for restraint in ("on", "off"):
        colorizer = Colorizer(gray, method=DEFAULT_METHOD, restraint=restraint)
        engine: Any = colorizer.engine  # a LevinMultiscale: its device path set
        engine.device = colorizer.painter.device = device  # its paint's kernels too
        colorizer.solve(Cues(mask, ab))
        colorizer.update(Cues(stroke, extra))
    # The exact methods' solver on the device (its hierarchy's products and BiCGSTAB's kernels).
    operator = exact_operator(gray.astype(np.float64), mask)
    AggregationSolver(operator, device=device).solve(np.where(mask[..., None], ab, 0.0))
    return time.perf_counter() - start


def _cuda_here() -> bool:
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return bool(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # no driver, no device: nothing to warm
        return False


#: The kinds of run ``warm`` knows: name → (what it is, the run, whether it can run here).
WARM_RUNS: dict[str, tuple[str, Callable[[], None], Callable[[], bool]]] = {
    "cues": ("the default engine from strokes, a marked image or points", _cues, lambda: True),
    "automatic": (
        "no cues, the shipped network's colours (--prior ideepcolor)",
        _automatic,
        lambda: importlib.util.find_spec("torch") is not None,
    ),
    "edits": ("a first solve, then strokes added (the studio, Colorizer.update)", _edits, lambda: True),
    "levin": ("Levin et al.'s exact system (--method levin): the LU, and tiles beyond 12 MP", _levin, lambda: True),
    "bilaplacian-gtv": ("ADMM and its multigrid (--method bilaplacian-gtv)", _gtv, lambda: True),
    "levin-symmetric": (
        "the symmetric variant's graph Laplacian and grid multigrid (--method levin-symmetric)",
        _symmetric,
        lambda: True,
    ),
    "cuda": ("the default engine on a CUDA GPU (--device cuda: CuPy's kernels)", _cuda, _cuda_here),
}


@dataclass(frozen=True)
class Warmed:
    """One kind of run warmed: its name, the seconds it took (compiling included), or why it was
    skipped (empty: it ran)."""

    name: str
    seconds: float
    skipped: str = ""


def warm(
    kinds: tuple[str, ...] = tuple(WARM_RUNS),
    progress: Callable[[str], None] | None = None,
    runs: dict[str, tuple[str, Callable[[], None], Callable[[], bool]]] = WARM_RUNS,
) -> list[Warmed]:
    """Run each kind of run in ``kinds`` once on the bundled example, compiling its kernels into
    numba's cache; one whose extra is not installed (the network needs torch) is skipped."""
    unknown = [kind for kind in kinds if kind not in runs]
    if unknown:
        raise ValueError(f"unknown kinds of run {unknown}; known: {', '.join(runs)}")
    done = []
    for kind in kinds:
        what, run, available = runs[kind]
        if not available():
            done.append(Warmed(kind, 0.0, "its extra is not installed"))
            continue
        if progress is not None:
            progress(f"{kind}: {what}")
        start = time.perf_counter()
        with kernels_at_every_size():
            run()
        done.append(Warmed(kind, time.perf_counter() - start))
    # Each kind that ran has its kernels compiled: small photos of it may run them too (kernels.array_code).
    ran = tuple(warmed.name for warmed in done if not warmed.skipped)
    if ran:
        mark_kernels_warm(ran)
    return done


def warm_in_background(kinds: tuple[str, ...] = kernels.BACKGROUND_KINDS[kernels.DEFAULT_KIND]) -> bool:
    """Compile the kernels of ``kinds`` (:func:`warm`) at the lowest priority (``nice`` 19, and
    Linux's idle scheduling: it runs only on a core nothing else wants)."""
    with suppress(OSError, AttributeError):
        os.nice(19)
    with suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))

    def compiled() -> bool:
        return all(kernels_warm(kind) for kind in kinds)

    folder = kernels._mark_folder()
    if folder is None or compiled():
        return False
    try:
        import fcntl
    except ImportError:  # not POSIX: no background compile (``varcolor warm`` does it)
        return False
    try:
        lock = open(folder / WARMING_LOCK, "a")  # noqa: SIM115 (held until this process ends)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    with lock:
        kernels_warm.cache_clear()  # another process may have finished while this one started
        if compiled():
            return False
        try:
            warm(kinds)
        except OSError:  # a full disk, a cache made read-only meanwhile: nothing marked, nothing said
            return False
        return compiled()


if __name__ == "__main__":  # the background compile's process (varcolor.common.kernels.start_background_warm)
    import sys

    known = [kind for kind in sys.argv[1:] if kind in WARM_RUNS]
    warm_in_background(tuple(known) or kernels.BACKGROUND_KINDS[kernels.DEFAULT_KIND])
