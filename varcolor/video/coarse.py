"""The multi-scale engine on a clip (``levin-multiscale``, the default): the still engine's three
steps (:mod:`varcolor.methods.levin_multiscale`), the first in space and time.

1. **Coarse**: each frame's gray and cues averaged over blocks of ``factor``² pixels, the motion
   brought to the blocks (:func:`coarse_motion`), and the space-time system
   (:mod:`varcolor.video.spacetime`) solved on that grid.
2. **Lift**: each frame's coarse chroma brought to full resolution by the guided lift with its own
   gray.
3. **Correct**: Levin's exact system solved again within ``margin`` of the frame's hard cues.
   Soft carried cues are the grid's alone: held exactly, their switch from one keyframe's to the
   next one's flickered, and correcting every frame cost as much as a still's correction.

A frame of a static clip whose cues are carried as hard cues gets the still engine's result.
"""

from __future__ import annotations

import numba
import numpy as np

from ..methods.base import Problem
from ..methods.levin_multiscale import LevinMultiscale
from ..options import Options
from ..solvers.multiscale import block_mean, coarse_cues, coarse_shape
from .flow import Motion

__all__ = ["video_factor", "engine_words", "coarse_motion", "coarse_rows", "Grid", "BlockGrid", "make_grid"]

#: A block's motion is trusted where at least this share of its pixels' motion is.
TRUSTED_SHARE = 0.5


def video_factor(shape: tuple[int, int], options: Options) -> int:
    """The block side a clip of frames of ``shape`` is solved on: the still engine's for that size
    with ``levin-multiscale`` (1 below 256×256 pixels), 1 with ``levin`` (the exact full-resolution
    space-time solve).

    Examples
    --------
    >>> video_factor((720, 1280), Options()), video_factor((720, 1280), Options(method="levin"))
    (4, 1)
    """
    if options.method != LevinMultiscale.name:
        return 1
    return LevinMultiscale.factor_for(shape, options)


def engine_words(shape: tuple[int, int], options: Options) -> str:
    """Which engine solves a clip of frames of ``shape``, in words (for the command's last line).

    Examples
    --------
    >>> engine_words((720, 1280), Options()), engine_words((720, 1280), Options(method="levin"))
    ('levin-multiscale on 4×4 blocks, restrained', 'levin at full resolution')
    >>> engine_words((120, 160), Options())
    'levin at full resolution, restrained'
    """
    factor = video_factor(shape, options)
    words = f"{LevinMultiscale.name} on {factor}×{factor} blocks" if factor > 1 else "levin at full resolution"
    restrained = options.method == LevinMultiscale.name and LevinMultiscale.restrained_by(options)
    return f"{words}, restrained" if restrained and not options.prior else words


@numba.njit(cache=True)
def _block_targets(target, factor, rows, columns):
    """One direction of :func:`coarse_motion`, in one pass over the frame."""
    height, width = target.shape
    count = np.zeros((rows, columns))
    dy = np.zeros((rows, columns))
    dx = np.zeros((rows, columns))
    pixels = np.zeros((rows, columns))
    for i in range(height):
        for j in range(width):
            bi, bj = i // factor, j // factor
            pixels[bi, bj] += 1.0
            q = target[i, j]
            if q >= 0:
                count[bi, bj] += 1.0
                dy[bi, bj] += q // width - i
                dx[bi, bj] += q % width - j
    out = np.full((rows, columns), -1, np.int64)
    for bi in range(rows):
        for bj in range(columns):
            if count[bi, bj] >= TRUSTED_SHARE * pixels[bi, bj] and count[bi, bj] > 0:
                ty = int(np.rint(bi + dy[bi, bj] / (count[bi, bj] * factor)))
                tx = int(np.rint(bj + dx[bi, bj] / (count[bi, bj] * factor)))
                if 0 <= ty < rows and 0 <= tx < columns:
                    out[bi, bj] = ty * columns + tx
    return out


def coarse_motion(found: Motion, factor: int) -> Motion:
    """The motion between two frames on their ``factor``×``factor``-block grids: each block goes
    where its trusted pixels go on average (to the nearest block), trusted where at least half of
    its pixels are.

    Examples
    --------
    >>> import numpy as np
    >>> target = (np.arange(8 * 8).reshape(8, 8) + 4) % 64   # everything 4 pixels right...
    >>> target[:, 4:] = -1                                    # ...where it stays in the frame
    >>> coarse_motion(Motion(target, target), 4).forward.tolist()
    [[1, -1], [3, -1]]
    """
    rows, columns = coarse_shape(found.forward.shape, factor)
    both = (np.ascontiguousarray(t, np.int64) for t in (found.forward, found.backward))
    return Motion(*(_block_targets(t, factor, rows, columns) for t in both))


