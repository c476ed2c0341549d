"""The public entry points: :func:`colorize` and its :class:`Result`."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .color import lab_to_rgb, lightness_of_gray, rgb_to_lab, rgb_to_yiq, to_gray, yiq_to_rgb
from .cues import Cues
from .energies import levin
from .errors import InputError
from .solvers import make_solver

__all__ = ["colorize", "Result", "METHODS", "SPACES"]

METHODS = ("levin",)
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
        raise InputError(f"the gray image must be H×W or H×W×3, got shape {gray.shape}")
    if min(gray.shape[:2]) < 2:
        raise InputError(f"the image must be at least 2×2 pixels, got {gray.shape[1]}×{gray.shape[0]}")
    if not np.all(np.isfinite(gray)):
        raise InputError("the gray image has non-finite values")
    if gray.min() < 0 or gray.max() > 1:
        raise InputError("the gray image must hold values in [0, 1] (use varcolor.read_image)")
    return to_gray(gray)


def colorize(gray: np.ndarray, cues: Cues, method: str = "levin", solver: str = "auto",
             space: str = "lab", gamut: str = "chroma") -> Result:
    """Colorize a gray image from colour cues.

    Parameters
    ----------
    gray : ndarray
        ``H×W`` gray values in [0, 1], or an ``H×W×3`` image whose lightness is used
        (its same-lightness gray, DESIGN §3). The output has exactly this lightness.
    cues : Cues
        The known chroma; same ``H×W`` as ``gray``.
    method : {"levin"}
        The energy. ``"levin"``: Levin et al.'s exact system (``getColorExact.m``).
    solver : {"auto", "direct"}
        Linear solver; ``"auto"`` picks the best available.
    space : {"lab", "yiq"}
        Chroma propagated: CIE Lab a, b (default), or NTSC I, Q as in Levin et al.'s code,
        which with their gray and marked images reproduces their output.
    gamut : {"chroma", "clip"}
        How colours outside sRGB are brought in (see :func:`varcolor.color.lab_to_rgb`).

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
    start = time.perf_counter()
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; available: {', '.join(METHODS)}")
    if space not in SPACES:
        raise InputError(f"unknown space {space!r}; available: {', '.join(SPACES)}")
    if gamut not in ("chroma", "clip"):
        raise InputError(f"unknown gamut {gamut!r}; available: chroma, clip")
    if not isinstance(cues, Cues):
        raise InputError(f"cues must be a varcolor.Cues, not {type(cues).__name__}")
    guide = _check_gray(gray)
    if cues.shape != guide.shape:
        raise InputError(f"the cues are for a {cues.shape[1]}×{cues.shape[0]} image but the gray image "
                         f"is {guide.shape[1]}×{guide.shape[0]}")
    lightness = lightness_of_gray(guide)
    info = {"method": method, "space": space, "cues": cues.count}
    if cues.count == 0:
        warnings.warn("no colour cues: the result is the gray image", stacklevel=2)
        chroma = np.zeros(guide.shape + (2,))
        info.update(solver="none", iterations=0, residual=0.0)
    else:
        targets = cues.ab if space == "lab" else _cue_iq(cues, lightness)
        operator = levin.exact_operator(guide, cues.mask)
        chroma, report = make_solver(solver, operator).solve(levin.exact_rhs(cues.mask, targets))
        info.update(report.as_dict())
    if space == "lab":
        rgb = lab_to_rgb(np.concatenate([lightness[..., None], chroma], axis=2), gamut=gamut)
    else:
        rgb = yiq_to_rgb(np.concatenate([guide[..., None], chroma], axis=2))
    ab = chroma if space == "lab" else rgb_to_lab(rgb)[..., 1:]
    info["seconds"] = time.perf_counter() - start
    return Result(rgb=rgb, ab=ab, info=info)


def _cue_iq(cues: Cues, gray_lightness: np.ndarray) -> np.ndarray:
    """The I, Q of each cue's own colour (its lightness where known, else the gray's)."""
    lightness = gray_lightness if cues.lightness is None else np.where(
        np.isfinite(cues.lightness), cues.lightness, gray_lightness)
    rgb = lab_to_rgb(np.concatenate([lightness[..., None], cues.ab], axis=2), gamut="clip")
    return rgb_to_yiq(rgb)[..., 1:]
