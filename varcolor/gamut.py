"""The quantized ab gamut of ideepcolor: 10-unit chroma bins that sRGB colours can reach."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .color import rgb_to_lab

__all__ = ["BIN_STEP", "BIN_COUNT", "GlobalHints", "ab_bins", "ab_histogram", "mean_saturation", "transport"]

BIN_STEP = 10.0
#: Number of in-gamut bins (the length of every global histogram).
BIN_COUNT = 313


# Bins of the published table that the rule above does not produce (no sRGB colour is that close).
_PUBLISHED_EXTRA = ((40, 90), (100, -90), (100, -10), (100, 0))


@lru_cache(maxsize=1)
def _bins(samples: int = 257) -> np.ndarray:
    t = np.linspace(0.0, 1.0, samples)
    u, v = (g.ravel() for g in np.meshgrid(t, t, indexing="ij"))
    faces = []
    for axis in range(3):
        for value in (0.0, 1.0):
            face = np.empty((u.size, 3))
            face[:, axis] = value
            face[:, [k for k in range(3) if k != axis]] = np.stack([u, v], axis=1)
            faces.append(face)
    ab = rgb_to_lab(np.concatenate(faces)[:, None, :])[:, 0, 1:] / BIN_STEP
    # Every grid point strictly within one step of a reachable chroma, in both coordinates.
    codes = [
        (round_a(ab[:, 0]).astype(np.int64) + 64) * 128 + round_b(ab[:, 1]).astype(np.int64) + 64
        for round_a in (np.floor, np.ceil)
        for round_b in (np.floor, np.ceil)
    ]
    codes.append(np.array([(a // 10 + 64) * 128 + b // 10 + 64 for a, b in _PUBLISHED_EXTRA]))
    unique = np.unique(np.concatenate(codes))  # sorted by a, then b
    centres = np.stack([unique // 128 - 64, unique % 128 - 64], axis=1) * BIN_STEP
    centres.setflags(write=False)
    return centres


def ab_bins() -> np.ndarray:
    """The ``Q×2`` (a, b) centres of the in-gamut bins (Q = 313), sorted by a, then b."""
    bins = _bins()
    if len(bins) != BIN_COUNT:  # only a changed Lab conversion could do this
        raise RuntimeError(f"the ab gamut has {len(bins)} bins, not {BIN_COUNT}: check scikit-image's rgb2lab")
    return bins


def ab_histogram(ab: np.ndarray) -> np.ndarray:
    """Fraction of the pixels of an ``H×W×2`` chroma image whose nearest bin is each of :func:`ab_bins`.

    Parameters
    ----------
    ab : ndarray, ``H×W×2``
        The Lab chroma (a, b) of each pixel; a ValueError where there are no pixels.
    """
    bins = ab_bins()
    flat = np.asarray(ab, dtype=np.float64).reshape(-1, 2)
    if not len(flat):
        raise ValueError("the chroma image is empty")
    # The nearest grid point is the nearest bin whenever it is a bin (always, for sRGB colours);
    # the rest are searched among all bins.
    table = _lookup()
    grid = np.round(flat / BIN_STEP).astype(np.int64) + _LOOKUP_OFFSET
    inside = np.all((grid >= 0) & (grid < table.shape[0]), axis=1)
    nearest = np.full(len(flat), -1)
    nearest[inside] = table[grid[inside, 0], grid[inside, 1]]
    missing = np.flatnonzero(nearest < 0)
    norms = np.sum(bins**2, axis=1)
    for start in range(0, len(missing), 16384):  # argmin ‖c‖² − 2 x·c, in bounded blocks
        block = missing[start : start + 16384]
        nearest[block] = np.argmin(norms - 2.0 * flat[block] @ bins.T, axis=1)
    return np.bincount(nearest, minlength=len(bins)) / len(flat)


_LOOKUP_OFFSET = 13  # grid points −130 … 130 in both a and b


@lru_cache(maxsize=1)
def _lookup() -> np.ndarray:
    """Index of the bin at each grid point (a/10 + 13, b/10 + 13), −1 where there is none."""
    table = np.full((2 * _LOOKUP_OFFSET + 1,) * 2, -1, np.int64)
    grid = np.round(ab_bins() / BIN_STEP).astype(np.int64) + _LOOKUP_OFFSET
    table[grid[:, 0], grid[:, 1]] = np.arange(len(grid))
    return table


@dataclass(frozen=True, eq=False)
class GlobalHints:
    """Global colour statistics of an image (the SIGGRAPH17 network's global hints).

    Attributes
    ----------
    histogram : ndarray, ``313``
        Fraction of the pixels in each bin of :func:`ab_bins` (sums to 1).
    saturation : float
        Mean HSV saturation, in [0, 1].
    """

    histogram: np.ndarray
    saturation: float

    def __post_init__(self) -> None:
        histogram = np.asarray(self.histogram, dtype=np.float64)
        if histogram.shape != (BIN_COUNT,) or np.any(histogram < 0) or not histogram.sum() > 0:
            raise ValueError(f"a global histogram has {BIN_COUNT} non-negative weights, not all 0")
        if not 0.0 <= self.saturation <= 1.0:
            raise ValueError(f"saturation must lie in [0, 1], got {self.saturation}")
        object.__setattr__(self, "histogram", histogram / histogram.sum())

    @classmethod
    def from_rgb(cls, rgb: np.ndarray) -> GlobalHints:
        """The hints of an ``H×W×3`` sRGB image in [0, 1].

        Parameters
        ----------
        rgb : ndarray, ``H×W×3``
            The image (channels past the third are ignored; values are clipped to [0, 1]).
        """
        rgb = np.clip(np.asarray(rgb, dtype=np.float64)[..., :3], 0.0, 1.0)
        return cls(ab_histogram(rgb_to_lab(rgb)[..., 1:]), mean_saturation(rgb))


def mean_saturation(rgb: np.ndarray) -> float:
    """Mean HSV saturation, ``(max − min) / max`` per pixel (0 for black), of sRGB in [0, 1].

    Parameters
    ----------
    rgb : ndarray, ``…×3``
        The colours, channels last (channels past the third are ignored).
    """
    rgb = np.asarray(rgb, dtype=np.float64)[..., :3]
    top, bottom = rgb.max(axis=-1), rgb.min(axis=-1)
    return float(np.mean(np.where(top > 0, (top - bottom) / np.where(top > 0, top, 1.0), 0.0)))


def transport(
    ab: np.ndarray, hints: GlobalHints, lightness: np.ndarray | None = None, *, iterations: int = 20, seed: int = 0
) -> np.ndarray:
    """Move the chroma ``ab`` (``H×W×2``) onto the global hints' colour distribution."""
    ab = np.asarray(ab, np.float64)
    source = ab.reshape(-1, 2).copy()
    count = len(source)
    rng = np.random.default_rng(seed)
    # Target samples: each bin's share of ``count`` points, uniform over its square.
    shares = np.floor(hints.histogram * count).astype(np.int64)
    shares[np.argsort(-(hints.histogram * count - shares))[: count - shares.sum()]] += 1
    target = np.repeat(ab_bins(), shares, axis=0) + rng.uniform(-BIN_STEP / 2, BIN_STEP / 2, (count, 2))
    ranks = np.empty(count, np.int64)
    for k in range(iterations):
        angle = k * np.pi * (np.sqrt(5) - 1) / 2  # golden-angle steps cover the directions evenly
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        projected, goal = source @ rotation, target @ rotation
        for axis in range(2):
            order = np.argsort(projected[:, axis], kind="stable")
            ranks[order] = np.arange(count)
            projected[:, axis] = np.sort(goal[:, axis])[ranks]
        source = projected @ rotation.T
    moved = source.reshape(ab.shape)
    if lightness is None:
        return moved
    from .color import chroma_to_rgb

    def saturation(scale: float) -> float:
        return mean_saturation(chroma_to_rgb(lightness, moved * scale, "chroma"))

    low, high = 0.25, 4.0
    if not saturation(low) <= hints.saturation <= saturation(high):
        return moved  # the gamut caps it (or the gray itself is saturated): keep the histogram's
    for _ in range(20):  # saturation grows with the chroma's scale
        middle = np.sqrt(low * high)
        low, high = (middle, high) if saturation(middle) < hints.saturation else (low, middle)
    return moved * np.sqrt(low * high)
