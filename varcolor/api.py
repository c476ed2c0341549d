"""The public entry points: :func:`colorize`, :class:`Colorizer` and their :class:`Result`.

The colorizer knows no method by name: it builds the :class:`~varcolor.options.Options`, loads
the network where the options ask for it, converts cues into the method's colour space, hands a
:class:`~varcolor.methods.Problem` to the method (:mod:`varcolor.methods`) and paints its chroma;
interactive updates are :mod:`varcolor.interactive`'s.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import methods
from .color import (
    chroma_to_rgb,
    chroma_to_rgb_of_gray,
    lab_to_rgb,
    lightness_of_gray,
    rgb_to_lab,
    rgb_to_yiq,
    to_gray,
    yiq_to_rgb,
)
from .cues import Cues
from .errors import SIZES, InputError, MethodError, check_image_size, check_unit_range, image_size, real_array
from .gamut import GlobalHints
from .interactive import Updates
from .io import to_levels
from .kernels import threads_for
from .methods import METHODS, Problem  # noqa: F401 (METHODS re-exported)
from .options import AUTOMATIC, CONFIDENCES, PRIOR_MODES, PRIOR_WEIGHT, PRIORS, SPACES, Options  # noqa: F401 (re-exported)
from .solvers import SolverPlan

#: :meth:`Colorizer.undo` keeps earlier cue sets up to this many bytes in all (at least one): some
#: 40 at 1 MP, one at 40 MP (a cue set is an image-sized mask and chroma).
UNDO_BYTES = 1_000_000_000

#: Up to this many pixels a colorizer holds the gray image's lightness (8 bytes a pixel) for the
#: repaints after edits; a bigger scan, colorized once, computes it as it paints.
HOLD_LIGHTNESS = 16_000_000

__all__ = [
    "colorize",
    "Colorizer",
    "Result",
    "Options",
    "METHODS",
    "SPACES",
    "check_fits",
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
    info : dict
        method, solver, iterations, residual, seconds; ``options``: every option the solve ran with
        (:meth:`Options.keywords <varcolor.options.Options.keywords>`: tolerance, iteration limit,
        the method's own parameters…; ``Options.build(**info["options"])`` rebuilds them); after an
        edit, ``update`` and ``full_solve`` (:meth:`Colorizer.update`); with ``instances``,
        what was found (``info["instances"]``: label, score, box, mask area, crop window, seconds per
        instance; :func:`varcolor.instances.fuse`).
    """

    rgb: np.ndarray
    ab: np.ndarray
    info: dict = field(default_factory=dict)


def _check_gray(gray: np.ndarray) -> np.ndarray:
    gray = real_array(gray, "gray")
    if not (gray.ndim == 2 or (gray.ndim == 3 and gray.shape[2] in (3, 4))):
        raise InputError(f"the gray image must be H×W, or H×W×3 (×4: alpha ignored), got shape {gray.shape}")
    check_image_size(gray.shape)
    check_unit_range(gray, "the gray image", " (use varcolor.read_image)")
    return to_gray(gray)


