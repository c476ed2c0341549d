"""Coarse grids for the multi-scale engine (``levin-multiscale``): block means of the gray image
and of the cues, and the lift of a coarse chroma back to full resolution guided by lightness.
"""

from __future__ import annotations

import numba
import numpy as np

from ..common.kernels import array_code
from ..common.raster import coordinates
from ..common.threads import shared_pool

__all__ = [
    "coarse_shape",
    "block_mean",
    "block_range",
    "coarse_cues",
    "guide_statistics",
    "guided_coefficients",
    "lift_rows",
    "lift",
    "lift_change",
]

#: Pixels :func:`block_mean` sums at a time (in float64), so no image-sized temporary is made.
BAND_PIXELS = 1 << 20


def coarse_shape(shape: tuple[int, int], factor: int) -> tuple[int, int]:
    """The coarse grid of an image of ``shape`` in blocks of ``factor``² pixels (partial blocks at
    the bottom and right count as blocks).

    Parameters
    ----------
    shape : tuple of int
        The image's ``(H, W)``.
    factor : int
        Block side in pixels.
    """
    return (-(-int(shape[0]) // factor), -(-int(shape[1]) // factor))


def _block_sum(image, factor: int, xp):
    """Sums over ``factor``×``factor`` blocks (trailing axes kept), partial blocks zero-padded."""
    height, width = image.shape[:2]
    rows, columns = coarse_shape((height, width), factor)
    pad = [(0, rows * factor - height), (0, columns * factor - width)] + [(0, 0)] * (image.ndim - 2)
    padded = xp.pad(image, pad)
    blocks = padded.reshape((rows, factor, columns, factor) + image.shape[2:])
    return blocks.sum(axis=(1, 3))


def block_mean(image, factor: int, xp=np):
    """The mean of ``image`` (``H×W`` or ``H×W×C``) over blocks of ``factor``×``factor`` pixels
    (a partial block: over its own pixels).

    Parameters
    ----------
    image : ndarray
        The full-resolution array.
    factor : int
        Block side in pixels.
    xp : module
        NumPy or CuPy.
    """
    height, width = image.shape[:2]
    rows, columns = coarse_shape((height, width), factor)
    # Counts from the image's size and sums a band at a time: no padded copy or image of ones.
    per_row = xp.minimum(height - factor * xp.arange(rows), factor)
    per_column = xp.minimum(width - factor * xp.arange(columns), factor)
    counts = (per_row[:, None] * per_column[None, :]).astype(xp.float64)
    band = max(1, BAND_PIXELS // max(1, width * factor))  # block rows summed at once
    sums = xp.concatenate(
        [
            _block_sum(xp.asarray(image[top * factor : (top + band) * factor], dtype=xp.float64), factor, xp)
            for top in range(0, rows, band)
        ]
    )
    return sums / (counts if image.ndim == 2 else counts[..., None])


def coarse_cues(mask, targets, factor: int, xp=np, pixels: tuple | None = None):
    """The cues on the coarse grid: a block is held where any of its pixels is, at the mean of its
    cue pixels' values."""
    if pixels is None:
        rows, columns = coordinates(mask, xp)
        values = xp.asarray(targets)[rows, columns]
    else:
        rows, columns = xp.divmod(pixels[0], mask.shape[1])
        values = pixels[1]
    shape = coarse_shape(mask.shape, factor)
    block = (rows // factor) * shape[1] + columns // factor  # only the cue pixels are read
    # Counted and summed over the blocks that hold cues alone, then placed: over every block of
    # the grid, the sums' image-sized arrays were a share of each large edit.
    blocks, which = xp.unique(block, return_inverse=True)
    counts = xp.bincount(which, minlength=blocks.size).astype(xp.float64)
    channels = values.shape[1]
    sums = xp.stack([xp.bincount(which, weights=values[:, c], minlength=blocks.size) for c in range(channels)], -1)
    held = xp.zeros(shape[0] * shape[1], bool)
    held[blocks] = True
    means = xp.zeros((shape[0] * shape[1], channels))
    means[blocks] = sums / counts[:, None]
    return held.reshape(shape), means.reshape(shape + (channels,))


def _box(image, radius: int, xp, cpu: bool):
    """The mean over a ``(2 radius + 1)``² window (clipped at the borders), any trailing axes; ``cpu``:
    by the CPU's filter (NumPy arrays), else by the array code (either module)."""
    if cpu:
        return _box_cpu(image, radius)
    for axis in (0, 1):
        size = image.shape[axis]
        # The running sum with a 0 before it, its ends repeated ``radius`` times: a window's sum is
        # then the difference of two slices (gathering by index arrays cost twice as much).
        pad = [(0, 0)] * image.ndim
        pad[axis] = (1, 0)
        cumulative = xp.pad(xp.cumsum(image, axis=axis), pad)
        pad[axis] = (radius, radius)
        cumulative = xp.pad(cumulative, pad, mode="edge")
        high = [slice(None)] * image.ndim
        low = list(high)
        high[axis], low[axis] = slice(2 * radius + 1, 2 * radius + 1 + size), slice(0, size)
        index = xp.arange(size)
        count = (xp.minimum(index + radius + 1, size) - xp.maximum(index - radius, 0)).astype(xp.float64)
        shape = [1] * image.ndim
        shape[axis] = size
        image = (cumulative[tuple(high)] - cumulative[tuple(low)]) / count.reshape(shape)
    return image


def _box_cpu(image: np.ndarray, radius: int) -> np.ndarray:
    """:func:`_box` on the CPU: scipy's running sums, zeros past the borders, the windows at the borders
    then divided by the pixels they hold."""
    from scipy import ndimage  # loaded where used: the command line's help imports this module

    size = 2 * radius + 1
    out = ndimage.uniform_filter1d(np.asarray(image, np.float64), size, axis=0, mode="constant")
    ndimage.uniform_filter1d(out, size, axis=1, mode="constant", output=out)
    for axis in (0, 1):
        n = image.shape[axis]
        index = np.arange(n)
        held = np.minimum(index + radius + 1, n) - np.maximum(index - radius, 0)
        edge = np.flatnonzero(held < size)  # the windows the border cuts
        shape = [1] * image.ndim
        shape[axis] = edge.size
        part = (slice(None),) * axis + (edge,)
        out[part] *= (size / held[edge]).reshape(shape)
    return out


def guide_statistics(guide, radius: int, eps: float, xp=np, *, portable: bool = False) -> tuple:
    """What :func:`guided_coefficients` reads of the guide alone (its windows' means and damped variances),
    for fits of many chromas against one guide; ``portable``: by the array code written for CuPy even on NumPy."""
    cpu = xp is np and not portable
    guide = xp.asarray(guide, dtype=xp.float64)[..., None]
    mean_guide = _box(guide, radius, xp, cpu)
    denominator = xp.maximum(_box(guide * guide, radius, xp, cpu) - mean_guide**2, 0.0) + eps
    return guide, mean_guide, denominator


def guided_coefficients(
    guide, chroma, radius: int, eps: float, xp=np, statistics: tuple | None = None, *, portable: bool = False
):
    """The guided filter's smoothed affine coefficients ``(a, b)`` (each ``h×w×C``) of ``chroma``
    (``h×w×C``) against ``guide`` (``h×w``) over windows of radius ``radius``, slope damped by ``eps``;
    ``portable``: by the array code written for CuPy even on NumPy."""
    if statistics is None:
        statistics = guide_statistics(guide, radius, eps, xp, portable=portable)
    guide, mean_guide, denominator = statistics
    cpu = xp is np and not portable
    chroma = xp.asarray(chroma, dtype=xp.float64)
    channels = chroma.shape[-1]
    if cpu and channels > 1 and chroma[..., 0].size >= THREADED_CELLS:
        # A channel in each of two threads (SciPy's filters and NumPy's arithmetic let the
        # interpreter go): a large edit's lift, which was one core's alone, nearly halved.
        parts = list(
            shared_pool("channels", 2).map(
                lambda c: _coefficients(guide, mean_guide, denominator, chroma[..., c : c + 1], radius, xp, cpu),
                range(channels),
            )
        )
        return tuple(np.concatenate([part[k] for part in parts], axis=-1) for k in (0, 1))
    return _coefficients(guide, mean_guide, denominator, chroma, radius, xp, cpu)


#: Coarse grids of at least this many cells fit their channels' coefficients in two threads
#: (:func:`guided_coefficients`; a thread's hand-over costs tens of microseconds).
THREADED_CELLS = 1 << 16


def _coefficients(guide, mean_guide, denominator, chroma, radius: int, xp, cpu: bool):
    """:func:`guided_coefficients` of float64 ``chroma`` from the guide's statistics (``cpu``: :func:`_box`'s)."""
    mean_chroma = _box(chroma, radius, xp, cpu)
    a = _box(guide * chroma, radius, xp, cpu)  # the covariance, then the slope, in place
    a -= mean_guide * mean_chroma
    a /= denominator
    b = mean_chroma
    b -= a * mean_guide
    return _box(a, radius, xp, cpu), _box(b, radius, xp, cpu)


def _axis_weights(size: int, coarse: int, factor: int, start: int, stop: int, xp):
    """For full-resolution indices ``start..stop`` along one axis: the two coarse cells around
    each (cell centres at ``factor·i + (factor − 1)/2``) and the weight of the second."""
    position = (xp.arange(start, stop, dtype=xp.float64) - (factor - 1) / 2) / factor
    position = xp.clip(position, 0.0, coarse - 1)
    low = xp.floor(position).astype(xp.int64)
    high = xp.minimum(low + 1, coarse - 1)
    return low, high, position - low


def lift_rows(a, b, guide, factor: int, rows: slice, xp=np):
    """The lifted chroma ``â·guide + b̂`` on the full-resolution ``rows`` (a slice), ``â``, ``b̂`` the
    coarse coefficients interpolated bilinearly between block centres: one band at a time."""
    height, width = guide.shape
    top, bottom, wy = _axis_weights(height, a.shape[0], factor, rows.start, rows.stop, xp)
    left, right, wx = _axis_weights(width, a.shape[1], factor, 0, width, xp)
    channels = a.shape[2]
    # Separable, a channel at a time on contiguous planes: gathers along a plane's rows are fast,
    # along the columns of H×W×C arrays slow.
    first, last = int(top[0]), int(bottom[-1]) + 1
    planes = xp.moveaxis(xp.concatenate([a[first:last], b[first:last]], axis=2), 2, 0)
    planes = planes[:, :, left] * (1 - wx) + planes[:, :, right] * wx
    top, bottom, wy = top - first, bottom - first, wy[:, None]
    gray = xp.asarray(guide[rows], dtype=xp.float64)
    lifted = xp.empty((len(wy), width, channels))
    for c in range(channels):
        slope, offset = planes[c], planes[channels + c]
        lifted[..., c] = (
            (slope[top] * (1 - wy) + slope[bottom] * wy) * gray + offset[top] * (1 - wy) + offset[bottom] * wy
        )
    return lifted


@numba.njit(cache=True)
def _column_weights(width, columns, factor):
    """For each full-resolution column: the two coarse columns around it and the second's weight
    (:func:`_axis_weights`, the kernels' way)."""
    left, right, weight = np.empty(width, np.int64), np.empty(width, np.int64), np.empty(width)
    for j in range(width):
        x = min(max((j - (factor - 1) / 2) / factor, 0.0), columns - 1)
        left[j] = int(x)
        right[j] = min(left[j] + 1, columns - 1)
        weight[j] = x - left[j]
    return left, right, weight


@numba.njit(cache=True, error_model="numpy")
def _lift_block_row(a, b, guide, factor, low, high, out, row, columns_of, mask, track):
    """Lift the pixel rows of block row ``row`` into ``out``: where ``mask`` (a pixel column's block is
    lifted) only, and with ``track``, how far each pixel column moved (any channel, any of these rows)."""
    height, width = guide.shape
    rows, channels = a.shape[0], a.shape[2]
    left, right, wx = columns_of
    first, last = row * factor, min((row + 1) * factor, height)
    top_of, bottom_of, wy_of = (
        np.empty(last - first, np.int64),
        np.empty(last - first, np.int64),
        np.empty(last - first),
    )
    for i in range(first, last):
        y = min(max((i - (factor - 1) / 2) / factor, 0.0), rows - 1)
        top_of[i - first] = int(y)
        bottom_of[i - first] = min(top_of[i - first] + 1, rows - 1)
        wy_of[i - first] = y - top_of[i - first]
    lowest, count = top_of[0], bottom_of[-1] - top_of[0] + 1
    slopes, offsets = np.empty((count, channels, width)), np.empty((count, channels, width))
    for r in range(count):
        for c in range(channels):
            for j in range(width):
                slopes[r, c, j] = (1 - wx[j]) * a[lowest + r, left[j], c] + wx[j] * a[lowest + r, right[j], c]
                offsets[r, c, j] = (1 - wx[j]) * b[lowest + r, left[j], c] + wx[j] * b[lowest + r, right[j], c]
    moved = np.zeros(width)
    for i in range(first, last):
        top, bottom, wy = top_of[i - first] - lowest, bottom_of[i - first] - lowest, wy_of[i - first]
        for c in range(channels):
            floor, ceiling = low[c], high[c]
            for j in range(width):
                slope = (1 - wy) * slopes[top, c, j] + wy * slopes[bottom, c, j]
                offset = (1 - wy) * offsets[top, c, j] + wy * offsets[bottom, c, j]
                value = min(max(slope * guide[i, j] + offset, floor), ceiling)
                if track:  # a select, not a branch: the loop stays one the compiler vectorizes
                    was = out[i, j, c]
                    moved[j] = max(moved[j], abs(value - was) if mask[j] else 0.0)
                    out[i, j, c] = value if mask[j] else was
                else:
                    out[i, j, c] = value
    return moved


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _lift_band(a, b, guide, factor, low, high, out, blocks, moved, first, stop, track):
    """:func:`_lift_block_row` of block rows ``first`` to ``stop``: with ``track``, only the ``blocks``
    chosen, each one's largest move written into ``moved``; without, every pixel."""
    width = guide.shape[1]
    columns_of = _column_weights(width, a.shape[1], factor)
    mask = np.ones(width, np.bool_)
    for row in range(first, stop):
        if track:
            if not blocks[row].any():
                continue
            for j in range(width):
                mask[j] = blocks[row, j // factor]
        change = _lift_block_row(a, b, guide, factor, low, high, out, row, columns_of, mask, track)
        if track:
            for column in range(blocks.shape[1]):
                if blocks[row, column]:
                    moved[row, column] = change[column * factor : min((column + 1) * factor, width)].max()


def _lift_in_bands(a, b, guide, factor: int, low, high, out, blocks, moved, track: bool) -> None:
    """:func:`_lift_band` over the whole image, its block rows in bands shared by the calling
    thread's numba thread count of threads (:func:`numba.get_num_threads`: a tile thread's is 1)."""
    rows = -(-guide.shape[0] // factor)
    threads = max(1, min(numba.get_num_threads(), rows))
    arguments = (a, b, guide, factor, low, high, out, blocks, moved)
    if threads == 1:
        _lift_band(*arguments, 0, rows, track)
        return
    # Four bands a thread, taken in turns: the rows' work differs (a band of few chosen blocks is
    # quick). ``threads`` tasks, so that no more threads than the caller's count run at once.
    edges = np.linspace(0, rows, 4 * threads + 1).astype(int)

    def bands(first: int) -> None:
        for k in range(first, len(edges) - 1, threads):
            _lift_band(*arguments, edges[k], edges[k + 1], track)

    pool = shared_pool("lift", numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]  # set by numba's reload_config, unseen by a checker
    list(pool.map(bands, range(threads)))


def lift(
    a, b, guide, factor: int, low, high, xp=np, band: int = 512, out=None, blocks=None, moved=None, *, portable=False
):
    """The lifted chroma ``â·guide + b̂`` on the whole image (``H×W×C``), clipped to ``[low, high]`` per
    channel: one numba pass on the CPU, :func:`lift_rows` band by band on CuPy, for a small image and
    where ``portable`` (the array code written for CuPy, even on NumPy)."""
    height, width = guide.shape
    if out is None:
        out = xp.empty((height, width, a.shape[2]))
    # A small image's whole lift by the array code too (no kernel to compile: kernels.array_code).
    if xp is np and not portable and (blocks is not None or not array_code(height * width)):
        coefficients = (np.ascontiguousarray(a, np.float64), np.ascontiguousarray(b, np.float64), guide, factor)
        limits = (np.asarray(low, np.float64), np.asarray(high, np.float64), out)
        if blocks is None:  # (a placeholder of each, not read)
            _lift_in_bands(*coefficients, *limits, np.ones((1, 1), np.bool_), np.zeros((1, 1)), False)
        else:
            moved = np.empty(blocks.shape) if moved is None else moved
            _lift_in_bands(*coefficients, *limits, np.ascontiguousarray(blocks, np.bool_), moved, True)
        return out
    if blocks is not None:
        raise ValueError("lifting some blocks again is NumPy's alone")
    for top in range(0, height, band):
        rows = slice(top, min(top + band, height))
        out[rows] = xp.clip(lift_rows(a, b, guide, factor, rows, xp), low, high)
    return out


@numba.njit(cache=True, parallel=True)
def _change_kernel(last_a, last_b, a, b, darkest, lightest, low, high, change, clips):
    rows, columns, channels = a.shape
    for row in numba.prange(rows):
        for column in range(columns):
            bound = 0.0
            for k in range(max(row - 1, 0), min(row + 2, rows)):
                for m in range(max(column - 1, 0), min(column + 2, columns)):
                    for c in range(channels):
                        for gray in (darkest[row, column], lightest[row, column]):
                            was = last_a[k, m, c] * gray + last_b[k, m, c]
                            now = a[k, m, c] * gray + b[k, m, c]
                            bound = max(bound, abs(now - was))
                            if not (low[c] <= was <= high[c] and low[c] <= now <= high[c]):
                                clips[row, column] = True
            change[row, column] = bound


def lift_change(last, now, darkest, lightest, low, high):
    """How far the lift can move, block by block, from coefficients ``last`` to ``now`` (each a pair ``(a,
    b)`` of ``h×w×C``): a bound on ``|Δâ·gray + Δb̂|`` over each block's pixels.

    Parameters
    ----------
    last, now : (ndarray, ndarray)
        The coefficients of the last lift and of the new one (:func:`guided_coefficients`).
    darkest, lightest : ndarray, ``h×w``
        Each block's darkest and lightest gray.
    low, high : ndarray, ``C``
        The range where clipping does nothing to either lift (where both ranges meet).
    """
    shape = now[0].shape[:2]
    change, clips = np.empty(shape), np.zeros(shape, bool)
    floats = [np.ascontiguousarray(x, np.float64) for x in (*last, *now, darkest, lightest, low, high)]
    _change_kernel(*floats, change, clips)
    return change, clips


def block_range(image, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Each block's least and greatest value of ``image`` (``H×W``), ``h×w`` each: a band of
    block rows at a time.

    Parameters
    ----------
    image : ndarray, ``H×W``
        The full-resolution array, read a band of block rows at a time.
    factor : int
        Block side in pixels; a partial block at the bottom or right counts its own pixels only.
    """
    height, width = image.shape
    rows, columns = coarse_shape((height, width), factor)
    least, greatest = np.empty((rows, columns)), np.empty((rows, columns))
    band = max(1, BAND_PIXELS // max(1, width * factor))
    for top in range(0, rows, band):
        part = np.asarray(image[top * factor : (top + band) * factor], np.float64)
        n = -(-part.shape[0] // factor)
        padded = np.pad(part, [(0, n * factor - part.shape[0]), (0, columns * factor - width)], mode="edge")
        blocks = padded.reshape(n, factor, columns, factor)
        least[top : top + n], greatest[top : top + n] = blocks.min(axis=(1, 3)), blocks.max(axis=(1, 3))
    return least, greatest
