"""Re-solving a linear colorization after a stroke in a window around the stroke only.

The change ``δ`` obeys a maximum principle (Levin's systems are M-matrices), so where cues are
dense it dies out near the stroke: it is solved on ever wider windows with ``δ = 0`` held on their
border until two successive windows agree (benchmarks/results/solvers_measured.md, "Updates after a
stroke"); where cues are sparse the caller solves globally instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..common.raster import coordinates
from .direct import DirectSolver

__all__ = ["LocalCorrection", "local_correction", "held_border"]

#: Pixels held along each window side that is not the image's own border: two, so the first free
#: pixel's weights (which read its neighbours' 3×3 neighbourhoods) are the full image's.
BORDER = 2
# Relative residual of each window's solve: the single-precision factors alone reach it, so no
# refinement (benchmarks/results/solvers_measured.md, "Measurements behind the solvers' settings").
_SOLVE_TOL = 1e-5


@dataclass(frozen=True)
class LocalCorrection:
    """``delta`` (``h×w×C``), to be added to the old solution on ``window`` (a pair of slices); ``margin``:
    the pixels the window extends around the changed pixels' bounding box; ``agreement``: the largest
    difference from the previous, smaller window's ``delta``."""

    window: tuple[slice, slice]
    delta: np.ndarray
    margin: int
    agreement: float


def held_border(window: tuple[slice, slice], shape: tuple[int, int]) -> np.ndarray:
    """The pixels of ``window`` (a pair of slices with bounds) held when the system is solved on it alone:
    :data:`BORDER` pixels along each side cut from the image (``shape``).

    Parameters
    ----------
    window : tuple of slice
        The window's rows and columns in the image, with explicit starts and stops.
    shape : tuple of int
        The image's ``(H, W)``.
    """
    (top, bottom), (left, right) = (window[0].start, window[0].stop), (window[1].start, window[1].stop)
    held = np.zeros((bottom - top, right - left), bool)
    held[:BORDER] |= top > 0
    held[-BORDER:] |= bottom < shape[0]
    held[:, :BORDER] |= left > 0
    held[:, -BORDER:] |= right < shape[1]
    return held


def local_correction(
    system: Callable,
    shape: tuple[int, int],
    held: np.ndarray,
    changed: np.ndarray,
    change: np.ndarray,
    tol: float = 0.02,
    first_margin: int = 16,
    growth: float = 1.5,
    max_fraction: float = 0.1,
) -> LocalCorrection | None:
    """The change ``δ`` caused by new cues, solved in a window around them.

    Examples
    --------
    A strip with a column of cues every 4 pixels: a new value in one column changes only the two
    gaps beside it (linearly: the strip is flat gray).

    >>> import numpy as np
    >>> from varcolor.energies.levin import exact_operator, exact_rhs
    >>> gray = np.full((2, 41), 0.5)
    >>> held = np.zeros((2, 41), bool); held[:, ::4] = True
    >>> changed = np.zeros((2, 41), bool); changed[:, 20] = True
    >>> change = np.full((2, 1), 8.0)
    >>> system = lambda w, fixed, values: (exact_operator(gray[w], fixed), exact_rhs(fixed, values))
    >>> found = local_correction(system, gray.shape, held, changed, change, max_fraction=1.0)
    >>> full = np.zeros((2, 41, 1)); full[found.window] = found.delta
    >>> full[0, 15:26, 0].round(4).tolist()
    [0.0, 0.0, 2.0, 4.0, 6.0, 8.0, 6.0, 4.0, 2.0, 0.0, 0.0]
    """
    height, width = shape
    rows, columns = coordinates(changed)
    box = (rows.min(), rows.max(), columns.min(), columns.max())
    margin, previous, previous_delta = first_margin, None, None
    while True:
        top, bottom = max(box[0] - margin, 0), min(box[1] + margin + 1, height)
        left, right = max(box[2] - margin, 0), min(box[3] + margin + 1, width)
        if (bottom - top) * (right - left) > max_fraction * height * width:
            return None
        window = (slice(top, bottom), slice(left, right))
        border = held_border(window, shape)
        fixed = held[window] | border
        values = np.zeros(border.shape + change.shape[-1:])
        values[changed[window]] = change
        operator, rhs = system(window, fixed, values)
        delta, _ = DirectSolver(operator, tol=_SOLVE_TOL).solve(rhs)
        if not border.any():
            return LocalCorrection(window, delta, margin, 0.0)
        if previous is not None:
            inner = (
                slice(previous[0].start - top, previous[0].stop - top),
                slice(previous[1].start - left, previous[1].stop - left),
            )
            difference = delta.copy()
            difference[inner] -= previous_delta
            agreement = float(np.abs(difference).max(initial=0.0))
            if agreement <= tol:
                return LocalCorrection(window, delta, margin, agreement)
        previous, previous_delta = window, delta
        margin = int(np.ceil(margin * growth))
