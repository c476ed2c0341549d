"""The public entry points: :func:`colorize`, :class:`Colorizer` and their :class:`Result`."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numba
import numpy as np

from .color import chroma_to_rgb, lab_to_rgb, lightness_of_gray, rgb_to_lab, rgb_to_yiq, to_gray, yiq_to_rgb
from .cues import Cues
from .energies import bilaplacian_gtv, levin
from .errors import InputError, check_image_size
from .gamut import GlobalHints
from .kernels import any_layout, compile_once
from .memory import check_memory
from .solvers import TOL, DirectSolver, TiledSolver, choose_solver, estimate_bytes, make_solver, memory_budget
from .solvers.lowrank import LowRankUpdater
from .solvers.window import local_correction

# Low-rank updates (Colorizer.update from the first solve's factors, :mod:`varcolor.solvers.lowrank`):
# the most held pixels coupled to unknowns; the change below which a correction leaves pixels out
# (ab units); the error bound that corrections from the last result may add up to before one
# starts from the first solve again (5× under the solvers' 0.05 exactness bound). In YIQ, whose
# chroma spans about 1/200 of ab's range, 1/500 of both.
MAX_HELD = 2000
UPDATE_TINY = 1e-4
UPDATE_BUDGET = 1e-2

__all__ = ["colorize", "Colorizer", "Result", "METHODS", "SPACES", "check_options", "check_fits"]

METHODS = ("levin", "levin-symmetric", "bilaplacian-gtv", "ideepcolor")
PRIORS = ("ideepcolor",)
CONFIDENCES = ("uniform", "entropy")
PRIOR_MODES = ("anchor", "residual", "spread")
#: β: chosen on McMaster (a set used neither to train nor to validate the shipped model).
PRIOR_WEIGHT = 1e-5
SPACES = ("lab", "yiq")


@dataclass(frozen=True, eq=False)
class Result:
    """A colorization.

    Attributes
    ----------
    rgb : ndarray, ``H×W×3``
        The colour image in [0, 1], brought into the sRGB gamut.
    ab : ndarray, ``H×W×2``
        The Lab chroma the energy's minimiser found (before gamut mapping); with ``space="yiq"``,
        the Lab chroma of ``rgb``.
    info : dict
        method, solver, iterations, residual, seconds, and the options used.
    """

    rgb: np.ndarray
    ab: np.ndarray
    info: dict = field(default_factory=dict)


def _check_gray(gray: np.ndarray) -> np.ndarray:
    gray = np.asarray(gray)
    if not (gray.ndim == 2 or (gray.ndim == 3 and gray.shape[2] in (3, 4))):
        raise InputError(f"the gray image must be H×W, or H×W×3 (×4: alpha ignored), got shape {gray.shape}")
    check_image_size(gray.shape)
    if not np.all(np.isfinite(gray)):
        raise InputError("the gray image has non-finite values")
    if gray.min() < 0 or gray.max() > 1:
        raise InputError("the gray image must hold values in [0, 1] (use varcolor.read_image)")
    return to_gray(gray)


def check_options(method: str = "levin", space: str = "lab", gamut: str = "chroma", tol: float = TOL,
                  maxiter: int = 300, prior: str | None = None, prior_weight: float = PRIOR_WEIGHT,
                  confidence: str = "uniform", prior_mode: str = "anchor", lam: float | None = None,
                  mu: float | None = None, gamma: float | None = None, sharpness: float | None = None,
                  admm_tol: float | None = None, max_memory: float | None = None) -> None:
    """Refuse, with one line, options of :class:`Colorizer` that no image makes right (the same
    names and defaults). The command line checks them once, before any image of a folder.

    bilaplacian-gtv's options (``lam``, ``mu``, ``gamma``, ``sharpness``, ``admm_tol``) are
    refused with another method: silently ignoring them would hide the mistake.

    >>> check_options(method="levin", lam=0.1)
    Traceback (most recent call last):
    varcolor.errors.InputError: lam: options of method bilaplacian-gtv; method 'levin' has none
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; available: {', '.join(METHODS)}")
    if space not in SPACES:
        raise InputError(f"unknown space {space!r}; available: {', '.join(SPACES)}")
    if gamut not in ("chroma", "clip"):
        raise InputError(f"unknown gamut {gamut!r}; available: chroma, clip")
    _check_positive("tol", tol)
    gtv = [name for name, value in (("lam", lam), ("mu", mu), ("gamma", gamma), ("sharpness", sharpness),
                                    ("admm_tol", admm_tol)) if value is not None]
    if gtv and method != "bilaplacian-gtv":
        raise InputError(f"{', '.join(gtv)}: options of method bilaplacian-gtv; method {method!r} has none")
    _gtv_parameters(lam, mu, gamma, sharpness, admm_tol)
    memory_budget(max_memory)
    if int(maxiter) < 1:
        raise InputError(f"maxiter must be at least 1, got {maxiter}")
    if prior is not None and prior not in PRIORS:
        raise InputError(f"unknown prior {prior!r}; available: {', '.join(PRIORS)}")
    if not (np.isfinite(prior_weight) and prior_weight >= 0):
        raise InputError(f"prior_weight must be a non-negative number, got {prior_weight}")
    if confidence not in CONFIDENCES:
        raise InputError(f"unknown confidence {confidence!r}; available: {', '.join(CONFIDENCES)}")
    if prior_mode not in PRIOR_MODES:
        raise InputError(f"unknown prior_mode {prior_mode!r}; available: {', '.join(PRIOR_MODES)}")
    if (prior or method == "ideepcolor") and space != "lab":
        raise InputError("the neural prior predicts Lab chroma: use space='lab'")
    if method == "bilaplacian-gtv" and space != "lab":
        raise InputError("bilaplacian-gtv propagates Lab chroma: use space='lab'")


