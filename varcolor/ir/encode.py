"""Encoders: choose a few cues from a colour image (names and parameters of automatic-recolorization).

Every method returns a :class:`~varcolor.ir.format.Payload` on a cue grid of ``grid_size`` cells
per side stretched over the image. A cue's chroma is the mean true Lab (a, b) over the square of
radius ``patch`` it will colour when decoded.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.cluster.vq import kmeans2
from skimage.segmentation import slic

from ..color import rgb_to_lab
from ..errors import InputError
from .format import Payload

__all__ = ["ENCODERS", "encode"]

ENCODERS = ("stock", "grid", "grid-exclude", "selective", "grid+selective")
# grid-exclude compares colours quantized to the 10-unit ab bins of the ideepcolor gamut.
_BIN = 10.0


def _grid_shape(grid_size: int, height: int, width: int) -> tuple[int, int]:
    if grid_size < 1:
        raise InputError(f"grid size must be >= 1, got {grid_size}")
    return min(grid_size, height), min(grid_size, width)


def _cell_centres(points: np.ndarray, grid: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    scale = np.array(shape) / np.array(grid)
    return np.minimum(np.floor((points + 0.5) * scale).astype(np.int64), np.array(shape) - 1)


def _patch_means(ab: np.ndarray, centres: np.ndarray, patch: int) -> np.ndarray:
    """Mean chroma over the square of radius ``patch`` around each centre (box filter lookup)."""
    size = 2 * patch + 1
    means = np.stack([ndimage.uniform_filter(ab[..., c], size=size, mode="nearest") for c in range(2)], axis=-1)
    return means[centres[:, 0], centres[:, 1]]


def _grid_points(grid: tuple[int, int], spacing: int) -> np.ndarray:
    if spacing < 1:
        raise InputError(f"grid spacing must be >= 1, got {spacing}")
    ys = np.arange(spacing // 2, grid[0], spacing)
    xs = np.arange(spacing // 2, grid[1], spacing)
    return np.stack(np.meshgrid(ys, xs, indexing="ij"), axis=-1).reshape(-1, 2)


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
        window = code[max(int(y0), 0): max(int(np.ceil(y1)), 1), max(int(x0), 0): max(int(np.ceil(x1)), 1)]
        out[k] = window.size > 0 and np.all(window == window.flat[0])
    return out


def _selective_points(rgb: np.ndarray, ab: np.ndarray, grid: tuple[int, int], segments: int):
    """One point per SLIC superpixel, at the grid cell of its centroid, with its mean chroma."""
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


def quantize_chroma(ab: np.ndarray, colours: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Vector-quantize chroma to a palette of at most ``colours`` (k-means); returns (palette, ab)."""
    if not 1 <= colours <= 256:
        raise InputError(f"--quantize takes 1..256 colours, got {colours}")
    if len(ab) == 0:
        return np.zeros((1, 2)), ab
    k = min(colours, len(np.unique(np.round(ab), axis=0)))
    centroids, labels = kmeans2(ab.astype(np.float64), k, minit="++", seed=seed)
    palette = np.clip(np.round(centroids), -127, 127)
    palette, inverse = np.unique(palette, axis=0, return_inverse=True)
    return palette, palette[inverse.ravel()[labels]]


def encode(rgb: np.ndarray, method: str = "grid", grid_size: int = 256, spacing: int = 16, patch: int = 0,
           segments: int = 200, quantize: int | None = None) -> Payload:
    """Choose cues from a colour image.

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
    method : {"stock", "grid", "grid-exclude", "selective", "grid+selective"}
        ``grid``: every ``spacing`` cells of the cue grid; ``grid-exclude``: the grid without points
        whose neighbourhood holds one quantized colour; ``selective``: one point per SLIC superpixel
        (``segments`` of them) with its mean chroma; ``grid+selective``: both; ``stock``: none.
    grid_size : int
        Cells per side of the cue grid stretched over the image (``-s``); at most the image size.
    spacing : int
        Grid spacing in cells (``-g``).
    patch : int
        Radius in pixels of the square each cue colours when decoded (``-p``).
    quantize : int, optional
        Store chroma as indices into a palette of this many colours (k-means).

    Examples
    --------
    >>> import skimage.data
    >>> p = encode(skimage.data.astronaut() / 255.0, "grid", grid_size=64, spacing=8)
    >>> p.count, (p.grid_width, p.grid_height)
    (64, (64, 64))
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise InputError(f"encoding needs a colour image (H×W×3), got shape {rgb.shape}")
    if method not in ENCODERS:
        raise InputError(f"unknown encoder {method!r}; available: {', '.join(ENCODERS)}")
    if not 0 <= patch <= 255:
        raise InputError(f"patch radius must be in 0..255, got {patch}")
    height, width = rgb.shape[:2]
    grid = _grid_shape(grid_size, height, width)
    ab = rgb_to_lab(rgb[..., :3])[..., 1:]
    points = np.zeros((0, 2), np.int64)
    chroma = np.zeros((0, 2))
    if method in ("grid", "grid-exclude", "grid+selective"):
        points = _grid_points(grid, spacing)
        if method == "grid-exclude":
            points = points[~_uniform_cells(ab, points, grid, spacing)]
        chroma = _patch_means(ab, _cell_centres(points, grid, (height, width)), patch)
    if method in ("selective", "grid+selective"):
        chosen, means = _selective_points(rgb[..., :3], ab, grid, segments)
        if patch:
            means = _patch_means(ab, _cell_centres(chosen, grid, (height, width)), patch)
        points = np.concatenate([points, chosen])
        chroma = np.concatenate([chroma, means])
    points, chroma = _unique(points, chroma, grid[1])
    chroma = np.clip(np.round(chroma), -127, 127)
    palette = None
    if quantize:
        palette, chroma = quantize_chroma(chroma, quantize)
    return Payload(width, height, grid[1], grid[0], points, chroma, method, patch, palette)
