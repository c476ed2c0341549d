"""Reference photos of a run (``varcolor colorize --reference``): finding one by name in a folder
of references, and refusing, in one line and before any solve, a file that can be no reference."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..cues import Cues
from ..errors import InputError
from ..io import IMAGE_EXTENSIONS, image_bits, image_shape, named, read_image
from ..memory import check_memory
from ..reference import MIN_SIDE, check_reference, check_target, decode_reduction
from ..video.formats import VIDEO_EXTENSIONS

__all__ = ["check_reference_file", "read_reference", "find_reference", "reference_cues", "READ_BYTES", "MATCH_BYTES"]

#: Bytes a reference's read and match hold at their peak per pixel decoded, for 8-bit files: the
#: decoded levels, their RGB copy and the float32 image (3 + 3 + 12, and a margin); for 16-bit
#: and float files (their float64 samples, and those converted through a profile) the second;
#: and, whatever the size, the match's temporaries (its block means go band by band: at most
#: 2**22 pixels a band). Measured on a 1.9 MP JPEG: 57 MB traced and Pillow's 11 MB, counted 112.
READ_BYTES, MATCH_BYTES = (24, 56), 64 << 20


def check_reference_file(path: Path, max_pixels: int | None) -> tuple[int, int]:
    """The reference's ``(H, W)`` from its header, after refusing what can be no reference: a
    folder, a missing or unreadable file, a clip, an image of more than ``max_pixels`` (a
    decompression bomb) or of fewer than :data:`~varcolor.reference.MIN_SIDE` pixels a side."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; a reference is one colour image file")
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        raise InputError(f"{path}: a clip cannot be a reference; give one of its frames as an image file")
    shape = image_shape(path, max_pixels=max_pixels)
    if min(shape) < MIN_SIDE:
        raise InputError(
            f"{path}: a reference must be at least {MIN_SIDE}×{MIN_SIDE} pixels, got {shape[1]}×{shape[0]}"
        )
    return shape


def read_reference(
    path: Path,
    max_pixels: int | None,
    gray_shape: tuple[int, ...] | None = None,
    max_memory: float | None = None,
    held: int = 0,
) -> np.ndarray:
    """The reference photo at ``path`` as ``H×W×3`` float32 RGB in [0, 1] (converted from its ICC
    profile and bit depth as any input is), refused in one line where it cannot be one (see
    :func:`check_reference_file`; also a gray image, or float samples outside [0, 1]).

    A JPEG is decoded reduced as far as matching it against a gray image of ``gray_shape`` allows
    (:func:`~varcolor.reference.decode_reduction`; None: as far as its own checks allow); other
    formats whole. Refused from the header where that read, with ``held`` bytes already in use,
    would not fit the memory budget (``max_memory``, :func:`~varcolor.memory.memory_budget`).
    """
    shape = check_reference_file(path, max_pixels)
    reduce = decode_reduction(shape, gray_shape)
    height, width = image_shape(path, max_pixels=max_pixels, reduce=reduce)
    decoded = "" if (height, width) == shape else f" (decoded at {width}×{height})"
    check_memory(
        height * width * READ_BYTES[image_bits(path) > 8] + MATCH_BYTES + held,
        f"{path}: reading and matching a {shape[1]}×{shape[0]} reference{decoded}",
        max_memory,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pixels = read_image(path, np.float32, max_pixels=max_pixels, reduce=reduce)
    for warning in caught:
        said = str(warning.message)
        if "samples outside [0, 1]" in said:  # 0-255 floats clipped to [0, 1] read as gray, not as colour
            raise InputError(f"{said.removesuffix(' are clipped')}: a reference's samples must lie in [0, 1]")
        warnings.warn(warning.message, warning.category, stacklevel=2)
    if pixels.ndim == 2:
        raise InputError(f"{path}: the reference is gray (no colour to take)")
    return check_reference(pixels, str(path))


def find_reference(image: Path, folder: Path, cache: dict | None = None) -> Path | None:
    """The reference of ``image`` in a folder of references: the image file there with its stem
    (``a.png`` → ``refs/a.jpg``), names compared as a run's inputs are told
    (:func:`~varcolor.io.name_key`: ``refs/A.JPG``, a decomposed ``é`` too); None if there is none;
    two are one line (which one was meant cannot be told). ``cache``: :func:`~varcolor.io.named`'s."""
    found = named(folder, [f"{image.stem}{suffix}" for suffix in IMAGE_EXTENSIONS], cache)
    if len(found) > 1:
        raise InputError(f"{image}: ambiguous references, both {' and '.join(map(str, found))}; keep one of them")
    return found[0] if found else None


def reference_cues(
    image: Path,
    reference: Path,
    gray: np.ndarray,
    strokes: Cues | None,
    max_pixels: int | None,
    fallback: bool,
    max_memory: float | None = None,
) -> Cues:
    """``strokes`` (the user's cues for ``image``; None: none) with the cues matched from the photo
    ``reference`` around them (:meth:`~varcolor.Cues.from_reference`). A reference that matches too
    little of the image gives none: a warning when the strokes or the network (``fallback``)
    still colour it, else an error (the result would be the gray image). The reference's read
    counts against ``max_memory`` (:func:`read_reference`)."""
    check_target(gray.shape, str(image))  # before the reference is read
    strokes = strokes if strokes is not None and strokes.count else None
    held = gray.nbytes + (0 if strokes is None else strokes.ab.nbytes + strokes.mask.nbytes)
    photo = read_reference(reference, max_pixels, gray.shape, max_memory, held)
    cues = Cues.from_reference(gray, photo, strokes=strokes, name=str(reference))
    if cues.count == (0 if strokes is None else strokes.count):
        told = f"{reference}: matches too little of {image} to give colour (another scene?)"
        if strokes is None and not fallback:
            raise InputError(f"{told}; add strokes or the prior")
        warnings.warn(f"{told}: no cues from it", stacklevel=2)
    return cues