#: Peak memory per pixel of the methods that take no linear solver: bilaplacian-gtv's ADMM
#: (benchmarks/results/speed_gtv.md) and the network alone (its input at 256², the lifted chroma
#: and the colour conversion), each with the image and its colour result.
_BYTES_PER_PIXEL = {"bilaplacian-gtv": 250, "ideepcolor": 120}


def check_fits(shape: tuple[int, int], *, method: str = "levin", solver: str = "auto", device: str = "cpu",
               max_memory: float | None = None) -> None:
    """Refuse, from the image's size alone, a colorization that would not fit in memory here
    (the command line calls it with the size in a file's header, before reading its pixels).

    Examples
    --------
    >>> check_fits((512, 768))
    >>> check_fits((200_000, 200_000))
    Traceback (most recent call last):
    ...
    varcolor.errors.InputError: a 200000×200000 image (40000.0 MP) needs about ...
    """
    if method in _BYTES_PER_PIXEL:
        check_memory(shape[0] * shape[1] * _BYTES_PER_PIXEL[method],
                     f"method {method} on a {shape[1]}×{shape[0]} image", max_memory)
    else:
        choose_solver(solver, tuple(shape[:2]), device, symmetric=method != "levin", max_memory=max_memory)


def estimate_memory(shape: tuple[int, int], *, method: str = "levin", solver: str = "auto", device: str = "cpu",
                    max_memory: float | None = None) -> int:
    """Peak memory (bytes) a colorization of an image of ``shape`` is expected to need, with the
    solver ``auto`` would choose; raises like :func:`check_fits` where nothing fits.

    Examples
    --------
    >>> 0 < estimate_memory((512, 768)) < 2e9
    True
    """
    pixels = shape[0] * shape[1]
    if method in _BYTES_PER_PIXEL:
        return pixels * _BYTES_PER_PIXEL[method]
    name = choose_solver(solver, tuple(shape[:2]), device, symmetric=method != "levin", max_memory=max_memory)
    return estimate_bytes(name, pixels)


def _gtv_parameters(lam: float | None, mu: float | None, gamma: float | None, sharpness: float | None,
                    admm_tol: float | None,
                    maxiter: int = bilaplacian_gtv.Parameters.maxiter) -> bilaplacian_gtv.Parameters:
    """bilaplacian-gtv's parameters from the options given (None: the energy's default)."""
    if admm_tol is not None:
        _check_positive("admm_tol", admm_tol)
    given = {name: value for name, value in (("lam", lam), ("mu", mu), ("gamma", gamma), ("sharpness", sharpness),
                                             ("tol", admm_tol)) if value is not None}
    return bilaplacian_gtv.Parameters(**given, maxiter=maxiter)