def coarse_rows(hard: np.ndarray, rhs: np.ndarray, weight: np.ndarray, factor: int):
    """A frame's cues on the block grid: a block is held where any of its pixels is a hard cue (at
    their mean); elsewhere its soft row's ``β c`` and ``β c p`` are the block means of its pixels'
    (so that the coarse row is the mean of the pixels' rows)."""
    held, values = coarse_cues(hard, rhs, factor)
    soft = block_mean(np.where(hard[..., None], 0.0, np.concatenate([rhs, weight[..., None]], axis=-1)), factor)
    return held, np.where(held[..., None], values, soft[..., :2]), np.where(held, 0.0, soft[..., 2])


class Grid:
    """The grid a shot's space-time system is solved on, and its frames' chroma from that grid's
    solution: here the frames' own pixels (``levin``: the exact full-resolution solve).

    A frame is added (:meth:`add`, once however often it is called) before the grid is asked about
    it, and dropped when done."""

    engine = "levin"
    factor = 1

    def __init__(self) -> None:
        self._grays: dict[int, np.ndarray] = {}

    def add(self, k: int, gray: np.ndarray) -> None:
        """Take frame ``k``'s gray (the first one given for ``k`` is kept)."""
        self._grays.setdefault(k, gray)

    def drop(self, k: int) -> None:
        """Forget frame ``k`` (nothing to do for a frame not added)."""
        self._grays.pop(k, None)

    def gray(self, k: int) -> np.ndarray:
        """Frame ``k``'s gray on the grid."""
        return self._grays[k]

    def motion(self, found: Motion) -> Motion:
        """The motion between two frames on the grid."""
        return found

    def cues(self, hard: np.ndarray, rhs: np.ndarray, weight: np.ndarray) -> tuple:
        """A frame's hard cues, right-hand side and prior weight on the grid (:func:`coarse_rows`)."""
        return hard, rhs, weight

    def chroma(self, k: int, solved: np.ndarray, mask: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, dict]:
        """Frame ``k``'s full-resolution chroma from its ``solved`` chroma on the grid (its hard
        cues: ``mask`` at ``values``), and what was done."""
        return solved, {"engine": self.engine}


class BlockGrid(Grid):
    """``levin-multiscale``'s grid: blocks of ``factor``² pixels, each frame through the still
    engine (:class:`LevinMultiscale`: its block means, its lift and correction)."""

    engine = LevinMultiscale.name

    def __init__(self, shape: tuple[int, int], options: Options):
        self.options, self.factor = options, video_factor(shape, options)
        self.plan = LevinMultiscale.plan(shape, options)  # once per clip: every frame has its size
        self._frames: dict[int, LevinMultiscale] = {}

    def add(self, k: int, gray: np.ndarray) -> None:
        """Make frame ``k``'s still engine, once (:class:`LevinMultiscale`, with the clip's plan)."""
        if k not in self._frames:
            self._frames[k] = LevinMultiscale(gray, self.options, plan=self.plan)

    def drop(self, k: int) -> None:
        """Forget frame ``k``'s still engine."""
        self._frames.pop(k, None)

    def gray(self, k: int) -> np.ndarray:
        """Frame ``k``'s gray as its block means (its still engine's coarse guide)."""
        return self._frames[k].coarse_guide

    def motion(self, found: Motion) -> Motion:
        """The motion between two frames on the blocks (:func:`coarse_motion`)."""
        return coarse_motion(found, self.factor)

    def cues(self, hard: np.ndarray, rhs: np.ndarray, weight: np.ndarray) -> tuple:
        """A frame's cues on the blocks (:func:`coarse_rows`)."""
        return coarse_rows(hard, rhs, weight, self.factor)

    def chroma(self, k: int, solved: np.ndarray, mask: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, dict]:
        """Frame ``k``'s chroma lifted by its gray and corrected near its hard cues by its still engine
        (:meth:`LevinMultiscale.from_coarse`), and what was done."""
        chroma, done = self._frames[k].from_coarse(solved, Problem(mask, values, None, None))
        return chroma, {"engine": self.engine, "factor": self.factor, **done}


def make_grid(shape: tuple[int, int], options: Options) -> Grid:
    """The grid a clip of frames of ``shape`` is solved on with ``options`` (:func:`video_factor`)."""
    return Grid() if video_factor(shape, options) == 1 else BlockGrid(shape, options)
