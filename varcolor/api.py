"""The public entry points: :func:`colorize`, :class:`Colorizer` and their :class:`Result`.

A solve goes through four steps, each another module's: **plan** (the options checked by their
method, the solve planned), **prior** (:mod:`varcolor.priors`, once per image), **solve** (the
method's, or its updater's answer to new cues: :mod:`varcolor.methods.interactive`) and **paint**
(:mod:`varcolor.painting`)."""

from __future__ import annotations

import contextvars
import functools
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, cast

import numpy as np

from . import methods, priors
from .color import to_gray
from .common.buffers import Spares
from .common.info import Info
from .common.kernels import kernels_launch_from_threads, threads_for
from .common.raster import channel_extremes, gather, one_value
from .common.threads import Worker
from .cues import Cues, unmatched_note
from .errors import (
    SIZES,
    ConvergenceError,
    InputError,
    check_image_size,
    check_unit_range,
    image_size,
    real_array,
    tell,
)
from .gamut import GlobalHints
from .methods import METHODS, Problem, build_options  # noqa: F401 (METHODS re-exported)
from .methods.base import NOT_ITERATIVE, checked_info, checked_solution, options_in_effect
from .options import AUTOMATIC, CONFIDENCES, PRIOR_MODES, PRIOR_WEIGHT, SPACES, Options  # noqa: F401 (re-exported)
from .painting import HOLD_LIGHTNESS, Painter, covers_most  # noqa: F401 (re-exported)
from .restraint import SOURCES, PendingReach, Reach, Restraint
from .solvers import SolverPlan
from .solvers.base import TOL
from .solvers.device import backend
from .solvers.superlu import release, wake_with

#: :meth:`Colorizer.undo` keeps earlier cue sets up to this many bytes in all (at least one).
UNDO_BYTES = 1_000_000_000
#: Cue arrays an update's cue sets are written into, held to be used again once the undo lets go.
UNDO_SPARES = 16

__all__ = [
    "colorize",
    "Colorizer",
    "Result",
    "Info",
    "Options",
    "METHODS",
    "SPACES",
    "check_fits",
    "SOURCES",
]


@dataclass(frozen=True, eq=False)
class Result:
    """A colorization.

    Attributes
    ----------
    rgb : ndarray, ``H×W×3``
        The colour image in [0, 1], brought into the sRGB gamut; where the colorizer was given
        ``bits``, its 8- or 16-bit levels (uint8 or uint16, as :func:`~varcolor.write_image` writes them).
    ab : ndarray, ``H×W×2``
        The Lab chroma the energy's minimiser found (before gamut mapping); with ``space="yiq"``,
        the Lab chroma of ``rgb``.
    info : Info
        method, solver, iterations, residual, seconds, threads; ``options``: every option that had
        an effect (``varcolor.methods.build_options(**info["options"])`` rebuilds them).
    """

    rgb: np.ndarray
    ab: np.ndarray
    info: Info = field(default_factory=lambda: cast(Info, {}))  # made by hand: nothing to say
    #: Where the confidence and the sources come from (:class:`_Provenance`); None: a result made by hand.
    provenance: _Provenance | None = field(default=None, repr=False, compare=False)

    @property
    def confidence(self) -> np.ndarray | None:
        """How firmly each pixel's colour is fixed by its cues, ``H×W`` float32 in [0, 1]: 1 on the
        cues, falling where their colour fades (:mod:`varcolor.restraint`); its complement is how
        much of the colour is guessed. None where the result has no cues to say it of."""
        return None if self.provenance is None else self.provenance.confidence()

    @property
    def source(self) -> np.ndarray | None:
        """What decided each pixel's colour, ``H×W`` uint8: the index of its kind in
        :data:`~varcolor.restraint.SOURCES` (``none``, ``stroke``, ``reference``, ``prior``).
        A cue of full weight is a stroke (a user's mark), one of less a matched reference's."""
        return None if self.provenance is None else self.provenance.source()


class _Provenance:
    """A result's reach, solved when first asked where the method did not need it (a method that
    does not restrain: the map costs one small solve), and the prior's confidence."""

    def __init__(
        self, reach: Reach | None, cues: Cues, trust: np.ndarray | None, restraint: Restraint | np.ndarray | None
    ):
        self._reach, self._restraint, self._cues, self._trust = reach, restraint, cues, trust
        self._confidence: np.ndarray | None = None
        self._source: np.ndarray | None = None

    def reach(self) -> Reach:
        if self._reach is None:
            restraint = self._restraint
            if not isinstance(restraint, Restraint):
                assert restraint is not None
                restraint = Restraint(restraint)
            self._reach = restraint.reach(self._cues.mask, self._cues.weight, self._cues.ab, self._cues.points)
            self._restraint = None
        return self._reach

    def confidence(self) -> np.ndarray:
        if self._confidence is None:
            self._confidence = self.reach().confidence()
        return self._confidence

    def source(self) -> np.ndarray:
        if self._source is None:
            self._source = self.reach().source(self._trust, self.confidence())  # (the map made once)
        return self._source


