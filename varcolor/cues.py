"""Colour cues: which pixels carry a known chroma, and every way to make them.

A :class:`Cues` holds a boolean ``mask`` and the Lab chroma ``ab`` at the masked pixels. Cues come
from a scribbled ("marked") copy of the gray image, a stroke mask, a points file, or a sampler that
reads the true colours of a colour image (for benchmarks and encoders).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .color import lab_to_rgb, lightness_of_gray, rgb_to_lab, to_gray
from .common.raster import gather
from .errors import InputError, check_unit_range, real_array
from .reading.marks import (
    AB_LIMIT,
    EDGES,
    EDGES_DEFAULT,
    HALF_PAINT,
    MARKED_NOISE,
    MARKED_THRESHOLD,
    Marks,
    _box_of,
    check_edges,
    image_shape_of,
    layer_cues,
    marked_cues,
    mask_cues,
    same_aspect,
)
from .reading.pointfiles import points_cues

if TYPE_CHECKING:
    from .reading.matching import PoolMatch, Signature

__all__ = [
    "Cues",
    "sample_random",
    "sample_grid",
    "sample_ideepcolor",
    "MARKED_THRESHOLD",
    "EDGES",
    "EDGES_DEFAULT",
    "same_aspect",
    "check_edges",
    "image_shape_of",
    "AB_LIMIT",
    "HALF_PAINT",
    "unmatched_note",
]


def _kept_float(array: np.ndarray, copy: bool) -> np.ndarray:
    """``array`` as float32 if it is float32, else as float64: float32 holds a cue's ab and
    lightness to 1e-5 (a 16-bit level moves ab by about 1e-3), in half the memory."""
    return array.astype(array.dtype if array.dtype == np.float32 else np.float64, copy=copy)


@dataclass(frozen=True, eq=False)
class Cues:
    """Known chroma at some pixels.

    Parameters
    ----------
    mask : ndarray of bool, ``H×W``
        True where the pixel carries a cue.
    ab : ndarray, ``H×W×2``
        CIE Lab chroma (a, b) of the cues; read only where ``mask`` is True.
    weight : ndarray, ``H×W``, optional
        Confidence scaling soft data terms (default 1 everywhere).
    lightness : ndarray, ``H×W``, optional
        The CIE L the cue colour was given at (e.g. the marked pixel's own lightness; NaN where
        unknown), so the exact cue colour can be rebuilt.
    note : str, optional
        What reading the cues did that their user should know (marks scaled, blended edge pixels
        read as partial paint); "" when nothing.
    points : ndarray of bool, ``H×W``, optional
        The cue pixels that are point hints, not strokes: a dot of known colour ("this colour here",
        as ideepcolor's hints and a points file give).

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((4, 4), bool); mask[0, 0] = True
    >>> ab = np.zeros((4, 4, 2)); ab[0, 0] = (20.0, -30.0)
    >>> Cues(mask, ab).count
    1
    """

    mask: np.ndarray
    ab: np.ndarray
    weight: np.ndarray | None = None
    lightness: np.ndarray | None = None
    note: str = field(default="", compare=False)
    #: The reference photos these cues were matched from, each with its share of them, the largest first:
    #: ``(name, share)`` pairs (:meth:`from_reference`, :meth:`from_references`); empty otherwise.
    references: tuple[tuple[str, float], ...] = field(default=(), compare=False)
    #: The reference photos these cues were to be matched from that matched too little of the image
    #: to give any (another scene).
    unmatched: tuple[str, ...] = field(default=(), compare=False)
    points: np.ndarray | None = None
    #: False: the mask and arrays of a kept float type are taken as they are, not copied.
    copy: InitVar[bool] = True

    def __post_init__(self, copy: bool = True) -> None:
        mask = np.asarray(self.mask)
        if mask.ndim != 2 or mask.dtype != np.bool_:
            raise InputError(f"cue mask must be an H×W boolean array, got {mask.dtype} {mask.shape}")
        image_shape_of(mask.shape)  # before any copy of a view as large as no image is
        if copy:  # the caller's mask reused for the next stroke rewrote a colorizer's undo history
            mask = mask.copy()
        ab = _kept_float(real_array(self.ab, "cue ab"), copy)
        if ab.shape != mask.shape + (2,):
            raise InputError(f"cue ab must have shape {mask.shape + (2,)}, got {ab.shape}")
        # The cue pixels found once, by flat index: a scan's mask is read once, not per check (a
        # large mask indexing three arrays was a share of each stroke in Krita's Live).
        at = np.flatnonzero(mask)
        values = gather(ab, mask, at)
        if not np.all(np.isfinite(values)):
            raise InputError("cue ab values must be finite")
        if np.any(np.abs(values) > AB_LIMIT):
            raise InputError(f"cue ab values must lie within ±{AB_LIMIT:g}, got {np.abs(values).max():g}")
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "ab", ab)
        for name in ("weight", "lightness"):
            value = getattr(self, name)
            if value is None:
                continue
            value = _kept_float(real_array(value, f"cue {name}"), copy)
            if value.shape != mask.shape:
                raise InputError(f"cue {name} must have shape {mask.shape}, got {value.shape}")
            object.__setattr__(self, name, value)
        weight = None if self.weight is None else gather(self.weight, mask, at)
        if weight is not None and not np.all(np.isfinite(weight) & (weight >= 0)):
            raise InputError("cue weights must be finite and non-negative")
        if self.lightness is not None and np.any(np.isinf(gather(self.lightness, mask, at))):  # NaN: unknown, allowed
            raise InputError("cue lightness must be finite (or NaN where unknown) at the cue pixels")
        if self.points is not None:
            points = np.asarray(self.points)
            if points.shape != mask.shape or points.dtype != np.bool_:
                raise InputError(f"cue points must be an {mask.shape} boolean array, got {points.dtype} {points.shape}")
            object.__setattr__(self, "points", points & mask)

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the image the cues belong to."""
        return self.mask.shape

    @property
    def count(self) -> int:
        """Number of cue pixels."""
        return int(np.count_nonzero(self.mask))  # (ten times quicker than a bool sum)

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> Cues:
        """No cues at all on an image of ``shape``.

        Parameters
        ----------
        shape : tuple of int
            ``(height, width)`` of the image.
        """
        shape = image_shape_of(shape)
        return cls(np.zeros(shape, bool), np.zeros(shape + (2,)))

    @classmethod
    def from_marked(
        cls,
        gray: np.ndarray,
        marked: np.ndarray,
        threshold: float = MARKED_THRESHOLD,
        *,
        noise: float = MARKED_NOISE,
        edges: str = EDGES_DEFAULT,
    ) -> Cues:
        """Cues from a scribbled copy of the gray image (Levin's convention).

        A pixel is a stroke where ``Σ_c |marked_c - gray_c| > threshold`` (RGB in [0, 1]), unless that
        is noise (``noise``). Transparent pixels of an RGBA marked image are never cues. The marked image
        must be lossless: JPEG noise alone makes cues of most pixels.

        Parameters
        ----------
        gray : ndarray, ``H×W`` or ``H×W×3``
            The gray image, RGB in [0, 1].
        marked : ndarray, ``h×w×3`` or ``h×w×4``
            The scribbled copy, RGB(A) in [0, 1]; the gray image's size or the same aspect ratio.
        threshold : float
            Levin's difference threshold (sum over the RGB channels).
        noise : float
            Largest per-channel difference taken for the gray image's chroma noise.
        edges : {"unmix", "exact"}
            How blended pixels at the strokes' edges are read: ``unmix``, as partial paint (a cue in
            the paint's colour where at least :data:`HALF_PAINT` of it); ``exact``, each in its own colour.

        Returns
        -------
        Cues

        Raises
        ------
        InputError
            A gray or marked image that is not RGB in [0, 1] (NaN, 8-bit levels), a marked image of
            another aspect ratio, one that is not the photo with strokes on it, an unknown ``edges``.

        Examples
        --------
        >>> import numpy as np
        >>> gray = np.full((3, 3), 0.5)
        >>> marked = np.repeat(gray[..., None], 3, axis=2); marked[1, 1] = (0.8, 0.3, 0.3)
        >>> Cues.from_marked(gray, marked).mask.sum()
        np.int64(1)
        """
        return cls._of(marked_cues(gray, marked, threshold, noise=noise, edges=edges))

    @classmethod
    def from_mask(
        cls, strokes: np.ndarray, shape: tuple[int, int] | None = None, *, edges: str = EDGES_DEFAULT
    ) -> Cues:
        """Cues from a stroke mask: every pixel that is not black (nor transparent) carries its colour.

        The mask must be lossless: JPEG ringing around strokes makes cues of near-black pixels. With
        ``edges="unmix"`` antialiased edges, which blend the paint towards black, are read as partial
        paint as :meth:`from_marked` reads them over the photo (``marked = α·paint``).

        Parameters
        ----------
        strokes : ndarray, ``h×w×3`` or ``h×w×4``
            Colour strokes on black (or on a transparent background).
        shape : (int, int), optional
            The photo's ``(H, W)``: a mask of another size with the same aspect ratio is scaled to
            it smoothly and its strokes read after; default the mask's own size.
        edges : {"unmix", "exact"}
            How blended pixels at the strokes' edges are read (:meth:`from_marked`).

        Returns
        -------
        Cues

        Raises
        ------
        InputError
            A mask that is not RGB(A) in [0, 1] (NaN, 8-bit levels), one of another aspect ratio
            than ``shape``, an unknown ``edges``.
        """
        return cls._of(mask_cues(strokes, shape, edges=edges))

    @classmethod
    def from_layer(cls, levels: np.ndarray, *, edges: str = EDGES_DEFAULT, channels: str = "RGBA") -> Cues:
        """:meth:`from_mask` of a paint program's strokes layer given as its 8- or 16-bit sRGB
        levels (``H×W×4``, uint8 or uint16): the same cues as of the layer's floats
        (``levels / 255`` or ``/ 65535``, as RGBA), read without making them.

        Parameters
        ----------
        levels : ndarray of uint8 or uint16, ``H×W×4``
            The layer, its channels in the order ``channels`` names.
        edges : {"unmix", "exact"}
            How partly transparent pixels are read (:meth:`from_mask`).
        channels : str
            The layer's channels in its own order: ``"RGBA"`` (default), or ``"BGRA"`` as Krita
            and Qt keep 8-bit layers in memory (read as they lie, not copied into RGBA first).
        """
        return cls._of(layer_cues(levels, edges=edges, channels=channels))

    @classmethod
    def from_points(cls, source: str | os.PathLike | list[dict] | dict, shape: tuple[int, int]) -> Cues:
        """Cues from a points file (JSON or CSV), a list of point records or a JSON file's content.

        Each point has ``y, x`` (pixel row and column; a fractional one is rounded to the
        nearest pixel) and either ``a, b`` (Lab chroma, each within ±:data:`POINT_AB_LIMIT`:
        sRGB's gamut ends inside it) or ``r, g, b``.

        Parameters
        ----------
        source : path, list of dict or dict
            A ``.json`` or ``.csv`` points file, the point records themselves, or a JSON file's
            content (``{"points": [...]}``, with ``width``, ``height`` and ``as`` where given).
        shape : tuple of int
            ``(height, width)`` of the image the points are on; a point outside it is refused.

        Returns
        -------
        Cues

        Raises
        ------
        InputError
            A file that cannot be read or parsed, a point without ``y, x`` and a colour, one outside
            the image, a chroma beyond :data:`POINT_AB_LIMIT`, 8-bit sRGB out of 0–255.

        Examples
        --------
        >>> Cues.from_points([{"y": 1, "x": 2, "a": 10, "b": -5, "radius": 1}], shape=(4, 4)).count
        5
        """
        marks = points_cues(source, shape)
        return cls(marks.mask, marks.ab, lightness=marks.lightness, note=marks.note, copy=False, points=marks.points)

    @classmethod
    def _of(cls, marks: Marks) -> Cues:
        """The cues of marks read from a file (:mod:`varcolor.reading.marks`), their arrays taken as they are."""
        return cls(marks.mask, marks.ab, lightness=marks.lightness, note=marks.note, copy=False)

    @classmethod
    def from_reference(
        cls,
        gray: np.ndarray,
        reference: np.ndarray,
        *,
        strokes: Cues | None = None,
        min_confidence: float | None = None,
        name: str = "reference",
    ) -> Cues:
        """Cues matched from a colour photo of the same scene (:mod:`varcolor.reading.matching`).

        Each cue's ``weight`` is its match's confidence (0–1); where nothing in the reference
        matches there is no cue.

        Parameters
        ----------
        gray : ndarray
            ``H×W`` gray image in [0, 1].
        reference : ndarray
            ``h×w×3`` colour photo in [0, 1], of any size and aspect ratio.
        strokes : Cues, optional
            The user's own cues: they win where they are, and no matched cue stays within
            :data:`~varcolor.reading.matching.CLEARANCE` pixels of them.
        min_confidence : float, optional
            The confidence a match needs to become a cue (default
            :data:`~varcolor.reading.matching.MIN_CONFIDENCE`).
        name : str
            How messages name the reference (its file).

        Returns
        -------
        Cues
            The matched cues (with ``strokes``, merged under them).

        Raises
        ------
        InputError
            A gray image that is not ``H×W`` in [0, 1] or too small to match against, a reference
            that is no colour photo in [0, 1], ``strokes`` of another size.

        Examples
        --------
        >>> import numpy as np
        >>> from skimage import data
        >>> photo = data.chelsea()[:, :400] / 255.0
        >>> gray = photo.mean(axis=2)
        >>> cues = Cues.from_reference(gray, data.chelsea()[:, 50:] / 255.0)
        >>> cues.count > 100, float(cues.weight[cues.mask].min()) >= 0.6
        (True, True)
        >>> Cues.from_reference(gray, data.rocket() / 255.0, name="rocket").unmatched  # another scene
        ('rocket',)
        """
        from .reading.matching import MIN_CONFIDENCE, match_reference, outside

        gray = to_gray(real_array(gray, "gray"))
        threshold = MIN_CONFIDENCE if min_confidence is None else min_confidence
        mask, ab, confidence = match_reference(gray, reference, min_confidence=threshold, name=name)
        _check_strokes(strokes, mask.shape)
        if strokes is not None:
            mask &= outside(strokes.mask)
        found = bool(mask.any())
        matched = cls(
            mask,
            ab,
            weight=confidence,
            copy=False,
            points=mask if np.shape(reference)[-1] == 3 else None,  # a photo with an alpha: a chain's passed colour
            references=((name, 1.0),) if found else (),
            unmatched=() if found else (name,),
        )
        return matched if strokes is None else matched.merged(strokes)

    @classmethod
    def from_references(
        cls,
        gray: np.ndarray,
        references: Sequence[np.ndarray | Callable[[], np.ndarray]],
        *,
        strokes: Cues | None = None,
        names: Sequence[str] | None = None,
        signatures: Sequence[Signature] | None = None,
        verified_only: bool = False,
    ) -> Cues:
        """Cues matched from the best of several colour photos (a pool:
        :func:`varcolor.reading.matching.match_pool`): ranked, verified, the best (up to three)
        combined where they agree, ``weight`` their confidence, around the user's ``strokes``.

        Parameters
        ----------
        gray : ndarray
            ``H×W`` gray image in [0, 1].
        references : sequence of ndarray or callable
            ``h×w×3`` colour photos in [0, 1] (or callables returning one, read only if matched);
            at least one.
        strokes : Cues, optional
            The user's own cues: they win where they are (as :meth:`from_reference`).
        names : sequence of str, optional
            How messages and :attr:`references` name the photos, one a photo (default
            "reference 1", …).
        signatures, verified_only :
            As for :func:`varcolor.reading.matching.match_pool` (``signatures``: one a photo).

        Returns
        -------
        Cues
            The matched cues (with ``strokes``, merged under them).

        Raises
        ------
        InputError
            No reference, ``names`` or ``signatures`` not one a reference, a gray image that is not
            ``H×W`` in [0, 1] or too small to match against.

        Examples
        --------
        >>> from skimage import data
        >>> photo = data.chelsea() / 255.0
        >>> cues = Cues.from_references(photo[:, :400].mean(axis=2), [data.rocket() / 255.0, photo[:, 50:]],
        ...                             names=["rocket", "cat"])
        >>> cues.count > 100, cues.references
        (True, (('cat', 1.0),))
        """
        from .reading.matching import check_target, match_pool

        gray = _matched_gray(gray)
        if isinstance(references, (str, bytes, os.PathLike, np.ndarray)) or not hasattr(references, "__len__"):
            raise InputError(f"references: a list of colour photos, got a {type(references).__name__}")
        if not len(references):
            raise InputError("references: no reference photo given (give at least one)")
        for given, what in ((names, "names"), (signatures, "signatures")):
            if given is not None and len(given) != len(references):
                raise InputError(f"{what}: {len(given)} given for {len(references)} references (one a reference)")
        check_target(gray.shape, "gray")
        _check_strokes(strokes, gray.shape)
        names = list(names) if names is not None else [f"reference {i + 1}" for i in range(len(references))]
        matched = match_pool(gray, references, signatures=signatures, names=names, verified_only=verified_only)
        return cls._pooled(*matched, names=names, strokes=strokes, points=matched[0])  # photos known everywhere

    @classmethod
    def from_pool(cls, matched: PoolMatch, *, strokes: Cues | None = None) -> Cues:
        """The cues of a pool matched a photo at a time (:class:`varcolor.reading.matching.PoolMatch`,
        whose caller read each photo it wanted), around the user's ``strokes``, as
        :meth:`from_references` gives them.

        Parameters
        ----------
        matched : PoolMatch
            The pool's match, done (no photo :meth:`~varcolor.reading.matching.PoolMatch.wanted`).
        strokes : Cues, optional
            The user's own cues: they win where they are (as :meth:`from_reference`).

        Returns
        -------
        Cues
            The matched cues (with ``strokes``, merged under them).

        Raises
        ------
        InputError
            ``strokes`` of another size.

        Examples
        --------
        >>> from skimage import data
        >>> from varcolor.reading.matching import PoolMatch, signature
        >>> photo = data.chelsea() / 255.0
        >>> pool = [data.rocket() / 255.0, photo[:, 50:]]
        >>> matched = PoolMatch(photo[:, :400].mean(axis=2), [signature(p) for p in pool], names=["rocket", "cat"])
        >>> while (index := matched.wanted()) is not None:
        ...     matched.add(pool[index])
        >>> Cues.from_pool(matched).references
        (('cat', 1.0),)
        """
        _check_strokes(strokes, matched.shape)
        return cls._pooled(*matched.result(), names=matched.names, strokes=strokes, points=matched.points)

    @classmethod
    def _pooled(
        cls,
        mask: np.ndarray,
        ab: np.ndarray,
        weight: np.ndarray,
        shares: list[tuple[int, int]],
        *,
        names: Sequence[str],
        strokes: Cues | None,
        points: np.ndarray | None = None,
    ) -> Cues:
        """A pool's match (:func:`~varcolor.reading.matching.match_pool`'s values) as cues, with the
        share each photo gave, around ``strokes``."""
        from .reading.matching import outside

        total = sum(count for _, count in shares)
        # The largest share first (the pool's rank breaks ties): what a report lists first gave most.
        ranked = sorted(shares, key=lambda share: -share[1])
        shared = tuple((names[index], count / total) for index, count in ranked) if total else ()
        if strokes is not None:
            mask &= outside(strokes.mask)
        matched = cls(
            mask,
            ab,
            weight=weight,
            copy=False,
            references=shared,
            unmatched=() if total else tuple(names),
            points=points,
        )
        return matched if strokes is None or not strokes.count else matched.merged(strokes)

    def merged(self, other: Cues, out: np.ndarray | None = None) -> Cues:
        """These cues with ``other`` added; where both mark a pixel, ``other`` wins.

        Parameters
        ----------
        other : Cues
            The cues added.
        out : ndarray, optional
            Where the merged ``ab`` is written: an array of this set's ``ab`` shape and type that
            nothing else refers to.
        """
        if other.shape != self.shape:
            raise InputError(f"cannot merge cues of size {other.shape} into cues of size {self.shape}")
        if out is not None and (out.shape != self.ab.shape or out.dtype != self.ab.dtype or out is self.ab):
            raise ValueError(f"out must be a new {self.ab.dtype} array of shape {self.ab.shape}")
        mask = self.mask | other.mask
        ab = self.ab.copy() if out is None else out  # a copy and a scatter: a stroke marks few pixels
        if out is not None:
            np.copyto(ab, self.ab)
        box = _box_of(other.mask)
        if box is not None:  # the scatter inside the stroke's box: not two reads of a whole mask
            ab[box][other.mask[box]] = other.ab[box][other.mask[box]]
        # Every array here is new, and made of two checked cue sets' values (ab: in this set's
        # float type): taken as they are, not checked again (a large mask's check costs each edit).
        merged = object.__new__(Cues)
        for name, value in (
            ("mask", mask),
            ("ab", ab),
            ("weight", _overlay_field(self, other, "weight", 1.0, box)),
            ("lightness", _overlay_field(self, other, "lightness", np.nan, box)),
            ("note", ""),
            ("references", self.references + other.references),
            ("unmatched", self.unmatched + other.unmatched),
            ("points", _merged_points(self, other)),
        ):
            object.__setattr__(merged, name, value)
        return merged

    def overlay(self, gray: np.ndarray) -> np.ndarray:
        """An RGB picture of the cues drawn over the gray image (for figures and ``--plot``).

        Parameters
        ----------
        gray : ndarray
            The gray image the cues are on (``H×W``, or a colour image read as its gray).
        """
        gray = to_gray(gray)
        lightness = lightness_of_gray(gray)
        if self.lightness is not None:
            lightness = np.where(self.mask & np.isfinite(self.lightness), self.lightness, lightness)
        lab = np.concatenate([lightness[..., None], np.where(self.mask[..., None], self.ab, 0.0)], axis=2)
        return lab_to_rgb(lab)


def unmatched_note(names: Sequence[str]) -> str:
    """What is said of the references ``names`` that matched too little to give a cue
    (:attr:`Cues.unmatched`; :func:`~varcolor.colorize`'s refusal): one reference, or a pool.

    Parameters
    ----------
    names : sequence of str
        The references that matched too little.

    Examples
    --------
    >>> unmatched_note(["sea.jpg"])
    'sea.jpg: matches too little of the gray image to give colour (another scene?)'
    """
    if len(names) == 1:
        return f"{names[0]}: matches too little of the gray image to give colour (another scene?)"
    return f"no reference of {len(names)} ({', '.join(names)}) matches enough of the gray image to give colour"


def _matched_gray(gray) -> np.ndarray:
    """The gray image a reference is matched against, as :func:`~varcolor.reading.matching.match_reference`
    checks it (``H×W``, or ``H×W×3`` read as its gray; in [0, 1])."""
    gray = real_array(gray, "gray")
    if gray.ndim == 3 and gray.shape[2] in (3, 4):
        gray = to_gray(gray)
    if gray.ndim != 2:
        raise InputError(f"gray must be an H×W image, got shape {gray.shape}")
    check_unit_range(gray, "gray", " (floats in [0, 1]; integer levels: divide by their maximum)")
    return gray


def _check_strokes(strokes: Cues | None, shape: tuple[int, ...]) -> None:
    """Refuse ``strokes`` that are no cues of an image of ``shape``, in one line naming them."""
    if strokes is None:
        return
    if not isinstance(strokes, Cues):
        raise InputError(f"strokes must be a varcolor.Cues, not {type(strokes).__name__}")
    if strokes.shape != tuple(shape[:2]):
        raise InputError(
            f"strokes: cues of a {strokes.shape[1]}×{strokes.shape[0]} image for a {shape[1]}×{shape[0]} "
            "gray image (sizes as width×height)"
        )


def _overlay_field(
    first: Cues, second: Cues, name: str, default: float, box: tuple[slice, slice] | None
) -> np.ndarray | None:
    """``first``'s field ``name`` with ``second``'s written where ``second`` marks (inside its
    ``box``, :meth:`Cues.merged`), ``default`` for a set without it; None where neither has it."""
    mine, theirs = getattr(first, name), getattr(second, name)
    if mine is None and theirs is None:
        return None
    if mine is not None and theirs is None and mine.dtype == np.float64:
        # A stroke without the field over pixels that hold its default: the field is unchanged,
        # shared, read-only (not a 12 MP copy on every studio stroke).
        held = mine[box][second.mask[box]] if box is not None else mine[:0]
        if np.isnan(held).all() if np.isnan(default) else (held == default).all():
            shared = mine.view()
            shared.flags.writeable = False
            return shared
    out = np.full(first.shape, default) if mine is None else np.array(mine, np.float64)
    if box is not None:  # a copy and a scatter in the box: not a full fill and select per edit
        inside = second.mask[box]
        out[box][inside] = default if theirs is None else np.asarray(theirs[box], np.float64)[inside]
    return out


def _merged_points(first: Cues, second: Cues) -> np.ndarray | None:
    """The point cues of ``first`` merged with ``second``: the second's cues are what they are."""
    if first.points is None and second.points is None:
        return None
    mine = np.zeros(first.shape, bool) if first.points is None else first.points & ~second.mask
    return mine if second.points is None else mine | second.points


def _true_ab(rgb: np.ndarray) -> np.ndarray:
    rgb = real_array(rgb, "rgb")
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise InputError(f"samplers read a colour image (H×W×3), got shape {rgb.shape}")
    rgb = np.asarray(rgb[..., :3], dtype=np.float64)
    check_unit_range(rgb, "rgb (the colour image the cues are sampled from)", " (use varcolor.read_image)")
    return rgb_to_lab(rgb)[..., 1:]


def _patch_cues(ab_true: np.ndarray, corners: np.ndarray, patch: int) -> Cues:
    """Cues filling each ``patch×patch`` square at ``corners`` (top-left) with its mean true chroma;
    later patches overwrite earlier ones where they overlap."""
    height, width = ab_true.shape[:2]
    if patch < 1 or patch > min(height, width):
        raise InputError(f"patch must be between 1 and {min(height, width)}, got {patch}")
    mask = np.zeros((height, width), bool)
    ab = np.zeros((height, width, 2))
    for y, x in corners:
        block = (slice(y, y + patch), slice(x, x + patch))
        ab[block] = ab_true[block].mean(axis=(0, 1))
        mask[block] = True
    return Cues(mask, ab, points=mask)


def sample_random(rgb: np.ndarray, n: int, patch: int = 1, rng=None) -> Cues:
    """``n`` cues at uniformly random places: ``patch×patch`` squares of the mean true chroma.

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
        The colour original (sRGB in [0, 1]) whose chroma the cues take.
    n : int
        How many squares (at least 0; they may overlap).
    patch : int
        Their side in pixels.
    rng : int or numpy.random.Generator, optional
        The random places' seed or generator.

    Examples
    --------
    >>> import numpy as np
    >>> sample_random(np.random.default_rng(0).random((32, 32, 3)), n=5, rng=0).count <= 5
    True
    """
    ab_true = _true_ab(rgb)
    height, width = ab_true.shape[:2]
    if n < 0:
        raise InputError(f"n must be >= 0, got {n}")
    generator = np.random.default_rng(rng)
    corners = np.stack(
        [generator.integers(0, height - patch + 1, n), generator.integers(0, width - patch + 1, n)], axis=1
    )
    return _patch_cues(ab_true, corners, patch)


def sample_grid(rgb: np.ndarray, step: int, offset: int | None = None, patch: int = 1) -> Cues:
    """Cues on a regular grid every ``step`` pixels (first at ``offset``, default ``step // 2``).

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
        The colour original (sRGB in [0, 1]) whose chroma the cues take.
    step : int
        Pixels between two cues, down and across (at least 1).
    offset : int, optional
        Where the first lies, in ``[0, step)``, on both axes.
    patch : int
        Each cue's side in pixels (a square of the mean true chroma).
    """
    ab_true = _true_ab(rgb)
    height, width = ab_true.shape[:2]
    if step < 1:
        raise InputError(f"step must be >= 1, got {step}")
    offset = step // 2 if offset is None else offset
    if not 0 <= offset < step:
        raise InputError(f"offset must be in [0, step), got {offset}")
    ys = np.arange(offset, height - patch + 1, step)
    xs = np.arange(offset, width - patch + 1, step)
    corners = np.stack(np.meshgrid(ys, xs, indexing="ij"), axis=-1).reshape(-1, 2)
    return _patch_cues(ab_true, corners, patch)


def sample_ideepcolor(rgb: np.ndarray, n: int, patch: int = 6, rng=None) -> Cues:
    """Hints drawn as in the published ideepcolor evaluation (Zhang et al. 2017, ``test_sweep.py``).

    Each hint is a ``patch×patch`` square filled with the mean true ab over it; its top-left
    corner is drawn per axis from N((S − P + 1)/2, (S − P + 1)/4), S the image side, and clipped
    to [0, S − P]; row first, then column.

    Parameters
    ----------
    rgb : ndarray
        The colour image the hints are taken from: ``H×W×3`` sRGB floats in [0, 1] (an 8-bit
        image divided by 255, or :func:`varcolor.read_image`'s); values outside it are refused.
    n : int
        Number of hints, 0 to the image's pixels.
    patch : int
        Side of each hint's square (default 6, the protocol's).
    rng : None, int, sequence of int, or numpy.random.Generator
        What :func:`numpy.random.default_rng` takes: None (fresh entropy), a seed (an int, or a list
        of ints such as ``[seed, image_index, n]``, as ``varcolor bench`` seeds each draw).

    Examples
    --------
    >>> import skimage.data
    >>> cues = sample_ideepcolor(skimage.data.astronaut() / 255.0, n=10, rng=0)
    >>> 0 < cues.count <= 10 * 36
    True
    """
    ab_true = _true_ab(rgb)
    height, width = ab_true.shape[:2]
    if not 0 <= n <= height * width:  # more hints than pixels: no sweep means that, and the draw never ends
        raise InputError(f"n must be between 0 and the image's {height * width} pixels, got {n}")
    if patch < 1 or patch > min(height, width):
        raise InputError(f"patch must be between 1 and {min(height, width)}, got {patch}")
    generator = np.random.default_rng(rng)
    corners = np.array(
        [[ideepcolor_offset(generator, side, patch) for side in (height, width)] for _ in range(n)], dtype=np.int64
    ).reshape(n, 2)
    return _patch_cues(ab_true, corners, patch)


def ideepcolor_offset(generator: np.random.Generator, side: int, patch: int) -> int:
    """One coordinate of a hint's top-left corner under the ideepcolor rule:
    N((S − P + 1)/2, (S − P + 1)/4) clipped to [0, S − P].

    Parameters
    ----------
    generator : numpy.random.Generator
        The draw's generator (advanced by one normal draw).
    side, patch : int
        The image's side S along this axis and the hint's side P, in pixels.
    """
    span = side - patch + 1
    return int(np.clip(generator.normal(span / 2.0, span / 4.0), 0, side - patch))
