"""Colorizing one image file of a run: read it (refusing, from its header, one no solve here could
hold), solve, write the result atomically; what a run's jobs (:mod:`varcolor.app.tasks`) share."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import methods
from ..api import check_fits, colorize
from ..color import gray_by_bands, lab_to_rgb, lightness_of_gray
from ..cues import Cues
from ..errors import MAX_PIXELS, InputError, VarcolorError, listening, messages, retell
from ..gamut import GlobalHints
from ..io import (
    JPEG_EXTENSIONS,
    atomic_path,
    check_transparency,
    encode_image,
    file_sha256,
    image_bits,
    image_profile,
    image_shape,
    kept,
    levels_to_float,
    nearly_gray,
    read_image,
    write_image,
)
from ..io.layers import Layer, check_layered_output, is_layered, open_stack, pick_layers
from ..io.profiles import SRGB_ICC, maps_as_srgb, output_profile, srgb_to_profile
from ..io.stack import write_layers
from ..options import Options
from ..reading.marks import channel_noise, lossy_copy, unmarked_to_gray
from ..solvers import SolverPlan
from .cues import check_lossless

__all__ = [
    "read_checked",
    "read_pixels",
    "read_marked_photo",
    "read_layered",
    "colorize_and_write",
    "solve_memory",
    "automatic",
    "prepare",
    "prepared",
]


def automatic(options: Options) -> bool:
    """With the network, an image without cues is colorized automatically.

    Parameters
    ----------
    options : Options
        How the run colorizes; whether its method has a prior with these options is told.
    """
    return methods.get(options.method).prior_for(options) is not None


def read_checked(
    image: Path, options: Options, max_pixels: int | None, *, colour: bool = True, levels: bool = False
) -> tuple[np.ndarray, SolverPlan]:
    """The image, after refusing from its header alone one that no solve here could hold, and the
    solve planned for it."""
    shape = image_shape(image, max_pixels=max_pixels)
    try:
        plan = check_fits(shape, options)
    except InputError as exc:
        raise InputError(f"{image}: {exc}") from None
    return read_pixels(image, max_pixels, colour=colour, levels=levels), plan


def read_pixels(
    image: Path, max_pixels: int | None, *, colour: bool = True, levels: bool = False, keep: bool = False
) -> np.ndarray:
    """The image as :func:`read_checked` gives it, without planning its solve (a chain's photo
    read to rank it: :mod:`varcolor.app.chain`). With ``keep``, the next read of it takes these
    pixels and what their read told (:mod:`varcolor.io.kept`) instead of decoding it again."""
    how = ("pixels", max_pixels, colour, levels)
    taken = kept.take(image, how)
    if taken is not None:
        pixels, heard = taken
    else:
        with listening() as heard:
            pixels = read_image(image, max_pixels=max_pixels, gray_if_equal=True, levels=levels or not colour)
            check_transparency(image, pixels)
            if not colour and pixels.ndim == 3 and pixels.shape[2] == 3:
                pixels = gray_by_bands(pixels, colour=True)
            elif not levels and pixels.dtype.kind == "u":
                pixels = levels_to_float(pixels)
        if keep:
            kept.keep(image, how, (pixels, heard), pixels.nbytes)
    retell(heard, stacklevel=3)
    return pixels


def read_marked_photo(
    image: Path, cue_file: Path, options: Options, max_pixels: int | None
) -> tuple[np.ndarray, SolverPlan, np.ndarray | None]:
    """:func:`read_checked` of a photo whose cues are a marked copy (``cue_file``), and that copy
    where it is read here already (else None: the caller reads it)."""
    pixels, plan = read_checked(image, options, max_pixels, levels=True)
    rgb = pixels.ndim == 3 and pixels.shape[2] == 3 and pixels.dtype.kind == "u"
    if not (rgb and image_shape(cue_file, max_pixels=max_pixels) == pixels.shape[:2] and nearly_gray(pixels)):
        return (levels_to_float(pixels) if pixels.dtype.kind == "u" else pixels), plan, None
    check_lossless(cue_file, "marked")
    marked = read_image(cue_file, np.float32, max_pixels=max_pixels)
    if marked.ndim != 3:
        return levels_to_float(pixels), plan, None  # refused by the caller's read, naming the file
    gray = gray_by_bands(pixels, colour=True)
    noise = channel_noise(pixels)  # (read once for both)
    if lossy_copy(pixels, gray, marked, image_bits(cue_file), photo_noise=noise):
        return gray, plan, marked  # its noise read as Cues.from_marked reads it: against the gray
    unmarked_to_gray(marked, pixels, gray, image_bits(cue_file), photo_noise=noise)
    return gray, plan, marked


#: A photo's gray made ahead of the run that colorizes it (:func:`prepare`): the file's identity
#: (path, size, time, inode and content digest) and its gray.
_prepared: tuple[tuple, np.ndarray] | None = None


def _identity(image: Path) -> tuple:
    """The file as it is now: its path, size, time and inode, and its content's digest (a file
    rewritten within the same second and size is another file)."""
    info = image.stat()
    digest = file_sha256(image)
    return str(image.resolve()), info.st_size, info.st_mtime_ns, info.st_ino, digest


def prepare(image: Path, max_pixels: int | None = MAX_PIXELS, *, between: Callable[[], None] | None = None) -> None:
    """Read ``image`` and make its gray ahead of a run that will colorize it.

    Parameters
    ----------
    image : Path
        The photo (not a layered file: its layers are read otherwise).
    max_pixels : int or None
        As :func:`read_checked`'s.
    between : callable or None
        Called with no arguments between the steps (before the file is read, and before each band of
        its gray: :func:`~varcolor.color.gray_by_bands`); it may wait there.
    """
    global _prepared
    _prepared = None
    if is_layered(image):
        return
    step = between or (lambda: None)
    step()
    key = _identity(image)
    step()
    # The file's levels, made gray band by band: the run's own values, never the whole photo in floats.
    pixels = read_image(image, max_pixels=max_pixels, levels=True)
    _prepared = (key, gray_by_bands(pixels, between=between))


def prepared(image: Path, options: Options, max_pixels: int | None) -> tuple[np.ndarray, SolverPlan] | None:
    """The gray :func:`prepare` made of ``image`` (taken: it is handed out once) and the solve
    planned for it, as :func:`read_checked` gives them."""
    global _prepared
    if _prepared is None:
        return None
    (key, gray), _prepared = _prepared, None
    try:
        same = _identity(image) == key
    except OSError:
        return None
    if not same:
        return None
    shape = image_shape(image, max_pixels=max_pixels)
    try:
        plan = check_fits(shape, options)
    except InputError as exc:
        raise InputError(f"{image}: {exc}") from None
    return gray, plan


def read_layered(
    image: Path, options: Options, max_pixels: int | None, photo: str | None = None, strokes: str | None = None
) -> tuple[np.ndarray, np.ndarray | None, int, SolverPlan]:
    """A layered file's photo layer (``H×W`` where it is gray, as :func:`read_image` gives it),
    its stroke layer (``H×W×4``; None: none)."""
    stack = open_stack(image, max_pixels=max_pixels)  # the headers only: no layer decoded yet
    base_entry, marks_entry = pick_layers(stack.entries, image, photo, strokes)
    try:
        plan = check_fits(stack.shape, options)
    except InputError as exc:
        raise InputError(f"{image}: {exc}") from None
    used = [base_entry] + ([] if marks_entry is None else [marks_entry])
    bits = stack.bits(used)
    base = stack.layer(base_entry)
    marks = None if marks_entry is None else stack.layer(marks_entry)
    pixels = base.pixels if np.any(base.pixels[..., 3] < 1) else base.pixels[..., :3]
    check_transparency(image, pixels)  # (a layer smaller than its canvas is transparent round it)
    if (
        pixels.shape[2] == 3
        and np.array_equal(pixels[..., 0], pixels[..., 1])
        and np.array_equal(pixels[..., 1], pixels[..., 2])
    ):
        pixels = pixels[..., 0]  # a gray photo in an RGB layer: gray, as a gray file reads
    return np.ascontiguousarray(pixels), None if marks is None else marks.pixels, bits, plan


def _result_layers(gray: np.ndarray, rgb: np.ndarray, cues: Cues, confidence: np.ndarray | None = None) -> list[Layer]:
    """A layered result: the photo as read, the colorized photo above it (opaque: the composite
    is the flat result), the cues on top, hidden."""
    opaque = np.ones(rgb.shape[:2] + (1,))
    photo = gray[..., :3] if gray.ndim == 3 else np.repeat(gray[..., None], 3, axis=2)
    lightness = lightness_of_gray(gray if gray.ndim == 2 else gray[..., :3].mean(axis=2))
    if cues.lightness is not None:
        lightness = np.where(np.isfinite(cues.lightness), cues.lightness, lightness)
    marks = lab_to_rgb(np.concatenate([lightness[..., None], cues.ab], axis=2))
    layers = [
        Layer("photo", np.concatenate([photo, opaque], axis=2)),
        Layer("colorized", np.concatenate([rgb[..., :3], opaque], axis=2)),
        Layer("strokes", np.concatenate([marks, cues.mask[..., None].astype(np.float64)], axis=2), visible=False),
    ]
    if confidence is not None:
        known = np.repeat(confidence[..., None].astype(np.float64), 3, axis=2)
        layers.append(Layer("confidence", np.concatenate([known, opaque], axis=2), visible=False))
    return layers


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
    bits: int | None = None,
    profile: str | None = None,
    overwrite: bool = False,
    global_hints: GlobalHints | None = None,
    progress: bool = False,
    plan: SolverPlan | None = None,
    confidence: Path | None = None,
) -> str:
    """Colorize, write the output atomically; returns the warnings raised, as one line, each
    naming ``image``."""
    if bits is None:
        bits = 8 if output.suffix.lower() in JPEG_EXTENSIONS else image_bits(image)
    icc = output_profile(profile, image_profile(image) if profile == "input" else None, image)
    if is_layered(output):  # refused before the solve, not after it
        check_layered_output(output)
        if output.suffix.lower() == ".ora" and icc != SRGB_ICC and not maps_as_srgb(icc):
            raise InputError(
                f"{output}: OpenRaster carries no colour profile (its layers are sRGB), so a result in "
                "another colour space would show wrong colours: write .psd or .tif to keep that profile, or write sRGB"
            )
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

    with listening() as heard:
        try:
            # Only the colours are kept: the chroma and the solver's state go before the image is encoded.
            levels = None if is_layered(output) or icc != SRGB_ICC else bits
            result = colorize(gray, cues, options, global_hints=global_hints, progress=report, plan=plan, bits=levels)
            rgb = result.rgb
            # The map as the result's (its reach, or one small solve), before the result goes.
            certain = result.confidence if confidence is not None or is_layered(output) else None
            del result
            if bar is not None:
                bar.total = bar.n  # converged: the bar ends full
        except VarcolorError as exc:  # the same kind of error (bad input, no convergence), naming the file
            raise type(exc)(f"{image}: {exc}") from None
        finally:
            if bar is not None:
                bar.close()
    # A photo's outputs go as a whole: its map, encoded first, is published right after its colours.
    written = False
    try:
        with contextlib.ExitStack() as unit:
            if confidence is not None and certain is not None:
                encoded = encode_image(certain, confidence.suffix, bits=16)
                unit.enter_context(atomic_path(confidence, overwrite=overwrite)).write_bytes(encoded)
                del encoded
            if is_layered(output):
                layers = _result_layers(gray, rgb, cues, certain)
                if icc != SRGB_ICC:
                    layers = [Layer(x.name, _in_profile(x.pixels, icc, output), x.visible) for x in layers]
                write_layers(output, layers, bits, overwrite=overwrite, profile=icc)
            else:
                write_image(output, _in_profile(rgb, icc, output), bits=bits, overwrite=overwrite, profile=icc)
            written = True
    except BaseException:
        if written:  # its map could not be published (one that appeared meanwhile, a full disk)
            output.unlink(missing_ok=True)
        raise
    return "; ".join(f"{image}: {message}" for message in messages(heard))


def _in_profile(rgb: np.ndarray, icc: bytes, output: Path) -> np.ndarray:
    """sRGB colours (alpha kept) in the RGB space of ``icc``, in double precision."""
    if icc == SRGB_ICC:
        return rgb
    converted = srgb_to_profile(rgb[..., :3], icc, output)
    return np.concatenate([converted, rgb[..., 3:]], axis=2) if rgb.shape[2] == 4 else converted