def _defaults(options: Options) -> dict:
    """The defaults of ``options``' fields and of its method's own parameters, by name (read off
    the dataclasses: options made here would be checked again)."""
    kinds = [options] + ([options.parameters] if options.parameters is not None else [])
    return {spec.name: spec.default for kind in kinds for spec in fields(kind) if spec.default is not MISSING}


def _warn_ignored(method, options: Options, solver: str | None, shape: tuple[int, int]) -> None:
    """Warn of options given that have no effect on an image of ``shape``
    (:meth:`~varcolor.methods.base.Method.ignored_at`): silently ignored, a user believes they acted."""
    given, default = options.keywords(), _defaults(options)
    if solver in NOT_ITERATIVE:  # the iteration limit (and tiles' tolerance) of a solver that does not iterate
        idle = sorted(n for n in NOT_ITERATIVE[solver] if n in given and given[n] != default.get(n))
        if idle:
            tell(f"{', '.join(idle)}: no effect with solver {solver}, which does not iterate", stacklevel=3)
    ignored = method.ignored_at(shape, options, solver) - NOT_ITERATIVE.get(solver or "", frozenset())
    if not ignored:
        return
    moved = sorted(name for name in ignored if name in given and given[name] != default.get(name))
    if moved:
        height, width = shape
        tell(
            f"{', '.join(moved)}: no effect on this {width}×{height} image with method {options.method} "
            f"({method.ignored_at_reason(shape, options, solver)})",
            stacklevel=3,
        )


def _check_gray(gray: np.ndarray) -> np.ndarray:
    gray = real_array(gray, "gray")
    if not (gray.ndim == 2 or (gray.ndim == 3 and gray.shape[2] in (3, 4))):
        raise InputError(f"the gray image must be H×W, or H×W×3 (×4: alpha ignored), got shape {gray.shape}")
    check_image_size(gray.shape)
    check_unit_range(gray, "the gray image", " (use varcolor.read_image)")
    return to_gray(gray)


def check_fits(shape: tuple[int, int], options: Options | None = None, /, **keywords) -> SolverPlan:
    """Plan the colorization of an image of ``shape`` from its size alone, refusing one that
    would not fit in memory here (the command line calls it with the size in a file's header,
    before reading its pixels).

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)`` of the image (more entries are ignored).
    options : Options, optional
        How it will be colorized; ``keywords`` (the fields of :class:`Options` and the method's
        own parameters, as :func:`colorize` takes them) change them.

    Returns
    -------
    SolverPlan
        The solver (``auto`` resolved; None for a method without one), the memory it needs and why;
        give it to :func:`colorize` or :class:`Colorizer`.

    Examples
    --------
    >>> plan = check_fits((512, 768), max_memory=8e9)
    >>> plan.solver, plan.bytes < plan.budget
    ('direct', True)
    >>> check_fits((200_000, 200_000))
    Traceback (most recent call last):
    ...
    varcolor.errors.InputError: method levin-multiscale on a 200000×200000 image needs about ...
    """
    options = build_options(options, **keywords)
    return methods.get(options.method).plan((shape[0], shape[1]), options)


def _one_call_at_a_time(method):
    """A :class:`Colorizer` method that waits for the colorizer's other calls: one colorizer used
    from two threads at once."""

    @functools.wraps(method)
    def serialised(self, *args, **kwargs):
        with self._calls:
            return method(self, *args, **kwargs)

    return serialised


def _check_restraint(restraint: Restraint | None, gray: np.ndarray) -> None:
    """Refuse a restraint that is not this gray's: another type, size, or another photo's gray (a
    few thousand of its pixels compared, not all of a scan's)."""
    if restraint is None:
        return
    if not isinstance(restraint, Restraint) or restraint.shape != gray.shape[:2]:
        what = restraint.shape if isinstance(restraint, Restraint) else type(restraint).__name__
        raise InputError(f"restrained_by must be a varcolor.restraint.Restraint of this gray's shape, not {what}")
    at = np.linspace(0, gray.size - 1, min(gray.size, 4096)).astype(np.intp)
    theirs = np.asarray(restraint.gray).reshape(-1)[at].astype(np.float64)
    if not np.allclose(theirs, gray.reshape(-1)[at], rtol=0.0, atol=1e-6):
        raise InputError("restrained_by was made for another gray image than this colorizer's")


