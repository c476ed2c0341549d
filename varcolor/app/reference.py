"""Reference photos of a run (``varcolor colorize --reference``): what was given, told apart once
(:class:`References`: a photo, a folder named as the images, or a pool), finding one by name in
a folder of references, pools of them and their signatures and headers (made once, when a run is
planned, and carried in its jobs' plans), and a clip's keyframes coloured from them.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import sources
from ..cues import Cues
from ..errors import InputError, VarcolorError
from ..io import IMAGE_EXTENSIONS, identity, image_shape, inside, named, read_image
from ..io.layers import is_layered
from ..io.walk import walk_images
from ..reading.matching import (
    GrayReference,
    PoolMatch,
    Signature,
    check_reference,
    check_target,
    signature,
    target_signature,
    verified,
)
from ..sources.base import EDGES_DEFAULT, CuePlan
from ..sources.reference import (
    MATCH_BYTES,
    READ_BYTES,
    UNMATCHED,
    Ranking,
    ReferenceHeader,
    Unmatched,
    check_reference_file,
    pool_cues,
    read_header,
    read_known_reference,
    read_reference,
    reference_cues,
    shares_note,
)

if TYPE_CHECKING:
    from ..video.shots import Shot

__all__ = [
    "References",
    "KINDS",
    "given_references",
    "pairs_by_name",
    "read_known_reference",
    "check_reference_file",
    "read_reference",
    "find_reference",
    "reference_cues",
    "pool_files",
    "pool_signatures",
    "describe_pool",
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
    (``a.png`` → ``refs/a.jpg``), names compared as a run's inputs are told."""
    found = named(folder, [f"{image.stem}{suffix}" for suffix in IMAGE_EXTENSIONS], cache)
    if len(found) > 1:
        raise InputError(f"{image}: ambiguous references, both {' and '.join(map(str, found))}; keep one of them")
    return found[0] if found else None


def pool_files(references: list[Path], besides: Path | None = None) -> tuple[Path, ...]:
    """The photos of a pool given as files and folders (a folder's image files, under it, sorted
    by path: a run's order does not depend on the file system's)."""
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
    is decoded) and described by its :func:`~varcolor.reading.matching.signature`, which ranks it for
    each target without reading it again."""
    return describe_pool(pool, max_pixels, max_memory)[0]


def describe_pool(
    pool: tuple[Path, ...], max_pixels: int | None, max_memory: float | None = None, keep: bool = False
) -> tuple[tuple[Signature, ...], tuple[ReferenceHeader, ...]]:
    """:func:`pool_signatures`, and each photo's header as it was read for them
    (:class:`~varcolor.sources.reference.ReferenceHeader`): a job's plan carries both. With
    ``keep``, a photo decoded whole is kept for the first job that matches it."""
    described, refused = [], []
    with warnings.catch_warnings():  # a converted profile: each job that uses it says so
        warnings.simplefilter("ignore")
        for path in pool:
            try:
                described.append(_describe(path, max_pixels, max_memory, keep))
            except InputError as exc:  # every bad one said at once: not one fix and rerun a file
                refused.append(str(exc))
    if len(refused) == 1:
        raise InputError(refused[0])
    if refused:
        more = f"; and {len(refused) - 5} more" if len(refused) > 5 else ""
        raise InputError(
            f"{len(refused)} of the pool's {len(pool)} references cannot be used: {'; '.join(refused[:5])}{more}"
        )
    return tuple(its for its, _ in described), tuple(header for _, header in described)


def lent_pool(
    pool: tuple[Path, ...], lends: Callable[[Path], bool], max_pixels: int | None, max_memory: float | None = None
) -> tuple[tuple[Path, ...], tuple[Signature, ...]]:
    """The photos of ``pool`` that can be references, and their signatures (as
    :func:`pool_signatures`), where some are lent by a folder that holds the run's inputs."""
    kept, signatures, _ = _lent(pool, lends, max_pixels, max_memory)
    return kept, signatures


def _lent(
    pool: tuple[Path, ...], lends: Callable[[Path], bool], max_pixels: int | None, max_memory: float | None = None
) -> tuple[tuple[Path, ...], tuple[Signature, ...], tuple[ReferenceHeader, ...]]:
    """:func:`lent_pool`, and the headers of the photos kept (:func:`describe_pool`'s)."""
    kept: list[Path] = []
    described: list[tuple[Signature, ReferenceHeader]] = []
    with warnings.catch_warnings():  # a converted profile: each job that uses it says so
        warnings.simplefilter("ignore")
        for path in pool:
            try:
                described.append(_describe(path, max_pixels, max_memory))
            except GrayReference:
                if not lends(path):
                    raise
                continue
            kept.append(path)
    return tuple(kept), tuple(its for its, _ in described), tuple(header for _, header in described)


