"""What a colorization method is: :class:`Method`, and :class:`LinearMethod` for those that solve
one sparse linear system per chroma channel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar, cast

import numpy as np

from ..common.info import Info
from ..common.memory import check_memory, memory_budget
from ..common.raster import coordinates
from ..errors import InputError, MethodError
from ..instances.detectors import check_options as check_detector_options
from ..options import Options
from ..restraint import PendingReach, Reach
from ..solvers import DirectSolver, LinearSystem, RebindableSolver, SolverPlan, make_solver, plan_solver
from ..solvers.choice import SOLVERS
from ..solvers.device import backend
from .interactive import Updates

__all__ = [
    "Method",
    "LinearMethod",
    "Problem",
    "checked_solution",
    "checked_info",
    "options_in_effect",
    "LIBRARY_KEYS",
]

#: The options that act only through a prior: with none acting, they change nothing (and
#: `--help` lists them apart from the method's and the solver's).
PRIOR_OPTIONS = frozenset(
    (
        "prior",
        "network_file",
        "mask_cent",
        "prior_weight",
        "confidence",
        "prior_mode",
        "automatic",
        "instances",
        "detector_file",
    )
)
#: The options that act only through a linear solver: a method that solves none ignores them.
SOLVER_OPTIONS = frozenset(("solver", "tol", "maxiter"))
#: The linear solvers that do not iterate, and the solver options they ignore.
NOT_ITERATIVE = {"direct": frozenset(("maxiter",)), "tiles": frozenset(("tol", "maxiter"))}
#: The keys of a result's ``info`` that the library writes: a method's report may not hold them
#: (a plug-in's ``{"method": ...}`` would rewrite what ran).
LIBRARY_KEYS = frozenset(
    (
        "method",
        "space",
        "device",
        "cues",
        "options",
        "threads",
        "paint_seconds",
        "prior",
        "prior_weight",
        "confidence",
        "prior_mode",
        "automatic",
        "instances",
        "detector",
        "detect_seconds",
    )
)


@dataclass(frozen=True, eq=False)
class Problem:
    """What a method solves for: chroma ``targets`` (``H×W×2``, in the options' colour space) held at
    the ``mask`` pixels, and where a prior is on, its guess ``prior`` (``H×W×2`` Lab chroma) with
    ``weight`` (``H×W``: β times the confidence).

    Attributes
    ----------
    mask : ndarray of bool
        ``H×W``: the cue pixels.
    targets : ndarray
        ``H×W×2``: the cue values (in the options' colour space), read at ``mask``.
    prior, weight : ndarray, optional
        The prior's guess (``H×W×2`` Lab chroma) and its weight (``H×W``), or None.
    reach : Reach, optional
        How far the cues' colour reaches (:mod:`varcolor.restraint`), for a method that restrains
        its colour to it (:attr:`Method.restrains`); None: the colour goes where the method takes it.
    """

    mask: np.ndarray
    targets: np.ndarray
    prior: np.ndarray | None = None
    weight: np.ndarray | None = None
    reach: Reach | PendingReach | None = None


class Method:
    """A colorization method, made once per :class:`~varcolor.Colorizer` (one gray image): it may
    keep state between solves (factors, iterates) to answer updates faster.

    Class attributes describe it:

    - ``name``, ``summary``: its registered name and one line for ``--help`` and the docs;
    - ``spaces``: the colour spaces it propagates (``"lab"``, ``"yiq"``);
    - ``prior_modes``: the ways it can use a prior's guess (:meth:`prior_mode`);
    - ``symmetric``: for a linear system, whether it is symmetric positive definite (which solvers
      apply); None where no linear solver is used;
    - ``Parameters``: a frozen dataclass of the method's own options (None: it has none); its
      fields' metadata hold their ``--help`` text (:func:`varcolor.common.fields.option`);
    - ``bytes_per_pixel``: peak memory per pixel of methods that take no linear solver;
    - ``within_cues``: whether, without a prior, every pixel's chroma lies between its cues' least
      and greatest, channel by channel (a convex combination of them, as Levin's rows make it):
      then :func:`varcolor.colorize` gives cues all of one colour that colour with no solve, and
      refuses a solve that left the range (:class:`~varcolor.errors.ConvergenceError`); a
      method that ``restrains`` lies between them and neutral;
    - ``video``: whether it solves Levin's system, which a clip extends over time (the space-time
      system, :mod:`varcolor.video`): a clip is coloured only by such a method.

    What it does is asked through methods, each with a default here that a method overrides:
    :meth:`check_options` (its own options), :meth:`prior_for` (the prior it uses: by default
    none, and a prior asked for is refused), :meth:`prior_mode`, :meth:`updater` (how it updates
    for new cues without a global solve: by default it does not), :meth:`begin` (what a new solve
    keeps of the last one), :meth:`refines` (whether :meth:`tolerance` can carry a solve on) and
    :meth:`shows_progress`.

    A method is made with the :class:`~varcolor.solvers.SolverPlan` its class planned
    (:meth:`plan`, once per image; a subclass that overrides ``__init__`` passes ``plan`` on).

    A method that finishes its chroma in two steps (a draft of every pixel, then local corrections)
    may call :attr:`on_early` (set by the :class:`~varcolor.Colorizer`; None: nobody listens) with
    the draft, an array it then returns, and the windows (pairs of slices) that may differ from its
    last result (None: any pixel); after the call it writes into the draft only inside the windows it
    reports as ``"late"`` (a list of pairs of slices) in its report. The colorizer paints the draft
    while the corrections run, then paints those windows again.
    """

    #: Called with a draft of the chroma and where it changed (see above); None: not listened to.
    on_early: Callable[[np.ndarray, list | None], None] | None = None

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    spaces: ClassVar[tuple[str, ...]] = ("lab",)
    prior_modes: ClassVar[tuple[str, ...]] = ("anchor",)
    symmetric: ClassVar[bool | None] = None
    Parameters: ClassVar[type | None] = None
    bytes_per_pixel: ClassVar[int] = 250
    within_cues: ClassVar[bool] = False
    #: Whether the method scales its colour by the cues' reach (:attr:`Problem.reach`, which the
    #: colorizer then solves for it): a pixel no cue's colour reaches stays neutral.
    restrains: bool = False
    video: ClassVar[bool] = False

    def __init__(
        self,
        guide: np.ndarray,
        options: Options,
        progress: Callable[[dict], None] | None = None,
        *,
        plan: SolverPlan | None = None,
    ):
        """A method for the gray image ``guide``.

        Parameters
        ----------
        guide : ndarray
            The gray image, ``H×W`` in [0, 1].
        options : Options
            The colorization's options (its own ``parameters`` filled in with defaults where None).
        progress : callable, optional
            Called with a dict as long solves advance.
        plan : SolverPlan, optional
            What :meth:`plan` made for this image and these options (else planned here).
        """
        if options.parameters is None and self.Parameters is not None:  # options made directly: the defaults
            options = dataclasses.replace(options, parameters=self.Parameters())
        self.guide, self.options, self.progress = guide, options, progress
        if plan is None:
            plan = self.plan(guide.shape, options)
        elif not self.accepts(plan, guide.shape, options):
            raise InputError(
                f"the plan was made for method {plan.method!r} on a {plan.shape[1]}×{plan.shape[0]} image with "
                f"other options, not for method {self.name!r} on this {guide.shape[1]}×{guide.shape[0]} image "
                "with these: pass the options check_fits planned with"
            )
        self.solver_plan = plan

    @property
    def solver_name(self) -> str | None:
        """The linear solver planned (``auto`` resolved), or None."""
        return self.solver_plan.solver

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """The names of the method's own options (its ``Parameters``' fields)."""
        return () if cls.Parameters is None else tuple(spec.name for spec in dataclasses.fields(cls.Parameters))

    @classmethod
    def check_options(cls, options: Options) -> Options:
        """``options`` checked for this method, its own ``parameters`` filled in with their
        defaults where not given: a wrong parameters value, a colour space it does not propagate,
        a prior it does not take, an unknown solver, or detector options without a prior are
        refused in one line. A method with more rules adds them (calling this first).

        Parameters
        ----------
        options : Options
            The options to check.

        Returns
        -------
        Options
            ``options``, with the method's ``parameters`` filled in where they were None.
        """
        own = cls.Parameters
        if options.parameters is None and own is not None:
            options = dataclasses.replace(options, parameters=own())
        elif own is None and options.parameters is not None:
            raise InputError(f"method {cls.name!r} takes no parameters")
        elif own is not None and not isinstance(options.parameters, own):
            raise InputError(f"parameters of method {cls.name!r} must be a {own.__name__}")
        if options.space not in cls.spaces:
            space = cls.spaces[0]
            raise InputError(f"{cls.name} propagates {_SPACE_NAMES[space]} chroma: use space={space!r}")
        if options.solver != "auto" and options.solver not in SOLVERS:
            raise InputError(f"unknown solver {options.solver!r}; available: auto, {', '.join(SOLVERS)}")
        if cls.prior_for(options) is None and (options.instances != "none" or options.detector_file is not None):
            check_detector_options(options, network=False)  # instances need the network: one line saying so
        return options

    @classmethod
    def prior_for(cls, options: Options) -> str | None:
        """The prior this method uses with ``options`` (a :mod:`varcolor.priors` name), or None.
        Here: none, and ``prior=`` is refused (a result must never report a prior that did not
        act); a method whose solve reads :attr:`Problem.prior` returns ``options.prior``.

        Parameters
        ----------
        options : Options
            The options the method runs with.
        """
        if options.prior is not None:
            raise InputError(f"method {cls.name!r} takes no prior: leave prior out (it would not change the result)")
        return None

    @classmethod
    def prior_mode(cls, options: Options) -> str:
        """How this method uses the prior: ``options.prior_mode`` where it is one of its
        ``prior_modes``, else ``anchor`` (the prior term).

        Parameters
        ----------
        options : Options
            The options the method runs with.
        """
        return options.prior_mode if options.prior_mode in cls.prior_modes else "anchor"

    @classmethod
    def ignored_options(cls, options: Options, solver: str | None) -> frozenset[str]:
        """The names of the shared options that have no effect on this method's result with
        ``options`` and the linear ``solver`` planned (None: none): a prior's options where no
        prior acts, a linear solver's where none runs, the iteration limit where the solver does
        not iterate (``direct``; ``tiles``, whose tiles are refined to their own tolerance, takes
        no ``tol`` either; ``direct`` keeps it: the edits corrected from its factors are refined
        to it). A method that ignores more adds them.

        Parameters
        ----------
        options : Options
            The options the method runs with.
        solver : str or None
            The linear solver planned (``auto`` resolved), None for a method without one.
        """
        ignored: set[str] = set()
        if cls.prior_for(options) is None:
            ignored |= PRIOR_OPTIONS
        if solver is None:
            ignored |= SOLVER_OPTIONS
        elif solver in NOT_ITERATIVE:
            ignored |= NOT_ITERATIVE[solver]
        return frozenset(ignored)

    @classmethod
    def ignored_at(cls, shape: tuple[int, int], options: Options, solver: str | None) -> frozenset[str]:
        """The names of the options (shared or the method's own) that have no effect on its result
        on an image of ``shape`` alone, beyond :meth:`ignored_options` (levin-multiscale's coarse
        grid's where it solves Levin's exact system); here none.

        Parameters
        ----------
        shape : tuple of int
            ``(height, width)`` of the image.
        options : Options
            The options the method runs with.
        solver : str or None
            The linear solver planned (``auto`` resolved), None for a method without one.
        """
        return frozenset()

    @classmethod
    def ignored_at_reason(cls, shape: tuple[int, int], options: Options, solver: str | None) -> str:
        """Why :meth:`ignored_at` leaves its options out, in a few words for a warning ("" where
        it leaves none out).
        """
        return ""

    @classmethod
    def refines(cls) -> bool:
        """Whether :meth:`tolerance` can carry a solve on to a tighter tolerance (an iterative
        method's): the studio previews, then refines."""
        return False

    @classmethod
    def shows_progress(cls) -> bool:
        """Whether long solves call ``progress`` (the command line then shows a bar for a single image)."""
        return False

    def updater(self, space: str, targets_at: Callable) -> Updates | None:
        """What answers new cues without a global solve (:class:`varcolor.methods.interactive.Updates`:
        low-rank corrections of held factors, windowed re-solves), made once per colorizer; None
        (here): every new cue set is solved by :meth:`solve`. ``targets_at(cues, pixels)`` gives
        the cue values the system holds at raster indices, in ``space``.

        Parameters
        ----------
        space : str
            The colour space the chroma is propagated in (``"lab"`` or ``"yiq"``).
        targets_at : callable
            ``targets_at(cues, pixels)``: the values of the :class:`~varcolor.Cues` ``cues`` at
            the raster indices ``pixels`` (``k×2``), in ``space``.
        """
        return None

    def begin(self, reuse: bool) -> None:
        """A solve of a new cue set follows; ``reuse``: the caller allows reusing what the last
        solve left (no initial guess given). Here: :meth:`reset`, always; a method whose
        :meth:`solve` itself reuses the last solve (its report says how) resets only without ``reuse``.

        Parameters
        ----------
        reuse : bool
            Whether the solve may start from what the last one left.
        """
        self.reset()

    @classmethod
    def plan(cls, shape: tuple[int, int], options: Options) -> SolverPlan:
        """The solve of an image of ``shape`` (:class:`~varcolor.solvers.SolverPlan`: the solver,
        None here, and the memory it needs), refusing, before anything is allocated, one that
        would not fit in the memory budget.

        Parameters
        ----------
        shape : tuple of int
            ``(height, width)`` of the image.
        options : Options
            The options the method runs with (its solver, device, tolerance and memory budget).
        """
        shape = (int(shape[0]), int(shape[1]))
        backend(options.device)  # a GPU asked for where there is none: refused by the plan, as by the solve
        need = cls.memory(shape, options)
        check_memory(need, f"method {cls.name} on a {shape[1]}×{shape[0]} image", options.max_memory)
        return SolverPlan(
            None,
            need,
            memory_budget(options.max_memory)[0],
            f"method {cls.name} solves no linear system",
            shape,
            options.solver,
            options.device,
            cls.symmetric,
            options.tol,
            options.maxiter,
            options.max_memory,
            cls.name,
        )

    @classmethod
    def accepts(cls, plan: SolverPlan, shape: tuple[int, int], options: Options) -> bool:
        """Whether ``plan`` is what :meth:`plan` makes for ``shape`` and ``options`` (bar the
        memory available, which it does not look at again).

        Parameters
        ----------
        plan : SolverPlan
            The plan to check.
        shape, options
            As :meth:`plan` takes them.
        """
        return isinstance(plan, SolverPlan) and (
            plan.method,
            plan.shape,
            plan.requested,
            plan.device,
            plan.tol,
            plan.maxiter,
            plan.max_memory,
        ) == (
            cls.name,
            (int(shape[0]), int(shape[1])),
            options.solver,
            options.device,
            options.tol,
            options.maxiter,
            options.max_memory,
        )

    @classmethod
    def memory(cls, shape: tuple[int, int], options: Options) -> int:
        """Peak memory (bytes) a solve of an image of ``shape`` is expected to need (a method with
        a linear solver: its :meth:`plan`'s ``bytes``).
        """
        return shape[0] * shape[1] * cls.bytes_per_pixel

    @classmethod
    def same_as(cls, shape: tuple[int, int], options: Options) -> str | None:
        """The registered method whose solve this one's is, by design, on an image of ``shape``
        with ``options`` (``levin-multiscale`` up to 65,536 pixels: ``levin``), or None: a
        benchmark then says that the two rows are one solve (:func:`varcolor.bench.same_solves`).

        Parameters
        ----------
        shape, options
            As :meth:`ignored_at` takes them.
        """
        return None

    def reset(self) -> None:
        """Forget what earlier solves left (a fresh solve follows)."""

    def changed(self) -> None:
        """The cues changed since the last solve (an update follows, starting from its result)."""

    def ahead(self) -> None:
        """Edits will follow the solve just made (an interactive session, not a one-off
        colorization): make ready ahead, off the edits' path, what the first of them needs."""

    def painted(self) -> None:
        """The last solve's result is painted (:class:`~varcolor.Colorizer` says so): work this
        method held back off the result's path (a factorisation for the edits to come) may have
        the cores now. A caller that never says so loses nothing: the next solve lets it go."""

    def solve(self, problem: Problem, x0: np.ndarray | None) -> tuple[np.ndarray, dict]:
        """The chroma (``H×W×2``, in the options' space) for ``problem``, from the initial guess
        ``x0`` where iterative, and a report: at least ``solver`` (a str, None where no linear
        solver ran), ``iterations`` (a whole number >= 0, or None) and ``residual`` (a number
        >= 0, or None where none was computed), and none of the library's own keys
        (:data:`LIBRARY_KEYS`); an ``incremental`` method may add ``changed`` (a pair of slices)
        outside which the chroma is the last solve's, up to rounding (only that part is painted
        again). :func:`checked_info` checks it.

        Parameters
        ----------
        problem : Problem
            The cues (and the prior's guess, where one acts) to solve for.
        x0 : ndarray or None
            The initial guess (``H×W×2``, in the options' space) for an iterative solve; None: the
            method's own start.
        """
        raise NotImplementedError

    @contextmanager
    def tolerance(self, tol: float | None):
        """Within this, solves carry the last one on to ``tol`` (None: the method's default final
        tolerance); only methods that :meth:`refines` have one to tighten.

        Parameters
        ----------
        tol : float or None
            The tolerance the solves are carried on to; None: the method's default final one.
        """
        raise InputError(
            f"refine carries on an iterative method's solve (bilaplacian-gtv's ADMM); method "
            f"{self.name!r} solves to its tolerance at once"
        )
        yield


class LinearMethod(Method):
    """A method whose chroma solves one sparse linear system (every channel a right-hand side),
    by the solver the options name or :func:`varcolor.solvers.plan_solver` picks. It assembles
    the system (:meth:`system`, on any gray image: the ``tiles`` solver builds it tile by tile
    and on coarser images); the solver is built once (:func:`varcolor.solvers.make_solver`) and
    rebound when the cues change where it supports that, and re-solves windows for interactive
    updates (:mod:`varcolor.methods.interactive`).
    """

    symmetric: ClassVar[bool] = False
    #: A cue changes only its own row of the operator, so after an edit the first solve's operator
    #: gives the new system's residual in one product (:meth:`varcolor.methods.interactive.Updates.edit`).
    cue_rows: ClassVar[bool] = False
    #: The solver built at the last solve (rebound where it can be); None before one.
    solver = None

    @classmethod
    def prior_for(cls, options: Options) -> str | None:
        """``options.prior``: a linear method takes any prior, through its prior term."""
        return options.prior  # the prior term: anchor, or the modes a method lists

    def updater(self, space: str, targets_at: Callable) -> Updates:
        """The low-rank and windowed updates (:class:`~varcolor.methods.interactive.Updates`) of this method."""
        return Updates(self, space, targets_at)

    @classmethod
    def plan(cls, shape: tuple[int, int], options: Options, *, what: str | None = None) -> SolverPlan:
        """The linear solver for an image of ``shape`` (:func:`varcolor.solvers.plan_solver`: the
        one ``options`` name, or the one it picks), refused where it would not fit in the memory budget
        (``what``: what the refusal names, where the system is of another method's grid).
        """
        plan = plan_solver(
            options.solver,
            (shape[0], shape[1]),
            device=options.device,
            symmetric=cls.symmetric,
            max_memory=options.max_memory,
            tol=options.tol,
            maxiter=options.maxiter,
            what=what,
        )
        return dataclasses.replace(plan, method=cls.name)

    @classmethod
    def memory(cls, shape: tuple[int, int], options: Options) -> int:
        """The memory its :meth:`plan` says the solve needs (bytes)."""
        return cls.plan(shape, options).bytes

    def system(
        self,
        guide: np.ndarray,
        mask: np.ndarray,
        targets: np.ndarray,
        prior: np.ndarray | None = None,
        weight: np.ndarray | None = None,
    ):
        """The operator (:class:`~varcolor.solvers.stencil.GridOperator`) and right-hand side
        (``H×W×2``) on ``guide`` with ``targets`` held at ``mask``, and the prior term if given.

        Parameters
        ----------
        guide : ndarray
            The gray image (``H×W``), or a part of it.
        mask : ndarray of bool
            ``H×W``: the cue pixels.
        targets : ndarray
            ``H×W×2``: the cue values, read at ``mask``.
        prior, weight : ndarray, optional
            The prior's guess (``H×W×2``) and its weight (``H×W``) for the prior term; None: no prior term.
        """
        raise NotImplementedError

    def window_system(self, window, fixed: np.ndarray, values: np.ndarray):
        """The system on the pixels ``window`` (a pair of slices), ``fixed`` held at ``values``:
        what local updates solve.

        Parameters
        ----------
        window : tuple of slice
            The rows and columns of the pixels, in the method's gray image.
        fixed : ndarray of bool
            The window's cue pixels (its shape).
        values : ndarray
            The cue values (the window's shape by 2), read at ``fixed``.
        """
        return self.system(self.guide[window], fixed, values)

    def rhs_change(
        self, base_mask: np.ndarray, old: np.ndarray, new: np.ndarray, recoloured: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The change of the right-hand side of the system with cues at ``base_mask`` when its cues
        at ``recoloured`` (raster indices) go from ``old`` to ``new`` values: (raster indices,
        changes). Here, in general: the system's right-hand side on a window around them, with 4
        pixels of margin (weights within 2 pixels of a window's border differ from the whole
        image's), before and after.

        Parameters
        ----------
        base_mask : ndarray of bool
            ``H×W``: the cue pixels of the system.
        old, new : ndarray
            ``k×2``: the cues' values before and after, one row per index of ``recoloured``.
        recoloured : ndarray of int
            The raster indices of the ``k`` cues whose value changes.
        """
        height, width = self.guide.shape
        rows, columns = np.divmod(recoloured, width)
        window = (
            slice(max(rows.min() - 4, 0), min(rows.max() + 5, height)),
            slice(max(columns.min() - 4, 0), min(columns.max() + 5, width)),
        )
        values = np.zeros((window[0].stop - window[0].start, window[1].stop - window[1].start, 2))
        local = (rows - window[0].start, columns - window[1].start)
        values[local] = old
        before = self.window_system(window, base_mask[window], values)[1]
        values[local] = new
        change = self.window_system(window, base_mask[window], values)[1] - before
        i, j = coordinates(np.any(change != 0, axis=2))
        return (i + window[0].start) * width + j + window[1].start, change[i, j]

    def reset(self) -> None:
        self.solver = None

    def solve(self, problem: Problem, x0: np.ndarray | None) -> tuple[np.ndarray, dict]:
        """The system's solution by the planned solver (rebound to the new operator where it can
        be), from ``x0``, else from the prior's guess where one acts, with the cues set at their pixels.
        """
        plan = self.solver_plan
        system = LinearSystem(self.system, self.guide, problem.mask, problem.targets, problem.prior, problem.weight)
        if plan.from_system:
            # At tens of megapixels the whole operator is gigabytes: the tiles build theirs, and
            # the right-hand side with it, from the cues' values.
            rhs = problem.targets
            self.solver = make_solver(plan, system, progress=self.progress)
        else:
            operator, rhs = system.assemble()
            if self.solver is not None and self.solver.supports_rebind:
                assert isinstance(self.solver, RebindableSolver)  # what supports_rebind says
                self.solver = self.solver.rebind(operator)
            else:
                self.solver = make_solver(plan, operator)
        if x0 is None:
            x0 = problem.prior  # the network's guess starts iterative solvers
        if x0 is not None:
            x0 = np.where(problem.mask[..., None], problem.targets, x0)
        chroma, report = self.solver.solve(rhs, x0)
        return chroma, report.as_dict()

    @property
    def factors(self) -> DirectSolver | None:
        """The last solve's LU factors, where it was a global direct solve (what low-rank updates
        correct)."""
        return self.solver if isinstance(self.solver, DirectSolver) else None


_SPACE_NAMES = {"lab": "Lab", "yiq": "YIQ"}


def checked_solution(method: Method, outcome: object, shape: tuple[int, int, int]) -> tuple[np.ndarray, dict]:
    """A method's ``solve`` outcome, checked: ``(H×W×2 finite chroma, report dict)``. Anything else
    (a plug-in's None, a wrong shape, NaN) is one :class:`~varcolor.errors.MethodError` naming the
    method and where it comes from, never a traceback or a wrong image.

    Parameters
    ----------
    method : Method
        The method that solved.
    outcome : object
        What its ``solve`` returned.
    shape : tuple of int
        The chroma's shape, ``(height, width, 2)``.
    """
    where = f"method {method.name!r} ({type(method).__module__}.{type(method).__qualname__})"
    if not (isinstance(outcome, tuple) and len(outcome) == 2 and isinstance(outcome[1], dict)):
        raise MethodError(f"{where}: solve() returned {_kind(outcome)}, not (chroma array, report dict)")
    chroma = outcome[0]
    if not isinstance(chroma, np.ndarray) or chroma.dtype.kind not in "fiu" or chroma.shape != shape:
        raise MethodError(f"{where}: solve() returned chroma {_kind(chroma)}, not a {shape} number array")
    if not np.all(np.isfinite(chroma)):
        raise MethodError(f"{where}: solve() returned non-finite chroma (NaN or infinite)")
    return chroma, outcome[1]


def checked_info(method: Method, report: dict) -> Info:
    """A method's report (:meth:`Method.solve`'s), checked: ``solver`` a str or None,
    ``iterations`` a whole number >= 0 or None, ``residual`` a finite number >= 0 or None (NumPy
    scalars made Python's), and no key of :data:`LIBRARY_KEYS`; its own ``seconds`` (a solver's
    time) becomes ``solve_seconds`` (the result's ``seconds`` is the whole call's). Anything else is one
    :class:`~varcolor.errors.MethodError` naming the method and where it comes from: a plug-in's
    report cannot rewrite what the library says ran, nor leave out what ran.

    Parameters
    ----------
    method : Method
        The method that made the report.
    report : dict
        Its report.
    """
    where = f"method {method.name!r} ({type(method).__module__}.{type(method).__qualname__})"
    missing = [key for key in ("solver", "iterations", "residual") if key not in report]
    if missing:
        raise MethodError(
            f"{where}: solve()'s report has no {', '.join(missing)} "
            "(give each; None where nothing was solved or measured)"
        )
    clashes = sorted(LIBRARY_KEYS.intersection(report))
    if clashes:
        raise MethodError(
            f"{where}: solve()'s report holds the library's own key(s) {', '.join(clashes)}: name them otherwise"
        )
    checked = dict(report)
    if "seconds" in checked:
        checked["solve_seconds"] = checked.pop("seconds")
    solver, iterations, residual = report["solver"], report["iterations"], report["residual"]
    if solver is not None and not isinstance(solver, str):
        raise MethodError(f"{where}: solve()'s report's solver must be a str or None, not {_kind(solver)}")
    if iterations is not None:
        if isinstance(iterations, (bool, np.bool_)) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
            raise MethodError(
                f"{where}: solve()'s report's iterations must be a whole number >= 0 or None, not {iterations!r}"
            )
        checked["iterations"] = int(iterations)
    if residual is not None:
        if (
            isinstance(residual, (bool, np.bool_))
            or not isinstance(residual, (int, float, np.integer, np.floating))
            or not np.isfinite(residual)
            or residual < 0
        ):
            raise MethodError(
                f"{where}: solve()'s report's residual must be a finite number >= 0 or None, not {residual!r}"
            )
        checked["residual"] = float(residual)
    # The keys Info types were checked above; a method's own keys are beyond its shape.
    return cast(Info, checked)


def options_in_effect(
    method: type[Method], options: Options, solver: str | None, shape: tuple[int, int] | None = None
) -> dict:
    """``options`` as keywords (:meth:`Options.keywords <varcolor.options.Options.keywords>`),
    less those that had no effect on ``method``'s result (:meth:`Method.ignored_options`; on an
    image of ``shape``, :meth:`Method.ignored_at` too), with ``prior`` the prior that ran
    (:meth:`Method.prior_for`: the ``ideepcolor`` method's network, not given) and
    ``prior_mode`` the mode that ran (:meth:`Method.prior_mode`): what a report names.
    ``build_options(**options_in_effect(...))`` gives options that colorize the same.

    Parameters
    ----------
    method : type
        The :class:`Method` subclass.
    options : Options
        The options it ran with.
    solver : str or None
        The linear solver planned (``auto`` resolved), None for a method without one.
    shape : tuple of int, optional
        ``(height, width)`` of the image it ran on.
    """
    ignored = method.ignored_options(options, solver)
    if shape is not None:
        ignored |= method.ignored_at(shape, options, solver)
    kept = {name: value for name, value in options.keywords().items() if name not in ignored}
    if "prior" in kept:
        kept["prior"] = method.prior_for(options)
    if "prior_mode" in kept:
        kept["prior_mode"] = method.prior_mode(options)
    return kept


def _kind(value: object) -> str:
    """What ``value`` is, briefly: an array's shape and dtype, else its type."""
    if isinstance(value, np.ndarray):
        return f"of shape {value.shape} and dtype {value.dtype}"
    return "None" if value is None else f"a {type(value).__name__}"