class Colorizer:
    """Colorize one gray image again and again as its cues change (interactive use).

    Everything that depends only on the image is computed once; :meth:`update` adds cues and
    re-solves starting from the previous solution, reusing the solver's hierarchy where it can.

    Parameters
    ----------
    gray : array_like
        ``H×W`` gray values in [0, 1], or an ``H×W×3`` image whose lightness is used (its
        same-lightness gray, docs/design.md "Conventions"; an alpha channel is ignored).
    options : Options, optional
        How to colorize; keywords (``method="levin-symmetric"``, ``solver="amg"``, a method's own
        such as ``sharpness=4``: every field of :class:`~varcolor.options.Options`, which says what
        each does) build it or change the one given.
    global_hints : varcolor.gamut.GlobalHints, optional
        The image's ab histogram and saturation (the ``global`` IR method stores them): input to a
        network with a global-hints branch; for one without (the shipped model).
    progress : callable, optional
        Called with a dict as long solves advance.
    plan : SolverPlan, optional
        What :func:`check_fits` planned for this image's size and these options (then not planned
        again); a plan made for another size or other options is refused.
    bits : {None, 8, 16}
        None: results' ``rgb`` as floats in [0, 1]; 8 or 16: as the levels an 8- or 16-bit file
        holds (uint8, uint16), painted band by band (:func:`colorize`).
    restrained_by : Restraint, optional
        What solves the cues' reach (:mod:`varcolor.restraint`), made for this same gray: colorizers
        of one photo share it and the things it has factored (a studio's); None: one of its own,
        made when first needed.

    Attributes
    ----------
    cues : Cues or None
        The whole cue set of the last result (None before the first solve): :meth:`update` adds
        to it, :meth:`undo` goes back to the one before.
    options : Options
        The options every solve uses.
    on_chroma : callable or None
        Called with each result's chroma (``H×W×2`` in the method's space: Lab ab, or I and Q) once
        it is solved and checked, before it is painted; the array is the result's.
    paint_later : bool
        Results in Lab (``space="lab"``) after the first are not painted: their ``rgb`` is the last
        one painted, as it was, until :meth:`paint_now` paints what changed since.

    Examples
    --------
    >>> import numpy as np, varcolor
    >>> gray = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
    >>> cz = varcolor.Colorizer(gray, restraint="off")  # each cue's colour reaches every pixel
    >>> first = cz.solve(varcolor.Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 0}], gray.shape))
    >>> second = cz.update(varcolor.Cues.from_points([{"y": 20, "x": 28, "a": -40, "b": 0}], gray.shape))
    >>> float(first.ab[20, 28, 0]) > 35, float(second.ab[20, 28, 0]) < -35
    (True, True)
    >>> back = cz.undo()  # the second cue gone again
    >>> cz.cues.count, bool(np.abs(back.ab - first.ab).max() < 0.01)
    (1, True)
    """

    def __init__(
        self,
        gray: np.ndarray,
        options: Options | None = None,
        /,
        *,
        global_hints: GlobalHints | None = None,
        progress: Callable[[dict], None] | None = None,
        plan: SolverPlan | None = None,
        bits: int | None = None,
        restrained_by: Restraint | None = None,
        **keywords,
    ):
        if bits not in (None, 8, 16):
            raise InputError(f"bits must be 8 or 16 (or None: floats), not {bits!r}")
        if plan is not None and not isinstance(plan, SolverPlan):
            raise InputError(f"plan must be a varcolor.SolverPlan (from check_fits), not {type(plan).__name__}")
        if global_hints is not None and not isinstance(global_hints, GlobalHints):
            raise InputError(f"global_hints must be a varcolor.gamut.GlobalHints, not {type(global_hints).__name__}")
        if progress is not None and not callable(progress):
            raise InputError(f"progress must be a function of one dict, not {type(progress).__name__}")
        self._calls = threading.RLock()  # (:func:`_one_call_at_a_time`)
        self.options = options = build_options(options, **keywords)  # plan: checked by the method
        method = methods.get(options.method)
        self.gray = gray = _check_gray(gray)
        prior = method.prior_for(options)
        if global_hints is not None and prior is None:
            tell("global hints ignored: they need the neural prior (prior='ideepcolor')", stacklevel=3)
            global_hints = None
        self.global_hints = global_hints
        self.prior = None if prior is None else priors.get(prior)(gray, options, global_hints=global_hints)
        self._prior_mode = method.prior_mode(options)
        # On a GPU the whole image's paint runs there too (the device's array backend).
        device = None if options.device == "cpu" else backend(options.device)
        self.painter = Painter(gray, options.space, options.gamut, bits, device=device)
        self.engine = method(gray, options, progress, plan=plan)
        # (weakly: the engine holding this colorizer made a cycle, freed only by the collector)
        self.engine.on_early = _weakly(self._paint_early)
        self._early: tuple[np.ndarray, Future] | None = None  # a draft being painted, and its future
        self.updates = self.engine.updater(options.space, self.painter.targets_at)
        #: The cue set of the last result (None before the first solve).
        self.cues: Cues | None = None
        self._undo: list[Cues] = []  # earlier cue sets, the newest last
        self._chroma: np.ndarray | None = None
        self._last: Result | None = None
        # Each update's cue set's ab, written into memory made ready while the user draws.
        self._cue_spares = Spares(keep=UNDO_SPARES if gray.size <= HOLD_LIGHTNESS else 0)
        _check_restraint(restrained_by, gray)
        self._restraint = restrained_by  # the cues' reach on this gray, made when first needed
        self._reach: tuple[Cues, Reach] | None = None  # the last cue set's reach, where it was solved
        self._trust: np.ndarray | None = None  # the prior's confidence, where a prior is on
        self.on_chroma: Callable[[np.ndarray], None] | None = None
        self.paint_later = False
        # Whether results were left unpainted, and where they changed since (None: anywhere).
        self._waiting = False
        self._waiting_where: list | None = None

    @property
    def result(self) -> Result | None:
        """The last result (None before the first solve)."""
        return self._last

    @property
    def unpainted(self) -> bool:
        """Whether the last result's ``rgb`` waits to be painted (:attr:`paint_later`, :meth:`paint_now`)."""
        return self._waiting

    def paint_now(self) -> Result:
        """The last result painted where the results not painted since (:attr:`paint_later`)
        changed, as they would have been; the last result itself where nothing waits."""
        if self._last is None or self._chroma is None:
            raise RuntimeError("paint_now: nothing solved yet")
        if not self._waiting:
            return self._last
        start = time.perf_counter()
        where, self._waiting, self._waiting_where = self._waiting_where, False, None
        rgb, ab = self.painter.paint(self._chroma, where, (self._last.rgb, self._last.ab))
        info = cast(Info, {**self._last.info, "paint_seconds": time.perf_counter() - start})
        self._last = Result(rgb=rgb, ab=ab, info=info, provenance=self._last.provenance)
        return self._last

    def _later(self) -> bool:
        """Whether this result is left unpainted (:attr:`paint_later`): Lab, after a first result."""
        return self.paint_later and self.options.space == "lab" and self._last is not None

    @property
    def network(self):
        """The network the prior runs (the ideepcolor prior's), or None."""
        return getattr(self.prior, "network", None)

    @property
    def lightness(self) -> np.ndarray:
        """The gray image's CIE lightness (``H×W``): what the results keep (above
        :data:`~varcolor.painting.HOLD_LIGHTNESS` pixels computed when asked, not held)."""
        return self.painter.lightness

    @property
    def method(self) -> str:
        """The method's name."""
        return self.options.method

    @property
    def instances(self) -> list | None:
        """The instances found in the image (:class:`varcolor.instances.Instance`, with their soft
        masks), once a solve has looked for them; None before, or without ``instances``."""
        return getattr(self.prior, "instances", None)

    @property
    def solver_name(self) -> str | None:
        """The linear solver the method uses (``auto`` resolved), or None."""
        return self.engine.solver_name

    @property
    def plan(self) -> SolverPlan:
        """The solve planned for this image (:func:`check_fits`'s)."""
        return self.engine.solver_plan

    @_one_call_at_a_time
    def solve(self, cues: Cues, x0: np.ndarray | None = None, *, reuse: bool = True) -> Result:
        """Colorize from ``cues`` alone; ``x0`` (``H×W×2``, propagated chroma) starts iterative solvers.

        With ``reuse``, a new cue set after a global ``direct`` solve of a linear method
        without a prior is reached by a low-rank correction of that solve's factors
        (:class:`~varcolor.solvers.lowrank.LowRankUpdater`; ``info["update"]`` is
        ``"low-rank"``).

        Parameters
        ----------
        cues : Cues
            The whole cue set (not a difference from the last one).
        x0 : ndarray, optional
            An initial guess of the propagated chroma (``H×W×2``) for iterative solvers.
        reuse : bool
            Reach a new cue set from the held factors where that is cheaper (default True).

        Returns
        -------
        Result

        Raises
        ------
        InputError
            ``cues`` that are no :class:`~varcolor.cues.Cues` of this image's size, an ``x0`` of
            another shape, cues matched from references that gave none.
        ConvergenceError
            An iterative solve that stopped before its tolerance, or whose chroma left its cues' range.

        Examples
        --------
        >>> import numpy as np, varcolor
        >>> gray = np.tile(np.linspace(0.2, 0.8, 64), (48, 1))
        >>> cz = varcolor.Colorizer(gray, restraint="off")
        >>> points = [{"y": 5, "x": 3, "a": 40, "b": 0}, {"y": 12, "x": 16, "a": 0, "b": 30}]
        >>> one = varcolor.Cues.from_points(points, gray.shape)
        >>> two = one.merged(varcolor.Cues.from_points([{"y": 20, "x": 28, "a": -40, "b": 0}], gray.shape))
        >>> _ = cz.solve(two)
        >>> undone = cz.solve(one)   # the second cue removed: a correction where the kernels are compiled
        >>> bool(np.abs(undone.ab - varcolor.colorize(gray, one, restraint="off").ab).max() < 0.01)
        True
        """
        result = self._remembered(self.cues, self._solve(cues, x0, reuse))
        self._ahead()
        return result

    def _ahead(self) -> None:
        """Edits may follow (:func:`colorize`, a one-off, leaves this out): the fresh memory the
        next one needs made ready in threads while the user draws."""
        if self._chroma is not None:
            self.engine.ahead()
            self.painter.prepare(self._chroma)
        if self.cues is not None:
            self._cue_spares.prepare(self.cues.ab.shape, self.cues.ab.dtype)

    def _remembered(self, before: Cues | None, result: Result) -> Result:
        """``result``, with the cue set it replaced kept for :meth:`undo` (within :data:`UNDO_BYTES`)."""
        if before is not None and before is not self.cues:
            self._undo.append(before)
            size = lambda cues: cues.mask.nbytes + cues.ab.nbytes  # noqa: E731
            while len(self._undo) > 1 and sum(map(size, self._undo)) > UNDO_BYTES:
                del self._undo[0]
        return result

    @_one_call_at_a_time
    def undo(self) -> Result:
        """Go back to the cue set before the last :meth:`solve` or :meth:`update` (each call one
        step further back, as far as :data:`UNDO_BYTES` of earlier cue sets reach): that set
        is solved again as :meth:`solve` does.

        Returns
        -------
        Result
            The earlier cue set's colorization (the class's example shows one).
        """
        if not self._undo:
            raise InputError("nothing to undo: no earlier cue set (undo goes back over solve and update calls)")
        result = self._solve(self._undo.pop(), None, True)
        result = _solved_afresh(result, self._no_reuse_why())
        self._ahead()
        return result

    def _solve(self, cues: Cues, x0: np.ndarray | None, reuse: bool) -> Result:
        start = time.perf_counter()
        self._check_cues(cues)
        why = None
        if reuse and x0 is None and self.prior is None and self.updates is not None and self._chroma is not None:
            if cues.count:
                with threads_for(self.gray.size, self.options.threads) as threads:
                    found, why = self.updates.edit(cues, self._chroma)
                if found is not None:
                    chroma, report, where = found
                    self.cues = cues
                    return self._finish(chroma, {**self._info(cues), **report, "threads": threads}, start, where)
            else:
                why = "no cues"
        self.engine.begin(reuse and x0 is None)
        return _solved_afresh(self._run(cues, x0), why)

    def _no_reuse_why(self) -> str:
        """Why a new cue set is solved afresh though an earlier solve exists."""
        if self.prior is not None:
            return "the neural prior is on: an update re-solves the whole image"
        if self.updates is None:
            return f"method {self.method!r} makes no local updates"
        return "no factors of an earlier direct solve to correct"

    def _check_cues(self, cues: Cues) -> None:
        if not isinstance(cues, Cues):
            raise InputError(f"cues must be a varcolor.Cues, not {type(cues).__name__}")
        if cues.shape != self.gray.shape:
            raise InputError(
                f"the cues are for a {image_size(cues.shape)} image but the gray image "
                f"is {image_size(self.gray.shape)} {SIZES}"
            )

    @_one_call_at_a_time
    def update(self, more_cues: Cues, local: bool = True) -> Result:
        """Add ``more_cues`` to the current ones (they win where both mark a pixel) and re-solve.

        With ``local``, methods that solve a linear system (without a prior) avoid a global
        re-solve where they can (:mod:`varcolor.methods.interactive`): after a global ``direct``
        solve, a low-rank correction of its factors for the cue pixels added since.

        Parameters
        ----------
        more_cues : Cues
            The cues of the new stroke(s), added to the current ones.
        local : bool
            Avoid a global re-solve where it can (default True); False re-solves the whole image.

        Returns
        -------
        Result

        Raises
        ------
        InputError, ConvergenceError
            As :meth:`solve` raises them (``more_cues`` standing for its ``cues``).
        """
        result = self._remembered(self.cues, self._update(more_cues, local))
        self._ahead()
        return result

    def _update(self, more_cues: Cues, local: bool) -> Result:
        start = time.perf_counter()
        if not isinstance(more_cues, Cues):
            raise InputError(f"cues must be a varcolor.Cues, not {type(more_cues).__name__}")
        if self.cues is None:
            cues = more_cues
        else:
            cues = self.cues.merged(more_cues, out=self._cue_spares.empty(self.cues.ab.shape, self.cues.ab.dtype))
        if self._chroma is None:
            why = "no earlier solve to update"
        elif not local:
            why = "local=False"
        elif self.prior is not None or self.updates is None:
            why = self._no_reuse_why()
        else:
            with threads_for(self.gray.size, self.options.threads) as threads:
                found, why = self.updates.update(cues, more_cues, self._chroma)
            if found is not None:
                chroma, report, where = found
                self.cues = cues
                return self._finish(chroma, {**self._info(cues), **report, "threads": threads}, start, where)
        self.engine.changed()
        return _solved_afresh(self._run(cues, self._chroma), why)

    @_one_call_at_a_time
    def refine(self, admm_tol: float | None = None) -> Result:
        """Carry an iterative method's solve (bilaplacian-gtv's ADMM) on from where the last
        solve or update stopped, with the same cues, to ``admm_tol`` (default: the method's
        final tolerance); later updates keep the colorizer's own tolerance.

        Parameters
        ----------
        admm_tol : float, optional
            The ADMM's tolerance to carry on to (default: the method's final tolerance).

        Examples
        --------
        >>> import numpy as np, varcolor
        >>> gray = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
        >>> cz = varcolor.Colorizer(gray, method="bilaplacian-gtv", admm_tol=3e-2)
        >>> preview = cz.solve(varcolor.Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 0}], gray.shape))
        >>> final = cz.refine(1e-3)
        >>> bool(final.info["residual"] <= 1e-3 < preview.info["residual"])
        True
        """
        with self.engine.tolerance(admm_tol):
            if self.cues is None:
                raise InputError("refine carries on from the last solve: call solve first")
            return self._run(self.cues, self._chroma)

    def _info(self, cues: Cues) -> Info:
        info = cast(
            Info,
            {
                "method": self.options.method,
                "space": self.options.space,
                "device": self.options.device,
                "cues": cues.count,
                "options": self._in_effect,
            },
        )
        if cues.references:
            info["references"] = [{"reference": name, "share": share} for name, share in cues.references]
        return info

    @property
    def _in_effect(self) -> dict[str, Any]:
        return options_in_effect(type(self.engine), self.options, self.engine.solver_name, self.gray.shape)

    def _run(self, cues: Cues, x0: np.ndarray | None) -> Result:
        start = time.perf_counter()
        self._check_cues(cues)
        if x0 is not None and real_array(x0, "x0").shape != self.gray.shape + (2,):
            raise InputError(f"x0 must have shape {self.gray.shape + (2,)}, got {np.shape(x0)}")
        if x0 is not None and not np.isfinite(x0).all():  # (an iterative solve ended in a NaN residual)
            raise InputError("x0 must be finite")
        self.cues = cues
        if self.updates is not None:
            self.updates.forget()
        info = self._info(cues)
        guess = weight = where = None
        if self.prior is not None:
            guess, weight, said = self.prior.guess(cues, self._prior_mode)
            beta = float(self.options.prior_weight)
            strength = min(1.0, beta / PRIOR_WEIGHT)  # β → 0: no prior
            self._trust = None if weight is None else np.clip(weight / max(beta, 1e-300), 0.0, 1.0) * strength
        # The reach is solved in a thread beside the method's solve, waited for where it restrains.
        reach = _pending(self._reach_of, cues) if self.engine.restrains and cues.count else None
        if cues.count == 0 and guess is None:
            if cues.unmatched:  # the gray image back would hide it, as the command line refuses it
                raise InputError(f"{unmatched_note(cues.unmatched)}; add strokes or the prior")
            tell("no colour cues: the result is the gray image", stacklevel=3)
            chroma = np.zeros(self.gray.shape + (2,))
            info.update({"solver": None, "iterations": None, "residual": None})  # nothing was solved
        else:
            targets = self.painter.targets(cues)
            bounded = guess is None and self.engine.within_cues
            values = gather(targets, cues.mask) if bounded else None
            # One colour's answer is that colour everywhere: taken, not solved (a long thin image's
            # system can be numerically singular).
            colour = one_value(values) if values is not None and reach is None else None
            with threads_for(self.gray.size, self.options.threads) as threads:
                if colour is not None:
                    chroma = np.empty(self.gray.shape + (2,))
                    chroma[...] = colour
                    self.engine.reset()
                    report = {"solver": "none (one colour: the answer everywhere)", "iterations": 0, "residual": 0.0}
                else:
                    try:
                        solved = self.engine.solve(Problem(cues.mask, targets, guess, weight, reach), x0)
                        if reach is not None:
                            reach.result()  # (its error, if any, is this solve's)
                    except BaseException:
                        self._drop_early()
                        raise
            try:
                if colour is None:
                    chroma, report = checked_solution(self.engine, solved, self.gray.shape + (2,))
                    if values is not None:
                        # restrained: between the cues and neutral
                        within = values if reach is None else np.vstack([values, np.zeros((1, values.shape[1]))])
                        _check_within(chroma, within, cues.mask.size, report, self.options.tol)
                # The method's report checked: a plug-in cannot rewrite the library's own keys.
                info.update(checked_info(self.engine, report))
            except BaseException:
                self._drop_early()
                raise
            info["threads"] = threads
            # A method that reports what it changed (windows) has the last chroma elsewhere.
            where = info.pop("changed", None) if self._last is not None else None
            if self.updates is not None and guess is None:
                self.updates.rebase(chroma, cues.mask, targets)
        if guess is not None:
            # What the prior says of itself, less the options that had no effect.
            effect = info["options"]
            own = {key: value for key, value in said.items() if key not in OPTION_NAMES or key in effect}
            info.update(cast(Info, own))  # the prior's keys (prior, prior_weight…): Info's
        return self._finish(chroma, info, start, where)

    def _paint_early(self, draft: np.ndarray, changed: list | None) -> None:
        """The method's draft of its chroma painted in a thread while the method corrects it (not under
        numba's workqueue layer: it aborts on kernels launched from two threads)."""
        self._drop_early()
        if self._later():
            return  # not painted now: nothing to draft
        if changed is not None and self._last is not None and not covers_most(changed, self.gray.shape):
            return  # the few windows that changed are painted after, as ever
        if kernels_launch_from_threads():
            self._early = (draft, self.painter.paint_ahead(draft))

    def _drop_early(self) -> None:
        """Wait for a draft's paint under way, and forget it (its method failed, or did not say
        where it wrote since): no thread is left writing into the painter's arrays."""
        early, self._early = self._early, None
        _settled(early)

    def _finish(self, chroma: np.ndarray, info: Info, start: float, where=None) -> Result:
        """The result for ``chroma``; with ``where``, only those pixels of the last one changed. A chroma
        that cannot be right (NaN, infinite) is an error, never a black result."""
        parts = (
            [chroma] if where is None else [chroma[w] for w in where] if isinstance(where, list) else [chroma[where]]
        )
        early, self._early = self._early, None
        late = info.pop("late", None)
        if early is not None and (early[0] is not chroma or not isinstance(late, list)):
            _settled(early)  # a draft of another array, or no word of where it changed since
            early = None
        if not all(np.all(np.isfinite(part)) for part in parts):
            _settled(early)
            raise InputError(
                "the solve produced non-finite chroma (NaN or infinite) and no result; "
                f"info: {dict(info, seconds=None)}"
            )
        if self.on_chroma is not None:
            self.on_chroma(chroma)
        painting = time.perf_counter()
        if self._waiting:  # where results left unpainted changed, painted (or left) with this one
            where = _union(self._waiting_where, where)
        later = self._later()
        # Left to wait (where this result changed, as windows), or painted now: nothing waits.
        self._waiting, self._waiting_where = later, _union(where, []) if later else None
        if later:
            _settled(early)
            assert self._last is not None
            rgb, ab = self._last.rgb, chroma  # the picture as it was; in Lab a result's ab is its chroma
        elif early is not None:  # (a draft is painted whole: what waited too)
            assert late is not None
            rgb, ab = early[1].result()
            self.painter.repaint(chroma, late, rgb, ab)
        else:
            last = None if self._last is None else (self._last.rgb, self._last.ab)
            rgb, ab = self.painter.paint(chroma, where, last)
        self.engine.painted()  # work the method held back off the result's path may go now
        self._chroma = chroma
        info["seconds"] = time.perf_counter() - start
        info["paint_seconds"] = info["seconds"] - (painting - start)  # of which colour conversion
        self._last = Result(rgb=rgb, ab=ab, info=info, provenance=self._provenance())
        return self._last

    def _reach_of(self, cues: Cues) -> Reach:
        """The reach of ``cues`` (:mod:`varcolor.restraint`), solved once a cue set."""
        if self._reach is not None and self._reach[0] is cues:
            return self._reach[1]
        if self._restraint is None:
            self._restraint = Restraint(self.gray)
        reach = self._restraint.reach(cues.mask, cues.weight, cues.ab, cues.points)
        self._reach = (cues, reach)
        return reach

    def _provenance(self) -> _Provenance | None:
        """What the last result's confidence and sources are read from: the reach its method was
        restrained to, or what solves it when first asked."""
        cues = self.cues
        if cues is None:
            return None
        if self._reach is not None and self._reach[0] is cues:
            return _Provenance(self._reach[1], cues, self._trust, None)
        return _Provenance(None, cues, self._trust, self._restraint if self._restraint is not None else self.gray)


