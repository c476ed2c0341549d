"""Reference photos of a run (``varcolor colorize --reference``): finding one by name in a folder
of references, pools of them and their signatures (made once, when a run is planned), and a
clip's keyframes coloured from them. Reading one, refused in one line where it can be none, and
matching one or a pool against a photo are the cue source's (:mod:`varcolor.sources.reference`)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..cues import Cues
from ..errors import InputError
from ..io import IMAGE_EXTENSIONS, identity, image_shape, named, read_image
from ..reference import GrayReference, Signature, check_reference, signature, target_signature, verified
from ..sources.base import EDGES_DEFAULT
from ..sources.reference import (
    MATCH_BYTES,
    READ_BYTES,
    UNMATCHED,
    Unmatched,
    check_reference_file,
    pool_cues,
    read_known_reference,
    read_reference,
    reference_cues,
    shares_note,
)

if TYPE_CHECKING:
    from ..video.shots import Shot

__all__ = [
    "read_known_reference",
    "check_reference_file",
    "read_reference",
    "find_reference",
    "reference_cues",
    "pool_files",
    "pool_signatures",
    "lent_pool",
    "pool_cues",
    "shares_note",
    "UNMATCHED",
    "Unmatched",
    "ReferenceKeyframe",
    "film_keyframes",
    "film_score",
    "READ_BYTES",
    "MATCH_BYTES",
]


def find_reference(image: Path, folder: Path, cache: dict | None = None) -> Path | None:
    """The reference of ``image`` in a folder of references: the image file there with its stem
    (``a.png`` → ``refs/a.jpg``), names compared as a run's inputs are told
    (:func:`~varcolor.io.name_key`: ``refs/A.JPG``, a decomposed ``é`` too); None if there is none;
    two are one line (which one was meant cannot be told). ``cache``: :func:`~varcolor.io.named`'s.

    Parameters
    ----------
    image : Path
        The image whose reference is looked for (its stem names it).
    folder : Path
        The folder of references looked in (not below it).
    cache : dict, optional
        Keeps each folder's listing for the next call (:func:`~varcolor.io.named`'s).

    Returns
    -------
    Path or None
        The reference, or None where the folder has none named so.

    Raises
    ------
    InputError
        Where two files there are named as the image.
    """
    found = named(folder, [f"{image.stem}{suffix}" for suffix in IMAGE_EXTENSIONS], cache)
    if len(found) > 1:
        raise InputError(f"{image}: ambiguous references, both {' and '.join(map(str, found))}; keep one of them")
    return found[0] if found else None


def pool_files(references: list[Path], besides: Path | None = None) -> tuple[Path, ...]:
    """The photos of a pool given as files and folders (a folder's image files, under it,
    sorted by path: a run's order does not depend on the file system's). ``besides``: the one
    image a run colours, no member of its own pool where a folder holds it too.

    Parameters
    ----------
    references : list of Path
        The photos and folders given; a folder stands for the image files under it.
    besides : Path, optional
        The one image a run colours, left out of the folders' photos.

    Returns
    -------
    tuple of Path
        The pool's photos, each file once (however named).

    Raises
    ------
    InputError
        Where a folder holds no image file.
    """
    files: list[Path] = []
    target = identity(besides) if besides is not None else None
    for reference in references:
        if reference.is_dir():
            found = sorted(
                path
                for path in reference.rglob("*")
                if path.suffix.lower() in IMAGE_EXTENSIONS
                and path.is_file()
                and not path.name.startswith(".")
                and (target is None or identity(path) != target)
            )
            if not found:
                raise InputError(f"{reference}: no reference images in this folder")
            files += found
        else:
            files.append(reference)
    # one member a file, however named (another spelling, a link): twice, it takes two of the
    # best matches' places
    members: dict = {}
    for path in files:
        members.setdefault(identity(path), path)
    return tuple(members.values())


def pool_signatures(
    pool: tuple[Path, ...], max_pixels: int | None, max_memory: float | None = None
) -> tuple[Signature, ...]:
    """Each pool photo read once (refused in one line if it can be no reference: as
    :func:`read_reference`, its read counted against ``max_memory`` from its header, before it
    is decoded) and described by its :func:`~varcolor.reference.signature`, which ranks it for
    each target without reading it again.

    Parameters
    ----------
    pool : tuple of Path
        The pool's photos (:func:`pool_files`).
    max_pixels : int or None
        The run's pixel limit.
    max_memory : float, optional
        The memory budget each photo's read counts against.

    Returns
    -------
    tuple of Signature
        One signature per photo, in the pool's order.
    """
    with warnings.catch_warnings():  # a converted profile: each job that uses it says so
        warnings.simplefilter("ignore")
        return tuple(_signature_of(path, max_pixels, max_memory) for path in pool)


def lent_pool(
    pool: tuple[Path, ...], lends: Callable[[Path], bool], max_pixels: int | None, max_memory: float | None = None
) -> tuple[tuple[Path, ...], tuple[Signature, ...]]:
    """The photos of ``pool`` that can be references, and their signatures (as
    :func:`pool_signatures`), where some are lent by a folder that holds the run's inputs
    (``lends``: whether a photo is): of those, the gray ones are inputs, left out, not refused.

    Parameters
    ----------
    pool, max_pixels, max_memory
        As :func:`pool_signatures` takes them.
    lends : callable
        Whether a photo is lent by a folder that holds the run's inputs (then, gray, it is left out).

    Returns
    -------
    tuple
        The photos kept and their signatures, in the pool's order.
    """
    kept: list[Path] = []
    described: list[Signature] = []
    with warnings.catch_warnings():  # a converted profile: each job that uses it says so
        warnings.simplefilter("ignore")
        for path in pool:
            try:
                described.append(_signature_of(path, max_pixels, max_memory))
            except GrayReference:
                if not lends(path):
                    raise
                continue
            kept.append(path)
    return tuple(kept), tuple(described)


def _signature_of(path: Path, max_pixels: int | None, max_memory: float | None = None) -> Signature:
    """A pool photo's signature. A JPEG is decoded at the reduced size the signature needs
    (:func:`~varcolor.io.read_image`'s ``reduce``: its DCT scaled by 1/2 to 1/8, a 12 MP photo in a
    twentieth of the time), checked as a reference on that copy (a gray one is refused); the
    keypoints of the lightness do not need its colour profile. Any other file is read whole
    (:func:`read_reference`). Either read is refused from the header where it would not fit
    ``max_memory``."""
    from ..io import JPEG_EXTENSIONS, image_bits
    from ..memory import check_memory
    from ..reference import WORK_PIXELS

    height, width = check_reference_file(path, max_pixels)
    side = int(np.ceil(np.sqrt(height * width / WORK_PIXELS)))
    if path.suffix.lower() not in JPEG_EXTENSIONS or side < 2:
        return signature(read_reference(path, max_pixels, max_memory=max_memory))
    small_height, small_width = image_shape(path, max_pixels=max_pixels, reduce=side)
    check_memory(
        small_height * small_width * READ_BYTES[image_bits(path) > 8] + MATCH_BYTES,
        f"{path}: reading a {width}×{height} reference of the pool (decoded at {small_width}×{small_height})",
        max_memory,
    )
    small = read_image(path, np.float32, max_pixels=max_pixels, reduce=side)
    # the reduced copy is at least the working size: described as it is, not reduced again
    return signature(check_reference(small, str(path)), small.shape[0] * small.shape[1])


@dataclass(frozen=True)
class ReferenceKeyframe:
    """A clip's keyframe coloured from a pool of reference photos (:func:`film_keyframes`): call it
    with the frame's gray pixels for its :class:`~varcolor.Cues` (the pool's best matches,
    :func:`~varcolor.reference.match_pool`), around the keyframe's own cue file ``strokes`` if it
    has one (the strokes win where they are). Picklable: a clip's chunks run on Dask workers."""

    index: int
    pool: tuple[Path, ...]
    signatures: tuple[Signature, ...]
    max_pixels: int | None = None
    strokes: Callable[[np.ndarray], Cues] | None = None

    @property
    def path(self) -> Path:
        """The file a chunk's provenance records: the strokes' file, else the first reference."""
        return getattr(self.strokes, "path", None) or self.pool[0]

    @property
    def edges(self) -> str:
        return getattr(self.strokes, "edges", EDGES_DEFAULT)

    def __call__(self, gray: np.ndarray) -> Cues:
        strokes = self.strokes(gray) if self.strokes is not None else None
        return Cues.from_references(
            gray, [functools.partial(_film_reference, path, self.max_pixels) for path in self.pool],
            strokes=strokes, signatures=self.signatures, names=[str(path) for path in self.pool],
        )  # fmt: skip