def check_fits(shape: tuple[int, int], options: Options | None = None, /, **keywords) -> SolverPlan:
    """Plan the colorization of an image of ``shape`` from its size alone, refusing one that would
    not fit in memory here (the command line calls it with the size in a file's header, before
    reading its pixels). The one planning entry of the library: which solver, how much memory
    (``.bytes``) and why; :func:`varcolor.solvers.plan_solver` is the solvers' own.

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
        The solver (``auto`` resolved; None for a method without one), the memory it needs and
        why; give it to :func:`colorize` or :class:`Colorizer` (``plan=``, with the same
        options) so that they do not plan again.

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
    options = Options.build(options, **keywords)
    return methods.get(options.method).plan(tuple(shape[:2]), options)


class Colorizer:
    """Colorize one gray image again and again as its cues change (interactive use).

    Everything that depends only on the image is computed once; :meth:`update` adds cues and
    re-solves starting from the previous solution, reusing the solver's hierarchy where it can.

    Parameters
    ----------
    gray : ndarray
        ``H×W`` gray values in [0, 1], or an ``H×W×3`` image whose lightness is used (its
        same-lightness gray, docs/design.md "Conventions"; an alpha channel is ignored). Outputs
        have exactly this lightness.
    options : Options, optional
        How to colorize; keywords (``method="levin-symmetric"``, ``solver="amg"``, a method's own
        such as ``sharpness=4``: every field of :class:`~varcolor.options.Options`, which says
        what each does) build it or change the one given.
    global_hints : varcolor.gamut.GlobalHints, optional
        The image's ab histogram and saturation (the ``global`` IR method stores them): input to a
        network with a global-hints branch; for one without (the shipped model), the network's
        guess is moved part of the way onto them (:func:`varcolor.neural.prior.guess`). Ignored,
        with a warning, without the neural prior.
    progress : callable, optional
        Called with a dict as long solves advance (bilaplacian-gtv's ADMM after each iteration:
        iterations, maxiter, primal and dual residual; the ``tiles`` solver after each tile:
        ``{"tiles": done, "tile_count": total}``); for progress bars.
    plan : SolverPlan, optional
        What :func:`check_fits` planned for this image's size and these options (then not planned
        again); a plan made for another size or other options is refused.
    bits : {None, 8, 16}
        None: results' ``rgb`` as floats in [0, 1]; 8 or 16: as the levels an 8- or 16-bit file
        holds (uint8, uint16), painted band by band (:func:`colorize`).

    Attributes
    ----------
    cues : Cues or None
        The whole cue set of the last result (None before the first solve): :meth:`update` adds
        to it, :meth:`undo` goes back to the one before.
    options : Options
        The options every solve uses.

    Examples
    --------
    >>> import numpy as np, varcolor
    >>> gray = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
    >>> cz = varcolor.Colorizer(gray)
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
        **keywords,
    ):
        if bits not in (None, 8, 16):
            raise InputError(f"bits must be 8 or 16 (or None: floats), not {bits!r}")
        # The colours as levels, painted band by band straight into them: a 40 MP scan's result
        # then never exists as a float image (0.96 GB in float64).
        self._rgb_type = {None: np.float64, 8: np.uint8, 16: np.uint16}[bits]
        self.options = options = Options.build(options, **keywords)
        method = methods.get(options.method)
        if plan is not None and not isinstance(plan, SolverPlan):
            raise InputError(f"plan must be a varcolor.SolverPlan (from check_fits), not {type(plan).__name__}")
        self.network = None
        if options.prior or method.needs_network:
            try:
                from .neural.weights import load
            except ImportError:
                raise InputError("the ideepcolor network needs PyTorch: pip install 'varcolor[neural]'") from None
            self.network = load(options.network_file, mask_cent=options.mask_cent)
        if global_hints is not None and self.network is None:
            warnings.warn("global hints ignored: they need the neural prior (prior='ideepcolor')", stacklevel=3)
            global_hints = None
        self.global_hints = global_hints
        self.detector = None
        if options.instances != "none":
            from .instances import pick

            self.detector = pick(options.instances, options.detector_file)
        self._instances = None  # found once per image, at the first solve
        self.guide = _check_gray(gray)
        # Held for the repaints after edits up to HOLD_LIGHTNESS pixels; a bigger scan's is computed
        # a band at a time as it is painted (the same values).
        self._lightness = lightness_of_gray(self.guide) if self.guide.size <= HOLD_LIGHTNESS else None
        # Plans its solver unless given the plan: refuses what will not fit.
        self.engine = method(self.guide, options, progress, plan=plan)
        self.updates = Updates(self.engine, options.space, self._targets_at) if method.interactive else None
        #: The cue set of the last result (None before the first solve): what :meth:`update` adds
        #: to and :meth:`undo` goes back from.
        self.cues: Cues | None = None
        self._undo: list[Cues] = []  # earlier cue sets, the newest last
        self._chroma: np.ndarray | None = None
        self._last: Result | None = None

    @property
    def lightness(self) -> np.ndarray:
        """The gray image's CIE lightness (``H×W``): what the results keep (above
        :data:`HOLD_LIGHTNESS` pixels computed when asked, not held)."""
        return lightness_of_gray(self.guide) if self._lightness is None else self._lightness

    @property
    def method(self) -> str:
        """The method's name."""
        return self.options.method

    @property
    def instances(self) -> list | None:
        """The instances found in the image (:class:`varcolor.instances.Instance`, with their soft
        masks), once a solve has looked for them; None before, or without ``instances``."""
        return self._instances

    @property
    def solver_name(self) -> str | None:
        """The linear solver the method uses (``auto`` resolved), or None."""
        return self.engine.solver_name

    @property
    def plan(self) -> SolverPlan:
        """The solve planned for this image (:func:`check_fits`'s)."""
        return self.engine.solver_plan

    def solve(self, cues: Cues, x0: np.ndarray | None = None, *, reuse: bool = True) -> Result:
        """Colorize from ``cues`` alone; ``x0`` (``H×W×2``, propagated chroma) starts iterative solvers.

        With ``reuse`` (the default), a new cue set after a global ``direct`` solve of a linear
        method without a prior — cues added, removed (undo, eraser), recoloured or moved since —
        is reached by a low-rank correction of that solve's factors
        (:class:`~varcolor.solvers.lowrank.LowRankUpdater`) instead of a new factorisation:
        ``info["update"]`` is then ``"low-rank"``, with ``held`` and ``released`` (cue pixels
        added and removed since the factored solve), ``recoloured``, ``block``, ``correction``,
        ``bound`` and ``window`` as :meth:`update` describes. Where it cannot (no factors held, an
        edit too large for the correction's block), the cues are solved afresh and, if there was
        something to reuse, ``info["update"]`` is ``"full"`` and ``info["full_solve"]`` says why.
        ``reuse=False`` always solves afresh.

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

        Examples
        --------
        >>> import numpy as np, varcolor
        >>> gray = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
        >>> cz = varcolor.Colorizer(gray)
        >>> one = varcolor.Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 0}], gray.shape)
        >>> two = one.merged(varcolor.Cues.from_points([{"y": 20, "x": 28, "a": -40, "b": 0}], gray.shape))
        >>> _ = cz.solve(two)
        >>> undone = cz.solve(one)   # the second cue removed: a correction, not a new solve
        >>> undone.info["update"], undone.info["released"]
        ('low-rank', 1)
        >>> bool(np.abs(undone.ab - varcolor.colorize(gray, one).ab).max() < 0.01)
        True
        """
        return self._remembered(self.cues, self._solve(cues, x0, reuse))

    def _remembered(self, before: Cues | None, result: Result) -> Result:
        """``result``, with the cue set it replaced kept for :meth:`undo` (within :data:`UNDO_BYTES`)."""
        if before is not None and before is not self.cues:
            self._undo.append(before)
            size = lambda cues: cues.mask.nbytes + cues.ab.nbytes  # noqa: E731
            while len(self._undo) > 1 and sum(map(size, self._undo)) > UNDO_BYTES:
                del self._undo[0]
        return result

    def undo(self) -> Result:
        """Go back to the cue set before the last :meth:`solve` or :meth:`update` (each call one
        step further back, as far as :data:`UNDO_BYTES` of earlier cue sets reach): that set is
        solved again as :meth:`solve` does, by a low-rank correction of held factors where it can
        (``info["update"]``), so that an undo costs about what the edit did. :attr:`cues` is then
        that set.

        Returns
        -------
        Result
            The earlier cue set's colorization (the class's example shows one).
        """
        if not self._undo:
            raise InputError("nothing to undo: no earlier cue set (undo goes back over solve and update calls)")
        return self._solve(self._undo.pop(), None, True)

    def _solve(self, cues: Cues, x0: np.ndarray | None, reuse: bool) -> Result:
        start = time.perf_counter()
        self._check_cues(cues)
        why = None
        if reuse and x0 is None and self.network is None and self.updates is not None and self._chroma is not None:
            if cues.count:
                with threads_for(self.guide.size, self.options.threads):
                    found, why = self.updates.edit(cues, self._chroma)
                if found is not None:
                    chroma, report, where = found
                    self.cues = cues
                    return self._finish(chroma, {**self._info(cues), **report}, start, where)
            else:
                why = "no cues"
        if not (reuse and x0 is None and self.engine.incremental):
            self.engine.reset()  # an incremental method otherwise decides itself what to reuse
        return _solved_afresh(self._run(cues, x0), why)

    def _check_cues(self, cues: Cues) -> None:
        if not isinstance(cues, Cues):
            raise InputError(f"cues must be a varcolor.Cues, not {type(cues).__name__}")
        if cues.shape != self.guide.shape:
            raise InputError(
                f"the cues are for a {image_size(cues.shape)} image but the gray image "
                f"is {image_size(self.guide.shape)} {SIZES}"
            )

    def update(self, more_cues: Cues, local: bool = True) -> Result:
        """Add ``more_cues`` to the current ones (they win where both mark a pixel) and re-solve.

        With ``local``, methods that solve a linear system (without a prior) avoid a global
        re-solve where they can (:mod:`varcolor.interactive`):

        - after a global solve by the ``direct`` solver, the new solution is that solve corrected
          for the cue pixels added since (at most ``interactive.MAX_HELD`` of them next to
          unknowns), with its factors (``info["update"]`` is ``"low-rank"``, ``info["held"]`` the
          pixels added, ``info["correction"]`` whether from the last result or the first solve,
          ``info["bound"]`` its error bound — at most ``interactive.UPDATE_BUDGET`` ab, plus
          single-precision rounding —, ``info["window"]`` the box that changed);
        - otherwise, a window around the new cues if the change they cause dies out within a
          tenth of the image (``info["window"]`` gives its top, left, height and width,
          ``info["window_agreement"]`` how far it was from the previous, smaller window's
          answer, in chroma units).

        Neither has a global residual (``info["residual"]`` is None). Otherwise the whole image is
        re-solved, starting from the last solution (bilaplacian-gtv: and from its ADMM variables):
        ``info["update"]`` is ``"full"`` and ``info["full_solve"]`` says why (``local=False``, the
        prior, a method without local updates, or no window small enough to hold the change).

        Parameters
        ----------
        more_cues : Cues
            The cues of the new stroke(s), added to the current ones.
        local : bool
            Avoid a global re-solve where it can (default True); False re-solves the whole image.

        Returns
        -------
        Result
        """
        return self._remembered(self.cues, self._update(more_cues, local))

    def _update(self, more_cues: Cues, local: bool) -> Result:
        start = time.perf_counter()
        if not isinstance(more_cues, Cues):
            raise InputError(f"cues must be a varcolor.Cues, not {type(more_cues).__name__}")
        cues = more_cues if self.cues is None else self.cues.merged(more_cues)
        if self._chroma is None:
            why = "no earlier solve to update"
        elif not local:
            why = "local=False"
        elif self.network is not None:
            why = "the neural prior is on: an update re-solves the whole image"
        elif self.updates is None:
            why = f"method {self.method!r} makes no local updates"
        else:
            with threads_for(self.guide.size, self.options.threads):
                found, why = self.updates.update(cues, more_cues, self._chroma)
            if found is not None:
                chroma, report, where = found
                self.cues = cues
                return self._finish(chroma, {**self._info(cues), **report}, start, where)
        self.engine.changed()
        return _solved_afresh(self._run(cues, self._chroma), why)

    def refine(self, admm_tol: float | None = None) -> Result:
        """Carry an iterative method's solve (bilaplacian-gtv's ADMM) on from where the last solve
        or update stopped, with the same cues, to ``admm_tol`` (default: the method's final
        tolerance); later updates keep the colorizer's own tolerance. It is the same iteration
        carried on: a preview, then this, give a fresh solve's result for its iterations in all.

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

    def _info(self, cues: Cues) -> dict:
        return {
            "method": self.options.method,
            "space": self.options.space,
            "device": self.options.device,
            "cues": cues.count,
            # Every option the solve ran with (tolerance, limits, the method's own parameters):
            # Options.build(**info["options"]) gives them back.
            "options": self.options.keywords(),
        }

    def _targets_at(self, cues: Cues, pixels: np.ndarray) -> np.ndarray:
        """The cue values the system holds at ``pixels`` (raster indices): ab, or I, Q."""
        ab = cues.ab.reshape(-1, 2)[pixels]
        if self.options.space == "lab":
            return ab
        lightness = None if cues.lightness is None else cues.lightness.ravel()[pixels]
        held = self._lightness
        own = lightness_of_gray(self.guide.ravel()[pixels]) if held is None else held.ravel()[pixels]
        return _cue_iq(ab, lightness, own)

    def _run(self, cues: Cues, x0: np.ndarray | None) -> Result:
        start = time.perf_counter()
        self._check_cues(cues)
        if x0 is not None and real_array(x0, "x0").shape != self.guide.shape + (2,):
            raise InputError(f"x0 must have shape {self.guide.shape + (2,)}, got {np.shape(x0)}")
        options = self.options
        self.cues = cues
        if self.updates is not None:
            self.updates.forget()
        info = self._info(cues)
        prior = weight = where = None
        if self.network is not None:
            from .neural.prior import guess

            mode = options.prior_mode if options.prior_mode in self.engine.prior_modes else "anchor"
            prior, weight = guess(
                self.network,
                self.guide,
                cues,
                mode=mode,
                prior_weight=options.prior_weight,
                confidence=options.confidence,
                global_hints=self.global_hints,
                decode=AUTOMATIC[options.automatic],
            )
            if self.detector is not None:
                prior, weight, info["instances"] = self._fuse(cues, prior, weight, mode, info)
        if cues.count == 0 and prior is None:
            warnings.warn("no colour cues: the result is the gray image", stacklevel=3)
            chroma = np.zeros(self.guide.shape + (2,))
            info.update(solver="none", iterations=0, residual=0.0)
        else:
            targets = cues.ab
            if options.space == "yiq":
                targets = _cue_iq(cues.ab, cues.lightness, self.lightness)
            with threads_for(self.guide.size, self.options.threads):
                solved = self.engine.solve(Problem(cues.mask, targets, prior, weight), x0)
            chroma, report = _solution(self.engine, solved, self.guide.shape + (2,))
            info.update(report)
            # A method that reports what it changed (a pair of slices) has the last chroma elsewhere.
            where = info.pop("changed", None) if self._last is not None else None
            if self.updates is not None and prior is None:
                self.updates.rebase(chroma, cues.mask, targets)
        if prior is not None:
            info.update(
                prior=options.prior or "ideepcolor",
                prior_weight=options.prior_weight,
                confidence=options.confidence,
                prior_mode=mode,
                automatic=options.automatic,
            )
        return self._finish(chroma, info, start, where)

    def _fuse(self, cues: Cues, prior: np.ndarray, weight: np.ndarray, mode: str, info: dict):
        """The prior and weight with each detected instance's own colours (:mod:`varcolor.instances`)."""
        from .instances import find, fuse, network_crops

        if self._instances is None:
            start = time.perf_counter()
            self._instances = find(self.detector, self.guide)
            self._detect_seconds = time.perf_counter() - start
        info["detector"] = self.detector.name
        info["detect_seconds"] = self._detect_seconds
        options = self.options
        crops = network_crops(
            self.network,
            self.guide,
            cues,
            mode=mode,
            prior_weight=options.prior_weight,
            confidence=options.confidence,
            decode=AUTOMATIC[options.automatic],
        )
        return fuse(self.guide, prior, weight, self._instances, crops, max_memory=options.max_memory)

    def _finish(self, chroma: np.ndarray, info: dict, start: float, where=None) -> Result:
        """The result for ``chroma``; with ``where`` (a pair of slices or of index arrays), only
        those pixels of the last one changed. A chroma that cannot be right (NaN, infinite) is an
        error, never a black result."""
        if not np.all(np.isfinite(chroma if where is None else chroma[where])):
            raise InputError(
                "the solve produced non-finite chroma (NaN or infinite) and no result; "
                f"info: {dict(info, seconds=None)}"
            )
        lab = self.options.space == "lab"
        if where is None or (isinstance(where[0], slice) and chroma[where].shape[:2] == chroma.shape[:2]):
            where = (slice(None), slice(None))  # every pixel painted: nothing of the last result to copy
            rgb = np.empty(self.guide.shape + (3,), self._rgb_type)
            ab = chroma if lab else np.empty_like(chroma)
        else:
            # In Lab the result's ab is the chroma itself (every update makes a new chroma array).
            rgb, ab = self._last.rgb.copy(), chroma if lab else self._last.ab.copy()
        painting = time.perf_counter()
        self._paint(chroma, where, rgb, ab)
        self._chroma = chroma
        info["seconds"] = time.perf_counter() - start
        info["paint_seconds"] = info["seconds"] - (painting - start)  # of which colour conversion
        self._last = Result(rgb=rgb, ab=ab, info=info)
        return self._last

    def _paint(self, chroma: np.ndarray, where, rgb: np.ndarray, ab: np.ndarray) -> None:
        """Write the RGB of ``chroma`` at ``where`` into ``rgb`` (and, in YIQ, its Lab chroma into ``ab``)."""
        if self.options.space == "lab":
            if self._lightness is None:  # a scan: its lightness a band at a time
                paint, values = chroma_to_rgb_of_gray, self.guide
            else:
                paint, values = chroma_to_rgb, self._lightness
            if isinstance(where[0], slice):  # a window: written in place
                paint(values[where], chroma[where], self.options.gamut, out=rgb[where])
            else:
                out = np.empty(values[where].shape + (3,), rgb.dtype)
                rgb[where] = paint(values[where], chroma[where], self.options.gamut, out=out)
            return
        colours = yiq_to_rgb(np.concatenate([self.guide[where][..., None], chroma[where]], axis=-1))
        ab[where] = rgb_to_lab(colours.reshape(1, -1, 3))[..., 1:].reshape(colours.shape[:-1] + (2,))
        rgb[where] = colours if rgb.dtype.kind == "f" else to_levels(colours, np.empty(colours.shape, rgb.dtype))


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
    gray : ndarray
        ``H×W`` gray values in [0, 1] (or ``H×W×3``: its same-lightness gray is used). The result
        has exactly this lightness.
    cues : Cues
        The colour cues (:class:`~varcolor.cues.Cues`: from a marked image, a mask, points).
    options : Options, optional
        All options as one value; ``keywords`` (the fields of :class:`~varcolor.options.Options`
        and the method's own parameters) build or change it. The ones most often given:

        ``method``
            ``"levin"`` (default: Levin et al.'s exact system, the best colours from cues alone),
            ``"levin-symmetric"`` (a symmetric variant: less memory, linear-time multigrid, a
            little worse), ``"bilaplacian-gtv"`` (flat regions with sharp edges; slow),
            ``"ideepcolor"`` (the network alone), or a plug-in's.
        ``solver``
            ``"auto"`` (default: picks from the size, the method and the memory), ``"direct"``
            (exact LU), ``"tiles"`` (big scans), ``"amg"``, ``"multigrid"``, ``"cg"``
            (docs/guide/solvers.md).
        ``prior``
            None (default) or ``"ideepcolor"``: the network's colours where cues are missing
            (``network_file``: its weights file, default the shipped model; ``prior_weight``: β).
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

    Examples
    --------
    >>> import numpy as np, varcolor
    >>> gray = np.full((16, 16), 0.5)
    >>> cues = varcolor.Cues.from_points([{"y": 8, "x": 8, "a": 30, "b": 10}], shape=gray.shape)
    >>> res = varcolor.colorize(gray, cues)
    >>> np.allclose(res.ab[0, 0], (30, 10))      # one cue on a flat image colours it all
    True
    >>> varcolor.colorize(gray, cues, method="levin-symmetric", solver="multigrid").info["solver"]
    'multigrid'
    """
    colorizer = Colorizer(gray, options, global_hints=global_hints, progress=progress, plan=plan, bits=bits, **keywords)
    return colorizer.solve(cues, x0)


def _solved_afresh(result: Result, why: str | None) -> Result:
    """``result`` of a global solve where a reuse was tried, saying so: ``info["update"]`` is
    ``"full"`` and ``info["full_solve"]`` why (an incremental method's own reason first); its
    report's own ``update`` (a correction of its coarse grid, say) is kept."""
    why = result.info.get("full_solve", why)
    if why is not None and "update" not in result.info:
        result.info.update(update="full", full_solve=why)
    return result


def _solution(engine: methods.Method, outcome: object, shape: tuple[int, int, int]) -> tuple[np.ndarray, dict]:
    """A method's ``solve`` outcome, checked: ``(H×W×2 finite chroma, report dict)``. Anything else
    (a plug-in's None, a wrong shape, NaN) is one :class:`~varcolor.errors.MethodError` naming the
    method and where it comes from, never a traceback or a wrong image."""
    where = f"method {engine.name!r} ({type(engine).__module__}.{type(engine).__qualname__})"
    if not (isinstance(outcome, tuple) and len(outcome) == 2 and isinstance(outcome[1], dict)):
        raise MethodError(f"{where}: solve() returned {_kind(outcome)}, not (chroma array, report dict)")
    chroma = outcome[0]
    if not isinstance(chroma, np.ndarray) or chroma.dtype.kind not in "fiu" or chroma.shape != shape:
        raise MethodError(f"{where}: solve() returned chroma {_kind(chroma)}, not a {shape} number array")
    if not np.all(np.isfinite(chroma)):
        raise MethodError(f"{where}: solve() returned non-finite chroma (NaN or infinite)")
    return chroma, outcome[1]


def _kind(value: object) -> str:
    """What ``value`` is, briefly: an array's shape and dtype, else its type."""
    if isinstance(value, np.ndarray):
        return f"of shape {value.shape} and dtype {value.dtype}"
    return "None" if value is None else f"a {type(value).__name__}"


def _cue_iq(ab: np.ndarray, cue_lightness: np.ndarray | None, gray_lightness: np.ndarray) -> np.ndarray:
    """The I, Q of each cue's own colour (``ab`` at its lightness where known, else the gray's);
    any leading shape."""
    lightness = (
        gray_lightness if cue_lightness is None else np.where(np.isfinite(cue_lightness), cue_lightness, gray_lightness)
    )
    lab = np.concatenate([lightness[..., None], ab], axis=-1)
    rgb = lab_to_rgb(lab, gamut="clip").reshape(1, -1, 3)
    return rgb_to_yiq(rgb)[..., 1:].reshape(ab.shape)
