"""``levin-multiscale``: Levin's exact system solved where colour lives — coarse, then corrected fine.

The system is solved on a grid of blocks, lifted to full resolution by the guided filter, then
solved exactly again around the cues. Averaging first keeps film grain from reading as edges
(docs/guide/methods.md#levin-multiscale-in-detail). ``factor=1`` is ``levin`` itself.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import ClassVar

import numba
import numpy as np

from ..common.buffers import Spares
from ..common.fields import option
from ..common.kernels import kernels_missing, threads_for
from ..common.memory import _gb, check_memory, memory_budget
from ..common.raster import box_of, changed_pixels, channel_extremes, coordinates, dilated, one_value
from ..common.threads import Worker, lowest_priority
from ..energies import levin
from ..errors import InputError
from ..options import DEFAULT_METHOD, PRIOR_WEIGHT, Options
from ..solvers.choice import estimate_bytes
from ..solvers.direct import DirichletSolver, Factors
from ..solvers.lowrank import LowRankUpdater
from ..solvers.multiscale import (
    block_mean,
    block_range,
    coarse_cues,
    coarse_shape,
    guide_statistics,
    guided_coefficients,
    lift,
    lift_change,
)
from ..solvers.schwarz import sweep_tiles, tile_overlap
from ..solvers.stencil import GridOperator
from ..solvers.superlu import release, wake_with
from ..solvers.window import held_border
from . import interactive, multiscale_device
from .base import NOT_ITERATIVE, Method, Problem
from .levin import Levin

__all__ = ["LevinMultiscale", "Parameters", "auto_factor"]

#: Below this many pixels the exact solve is as fast as anything: ``factor`` 0 means 1 there.
EXACT_BELOW = 256 * 256
#: The coarse grid ``factor`` 0 aims at no more than this many cells (a direct LU of it is cheap).
COARSE_CELLS = 1_100_000
#: Side of the full-resolution tiles the correction solves one at a time (its LU's size).
TILE = 256
#: Up to this many pixels what edits reuse is kept; a scan beyond, colorized once, does not hold it.
KEEP_PIXELS = 16_000_000
#: The most bytes of the tiles' factors kept (:class:`_TileFactors`): an edit that moves the lift
#: solves most tiles again for the same unknowns (benchmarks/results/live_strokes.md).
TILE_FACTORS_BYTES = 32 << 20
#: The relative residual each tile's solve is refined to.
TILE_TOL = 1e-5
#: After an edit, a tile's kept correction is reused where the lift moved less than this (ab; in
#: YIQ 1/500 of it): its error is at most twice that (:meth:`LevinMultiscale._correct`).
REUSE_BELOW = 0.02
#: After an edit, a block keeps its last lift while it is within this of the new coarse solution's
#: (ab; a bound summed over edits), so an edit lifts and paints again only the blocks that moved.
LIFT_BELOW = 0.01
#: The coarse solver's name where one colour's answer was taken unsolved (then restrained).
ONE_COLOUR = "none (one colour: Levin's answer everywhere, then restrained)"
#: The key under which a tile's closed regions' corrections are kept (its band's: the tile's own).
REGIONS = "regions"
#: The correction spans past ``margin`` around a cue whose lifted value is off by more than this
#: (ab; in YIQ 1/500 of it), over its closed region (benchmarks/results/multiscale_reach_tuning.md).
#: (The correction's span; "reach" is the restraint's alone: :mod:`varcolor.restraint`.)
SPAN_ABOVE = 1.0
#: A region of a cue's lightness up to this many pixels across is closed (the cue's colour is all its
#: colour in the exact solve); a larger one is open (the lift's colour flows there) and left alone.
SPAN = 48
#: Where the gray, smoothed over a pixel, changes by less than this per pixel, a region goes on.
SPAN_STEP = 0.03
#: Pixels solved around a closed region: across its edge, so that what holds it lies outside,
#: where the exact system couples weakly to it (the edge's own pixels).
SPAN_PAD = 4
#: Past this share of :data:`varcolor.methods.interactive.MAX_HELD` held pixels, the coarse grid is factored
#: again in a thread (:class:`_Refactor`) while edits go on (benchmarks/results/code_notes.md).
REFACTOR_ABOVE = 0.5
#: The coarse grid's low-rank corrections are refined past this relative residual, not ``tol``: what
#: is left moves the coarse chroma below what a lift shows (:data:`LIFT_BELOW`; code_notes.md).
COARSE_REFINE_TOL = 1e-5
#: A closed region of fewer pixels is left to the band: a pocket the grain closes beside a stroke
#: costs a solve and changes nothing the band did not.
SPAN_AREA = 100


#: After an edit, a coarse cell keeps its last reach (:mod:`varcolor.restraint`) while the new one
#: would move its chroma by less than this (ab; in YIQ 1/500 of it).
RESTRAINT_BELOW = 0.05


#: Up to this many pixels a fresh solve reports its residual on Levin's full system (code_notes.md);
#: beyond, and after an edit, ``residual`` is None.
RESIDUAL_BELOW = 4_000_000


def _whole(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InputError(f"{name} must be a whole number >= 0, got {value!r}")


#: The values of levin-multiscale's ``restraint``: on (the default), off (Levin's flood).
RESTRAINTS = ("on", "off")


def _restraint(name: str, value) -> None:
    if value not in RESTRAINTS:
        raise InputError(f"{name} must be {' or '.join(RESTRAINTS)}, got {value!r}")


def _eps(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class Parameters:
    """levin-multiscale's own options (chosen on BSDS500 train: benchmarks/results/multiscale_tuning.md)."""

    factor: int = option(
        0,
        "levin-multiscale: block side of the coarse grid in pixels; 1 = levin's exact solve, "
        "0 = by image size (default %(default)s)",
        check=_whole,
    )
    margin: int = option(
        8,
        "levin-multiscale: pixels around the cues solved exactly at full resolution (default %(default)s)",
        check=_whole,
    )
    radius: int = option(
        1, "levin-multiscale: guided lift's window radius in coarse cells (default %(default)s)", check=_whole
    )
    eps: float = option(
        1e-3, "levin-multiscale: guided lift's slope damping, gray variance (default %(default)s)", check=_eps
    )
    restraint: str = option(
        "on",
        "levin-multiscale: 'on' keeps each cue's colour to what it reaches, the rest neutral; 'off' lets it "
        "reach every pixel, as Levin's method does (default %(default)s)",
        choices=RESTRAINTS,
        check=_restraint,
    )

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            spec.metadata["check"](spec.name, getattr(self, spec.name))


