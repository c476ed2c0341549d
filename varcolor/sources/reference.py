"""The source ``reference``: a colour photo of the same scene (``--reference``), its confident
matches cues (:meth:`varcolor.Cues.from_reference`, :mod:`varcolor.reading.matching`); read once, refused
in one line where it can be no reference (a folder, a clip, a bomb, a gray image, float samples
outside [0, 1], fewer than :data:`~varcolor.reading.matching.MIN_SIDE` pixels a side).

A run checks a reference when it is planned and each photo's job reads it: the photo read last,
at the size it was decoded at, is kept (:func:`read_reference`), so a photo's reference is
decoded once, not once for the plan's checks and again for its job. A job holds a
:class:`ReferencePlan` (:meth:`Reference.plan`): one photo, or a pool with the signatures and
headers (:class:`ReferenceHeader`) made when the run was planned, and the plan of the user's own
strokes its matches go around; a chain's photo, its own signature and checks too
(:class:`Ranking`). A job opens no pool photo's header again, nor describes again a photo it
decodes as it was described.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..common.memory import check_memory
from ..cues import Cues
from ..errors import ClippedSamples, InputError, listening, retell, tell
from ..io import VIDEO_EXTENSIONS, file_state, image_bits, image_shape, kept, read_image
from ..reading.matching import (
    Geometry,
    GrayReference,
    PoolMatch,
    Signature,
    check_reference,
    check_target,
    decode_reduction,
    signature,
)
from .base import EDGES_DEFAULT, CuePlan, CueSource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .base import ReadContext

__all__ = [
    "Reference",
    "ReferencePlan",
    "ReferenceHeader",
    "Ranking",
    "read_header",
    "check_reference_file",
    "read_reference",
    "read_known_reference",
    "reference_cues",
    "pool_cues",
    "shares_note",
    "UNMATCHED",
    "Unmatched",
    "READ_BYTES",
    "MATCH_BYTES",
]

#: Bytes a reference's read and match hold at their peak per pixel decoded, for 8-bit files: the
#: decoded levels, their RGB copy and the float32 image (3 + 3 + 12, and a margin); for 16-bit
#: and float files (their float64 samples, and those converted through a profile) the second;
#: and, whatever the size, the match's temporaries (its block means go band by band: at most
#: 2**22 pixels a band).
READ_BYTES, MATCH_BYTES = (24, 56), 64 << 20


def check_reference_file(path: Path, max_pixels: int | None) -> tuple[int, int]:
    """The reference's ``(H, W)`` from its header, after refusing what can be no reference: a
    folder, a missing or unreadable file, a clip, an image of more than ``max_pixels``.

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


@dataclass(frozen=True)
class ReferenceHeader:
    """What a reference photo's header said when its run was planned (:func:`read_header`): a job
    reads the photo without opening its header again while the file is the one read then.

    Attributes
    ----------
    shape : tuple of int
        ``(H, W)``, upright (:func:`check_reference_file`).
    bits : int
        Bits per sample (:func:`~varcolor.io.image_bits`).
    stamp : tuple or None
        The file's :func:`~varcolor.io.file_state` before its header was read.
    max_pixels : int or None
        The pixel limit the shape was checked against.
    whole : bool
        Its signature was made from the photo decoded whole.
    """

    shape: tuple[int, int]
    bits: int
    stamp: tuple | None
    max_pixels: int | None = None
    whole: bool = False

    def holds(self, path: Path, max_pixels: int | None) -> bool:
        """Whether it says what ``path``'s header says: the same file, unchanged, read with the
        same pixel limit.

        Parameters
        ----------
        path : Path
            The photo.
        max_pixels : int or None
            The pixel limit of the read.
        """
        return self.stamp is not None and max_pixels == self.max_pixels and file_state(path) == self.stamp


def read_header(path: Path, max_pixels: int | None) -> ReferenceHeader:
    """A reference photo's :class:`ReferenceHeader`, refused in one line where the file can be no
    reference (:func:`check_reference_file`).

    Parameters
    ----------
    path, max_pixels
        As :func:`check_reference_file` takes them.

    Returns
    -------
    ReferenceHeader
        Its shape and bits, and the file's stamp.
    """
    stamp = file_state(path)  # before the header: a file changed after it is read again
    shape = check_reference_file(path, max_pixels)
    return ReferenceHeader(shape, image_bits(path), stamp, max_pixels)


