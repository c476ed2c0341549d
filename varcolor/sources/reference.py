"""The source ``reference``: a colour photo of the same scene (``--reference``), its confident
matches cues (:meth:`varcolor.Cues.from_reference`, :mod:`varcolor.reference`); read once, refused
in one line where it can be no reference (a folder, a clip, a bomb, a gray image, float samples
outside [0, 1], fewer than :data:`~varcolor.reference.MIN_SIDE` pixels a side).

A run checks a reference when it is planned and each photo's job reads it: the photo read last,
at the size it was decoded at, is kept (:func:`read_reference`), so a photo's reference is
decoded once, not once for the plan's checks and again for its job.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..cues import Cues
from ..errors import InputError
from ..io import VIDEO_EXTENSIONS, image_bits, image_shape, read_image
from ..memory import check_memory
from ..reference import GrayReference, check_reference, decode_reduction
from .base import EDGES_DEFAULT, CueSource

__all__ = ["Reference", "check_reference_file", "read_reference", "READ_BYTES", "MATCH_BYTES"]

#: Bytes a reference's read and match hold at their peak per pixel decoded, for 8-bit files: the
#: decoded levels, their RGB copy and the float32 image (3 + 3 + 12, and a margin); for 16-bit
#: and float files (their float64 samples, and those converted through a profile) the second;
#: and, whatever the size, the match's temporaries (its block means go band by band: at most
#: 2**22 pixels a band). Measured on a 1.9 MP JPEG: 57 MB traced and Pillow's 11 MB, counted 112.
READ_BYTES, MATCH_BYTES = (24, 56), 64 << 20


def check_reference_file(path: Path, max_pixels: int | None) -> tuple[int, int]:
    """The reference's ``(H, W)`` from its header, after refusing what can be no reference: a
    folder, a missing or unreadable file, a clip, an image of more than ``max_pixels`` (a
    decompression bomb). Its size (at least :data:`~varcolor.reference.MIN_SIDE` pixels a side)
    is checked where its pixels are (:func:`~varcolor.reference.check_reference`).

    Parameters
    ----------
    path : Path
        The reference photo.
    max_pixels : int or None
        The run's pixel limit (None: none).

    Returns
    -------
    tuple of int
        ``(H, W)`` of the photo, from its header.

    Raises
    ------
    InputError
        Where the file can be no reference.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; a reference is one colour image file")
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        raise InputError(f"{path}: a clip cannot be a reference; give one of its frames as an image file")
    return image_shape(path, max_pixels=max_pixels)


def read_reference(
    path: Path,
    max_pixels: int | None,
    gray_shape: tuple[int, ...] | None = None,
    max_memory: float | None = None,
    held: int = 0,
    check_only: bool = False,
) -> np.ndarray:
    """The reference photo at ``path`` as ``H×W×3`` float32 RGB in [0, 1] (converted from its ICC
    profile and bit depth as any input is), refused in one line where it cannot be one (see
    :func:`check_reference_file`; also a gray image, or float samples outside [0, 1]).

    A JPEG is decoded reduced as far as matching it against a gray image of ``gray_shape`` allows
    (:func:`~varcolor.reference.decode_reduction`; None: whole, or with ``check_only`` as far as
    its own checks allow); other formats whole. Refused from the header where that read, with
    ``held`` bytes already in use, would not fit the memory budget (``max_memory``,
    :func:`~varcolor.memory.memory_budget`).

    The photo read last is kept (read-only), by the file's identity and time and the size it was
    decoded at: read again so (a run's plan, then its job), it is neither decoded nor checked again.

    Parameters
    ----------
    path : Path
        The reference photo.
    max_pixels : int or None
        The run's pixel limit (None: none).
    gray_shape : tuple of int, optional
        The shape of the gray image it will be matched against (a JPEG is then decoded reduced).
    max_memory : float, optional
        The memory budget (:func:`~varcolor.memory.memory_budget`) the read counts against.
    held : int, optional
        Bytes already in use, counted with the read's (default 0).
    check_only : bool, optional
        The photo is read to be checked only: without ``gray_shape``, a JPEG is decoded as reduced
        as its own checks allow (default False).

    Returns
    -------
    ndarray
        ``H×W×3`` float32 RGB in [0, 1], read-only.
    """
    key = _key(path, max_pixels, gray_shape, check_only)
    with _LOCK:
        if key is not None and _LAST.get("key") == key:
            for message, category in _LAST["said"]:  # said again for this read's image
                warnings.warn(message, category, stacklevel=2)
            return _LAST["pixels"]
    shape = check_reference_file(path, max_pixels)
    reduce = decode_reduction(shape, gray_shape) if gray_shape is not None or check_only else 1
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
    heard = [(warning.message, warning.category) for warning in caught]
    if pixels.ndim == 2:
        raise GrayReference(f"{path}: the reference is gray (no colour to take)")
    pixels = check_reference(pixels, str(path))
    pixels.flags.writeable = False  # kept for the next read: nobody's to change
    with _LOCK:
        _LAST.clear()
        if key is not None:
            _LAST.update(key=key, pixels=pixels, said=heard)
    return pixels


#: The reference read last (:func:`read_reference`): its key and pixels.
_LAST: dict[str, Any] = {}
_LOCK = threading.Lock()


def _key(path: Path, max_pixels: int | None, gray_shape: tuple | None, check_only: bool) -> tuple | None:
    """What tells a read of ``path`` from another: the file (device, inode, size, time) and how it
    is read; None where the file cannot be looked at (its read says why)."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    how = (max_pixels, None if gray_shape is None else tuple(gray_shape[:2]), check_only)
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, str(path), *how)


class Reference(CueSource):
    """A colour photo of the same scene."""

    name = "reference"
    summary = "a colour photo of the same scene: its confident matches are cues"
    metavar = "REF"
    help = (
        "a colour photo of the same scene: its confident matches are cues (beside --marked, --mask or "
        "--points, whose strokes win where they are); for a folder: one photo for all, or a folder of them "
        "named as the images; given several times, or a folder named otherwise: a pool, each image coloured "
        "from the (up to 3) photos that match it best"
    )

    @classmethod
    def check(cls, path: Path, image: Path, shape: tuple[int, int] | None, max_pixels: int | None) -> None:
        """Refuse from its header a file that can be no reference (:func:`check_reference_file`).

        Parameters
        ----------
        path, image, shape, max_pixels
            As :meth:`~varcolor.sources.base.CueSource.check` takes them.
        """
        check_reference_file(path, max_pixels)

    @classmethod
    def read(
        cls,
        path: Path,
        gray: np.ndarray,
        *,
        max_pixels: int | None = None,
        edges: str = EDGES_DEFAULT,
        cue_image: Any = None,
    ) -> Cues:
        """The cues matched from the photo ``path`` for the gray image ``gray``
        (:meth:`~varcolor.Cues.from_reference`), the photo decoded reduced as far as matching allows.

        Parameters
        ----------
        path, gray, max_pixels, edges
            As :meth:`~varcolor.sources.base.CueSource.read` takes them.
        cue_image : ndarray, optional
            The photo read already (:func:`read_reference`).
        """
        photo = read_reference(path, max_pixels, gray.shape) if cue_image is None else cue_image
        return Cues.from_reference(gray, photo, name=str(path))
