"""Colour conversions: sRGB <-> varcolor's Lab, gray <-> lightness, gamut mapping.

varcolor's Lab is CIE Lab whose L* is the one ICC colour management measures (the luminance of
sRGB adapted to D50 by Bradford, :data:`ICC_LUMINANCE`: a result keeps its scan's lightness as
the restorer's editor measures it, issue 71), and whose chroma a*, b* is scikit-image's D65 (the
published networks, ideepcolor's gamut table and stored cues use it).
"""

from __future__ import annotations

import functools
import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
from skimage import color as skcolor
from skimage.color import colorconv as _cc
from skimage.util import img_as_float64

from .common.kernels import any_layout, array_code, compile_each_once, compile_once, kernels_launch_from_threads
from .errors import InputError, real_array
from .io import equal_channels, levels_to_float, to_levels

__all__ = [
    "rgb_to_lab",
    "lab_to_rgb",
    "lightness_of_gray",
    "chroma_to_rgb_of_gray",
    "gray_from_lightness",
    "same_lightness_gray",
    "luma601",
    "lightness_of_gray_on",
    "to_gray",
    "gray_by_bands",
    "rgb_to_yiq",
    "yiq_to_rgb",
]

# Rows of the (linear RGB -> XYZ) matrix scikit-image uses; the middle row sums to luminance Y.
_Y_OF_LINEAR_GRAY = float(_cc.xyz_from_rgb[1].sum())
_RGB_FROM_XYZ = _cc.rgb_from_xyz
_WHITE = np.asarray(_cc.xyz_tristimulus_values(illuminant="D65", observer="2"), dtype=np.float64)
_WHITE_Y = float(_WHITE[1])
# Bradford's cone response matrix and the ICC connection space's white (D50, as profiles store it).
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
_ICC_WHITE = np.array([0.9642, 1.0, 0.8249])
_ADAPT_TO_D50 = np.linalg.inv(_BRADFORD) @ np.diag((_BRADFORD @ _ICC_WHITE) / (_BRADFORD @ _WHITE)) @ _BRADFORD
#: Luminance of linear sRGB adapted to D50 by Bradford (the Y of varcolor's L*), scaled to sum to 1.
ICC_LUMINANCE = (_ADAPT_TO_D50 @ _cc.xyz_from_rgb)[1] / (_ADAPT_TO_D50 @ _cc.xyz_from_rgb)[1].sum()
#: Newton steps from D65's L* to the colour of the ICC luminance: enough for double precision on sRGB.
_NEWTON_STEPS = 4
#: Steps at most for an impossible colour (far beyond any photo's), while the last moved L* by over 1e-9.
_NEWTON_MOST = 40
# The same luminance as a row on D65 XYZ (what Lab to sRGB works in).
_ICC_LUMINANCE_OF_XYZ = ICC_LUMINANCE @ _RGB_FROM_XYZ
_YIQ_FROM_RGB = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_RGB_FROM_YIQ = np.linalg.inv(_YIQ_FROM_RGB)


def _lab_f(t: np.ndarray) -> np.ndarray:
    # CIE 1976 companding, with the constants scikit-image uses (so results match rgb2lab exactly)
    return np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16.0 / 116.0)


def _srgb_decode(v: np.ndarray) -> np.ndarray:
    return np.where(v > 0.04045, ((np.maximum(v, 0.04045) + 0.055) / 1.055) ** 2.4, v / 12.92)


# Compiled on first use, not at import: compiling loads numba's whole code generator.
@numba.njit(cache=True)
def _srgb_encode(v):
    """Linear to gamma-encoded sRGB, clipped to [0, 1]."""
    v = max(v, 0.0)
    return min(1.055 * v ** (1 / 2.4) - 0.055 if v > 0.0031308 else 12.92 * v, 1.0)


@numba.njit(cache=True)
def _srgb_level(v, top):
    """The ``top``-level (255, 65535) integer level of linear ``v``: what :func:`to_levels` makes of
    :func:`_srgb_encode` (rounded half to even, as NumPy rounds)."""
    return np.rint(_srgb_encode(v) * top)


@numba.njit(cache=True)
def _level_thresholds(top):
    """For each level k in 1..top, the smallest linear value whose :func:`_srgb_level` is k or
    more, found by bisecting the bit patterns of doubles (``top + 2`` values)."""
    thresholds = np.empty(top + 2)
    thresholds[0], thresholds[top + 1] = 0.0, np.inf
    bits = np.empty(1, np.int64)
    values = bits.view(np.float64)
    values[0] = 1.0
    one = bits[0]
    for k in range(1, top + 1):
        low, high = np.int64(0), one  # level(low) < k <= level(high) = top
        while high - low > 1:
            bits[0] = low + (high - low) // 2
            if _srgb_level(values[0], top) >= k:
                high = bits[0]
            else:
                low = bits[0]
        bits[0] = high
        thresholds[k] = values[0]
    return thresholds


class _LevelTable:
    """Linear values to an sRGB file's levels by looking up the levels' thresholds, not a power per
    value: the same levels as encoding then rounding (benchmarks/results/code_notes.md)."""

    def __init__(self, bits: int) -> None:
        self.top = (1 << bits) - 1
        # A power of two: a value times it is exact, so a bucket never starts above its value.
        self.buckets = 1 << min(bits + 4, 18)
        self.thresholds = _level_thresholds(self.top)
        starts = np.searchsorted(self.thresholds[1:-1], np.arange(self.buckets) / self.buckets, side="right")
        self.starts = starts.astype(np.int32)


@functools.cache
def _level_table(bits: int) -> _LevelTable:
    return _LevelTable(bits)


@numba.njit(cache=True, inline="always")
def _level_of(v, thresholds, starts, buckets, top):
    """:func:`_srgb_level` of ``v`` by the table of :class:`_LevelTable`."""
    if not v > 0.0:  # at or below black (NaN: black, as a cast of NaN gives)
        return 0
    if v >= 1.0:
        return top
    k = starts[int(v * buckets)]
    while thresholds[k + 1] <= v:
        k += 1
    if v - thresholds[k] <= 1e-12 * v or thresholds[k + 1] - v <= 1e-12 * v:
        return int(_srgb_level(v, top))  # by a threshold: as encoding and rounding say
    return k


@numba.njit(cache=True)
def _srgb_encode_all(values):
    """:func:`_srgb_encode` of each of a flat array's values."""
    out = np.empty_like(values)
    for k in range(values.size):
        out[k] = _srgb_encode(values[k])
    return out