def _describe(
    path: Path, max_pixels: int | None, max_memory: float | None = None, keep: bool = False
) -> tuple[Signature, ReferenceHeader]:
    """A pool photo's signature, and its header (read once, for both)."""
    from ..common.memory import check_memory
    from ..io import JPEG_EXTENSIONS
    from ..reading.matching import WORK_PIXELS

    header = read_header(path, max_pixels)
    height, width = header.shape
    side = int(np.ceil(np.sqrt(height * width / WORK_PIXELS)))
    if path.suffix.lower() not in JPEG_EXTENSIONS or side < 2:
        pixels = read_reference(path, max_pixels, max_memory=max_memory, header=header, keep=keep)
        return signature(pixels), replace(header, whole=pixels.shape[:2] == header.shape)
    small_height, small_width = image_shape(path, max_pixels=max_pixels, reduce=side)
    check_memory(
        small_height * small_width * READ_BYTES[header.bits > 8] + MATCH_BYTES,
        f"{path}: reading a {width}×{height} reference of the pool (decoded at {small_width}×{small_height})",
        max_memory,
    )
    small = read_image(path, np.float32, max_pixels=max_pixels, reduce=side)
    # the reduced copy is at least the working size: described as it is, not reduced again
    return signature(check_reference(small, str(path)), small.shape[0] * small.shape[1]), header


@dataclass(frozen=True)
class ReferenceKeyframe:
    """A clip's keyframe coloured from a pool of reference photos (:func:`film_keyframes`): call
    it with the frame's gray pixels for its :class:`~varcolor.Cues`."""

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
        check_target(gray.shape, "gray")  # before any still is read
        # the stills the match wants, read here (once per process): plain arrays down
        matched = PoolMatch(gray, self.signatures, names=[str(path) for path in self.pool])
        while (index := matched.wanted()) is not None:
            matched.add(_film_reference(self.pool[index], self.max_pixels))
        return Cues.from_pool(matched, strokes=strokes)


