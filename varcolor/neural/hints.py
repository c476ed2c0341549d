"""Cues ↔ the network's input at its working size.

The input is 4 channels: ``(L − 50)/100`` of the gray image, the hint chroma ``ab/110`` (0 where
no hint), and the hint mask minus ``mask_cent``. A working-size cell holds the area-average of
the cue chroma falling in it and is marked where any cue falls.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.transform import resize

from ..color import lightness_of_gray, to_gray
from ..common.raster import coordinates
from ..cues import Cues
from ..errors import SIZES, InputError, image_size
from ..gamut import BIN_COUNT, GlobalHints
from .siggraph17 import AB_NORM, GLOBAL_INPUTS, L_CENTER, L_NORM


def _cells(shape: tuple[int, int], size: tuple[int, int]):
    """Working-size cell (row, column) of each pixel row and column."""
    rows = np.minimum((np.arange(shape[0]) * size[0]) // shape[0], size[0] - 1)
    cols = np.minimum((np.arange(shape[1]) * size[1]) // shape[1], size[1] - 1)
    return rows, cols


def hint_planes(cues: Cues, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(ab ``h×w×2``, mask ``h×w``) at working size ``size``: per cell, the mean chroma of the cue
    pixels inside it, and whether it has any.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((8, 8), bool); mask[0, 0] = mask[1, 1] = True
    >>> ab = np.zeros((8, 8, 2)); ab[0, 0] = (10, 0); ab[1, 1] = (30, 0)
    >>> planes, marked = hint_planes(Cues(mask, ab), (4, 4))
    >>> planes[0, 0].tolist(), int(marked.sum())
    ([20.0, 0.0], 1)
    """
    rows, cols = _cells(cues.shape, size)
    ys, xs = coordinates(cues.mask)
    index = rows[ys] * size[1] + cols[xs]
    count = np.bincount(index, minlength=size[0] * size[1])
    total = np.stack(
        [np.bincount(index, weights=cues.ab[ys, xs, c], minlength=size[0] * size[1]) for c in range(2)], axis=-1
    )
    marked = count > 0
    ab = np.where(marked[:, None], total / np.maximum(count, 1)[:, None], 0.0)
    return ab.reshape(size + (2,)), marked.reshape(size)


def planes_to_cues(ab: np.ndarray, marked: np.ndarray, shape: tuple[int, int]) -> Cues:
    """The inverse: each marked working-size cell becomes a cue over the pixels it covers."""
    rows, cols = _cells(shape, marked.shape)
    mask = marked[rows][:, cols]
    return Cues(mask, np.where(mask[..., None], ab[rows][:, cols], 0.0))


def _working_size(size: int | tuple[int, int]) -> tuple[int, int]:
    work = (size, size) if isinstance(size, int) else (size[0], size[1])
    if work[0] % 8 or work[1] % 8:
        raise InputError(f"the working size must be a multiple of 8, got {work}")
    return work


def lightness_plane(gray: np.ndarray, size: int | tuple[int, int] = 256) -> np.ndarray:
    """The L* of ``gray`` (any size) at working size ``size``: the input's first plane before its
    normalisation. The gray's alone: where one photo is run again with other cues (the studio's
    suggestions after each stroke), it is made once (not again for each stroke) and given to
    :func:`network_input`.

    Examples
    --------
    >>> lightness_plane(np.full((48, 64), 0.5), 32).shape
    (32, 32)
    """
    return resize(lightness_of_gray(to_gray(gray)), _working_size(size), order=1, anti_aliasing=True)


def network_input(
    gray: np.ndarray,
    cues: Cues,
    mask_cent: float,
    size: int | tuple[int, int] = 256,
    *,
    plane: np.ndarray | None = None,
) -> torch.Tensor:
    """The normalised 1×4×h×w input for ``gray`` (any size) and its cues, at working size ``size``;
    ``plane``: :func:`lightness_plane` of the same ``gray`` and ``size``, made before."""
    work = _working_size(size)
    if plane is None:
        gray = to_gray(gray)
    shape = np.shape(gray)[:2]
    if cues.shape != shape:
        raise InputError(
            f"the cues are for a {image_size(cues.shape)} image but the gray image is {image_size(shape)} {SIZES}"
        )
    lightness = lightness_plane(gray, work) if plane is None else plane
    if lightness.shape != work:
        raise InputError(f"the lightness plane is {lightness.shape[1]}×{lightness.shape[0]}, not the working size")
    ab, marked = hint_planes(cues, work)
    planes = np.concatenate(
        [
            ((lightness - L_CENTER) / L_NORM)[None],
            np.moveaxis(ab / AB_NORM, -1, 0),
            (marked.astype(np.float64) - mask_cent)[None],
        ],
        axis=0,
    )
    return torch.from_numpy(planes[None].astype(np.float32))


def global_input(hints: GlobalHints | None) -> torch.Tensor:
    """The 1×316×1×1 global input: the 313-bin histogram, its "given" flag, the mean saturation,
    its flag (all zeros when ``hints`` is None).

    Examples
    --------
    >>> from varcolor.gamut import GlobalHints
    >>> v = global_input(GlobalHints(np.ones(313), 0.5)).ravel()
    >>> round(float(v[:313].sum()), 6), v[313:].tolist()
    (1.0, [1.0, 0.5, 1.0])
    """
    vector = np.zeros(GLOBAL_INPUTS, np.float32)
    if hints is not None:
        vector[:BIN_COUNT] = hints.histogram
        vector[BIN_COUNT:] = (1.0, hints.saturation, 1.0)
    return torch.from_numpy(vector).reshape(1, GLOBAL_INPUTS, 1, 1)
