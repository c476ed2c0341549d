"""Cue files beside an image: their names (``X_marked.png``, ``X_mask.png``, ``X.points.json``:
each registered cue source's ``suffixes``, :mod:`varcolor.sources`), finding them, and reading
them with the checks a folder run owes its user.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np

from .. import sources
from ..cues import Cues
from ..errors import InputError
from ..io.formats import is_file
from ..sources.base import EDGES_DEFAULT, check_lossless

__all__ = [
    "cue_kinds",
    "cue_suffixes",
    "ALL_CUES",
    "MANY_CUES",
    "cue_path",
    "is_cue_file",
    "kind_of",
    "find_cue",
    "load_cues",
    "layer_cues",
    "check_lossless",
    "check_cue_shape",
    "check_cue_share",
    "dense_cues_note",
]

#: A cue image differing from the gray on at least this share of pixels is no scribbled copy: refused.
ALL_CUES = 0.99
#: Above this share of cue pixels, a warning: strokes rarely cover half of a photo.
MANY_CUES = 0.5


def cue_kinds() -> tuple[str, ...]:
    """The kinds of cue files (the registered sources found beside a photo by name), in the order tried."""
    return tuple(source.name for source in sources.file_sources())


def cue_suffixes() -> dict[str, tuple[str, ...]]:
    """How a cue file is named beside an image X.png, per kind, in the order tried (the first: how one is written)."""
    return {source.name: source.suffixes for source in sources.file_sources()}


def __getattr__(name: str):
    # CUE_KINDS and CUE_SUFFIXES, as they were: asked of the registry, plug-ins included.
    if name == "CUE_KINDS":
        return cue_kinds()
    if name == "CUE_SUFFIXES":
        return cue_suffixes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def cue_path(folder: str | Path, stem: str, kind: str) -> Path:
    """Where a cue file of ``kind`` for the image named ``stem`` is written in ``folder``.

    Parameters
    ----------
    folder : str or Path
        The folder the cue file is in.
    stem : str
        The image's file name without its extension.
    kind : str
        The cue source's name (``"marked"``, ``"mask"``, ``"points"``, ...); its first suffix is used.

    Returns
    -------
    Path
        ``folder/<stem><suffix>``.

    Examples
    --------
    >>> cue_path("scans", "a", "mask").as_posix(), cue_path("scans", "a", "points").as_posix()
    ('scans/a_mask.png', 'scans/a.points.json')
    """
    return Path(folder) / f"{stem}{sources.get(kind).suffixes[0]}"


def is_cue_file(path: Path) -> bool:
    """Whether ``path`` is named as a cue file (a folder run then takes it for no input image).

    Parameters
    ----------
    path : Path
        The file (only its name is read).

    Examples
    --------
    >>> is_cue_file(Path("a_marked.png")), is_cue_file(Path("a.png"))
    (True, False)
    """
    return sources.kind_of(path) is not None


def kind_of(cue_file: Path) -> str:
    """The kind of a file named as a cue file (:func:`is_cue_file`)."""
    kind = sources.kind_of(cue_file)
    if kind is None:
        raise InputError(f"{cue_file}: not named as a cue file")
    return kind


def _as_spelt(candidate: Path) -> Path | None:
    """``candidate`` where it is a file, else the file its name names in another Unicode
    normalisation."""
    if is_file(candidate):
        return candidate
    for form in ("NFC", "NFD"):
        spelt = candidate.with_name(unicodedata.normalize(form, candidate.name))
        if spelt != candidate and is_file(spelt):
            return spelt
    return None


def find_cue(image: Path, folder: Path, kinds=None) -> tuple[str | None, Path | None]:
    """The first cue file ``folder/<stem><suffix>`` that exists for ``image``, over ``kinds``
    (default: every registered source found by name): ``(kind, path)``, or ``(None, None)``."""
    for kind in cue_kinds() if kinds is None else kinds:
        candidates = [Path(folder) / f"{Path(image).stem}{suffix}" for suffix in sources.get(kind).suffixes]
        found = [spelt for spelt in map(_as_spelt, candidates) if spelt is not None]
        if len(found) > 1:
            raise InputError(f"{image}: ambiguous {kind} cues, both {' and '.join(map(str, found))}; keep one of them")
        if found:
            return kind, found[0]
    return None, None


def load_cues(
    image: Path,
    kind: str,
    cue_file: Path,
    gray: np.ndarray,
    max_pixels: int | None,
    edges: str = EDGES_DEFAULT,
    cue_image: np.ndarray | None = None,
    checked: bool = False,
) -> Cues:
    """The cues of ``cue_file`` (of ``kind``) for ``image``, whose gray pixels are ``gray``, the
    strokes' edges read as ``edges`` says (:meth:`~varcolor.Cues.from_marked`)."""
    return sources.get(kind).load(
        cue_file, gray, image=image, max_pixels=max_pixels, edges=edges, cue_image=cue_image, checked=checked
    )


def layer_cues(image: Path, strokes: np.ndarray, edges: str = EDGES_DEFAULT) -> Cues:
    """The cues of a layered file's stroke layer (``H×W×4``): its colours where it is painted, as
    a stroke mask with alpha (``--mask``) gives them; warnings name ``image``.

    Parameters
    ----------
    image : Path
        The layered file (named in messages).
    strokes : ndarray
        Its stroke layer, ``H×W×4``.
    edges : str, optional
        How strokes' edges are read (:data:`~varcolor.cues.EDGES`).
    """
    return sources.get("layered").load(image, strokes[..., 0], edges=edges, cue_image=strokes, checked=True)


def check_cue_shape(image: Path, kind: str, cue_file: Path, shape: tuple[int, int], max_pixels: int | None) -> None:
    """The source ``kind``'s cheap checks of ``cue_file`` for ``image`` of ``shape``."""
    sources.get(kind).check(cue_file, image, shape, max_pixels)


def check_cue_share(cue_file: Path, kind: str, cues: Cues) -> None:
    """Refuse cues that leave nothing to colorize (every pixel a cue): no result can be right."""
    share = cues.count / cues.mask.size
    if share >= ALL_CUES:
        hint = sources.get(kind).all_cues_hint if kind in sources.names() else ""
        raise InputError(f"{cue_file}: {100 * share:.0f} % of the pixels are cues{hint}; nothing is left to colorize")


def dense_cues_note(cue_file: Path | None, cues: Cues) -> str:
    """A warning where the cues cover more than :data:`MANY_CUES` of the image ("" otherwise).

    Parameters
    ----------
    cue_file : Path or None
        The cue file (named in the warning); None: no warning.
    cues : Cues
        The cues read from it.
    """
    share = cues.count / cues.mask.size
    if cue_file is None or share <= MANY_CUES:
        return ""
    return f"{cue_file}: {100 * share:.0f} % of the pixels are cues; strokes rarely cover that much"
