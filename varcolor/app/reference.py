"""Reference photos of a run (``varcolor colorize --reference``): finding one by name in a folder
of references, pools of them, and a clip's keyframes coloured from them. Reading one, refused in
one line where it can be none, is the cue source's (:mod:`varcolor.sources.reference`)."""

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
from ..reference import (
    GrayReference,
    Signature,
    check_reference,
    check_target,
    signature,
    target_signature,
    verified,
)
from ..sources.base import EDGES_DEFAULT
from ..sources.reference import MATCH_BYTES, READ_BYTES, check_reference_file, read_reference

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

#: What a chain (:mod:`varcolor.app.chain`) says of a photo nothing in its pool matches.
UNMATCHED = "no coloured photo of the series matches it; left out (not coloured)"


class Unmatched(InputError):
    """A chain's photo that no coloured photo of the series matches: left out, not coloured (the
    manifest records its class, which the chain reads, not its text)."""


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
    counts against ``max_memory`` (:func:`read_reference`).

    Parameters
    ----------
    image : Path
        The image coloured (named in messages).
    reference : Path
        The colour photo of the same scene.
    gray : ndarray
        The image's gray, ``H×W`` in [0, 1].
    strokes : Cues or None
        The user's cues for the image (None, or none set: the reference's alone).
    max_pixels : int or None
        The run's pixel limit.
    fallback : bool
        The network colours the image without cues: a reference that matches too little is then a
        warning, not an error.
    max_memory : float, optional
        The memory budget the reference's read counts against.
    """
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


def shares_note(image: Path, cues: Cues) -> str:
    """Which reference gave which share of ``image``'s matched cues, best first (``cues``'
    :attr:`~varcolor.Cues.references`; for the run's report and manifest).

    Parameters
    ----------
    image : Path
        The image coloured (named in the line).
    cues : Cues
        Its cues, matched from a pool of references.

    Returns
    -------
    str
        The line, or "" where no reference gave cues.
    """
    if not cues.references:
        return ""
    return f"{image}: cues from " + ", ".join(f"{name} {100 * share:.0f} %" for name, share in cues.references)


def read_known_reference(
    path: Path,
    known: Path | None,
    max_pixels: int | None,
    gray_shape: tuple[int, ...] | None = None,
    max_memory: float | None = None,
    held: int = 0,
) -> np.ndarray:
    """A pool photo as :func:`read_reference` reads it, with an alpha channel saying where its
    colour is known (:func:`~varcolor.reference.match_reference` takes no colour from elsewhere):
    1 where its confidence map ``known`` (written beside it, :attr:`varcolor.Result.confidence`)
    is at least :data:`~varcolor.restraint.GUESSED_BELOW`, 0 where its colour was guessed. Without
    a map (None, or gone), the photo's colour is taken as known everywhere (its RGB alone).

    Parameters
    ----------
    path : Path
        The photo (a chain's result).
    known : Path or None
        Its confidence map.
    max_pixels, gray_shape, max_memory, held
        As for :func:`read_reference`.
    """
    from skimage.transform import resize

    from ..restraint import GUESSED_BELOW

    pixels = read_reference(path, max_pixels, gray_shape, max_memory, held)
    if known is None or not known.is_file():
        return pixels
    confidence = read_image(known, np.float32, max_pixels=max_pixels)
    confidence = confidence if confidence.ndim == 2 else confidence[..., 0]
    if confidence.shape != pixels.shape[:2]:  # the photo decoded reduced (a JPEG result)
        confidence = resize(confidence, pixels.shape[:2], order=1, anti_aliasing=True)
    alpha = (confidence >= GUESSED_BELOW).astype(np.float32)
    return np.concatenate([pixels, alpha[..., None]], axis=2)


def pool_cues(
    image: Path,
    pool: tuple[Path, ...],
    signatures: tuple[Signature, ...] | None,
    gray: np.ndarray,
    strokes: Cues | None,
    max_pixels: int | None,
    fallback: bool,
    refuse: bool = True,
    max_memory: float | None = None,
    known: tuple[Path | None, ...] | None = None,
) -> tuple[Cues, str]:
    """``strokes`` with the cues of the best-matching photos of ``pool``
    (:meth:`~varcolor.Cues.from_references`), and the line saying which gave which share. None
    matching: as :func:`reference_cues` (an error alone, unless not ``refuse``: then no cues).
    Each photo's read counts against ``max_memory`` (:func:`read_reference`), as a lone one's.
    ``known``: each pool photo's confidence map, or None (:func:`read_known_reference`): a
    chain's photos pass on only the colour they are confident of.

    Parameters
    ----------
    image : Path
        The image coloured (named in messages).
    pool : tuple of Path
        The pool's photos (:func:`pool_files`).
    signatures : tuple of Signature or None
        Their signatures (:func:`pool_signatures`); None: made here, reading every photo.
    gray : ndarray
        The image's gray, ``H×W`` in [0, 1].
    strokes : Cues or None
        The user's cues for the image (None, or none set: the pool's alone).
    max_pixels : int or None
        The run's pixel limit.
    fallback : bool
        The network colours the image without cues: no match is then a warning, not an error.
    refuse : bool, optional
        No match is an error or a warning as :func:`reference_cues` says (default True); False: no
        cues, silently, and only geometrically verified matches are taken.
    max_memory : float, optional
        The memory budget each photo's read counts against.
    known : tuple of (Path or None), optional
        Each pool photo's confidence map, or None (:func:`read_known_reference`).

    Returns
    -------
    tuple
        The cues (:class:`~varcolor.Cues`) and the line saying which reference gave which share
        (:func:`shares_note`; "" where none matched).
    """
    strokes = strokes if strokes is not None and strokes.count else None
    held = gray.nbytes + (0 if strokes is None else strokes.ab.nbytes + strokes.mask.nbytes)
    maps = known if known is not None else (None,) * len(pool)
    cues = Cues.from_references(
        gray,
        [
            functools.partial(read_known_reference, path, its_map, max_pixels, gray.shape, max_memory, held)
            for path, its_map in zip(pool, maps, strict=True)
        ],
        strokes=strokes,
        signatures=signatures,
        names=[str(path) for path in pool],
        verified_only=not refuse,
    )
    if not cues.references:
        told = f"no reference of {len(pool)} matches enough of {image} to give colour"
        if strokes is None and not fallback and refuse:
            raise InputError(f"{told}; add strokes or the prior")
        if refuse:
            warnings.warn(f"{told}: no cues from them", stacklevel=2)
        return cues, ""
    # the shares as the pool gave them (before the strokes' clearance took some away)
    return cues, shares_note(image, cues)


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
