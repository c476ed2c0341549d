"""Colorizing one image file of a run: read it (refusing, from its header, one no solve here could
hold), solve, write the result atomically; what a run's jobs (:mod:`varcolor.app.tasks`) share."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..api import check_fits, colorize
from ..cues import Cues
from ..errors import InputError, VarcolorError
from ..gamut import GlobalHints
from ..io import image_shape, read_image, write_image
from ..options import Options
from ..solvers import SolverPlan

__all__ = ["read_checked", "colorize_and_write", "solve_memory"]


def read_checked(image: Path, options: Options, max_pixels: int | None) -> tuple[np.ndarray, SolverPlan]:
    """The image, after refusing from its header alone one that no solve here could hold, and the
    solve planned for it (given to :func:`colorize_and_write`, so that it is planned once)."""
    shape = image_shape(image, max_pixels=max_pixels)
    try:
        plan = check_fits(shape, options)
    except InputError as exc:
        raise InputError(f"{image}: {exc}") from None
    return read_image(image, max_pixels=max_pixels), plan


def solve_memory(image: Path, options: Options) -> int:
    """What colorizing ``image`` will need, from its header (0 where that cannot be told now: the
    job itself then reports why)."""
    try:
        return check_fits(image_shape(image), options).bytes
    except VarcolorError:
        return 0


def colorize_and_write(
    image: Path,
    gray: np.ndarray,
    cues: Cues,
    output: Path,
    options: Options,
    *,
    bits: int = 8,
    overwrite: bool = False,
    global_hints: GlobalHints | None = None,
    progress: bool = False,
    plan: SolverPlan | None = None,
) -> str:
    """Colorize, write the output atomically; returns the warnings raised, as one line, each
    naming ``image``. ``plan``: :func:`read_checked`'s for this image. With ``progress``, a long
    solve (ADMM's iterations, the tiles of a big scan) shows a bar on stderr, opened at its first
    step (a refused option shows no empty bar)."""
    bar = None

    def report(info: dict) -> None:
        nonlocal bar
        if "tiles" in info:  # the tiles solver of a big scan: a bar of tiles
            if bar is None:
                bar = tqdm(desc="tiles", unit="tile", file=sys.stderr, total=info["tile_count"], disable=not progress)
            bar.update(info["tiles"] - bar.n)
            return
        if bar is None:
            bar = tqdm(desc="ADMM", unit="it", file=sys.stderr, disable=not progress)
        bar.total = info["maxiter"]
        bar.set_postfix(primal=f"{info['primal_residual']:.1e}", dual=f"{info['dual_residual']:.1e}", refresh=False)
        bar.update(info["iterations"] - bar.n)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # Only the colours are kept: the result's Lab chroma (0.64 GB at 40 MP) and the solver's
            # state go before the image is quantized and encoded, the command's last peak.
            rgb = colorize(gray, cues, options, global_hints=global_hints, progress=report, plan=plan).rgb
            if bar is not None:
                bar.total = bar.n  # converged: the bar ends full
        except VarcolorError as exc:  # the same kind of error (bad input, no convergence), naming the file
            raise type(exc)(f"{image}: {exc}") from None
        finally:
            if bar is not None:
                bar.close()
    write_image(output, rgb, bits=bits, overwrite=overwrite)
    return "; ".join(f"{image}: {w.message}" for w in caught if issubclass(w.category, UserWarning))