def colorize(
    gray: np.ndarray,
    cues: Cues,
    options: Options | None = None,
    /,
    *,
    x0: np.ndarray | None = None,
    global_hints: GlobalHints | None = None,
    progress: Callable[[dict], None] | None = None,
    plan: SolverPlan | None = None,
    bits: int | None = None,
    **keywords,
) -> Result:
    """Colorize a gray image from colour cues.

    One-shot form of :class:`Colorizer`: the same options, one solve.

    Parameters
    ----------
    gray : array_like
        ``H×W`` gray values in [0, 1] (or ``H×W×3``: its same-lightness gray is used). The result
        has exactly this lightness.
    cues : Cues
        The colour cues (:class:`~varcolor.cues.Cues`: from a marked image, a mask, points).
    options : Options, optional
        All options as one value; ``keywords`` (the fields of :class:`~varcolor.options.Options`
        and the method's own parameters) build or change it. The ones most often given:

        ``method``
            ``"levin-multiscale"`` (default: Levin et al.'s system solved on a coarse grid, lifted
            by the gray and corrected exactly near the cues), ``"levin"`` (Levin et al.'s exact
            system at full resolution), ``"levin-symmetric"`` (a symmetric variant: less memory,
            linear-time multigrid, a little worse), ``"bilaplacian-gtv"`` (flat regions with sharp
            edges; slow), ``"ideepcolor"`` (the network alone), or a plug-in's. A method and a
            prior are given apart (``method="levin", prior="ideepcolor"``, not
            ``"levin+ideepcolor"``).
        ``solver``
            ``"auto"`` (default: picks from the size, the method and the memory), ``"direct"``
            (exact LU), ``"tiles"`` (big scans), ``"amg"``, ``"multigrid"``, ``"cg"``
            (docs/guide/solvers.md).
        ``prior``
            None (default) or ``"ideepcolor"``: the network's colours where cues are missing
            (``network_file``: its weights file, default the shipped model; ``prior_weight``: β),
            for the methods that take a prior (the others refuse it: a result's ``info["prior"]``
            is always a prior that acted).
    x0 : ndarray, optional
        An initial guess of the propagated chroma (``H×W×2``) for iterative solvers.
    global_hints : GlobalHints, optional
        The image's ab histogram and saturation, for a network with a global-hints branch.
    progress : callable, optional
        Called with a dict as an iterative solve goes on (ADMM's residuals, the tiles done).
    plan : SolverPlan, optional
        :func:`check_fits`'s plan for this image and these options (then the options are checked
        and the solver chosen once in all).
    bits : {None, 8, 16}
        None: ``rgb`` as floats in [0, 1]; 8 or 16: as the levels an 8- or 16-bit file holds
        (uint8, uint16), painted band by band, for a big scan that is only written out.

    Returns
    -------
    Result
        The colour image (``rgb``), its chroma (``ab``) and a report (``info``).

    Raises
    ------
    InputError
        A gray image that is not ``H×W`` (or ``H×W×3``) in [0, 1] or under 2×2 pixels, options a
        method refuses.
    ConvergenceError
        An iterative solve that stopped before its tolerance (a linear solver at ``maxiter``;
        bilaplacian-gtv's ADMM far above ``admm_tol`` at ``admm_maxiter``).

    Examples
    --------
    >>> import numpy as np, varcolor
    >>> gray = np.full((16, 16), 0.5)
    >>> cues = varcolor.Cues.from_points([{"y": 8, "x": 8, "a": 30, "b": 10}], shape=gray.shape)
    >>> res = varcolor.colorize(gray, cues)
    >>> np.allclose(res.ab[0, 0], (30, 10), rtol=0.05)  # one cue on a flat image colours it all
    True
    >>> float(res.confidence.min()) > 0.95  # nothing stops it: its colour is known everywhere
    True
    >>> varcolor.colorize(gray, cues, method="levin-symmetric", solver="multigrid").info["solver"]
    'multigrid'
    """
    colorizer = Colorizer(gray, options, global_hints=global_hints, progress=progress, plan=plan, bits=bits, **keywords)
    _warn_ignored(
        methods.get(colorizer.options.method), colorizer.options, colorizer.engine.solver_name, colorizer.gray.shape
    )
    return colorizer._solve(cues, x0, True)  # no edits follow: nothing made ahead for them