def read_reference(
    path: Path,
    max_pixels: int | None,
    gray_shape: tuple[int, ...] | None = None,
    max_memory: float | None = None,
    held: int = 0,
    check_only: bool = False,
    header: ReferenceHeader | None = None,
    keep: bool = False,
) -> np.ndarray:
    """The reference photo at ``path`` as ``H×W×3`` float32 RGB in [0, 1] (converted from its ICC
    profile and bit depth as any input is), refused in one line where it cannot be one.

    Parameters
    ----------
    path, max_pixels
        As :func:`check_reference_file` takes them.
    gray_shape : tuple of int, optional
        The shape of the gray image it will be matched against (a JPEG is then decoded reduced).
    max_memory : float, optional
        The memory budget (:func:`~varcolor.common.memory.memory_budget`) the read counts against.
    held : int, optional
        Bytes already in use, counted with the read's (default 0).
    check_only : bool, optional
        The photo is read to be checked only: without ``gray_shape``, a JPEG is decoded as reduced
        as its own checks allow (default False).
    header : ReferenceHeader, optional
        Its header as read when the run was planned (default: read here).
    keep : bool, optional
        The next read of it at this size takes these pixels (:mod:`varcolor.io.kept`) instead of
        decoding it again (default False).

    Returns
    -------
    ndarray
        ``H×W×3`` float32 RGB in [0, 1], read-only.
    """
    key = _key(path, max_pixels, gray_shape, check_only)
    with _LOCK:
        if key is not None and _LAST.get("key") == key:
            retell(_LAST["said"], stacklevel=2)  # said again for this read's image
            return _LAST["pixels"]
    if header is None or not header.holds(path, max_pixels):
        header = read_header(path, max_pixels)
    shape = header.shape
    reduce = decode_reduction(shape, gray_shape) if gray_shape is not None or check_only else 1
    # decoded reduced (a JPEG): that size from the header; whole, the shape read
    height, width = shape if reduce == 1 else image_shape(path, max_pixels=max_pixels, reduce=reduce)
    decoded = "" if (height, width) == shape else f" (decoded at {width}×{height})"
    check_memory(
        height * width * READ_BYTES[header.bits > 8] + MATCH_BYTES + held,
        f"{path}: reading and matching a {shape[1]}×{shape[0]} reference{decoded}",
        max_memory,
    )
    how = ("reference", max_pixels, reduce)
    taken = kept.take(path, how)  # decoded whole when it was described (a chain's result)
    if taken is not None:
        pixels, notes = taken
    else:
        with listening() as notes:
            pixels = read_image(path, np.float32, max_pixels=max_pixels, reduce=reduce)
    for note in notes:
        if issubclass(note.category, ClippedSamples):  # 0-255 floats clipped to [0, 1] read as gray, not as colour
            raise InputError(f"{note.message.removesuffix(' are clipped')}: a reference's samples must lie in [0, 1]")
    retell(notes, stacklevel=2)
    if pixels.ndim == 2:
        raise GrayReference(f"{path}: the reference is gray (no colour to take)")
    if pixels.shape[2] == 4 and (hidden := float(np.mean(pixels[..., 3] < 1.0))) > HIDDEN_SHARE:
        # (Cues.from_reference reads an array's alpha; a file's transparent colour is no photo's)
        raise InputError(
            f"{path}: {100 * hidden:.1f} % of the reference is transparent, its colour hidden: flatten it "
            "or crop it to the photo it shows"
        )
    pixels = check_reference(pixels, str(path))
    pixels.flags.writeable = False  # kept for the next read: nobody's to change
    if keep:
        kept.keep(path, how, (pixels, notes), pixels.nbytes)
    with _LOCK:
        _LAST.clear()
        if key is not None:
            _LAST.update(key=key, pixels=pixels, said=notes)
    return pixels


#: A reference file transparent on more than this share of its pixels is refused (its hidden colour is no photo's).
HIDDEN_SHARE = 0.001

#: The reference read last (:func:`read_reference`): its key and pixels.
_LAST: dict[str, Any] = {}
_LOCK = threading.Lock()


def _key(path: Path, max_pixels: int | None, gray_shape: tuple | None, check_only: bool) -> tuple | None:
    """What tells a read of ``path`` from another: the file (device, inode, size, time) and how it
    is read; None where the file cannot be looked at (its read says why)."""
    stamp = file_state(path)
    if stamp is None:
        return None
    how = (max_pixels, None if gray_shape is None else tuple(gray_shape[:2]), check_only)
    return (*stamp, str(path), *how)


#: What a chain (:mod:`varcolor.app.chain`) says of a photo nothing in its pool matches.
UNMATCHED = "no coloured photo of the series matches it; left out (not coloured)"


