"""Cue files beside an image: their names (``X_marked.png``, ``X_mask.png``, ``X.points.json``),
finding them, and reading them with the checks a folder run owes its user.

The one statement of the naming convention: ``varcolor colorize`` finds cue files by it and the
studio saves its strokes and points under it (:func:`cue_path`), so a saved session colorizes again
from the command line.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..cues import Cues, same_aspect
from ..errors import InputError
from ..io import JPEG_EXTENSIONS, image_shape, read_image

__all__ = [
    "CUE_KINDS",
    "CUE_SUFFIXES",
    "ALL_CUES",
    "MANY_CUES",
    "cue_path",
    "is_cue_file",
    "kind_of",
    "find_cue",
    "load_cues",
    "layer_cues",
    "check_cue_shape",
    "check_cue_share",
    "dense_cues_note",
]

CUE_KINDS = ("marked", "mask", "points")
#: How a cue file is named beside an image X.png, per kind, in the order tried (the first: how one is written).
CUE_SUFFIXES = {
    "marked": ("_marked.png", "_marked.bmp", "_marked.tif", "_marked.jpg"),
    "mask": ("_mask.png", "_mask.bmp", "_mask.tif"),
    "points": (".points.json", ".points.csv"),
}

#: A cue image in which at least this share of the pixels differ from the gray image is no
#: scribbled copy: it is refused (the colour original given as the marked image, say).
ALL_CUES = 0.99
#: Above this share of cue pixels, a warning: strokes rarely cover half of a photo.
MANY_CUES = 0.5


def cue_path(folder: str | Path, stem: str, kind: str) -> Path:
    """Where a cue file of ``kind`` for the image named ``stem`` is written in ``folder``.

    >>> cue_path("scans", "a", "mask").as_posix(), cue_path("scans", "a", "points").as_posix()
    ('scans/a_mask.png', 'scans/a.points.json')
    """
    return Path(folder) / f"{stem}{CUE_SUFFIXES[kind][0]}"


def is_cue_file(path: Path) -> bool:
    """Whether ``path`` is named as a cue file (a folder run then takes it for no input image).

    >>> is_cue_file(Path("a_marked.png")), is_cue_file(Path("a.png"))
    (True, False)
    """
    name = path.name.lower()
    return any(name.endswith(s) for suffixes in CUE_SUFFIXES.values() for s in suffixes)


def kind_of(cue_file: Path) -> str:
    """The kind of a file named as a cue file (:func:`is_cue_file`)."""
    name = cue_file.name.lower()
    return next(kind for kind, suffixes in CUE_SUFFIXES.items() if name.endswith(suffixes))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name longer than the file system allows cannot exist
        return False


def find_cue(image: Path, folder: Path, kinds=CUE_KINDS) -> tuple[str | None, Path | None]:
    """The first cue file ``folder/<stem><suffix>`` that exists for ``image``, over ``kinds``:
    ``(kind, path)``, or ``(None, None)``. Two files of one kind (``a.points.json`` and
    ``a.points.csv``) are one line: which one was meant cannot be told, and the other would be
    silently ignored."""
    for kind in kinds:
        found = [Path(folder) / f"{Path(image).stem}{suffix}" for suffix in CUE_SUFFIXES[kind]]
        found = [candidate for candidate in found if _is_file(candidate)]
        if len(found) > 1:
            raise InputError(f"{image}: ambiguous {kind} cues, both {' and '.join(map(str, found))}; keep one of them")
        if found:
            return kind, found[0]
    return None, None


def check_lossless(cue_file: Path, kind: str) -> None:
    """Refuse a JPEG marked or mask image (``kind``), before it is read."""
    if cue_file.suffix.lower() in JPEG_EXTENSIONS:
        # Measured on the bundled example: its marked PNG saved as JPEG (quality 75-95) turns
        # 65-74 % of the pixels into cues, and no threshold recovers the strokes reliably.
        raise InputError(
            f"{cue_file}: a JPEG {kind} image cannot be used: its compression noise turns most "
            "pixels into cues and blurs the strokes' colours; save it losslessly (PNG) and try again"
        )


def load_cues(
    image: Path,
    kind: str,
    cue_file: Path,
    gray: np.ndarray,
    max_pixels: int | None,
    edges: str = "unmix",
    cue_image: np.ndarray | None = None,
) -> Cues:
    """The cues of ``cue_file`` (of ``kind``) for ``image``, whose gray pixels are ``gray``, the
    strokes' edges read as ``edges`` says (:meth:`~varcolor.Cues.from_marked`); what was taken for
    noise is warned about (``UserWarning``, naming the file). ``cue_image``: the file read already
    (:func:`~varcolor.app.solve.read_marked_photo`)."""
    shape = gray.shape[:2]
    if kind == "points":
        return Cues.from_points(cue_file, shape=shape)
    check_lossless(cue_file, kind)
    check_cue_shape(image, kind, cue_file, shape, max_pixels)
    # float32: enough for 8- and 16-bit levels (the marks' thresholds lie between levels), and half
    # of float64's 24 bytes a pixel (0.96 GB at 40 MP); the cues' colours are read in float64.
    if cue_image is None:
        cue_image = read_image(cue_file, np.float32, max_pixels=max_pixels)
    if cue_image.ndim == 2:
        raise InputError(f"{cue_file}: the {kind} image is gray; it must be in colour")
    return _cues_of(cue_file, kind, gray, cue_image, shape, edges)


def layer_cues(image: Path, strokes: np.ndarray, edges: str = "unmix") -> Cues:
    """The cues of a layered file's stroke layer (``H×W×4``): its colours where it is painted, as a
    stroke mask with alpha (``--mask``) gives them; warnings name ``image``."""
    return _cues_of(image, "mask", None, strokes, strokes.shape[:2], edges)


def _cues_of(
    cue_file: Path, kind: str, gray: np.ndarray | None, cue_image: np.ndarray, shape: tuple[int, int], edges: str
) -> Cues:
    # ``shape``: the photo's size, to which marks drawn at another size are scaled.
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if kind == "marked":
                cues = Cues.from_marked(gray, cue_image, edges=edges)
            else:
                cues = Cues.from_mask(cue_image, shape, edges=edges)
    except InputError as exc:
        raise InputError(f"{cue_file}: {exc}") from None
    for warning in caught:  # noise taken for no stroke
        if issubclass(warning.category, UserWarning):
            warnings.warn(f"{cue_file}: {warning.message}", UserWarning, stacklevel=2)
    return cues


def check_cue_shape(image: Path, kind: str, cue_file: Path, shape: tuple[int, int], max_pixels: int | None) -> None:
    """Refuse a marked or mask image whose aspect ratio (upright, from its header: no pixel is
    decoded) is not that of ``shape``, the image's: a few hundred bytes declaring gigapixels cost
    nothing. Marks of the same aspect ratio at another size are scaled to the image when read.

    Parameters
    ----------
    image, cue_file : Path
        The image and its cue file (named in the message).
    kind : str
        The cue file's kind (points files have no size: nothing is checked).
    shape : tuple of int
        ``(H, W)`` of the image, upright.
    max_pixels : int or None
        The pixel limit of the run.
    """
    if kind == "points":
        return
    height, width = image_shape(cue_file, max_pixels=max_pixels)
    if not same_aspect((height, width), tuple(shape[:2])):
        raise InputError(
            f"{cue_file}: the {kind} image is {width}×{height} "
            f"but {image.name} is {shape[1]}×{shape[0]}, another aspect ratio"
        )


def check_cue_share(cue_file: Path, kind: str, cues: Cues) -> None:
    """Refuse cues that leave nothing to colorize (every pixel a cue): no result can be right."""
    share = cues.count / cues.mask.size
    if share >= ALL_CUES:
        hint = {
            "marked": " (is it the colour original rather than a scribbled copy?)",
            # the command line says "--marked" for "marked cues" (flag_words)
            "mask": " (is this a marked image, the gray one with scribbles? use marked cues)",
        }.get(kind, "")
        raise InputError(f"{cue_file}: {100 * share:.0f} % of the pixels are cues{hint}; nothing is left to colorize")


def dense_cues_note(cue_file: Path | None, cues: Cues) -> str:
    """A warning where the cues cover more than :data:`MANY_CUES` of the image ("" otherwise)."""
    share = cues.count / cues.mask.size
    if cue_file is None or share <= MANY_CUES:
        return ""
    return f"{cue_file}: {100 * share:.0f} % of the pixels are cues; strokes rarely cover that much"