@functools.lru_cache(maxsize=8)
def _film_reference(path: Path, max_pixels: int | None) -> np.ndarray:
    """A reference photo, read once per process for all of a clip's keyframes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_reference(path, max_pixels)


def film_score(signatures: tuple[Signature, ...]) -> Callable[[np.ndarray], float]:
    """How well a pool of stills matches a clip's frame (:func:`~varcolor.video.shots.find_shots`'s
    ``score``): the most inliers of a still whose geometry is verified against it
    (:func:`~varcolor.reference.verified`; 0 where none is).

    Parameters
    ----------
    signatures : tuple of Signature
        The pool's stills' signatures (:func:`pool_signatures`).

    Returns
    -------
    callable
        Takes a frame's gray pixels, gives its score.
    """

    def score(gray: np.ndarray) -> float:
        ours = target_signature(gray)
        found = (verified(ours, theirs) for theirs in signatures)
        return float(max((geometry.inliers for geometry in found if geometry.trusted), default=0))

    return score


def film_keyframes(
    cues: dict, shots: list[Shot], pool: tuple[Path, ...], signatures: tuple[Signature, ...], max_pixels: int | None
) -> dict:
    """A clip's keyframes with reference cues: each shot's keyframes (``shots``: the frames its
    stills verify, :func:`~varcolor.video.shots.find_shots`) and each frame with a cue file
    (``cues``: frame index → its cue file's callable, whose strokes win), each a
    :class:`ReferenceKeyframe`.

    Parameters
    ----------
    cues : dict
        Frame index → the callable giving that frame's cues from its cue file.
    shots : list of Shot
        The clip's shots (:func:`~varcolor.video.shots.find_shots`), whose keyframes are coloured.
    pool : tuple of Path
        The reference photos.
    signatures : tuple of Signature
        Their signatures (:func:`pool_signatures`).
    max_pixels : int or None
        The run's pixel limit, for reading the photos.

    Returns
    -------
    dict
        Frame index → its :class:`ReferenceKeyframe`, for every keyframe and every frame with a cue file.
    """
    keyed = sorted({key for shot in shots for key in shot.keys} | set(cues))
    return {k: ReferenceKeyframe(k, pool, signatures, max_pixels, cues.get(k)) for k in keyed}