#: The fewest cells a side of the coarse grid: Levin's 3×3 windows need three rows (on two, a
#: 2×10000 grid of an 8-bit gray had a zero pivot).
COARSE_SIDE = 3


def auto_factor(shape: tuple[int, int]) -> int:
    """The block side ``factor=0`` picks for an image of ``shape``: 1 (exact) below :data:`EXACT_BELOW`
    pixels.

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)`` of the image.
    """
    pixels = int(shape[0]) * int(shape[1])
    if pixels <= EXACT_BELOW:
        return 1
    factor = 4
    while pixels / factor**2 > COARSE_CELLS:
        factor *= 2
    # A thin image (a few rows, thousands of columns): the coarse grid keeps COARSE_SIDE cells a
    # side, with smaller blocks down to the exact solve.
    while factor > 1 and min(coarse_shape(shape, factor)) < COARSE_SIDE:
        factor //= 2
    return factor


@dataclass
class _CoarseCues:
    """The coarse cues as :class:`varcolor.methods.interactive.Updates` reads a cue set."""

    mask: np.ndarray
    targets: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape


class LevinMultiscale(Method):
    name = DEFAULT_METHOD
    summary = "Levin's system solved coarse and corrected fine near the cues: fast, and the default"
    spaces = ("lab", "yiq")
    symmetric = False
    video = True  # the space-time Levin system on the block grid (varcolor.video.coarse)
    within_cues = True  # Levin coarse, its lift clipped to the coarse range, Levin fine: convex combinations
    prior_modes = Levin.prior_modes
    Parameters: ClassVar[type] = Parameters
    #: Factor the coarse grid again in a thread as edits add up (:data:`REFACTOR_ABOVE`); False:
    #: in the edit that needs it (what tests comparing the two set).
    background: ClassVar[bool] = True

    def __init__(self, guide, options, progress=None, *, plan=None, once=False, interiors=None):
        super().__init__(guide, options, progress, plan=plan)
        #: Whether what edits reuse is held: up to :data:`KEEP_PIXELS`, unless made for one answer (``once``).
        self.holds = not once and guide.size <= KEEP_PIXELS
        #: ``interiors``: where each correction tile's flat parts of the gray are kept, even ``once``.
        self._interiors_given = interiors is not None
        self.factor = self.factor_for(guide.shape, options)
        self.coarse_guide = guide if self.factor == 1 else block_mean(guide, self.factor)
        # The coarse solve is levin's, on the coarse grid, with these options (they hold what it
        # reads) and the plan made for it (:meth:`plan`): nothing is checked or planned twice.
        coarse_plan = dataclasses.replace(self.solver_plan, method=Levin.name, shape=self.coarse_guide.shape)
        self.coarse = Levin(self.coarse_guide, options, plan=coarse_plan)
        self.updates = self.coarse.updater(options.space, lambda cues, pixels: cues.targets.reshape(-1, 2)[pixels])
        if self.factor > 1:  # (at 1 the coarse solve is the result: it lands on tol, as levin's does)
            self.updates.refine_tol = COARSE_REFINE_TOL
        self.coarse_chroma: np.ndarray | None = None
        # The last solve's cues (raster indices, values) and each tile's correction: what an
        # edit's corrections reuse.
        self._last_cues: tuple | None = None
        self._kept: dict = {}
        self._drift: dict = {}  # how far the lift moved under each tile's kept corrections since solved
        self._lifted: _Lift | None = None  # the last lift, what it was lifted from, how stale
        self._band: np.ndarray | None = None  # the last cues grown by margin
        self._spares = Spares()  # earlier chroma arrays, for an edit's
        self._refactor: _Refactor | None = None  # the coarse grid factored again in a thread
        self._statistics: tuple | None = None  # the coarse gray's windows, for each lift's fit
        self._interiors: dict = {} if interiors is None else interiors  # each tile's flat parts of the gray
        self._tile_factors = _TileFactors(TILE_FACTORS_BYTES if self.holds else 0)
        self._scale: np.ndarray | None = None  # the last reach on the coarse grid, for an edit's
        #: The device path's array backend (``device="cuda"``: :mod:`.multiscale_device`); None:
        #: this module's CPU path.
        self.device = multiscale_device.backend_for(options.device)
        #: What the device path keeps on the device between solves (:mod:`.multiscale_device`'s
        #: state); None until its first solve.
        self.on_device = None

    @staticmethod
    def factor_for(shape: tuple[int, int], options) -> int:
        """The block side of the coarse grid for an image of ``shape``: the ``factor`` option, or
        :func:`auto_factor`'s where it is 0.

        Parameters
        ----------
        shape : tuple of int
            ``(height, width)`` of the image.
        options : Options
            The options, whose ``parameters`` hold ``factor`` (None: the default, 0).
        """
        factor = (options.parameters or Parameters()).factor
        if factor == 0:
            return auto_factor(shape)
        if int(factor) > 1 and min(coarse_shape(shape, int(factor))) < COARSE_SIDE:
            raise InputError(
                f"factor {factor} leaves a {shape[1]}×{shape[0]} image a coarse grid under {COARSE_SIDE} cells a side; "
                "give a smaller factor, or 0 to choose"
            )
        return int(factor)

    @classmethod
    def plan(cls, shape, options):
        """``levin``'s plan for the coarse grid, with the memory of the whole solve (the full-resolution
        arrays and a tile's LU added), refused where that would not fit in the memory budget.
        """
        shape = (int(shape[0]), int(shape[1]))
        factor = cls.factor_for(shape, options)
        # (a refusal names the image's size, and the grid as the grid)
        grid = (
            None
            if factor == 1
            else f"method {cls.name} on a {shape[1]}×{shape[0]} image: its {factor}×{factor}-block grid"
        )
        inner = Levin.plan(coarse_shape(shape, factor), options, what=grid)
        # Full resolution: the gray, the chroma, the result's Lab and RGB (float64), a tile's LU.
        pixels = shape[0] * shape[1]
        need = inner.bytes + pixels * (8 + 16 + 16 + 24) + estimate_bytes("direct", min(TILE * TILE, pixels))
        check_memory(need, f"method {cls.name} on a {shape[1]}×{shape[0]} image", options.max_memory)
        # One number, the whole solve's (what .bytes says), not the coarse LU's alone.
        grid = "at full resolution" if factor == 1 else f"on the {factor}×{factor}-block grid"
        budget, how = memory_budget(options.max_memory)
        solver = "the exact LU" if inner.solver == "direct" else "the " + inner.solver + " solver"
        if options.device != "cpu":  # the device path (multiscale_device): its own solvers, not the plan's
            solver = f"BiCGSTAB and an aggregation multigrid on the {options.device.upper()} device"
        reason = (
            f"{'auto' if options.solver == 'auto' else 'asked for'}: Levin's system {grid} by {solver}, corrected "
            f"near the cues: about {_gb(need)} in all, within the budget of {_gb(budget)} ({how})"
        )
        return dataclasses.replace(inner, bytes=need, reason=reason, shape=shape, method=cls.name)

    @classmethod
    def same_as(cls, shape, options):
        """``levin`` where the coarse grid is the image itself (``factor`` 1) and ``restraint`` is
        off, else None.
        """
        if (options.parameters or Parameters()).restraint == "on":
            return None  # Levin's colour, restrained: Levin's method is not the same
        return Levin.name if cls.factor_for(shape, options) == 1 else None

    @classmethod
    def ignored_at(cls, shape, options, solver):
        """``margin``, ``radius`` and ``eps`` where the coarse grid is the image itself (``factor`` 1:
        nothing is lifted or corrected); else ``tol`` with a solver that does not iterate.
        """
        return cls._ignored(shape, options, solver)[0]

    @classmethod
    def ignored_at_reason(cls, shape, options, solver):
        """Why :meth:`ignored_at` leaves its options out, in a few words for a warning."""
        return cls._ignored(shape, options, solver)[1]

    @classmethod
    def _ignored(cls, shape, options, solver) -> tuple[frozenset[str], str]:
        """:meth:`ignored_at`'s options and :meth:`ignored_at_reason`'s words, decided once."""
        if cls.factor_for(shape, options) == 1:  # Levin's exact solve: no coarse grid to lift or correct
            small = (options.parameters or Parameters()).factor == 0
            why = "an image this small is" if small else "factor 1:"
            return frozenset(("margin", "radius", "eps")), f"{why} solved at full resolution, with no coarse grid"
        if solver in NOT_ITERATIVE:  # the coarse grid's edits are refined to COARSE_REFINE_TOL, not tol
            return frozenset(("tol",)), f"solver {solver} does not iterate; edits are refined to {COARSE_REFINE_TOL:g}"
        return frozenset(), ""

    @property
    def restrains(self) -> bool:  # type: ignore[override]
        return self.restrained_by(self.options)

    @classmethod
    def restrained_by(cls, options: Options) -> bool:
        """Whether ``options`` keep the cues' colour to their reach (``restraint="on"``): a
        photo's, and a clip's frames' (:mod:`varcolor.video.colorize`).

        Parameters
        ----------
        options : Options
            The colorization's options (this method's).
        """
        return (options.parameters or Parameters()).restraint == "on"

    @classmethod
    def memory(cls, shape, options):
        """The memory its :meth:`plan` says the whole solve needs (bytes)."""
        return cls.plan(shape, options).bytes

    @classmethod
    def prior_for(cls, options):
        """``options.prior``: the coarse ``levin`` solve holds its guess."""
        return options.prior  # the coarse levin solve holds it

    def begin(self, reuse: bool) -> None:
        """Forget the last solve (:meth:`reset`) unless ``reuse``: then :meth:`solve` corrects the
        last coarse solve for the new cues.

        Parameters
        ----------
        reuse
            As :meth:`Method.begin` takes it.
        """
        if not reuse:  # with reuse, solve itself corrects the last coarse solve for an edit
            self.reset()

    def reset(self) -> None:
        self.updates.forget()
        self.coarse.reset()
        self.coarse_chroma = None
        self._drop_refactor()
        self._last_cues, self._kept, self._drift, self._lifted, self._band = None, {}, {}, None, None
        self._scale = None
        if self.on_device is not None:
            self.on_device.last = None

    def ahead(self) -> None:
        # The first edit's chroma: an image-sized array whose pages map slowly inside an edit.
        if self._lifted is not None:
            self._spares.prepare(self._lifted.chroma.shape, self._lifted.chroma.dtype)

    def solve(self, problem: Problem, x0):
        """Levin's system solved on the coarse grid, lifted to full resolution and corrected near the cues
        (coarse, lift, correct); with ``device="cuda"`` by :mod:`varcolor.methods.multiscale_device`.
        """
        if self.device is not None:
            return multiscale_device.solve(self, problem, x0, _span())
        pending = self._refactor
        if pending is None or not pending.go.is_set() or pending.done():
            return self.cpu_solve(problem, x0)
        # The coarse grid is being factored on one core: this edit's kernels keep to the other
        # (a parallel lift beside it took several times as long: code_notes.md).
        with threads_for(1, 1):
            return self.cpu_solve(problem, x0)

    def cpu_solve(self, problem: Problem, x0: np.ndarray | None = None):
        """The CPU path's solve (coarse, lift, correct), whatever ``device`` is: the device path's with a prior."""
        self._go_ahead()  # a factorisation held back by a caller that never said painted()
        times = {}
        start = time.perf_counter()
        factor, margin = self.factor, self.options.parameters.margin
        pixels = _cue_pixels(problem) if self.holds else None
        if factor == 1:
            held, targets = problem.mask, problem.targets
            prior, weight = problem.prior, problem.weight
            guess = x0
        else:
            held, targets = coarse_cues(problem.mask, problem.targets, factor, pixels=pixels)
            prior = None if problem.prior is None else block_mean(problem.prior, factor)
            weight = None if problem.weight is None else block_mean(problem.weight, factor)
            # The guess starts an iterative coarse solver: an update's from the last coarse solve, a
            # caller's x0 averaged as the cues are.
            if x0 is None:
                guess = None
            elif self.coarse_chroma is not None and self.coarse_chroma.shape[:2] == held.shape:
                guess = self.coarse_chroma
            else:
                guess = block_mean(np.asarray(x0, np.float64), factor)
        coarse, refactor = None, None
        report: dict = {}
        if self.coarse_chroma is not None and kernels_missing(self.guide.size):
            # A never-warmed installation's small photo: solved afresh by array code, since the
            # low-rank correction and the lift of what changed exist only as kernels.
            self.coarse_chroma = None
            report = {"full_solve": "the edit's kernels are not compiled yet (varcolor warm): solved afresh"}
        if self.coarse_chroma is not None and prior is None and held.any():
            cues = _CoarseCues(held, targets)
            refactor = self._adopt(wait=False)
            found, why = self.updates.edit(cues, self.coarse_chroma)
            if found is None and self._refactor is not None:
                # The full solve this edit needs is under way: its factors, corrected for what
                # changed since it started.
                refactor = self._adopt(wait=True) or refactor
                found, why = self.updates.edit(cues, self.coarse_chroma)
            if found is not None:
                coarse, report, _ = found
                refactor = self._factor_ahead(report, held, targets) or refactor
            else:
                report = {"full_solve": why}
        if coarse is None and prior is None and (colour := one_value(targets[held])) is not None:
            # One colour (a first stroke): Levin's coarse answer is that colour everywhere, with
            # no factorisation; the reach and the correction still run. The next edit factors.
            self.updates.forget()
            self._drop_refactor()
            self.coarse.reset()
            coarse = np.empty(held.shape + (targets.shape[-1],))
            coarse[...] = colour
            report = {"solver": ONE_COLOUR, "iterations": 0, "residual": 0.0, **report}
        if coarse is None:
            self._drop_refactor()
            self.coarse.reset()
            coarse, solved = self.coarse.solve(Problem(held, targets, prior, weight), guess)
            report = {**solved, **report}
            if prior is None and self.holds:
                self.updates.rebase(coarse, held, targets)
            elif not self.holds:
                # A scan colorized once: its coarse factors go before the full-resolution arrays
                # come; an edit factors the coarse grid again.
                self.coarse.reset()
        edited = self.coarse_chroma is not None and prior is None  # however the coarse grid was solved
        self.coarse_chroma = coarse
        times["coarse_seconds"] = time.perf_counter() - start
        # The coarse edit's box is in coarse cells: what changed at full resolution is not it.
        report.pop("window", None)
        engine = {"factor": factor, "coarse_shape": list(held.shape), "coarse_update": report.get("update", "fresh")}
        if refactor is not None:
            engine["coarse_refactor"] = refactor
        shown = self.restrained(coarse, held, problem, edited)
        if factor == 1:
            return shown, {**report, "engine": engine}
        start = time.perf_counter()
        chroma, moved = self._lift(shown, edited, _precision(problem))
        off = self._hold_cues(chroma, problem, pixels)
        times["lift_seconds"] = time.perf_counter() - start
        if self.on_early is not None and margin and self.holds:
            # The lift is every pixel's answer but the corrections' few: painted while they run (not
            # for a scan colorized once, whose levels would be held beside the corrections' masks).
            self.on_early(chroma, None if moved is None else _windows(moved > 0, self.factor, [], self.guide.shape))
            report["late"] = []
        start = time.perf_counter()
        made = self._tile_factors.made
        tiles, reused, unknowns, boxes = self._correct(chroma, problem, margin, moved, off, pixels)
        times["correct_seconds"] = time.perf_counter() - start
        engine.update(tiles=tiles, tiles_reused=reused, corrected_pixels=unknowns, margin=margin, **times)
        engine["tile_factorisations"] = self._tile_factors.made - made  # the others' factors were kept
        if "late" in report:
            report["late"] = boxes  # every window the corrections wrote into
        if moved is not None:  # elsewhere the chroma is the last solve's: only this is painted again
            report["changed"] = _windows(moved > 0, self.factor, boxes, self.guide.shape)  # 0: not changed
            engine["lifted_blocks"] = int(np.count_nonzero(moved > 0))
        # The report is the whole solve's: the coarse stage's solver, iterations, residual and bound
        # under engine; the residual is the result's on Levin's full-resolution system.
        for key in ("solver", "iterations", "residual", "bound", "seconds"):
            if key in report:
                engine[f"coarse_{key if key != 'seconds' else 'solver_seconds'}"] = report.pop(key)
        engine["correction_solver"] = "direct"
        residual = None
        if problem.reach is not None and self.restrains:
            engine[multiscale_device.NO_RESIDUAL] = multiscale_device.RESTRAINED
        elif not edited and self.guide.size <= min(RESIDUAL_BELOW, KEEP_PIXELS):
            start = time.perf_counter()
            residual = self.full_residual(chroma, problem)
            engine["residual_seconds"] = time.perf_counter() - start
        else:  # (None: not computed, never a figure that is not this result's)
            engine[multiscale_device.NO_RESIDUAL] = (
                "an edit: measuring it would cost as much as the edit"
                if edited
                else f"above {min(RESIDUAL_BELOW, KEEP_PIXELS):,} pixels: measuring it would add a fifth to the solve"
            )
        report.update(solver="multiscale", iterations=None, residual=residual, engine=engine)
        return chroma, report

    def restrained(self, coarse: np.ndarray, held: np.ndarray, problem: Problem, edited: bool) -> np.ndarray:
        """The coarse chroma scaled by the cues' reach (:mod:`varcolor.restraint`), 1 on the coarse cues;
        where a prior is on (Lab), what the reach leaves is the prior's, by its confidence."""
        reach = problem.reach
        if reach is None or not self.restrains:
            self._scale = None
            return coarse
        scale = reach.at(coarse.shape[:2], self.factor)
        scale[held] = 1.0
        last = self._scale
        if edited and last is not None and last.shape == scale.shape:
            below = RESTRAINT_BELOW * (1.0 if self.options.space == "lab" else 1 / 500)  # YIQ spans 1/500 of ab
            keep = np.abs(scale - last) * np.abs(coarse).max(axis=2) < below
            scale[keep] = last[keep]
        self._scale = scale if self.holds else None
        shown = coarse * scale[..., None]
        if problem.prior is not None and problem.weight is not None and self.options.space == "lab":
            prior, weight = problem.prior, problem.weight
            if self.factor > 1:
                prior, weight = block_mean(prior, self.factor), block_mean(weight, self.factor)
            # The prior's confidence, as strong as its β says (β → 0: no prior, restrained or not).
            beta = float(self.options.prior_weight)
            trust = np.clip(weight / max(beta, 1e-300), 0.0, 1.0) * min(1.0, beta / PRIOR_WEIGHT)
            shown += ((1.0 - scale) * trust)[..., None] * prior
        return shown

    def full_residual(self, chroma: np.ndarray, problem: Problem) -> float:
        """The relative residual of ``chroma`` on Levin's exact system at full resolution with ``problem``'s
        cues (and prior): ``max_c ‖A u_c − b_c‖ / ‖b_c‖``, what ``levin`` reports for its own solve.

        Parameters
        ----------
        chroma : ndarray, ``H×W×2``
            The result.
        problem : Problem
            Its cues (and prior).
        """
        spread = problem.prior is not None and self.coarse.options.prior_mode in ("residual", "spread")
        squares = levin.exact_residual_squares(
            self.guide, problem.mask, problem.targets, chroma, problem.prior, problem.weight, spread
        )
        return _relative(squares)

    def _adopt(self, wait: bool) -> str | None:
        """Take the factors of the coarse grid made in the background, where they are ready (or, with
        ``wait``, once they are): the next edits correct them."""
        pending = self._refactor
        if pending is None or not (wait or pending.done()):
            return None
        pending.let_go()  # (an edit that started it and failed before letting it go)
        pending.join()
        self._refactor = None
        if pending.updates is None or pending.updates.base is None:
            return None
        # The costs as timed here in the foreground: the thread's factorisation, beside edits, ran slower.
        pending.updates.fresh_seconds = self.updates.fresh_seconds
        if self.updates.base is not None and isinstance(self.updates.base[0], LowRankUpdater):  # made by an edit
            assert isinstance(pending.updates.base[0], LowRankUpdater)  # made by its ready()
            pending.updates.base[0].learn_from(self.updates.base[0])
        self.coarse, self.updates = pending.coarse, pending.updates
        return "adopted"

    def _drop_refactor(self) -> None:
        """Forget the factorisation in the background: one not begun does not begin, one under
        way finishes in its thread, unread."""
        if self._refactor is not None:
            self._refactor.cancelled = True
            self._refactor = None

    def painted(self) -> None:
        """Let a factorisation started by the last edit begin: the edit's lift, corrections and paint had
        the cores to themselves.
        """
        self._go_ahead()

    def _go_ahead(self) -> None:
        if self._refactor is not None:
            self._refactor.let_go()

    def _factor_ahead(self, report: dict, held: np.ndarray, targets: np.ndarray) -> str | None:
        """After a low-rank edit whose correction holds more than :data:`REFACTOR_ABOVE` of
        :data:`~varcolor.methods.interactive.MAX_HELD` pixels."""
        if (
            not self.background
            or self._refactor is not None
            or not self.holds
            or report.get("block", 0) <= REFACTOR_ABOVE * interactive.MAX_HELD
        ):
            return None
        budget, _ = memory_budget(self.options.max_memory)
        if self.solver_plan.bytes + self.coarse.solver_plan.bytes > budget:
            return None
        self._refactor = _Refactor(self, held, targets)
        return "started"

    def from_coarse(self, coarse: np.ndarray, problem: Problem, *, whole: bool = False) -> tuple[np.ndarray, dict]:
        """The lift and the correction on a coarse chroma solved elsewhere (a clip's space-time system on this grid,
        :mod:`varcolor.video.coarse`; the studio's live result, for its full tiles): lifted by the gray."""
        chroma, _ = self._lift(coarse, False, _precision(problem))
        pixels = _cue_pixels(problem) if self.holds else None
        off = self._hold_cues(chroma, problem, pixels)
        margin = self.options.parameters.margin
        tiles, _, unknowns, _ = self._correct(chroma, problem, margin, None, off, pixels, whole=whole)
        return chroma, {"tiles": tiles, "corrected_pixels": unknowns}

    def _lift(self, coarse: np.ndarray, edited: bool, dtype) -> tuple[np.ndarray, np.ndarray | None]:
        """The coarse chroma at full resolution (guided by the gray), within the coarse range (Levin's
        solution keeps to the range of its cues, a maximum principle: so must the lift)."""
        parameters = self.options.parameters
        radius, eps = parameters.radius, parameters.eps
        statistics = self._statistics or guide_statistics(self.coarse_guide, radius, eps)
        if self.holds:  # (a scan colorized once does not hold them)
            self._statistics = statistics
        a, b = guided_coefficients(self.coarse_guide, coarse, radius, eps, statistics=statistics)
        low, high = channel_extremes(coarse)
        last, self._lifted = self._lifted, None
        if not edited or last is None or last.chroma.dtype != dtype:
            # float32 where the cues are: it rounds ab well below one level of a 16-bit output,
            # in half the memory.
            keep = self.holds
            # Kept: an edit's chroma goes into this memory once the caller lets go of this result.
            out = self._spares.empty if keep else np.empty
            chroma = lift(a, b, self.guide, self.factor, low, high, out=out(self.guide.shape + (2,), dtype))
            if keep:
                darkest, lightest = block_range(self.guide, self.factor)
                stale = np.zeros(coarse.shape[:2])
                self._lifted = _Lift(chroma.copy(), a, b, low, high, darkest, lightest, stale)
            return chroma, None
        # Clipping does nothing to either lift inside both ranges.
        change, clips = lift_change(
            (last.a, last.b),
            (a, b),
            last.darkest,
            last.lightest,
            np.maximum(low, last.low),
            np.minimum(high, last.high),
        )
        stale = last.stale + change
        redo = stale > LIFT_BELOW * (1.0 if self.options.space == "lab" else 1 / 500)  # YIQ spans 1/500 of ab
        if not (np.array_equal(low, last.low) and np.array_equal(high, last.high)):
            redo |= clips  # clipped to another range, such a block can move by more than the bound
        moved = np.zeros(redo.shape)
        lift(a, b, self.guide, self.factor, low, high, out=last.chroma, blocks=redo, moved=moved)
        stale[redo] = 0.0
        self._lifted = dataclasses.replace(last, a=a, b=b, low=low, high=high, stale=stale)
        return self._spares.copy_of(last.chroma), moved  # into an earlier result's chroma, if free

    def _still(self, moved: np.ndarray, window: tuple[slice, slice]) -> float:
        """How far the lift moved at most over ``window`` (``moved``: block by block)."""
        return float(
            moved[
                _blocks(window[0], self.factor, moved.shape[0]), _blocks(window[1], self.factor, moved.shape[1])
            ].max()
        )

    def _hold_cues(self, chroma: np.ndarray, problem: Problem, pixels: tuple | None = None) -> np.ndarray:
        """Write the cues into the lifted ``chroma`` (held exactly), and return where a cue's lifted value
        was off by more than :data:`SPAN_ABOVE` (``H×W`` bool)."""
        above = SPAN_ABOVE * (1.0 if self.options.space == "lab" else 1 / 500)  # YIQ spans 1/500 of ab
        off = np.zeros(problem.mask.shape, bool)
        if pixels is not None:
            flat, values = pixels
            at = np.divmod(flat, chroma.shape[1])
            off[at] = np.abs(chroma[at] - values).max(axis=-1) > above
            chroma[at] = values
            return off
        band = max(1, (1 << 20) // max(1, problem.mask.shape[1]))
        for top in range(0, problem.mask.shape[0], band):
            rows = slice(top, top + band)
            held = coordinates(problem.mask[rows])  # the mask read once a band, not per use
            values, lifted = problem.targets[rows][held], chroma[rows]
            off[rows][held] = np.abs(lifted[held] - values).max(axis=-1) > above
            lifted[held] = values
        return off

    def _correct(
        self,
        chroma: np.ndarray,
        problem: Problem,
        margin: int,
        moved: np.ndarray | None,
        off: np.ndarray,
        pixels: tuple | None = None,
        *,
        whole: bool = False,
    ) -> tuple[int, int, int, list]:
        """Solve Levin's exact system again, in place, on the pixels within ``margin`` of a cue, tile by
        tile (each tile's LU on its free pixels alone), everything else held at ``chroma``."""
        keep = self.holds
        cues = (_cue_pixels(problem) if pixels is None else pixels) if keep else None
        last, self._last_cues = self._last_cues, cues
        kept, self._kept = (self._kept if moved is not None and last is not None else {}), {}
        drifts, self._drift = (self._drift if kept else {}), {}
        band, self._band = self._band, None
        if margin == 0 or not problem.mask.any():
            return 0, 0, 0, []
        height, width = self.guide.shape
        overlap = tile_overlap(margin)
        touched = changed = None
        if kept:
            assert last is not None and cues is not None  # kept: both cue sets were kept
            changed = changed_pixels(last, cues, problem.mask.shape)
            # a changed cue's correction spans its band, or its closed region and what holds it
            far = max(margin, SPAN + SPAN_PAD + margin) + overlap
            touched = dilated(changed, far + 3, box_of(changed, far + 3))
        # The band within margin of a cue: after an edit, the last one's, made again only around
        # the cues that changed (the whole image's band, made again, was a large share of an edit).
        if changed is None or band is None:
            band = dilated(problem.mask, margin)
        else:
            window = box_of(changed, 2 * margin)
            if window is not None:
                inner = box_of(changed, margin)
                assert inner is not None  # within the box of changed, which has some
                redone = dilated(problem.mask[window], margin)
                band[inner] = redone[tuple(slice(i.start - w.start, i.stop - w.start) for i, w in zip(inner, window))]
        if keep:
            self._band = band
        near = band & ~problem.mask
        side = max(height, width) if whole else TILE
        sweep = _Sweep(self, chroma, problem, near, keep, side)
        below = REUSE_BELOW * (1.0 if self.options.space == "lab" else 1 / 500)  # YIQ spans 1/500 of ab
        # Which cells hold a pixel of the band and of the changed cues' span: most tiles hold none
        # (asked of each tile's pixels, a big edit's hundreds of tiles cost a core a share of it).
        near_cells = _cells_holding(near)
        touched_cells = None if touched is None else _cells_holding(touched)
        solved, reused, order = [], set(), []
        for key, inner in sweep_tiles((height, width), side, margin):
            order.append(key)
            # how far the lift moved here since the kept corrections were solved, over edits
            drift = drifts.get(key, 0.0) + (
                self._still(moved, inner) if touched is not None and moved is not None else 0.0
            )
            if touched is not None and drift < below and not (_may_hold(touched_cells, inner) and touched[inner].any()):
                if key in kept:
                    for at, delta in kept[key]:
                        chroma[at] += delta
                    self._kept[key], self._drift[key] = list(kept[key]), drift
                    sweep.reused += 1
                    sweep.boxes.append(inner)  # written: a draft painted before is painted again here
                    reused.add(key)
                continue
            if _may_hold(near_cells, inner):  # (a tile without free pixels solves nothing)
                sweep.tile(key, inner, near[inner])
            solved.append(key)
        # The regions after the bands, as a fresh solve has them: they hold the bands' answers
        # around them (a kept tile's, added with its band's, had held the last bands').
        solved_keys = set(solved)
        for key in order:
            if key in solved_keys:
                self._regions(sweep, key, off)
            elif key in reused and (REGIONS, key) in kept:
                for at, delta in kept[(REGIONS, key)]:
                    chroma[at] += delta
                    sweep.boxes.append(tuple(slice(int(i.min()), int(i.max()) + 1) for i in at))
                self._kept[(REGIONS, key)] = list(kept[(REGIONS, key)])
        if changed is not None:
            rows, columns = coordinates(changed)
            if rows.size:  # cues removed or recoloured: their pixels changed too
                sweep.boxes.append((slice(rows.min(), rows.max() + 1), slice(columns.min(), columns.max() + 1)))
        return sweep.solved, sweep.reused, sweep.unknowns, sweep.boxes

    def _regions(self, sweep: _Sweep, key: tuple[int, int], off: np.ndarray) -> None:
        """Solve again the closed regions of the cues ``off`` in the tile ``key`` that extend past the band
        (small regions of even gray holding such a cue), every other pixel held as solved."""

        height, width = self.guide.shape
        top, left = key
        core = (slice(top, min(top + sweep.side, height)), slice(left, min(left + sweep.side, width)))
        if not off[core].any():
            return
        # A region holding a seed of the core spans at most SPAN beyond it: seen whole in the
        # window, or seen touching its edge, and then open.
        pad = SPAN + SPAN_PAD + 1
        window = (
            slice(max(top - pad, 0), min(core[0].stop + pad, height)),
            slice(max(left - pad, 0), min(core[1].stop + pad, width)),
        )
        span = {"span": SPAN, "pad": SPAN_PAD, "area": SPAN_AREA}
        grown = multiscale_device._closed_in_window(
            self.interior(key, window), off[core], core, window, sweep.region, sweep.problem.mask, span
        )
        if grown is None:
            return
        sweep.region[window] |= grown
        # The band around it stays as solved: the region's edge couples it weakly to them.
        sweep.tile((REGIONS, key), window, grown)

    def interior(self, key: tuple[int, int], window: tuple[slice, slice]) -> np.ndarray:
        """Where the gray over the tile ``key``'s ``window`` (smoothed over a pixel) changes by less than
        :data:`SPAN_STEP` per pixel: the gray's alone, kept for edits."""
        from scipy import ndimage

        interior = self._interiors.get(key)
        if interior is None:
            gray = np.asarray(self.guide[window], np.float32)
            interior = ndimage.gaussian_gradient_magnitude(gray, 1.0) < SPAN_STEP
            if self.holds or self._interiors_given:
                self._interiors[key] = interior
        return interior


class _Refactor:
    """The coarse grid factored again for the cues ``held`` at ``targets`` on :data:`_REFACTORING`'s
    thread (SuperLU frees factors only in the thread that made them), while edits use the old factors."""

    def __init__(self, engine: LevinMultiscale, held: np.ndarray, targets: np.ndarray):
        self.held, self.targets = held.copy(), targets.copy()
        self.coarse = Levin(engine.coarse_guide, engine.options, plan=engine.coarse.solver_plan)
        self.updates: interactive.Updates | None = None
        space, targets_at = engine.options.space, engine.updates.targets_at
        self._make_updates = lambda: self.coarse.updater(space, targets_at)
        self._refine_tol = engine.updates.refine_tol
        self.go = threading.Event()  # set once the edit that started it is painted
        self.cancelled = False
        self._future: Future | None = None
        self._lock = threading.Lock()

    def let_go(self) -> None:
        """Let the factorisation begin (queued on the refactoring thread), once; not if cancelled."""
        with self._lock:
            self.go.set()
            if self._future is None and not self.cancelled:
                self._future = _REFACTORING.submit(self._run)

    def _run(self) -> None:
        if self.cancelled:
            return
        wake_with(lambda: _REFACTORING.post(release))  # what this thread makes is freed here
        numba.set_num_threads(1)  # this thread's own count: the multifrontal LU maps in it, in turn
        lowest_priority()  # the strokes drawn meanwhile come first (at the same priority, they waited)
        try:
            chroma, _ = self.coarse.solve(Problem(self.held, self.targets, None, None), None)
            updates = self._make_updates()
            updates.refine_tol = self._refine_tol
            updates.rebase(chroma, self.held, self.targets)
            updates.ready()  # the edit that adopts these factors finds them ready to correct
        except Exception:  # noqa: BLE001 - the edit that needs a full solve makes it, and says why
            return
        self.updates = updates

    def done(self) -> bool:
        """Whether it has run (it has not where it was not let go)."""
        return self._future is not None and self._future.done()

    def join(self) -> None:
        """Wait until it has run, where it was let go."""
        if self._future is not None:
            wait([self._future])


#: The process's thread for factorisations made ahead (one: they queue). SuperLU factors it made
#: that another thread dropped are freed on it (:func:`varcolor.solvers.superlu.wake_with`).
_REFACTORING = Worker("coarse-refactor")


@dataclass(frozen=True)
class _Lift:
    """The last lift (``H×W×2``, the cues not written in), the coefficients of the coarse solution it is to
    stand for, their range, each block's darkest and lightest gray."""

    chroma: np.ndarray
    a: np.ndarray
    b: np.ndarray
    low: np.ndarray
    high: np.ndarray
    darkest: np.ndarray
    lightest: np.ndarray
    stale: np.ndarray


class _TileFactors:
    """Each tile window's factored rows for the unknowns it was last solved for, up to ``limit`` bytes: once
    full, nothing is evicted (an edit solves the tiles in the same order, so each would go just before use)."""

    def __init__(self, limit: int):
        self.limit, self.nbytes = limit, 0
        self.made = 0  # factorisations made (the others served from what was held)
        self._held: dict[tuple[int, int, int, int], tuple[np.ndarray, np.ndarray, Factors, np.ndarray, int]] = {}

    def solver(self, window: tuple[slice, slice], unknown: np.ndarray, system) -> tuple[DirichletSolver, np.ndarray]:
        """A solver of ``unknown`` (bool, ``window``-sized) in ``window`` and its right-hand side: from the
        factors held if they were made for the same unknowns (:meth:`keep`)."""
        held = self._held.pop(_window_key(window), None)
        if held is not None:
            self.nbytes -= held[4]
            packed, rows, factors, rhs, _ = held
            if np.array_equal(packed, np.packbits(unknown)):  # the window fixes the shape
                stencil = np.zeros(unknown.shape + (9,))
                stencil.reshape(-1, 9)[np.flatnonzero(unknown)] = rows
                return DirichletSolver(GridOperator(stencil), unknown, TILE_TOL, factors), rhs
        operator, rhs = system()
        self.made += 1
        return DirichletSolver(operator, unknown, TILE_TOL), rhs

    def keep(self, window: tuple[slice, slice], unknown: np.ndarray, solver: DirichletSolver, rhs: np.ndarray) -> None:
        """Hold ``solver``'s rows and factors (after its solve: a stalled refinement refactors in
        double precision) for the next solve of the same unknowns in ``window``, if they fit."""
        packed, factors = np.packbits(unknown), solver.factors
        rows = solver.operator.stencil.reshape(-1, 9)[np.flatnonzero(unknown)]
        size = packed.nbytes + rows.nbytes + factors.nbytes + rhs.nbytes
        if self.nbytes + size <= self.limit:
            self._held[_window_key(window)] = (packed, rows, factors, rhs, size)
            self.nbytes += size


def _window_key(window: tuple[slice, slice]) -> tuple[int, int, int, int]:
    return window[0].start, window[0].stop, window[1].start, window[1].stop


class _Sweep:
    """The correction's tile solves (tiles ``side`` pixels square): the pixels corrected so far
    (``region``), what was solved, and each tile's corrections (kept for edits)."""

    def __init__(
        self, engine: LevinMultiscale, chroma: np.ndarray, problem: Problem, region: np.ndarray, keep: bool, side: int
    ):
        self.engine, self.chroma, self.problem, self.region, self.keep = engine, chroma, problem, region, keep
        self.side = side
        self.solved = self.reused = self.unknowns = 0
        self.boxes: list = []

    def tile(self, key, inner: tuple[slice, slice], free: np.ndarray) -> None:
        """Solve the ``free`` pixels (``inner``-sized bool) with every other pixel held."""
        if not free.any():
            return
        engine, chroma, problem = self.engine, self.chroma, self.problem
        height, width = engine.guide.shape
        # The tile's free pixels' box, and 2 px more: their rows read their neighbours'
        # 3×3 neighbourhoods, which the window then holds as the whole image's.
        rows, columns = coordinates(free)
        box = (
            slice(inner[0].start + rows.min(), inner[0].start + rows.max() + 1),
            slice(inner[1].start + columns.min(), inner[1].start + columns.max() + 1),
        )
        window = (
            slice(max(box[0].start - 2, 0), min(box[0].stop + 2, height)),
            slice(max(box[1].start - 2, 0), min(box[1].stop + 2, width)),
        )
        unknown = np.zeros((window[0].stop - window[0].start, window[1].stop - window[1].start), bool)
        local = tuple(slice(b.start - w.start, b.stop - w.start) for b, w in zip(box, window))
        unknown[local] = free[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
        unknown &= ~held_border(window, (height, width))
        if not unknown.any():
            return
        values = chroma[window]
        prior = weight = None
        if problem.prior is not None:
            assert problem.weight is not None  # given with the prior
            prior, weight = problem.prior[window], problem.weight[window]

        # Only the free pixels' rows are built, factored and checked; without a prior they depend on
        # the gray and the unknowns alone, so an edit solving the same unknowns reuses the factors.
        tiles = engine._tile_factors
        system = functools.partial(engine.coarse.free_system, engine.guide[window], unknown, prior, weight)
        if prior is None:
            solver, rhs = tiles.solver(window, unknown, system)
        else:
            (operator, rhs), tiles.made = system(), tiles.made + 1
            solver = DirichletSolver(operator, unknown, TILE_TOL)
        solution, _ = solver.solve(rhs, values)
        if prior is None and self.keep:
            tiles.keep(window, unknown, solver, rhs)
        if self.keep:
            # The pixels as the image's rows and columns: added back after an edit by one gather
            # and scatter (a boolean mask over its window, a tile at a time, cost more).
            rows, columns = coordinates(unknown)
            at = (rows.astype(np.int32) + window[0].start, columns.astype(np.int32) + window[1].start)
            engine._kept.setdefault(key, []).append((at, solution - values[unknown]))
        values[unknown] = solution
        self.solved += 1
        self.unknowns += int(np.count_nonzero(unknown))
        self.boxes.append(window)


def _span() -> dict:
    """The correction's span over closed regions, as :mod:`.multiscale_device` reads it."""
    return {
        "above": SPAN_ABOVE,
        "span": SPAN,
        "pad": SPAN_PAD,
        "area": SPAN_AREA,
        "tile": TILE,
        "reuse": REUSE_BELOW,
    }


def _cue_pixels(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The cue pixels' raster indices and values (``n×C``): gathered once a solve for the coarse
    cues, holding them and the edits' comparison (a big mask read three times was not free)."""
    flat = np.flatnonzero(problem.mask)
    return flat, problem.targets[np.divmod(flat, problem.mask.shape[1])]


def _precision(problem: Problem):
    """The lifted chroma's dtype: the cues' precision, at least float32 (cues are held exactly)."""
    return np.result_type(problem.targets.dtype, np.float32)


#: Side of the tiles an edit's changes are painted by (pixels): small enough that blocks that
#: moved here and there are not painted with everything between them.
PAINT_TILE = 64


def _windows(blocks: np.ndarray, factor: int, boxes: list, shape: tuple[int, int]) -> list:
    """Where an edit changed the chroma, as windows (pairs of slices) to paint again: the blocks lifted
    again (``blocks``, ``h×w`` bool) and the ``boxes`` (pairs of slices) solved."""
    changed = blocks.copy()
    for rows, columns in boxes:
        changed[
            rows.start // factor : -(-rows.stop // factor), columns.start // factor : -(-columns.stop // factor)
        ] = True
    step = max(1, PAINT_TILE // factor)
    tiles = -(-changed.shape[0] // step), -(-changed.shape[1] // step)
    padded = np.zeros((tiles[0] * step, tiles[1] * step), bool)
    padded[: changed.shape[0], : changed.shape[1]] = changed
    # numpy's stubs type any(axis=) as a scalar or an array whatever the rank: a 4-d array's is 2-d
    held: np.ndarray = padded.reshape(tiles[0], step, tiles[1], step).any(axis=(1, 3))  # type: ignore[assignment]
    windows = []
    for i in np.flatnonzero(held.any(axis=1)):
        band = padded[i * step : (i + 1) * step]
        # the runs of tiles holding a change along this row of tiles
        edges = np.diff(np.concatenate([[0], held[i].view(np.int8), [0]]))
        for first, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            part = band[:, first * step : last * step]
            rows, columns = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
            top, left = (i * step + rows[0]) * factor, (first * step + columns[0]) * factor
            bottom, right = (i * step + rows[-1] + 1) * factor, (first * step + columns[-1] + 1) * factor
            windows.append((slice(top, min(bottom, shape[0])), slice(left, min(right, shape[1]))))
    return windows


def _relative(squares: np.ndarray) -> float:
    """``max_c ‖r_c‖ / ‖b_c‖`` from the sums of squares ``[[Σ r_c²], [Σ b_c²]]`` (``‖r_c‖`` where
    ``b_c`` is 0)."""
    norms = np.sqrt(squares)
    return float(np.max(np.where(norms[1] > 0, norms[0] / np.where(norms[1] > 0, norms[1], 1.0), norms[0])))


#: The side of the cells in which :func:`_cells_holding` says whether a mask holds a pixel.
CELL = 16


def _cells_holding(mask: np.ndarray) -> np.ndarray:
    """Whether each :data:`CELL`-pixel square cell of ``mask`` (``H×W`` bool) holds a True pixel: its bytes
    OR-ed a row (then a column) of each cell at a time."""
    rows = _or_runs(mask.view(np.uint8))
    return _or_runs(rows.T).T.view(bool)


def _or_runs(values: np.ndarray) -> np.ndarray:
    """``values`` (uint8, 2-D) OR-ed over each run of :data:`CELL` along the first axis."""
    merged = np.zeros((-(-values.shape[0] // CELL),) + values.shape[1:], np.uint8)
    for k in range(CELL):
        part = values[k::CELL]
        merged[: len(part)] |= part
    return merged


def _may_hold(cells, window: tuple[slice, slice]) -> bool:
    """Whether the mask of ``cells`` (:func:`_cells_holding`) may hold a True pixel in ``window``
    (False: it holds none; True: a cell the window overlaps holds one, maybe outside it)."""
    return bool(
        cells[
            window[0].start // CELL : (window[0].stop - 1) // CELL + 1,
            window[1].start // CELL : (window[1].stop - 1) // CELL + 1,
        ].any()
    )


def _blocks(rows: slice, factor: int, size: int) -> slice:
    """The coarse cells holding the full-resolution ``rows``."""
    return slice(rows.start // factor, min((rows.stop - 1) // factor + 1, size))


def check_confidence_map(options: Options, what: str) -> None:
    """Refuse ``--confidence-map`` for ``what`` (a photo, a clip) colorized unrestrained: there
    the map would not say where its colour is known. One rule for photos, folders, chains, clips.

    >>> check_confidence_map(Options(), "a photo")  # the defaults: restrained
    >>> check_confidence_map(Options(method="levin"), "a photo")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    varcolor.errors.InputError: --confidence-map: a photo colorized unrestrained (--method levin) has no confidence; ...
    """
    why = unrestrained_because(options)
    if why is None:
        return
    raise InputError(
        f"--confidence-map: {what} colorized unrestrained ({why}) has no confidence; its confidence comes with "
        "--restraint on (the default), the default method and no --prior"
    )


def unrestrained_because(options: Options) -> str | None:
    """Why a colorization with ``options`` is not restrained, as the flags that make it so; None
    where it is (this engine, ``restraint="on"``, no prior): the one rule maps, clips and the
    studio's hint follow.

    >>> unrestrained_because(Options()), unrestrained_because(Options(method="levin"))
    (None, '--method levin')
    """
    if options.prior:
        return "--prior, whose network fills what the cues leave"
    if options.method != LevinMultiscale.name:
        return f"--method {options.method}"
    if not LevinMultiscale.restrained_by(options):
        return "--restraint off"
    return None
