"""Cue files: finding ``X_marked.png``, ``X_mask.png`` or ``X.points.json`` beside an image, and
loading them with the checks a command line owes its user."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..cues import Cues
from ..errors import InputError
from .common import is_file, read_warning, warn

CUE_KINDS = ("marked", "mask", "points")
# How a cue file is found beside an image X.png, per kind, in the order tried.
CUE_SUFFIXES = {
    "marked": ("_marked.png", "_marked.bmp", "_marked.tif", "_marked.jpg"),
    "mask": ("_mask.png", "_mask.bmp", "_mask.tif"),
    "points": (".points.json", ".points.csv"),
}
_FIND = object()  # --marked etc. given without a value: find the file by name

#: A cue image in which at least this share of the pixels differ from the gray image is no
#: scribbled copy: it is refused (the colour original given as the marked image, say).
ALL_CUES = 0.99
#: Above this share of cue pixels, a warning: strokes rarely cover half of a photo.
MANY_CUES = 0.5


def is_cue_file(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for suffixes in CUE_SUFFIXES.values() for s in suffixes)


def kind_of(cue_file: Path) -> str:
    name = cue_file.name.lower()
    return next(kind for kind, suffixes in CUE_SUFFIXES.items() if name.endswith(suffixes))


def find_cue(image: Path, folder: Path, kinds) -> tuple[str | None, Path | None]:
    """The first cue file ``folder/<stem><suffix>`` that exists for ``image``, over ``kinds``."""
    for kind in kinds:
        for suffix in CUE_SUFFIXES[kind]:
            candidate = folder / f"{image.stem}{suffix}"
            if is_file(candidate):
                return kind, candidate
    return None, None


def load_cues(image: Path, kind: str, cue_file: Path, gray: np.ndarray, max_pixels: int | None) -> Cues:
    """The cues of ``cue_file`` (of ``kind``) for ``image``, whose gray pixels are ``gray``."""
    shape = gray.shape[:2]
    if kind == "points":
        return Cues.from_points(cue_file, shape=shape)
    if cue_file.suffix.lower() in (".jpg", ".jpeg"):
        # Measured on the bundled example: its marked PNG saved as JPEG (quality 75-95) turns
        # 65-74 % of the pixels into cues, and no threshold recovers the strokes reliably.
        raise InputError(
            f"{cue_file}: a JPEG {kind} image cannot be used: its compression noise turns most "
            "pixels into cues and blurs the strokes' colours; save it losslessly (PNG) and try again"
        )
    cue_image = read_warning(cue_file, max_pixels)
    if cue_image.shape[:2] != shape:
        raise InputError(
            f"{cue_file}: the {kind} image is {cue_image.shape[1]}×{cue_image.shape[0]} "
            f"but {image.name} is {shape[1]}×{shape[0]}"
        )
    if cue_image.ndim == 2:
        raise InputError(f"{cue_file}: the {kind} image is gray; it must be in colour")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cues = Cues.from_marked(gray, cue_image) if kind == "marked" else Cues.from_mask(cue_image)
    except InputError as exc:
        raise InputError(f"{cue_file}: {exc}") from None
    for warning in caught:  # noise taken for no stroke
        if issubclass(warning.category, UserWarning):
            warn(f"{cue_file}: {warning.message}")
    return cues


def check_cue_share(cue_file: Path, kind: str, cues: Cues) -> None:
    """Refuse cues that leave nothing to colorize (every pixel a cue): no result can be right."""
    share = cues.count / cues.mask.size
    if share >= ALL_CUES:
        hint = " (is it the colour original rather than a scribbled copy?)" if kind == "marked" else ""
        raise InputError(f"{cue_file}: {100 * share:.0f} % of the pixels are cues{hint}; nothing is left to colorize")


def dense_cues_warning(cue_file: Path | None, cues: Cues) -> str:
    share = cues.count / cues.mask.size
    if cue_file is None or share <= MANY_CUES:
        return ""
    return f"{cue_file}: {100 * share:.0f} % of the pixels are cues; strokes rarely cover that much"