#: A chroma further outside its cues' range than this share of their largest value is no rounding.
WITHIN_SLACK = 0.005


def _union(first, second) -> list | None:
    """Where two results changed (each ``where`` of :meth:`Colorizer._finish`: None, anywhere; a
    pair of slices or of index arrays; a list of pairs of slices)."""
    windows = []
    for where in (first, second):
        if where is None:
            return None
        for window in where if isinstance(where, list) else [where]:
            if not isinstance(window[0], slice):
                return None
            windows.append(window)
    return windows


def _settled(early: tuple[np.ndarray, Future] | None) -> None:
    """Wait for a draft's paint (:meth:`Colorizer._paint_early`) to end, its error unsaid: the
    solve's own is what is said."""
    if early is not None:
        try:
            early[1].result()
        except Exception:  # noqa: BLE001 - not this call's error
            pass


def _weakly(method: Callable[..., None]) -> Callable[..., None]:
    """``method`` (a bound method) called through a weak reference to its object: a call after
    the object is gone does nothing."""
    reference = weakref.WeakMethod(method)

    def call(*args, **kwargs) -> None:
        bound = reference()
        if bound is not None:
            bound(*args, **kwargs)

    return call


def _pending(solve: Callable[[Cues], Reach], cues: Cues) -> PendingReach:
    """``solve(cues)`` started in the thread of :data:`_REACH_THREAD`."""
    context = contextvars.copy_context()
    return PendingReach(_REACH_THREAD.submit(lambda: _on_reach_thread(context, solve, cues)))