class Unmatched(InputError):
    """A chain's photo that no coloured photo of the series matches: left out, not coloured (the
    manifest records its class, which the chain reads, not its text)."""


def reference_cues(
    image: Path,
    reference: Path,
    gray: np.ndarray,
    strokes: Cues | None,
    max_pixels: int | None,
    fallback: bool,
    max_memory: float | None = None,
) -> Cues:
    """``strokes`` (the user's cues for ``image``; None: none) with the cues matched from the
    photo ``reference`` around them (:meth:`~varcolor.Cues.from_reference`).

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
        tell(f"{told}: no cues from it", stacklevel=2)
    return cues


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
    header: ReferenceHeader | None = None,
) -> np.ndarray:
    """A pool photo as :func:`read_reference` reads it, with an alpha channel saying where its
    colour is known.

    Parameters
    ----------
    path : Path
        The photo (a chain's result).
    known : Path or None
        Its confidence map.
    max_pixels, gray_shape, max_memory, held, header
        As for :func:`read_reference`.
    """
    from skimage.transform import resize

    from ..restraint import GUESSED_BELOW

    pixels = read_reference(path, max_pixels, gray_shape, max_memory, held, header=header)
    if known is None or not known.is_file():
        return pixels
    stamp = file_state(known)
    key = None if stamp is None else (*stamp, str(known), max_pixels, pixels.shape[:2])
    with _LOCK:
        alpha = _KNOWN.get("alpha") if key is not None and _KNOWN.get("key") == key else None
    if alpha is None:
        try:
            confidence = read_image(known, np.float32, max_pixels=max_pixels)
        except InputError as exc:
            raise InputError(f"{path}: its confidence map cannot be read ({exc}); rerun it with --overwrite") from None
        confidence = confidence if confidence.ndim == 2 else confidence[..., 0]
        scale = confidence.shape[1] / pixels.shape[1]
        if abs(confidence.shape[0] - pixels.shape[0] * scale) > max(1.0, scale):  # another photo's
            raise InputError(
                f"{path}: its confidence map {known} is {confidence.shape[1]}×{confidence.shape[0]}, not of its "
                "shape (another photo's?); rerun it with --overwrite"
            )
        if confidence.shape != pixels.shape[:2]:  # the photo decoded reduced (a JPEG result)
            confidence = resize(confidence, pixels.shape[:2], order=1, anti_aliasing=True)
        alpha = (confidence >= GUESSED_BELOW).astype(np.float32)
        alpha.flags.writeable = False  # kept for the next read: nobody's to change
        with _LOCK:
            _KNOWN.clear()
            if key is not None:
                _KNOWN.update(key=key, alpha=alpha)
    return np.concatenate([pixels, alpha[..., None]], axis=2)


#: The confidence map read last (:func:`read_known_reference`): its key and alpha.
_KNOWN: dict[str, Any] = {}


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
    headers: tuple[ReferenceHeader | None, ...] | None = None,
    ranking: Ranking | None = None,
) -> tuple[Cues, str]:
    """``strokes`` with the cues of the best-matching photos of ``pool``
    (:class:`~varcolor.reading.matching.PoolMatch`, each photo it wants read here;
    :meth:`~varcolor.Cues.from_pool`).

    Parameters
    ----------
    image : Path
        The image coloured (named in messages).
    pool : tuple of Path
        The pool's photos (:func:`~varcolor.app.reference.pool_files`).
    signatures : tuple of Signature or None
        Their signatures (:func:`~varcolor.app.reference.pool_signatures`); None: made here, reading every photo.
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
    headers : tuple of (ReferenceHeader or None), optional
        Each pool photo's header as read when the run was planned (:func:`read_header`).
    ranking : Ranking, optional
        The image's own signature and its checks against the pool (a chain's photo).

    Returns
    -------
    tuple
        The cues (:class:`~varcolor.Cues`) and the line saying which reference gave which share
        (:func:`shares_note`; "" where none matched).
    """
    check_target(gray.shape, str(image))  # before any photo is read
    strokes = strokes if strokes is not None and strokes.count else None
    held = gray.nbytes + (0 if strokes is None else strokes.ab.nbytes + strokes.mask.nbytes)
    maps = known if known is not None else (None,) * len(pool)
    if len(maps) != len(pool):
        raise ValueError(f"known: {len(maps)} maps for {len(pool)} photos")
    heads = headers if headers is not None and signatures is not None else (None,) * len(pool)
    if len(heads) != len(pool):
        raise ValueError(f"headers: {len(heads)} headers for {len(pool)} photos")
    names = [str(path) for path in pool]

    def photo(index: int) -> np.ndarray:
        header = heads[index]
        return read_known_reference(pool[index], maps[index], max_pixels, gray.shape, max_memory, held, header)

    def described(index: int, pixels: np.ndarray) -> bool:
        """Whether ``pixels`` are the very photo its signature was made from (decoded whole)."""
        header = heads[index]
        return (
            header is not None
            and header.whole
            and pixels.shape[:2] == header.shape
            and header.holds(pool[index], max_pixels)
        )

    if signatures is None:  # made here, each photo read (as the match would read them)
        signatures = tuple(signature(check_reference(photo(i), names[i])) for i in range(len(pool)))
    ours = ranking if ranking is not None and ranking.holds(image, len(pool)) else None
    # the photos the match wants, read here (the memory budget, the confidence maps): plain arrays down
    matched = PoolMatch(
        gray,
        signatures,
        names=names,
        verified_only=not refuse,
        target=None if ours is None else ours.target,
        found=None if ours is None else ours.found,
    )
    while (index := matched.wanted()) is not None:
        pixels = photo(index)
        matched.add(pixels, described=described(index, pixels))
    cues = Cues.from_pool(matched, strokes=strokes)
    if not cues.references:
        told = f"no reference of {len(pool)} matches enough of {image} to give colour"
        if strokes is None and not fallback and refuse:
            raise InputError(f"{told}; add strokes or the prior")
        if refuse:
            tell(f"{told}: no cues from them", stacklevel=2)
        return cues, ""
    # the shares as the pool gave them (before the strokes' clearance took some away)
    return cues, shares_note(image, cues)


@dataclass(frozen=True)
class Ranking:
    """A photo's own signature (:func:`~varcolor.reading.matching.target_signature` of its gray, read as
    its job reads it) and what :func:`~varcolor.reading.matching.verified` found between it and each
    photo of its pool, made where its run ranked it (a chain, :mod:`~varcolor.app.chain`): its
    job matches with them (:func:`pool_cues`) while the file is unchanged, not making them again.

    Attributes
    ----------
    stamp : tuple or None
        The photo's :func:`~varcolor.io.file_state` before its gray was read.
    target : Signature
        Its signature as a gray image matched.
    found : tuple of Geometry
        Its checks against the pool's photos, in the pool's order.
    """

    stamp: tuple | None
    target: Signature
    found: tuple[Geometry, ...]

    def holds(self, image: Path, photos: int) -> bool:
        """Whether it was made of ``image`` as the file is now, against a pool of ``photos``.

        Parameters
        ----------
        image : Path
            The photo coloured.
        photos : int
            How many photos the pool holds.
        """
        return self.stamp is not None and len(self.found) == photos and file_state(image) == self.stamp


@dataclass(frozen=True)
class ReferencePlan(CuePlan):
    """A photo's cues matched from a colour photo of the same scene, or from the best-matching
    photos of a pool (:meth:`Reference.plan`), around the user's own strokes: picklable.

    Attributes
    ----------
    references : tuple of Path
        The reference photo, or the pool's photos.
    pooled : bool
        A pool (:func:`pool_cues`), not one photo (:func:`reference_cues`), however many it holds.
    signatures : tuple of Signature or None
        The pool's signatures, in its order (None: one photo, or made when matched).
    known : tuple of (Path or None), optional
        Each pool photo's confidence map, or None (:func:`read_known_reference`).
    chained : bool
        A chain's photo (:mod:`~varcolor.app.chain`): a pool that matches nothing is no error of
        the run's input but this photo left out (:class:`Unmatched`).
    around : CuePlan or None
        The plan of the user's own cues, which win where they are (None: the reference's alone).
    headers : tuple of (ReferenceHeader or None) or None
        The pool photos' headers, read with their signatures (None: read when matched).
    ranking : Ranking or None
        The photo's own signature and checks against the pool, made where it was ranked (a chain's).
    """

    references: tuple[Path, ...] = ()
    pooled: bool = False
    signatures: tuple[Signature, ...] | None = None
    known: tuple[Path | None, ...] | None = None
    chained: bool = False
    around: CuePlan | None = None
    headers: tuple[ReferenceHeader | None, ...] | None = None
    ranking: Ranking | None = None
    gray_ahead = False

    @property
    def strokes(self) -> CuePlan | None:
        """The plan of the user's own cues (:attr:`around`; None: none)."""
        return self.around

    @property
    def files(self) -> tuple[Path, ...]:
        """The files a job reads besides its photo: the strokes' file, then the references."""
        return (*(self.around.files if self.around is not None else ()), *self.references)

    def check(self) -> None:
        """Refuse the strokes' file from its header (a reference is refused as it is read)."""
        if self.around is not None:
            self.around.check()

    def load(self, gray: np.ndarray, *, cue_image: Any = None) -> Cues:
        """The user's own cues (:attr:`around`'s) with the reference's matched around them
        (:meth:`match`: a reference that matches nothing is an error where no stroke is left).

        Parameters
        ----------
        gray, cue_image
            As :meth:`CuePlan.load` takes them (``cue_image``: the strokes' file read already).
        """
        strokes = self.around.load(gray, cue_image=cue_image) if self.around is not None else None
        cues, _ = self.match(gray, strokes)
        assert cues is not None  # matched: never None
        return cues

    def match(
        self, gray: np.ndarray, strokes: Cues | None, *, fallback: bool = False, max_memory: float | None = None
    ) -> tuple[Cues | None, str]:
        """``strokes`` with the cues matched from the reference around them
        (:func:`reference_cues`), or from the pool's best matches.

        Parameters
        ----------
        gray, strokes, fallback, max_memory
            As :meth:`CuePlan.match` takes them.

        Raises
        ------
        Unmatched
            A chain's photo that nothing in its pool matches.
        """
        if not self.pooled:
            cues = reference_cues(self.image, self.references[0], gray, strokes, self.max_pixels, fallback, max_memory)
            return cues, ""
        cues, shares = pool_cues(
            self.image,
            self.references,
            self.signatures,
            gray,
            strokes,
            self.max_pixels,
            fallback,
            refuse=not self.chained,
            max_memory=max_memory,
            known=self.known,
            headers=self.headers,
            ranking=self.ranking,
        )
        if self.chained and not cues.count:
            raise Unmatched(f"{self.image}: {UNMATCHED}")
        return cues, shares


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
    def read(cls, path: Path, gray: np.ndarray, **context: Unpack[ReadContext]) -> Cues:
        """The cues matched from the photo ``path`` for the gray image ``gray``
        (:meth:`~varcolor.Cues.from_reference`), the photo decoded reduced as far as matching allows.

        Parameters
        ----------
        path, gray, **context
            As :meth:`~varcolor.sources.base.CueSource.read` takes them; ``cue_image``, an ndarray,
            is the photo read already (:func:`read_reference`).
        """
        cue_image = context.get("cue_image")
        photo = read_reference(path, context.get("max_pixels"), gray.shape) if cue_image is None else cue_image
        return Cues.from_reference(gray, photo, name=str(path))

    @classmethod
    def plan(
        cls,
        path: str | Path,
        image: Path,
        *,
        max_pixels: int | None = None,
        edges: str = EDGES_DEFAULT,
        references: tuple[Path, ...] = (),
        pooled: bool = False,
        signatures: tuple[Signature, ...] | None = None,
        known: tuple[Path | None, ...] | None = None,
        chained: bool = False,
        around: CuePlan | None = None,
        headers: tuple[ReferenceHeader | None, ...] | None = None,
        ranking: Ranking | None = None,
        **given: Any,
    ) -> CuePlan:
        """The :class:`ReferencePlan` of the photo ``image``: matched from the photo ``path``, or
        from the pool ``references`` (``pooled``, with their ``signatures``).

        Parameters
        ----------
        path : path
            The reference photo (a pool's first).
        image : Path
            The photo the cues are for.
        max_pixels, edges
            As :meth:`~varcolor.sources.base.CueSource.plan` takes them.
        references : tuple of Path
            The pool's photos (empty: ``path`` alone).
        pooled : bool
            ``references`` are a pool (:func:`pool_cues`), however many.
        signatures : tuple of Signature, optional
            The pool's signatures (``varcolor.app.reference.pool_signatures``), made once.
        known : tuple of (Path or None), optional
            Each pool photo's confidence map (a chain's).
        chained : bool
            A chain's photo: a pool that matches nothing leaves it out (:class:`Unmatched`).
        around : CuePlan, optional
            The plan of the user's own cues, which win where they are.
        headers : tuple of (ReferenceHeader or None), optional
            The pool photos' headers, read with their signatures (:func:`read_header`).
        ranking : Ranking, optional
            The photo's own signature and checks against the pool (a chain's).
        **given
            Nothing else.
        """
        if given:
            raise TypeError(f"cue source {cls.name!r} takes no {', '.join(sorted(given))}")
        members = tuple(references) or (Path(path),)
        return ReferencePlan(
            cls.name,
            image,
            members[0],
            max_pixels,
            edges,
            members,
            pooled,
            signatures,
            known,
            chained,
            around,
            headers,
            ranking,
        )