def _check_positive(name: str, value: float) -> None:
    if not (np.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number, got {value}")


class Colorizer:
    """Colorize one gray image again and again as its cues change (interactive use).

    Everything that depends only on the image is computed once; :meth:`update` adds cues and
    re-solves starting from the previous solution, reusing the solver's hierarchy where it can.

    Parameters
    ----------
    gray : ndarray
        ``H×W`` gray values in [0, 1], or an ``H×W×3`` image whose lightness is used (its
        same-lightness gray, docs/design.md "Conventions"; an alpha channel is ignored). Outputs have exactly this
        lightness.
    method : {"levin", "levin-symmetric", "bilaplacian-gtv", "ideepcolor"}
        ``"levin"``: Levin et al.'s exact system (``getColorExact.m``); ``"levin-symmetric"``: the
        symmetric graph-Laplacian variant (docs/design.md; a different model, fast to solve: see
        :func:`varcolor.energies.levin.symmetric_system`); ``"bilaplacian-gtv"``:
        bilaplacian smoothness + luminance-weighted graph total variation, solved by ADMM
        (:mod:`varcolor.energies.bilaplacian_gtv`); ``"ideepcolor"``: the network's output alone,
        upsampled bilinearly, with the gray image's lightness.
    solver : {"auto", "direct", "tiles", "amg", "multigrid", "cg"}
        ``"direct"``: sparse LU, exact to round-off, memory grows faster than the image;
        ``"tiles"``: Levin's exact system (``levin`` only, CPU) solved exactly on overlapping tiles
        held at a third-resolution solution, linear in memory and time, within a stated tolerance
        of the exact answer (:mod:`varcolor.solvers.tiled`, docs/big-scans.md);
        ``"amg"``: GMRES with an algebraic-multigrid preconditioner, linear in memory and time;
        ``"multigrid"``: conjugate gradients with our grid multigrid (CPU), linear, symmetric
        systems only (``levin-symmetric``); ``"cg"``: conjugate gradients with a Ruge–Stüben
        cycle (CPU or GPU), symmetric systems only; ``"auto"``: for ``levin-symmetric`` multigrid
        (cg on a GPU), else on the CPU direct below 12 MP where it fits in the memory budget,
        tiles from there on, amg on a GPU.
    max_memory : float, optional
        Memory budget of the solve in bytes: a solver whose estimate exceeds it is refused, and
        ``auto`` picks one within it. Default: 80 % of the memory available when the solve is
        planned (:func:`varcolor.solvers.memory_budget`).
    device : {"cpu", "cuda"}
        Where iterative solvers and bilaplacian-gtv's ADMM run (``"cuda"`` needs CuPy and a GPU).
    space : {"lab", "yiq"}
        Chroma propagated: CIE Lab a, b, or NTSC I, Q as in Levin et al.'s code (which, with their
        gray and marked images, reproduces their output).
    gamut : {"chroma", "clip"}
        How colours outside sRGB are brought in (see :func:`varcolor.color.lab_to_rgb`).
    tol, maxiter : float, int
        Relative residual and iteration limit of the linear solvers. bilaplacian-gtv's ADMM runs
        at most ``max(maxiter, 1000)`` iterations (``Parameters.maxiter``) and stops at ``admm_tol``.
    prior : {None, "ideepcolor"}
        Add the network's prediction p as a prior term ``(β/2) Σ c ‖u − p‖²`` (docs/design.md,
        "The neural prior term") and use it as the initial iterate; with a prior, no cues at all means automatic colorization.
    weights, mask_cent
        The network's weights file (default: the compact model shipped in ``models/``) and, for
        unknown checkpoints, its mask encoding (:func:`varcolor.neural.weights.load`).
    prior_weight : float
        β (default 1e-5). ``confidence``: ``"uniform"`` (c = 1) or ``"entropy"`` (c from the class head's entropy).
    prior_mode : {"anchor", "residual"}
        How Levin's method uses the guess p. ``"anchor"``: the prior term alone — unmarked rows
        ``(1 + βc) u − Σ w u = βc p``, so away from cues u is p smoothed along luminance.
        ``"residual"``: the smoothness acts on ``u − p`` — ``(1 + βc)(u − p) − Σ w (u − p) = 0`` —
        so the cues' corrections to p spread along luminance and fade (β > 0) into p; with β → 0 they
        spread everywhere. ``"spread"`` (the default): p is the network's guess without the cues
        (:func:`varcolor.neural.prior.guess`), solved as ``"residual"`` with a fixed faint fade, so
        with no cues the result is the network's automatic colours and with cues it is αp plus
        Levin's spreading of the cues' corrections (β is not used). Other methods use ``"anchor"``.
    lam, mu, gamma : float, optional
        Weights of the bilaplacian-gtv energy (defaults in
        :class:`varcolor.energies.bilaplacian_gtv.Parameters`; ``gamma=inf``: hard cues).
    sharpness : float, optional
        How sharply bilaplacian-gtv's edge weights fall at luminance edges (default 8: σ² an
        eighth of the symmetric variant's). On Kodak at 768×512, 8 scores +0.37 / +0.26 / +0.08 /
        +0.01 dB over 4 at 50 / 100 / 200 / 500 hints, and within 0.06 dB at 256²; 16 holds colour better only
        where cues are sparse (under about 1 % of the pixels); dense scribbles (10 % of the
        pixels) scored higher at 4.
    admm_tol : float, optional
        Relative primal and dual residual at which bilaplacian-gtv's ADMM stops (default 1e-3,
        ``Parameters.tol``). 1e-2 is a preview about 2× sooner: on four Kodak photos at 768×512
        with 50 hints, 177–217 iterations instead of 362–581, PSNR within 0.03 dB of 1e-3's, but
        further from the exact minimiser at isolated pixels (up to 6–13 ab at 1 MP; a few ab
        already at 1e-3). :meth:`refine` carries a preview on to the final tolerance.
    decode : {None, "regression", "annealed"}
        How the network's colours are read (:func:`varcolor.neural.prior.guess`): its regression
        output, or the rebalanced annealed mean of its class head (colourful); None: annealed
        without cues, regression with them.
    global_hints : varcolor.gamut.GlobalHints, optional
        The image's ab histogram and saturation (the ``global`` IR method stores them): the input of
        a network with a global-hints branch; for one without, the network's guess is moved onto
        them (:func:`varcolor.neural.prior.guess`); ignored, with a warning, without a prior.
    progress : callable, optional
        Called after each iteration of bilaplacian-gtv's ADMM (half a minute or more per megapixel on
        two cores) with a dict: iterations, maxiter, primal and dual residual; and after each tile
        of the ``tiles`` solver with ``{"tiles": done, "tile_count": total}``; for progress bars.

    Examples
    --------
    >>> import numpy as np, varcolor
    >>> gray = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
    >>> cz = varcolor.Colorizer(gray)
    >>> first = cz.solve(varcolor.Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 0}], gray.shape))
    >>> second = cz.update(varcolor.Cues.from_points([{"y": 20, "x": 28, "a": -40, "b": 0}], gray.shape))
    >>> float(first.ab[20, 28, 0]) > 35, float(second.ab[20, 28, 0]) < -35
    (True, True)
    """

    def __init__(self, gray: np.ndarray, method: str = "levin", solver: str = "auto", device: str = "cpu",
                 space: str = "lab", gamut: str = "chroma", tol: float = TOL, maxiter: int = 300,
                 prior: str | None = None, weights: str | None = None, mask_cent: float | None = None,
                 prior_weight: float = PRIOR_WEIGHT, confidence: str = "uniform", prior_mode: str = "spread",
                 lam: float | None = None, mu: float | None = None, gamma: float | None = None,
                 sharpness: float | None = None, admm_tol: float | None = None,
                 global_hints: GlobalHints | None = None, progress: Callable[[dict], None] | None = None,
                 max_memory: float | None = None, decode: str | None = None):
        if decode not in (None, "regression", "annealed"):
            raise InputError(f"unknown decode {decode!r}; available: regression, annealed")
        check_options(method, space, gamut, tol, maxiter, prior, prior_weight, confidence, prior_mode, lam, mu, gamma,
                      sharpness, admm_tol, max_memory)
        self.network = None
        if prior or method == "ideepcolor":
            try:
                from .neural.weights import load
            except ImportError:
                raise InputError("the ideepcolor network needs PyTorch: pip install 'varcolor[neural]'") from None
            self.network = load(weights, mask_cent=mask_cent)
        if global_hints is not None and self.network is None:
            warnings.warn("global hints ignored: they need the neural prior (prior='ideepcolor')", stacklevel=3)
            global_hints = None
        self.global_hints, self.progress = global_hints, progress
        self.prior, self.prior_weight, self.confidence = prior, float(prior_weight), confidence
        self.prior_mode, self.decode = prior_mode, decode
        self.gtv_parameters = _gtv_parameters(lam, mu, gamma, sharpness, admm_tol,
                                              max(maxiter, bilaplacian_gtv.Parameters.maxiter))
        self.guide = _check_gray(gray)
        self.symmetric = method != "levin"  # the system of every other method that takes a solver is SPD
        self.max_memory = max_memory
        self.solver_name = choose_solver(solver, self.guide.shape, device, self.symmetric, max_memory)
        self.method, self.device, self.space, self.gamut = method, device, space, gamut
        self.tol, self.maxiter = float(tol), int(maxiter)
        self.lightness = lightness_of_gray(self.guide)
        self.cues: Cues | None = None
        self._solver = None
        self._chroma: np.ndarray | None = None
        self._last: Result | None = None
        self._margin = 16  # where the next windowed update starts (its last accepted margin, less a step)
        # After a global direct solve of a Levin system, what updates correct: its low-rank
        # updater, cue mask and cue values there.
        self._base: tuple[LowRankUpdater, np.ndarray, np.ndarray] | None = None
        # bilaplacian-gtv's ADMM variables where the last solve stopped: an update starts there.
        self._admm = bilaplacian_gtv.AdmmState()

    def solve(self, cues: Cues, x0: np.ndarray | None = None) -> Result:
        """Colorize from ``cues`` alone; ``x0`` (``H×W×2``, propagated chroma) starts iterative solvers."""
        self._solver, self._admm = None, bilaplacian_gtv.AdmmState()
        return self._run(cues, x0)

    def update(self, more_cues: Cues, local: bool = True) -> Result:
        """Add ``more_cues`` to the current ones (they win where both mark a pixel) and re-solve.

        With ``local``, Levin's methods without a prior avoid a global re-solve where they can:

        - after a global solve by the ``direct`` solver, the new solution is that solve corrected
          for the cue pixels added since (at most ``MAX_HELD`` of them next to unknowns), with its
          factors (:class:`~varcolor.solvers.lowrank.LowRankUpdater`; ``info["update"]`` is
          ``"low-rank"``, ``info["held"]`` the pixels added, ``info["correction"]`` whether from
          the last result or the first solve, ``info["bound"]`` its error bound — at most
          ``UPDATE_BUDGET`` ab, plus single-precision rounding —, ``info["window"]`` the box
          that changed);
        - otherwise, a window around the new cues if the change they cause dies out within a
          tenth of the image (:mod:`varcolor.solvers.window`; ``info["window"]`` gives its top,
          left, height and width, ``info["window_agreement"]`` how far it was from the previous,
          smaller window's answer, in chroma units).

        Neither has a global residual (``info["residual"]`` is None). Otherwise the whole image is
        re-solved, starting from the last solution (bilaplacian-gtv: and from its ADMM variables,
        :class:`~varcolor.energies.bilaplacian_gtv.AdmmState`).
        """
        start = time.perf_counter()
        if not isinstance(more_cues, Cues):
            raise InputError(f"cues must be a varcolor.Cues, not {type(more_cues).__name__}")
        cues = more_cues if self.cues is None else self.cues.merged(more_cues)
        if local and self._chroma is not None and self.network is None and self.method in ("levin", "levin-symmetric"):
            result = self._update_from_base(cues, start) if self._base is not None else None
            if result is None:
                self._base = None  # the window's change is not one the base's factors describe
                result = self._update_locally(cues, more_cues, start)
            if result is not None:
                return result
        self._admm.iterations = 0  # a changed problem: bilaplacian-gtv's balancing starts over
        return self._run(cues, self._chroma)

    def refine(self, admm_tol: float | None = None) -> Result:
        """Carry bilaplacian-gtv's ADMM on from where the last solve or update stopped, with the
        same cues, to ``admm_tol`` (default 1e-3, ``Parameters.tol``); later updates keep the
        colorizer's own tolerance. It is the same iteration carried on: a preview, then this, give
        a fresh solve's result for its iterations in all (a 1 MP photo, 1 % random cues: 150 + 114
        iterations, 14.3 + 12.8 s from 1e-2 to 1e-3, against 264 and 25.6 s at once).

        >>> import numpy as np, varcolor
        >>> gray = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
        >>> cz = varcolor.Colorizer(gray, method="bilaplacian-gtv", admm_tol=3e-2)
        >>> preview = cz.solve(varcolor.Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 0}], gray.shape))
        >>> final = cz.refine(1e-3)
        >>> bool(final.info["residual"] <= 1e-3 < preview.info["residual"])
        True
        """
        if self.method != "bilaplacian-gtv":
            raise InputError(f"refine carries on bilaplacian-gtv's ADMM; method {self.method!r} solves to its "
                             "tolerance at once")
        if self.cues is None:
            raise InputError("refine carries on from the last solve: call solve first")
        tol = bilaplacian_gtv.Parameters.tol if admm_tol is None else admm_tol
        _check_positive("admm_tol", tol)
        own = self.gtv_parameters
        self.gtv_parameters = replace(own, tol=tol)
        try:
            return self._run(self.cues, self._chroma)
        finally:
            self.gtv_parameters = own

    def _targets_at(self, cues: Cues, pixels: np.ndarray) -> np.ndarray:
        """The cue values the system holds at ``pixels`` (raster indices): ab, or I, Q."""
        ab = cues.ab.reshape(-1, 2)[pixels]
        if self.space == "lab":
            return ab
        lightness = None if cues.lightness is None else cues.lightness.ravel()[pixels]
        return _cue_iq(ab, lightness, self.lightness.ravel()[pixels])

    def _system(self, window, fixed: np.ndarray, values: np.ndarray):
        """The method's system on the pixels ``window`` (a pair of slices), ``fixed`` held at
        ``values``."""
        if self.method == "levin":
            return levin.exact_operator(self.guide[window], fixed), levin.exact_rhs(fixed, values)
        return levin.symmetric_system(self.guide[window], fixed, values)

    def _rhs_change(self, base_mask: np.ndarray, old: np.ndarray, new: np.ndarray, recoloured: np.ndarray):
        """The change of the base system's right-hand side when its cues at ``recoloured`` (raster
        indices) go from ``old`` to ``new`` values. Levin's exact system holds a cue's value in its
        own row only; the symmetric one also in its neighbours' (its edges are eliminated), so
        there it is the system's right-hand side on a window around them, with 4 pixels of margin
        (the weights within 2 pixels of a window's border differ from the whole image's), before
        and after."""
        if self.method == "levin":
            return recoloured, new - old
        height, width = self.guide.shape
        rows, columns = np.divmod(recoloured, width)
        window = (slice(max(rows.min() - 4, 0), min(rows.max() + 5, height)),
                  slice(max(columns.min() - 4, 0), min(columns.max() + 5, width)))
        values = np.zeros((window[0].stop - window[0].start, window[1].stop - window[1].start, 2))
        local = (rows - window[0].start, columns - window[1].start)
        values[local] = old
        before = self._system(window, base_mask[window], values)[1]
        values[local] = new
        change = self._system(window, base_mask[window], values)[1] - before
        i, j = np.nonzero(np.any(change != 0, axis=2))
        return (i + window[0].start) * width + j + window[1].start, change[i, j]

    def _update_from_base(self, cues: Cues, start: float) -> Result | None:
        updater, base_mask, base_targets = self._base
        if cues.shape != self.guide.shape:
            return None
        held = np.flatnonzero(cues.mask & ~base_mask)
        first = np.flatnonzero(base_mask)
        now = self._targets_at(cues, first)
        recoloured = np.flatnonzero(np.any(now != base_targets, axis=1))
        rhs_change = None
        if len(recoloured):
            rhs_change = self._rhs_change(base_mask, base_targets[recoloured], now[recoloured], first[recoloured])
        try:
            chroma, report = updater.hold(held, self._targets_at(cues, held), rhs_change)
        except ValueError:  # too many held pixels, or one the first system had no unknown for
            return None
        window = report.pop("box")
        self.cues = cues
        info = {"method": self.method, "space": self.space, "device": self.device, "cues": cues.count,
                "solver": "direct", "iterations": 0, "residual": None, "update": "low-rank", **report,
                "window": [int(window[0].start), int(window[1].start), int(window[0].stop - window[0].start),
                           int(window[1].stop - window[1].start)]}
        # Strokes far apart make a large box of which little moved: there re-colour only what did
        # (gathering pixels costs more than slicing where most of the box moved).
        compile_once(_differs, any_layout(3), any_layout(3))
        moved = _differs(chroma[window], self._chroma[window])
        if moved.size and moved.mean() > 0.25:
            return self._finish(chroma, info, start, window)
        rows, columns = np.nonzero(moved)
        return self._finish(chroma, info, start, (rows + window[0].start, columns + window[1].start))

    def _update_locally(self, cues: Cues, more_cues: Cues, start: float) -> Result | None:
        changed = more_cues.mask
        if cues.shape != self.guide.shape or not changed.any():
            return None
        targets = self._targets_at(more_cues, np.flatnonzero(changed))
        found = local_correction(self._system, self.guide.shape, cues.mask, changed, targets - self._chroma[changed],
                                 first_margin=self._margin)
        if found is None:
            self._margin = 16
            return None
        window = found.window
        self._margin = max(16, int(found.margin / 1.5))
        chroma = self._chroma.copy()
        chroma[window] += found.delta
        chroma[changed] = targets  # exactly the cue values, not the solve's rounding of them
        self.cues = cues
        # No global residual: the window's is the direct solve's; its accuracy is the agreement.
        info = {"method": self.method, "space": self.space, "device": self.device, "cues": cues.count,
                "solver": "direct", "iterations": 0, "residual": None, "update": "window",
                "window": [int(window[0].start), int(window[1].start), int(window[0].stop - window[0].start),
                           int(window[1].stop - window[1].start)], "margin": found.margin,
                "window_agreement": found.agreement}
        return self._finish(chroma, info, start, window)

    def _run(self, cues: Cues, x0: np.ndarray | None) -> Result:
        start = time.perf_counter()
        if not isinstance(cues, Cues):
            raise InputError(f"cues must be a varcolor.Cues, not {type(cues).__name__}")
        if cues.shape != self.guide.shape:
            raise InputError(f"the cues are for a {cues.shape[1]}×{cues.shape[0]} image but the gray image "
                             f"is {self.guide.shape[1]}×{self.guide.shape[0]}")
        if x0 is not None and np.shape(x0) != self.guide.shape + (2,):
            raise InputError(f"x0 must have shape {self.guide.shape + (2,)}, got {np.shape(x0)}")
        self.cues = cues
        self._base = None
        info = {"method": self.method, "space": self.space, "device": self.device, "cues": cues.count}
        prior = weight = None
        if self.network is not None:
            from .neural.prior import guess

            prior, weight = guess(self.network, self.guide, cues, mode=self.prior_mode, prior_weight=self.prior_weight,
                                  confidence=self.confidence, method=self.method, global_hints=self.global_hints,
                                  decode=self.decode)
        if self.method == "ideepcolor":  # the network alone, lifted bilinearly
            chroma = np.where(cues.mask[..., None], cues.ab, prior)
            info.update(solver="network", iterations=0, residual=0.0)
        elif cues.count == 0 and prior is None:
            warnings.warn("no colour cues: the result is the gray image", stacklevel=3)
            chroma = np.zeros(self.guide.shape + (2,))
            info.update(solver="none", iterations=0, residual=0.0)
        elif self.method == "bilaplacian-gtv":
            chroma, report = bilaplacian_gtv.solve(self.guide, cues.mask, cues.ab, self.gtv_parameters, prior,
                                                   weight, prior if x0 is None else x0, self.device, self.progress,
                                                   self._admm)
            info.update(solver="admm", residual=max(report["primal_residual"], report["dual_residual"]), **report)
        else:
            targets = cues.ab if self.space == "lab" else _cue_iq(cues.ab, cues.lightness, self.lightness)
            if self.method == "levin-symmetric":
                operator, rhs = levin.symmetric_system(self.guide, cues.mask, targets, prior, weight)
            elif self.solver_name == "tiles" and not (prior is not None and self.prior_mode in ("residual", "spread")):
                operator, rhs = None, levin.exact_rhs(cues.mask, targets, prior, weight)  # the tiles assemble their own
            else:
                operator = levin.exact_operator(self.guide, cues.mask, prior_weight=weight)
                if prior is not None and self.prior_mode in ("residual", "spread"):
                    rhs = np.where(cues.mask[..., None], targets, operator.apply(prior))
                else:
                    rhs = levin.exact_rhs(cues.mask, targets, prior, weight)
            rebind = getattr(self._solver, "rebind", None)
            if self.solver_name == "tiles":
                operator = None  # at tens of megapixels the whole operator is gigabytes: the tiles build theirs
                self._solver = TiledSolver(self.guide, cues.mask, weight, progress=self.progress)
            else:
                self._solver = rebind(operator) if rebind else make_solver(
                    self.solver_name, operator, self.tol, self.maxiter, self.device, self.symmetric, self.max_memory)
            if x0 is None:
                x0 = prior  # the network's guess starts iterative solvers
            if x0 is not None:
                x0 = np.where(cues.mask[..., None], targets, x0)
            chroma, report = self._solver.solve(rhs, x0)
            info.update(report.as_dict())
            if isinstance(self._solver, DirectSolver) and prior is None:
                scale = 1.0 if self.space == "lab" else 1 / 500
                try:
                    updater = LowRankUpdater(self._solver, chroma.copy(), UPDATE_TINY * scale, UPDATE_BUDGET * scale,
                                             MAX_HELD)
                    self._base = (updater, cues.mask.copy(), targets.reshape(-1, 2)[np.flatnonzero(cues.mask)])
                except ValueError:  # every pixel a cue: no unknowns to hold
                    pass
        if prior is not None:
            info.update(prior=self.prior or "ideepcolor", prior_weight=self.prior_weight, confidence=self.confidence,
                        prior_mode=self.prior_mode)
        return self._finish(chroma, info, start)

    def _finish(self, chroma: np.ndarray, info: dict, start: float, where=None) -> Result:
        """The result for ``chroma``; with ``where`` (a pair of slices or of index arrays), only
        those pixels of the last one changed. A chroma that cannot be right (NaN, infinite) is an
        error, never a black result."""
        if not np.all(np.isfinite(chroma if where is None else chroma[where])):
            raise InputError("the solve produced non-finite chroma (NaN or infinite) and no result; "
                             f"info: {dict(info, seconds=None)}")
        if where is None or (isinstance(where[0], slice) and chroma[where].shape[:2] == chroma.shape[:2]):
            where = (slice(None), slice(None))  # every pixel painted: nothing of the last result to copy
            rgb = np.empty(self.guide.shape + (3,))
            ab = chroma if self.space == "lab" else np.empty_like(chroma)
        else:
            # In Lab the result's ab is the chroma itself (every update makes a new chroma array).
            rgb, ab = self._last.rgb.copy(), chroma if self.space == "lab" else self._last.ab.copy()
        painting = time.perf_counter()
        self._paint(chroma, where, rgb, ab)
        self._chroma = chroma
        info["seconds"] = time.perf_counter() - start
        info["paint_seconds"] = info["seconds"] - (painting - start)  # of which colour conversion
        self._last = Result(rgb=rgb, ab=ab, info=info)
        return self._last

    def _paint(self, chroma: np.ndarray, where, rgb: np.ndarray, ab: np.ndarray) -> None:
        """Write the RGB of ``chroma`` at ``where`` into ``rgb`` (and, in YIQ, its Lab chroma into ``ab``)."""
        if self.space == "lab":
            if isinstance(where[0], slice):  # a window: written in place
                chroma_to_rgb(self.lightness[where], chroma[where], self.gamut, out=rgb[where])
            else:
                rgb[where] = chroma_to_rgb(self.lightness[where], chroma[where], self.gamut)
            return
        rgb[where] = yiq_to_rgb(np.concatenate([self.guide[where][..., None], chroma[where]], axis=-1))
        ab[where] = rgb_to_lab(rgb[where].reshape(1, -1, 3))[..., 1:].reshape(rgb[where].shape[:-1] + (2,))


@numba.njit(cache=True, parallel=True)
def _differs(new, old):
    """Where two ``H×W×C`` arrays differ in any channel (``np.any(new != old, axis=2)`` without
    its temporaries: 2 ms instead of 14 at 1 MP, a tenth of an update there)."""
    out = np.zeros(new.shape[:2], np.bool_)
    for i in numba.prange(new.shape[0]):
        for j in range(new.shape[1]):
            for c in range(new.shape[2]):
                if new[i, j, c] != old[i, j, c]:
                    out[i, j] = True
    return out


def colorize(gray: np.ndarray, cues: Cues, method: str = "levin", solver: str = "auto", device: str = "cpu",
             space: str = "lab", gamut: str = "chroma", tol: float = TOL, maxiter: int = 300,
             x0: np.ndarray | None = None, prior: str | None = None, weights: str | None = None,
             mask_cent: float | None = None, prior_weight: float = PRIOR_WEIGHT, confidence: str = "uniform",
             prior_mode: str = "spread", lam: float | None = None, mu: float | None = None,
             gamma: float | None = None, sharpness: float | None = None, admm_tol: float | None = None,
             global_hints: GlobalHints | None = None, progress: Callable[[dict], None] | None = None,
             max_memory: float | None = None, decode: str | None = None) -> Result:
    """Colorize a gray image from colour cues.

    One-shot form of :class:`Colorizer` (see it for the parameters); ``x0`` is an initial guess
    of the propagated chroma (``H×W×2``) for iterative solvers.

    Returns
    -------
    Result

    Examples
    --------
    >>> import numpy as np, varcolor
    >>> gray = np.full((16, 16), 0.5)
    >>> cues = varcolor.Cues.from_points([{"y": 8, "x": 8, "a": 30, "b": 10}], shape=gray.shape)
    >>> res = varcolor.colorize(gray, cues)
    >>> np.allclose(res.ab[0, 0], (30, 10))      # one cue on a flat image colours it all
    True
    """
    colorizer = Colorizer(gray, method=method, solver=solver, device=device, space=space, gamut=gamut,
                          tol=tol, maxiter=maxiter, prior=prior, weights=weights, mask_cent=mask_cent,
                          prior_weight=prior_weight, confidence=confidence, prior_mode=prior_mode, lam=lam,
                          mu=mu, gamma=gamma, sharpness=sharpness, admm_tol=admm_tol, global_hints=global_hints,
                          progress=progress, max_memory=max_memory, decode=decode)
    return colorizer.solve(cues, x0)


def _cue_iq(ab: np.ndarray, cue_lightness: np.ndarray | None, gray_lightness: np.ndarray) -> np.ndarray:
    """The I, Q of each cue's own colour (``ab`` at its lightness where known, else the gray's);
    any leading shape."""
    lightness = gray_lightness if cue_lightness is None else np.where(
        np.isfinite(cue_lightness), cue_lightness, gray_lightness)
    lab = np.concatenate([lightness[..., None], ab], axis=-1)
    rgb = lab_to_rgb(lab, gamut="clip").reshape(1, -1, 3)
    return rgb_to_yiq(rgb)[..., 1:].reshape(ab.shape)
