"""Interactive updates: new cues answered without a global re-solve where that is exact enough.

Two ways, for :class:`~varcolor.methods.LinearMethod` methods without a prior
(:meth:`varcolor.Colorizer.update` says when each applies):
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from ..common.kernels import any_layout, compile_once
from ..common.raster import coordinates
from ..cues import Cues
from ..solvers.base import relative_norm
from ..solvers.lowrank import LowRankUpdater, Released, TooCostly
from ..solvers.stencil import GridOperator
from ..solvers.window import local_correction

__all__ = ["Updates", "MAX_HELD", "UPDATE_TINY", "UPDATE_BUDGET"]

# Low-rank updates: the most held pixels coupled to unknowns; the change below which a correction
# leaves pixels out (ab units).
MAX_HELD = 2000
UPDATE_TINY = 1e-4
UPDATE_BUDGET = 1e-2


class Updates:
    """The update machinery of one colorizer: the base a low-rank update corrects."""

    #: Solve an edit afresh where its low-rank correction is predicted to cost more than a fresh solve.
    compare_with_fresh = True

    # ``method``: a :class:`varcolor.methods.LinearMethod` (a layer above: no type is imported).
    def __init__(self, method: Any, space: str, targets_at: Callable[[Cues, np.ndarray], np.ndarray]):
        self.method, self.targets_at = method, targets_at
        self.scale = 1.0 if space == "lab" else 1 / 500
        # The last global direct solve's updater (made when an edit first needs it), its cues.
        self.base: tuple[LowRankUpdater | Callable[[], LowRankUpdater], np.ndarray, np.ndarray] | None = None
        self.fresh_seconds = np.inf
        self.margin = 16  # where the next windowed update starts (its last accepted margin, less a step)
        #: The relative residual past which a low-rank correction is refined (None: the method's ``tol``).
        self.refine_tol: float | None = None

    def forget(self) -> None:
        self.base = None

    def rebase(self, chroma: np.ndarray, mask: np.ndarray, targets: np.ndarray) -> None:
        """After a global solve without a prior: keep its factors (if direct) for low-rank updates.

        Parameters
        ----------
        chroma : ndarray
            ``H×W×2``: the solve's result (copied).
        mask : ndarray of bool
            ``H×W``: its cue pixels.
        targets : ndarray
            ``H×W×2``: its cue values in the method's space, read at ``mask``.
        """
        self.base = None
        factors = self.method.factors
        if factors is None:
            return
        base = chroma.copy()
        refine_tol = self.method.options.tol if self.refine_tol is None else self.refine_tol
        scale = self.scale  # (not self: held in self.base, it made a cycle the collector had to find)

        def updater() -> LowRankUpdater:
            return LowRankUpdater(
                factors, base, UPDATE_TINY * scale, UPDATE_BUDGET * scale, MAX_HELD, refine_tol=refine_tol
            )

        self.base = (updater, mask.copy(), targets.reshape(-1, 2)[np.flatnonzero(mask)])
        # What a fresh solve of this size costs, as just timed: an edit predicted to cost more is solved afresh.
        self.fresh_seconds = factors.setup_seconds + (factors.solve_seconds or 0.0)

    def update(self, cues: Cues, more_cues: Cues, chroma: np.ndarray):
        """The new chroma for ``cues`` (``more_cues`` added to the last ones, whose solution is
        ``chroma``), its report and where it changed (a pair of slices or of index arrays)."""
        found, why = self.edit(cues, chroma)
        if found is None:
            self.base = None  # the window's change is not one the base's factors describe
            found = self._locally(cues, more_cues, chroma)
            if found is None:
                why = (
                    f"no low-rank correction ({why}), and the change the new cues cause does not die out "
                    "within a window of a tenth of the image"
                )
        return found, (None if found is not None else why)

    def edit(self, cues: Cues, last: np.ndarray):
        """The new chroma for the whole new cue set ``cues`` from the base's factors, whatever
        changed since the base solve (cues added, removed, recoloured, moved)."""
        if not self.ready():
            return None, "no factors of an earlier direct solve to correct"
        assert self.base is not None
        updater, base_mask, base_targets = self.base
        assert isinstance(updater, LowRankUpdater)
        if cues.shape != base_mask.shape:
            return None, "the cues are for another image size"
        held = np.flatnonzero(cues.mask & ~base_mask)
        first = np.flatnonzero(base_mask)
        keep = cues.mask.ravel()[first]
        kept, released = first[keep], first[~keep]
        now = self.targets_at(cues, kept)
        recoloured = np.any(now != base_targets[keep], axis=1)
        changed = np.concatenate([kept[recoloured], released])
        rhs_change = None
        if len(changed):
            old = np.concatenate([base_targets[keep][recoloured], base_targets[~keep]])
            new = np.concatenate([now[recoloured], np.zeros((len(released), old.shape[1]))])
            rhs_change = self.method.rhs_change(base_mask, old, new, changed)
        freed = self._released(cues, released) if len(released) else None
        residual = self._residual(updater, cues, freed) if self.method.cue_rows else None
        limit = self.fresh_seconds if self.compare_with_fresh else None
        try:
            chroma, report = updater.solve(held, self.targets_at(cues, held), rhs_change, freed, residual, limit=limit)
        except TooCostly as error:
            return None, f"{error}: solved afresh"
        except ValueError as error:  # too many pixels for the block
            return None, f"the edit is too large for a low-rank correction ({error})"
        window = report.pop("box")
        info = {
            "solver": "direct",
            "iterations": 0,
            "residual": None,
            "update": "low-rank",
            **report,
            "fresh_seconds": self.fresh_seconds,
            "why": f"a low-rank correction was predicted to take {report['predicted_seconds']:.2f} s, "
            f"a fresh solve {self.fresh_seconds:.2f} s",
            "recoloured": int(np.count_nonzero(recoloured)),
            "window": _box(window),
        }
        # Strokes far apart make a large box of which little moved: there re-colour only what did.
        compile_once(_differs, any_layout(3), any_layout(3))
        moved = _differs(chroma[window], last[window])
        if moved.size and moved.mean() > 0.25:
            return (chroma, info, window), None
        rows, columns = coordinates(moved)
        return (chroma, info, (rows + window[0].start, columns + window[1].start)), None

    def ready(self) -> bool:
        """Whether there is a base to correct, its updater made now if it was not yet."""
        if self.base is None:
            return False
        updater, mask, targets = self.base
        if not isinstance(updater, LowRankUpdater):
            try:
                self.base = (updater(), mask, targets)
            except ValueError:  # every pixel a cue: no unknowns to hold
                self.base = None
                return False
        return True

    def _residual(self, updater: LowRankUpdater, cues: Cues, released: Released | None):
        """The new system's residual and its relative norm, for a method whose cues change only
        their own rows: the first solve's operator is the new one but at cue pixels."""
        operator = updater.solver.operator
        cue_pixels = np.flatnonzero(cues.mask)
        scale = self.targets_at(cues, cue_pixels)

        def residual(x: np.ndarray) -> tuple[np.ndarray, float]:
            r = -operator.apply(x)  # the right-hand side is 0 off the cues (no prior here)
            r.reshape(-1, x.shape[-1])[cue_pixels] = 0.0
            if released is not None:
                window = released.window
                rows = released.rhs - GridOperator(released.stencil).apply(x[window])
                top, left = window[0].start, window[1].start
                i, j = np.divmod(released.pixels, x.shape[1])
                r[i, j] = rows[i - top, j - left]
            return r, relative_norm(r.reshape(-1, x.shape[-1]), scale)

        return residual

    def _released(self, cues: Cues, released: np.ndarray) -> Released:
        """The new system around the cue pixels of the base that ``cues`` no longer marks: on a
        window 3 px larger than their box, so that the rows of their neighbours are the image's."""
        height, width = cues.shape
        rows, columns = np.divmod(released, width)
        window = (
            slice(max(int(rows.min()) - 3, 0), min(int(rows.max()) + 4, height)),
            slice(max(int(columns.min()) - 3, 0), min(int(columns.max()) + 4, width)),
        )
        mask = cues.mask[window]
        values = np.zeros(mask.shape + (2,))
        i, j = coordinates(mask)
        values[i, j] = self.targets_at(cues, (i + window[0].start) * width + j + window[1].start)
        operator, rhs = self.method.window_system(window, mask, values)
        return Released(released, window, operator.stencil, rhs)

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
    """Where two ``H×W×C`` arrays differ in any channel."""
    out = np.zeros(new.shape[:2], np.bool_)
    for i in numba.prange(new.shape[0]):
        for j in range(new.shape[1]):
            for c in range(new.shape[2]):
                if new[i, j, c] != old[i, j, c]:
                    out[i, j] = True
    return out