def _check_rgb(rgb: np.ndarray, name: str = "rgb") -> np.ndarray:
    rgb = real_array(rgb, name)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise InputError(f"{name} must be an H×W×3 RGB image (×4: alpha ignored), got shape {rgb.shape}")
    return rgb[..., :3]


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (``H×W×3``; an alpha channel is ignored) to varcolor's Lab: L* as ICC
    colour management measures it (D50), a* and b* of CIE Lab D65 (module docstring).

    Parameters
    ----------
    rgb : ndarray, ``H×W×3`` (or ``×4``)
        Gamma-encoded sRGB: floats in [0, 1], or integer levels (scaled by their type's maximum).

    Returns
    -------
    ndarray, ``H×W×3`` of float64: L* in [0, 100], a*, b*.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(rgb_to_lab(np.ones((1, 1, 3)))[0, 0], 1)
    array([100.,  -0.,   0.])
    >>> np.round(rgb_to_lab(np.array([[[1.0, 0.0, 0.0]]]))[0, 0], 2)  # D65's L* is 53.24
    array([54.29, 80.09, 67.2 ])
    """
    rgb = _check_rgb(rgb)
    # Integer samples scaled as rgb2lab scales them (scikit-image's img_as_float: 8-bit by 255, …).
    values = img_as_float64(rgb) if rgb.dtype.kind in "biu" else np.asarray(rgb, dtype=np.float64)
    out = np.empty(values.shape[:2] + (3,))
    # scikit-image's rgb2lab, each band decoded once for both its a*, b* and our L*: no whole-image temporaries.
    step = max(1, _LAB_BAND // max(values.shape[1], 1))
    for top in range(0, values.shape[0], step):
        linear = _decoded(values[top : top + step])
        f = _lab_f((linear @ _XYZ_OF_LINEAR) / _WHITE)
        lab = out[top : top + step]
        lab[..., 0] = _lightness_of_luminance(linear @ ICC_LUMINANCE)
        lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
        lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return out


#: Pixels :func:`rgb_to_lab` converts at a time.
_LAB_BAND = 1 << 16
_XYZ_OF_LINEAR = np.ascontiguousarray(_cc.xyz_from_rgb.T)


def _decoded(values: np.ndarray) -> np.ndarray:
    """:func:`_srgb_decode` of ``values``, looked up where all are 8- or 16-bit samples (a file's)."""
    levels = np.rint(values * 65535.0)
    if levels.size and levels.min() >= 0 and levels.max() <= 65535 and np.array_equal(levels / 65535.0, values):
        return _decoded_levels()[levels.astype(np.intp)]
    return _srgb_decode(values)


def _lightness_of_luminance(y: np.ndarray) -> np.ndarray:
    """CIE L* of relative luminance ``y`` (white 1), scikit-image's formula."""
    return 116.0 * _lab_f(y / _WHITE_Y) - 16.0


def lab_to_rgb(lab: np.ndarray, gamut: str = "chroma") -> np.ndarray:
    """varcolor's Lab (:func:`rgb_to_lab`) to sRGB in [0, 1]: the colour of chroma a*, b* (D65)
    whose L* as ICC colour management measures it is L.

    Parameters
    ----------
    lab : ndarray, ``H×W×3``
    gamut : {"chroma", "clip"}
        What to do with colours outside the sRGB gamut.

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.array([[[50.0, 120.0, 0.0]]])        # far outside sRGB
    >>> rgb = lab_to_rgb(lab)
    >>> bool(abs(rgb_to_lab(rgb)[0, 0, 0] - 50.0) < 0.01)
    True
    """
    lab = np.asarray(lab, dtype=np.float64)
    if lab.ndim < 1 or lab.shape[-1] != 3:
        raise InputError(f"lab must have 3 channels on its last axis, got shape {lab.shape}")
    return chroma_to_rgb(lab[..., 0], lab[..., 1:], gamut)


def chroma_to_rgb(
    lightness: np.ndarray,
    ab: np.ndarray,
    gamut: str = "chroma",
    out: np.ndarray | None = None,
    *,
    image_pixels: int | None = None,
) -> np.ndarray:
    """:func:`lab_to_rgb` of lightness ``L`` (any shape ``S``) and chroma ``ab`` (``S×2``) given
    apart, into ``out``.

    Parameters
    ----------
    lightness : ndarray, shape ``S``
        The lightness ``L``.
    ab : ndarray, ``S×2``
        The chroma.
    gamut : {"chroma", "clip"}
        How colours outside sRGB are brought in (:func:`lab_to_rgb`).
    out : ndarray, ``S×3``, optional
        Where to write: floats, or an unsigned integer image's levels (default: a new float array).
    image_pixels : int, optional
        The size of the whole image that ``lightness`` is a window of: it chooses array code or the
        kernel, so a big image's small repaints run the compiled kernel (default: its own size).

    Examples
    --------
    >>> import numpy as np
    >>> lightness, ab = np.full((1, 2), 50.0), np.array([[[0.0, 0.0], [120.0, 0.0]]])
    >>> bool(np.allclose(chroma_to_rgb(lightness, ab), lab_to_rgb(np.dstack([lightness, ab]))))
    True"""
    if gamut not in ("chroma", "clip"):
        raise InputError(f"gamut must be 'chroma' or 'clip', not {gamut!r}")
    if np.shape(ab) != np.shape(lightness) + (2,):
        raise InputError(f"ab must have shape {np.shape(lightness) + (2,)}, got {np.shape(ab)}")
    if (out is not None and out.dtype.kind == "u") or not (
        np.asarray(lightness).dtype == np.float64 and np.asarray(ab).dtype == np.float64
    ):
        return _painted_in_bands(lightness, ab, gamut, out, image_pixels=image_pixels)
    return _srgb_of(lightness, ab, gamut, out, array_code(image_pixels or np.size(lightness)))


def _srgb_of(lightness, ab, gamut: str, out: np.ndarray | None, array: bool) -> np.ndarray:
    """:func:`chroma_to_rgb` of float64 ``lightness`` and ``ab`` (checked), by the array code
    (``array``: a small image's, :func:`varcolor.common.kernels.array_code`) or the kernel."""
    lightness = np.asarray(lightness, dtype=np.float64)
    ab = np.asarray(ab, dtype=np.float64)
    if out is None:
        out = np.empty(lightness.shape + (3,))
    if array:
        _lab_to_srgb_array(lightness, ab, gamut == "chroma", out)
        return out
    _run_kernel(lightness, ab, gamut, None, out)
    return out


def _levels_of(
    lightness: np.ndarray, ab: np.ndarray, gamut: str, out: np.ndarray, scratch: np.ndarray | None = None
) -> None:
    """:func:`_srgb_of`'s colours written by the kernel as the levels of ``out`` (uint8 or uint16),
    without encoded floats between."""
    levels = np.empty(out.shape) if scratch is None else scratch
    _run_kernel(lightness, ab, gamut, _level_table(8 if out.dtype == np.uint8 else 16), levels)
    out[...] = levels


#: The kernel's level table where it writes floats: none.
_NO_LEVELS = (np.array([0.0, np.inf]), np.zeros(1, np.int32), 1)


def _run_kernel(lightness: np.ndarray, ab: np.ndarray, gamut: str, table: _LevelTable | None, out: np.ndarray) -> None:
    """:func:`_lab_to_srgb` of float64 ``lightness`` and ``ab`` into float ``out``: encoded colours,
    or, with ``table``, levels."""
    # The kernel walks rows and columns of any strides, so views go in without copies.
    image = _as_rows(out, lightness.ndim)
    compile_once(
        _lab_to_srgb,
        any_layout(2),
        any_layout(3),
        any_layout(1),
        any_layout(2),
        any_layout(1),
        numba.boolean,
        any_layout(1),
        numba.types.Array(numba.int32, 1, "A", readonly=True),
        numba.int64,
        any_layout(3, readonly=False),
    )
    thresholds, starts, buckets = _NO_LEVELS if table is None else (table.thresholds, table.starts, table.buckets)
    _lab_to_srgb(
        _as_rows(lightness, lightness.ndim),
        _as_rows(ab, lightness.ndim),
        _WHITE,
        _RGB_FROM_XYZ,
        _ICC_LUMINANCE_OF_XYZ,
        gamut == "chroma",
        thresholds,
        starts,
        buckets,
        image,
    )
    if not np.shares_memory(image, out):  # a strided array of more than two dimensions
        out[...] = image.reshape(out.shape)


#: Values painted at a time into an integer image, or from single-precision chroma: a band's float64
#: colours and chroma are held, never the whole image's.
_BAND_VALUES = 1 << 20


def chroma_to_rgb_of_gray(
    gray: np.ndarray,
    ab: np.ndarray,
    gamut: str = "chroma",
    out: np.ndarray | None = None,
    *,
    image_pixels: int | None = None,
):
    """:func:`chroma_to_rgb` at the lightness of the gray sRGB values ``gray``
    (:func:`lightness_of_gray`), a band at a time: a big image's lightness is never held whole.

    Parameters
    ----------
    gray : ndarray, shape ``S``
        Gray values in [0, 1].
    ab : ndarray, ``S×2``
        The chroma.
    gamut : {"chroma", "clip"}
        How colours outside sRGB are brought in (:func:`lab_to_rgb`).
    out : ndarray, ``S×3``, optional
        Where to write: floats, or an unsigned integer image's levels.
    image_pixels : int, optional
        The size of the whole image that ``gray`` is a window of (:func:`chroma_to_rgb`).

    Examples
    --------
    >>> import numpy as np
    >>> gray, ab = np.full((2, 2), 0.4), np.full((2, 2, 2), 10.0)
    >>> bool(np.array_equal(chroma_to_rgb_of_gray(gray, ab), chroma_to_rgb(lightness_of_gray(gray), ab)))
    True"""
    return _painted_in_bands(gray, ab, gamut, out, lightness_of_gray, image_pixels=image_pixels)


def _painted_in_bands(
    values, ab, gamut: str, out: np.ndarray | None, lightness_of=None, *, image_pixels: int | None = None
) -> np.ndarray:
    """:func:`chroma_to_rgb` band by band along the first axis, into ``out`` as floats or levels."""
    values, ab = np.asarray(values), np.asarray(ab)
    if out is None:
        out = np.empty(values.shape + (3,))
    if values.ndim == 0:
        one = np.empty((1, 3), out.dtype)
        out[...] = _painted_in_bands(values[None], ab[None], gamut, one, lightness_of, image_pixels=image_pixels)[0]
        return out
    # Half the budget a band: two bands are painted at once.
    rows = max(1, _BAND_VALUES // 2 // max(1, 3 * values[:1].size))
    array = array_code(image_pixels or values.size)  # by the whole image's size, not a band's or a window's

    starts = range(0, values.shape[0], rows)
    # Each of the two bands painted at once has its own scratch, made here: a steady peak memory.
    levels = out.dtype.kind == "u" and not array
    scratch: queue.SimpleQueue = queue.SimpleQueue()
    band_shape = (min(rows, values.shape[0]),) + values.shape[1:]
    for _ in range(2 if len(starts) > 1 else 1):
        scratch.put(
            (
                np.empty(band_shape + (ab.shape[-1],)) if ab.dtype != np.float64 else None,
                np.empty(band_shape + (3,)) if levels else None,
            )
        )

    def paint(start: int) -> None:
        band = slice(start, start + rows)
        lightness = np.asarray(values[band], np.float64) if lightness_of is None else lightness_of(values[band])
        spare_chroma, spare_levels = scratch.get()
        try:
            size = len(lightness)
            chroma = ab[band] if spare_chroma is None else spare_chroma[:size]
            if spare_chroma is not None:
                chroma[...] = ab[band]
            if levels:
                _levels_of(lightness, chroma, gamut, out[band], spare_levels[:size])
            elif out.dtype.kind == "u":
                to_levels(_srgb_of(lightness, chroma, gamut, None, array), out[band])
            else:
                _srgb_of(lightness, chroma, gamut, out[band], array)
        finally:
            scratch.put((spare_chroma, spare_levels))

    paint(starts[0])  # the kernel compiled or loaded once, here, before any thread calls it
    if len(starts) > 1 and (array or kernels_launch_from_threads()):
        # Two bands at a time: one band's NumPy work beside the other's kernel.
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(paint, starts[1:]))
    else:
        for start in starts[1:]:
            paint(start)
    return out


def _as_rows(array: np.ndarray, ndim: int) -> np.ndarray:
    """``array``'s first ``ndim`` axes as two (rows, columns): a view unless it has more than two
    and they cannot be merged without a copy."""
    if ndim <= 2:
        return array.reshape((1,) * (2 - ndim) + array.shape)
    return array.reshape((-1, array.shape[ndim - 1]) + array.shape[ndim:])


@numba.njit(cache=True)
def _f_inverse(f):
    return f**3 if f > 0.2068966 else (f - 16.0 / 116.0) / 7.787


@numba.njit(cache=True)
def _f_inverse_slope(f):
    """The derivative of :func:`_f_inverse`."""
    return 3.0 * f * f if f > 0.2068966 else 1.0 / 7.787


@numba.njit(cache=True)
def _luminance_step(fy, a, b, target, white, luminance):
    """Newton's step on ``fy`` towards the colour of chroma a, b whose luminance is ``target``; NaN
    where that luminance does not grow with L* (an impossible colour)."""
    fx, fz = fy + a / 500.0, fy - b / 200.0
    error = (
        luminance[0] * _f_inverse(fx) * white[0]
        + luminance[1] * _f_inverse(fy) * white[1]
        + luminance[2] * _f_inverse(fz) * white[2]
        - target
    )
    slope = (
        luminance[0] * white[0] * _f_inverse_slope(fx)
        + luminance[1] * white[1] * _f_inverse_slope(fy)
        + luminance[2] * white[2] * _f_inverse_slope(fz)
    )
    return error / slope if slope > 0.0 else np.nan


@numba.njit(cache=True)
def _linear_of(fy, a, b, white, matrix):
    """Linear R, G, B of ``fy`` and chroma a, b, without lab2xyz's clipping of negative Z (the gamut
    test must see the true colour)."""
    x = _f_inverse(fy + a / 500.0) * white[0]
    y = _f_inverse(fy) * white[1]
    z = _f_inverse(fy - b / 200.0) * white[2]
    red = matrix[0][0] * x + matrix[0][1] * y + matrix[0][2] * z
    green = matrix[1][0] * x + matrix[1][1] * y + matrix[1][2] * z
    blue = matrix[2][0] * x + matrix[2][1] * y + matrix[2][2] * z
    return red, green, blue


@numba.njit(cache=True)
def _lab_to_linear(lightness, a, b, white, matrix, luminance):
    # The colour of chroma a, b whose luminance is that of L* (Newton's method from D65's L*):
    # whether it lies in the sRGB gamut, and its linear R, G, B as scalars.
    inside, red, green, blue, _ = _lab_to_linear_fy(lightness, a, b, white, matrix, luminance)
    return inside, red, green, blue


@numba.njit(cache=True)
def _lab_to_linear_fy(lightness, a, b, white, matrix, luminance):
    """:func:`_lab_to_linear`, and the ``fy`` it found (the gamut search starts from it)."""
    fy = (lightness + 16.0) / 116.0
    target = _f_inverse(fy) * white[1]
    # _NEWTON_STEPS steps untested (photos need them all), then more only while the last was not tiny.
    step = 1.0
    for done in range(_NEWTON_MOST):
        if done >= _NEWTON_STEPS and abs(step) <= 1e-9:
            break
        step = _luminance_step(fy, a, b, target, white, luminance)
        if np.isnan(step):  # an impossible colour whose luminance does not grow with L*: as it is
            break
        fy -= step
    red, green, blue = _linear_of(fy, a, b, white, matrix)
    inside = 0.0 <= red <= 1.0 and 0.0 <= green <= 1.0 and 0.0 <= blue <= 1.0
    return inside, red, green, blue, fy


@numba.njit(cache=True)
def _excess_from(fy, lightness, a, b, white, matrix, luminance):
    """How far L, a, b lies outside the sRGB cube (<= 0: inside), with its ``fy`` and linear RGB,
    Newton's steps starting from a nearby chroma's ``fy``."""
    target = _f_inverse((lightness + 16.0) / 116.0) * white[1]
    for _ in range(_NEWTON_MOST):
        step = _luminance_step(fy, a, b, target, white, luminance)
        if np.isnan(step):
            _, red, green, blue = _lab_to_linear(lightness, a, b, white, matrix, luminance)
            return _excess(red, green, blue), fy, red, green, blue
        fy -= step
        if abs(step) <= 1e-13:
            break
    red, green, blue = _linear_of(fy, a, b, white, matrix)
    return _excess(red, green, blue), fy, red, green, blue


@numba.njit(cache=True, inline="always")
def _excess(red, green, blue):
    """How far a linear colour lies outside the sRGB cube (<= 0: inside)."""
    return max(-red, red - 1.0, -green, green - 1.0, -blue, blue - 1.0)


@numba.njit(cache=True)
def _largest_chroma_scale(lightness, a, b, white, matrix, luminance, f_high, fy_high, rgb_high):
    """The largest chroma scale in [0, 1] whose colour is in the gamut, and that colour's linear RGB:
    regula falsi with the Illinois modification (benchmarks/results/gamut_search.md)."""
    low, high = 0.0, 1.0
    start = (lightness + 16.0) / 116.0
    f_low, fy_low, red, green, blue = _excess_from(start, lightness, 0.0, 0.0, white, matrix, luminance)
    if f_low > 0.0:  # the gray itself is outside by a rounding error (white at L = 100): keep no chroma
        return 0.0, red, green, blue
    found, scale, r, g, b_ = _boundary_by_newton(
        lightness, a, b, white, matrix, luminance, (red, green, blue), rgb_high, fy_low, fy_high
    )
    if found:
        return scale, r, g, b_
    # From here f_low <= 0 < f_high, so the secant below never divides by zero.
    side = 0  # which end the last step moved: -1 low, 1 high
    for _ in range(100):
        if high - low <= 1e-9:
            break
        scale = (low * f_high - high * f_low) / (f_high - f_low)
        if not low < scale < high:  # f_low is 0, or rounding: halve instead
            scale = 0.5 * (low + high)
        guess = fy_low + (scale - low) / (high - low) * (fy_high - fy_low)
        f, fy, r, g, b_ = _excess_from(guess, lightness, a * scale, b * scale, white, matrix, luminance)
        if f <= 0.0:
            low, f_low, fy_low, red, green, blue = scale, f, fy, r, g, b_
            if side == -1:  # the high end kept twice: halve its weight so that it moves too
                f_high *= 0.5
            side = -1
        else:
            high, f_high, fy_high = scale, f, fy
            if side == 1:
                f_low *= 0.5
            side = 1
    return low, red, green, blue


@numba.njit(cache=True, error_model="numpy")
def _row_fy(lightness, ab, white, luminance, fy):
    """:func:`_lab_to_linear_fy`'s ``fy`` for each pixel of a row: the first steps for the whole row at
    once (a loop the compiler vectorizes), then each pixel's further steps one by one."""
    n = lightness.shape[0]
    target, a, b, last = np.empty(n), np.empty(n), np.empty(n), np.ones(n)
    for j in range(n):
        fy[j] = (lightness[j] + 16.0) / 116.0
        target[j] = _f_inverse(fy[j]) * white[1]
        a[j], b[j] = ab[j, 0], ab[j, 1]
    for _ in range(_NEWTON_STEPS):
        for j in range(n):
            step = _luminance_step(fy[j], a[j], b[j], target[j], white, luminance)
            # A step that is NaN (a luminance that does not grow with L*) ends the pixel's steps, as
            # in _lab_to_linear_fy: its last step stays NaN, and no later one moves it.
            going = step == step and last[j] == last[j]
            fy[j] = fy[j] - step if going else fy[j]
            last[j] = step if going else np.nan
    for j in range(n):
        if last[j] == last[j] and abs(last[j]) > 1e-9:
            step = last[j]
            for _ in range(_NEWTON_STEPS, _NEWTON_MOST):
                if abs(step) <= 1e-9:
                    break
                step = _luminance_step(fy[j], ab[j, 0], ab[j, 1], target[j], white, luminance)
                if np.isnan(step):
                    break
                fy[j] -= step


@numba.njit(cache=True, error_model="numpy")
def _row_linear(lightness, ab, white, matrix, luminance, shrink_chroma, fy, red, green, blue):
    """The linear R, G, B of each pixel of a row, brought into sRGB (``shrink_chroma``) or not, by
    whole-row loops the compiler vectorizes."""
    _row_fy(lightness, ab, white, luminance, fy)
    n = lightness.shape[0]
    for j in range(n):
        red[j], green[j], blue[j] = _linear_of(fy[j], ab[j, 0], ab[j, 1], white, matrix)
    if not shrink_chroma:
        return
    outside, count = np.empty(n, np.int64), 0
    for j in range(n):
        if not (0.0 <= red[j] <= 1.0 and 0.0 <= green[j] <= 1.0 and 0.0 <= blue[j] <= 1.0):
            outside[count] = j
            count += 1
    if count:
        _row_boundaries(lightness, ab, white, matrix, luminance, fy, red, green, blue, outside[:count])


#: Newton's steps on the boundary taken for a row's pixels outside sRGB at once (:func:`_row_boundaries`).
_ROW_BOUNDARY_STEPS = 4


@numba.njit(cache=True, error_model="numpy")
def _row_boundaries(lightness, ab, white, matrix, luminance, fy, red, green, blue, at):
    """:func:`_largest_chroma_scale`'s colours of a row's pixels ``at`` (outside sRGB), Newton's
    steps on the boundary taken for all at once."""
    m = at.size
    target, fy_low, shift_x, shift_z = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    row0, row1, row2, bound, scale, fy_now = (
        np.empty(m),
        np.empty(m),
        np.empty(m),
        np.empty(m),
        np.empty(m),
        np.empty(m),
    )
    step_fy, step_scale, gray, a_at, b_at = np.empty(m), np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    for k in range(m):
        j = at[k]
        fy_low[k] = (lightness[j] + 16.0) / 116.0
        target[k] = _f_inverse(fy_low[k]) * white[1]
        a_at[k], b_at[k] = ab[j, 0], ab[j, 1]
        shift_x[k], shift_z[k] = a_at[k] / 500.0, -b_at[k] / 200.0
    # The gray's luminance-keeping fy (a = b = 0).
    gray_weight = luminance[0] * white[0] + luminance[1] * white[1] + luminance[2] * white[2]
    for _ in range(3):
        for k in range(m):
            f = fy_low[k]
            fy_low[k] = f - (gray_weight * _f_inverse(f) - target[k]) / (gray_weight * _f_inverse_slope(f))
    # The linear RGB of a gray is its luminance times these (1, 1, 1 to 1e-6).
    gray_rgb = (
        matrix[0][0] * white[0] + matrix[0][1] * white[1] + matrix[0][2] * white[2],
        matrix[1][0] * white[0] + matrix[1][1] * white[1] + matrix[1][2] * white[2],
        matrix[2][0] * white[0] + matrix[2][1] * white[1] + matrix[2][2] * white[2],
    )
    for k in range(m):
        j = at[k]
        gray[k] = _f_inverse(fy_low[k])
        low = (gray_rgb[0] * gray[k], gray_rgb[1] * gray[k], gray_rgb[2] * gray[k])
        channel, bound[k], scale[k] = _chord_face(low, (red[j], green[j], blue[j]))
        scale[k] = scale[k] if channel >= 0 else np.nan  # no face (NaN): this pixel alone, below
        # The face's row of the matrix, chosen without branches (red's where there is none).
        row0[k] = matrix[2][0] if channel == 2 else (matrix[1][0] if channel == 1 else matrix[0][0])
        row1[k] = matrix[2][1] if channel == 2 else (matrix[1][1] if channel == 1 else matrix[0][1])
        row2[k] = matrix[2][2] if channel == 2 else (matrix[1][2] if channel == 1 else matrix[0][2])
        fy_now[k] = fy_low[k] + scale[k] * (fy[j] - fy_low[k])
    for _ in range(_ROW_BOUNDARY_STEPS):
        for k in range(m):
            step_fy[k], step_scale[k], _ = _boundary_step(
                fy_now[k],
                scale[k],
                shift_x[k],
                shift_z[k],
                target[k],
                row0[k],
                row1[k],
                row2[k],
                bound[k],
                white,
                luminance,
            )
            fy_now[k] -= step_fy[k]
            scale[k] -= step_scale[k]
    # :func:`_on_the_boundary`'s test for all pixels at once, without branches: it vectorizes.
    found, red_at, green_at, blue_at = np.empty(m, np.bool_), np.empty(m), np.empty(m), np.empty(m)
    for k in range(m):
        gray_k, fy_k, scale_k, a, b = gray[k], fy_now[k], scale[k], a_at[k], b_at[k]
        low = (gray_rgb[0] * gray_k, gray_rgb[1] * gray_k, gray_rgb[2] * gray_k)
        # Settled where the last step was tiny (NaN, from a determinant of 0, fails the test).
        settled = (
            (abs(step_scale[k]) <= 1e-12)
            & (abs(step_fy[k]) <= 1e-12)
            & (0.0 <= scale_k)
            & (scale_k <= 1.0)
            & (_excess(low[0], low[1], low[2]) <= 0.0)
        )
        colour = _linear_of(fy_k, a * scale_k, b * scale_k, white, matrix)
        red_at[k], green_at[k], blue_at[k] = colour
        # Inside the cube (:func:`_outside_channel` finds no channel) and met first on the path.
        inside = not _excess(colour[0], colour[1], colour[2]) > 1e-10
        found[k] = settled & inside & (not _left_before(fy_k, scale_k, a, b, low, colour, white, matrix, luminance))
    for k in range(m):
        j = at[k]
        if found[k]:
            red[j], green[j], blue[j] = red_at[k], green_at[k], blue_at[k]
            continue
        high = (red[j], green[j], blue[j])
        _, red[j], green[j], blue[j] = _largest_chroma_scale(
            lightness[j], ab[j, 0], ab[j, 1], white, matrix, luminance, _excess(high[0], high[1], high[2]), fy[j], high
        )


#: Newton's steps at most in :func:`_boundary_by_newton`; then regula falsi.
_BOUNDARY_STEPS = 16


@numba.njit(cache=True, error_model="numpy")
def _boundary_by_newton(lightness, a, b, white, matrix, luminance, rgb_low, rgb_high, fy_low, fy_high):
    """Where the chroma scale's path from the gray to the colour leaves the sRGB cube, by Newton's
    method on the face first crossed: (found, scale, R, G, B); not found: regula falsi decides."""
    d0, d2 = a / 500.0, -b / 200.0
    target = _f_inverse((lightness + 16.0) / 116.0) * white[1]
    channel, bound, scale = _chord_face(rgb_low, rgb_high)
    if channel < 0:
        return False, 0.0, 0.0, 0.0, 0.0
    fy = fy_low + scale * (fy_high - fy_low)
    for _ in range(3):  # a face, and at most two more met before it
        settled = False
        for _ in range(_BOUNDARY_STEPS):
            row = matrix[channel]
            step_fy, step_scale, det = _boundary_step(
                fy, scale, d0, d2, target, row[0], row[1], row[2], bound, white, luminance
            )
            if not (det != 0.0 and np.isfinite(det)):
                return False, 0.0, 0.0, 0.0, 0.0
            fy -= step_fy
            scale -= step_scale
            if not 0.0 <= scale <= 1.0:
                return False, 0.0, 0.0, 0.0, 0.0
            if abs(step_scale) <= 1e-12 and abs(step_fy) <= 1e-12:
                settled = True
                break
        if not settled:
            return False, 0.0, 0.0, 0.0, 0.0
        found, red, green, blue, channel, bound = _on_the_boundary(fy, scale, a, b, rgb_low, white, matrix, luminance)
        if found:
            return True, scale, red, green, blue
        if channel < 0:
            return False, 0.0, 0.0, 0.0, 0.0
    return False, 0.0, 0.0, 0.0, 0.0


@numba.njit(cache=True, inline="always")
def _chord_face(rgb_low, rgb_high):
    """The face of the sRGB cube the straight line from ``rgb_low`` to ``rgb_high`` meets first:
    (channel, bound, scale); channel -1 where none. Without branches."""
    channel, bound, scale = -1, 0.0, 2.0
    t, edge = _channel_crossing(rgb_low[0], rgb_high[0])
    first = t < scale
    channel, bound, scale = (0 if first else channel), (edge if first else bound), (t if first else scale)
    t, edge = _channel_crossing(rgb_low[1], rgb_high[1])
    first = t < scale
    channel, bound, scale = (1 if first else channel), (edge if first else bound), (t if first else scale)
    t, edge = _channel_crossing(rgb_low[2], rgb_high[2])
    first = t < scale
    channel, bound, scale = (2 if first else channel), (edge if first else bound), (t if first else scale)
    return channel, bound, scale


@numba.njit(cache=True, inline="always")
def _channel_crossing(low, high):
    """Where the line from ``low`` (inside [0, 1]) to ``high`` crosses the channel's face, and
    which face: (scale, 1 or 0); scale 2 where ``high`` is inside (or NaN)."""
    above, below = high > 1.0, high < 0.0
    # The division's operands as the branch each side took (a value inside divides nothing by 0).
    top = (1.0 - low) if above else low
    span = (high - low) if above else ((low - high) if below else 1.0)
    return (top / span if (above or below) else 2.0), (1.0 if above else 0.0)


@numba.njit(cache=True, inline="always")
def _boundary_step(fy, scale, d0, d2, target, row0, row1, row2, bound, white, luminance):
    """Newton's step on (``fy``, chroma ``scale``) towards the colour of luminance ``target``
    whose channel ``row`` (a row of the XYZ → linear RGB matrix) is ``bound``."""
    fx, fz = fy + scale * d0, fy + scale * d2
    x, y, z = _f_inverse(fx) * white[0], _f_inverse(fy) * white[1], _f_inverse(fz) * white[2]
    dx, dy, dz, j11, j12 = _path_slopes(fy, scale, d0, d2, white, luminance)
    f1 = luminance[0] * x + luminance[1] * y + luminance[2] * z - target
    f2 = row0 * x + row1 * y + row2 * z - bound
    j21 = row0 * dx + row1 * dy + row2 * dz
    j22 = row0 * dx * d0 + row2 * dz * d2
    det = j11 * j22 - j12 * j21
    return (f1 * j22 - f2 * j12) / det, (j11 * f2 - j21 * f1) / det, det


@numba.njit(cache=True, inline="always")
def _path_slopes(fy, scale, d0, d2, white, luminance):
    """At (``fy``, chroma ``scale``) on a colour's path (``d0``, ``d2``: its a/500 and −b/200): the
    slopes of X, Y, Z in their own f, and the luminance's in fy and in the scale."""
    fx, fz = fy + scale * d0, fy + scale * d2
    dx, dy, dz = _f_inverse_slope(fx) * white[0], _f_inverse_slope(fy) * white[1], _f_inverse_slope(fz) * white[2]
    in_fy = luminance[0] * dx + luminance[1] * dy + luminance[2] * dz
    in_scale = luminance[0] * dx * d0 + luminance[2] * dz * d2
    return dx, dy, dz, in_fy, in_scale


@numba.njit(cache=True)
def _on_the_boundary(fy, scale, a, b, rgb_low, white, matrix, luminance):
    """Whether the point Newton's method settled on is where the path from the gray first leaves
    the cube: (found, R, G, B, channel, bound)."""
    colour = _linear_of(fy, a * scale, b * scale, white, matrix)
    channel, bound = _outside_channel(colour)
    if channel >= 0:
        return False, colour[0], colour[1], colour[2], channel, bound
    found = not _left_before(fy, scale, a, b, rgb_low, colour, white, matrix, luminance)
    return found, colour[0], colour[1], colour[2], -1, 0.0


@numba.njit(cache=True, inline="always")
def _outside_channel(colour):
    """The channel of linear ``colour`` furthest outside the sRGB cube (by more than 1e-10) and its
    face (0 or 1): (channel, bound); channel -1 where none is."""
    worst, channel, bound = 1e-10, -1, 0.0
    for c in range(3):
        value = colour[c]
        if value - 1.0 > worst:
            worst, channel, bound = value - 1.0, c, 1.0
        elif -value > worst:
            worst, channel, bound = -value, c, 0.0
    return channel, bound


@numba.njit(cache=True, inline="always")
def _left_before(fy, scale, a, b, rgb_low, colour, white, matrix, luminance):
    """Whether the path from the gray to ``colour`` may have left the cube before it (each channel as
    a parabola), or that cannot be told: regula falsi decides there. Without branches."""
    d0, d2 = a / 500.0, -b / 200.0
    dx, dy, dz, j11, j12 = _path_slopes(fy, scale, d0, d2, white, luminance)
    told = (scale > 1e-6) & (j11 > 0.0)
    along = -j12 / (j11 if told else 1.0)  # fy's change with the scale, the luminance kept
    near = not told
    # Each channel by a constant index: a variable one kept the loop from vectorizing.
    near |= _channel_comes_near(matrix[0], rgb_low[0], colour[0], dx, dy, dz, d0, d2, along, scale, told)
    near |= _channel_comes_near(matrix[1], rgb_low[1], colour[1], dx, dy, dz, d0, d2, along, scale, told)
    near |= _channel_comes_near(matrix[2], rgb_low[2], colour[2], dx, dy, dz, d0, d2, along, scale, told)
    return near


@numba.njit(cache=True, inline="always")
def _channel_comes_near(row, start, end, dx, dy, dz, d0, d2, along, scale, told):
    """:func:`_comes_near_a_face` for the channel of ``row`` along the path."""
    slope = row[0] * dx * d0 + row[2] * dz * d2 + (row[0] * dx + row[1] * dy + row[2] * dz) * along
    return told & _comes_near_a_face(start, end, slope, scale if told else 1.0)


#: How near a face of the sRGB cube a channel's parabola may come before regula falsi decides.
_FACE_MARGIN = 0.01


@numba.njit(cache=True, inline="always")
def _comes_near_a_face(start, end, slope, scale):
    """Whether the parabola with value ``start`` at 0 and ``end``, ``slope`` at ``scale`` (> 0)
    comes within :data:`_FACE_MARGIN` of 0 or 1 strictly between them (or outside them)."""
    curve = (start + slope * scale - end) / (scale * scale)
    bent = curve != 0.0
    curve = curve if bent else 1.0
    linear = slope - 2.0 * curve * scale
    vertex = -linear / (2.0 * curve)
    extreme = start - linear * linear / (4.0 * curve)
    between = (0.0 < vertex) & (vertex < scale * (1.0 - 1e-9))
    return bent & between & ((extreme > 1.0 - _FACE_MARGIN) | (extreme < _FACE_MARGIN))


# nogil: a big image is painted by bands in two threads (_painted_in_bands).
@numba.njit(cache=True, parallel=True, nogil=True)
def _lab_to_srgb(lightness, ab, white, matrix, luminance, shrink_chroma, thresholds, starts, buckets, out):
    """The sRGB colours of L*, a*, b* into ``out``, or with a level table their levels as floats: one
    kernel for both, as each compiled apart took longer to compile."""
    top = thresholds.size - 2
    for i in numba.prange(lightness.shape[0]):
        n = lightness.shape[1]
        fy, red, green, blue = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
        # The constants as tuples: read from arrays they kept some loops from vectorizing
        # (benchmarks/results/code_notes.md).
        white_values = (white[0], white[1], white[2])
        weights = (luminance[0], luminance[1], luminance[2])
        rows = (
            (matrix[0, 0], matrix[0, 1], matrix[0, 2]),
            (matrix[1, 0], matrix[1, 1], matrix[1, 2]),
            (matrix[2, 0], matrix[2, 1], matrix[2, 2]),
        )
        _row_linear(lightness[i], ab[i], white_values, rows, weights, shrink_chroma, fy, red, green, blue)
        if top > 0:
            for j in range(n):
                out[i, j, 0] = _level_of(red[j], thresholds, starts, buckets, top)
                out[i, j, 1] = _level_of(green[j], thresholds, starts, buckets, top)
                out[i, j, 2] = _level_of(blue[j], thresholds, starts, buckets, top)
        else:
            for j in range(n):
                out[i, j, 0] = _srgb_encode(red[j])
                out[i, j, 1] = _srgb_encode(green[j])
                out[i, j, 2] = _srgb_encode(blue[j])


def _f_inverse_array(f: np.ndarray, xp: Any = np) -> np.ndarray:
    return xp.where(f > 0.2068966, f**3, (f - 16.0 / 116.0) / 7.787)


def _f_inverse_slope_array(f: np.ndarray, xp: Any = np) -> np.ndarray:
    return xp.where(f > 0.2068966, 3.0 * f * f, 1.0 / 7.787)


def _lab_to_linear_array(lightness, a, b, xp: Any = np) -> list[np.ndarray]:
    """:func:`_lab_to_linear` of arrays of ``xp`` (NumPy or CuPy): the same Newton steps."""
    fy = (lightness + 16.0) / 116.0
    target = _f_inverse_array(fy, xp) * _WHITE[1]
    luminance = _ICC_LUMINANCE_OF_XYZ * _WHITE  # of f⁻¹(fx), f⁻¹(fy), f⁻¹(fz)
    # Where Newton stops (an impossible colour whose luminance does not grow with L*): as it is.
    going = xp.ones(fy.shape, bool)
    for _ in range(_NEWTON_MOST):
        f = (fy + a / 500.0, fy, fy - b / 200.0)
        xyz = [_f_inverse_array(fc, xp) * w for fc, w in zip(f, _WHITE, strict=True)]
        error = sum(weight * c for weight, c in zip(_ICC_LUMINANCE_OF_XYZ, xyz, strict=True)) - target
        going &= xp.abs(error) > 1e-15
        if not bool(going.any()):
            break
        slope = sum(weight * _f_inverse_slope_array(fc, xp) for weight, fc in zip(luminance, f, strict=True))
        going &= slope > 0.0
        fy = xp.where(going, fy - error / xp.where(going, slope, 1.0), fy)
    else:  # the colour of the last step's L*, as the kernel's
        f = (fy + a / 500.0, fy, fy - b / 200.0)
        xyz = [_f_inverse_array(fc, xp) * w for fc, w in zip(f, _WHITE, strict=True)]
    return [row[0] * xyz[0] + row[1] * xyz[1] + row[2] * xyz[2] for row in _RGB_FROM_XYZ]


def _excess_array(lightness, a, b, scale, xp: Any = np) -> np.ndarray:
    """How far L, scale·a, scale·b lies outside the sRGB cube in linear RGB (<= 0: inside), of arrays."""
    red, green, blue = _lab_to_linear_array(lightness, a * scale, b * scale, xp)
    return functools.reduce(xp.maximum, [-red, red - 1.0, -green, green - 1.0, -blue, blue - 1.0])


def _largest_chroma_scale_array(lightness, a, b, xp: Any = np) -> np.ndarray:
    """:func:`_largest_chroma_scale` of 1-D arrays: the same steps, on the values not yet within
    1e-9 of their scale."""
    low, high = xp.zeros(lightness.shape), xp.ones(lightness.shape)
    f_low, f_high = _excess_array(lightness, a, b, low, xp), _excess_array(lightness, a, b, high, xp)
    gray_outside = f_low > 0.0
    side = xp.zeros(lightness.shape, xp.int8)  # which end the last step moved: -1 low, 1 high
    going = ~gray_outside
    for _ in range(100):
        going &= high - low > 1e-9
        at = xp.flatnonzero(going)
        if not at.size:
            break
        lo, hi, f_lo, f_hi, moved = low[at], high[at], f_low[at], f_high[at], side[at]
        scale = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        halve = ~((lo < scale) & (scale < hi))
        scale[halve] = 0.5 * (lo[halve] + hi[halve])
        f = _excess_array(lightness[at], a[at], b[at], scale, xp)
        inside = f <= 0.0
        low[at] = xp.where(inside, scale, lo)
        f_low[at] = xp.where(inside, f, xp.where(moved == 1, 0.5 * f_lo, f_lo))
        high[at] = xp.where(inside, hi, scale)
        f_high[at] = xp.where(inside, xp.where(moved == -1, 0.5 * f_hi, f_hi), f)
        side[at] = xp.where(inside, -1, 1)
    return xp.where(gray_outside, 0.0, low)


def _srgb_encode_array(v: np.ndarray, xp: Any = np) -> np.ndarray:
    """:func:`_srgb_encode` of an array."""
    v = xp.maximum(v, 0.0)
    return xp.minimum(xp.where(v > 0.0031308, 1.055 * v ** (1 / 2.4) - 0.055, 12.92 * v), 1.0)


def _lab_to_srgb_array(lightness, ab, shrink_chroma: bool, out, xp: Any = np) -> None:
    """:func:`_lab_to_srgb` as array code (a small image's, or a device's with ``xp`` CuPy), into
    ``out``; slower where most colours lie outside sRGB (benchmarks/results/code_notes.md)."""
    lightness, a, b = lightness.ravel(), ab[..., 0].ravel(), ab[..., 1].ravel()
    linear = _lab_to_linear_array(lightness, a, b, xp)
    if shrink_chroma:
        inside = functools.reduce(xp.logical_and, [(0.0 <= c) & (c <= 1.0) for c in linear])
        outside = xp.flatnonzero(~inside)
        if outside.size:
            scale = _largest_chroma_scale_array(lightness[outside], a[outside], b[outside], xp)
            fitted = _lab_to_linear_array(lightness[outside], a[outside] * scale, b[outside] * scale, xp)
            for channel, values in zip(linear, fitted, strict=True):
                channel[outside] = values
    for c, channel in enumerate(linear):
        out[..., c] = _srgb_encode_array(channel, xp).reshape(out.shape[:-1])


def lightness_of_gray_on(gray, xp: Any) -> Any:
    """:func:`lightness_of_gray` of an array of ``xp`` (CuPy's: on the device), whole.

    Parameters
    ----------
    gray : array
        Gamma-encoded gray values in [0, 1] (clipped to it).
    xp : module
        NumPy or CuPy.

    Examples
    --------
    >>> bool(np.allclose(lightness_of_gray_on(np.array([0.2, 0.7]), np), lightness_of_gray(np.array([0.2, 0.7]))))
    True
    """
    v = xp.clip(xp.asarray(gray, dtype=xp.float64), 0.0, 1.0)
    y = xp.where(v > 0.04045, ((xp.maximum(v, 0.04045) + 0.055) / 1.055) ** 2.4, v / 12.92) * _Y_OF_LINEAR_GRAY
    t = y / _WHITE_Y
    return 116.0 * xp.where(t > 0.008856, xp.cbrt(t), 7.787 * t + 16.0 / 116.0) - 16.0


def lightness_of_gray(gray: np.ndarray) -> np.ndarray:
    """CIE L of gray sRGB values ``g`` in [0, 1]: ``rgb2lab(g, g, g).L``, without building 3 channels.

    Parameters
    ----------
    gray : array_like
        Gamma-encoded gray values in [0, 1] (clipped to it), of any shape; a scalar gives a scalar.
    """
    gray = np.asarray(gray, dtype=np.float64)
    out = np.empty(gray.shape)
    values, lightness = gray.reshape(-1), out.reshape(-1)
    # In bands: the formula's temporaries are several images' worth.
    for start in range(0, values.size, _BAND_VALUES):
        part = slice(start, start + _BAND_VALUES)
        y = _srgb_decode(np.clip(values[part], 0.0, 1.0)) * _Y_OF_LINEAR_GRAY
        lightness[part] = 116.0 * _lab_f(y / _WHITE_Y) - 16.0
    return out if out.ndim else out[()]


def gray_from_lightness(lightness: np.ndarray) -> np.ndarray:
    """The gray sRGB value whose CIE lightness is ``lightness`` (inverse of :func:`lightness_of_gray`).

    Parameters
    ----------
    lightness : array_like
        L* values (clipped to [0, 100]), of any shape.
    """
    lightness = np.clip(np.asarray(lightness, dtype=np.float64), 0.0, 100.0)
    zeros = np.zeros_like(lightness)
    y = skcolor.lab2xyz(np.stack([lightness, zeros, zeros], axis=-1), illuminant="D65", channel_axis=-1)[..., 1]
    linear = np.ascontiguousarray(y / _Y_OF_LINEAR_GRAY, dtype=np.float64)
    return _srgb_encode_all(linear.ravel()).reshape(linear.shape)


def same_lightness_gray(
    rgb: np.ndarray, out: np.ndarray | None = None, *, image_pixels: int | None = None
) -> np.ndarray:
    """The gray image with the same CIE lightness as a colour image (docs/design.md, "Conventions"):
    ``gray_from_lightness(rgb_to_lab(rgb)[..., 0])``, pixel by pixel in one compiled pass.

    Parameters
    ----------
    rgb : ndarray
        ``H×W×3`` sRGB in [0, 1] (an alpha channel is ignored); integer samples scaled as
        :func:`~varcolor.io.read_image` or :func:`rgb_to_lab` scale them.
    out : ndarray, optional
        ``H×W`` float64 to write the gray into (a band of a whole image's gray, in place).
    image_pixels : int, optional
        The size of the whole image ``rgb`` is a band of: it chooses array code or the kernel.

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.random.default_rng(0).random((4, 5, 3))
    >>> bool(np.allclose(same_lightness_gray(rgb), gray_from_lightness(rgb_to_lab(rgb)[..., 0]), atol=1e-12))
    True
    """
    rgb = _check_rgb(rgb)
    compiled = not array_code(image_pixels or rgb.shape[0] * rgb.shape[1])  # a small image's first run compiles nothing
    luminance = np.ascontiguousarray(ICC_LUMINANCE, dtype=np.float64)
    if compiled and rgb.dtype in (np.uint8, np.uint16):
        # A file's levels as they are: no float copy first, each sample's value looked up by its level.
        _compile_levels_kernel()
        top, out = np.iinfo(rgb.dtype).max, _gray_out(rgb, out)
        near = _near_gray()
        _same_lightness_gray_of_levels(rgb, top, luminance, _WHITE_Y, _Y_OF_LINEAR_GRAY, _decoded_levels(), near, out)
        return out
    # Integer samples as read_image makes them floats: the compiled pass takes [0, 1].
    if rgb.dtype in (np.uint8, np.uint16):
        rgb = levels_to_float(rgb)
    else:
        rgb = img_as_float64(rgb) if rgb.dtype.kind in "iu" else np.asarray(rgb, dtype=np.float64)
    if not compiled:
        return _same_lightness_gray_array(rgb, _gray_out(rgb, out))
    # scikit-image's rgb2lab and lab2xyz formulas, per pixel: no whole-image temporaries.
    out = _gray_out(rgb, out)
    compile_once(_srgb_decode_one, numba.float64)
    compile_once(
        _same_lightness_gray,
        any_layout(3),
        any_layout(1),
        numba.float64,
        numba.float64,
        any_layout(1),
        any_layout(3),
        any_layout(2, readonly=False),
    )
    _same_lightness_gray(rgb, luminance, _WHITE_Y, _Y_OF_LINEAR_GRAY, _decoded_levels(), _near_gray(), out)
    return out


def _gray_out(rgb: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """Where :func:`same_lightness_gray` writes: ``out`` checked, or a new array."""
    if out is None:
        return np.empty(rgb.shape[:2])
    if out.shape != rgb.shape[:2] or out.dtype != np.float64:
        raise ValueError(f"out must be float64 of shape {rgb.shape[:2]}, got {out.dtype} {out.shape}")
    return out


def _compile_levels_kernel() -> None:
    """:func:`_same_lightness_gray_of_levels` compiled for 8- and 16-bit samples, once."""
    rest = (numba.int64, any_layout(1), numba.float64, numba.float64, any_layout(1), any_layout(3))
    compile_each_once(
        _same_lightness_gray_of_levels,
        *(
            (numba.types.Array(sample, 3, "A", readonly=True), *rest, any_layout(2, readonly=False))
            for sample in (numba.uint8, numba.uint16)
        ),
    )


def _same_lightness_gray_array(rgb: np.ndarray, out: np.ndarray) -> np.ndarray:
    """:func:`_same_lightness_gray` as array code (a small image's), in bands of rows."""
    luminance = np.asarray(ICC_LUMINANCE, dtype=np.float64)
    step = max(1, (1 << 13) // max(rgb.shape[1], 1))
    for top in range(0, rgb.shape[0], step):
        band = rgb[top : top + step]
        linear = np.where(band > 0.04045, ((np.maximum(band, 0.04045) + 0.055) / 1.055) ** 2.4, band / 12.92)
        t = linear @ luminance / _WHITE_Y
        f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16.0 / 116.0)
        lightness = np.clip(116.0 * f - 16.0, 0.0, 100.0)  # gray_from_lightness's clip
        v = np.maximum(_f_inverse_array((lightness + 16.0) / 116.0) * _WHITE_Y / _Y_OF_LINEAR_GRAY, 0.0)
        encoded = np.where(v > 0.0031308, 1.055 * np.maximum(v, 0.0031308) ** (1 / 2.4) - 0.055, 12.92 * v)
        first = band[..., 0]
        gray = (first == band[..., 1]) & (first == band[..., 2]) & (first >= 0) & (first <= 1)
        out[top : top + step] = np.where(gray, first, np.minimum(encoded, 1.0))  # a gray pixel is its own gray
    return out


@numba.njit(cache=True, nogil=True)
def _srgb_decode_one(v):
    """Gamma-encoded sRGB to linear (scikit-image's formula, unclipped)."""
    return ((v + 0.055) / 1.055) ** 2.4 if v > 0.04045 else v / 12.92


_LEVELS: list[np.ndarray] = []


def _decoded_levels() -> np.ndarray:
    """:func:`_srgb_decode_one` of every 8- and 16-bit sample (``k / 65535``), looked up instead of computed."""
    if not _LEVELS:
        # (NumPy's formula: no compile; the same values as the kernel's, tests/test_color.py checks)
        _LEVELS.append(_srgb_decode(np.arange(65536) / 65535.0))
    return _LEVELS[0]


@numba.njit(cache=True, nogil=True)
def _gray_of_luminance(y, white_y, gray_y):
    """The gray with the lightness of a colour of luminance ``y``: CIE's L* of it (clipped as
    :func:`gray_from_lightness` clips) and back, sRGB-encoded."""
    t = y / white_y
    f = np.cbrt(t) if t > 0.008856 else 7.787 * t + 16.0 / 116.0
    lightness = min(max(116.0 * f - 16.0, 0.0), 100.0)  # gray_from_lightness's clip
    return _srgb_encode(_f_inverse((lightness + 16.0) / 116.0) * white_y / gray_y)


# nogil: the studio makes a photo's gray in a thread while its server answers the page.
@numba.njit(cache=True, parallel=True, nogil=True)
def _same_lightness_gray(rgb, luminance, white_y, gray_y, levels, near, out):
    spread = (near.shape[1] - 1) // 2
    for i in numba.prange(rgb.shape[0]):
        for j in range(rgb.shape[1]):
            red, green, blue = rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2]
            if red == green and green == blue and 0.0 <= red <= 1.0:
                out[i, j] = red  # a gray pixel is its own gray (most of a gray scan stored as RGB)
                continue
            if 0.0 <= red <= 1.0 and 0.0 <= green <= 1.0 and 0.0 <= blue <= 1.0:
                # An 8-bit file's floats near gray (a noisy scan's): the table's gray, the same sum.
                r, g, b = int(red * 255.0 + 0.5), int(green * 255.0 + 0.5), int(blue * 255.0 + 0.5)
                if r / 255.0 == red and g / 255.0 == green and b / 255.0 == blue:
                    if abs(g - r) <= spread and abs(b - r) <= spread:
                        out[i, j] = near[r, g - r + spread, b - r + spread]
                        continue
            y = 0.0
            for c in range(3):
                v = rgb[i, j, c]
                k = int(v * 65535.0 + 0.5) if 0.0 <= v <= 1.0 else 0
                # A sample of 8 or 16 bits (most photos): its value looked up.
                y += luminance[c] * (levels[k] if k / 65535.0 == v else _srgb_decode_one(v))
            out[i, j] = _gray_of_luminance(y, white_y, gray_y)


#: Channels of an 8-bit pixel at most this many levels from its red are made gray by a table
#: (:func:`_near_gray_table`): a noisy gray scan stored as RGB finds nearly all its pixels there.
NEAR_GRAY_TABLE_SPREAD = 10
_NEAR_GRAY: list[np.ndarray] = []


@numba.njit(cache=True, nogil=True)
def _gray_of_samples(red, green, blue, step, luminance, white_y, gray_y, levels):
    """The same-lightness gray of one pixel of 8- or 16-bit samples (``step``: 257 or 1, a
    sample's place in ``levels``, the decoded 16-bit levels)."""
    y = luminance[0] * levels[red * step] + luminance[1] * levels[green * step] + luminance[2] * levels[blue * step]
    return _gray_of_luminance(y, white_y, gray_y)


@numba.njit(cache=True, nogil=True)
def _near_gray_table(spread, luminance, white_y, gray_y, levels):
    table = np.full((256, 2 * spread + 1, 2 * spread + 1), np.nan)
    for red in range(256):
        for green in range(max(red - spread, 0), min(red + spread, 255) + 1):
            for blue in range(max(red - spread, 0), min(red + spread, 255) + 1):
                gray = _gray_of_samples(red, green, blue, 257, luminance, white_y, gray_y, levels)
                table[red, green - red + spread, blue - red + spread] = gray
    return table


def _near_gray() -> np.ndarray:
    """The table of :data:`NEAR_GRAY_TABLE_SPREAD`'s pixels' grays (made once a process: cheap)."""
    if not _NEAR_GRAY:
        luminance = np.ascontiguousarray(ICC_LUMINANCE, dtype=np.float64)
        _NEAR_GRAY.append(
            _near_gray_table(NEAR_GRAY_TABLE_SPREAD, luminance, _WHITE_Y, _Y_OF_LINEAR_GRAY, _decoded_levels())
        )
    return _NEAR_GRAY[0]


@numba.njit(cache=True, parallel=True, nogil=True)
def _same_lightness_gray_of_levels(samples, top, luminance, white_y, gray_y, levels, near, out):
    """:func:`_same_lightness_gray` of 8- or 16-bit samples as they are (the same values as of their
    floats), with no float copy of the photo."""
    step = 65535 // top
    spread = (near.shape[1] - 1) // 2
    for i in numba.prange(samples.shape[0]):
        for j in range(samples.shape[1]):
            red, green, blue = samples[i, j, 0], samples[i, j, 1], samples[i, j, 2]
            if red == green and green == blue:
                out[i, j] = np.float64(red) / np.float64(top)
                continue
            if top == 255:
                to_green, to_blue = np.int64(green) - np.int64(red), np.int64(blue) - np.int64(red)
                if abs(to_green) <= spread and abs(to_blue) <= spread:
                    out[i, j] = near[red, to_green + spread, to_blue + spread]
                    continue
            out[i, j] = _gray_of_samples(red, green, blue, step, luminance, white_y, gray_y, levels)


def luma601(rgb: np.ndarray) -> np.ndarray:
    """Rec.601 luma ``0.299 R + 0.587 G + 0.114 B`` of gamma-encoded sRGB (the YIQ Y).

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
        Gamma-encoded sRGB in [0, 1].
    """
    return _check_rgb(rgb) @ _YIQ_FROM_RGB[0]


def to_gray(image: np.ndarray) -> np.ndarray:
    """An ``H×W`` gray image from gray or colour input; colour becomes its same-lightness gray.

    A colour image whose channels are all equal is returned as that channel unchanged.

    Parameters
    ----------
    image : ndarray
        ``H×W`` gray (returned as it is) or ``H×W×3`` sRGB in [0, 1].
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return image
    rgb = _check_rgb(image, "image")
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
        return rgb[..., 0].copy()
    return same_lightness_gray(rgb)


#: Pixels of an image made gray at a time (:func:`gray_by_bands`): short enough that a studio's
#: work ahead, waiting between two bands, lets a stroke in.
GRAY_BAND_PIXELS = 1 << 18


def gray_band_rows(width: int) -> int:
    """Rows of an image ``width`` pixels wide in a band of :func:`gray_by_bands`.

    Parameters
    ----------
    width : int
        The image's width in pixels.

    Examples
    --------
    >>> gray_band_rows(7746), gray_band_rows(10**7)
    (33, 1)
    """
    return max(1, GRAY_BAND_PIXELS // max(width, 1))


def gray_by_bands(
    pixels: np.ndarray,
    dtype: np.dtype | type = np.float64,
    *,
    colour: bool | None = None,
    between: Callable[[], None] | None = None,
) -> np.ndarray:
    """:func:`to_gray` of an image as :func:`~varcolor.io.read_image` gives it, made from its
    levels a band of rows at a time (:data:`GRAY_BAND_PIXELS`): a scan's pixels are never held
    in double precision whole.

    Parameters
    ----------
    pixels : ndarray
        ``H×W`` or ``H×W×C`` floats in [0, 1], or 8- or 16-bit levels; an alpha channel is ignored.
    dtype : numpy float dtype
        Type of the gray.
    colour : bool or None
        Whether the channels differ somewhere (else the first is the gray); None: found out here.
    between : callable or None
        Called with no arguments before each band.

    Examples
    --------
    >>> rgb = np.random.default_rng(0).integers(0, 256, (600, 7, 3), dtype=np.uint8)
    >>> bool(np.array_equal(gray_by_bands(rgb), to_gray(rgb / 255.0)))
    True
    """
    step = between or (lambda: None)

    def floats(part: np.ndarray) -> np.ndarray:  # floats given are taken as they are
        if part.dtype in (np.uint8, np.uint16):
            # Levels are taken as their double-precision floats (found in the decoding table);
            # a single-precision gray is then that gray rounded.
            return part
        return levels_to_float(part, dtype) if part.dtype.kind == "u" else part

    rows = gray_band_rows(pixels.shape[1])
    bands = range(0, pixels.shape[0], rows)
    if colour is None:
        colour = pixels.ndim == 3 and not equal_channels(pixels, rows, between)
    if pixels.ndim == 2 or not colour:
        first = pixels if pixels.ndim == 2 else pixels[..., 0]
        return levels_to_float(first, dtype) if first.dtype.kind == "u" else np.array(first, dtype)
    out = np.empty(pixels.shape[:2], dtype)
    if between is None and pixels.dtype in (np.uint8, np.uint16) and out.dtype == np.float64:
        if not array_code(out.size):
            # The kernel reads the levels as they are, no float copy: one pass, not one a band (each
            # pass starts numba's threads, which wait for cores other work holds).
            return same_lightness_gray(pixels[..., :3], out=out)
    for top in bands:
        step()
        band = floats(pixels[top : top + rows, :, :3])
        if out.dtype == np.float64:
            same_lightness_gray(band, out=out[top : top + rows], image_pixels=out.size)
        else:
            out[top : top + rows] = same_lightness_gray(band, image_pixels=out.size)
    return out


def rgb_to_yiq(rgb: np.ndarray) -> np.ndarray:
    """sRGB to NTSC YIQ with MATLAB's ``rgb2ntsc`` matrix (used by ``space="yiq"``).

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
        Gamma-encoded sRGB in [0, 1].
    """
    return _check_rgb(rgb) @ _YIQ_FROM_RGB.T


def yiq_to_rgb(yiq: np.ndarray) -> np.ndarray:
    """NTSC YIQ to sRGB in [0, 1] as MATLAB's ``ntsc2rgb`` of Levin et al.'s time did it.

    Negative values become 0; a pixel with a channel above 1 is divided by its largest channel.

    Parameters
    ----------
    yiq : ndarray, ``H×W×3``
        Y in [0, 1], I and Q as :func:`rgb_to_yiq` gives them.
    """
    rgb = np.maximum(np.asarray(yiq) @ _RGB_FROM_YIQ.T, 0.0)
    peak = rgb.max(axis=-1, keepdims=True)
    return np.where(peak > 1.0, rgb / np.maximum(peak, 1.0), rgb)
