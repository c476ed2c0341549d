"""A reference photo open beside the studio's photo: a colour picture of the same scene whose
confident matches (:meth:`varcolor.Cues.from_reference`) become *suggestions*, cue pixels the user
sees, keeps, erases or paints over.

Suggestions are stored as what a stroke mask stores: a pixel of the full-resolution photo and an
8-bit colour whose Lab chroma is the match's (:func:`encode_chroma`, within a fraction of an ab
unit). So the saved mask carries the suggestions kept (the save's command needs no ``--reference``
and reproduces what the studio showed, erasures included), and a reopened session shows the same
ones whatever the matching code has become since.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..color import lab_to_rgb, rgb_to_lab
from ..common.raster import coordinates
from ..errors import InputError

__all__ = ["Suggestions", "encode_chroma", "match_suggestions", "reference_colours", "MAX_SUGGESTIONS"]

#: The most suggestion pixels a session may hold (the matching gives a few thousand: one per
#: CUE_STEP² reduced pixels that are trusted).
MAX_SUGGESTIONS = 200_000
#: Lightness levels tried when encoding a chroma as an 8-bit colour (mid levels first: the
#: widest gamut); the one that gives the chroma back best is kept.
_LEVELS = (60.0, 70.0, 50.0, 80.0, 40.0, 88.0, 30.0)


@dataclass(frozen=True, eq=False)
class Suggestions:
    """Suggested cue pixels: ``xs``, ``ys`` (full-resolution columns and rows) and ``rgb``
    (``n×3`` uint8, the colour a stroke mask gives them). Compared by identity."""

    xs: np.ndarray
    ys: np.ndarray
    rgb: np.ndarray

    @property
    def count(self) -> int:
        return int(self.xs.size)

    def rows(self) -> list[list[int]]:
        """``[x, y, r, g, b]`` per suggestion (a session file's ``suggestions``)."""
        return np.column_stack([self.xs, self.ys, self.rgb.astype(np.int64)]).tolist()

    @classmethod
    def from_rows(cls, rows, shape: tuple[int, int], name: str) -> Suggestions:
        """Suggestions from ``[x, y, r, g, b]`` rows (a session file's), checked against the
        photo's ``shape``; anything else is one line naming ``name``."""
        if not isinstance(rows, list) or len(rows) > MAX_SUGGESTIONS:
            raise InputError(f"{name}: suggestions must be a list of at most {MAX_SUGGESTIONS:,} [x, y, r, g, b] rows")
        if not all(
            isinstance(row, list) and len(row) == 5 and all(isinstance(v, int) and not isinstance(v, bool) for v in row)
            for row in rows
        ):
            raise InputError(f"{name}: each suggestion must be five integers [x, y, r, g, b]")
        table = np.array(rows, np.int64).reshape(-1, 5)
        height, width = shape
        if np.any((table[:, 0] < 0) | (table[:, 0] >= width) | (table[:, 1] < 0) | (table[:, 1] >= height)):
            raise InputError(f"{name}: a suggestion lies outside the {width}×{height} photo")
        if np.any((table[:, 2:] < 0) | (table[:, 2:] > 255)) or np.any(table[:, 2:].max(axis=1, initial=0) == 0):
            raise InputError(f"{name}: a suggestion's colour must be three numbers 0-255, not black")
        return cls(table[:, 0].astype(np.int32), table[:, 1].astype(np.int32), table[:, 2:].astype(np.uint8))


def encode_chroma(ab: np.ndarray) -> np.ndarray:
    """8-bit sRGB colours (``n×3`` uint8, never black) whose Lab chroma is nearest ``ab`` (``n×2``):
    a stroke mask's colour paints only its chroma, so the lightness is free; of the levels tried the
    one whose 8-bit colour gives ``ab`` back best is kept.

    Examples
    --------
    >>> ab = np.array([[40.0, 30.0], [-20.0, -35.0], [0.0, 0.0]])
    >>> back = rgb_to_lab(encode_chroma(ab)[None] / 255.0)[0, :, 1:]
    >>> bool(np.abs(back - ab).max() < 1.0)
    True
    """
    ab = np.asarray(ab, np.float64).reshape(-1, 2)
    best = np.zeros((len(ab), 3), np.uint8)
    error = np.full(len(ab), np.inf)
    for level in _LEVELS:
        lab = np.concatenate([np.full((len(ab), 1), level), ab], axis=1)[None]
        rgb = np.clip(np.round(lab_to_rgb(lab)[0] * 255), 1, 255).astype(np.uint8)
        back = rgb_to_lab(rgb[None] / 255.0)[0, :, 1:]
        miss = np.hypot(*(back - ab).T)
        better = miss < error - 1e-9
        best[better], error[better] = rgb[better], miss[better]
    return best


def match_suggestions(gray: np.ndarray, full_shape: tuple[int, int], reference: np.ndarray, name: str) -> Suggestions:
    """The suggestions of ``reference`` (``h×w×3`` in [0, 1]) for the live copy's ``gray``, at the
    full-resolution photo's pixels (``full_shape``): each matched cue's pixel, mapped to the photo's
    pixel whose centre it covers, with its chroma as an 8-bit colour (:func:`encode_chroma`).

    Matched on the live copy: the matching reduces both photos to about 60,000 pixels whatever
    their size (:data:`varcolor.reading.matching.WORK_PIXELS`), and a 40 MP photo's gray is not kept."""
    from ..cues import Cues

    cues = Cues.from_reference(gray, reference, name=name)
    rows, cols = coordinates(cues.mask)
    height, width = gray.shape
    ys = np.clip(np.round((rows + 0.5) * full_shape[0] / height - 0.5), 0, full_shape[0] - 1).astype(np.int32)
    xs = np.clip(np.round((cols + 0.5) * full_shape[1] / width - 0.5), 0, full_shape[1] - 1).astype(np.int32)
    return Suggestions(xs, ys, encode_chroma(cues.ab[rows, cols]))


def reference_colours(
    lab: np.ndarray | None,
    lightness: float,
    near: np.ndarray,
    k: int = 6,
    spacing: float = 15.0,
    band: float = 12.0,
) -> list[tuple[float, float, float]]:
    """Up to ``k`` ``(a, b, share)`` suggested at a place whose lightness is ``lightness``: first the
    chroma of the suggestions nearest it (``near``, ``n×2``, nearest first), then the reference's
    commonest colours among its pixels of about that lightness (``lab``: the reference reduced,
    ``h×w×3``; within ``band`` of it, histogrammed in bins of 10 ab units), each at least
    ``spacing`` ab units from the ones before.

    Examples
    --------
    >>> lab = np.zeros((10, 10, 3)); lab[..., 0] = 50; lab[:, :6, 1:] = (50, 30); lab[:, 6:, 1:] = (-30, 10)
    >>> [(round(a), round(b)) for a, b, _ in reference_colours(lab, 50.0, np.zeros((0, 2)))]
    [(50, 30), (-30, 10)]
    """
    chosen: list[tuple[float, float, float]] = []

    def add(a: float, b: float, share: float) -> None:
        if len(chosen) < k and all(np.hypot(a - a0, b - b0) >= spacing for a0, b0, _ in chosen):
            chosen.append((float(a), float(b), float(share)))

    for index, (a, b) in enumerate(np.asarray(near, np.float64).reshape(-1, 2)):
        add(a, b, 1.0 / (index + 1))
    if lab is not None and len(chosen) < k:
        pixels = lab.reshape(-1, 3)
        close = pixels[np.abs(pixels[:, 0] - lightness) <= band]
        if len(close) < 50:  # no pixel of about that lightness: the nearest ones
            close = pixels[np.argsort(np.abs(pixels[:, 0] - lightness))[:500]]
        bins = np.clip(np.floor((close[:, 1:] + 110) / 10), 0, 21).astype(np.int64)
        code = bins[:, 0] * 22 + bins[:, 1]
        counts = np.bincount(code, minlength=22 * 22)
        for bin_code in np.argsort(counts)[::-1]:
            if counts[bin_code] == 0 or len(chosen) == k:
                break
            members = close[code == bin_code]
            a, b = members[:, 1:].mean(axis=0)
            add(a, b, counts[bin_code] / len(close))
    return chosen
