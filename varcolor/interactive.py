"""Interactive updates: new cues answered without a global re-solve where that is exact enough.

Two ways, for :class:`~varcolor.methods.LinearMethod` methods without a prior
(:meth:`varcolor.Colorizer.update` says when each applies):

- **low-rank**: after a global direct solve, the new solution is that solve corrected for the cue
  pixels added since, with its factors (:class:`~varcolor.solvers.lowrank.LowRankUpdater`);
- **window**: a direct solve on a window around the new cues, grown until the change they cause
  dies out within it (:func:`varcolor.solvers.window.local_correction`).
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from .cues import Cues
from .kernels import any_layout, compile_once
from .methods import LinearMethod
from .solvers.lowrank import LowRankUpdater
from .solvers.window import local_correction

__all__ = ["Updates", "MAX_HELD", "UPDATE_TINY", "UPDATE_BUDGET"]

# Low-rank updates: the most held pixels coupled to unknowns; the change below which a correction
# leaves pixels out (ab units); the error bound that corrections from the last result may add up
# to before one starts from the first solve again (5× under the solvers' 0.05 exactness bound).
# In YIQ, whose chroma spans about 1/200 of ab's range, 1/500 of both.
MAX_HELD = 2000
UPDATE_TINY = 1e-4
UPDATE_BUDGET = 1e-2


class Updates:
    """The update machinery of one colorizer: the base a low-rank update corrects (the last
    global direct solve's factors, cue mask and cue values) and where the next windowed update
    starts. ``targets_at(cues, pixels)`` gives the cue values the system holds at raster indices."""

    def __init__(self, method: LinearMethod, space: str, targets_at: Callable[[Cues, np.ndarray], np.ndarray]):
        self.method, self.targets_at = method, targets_at
        self.scale = 1.0 if space == "lab" else 1 / 500
        self.base: tuple[LowRankUpdater, np.ndarray, np.ndarray] | None = None
        self.margin = 16  # where the next windowed update starts (its last accepted margin, less a step)

    def forget(self) -> None:
        self.base = None

    def rebase(self, chroma: np.ndarray, mask: np.ndarray, targets: np.ndarray) -> None:
        """After a global solve without a prior: keep its factors (if direct) for low-rank updates."""
        self.base = None
        factors = self.method.factors
        if factors is None:
            return
        try:
            updater = LowRankUpdater(
                factors, chroma.copy(), UPDATE_TINY * self.scale, UPDATE_BUDGET * self.scale, MAX_HELD
            )
        except ValueError:  # every pixel a cue: no unknowns to hold
            return
        self.base = (updater, mask.copy(), targets.reshape(-1, 2)[np.flatnonzero(mask)])

    def update(self, cues: Cues, more_cues: Cues, chroma: np.ndarray):
        """The new chroma for ``cues`` (``more_cues`` added to the last ones, whose solution is
        ``chroma``), its report and where it changed (a pair of slices or of index arrays); None
        where no local update applies (a global re-solve follows)."""
        found = self._from_base(cues, chroma) if self.base is not None else None
        if found is None:
            self.base = None  # the window's change is not one the base's factors describe
            found = self._locally(cues, more_cues, chroma)
        return found

    def _from_base(self, cues: Cues, last: np.ndarray):
        updater, base_mask, base_targets = self.base
        if cues.shape != base_mask.shape:
            return None
        held = np.flatnonzero(cues.mask & ~base_mask)
        first = np.flatnonzero(base_mask)
        now = self.targets_at(cues, first)
        recoloured = np.flatnonzero(np.any(now != base_targets, axis=1))
        rhs_change = None
        if len(recoloured):
            rhs_change = self.method.rhs_change(base_mask, base_targets[recoloured], now[recoloured], first[recoloured])
        try:
            chroma, report = updater.hold(held, self.targets_at(cues, held), rhs_change)
        except ValueError:  # too many held pixels, or one the first system had no unknown for
            return None
        window = report.pop("box")
        info = {
            "solver": "direct",
            "iterations": 0,
            "residual": None,
            "update": "low-rank",
            **report,
            "window": _box(window),
        }
        # Strokes far apart make a large box of which little moved: there re-colour only what did
        # (gathering pixels costs more than slicing where most of the box moved).
        compile_once(_differs, any_layout(3), any_layout(3))
        moved = _differs(chroma[window], last[window])
        if moved.size and moved.mean() > 0.25:
            return chroma, info, window
        rows, columns = np.nonzero(moved)
        return chroma, info, (rows + window[0].start, columns + window[1].start)

    def _locally(self, cues: Cues, more_cues: Cues, last: np.ndarray):
        changed = more_cues.mask
        if cues.shape != last.shape[:2] or not changed.any():
            return None
        targets = self.targets_at(more_cues, np.flatnonzero(changed))
        found = local_correction(
            self.method.window_system,
            last.shape[:2],
            cues.mask,
            changed,
            targets - last[changed],
            first_margin=self.margin,
        )
        if found is None:
            self.margin = 16
            return None
        window = found.window
        self.margin = max(16, int(found.margin / 1.5))
        chroma = last.copy()
        chroma[window] += found.delta
        chroma[changed] = targets  # exactly the cue values, not the solve's rounding of them
        # No global residual: the window's is the direct solve's; its accuracy is the agreement.
        info = {
            "solver": "direct",
            "iterations": 0,
            "residual": None,
            "update": "window",
            "window": _box(window),
            "margin": found.margin,
            "window_agreement": found.agreement,
        }
        return chroma, info, window


def _box(window) -> list[int]:
    """A pair of slices as [top, left, height, width]."""
    return [
        int(window[0].start),
        int(window[1].start),
        int(window[0].stop - window[0].start),
        int(window[1].stop - window[1].start),
    ]


@numba.njit(cache=True, parallel=True)
def _differs(new, old):
    """Where two ``H×W×C`` arrays differ in any channel (``np.any(new != old, axis=2)`` without
    its temporaries, which cost a noticeable share of an update: docs/guide/solvers.md,
    "Measurements behind the solvers' settings")."""
    out = np.zeros(new.shape[:2], np.bool_)
    for i in numba.prange(new.shape[0]):
        for j in range(new.shape[1]):
            for c in range(new.shape[2]):
                if new[i, j, c] != old[i, j, c]:
                    out[i, j] = True
    return out