@functools.lru_cache(maxsize=8)
def _film_reference(path: Path, max_pixels: int | None) -> np.ndarray:
    """A reference photo, read once per process for all of a clip's keyframes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_reference(path, max_pixels)


def film_score(signatures: tuple[Signature, ...]) -> Callable[[np.ndarray], float]:
    """How well a pool of stills matches a clip's frame
    (:func:`~varcolor.video.shots.find_shots`'s ``score``): the most inliers of a still whose
    geometry is verified against it."""

    def score(gray: np.ndarray) -> float:
        ours = target_signature(gray)
        found = (verified(ours, theirs) for theirs in signatures)
        return float(max((geometry.inliers for geometry in found if geometry.trusted), default=0))

    return score


def film_keyframes(
    cues: dict, shots: list[Shot], pool: tuple[Path, ...], signatures: tuple[Signature, ...], max_pixels: int | None
) -> dict:
    """A clip's keyframes with reference cues: each shot's keyframes."""
    keyed = sorted({key for shot in shots for key in shot.keys} | set(cues))
    return {k: ReferenceKeyframe(k, pool, signatures, max_pixels, cues.get(k)) for k in keyed}


#: What ``--reference`` is read as (:attr:`References.kind`): one photo for every image, a folder of
#: photos named as the images, or a pool matched against each image.
KINDS = ("photo", "folder", "pool")


def given_references(reference: str | os.PathLike | Iterable[str | os.PathLike] | None) -> tuple | None:
    """``--reference``'s values as given (``reference=`` of :func:`~varcolor.app.run_folder`):
    None where none is given, else a tuple of one path or several.

    Parameters
    ----------
    reference : path or iterable of paths or None
        ``--reference``'s value: None, one path, or several (a list, a tuple).

    Returns
    -------
    tuple or None
        The paths as given (strings stay strings), or None.

    Examples
    --------
    >>> given_references("sea.jpg"), given_references(["a.jpg", "b.jpg"]), given_references(None)
    (('sea.jpg',), ('a.jpg', 'b.jpg'), None)
    """
    if reference is None:
        return None
    return (reference,) if isinstance(reference, (str, os.PathLike)) else tuple(reference)


@dataclass(frozen=True)
class References:
    """``--reference`` as a run reads it, told apart once, where the run first reads it
    (:meth:`of` for a photo or folder run, :meth:`pool_of` for a chain or a clip).

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    paths : tuple of Path
        The photo, the folder, or the pool's photos (each file once, however named).
    given : tuple of path
        ``--reference``'s values as given (:func:`given_references`); its folders are never the
        run's inputs nor hold its outputs.
    signatures : tuple of Signature or None
        The pool's signatures, in its order (None: no pool, or not made yet: :meth:`described`).
    headers : tuple of ReferenceHeader or None
        The pool photos' headers, read with their signatures (:func:`describe_pool`).

    Examples
    --------
    >>> import pickle
    >>> pool = References("pool", (Path("a.jpg"), Path("b.jpg")))
    >>> pool.pooled, pool.searched, pickle.loads(pickle.dumps(pool)) == pool
    (True, True, True)
    """

    kind: str
    paths: tuple[Path, ...]
    given: tuple[str | os.PathLike, ...] = ()
    signatures: tuple[Signature, ...] | None = field(default=None, compare=False)  # made from the paths
    headers: tuple[ReferenceHeader, ...] | None = field(default=None, compare=False)  # read with them

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: one of {', '.join(KINDS)}, got {self.kind!r}")
        if not self.paths or (self.kind != "pool" and len(self.paths) != 1):
            raise ValueError(f"a {self.kind} reference holds {'one path' if self.kind != 'pool' else 'photos'}")

    @classmethod
    def of(
        cls,
        reference: str | os.PathLike | Iterable[str | os.PathLike] | None,
        source: Path,
        max_pixels: int | None,
        max_memory: float | None = None,
    ) -> References | None:
        """``--reference`` as a run of ``source`` (a photo or a folder) reads it, checked: one
        photo for every image, a folder named as the images, or a pool (refused in one line if it can be none)."""
        from .cues import is_cue_file

        given = given_references(reference) or ()
        folders = [Path(path) for path in given]
        if not folders:
            return None
        holding = [folder for folder in folders if _holds(folder, source)]
        if len(folders) == 1 and folders[0].is_dir() and source.is_dir() and not holding:
            if pairs_by_name(source, folders[0]):
                return cls("folder", (folders[0],), given)
        if len(folders) == 1 and not folders[0].is_dir():
            # one photo: read as its job reads it (reduced as matching it allows), kept for the job
            # (decoded once); a folder: reduced as its own checks allow
            gray_shape = _shape_of(source, max_pixels) if source.is_file() else None
            with warnings.catch_warnings():  # a converted profile: each job says so, naming its image
                warnings.simplefilter("ignore")
                # every job reads it: a bad one is refused once, now
                read_reference(folders[0], max_pixels, gray_shape, max_memory=max_memory, check_only=gray_shape is None)
            return cls("photo", (folders[0],), given)
        pool = pool_files(folders, besides=source if source.is_file() else None)
        if not holding:
            return cls("pool", pool, given, *describe_pool(pool, max_pixels, max_memory))

        def lends(path: Path) -> bool:
            return any(inside(path, folder) for folder in holding)

        pool = tuple(path for path in pool if not (lends(path) and is_cue_file(path)))
        kept, signatures, headers = _lent(pool, lends, max_pixels, max_memory)
        if not kept:
            names = " and ".join(map(str, holding))
            raise InputError(
                f"{names}: every image in it is gray, and a --reference folder that holds the inputs lends "
                "its colour photos to colour its gray ones; add a colour photo or give another folder"
            )
        return cls("pool", kept, given, signatures, headers)

    @classmethod
    def pool_of(cls, reference: str | os.PathLike | Iterable[str | os.PathLike] | None) -> References | None:
        """``--reference`` as a pool whatever it holds (a chain's first photos, a clip's stills):
        its files, and the image files under its folders (:func:`pool_files`)."""
        given = given_references(reference) or ()
        pool = pool_files([Path(path) for path in given])
        return cls("pool", pool, given) if pool else None

    def described(self, max_pixels: int | None, max_memory: float | None = None) -> References:
        """This pool with its signatures and headers (:func:`describe_pool`; each photo read,
        refused in one line if it can be no reference)."""
        signatures, headers = describe_pool(self.paths, max_pixels, max_memory)
        return replace(self, signatures=signatures, headers=headers)

    @property
    def pooled(self) -> bool:
        """Whether each image is matched against a pool (:func:`pool_cues`), however many it holds."""
        return self.kind == "pool"

    @property
    def searched(self) -> bool:
        """Whether an image's reference is looked for (in a folder by name, or a pool's best
        matches): an image with none and no cue file is said to have no reference either."""
        return self.kind != "photo"

    @property
    def members(self) -> tuple[Path, ...]:
        """The photos a job matches: the photo, or the pool's (a folder's: each image's own,
        :meth:`for_image`)."""
        return () if self.kind == "folder" else self.paths

    @property
    def folders(self) -> tuple[Path, ...]:
        """The folders among the values given."""
        return tuple(path for path in map(Path, self.given) if path.is_dir())

    def walked_past(self, source: Path) -> list[Path]:
        """The folders given whose files are no inputs of a folder run of ``source`` (one that is
        ``source`` or holds it is walked: its gray photos are the inputs).

        Parameters
        ----------
        source : Path
            The run's input folder.
        """
        return [folder for folder in self.folders if not _holds(folder, source)]

    def is_input(self, path: Path) -> bool:
        """Whether ``path``, found in a folder run's input folder, is an input: no reference photo
        of the run (the photo, a pool's member, however named) is ever one.

        Parameters
        ----------
        path : Path
            An image file found under the run's input folder.
        """
        return self.kind == "folder" or identity(path) not in self._identities

    @functools.cached_property
    def _identities(self) -> frozenset:
        """The reference photos' identities (:func:`~varcolor.io.identity`), made once a run."""
        return frozenset(identity(path) for path in self.members)

    def __getstate__(self) -> dict:
        # a file's identity is this machine's: never carried with the value
        return {name: value for name, value in self.__dict__.items() if name != "_identities"}

    def for_image(self, image: Path, rel: Path, listings: dict | None = None) -> References | None:
        """What the job of ``image`` (``rel``: its path under the run's input folder) matches:
        the photo, the pool, or the photo found by its name in the folder."""
        if self.kind != "folder":
            return self
        found = find_reference(image, self.paths[0] / rel.parent, listings)
        return None if found is None else References("photo", (found,))

    def check_outputs(self, output: Path, flag: str = "-o") -> None:
        """Refuse a ``--reference`` folder that would hold the run's outputs (it is the output
        folder, or holds it or the output file)."""
        for folder in self.folders:
            if identity(output) == identity(folder) or inside(output, folder):
                raise InputError(
                    f"{folder}: a --reference folder cannot hold the run's outputs ({output}): "
                    f"later runs would take them for references; give {flag} another place"
                )

    def plan(
        self,
        image: Path,
        *,
        max_pixels: int | None = None,
        edges: str = EDGES_DEFAULT,
        around: CuePlan | None = None,
        known: tuple[Path | None, ...] | None = None,
        chained: bool = False,
        ranking: Ranking | None = None,
    ) -> CuePlan:
        """The ``reference`` cue source's plan of ``image``'s cues
        (:meth:`varcolor.sources.reference.Reference.plan`): matched from the photo or the pool,
        around the user's own."""
        if self.kind == "folder":
            raise ValueError("a folder of references plans nothing itself: plan each image's (for_image)")
        return sources.get("reference").plan(
            self.paths[0],
            image,
            max_pixels=max_pixels,
            edges=edges,
            references=self.paths,
            pooled=self.pooled,
            signatures=self.signatures,
            known=known,
            chained=chained,
            around=around,
            headers=self.headers,
            ranking=ranking,
        )


def pairs_by_name(source: Path, folder: Path) -> bool:
    """Whether a folder of references is named as the images under ``source`` (some image has its
    reference there, :func:`find_reference`): then each image takes its own.

    Parameters
    ----------
    source : Path
        The run's input folder.
    folder : Path
        The reference folder, looked in at each image's place relative to ``source``.
    """
    for rel in walk_images(source, skip=[folder]):
        try:
            if find_reference(source / rel, folder / rel.parent) is not None:
                return True
        except InputError:  # two candidates: named as the image all the same
            return True
    return False


def _holds(folder: Path, source: Path) -> bool:
    """Whether the ``--reference`` ``folder`` is the input folder ``source`` or holds ``source``."""
    return folder.is_dir() and (identity(folder) == identity(source) or inside(source, folder))


def _shape_of(image: Path, max_pixels: int | None) -> tuple[int, int] | None:
    """A photo's ``(H, W)`` from its header (None: a layered file, or one that cannot be read: its
    job says why)."""
    if is_layered(image):
        return None
    try:
        return image_shape(image, max_pixels=max_pixels)
    except VarcolorError:
        return None