def _on_reach_thread(context: contextvars.Context, solve: Callable[[Cues], Reach], cues: Cues) -> Reach:
    # A reach's things' factors go with its result and are dropped wherever the result is: freed here.
    wake_with(lambda: _REACH_THREAD.post(release))
    return context.run(solve, cues)


#: The thread reaches are solved in, beside their methods' solves.
_REACH_THREAD = Worker("reach")


def _check_within(chroma: np.ndarray, values: np.ndarray, pixels: int, report: dict, tol: float) -> None:
    """Refuse a chroma that left its cues' range (``values``), saying why: an iterative solver stopped
    at a loose ``tol`` (``report``), else a numerically singular system; ``pixels`` named in the error."""
    low, high = channel_extremes(values)
    slack = WITHIN_SLACK * float(max(np.abs(low).max(), np.abs(high).max()))
    least, most = channel_extremes(chroma)
    if np.all(least >= low - slack) and np.all(most <= high + slack):
        return
    outside = int(np.count_nonzero(np.any((chroma < low - slack) | (chroma > high + slack), axis=2)))
    lost = (
        f"{outside:,} of {pixels:,} pixels have chroma outside the cues' range "
        f"(as far as {float(np.max(np.maximum(low - least, most - high))):.3g})"
    )
    residual, iterations = report.get("residual"), report.get("iterations")
    if residual is not None and residual > TOL and iterations:
        raise ConvergenceError(
            f"the {report.get('solver')} solver stopped at relative residual {residual:.1e} (tol {tol:g}), "
            f"short of the answer: {lost}; give a smaller tol (the default is {TOL:g}) or solver='direct'"
        )
    raise ConvergenceError(
        f"the solve lost accuracy: {lost}; the system is numerically singular, as along a long thin image: "
        "cues nearer each other help"
    )


#: The shared options' names (a prior's report names some of them).
OPTION_NAMES = frozenset(Options.names())


def _solved_afresh(result: Result, why: str | None) -> Result:
    """``result`` of a global solve where a reuse was tried, saying so: ``info["update"]`` is
    ``"full"`` and ``info["full_solve"]`` why (an incremental method's own reason first)."""
    why = result.info.get("full_solve", why)
    if why is not None and "update" not in result.info:
        result.info.update({"update": "full", "full_solve": why})
    return result
