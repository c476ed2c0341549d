"""Encoders: choose a few cues from a colour image (names and parameters of automatic-recolorization)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..color import rgb_to_lab
from ..errors import InputError, check_image_size
from ..gamut import GlobalHints, ab_histogram, mean_saturation
from .adaptive import encode_adaptive
from .format import ENCODERS, Payload, gray_checksum, write_payload
from .grid import (
    EncodeOptions,
    check_encode_options,
    check_gray,
    grid_points,
    grid_shape,
    package,
    patch_means,
    quantize_chroma,
    values_at,
)

__all__ = [
    "ENCODERS",
    "EncodeOptions",
    "check_encode_options",
    "encode",
    "quantize_chroma",
]

# grid-exclude compares colours quantized to the 10-unit ab bins of the ideepcolor gamut.
_BIN = 10.0
#: Most bytes of a ``global`` payload (histogram and saturation): bins of the rarest colours are
#: dropped until it fits.
GLOBAL_BYTES = 100

#: The encoder of ``encode`` and ``recolor`` runs unless they name another: the best quality per byte.
ENCODER = "adaptive"


def _uniform_cells(ab: np.ndarray, points: np.ndarray, grid: tuple[int, int], spacing: int) -> np.ndarray:
    """True for grid points whose neighbourhood (their spacing×spacing block of cells) holds one
    quantized colour."""
    height, width = ab.shape[:2]
    bins = np.floor(ab / _BIN).astype(np.int64)
    code = bins[..., 0] * 1000 + bins[..., 1]
    scale = np.array([height, width]) / np.array(grid)
    out = np.empty(len(points), bool)
    for k, (gy, gx) in enumerate(points):
        y0, x0 = (np.array([gy, gx]) - spacing // 2) * scale
        y1, x1 = (np.array([gy, gx]) - spacing // 2 + spacing) * scale
        window = code[max(int(y0), 0) : max(int(np.ceil(y1)), 1), max(int(x0), 0) : max(int(np.ceil(x1)), 1)]
        out[k] = window.size > 0 and np.all(window == window.flat[0])
    return out


def _selective_points(rgb: np.ndarray, ab: np.ndarray, grid: tuple[int, int], segments: int):
    """One point per SLIC superpixel, at the grid cell of its centroid, with its mean chroma."""
    from scipy import ndimage  # as in _patch_mean_image
    from skimage.segmentation import slic

    labels = slic(rgb, n_segments=segments, compactness=10, start_label=0, channel_axis=-1)
    count = labels.max() + 1
    index = np.arange(count)
    centroid = np.stack(ndimage.center_of_mass(np.ones(labels.shape), labels, index), axis=0)
    means = np.stack([ndimage.mean(ab[..., c], labels, index) for c in range(2)], axis=-1)
    scale = np.array(grid) / np.array(labels.shape)
    points = np.minimum(np.floor(centroid * scale).astype(np.int64), np.array(grid) - 1)
    return points, means


def _unique(points: np.ndarray, ab: np.ndarray, grid_width: int) -> tuple[np.ndarray, np.ndarray]:
    """One point per grid cell; the last given wins."""
    key = points[:, 0] * grid_width + points[:, 1]
    _, last = np.unique(key[::-1], return_index=True)
    keep = len(key) - 1 - last
    return points[keep], ab[keep]


def encode(
    rgb: np.ndarray,
    encoder: str | None = None,
    *,
    options: EncodeOptions | None = None,
    gray: np.ndarray | None = None,
    **keywords,
) -> Payload:
    """Choose cues from a colour image.

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
    encoder : {"stock", "grid", "grid-exclude", "selective", "grid+selective", "global", "adaptive"}
        ``grid`` (the default): every ``spacing`` cells of the cue grid; ``grid-exclude``: the grid
        without points whose neighbourhood holds one quantized colour; ``selective``: one point per
        SLIC superpixel (``segments`` of them) with its mean chroma; ``grid+selective``: both;
        ``stock``: none; ``global``: no points, the image's ab histogram over the 313 gamut bins and
        its mean saturation (:class:`varcolor.gamut.GlobalHints`, for a network with a global-hints
        branch); ``adaptive``: see :func:`~varcolor.ir.adaptive.encode_adaptive`.
    options : EncodeOptions, optional
        The encoder's options as one value; ``encoder`` and ``keywords`` change them.
    gray : ndarray, optional
        The gray image the decoder will see (its stored samples, ``H×W`` in [0, 1]): the payload
        records its :func:`~varcolor.ir.format.gray_checksum`, so that it decodes with this image
        only; ``adaptive`` also refines its cues against it (see
        :func:`~varcolor.ir.adaptive.encode_adaptive`). Without it, the payload is tied to no image.
    **keywords
        The fields of :class:`EncodeOptions` (``grid_size``, ``spacing``, ``patch``, ``segments``,
        ``quantize``, ``budget``, ``target_psnr``, ``refine``), checked before the image is looked at.

    Examples
    --------
    >>> import skimage.data
    >>> p = encode(skimage.data.astronaut() / 255.0, "grid", grid_size=64, spacing=8)
    >>> p.count, (p.grid_width, p.grid_height)
    (64, (64, 64))
    >>> encode(skimage.data.astronaut() / 255.0, options=EncodeOptions(grid_size=64, spacing=8)).count
    64
    """
    if encoder is not None:
        keywords["encoder"] = encoder
    options = EncodeOptions.build(options, **keywords)
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise InputError(f"encoding needs a colour image (H×W×3), got shape {rgb.shape}")
    check_image_size(rgb.shape)
    checksum = None if gray is None else gray_checksum(check_gray(gray, rgb.shape))
    if options.encoder == "adaptive":
        return encode_adaptive(rgb, options, gray=gray)
    encoder, grid_size, spacing, patch = options.encoder, options.grid_size, options.spacing, options.patch
    segments, quantize = options.segments, options.quantize
    patch = 0 if patch is None else patch
    height, width = rgb.shape[:2]
    grid = grid_shape(256 if grid_size is None else grid_size, height, width)
    ab = rgb_to_lab(rgb[..., :3])[..., 1:]
    chroma_means = patch_means(ab, patch)
    points = np.zeros((0, 2), np.int64)
    chroma = np.zeros((0, 2))
    if encoder in ("grid", "grid-exclude", "grid+selective"):
        points = grid_points(grid, spacing)
        if encoder == "grid-exclude":
            points = points[~_uniform_cells(ab, points, grid, spacing)]
        chroma = values_at(chroma_means, points, grid)
    if encoder in ("selective", "grid+selective"):
        chosen, means = _selective_points(rgb[..., :3], ab, grid, segments)
        if patch:
            means = values_at(chroma_means, chosen, grid)
        points = np.concatenate([points, chosen])
        chroma = np.concatenate([chroma, means])
    points, chroma = _unique(points, chroma, grid[1])
    payload = package(rgb.shape, grid, points, chroma, encoder, patch, quantize)
    payload = dataclasses.replace(payload, checksum=checksum)
    if encoder == "global":
        hints = GlobalHints(ab_histogram(ab), mean_saturation(rgb[..., :3]))  # ab is already converted
        # Weights in units of the largest bin keep the small bins.
        payload = dataclasses.replace(
            payload,
            histogram=np.round(255 * hints.histogram / hints.histogram.max()),
            saturation=round(255 * hints.saturation),
        )
        payload = _within(payload, GLOBAL_BYTES)
    return payload


def _within(payload: Payload, limit: int) -> Payload:
    """A ``global`` payload of at most ``limit`` bytes: its rarest colours' bins dropped, fewest
    pixels first, until it fits (the largest bin always stays)."""
    assert payload.histogram is not None  # a global payload's
    histogram = payload.histogram.copy()
    while len(write_payload(payload)) > limit and np.count_nonzero(histogram) > 1:
        given = np.flatnonzero(histogram)
        smallest = given[histogram[given] == histogram[given].min()]
        histogram[smallest[: max(1, len(given) // 16)]] = 0  # a few at a time: each try compresses anew
        payload = dataclasses.replace(payload, histogram=histogram.copy())
    return payload
