"""Motion between consecutive frames (OpenCV's DIS optical flow) and scene cuts.

The flow ``f`` from frame A to frame B gives, for each pixel r of A, where it went in B: ``r + f(r)``.
A pixel's flow is trusted where the flow back from B returns it to within a pixel (forward–backward
consistency) and the luminance it lands on is close to its own. A scene cut is a pair of frames
whose luminance histograms differ a lot, or moderately with a large residual after motion
compensation; the space-time system never couples frames across a cut.

Cost (``benchmarks/video.py`` times it: benchmarks/results/video.md): DIS at its "medium" preset
takes a few percent of a frame's solve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numba
import numpy as np

__all__ = ["Motion", "dense_flow", "motion", "is_cut", "histogram_distance", "CUT_HISTOGRAM", "CUT_SUSPECT"]

#: A histogram distance (half the L1 distance of 32-bin luminance histograms, in [0, 1]) above
#: this is a cut whatever the motion: bikes.mp4's five cuts score 0.22–0.72, its other frame pairs at
#: most 0.11.
CUT_HISTOGRAM = 0.3
#: Above this, a cut if the motion-compensated residual is large too (:data:`CUT_RESIDUAL`).
CUT_SUSPECT = 0.15
#: Mean absolute luminance residual (0–1 scale) after warping by the flow that makes a suspect pair a cut.
CUT_RESIDUAL = 0.06
#: A pixel's flow is trusted where the flow back returns within this many pixels.
CONSISTENCY = 1.0


def _as_uint8(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.clip(np.rint(np.asarray(gray) * 255.0), 0, 255).astype(np.uint8))


_DIS: dict[str, cv2.DISOpticalFlow] = {}
#: Frames are flowed at least this many pixels a side (:func:`dense_flow`).
FLOW_SIDE = 16


def dense_flow(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """DIS optical flow (OpenCV, "medium" preset) from gray frame ``first`` to ``second``
    (``H×W`` floats in [0, 1]): ``H×W×2`` float32 displacements (dx, dy) in pixels.

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[0:64, 0:64]
    >>> a = 0.5 + 0.4 * np.sin(x / 5.0) * np.cos(y / 7.0)
    >>> f = dense_flow(a, np.roll(a, 2, axis=1))   # everything moves 2 pixels right
    >>> bool(abs(np.median(f[16:48, 16:48, 0]) - 2) < 0.2)
    True
    """
    dis = _DIS.get("medium")
    if dis is None:
        dis = _DIS["medium"] = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    height, width = first.shape
    # DIS refuses frames narrower than its patches (cv2.error below 6 to 12 pixels a side, by an
    # uneven rule): a thin clip's frames are flowed padded with their edge pixels, then cropped.
    pad = ((0, max(FLOW_SIDE - height, 0)), (0, max(FLOW_SIDE - width, 0)))
    if pad[0][1] or pad[1][1]:
        first, second = np.pad(first, pad, mode="edge"), np.pad(second, pad, mode="edge")
    # OpenCV makes the output where it is given None; its stubs do not say so
    return dis.calc(_as_uint8(first), _as_uint8(second), None)[:height, :width]  # type: ignore[call-overload]


@dataclass(frozen=True)
class Motion:
    """The motion from frame A to the next frame B, as the space-time system uses it."""

    forward: np.ndarray
    backward: np.ndarray


@numba.njit(cache=True)
def _targets(flow: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Nearest target pixel of each pixel along ``flow``, -1 where it leaves the frame or where
    ``back`` (the flow the other way) does not bring it back within :data:`CONSISTENCY` (one pass:
    a 720p frame's in milliseconds)."""
    height, width = flow.shape[:2]
    out = np.full((height, width), -1, np.int64)
    for y in range(height):
        for x in range(width):
            tx = int(np.rint(x + flow[y, x, 0]))
            ty = int(np.rint(y + flow[y, x, 1]))
            if 0 <= tx < width and 0 <= ty < height:
                rx = flow[y, x, 0] + back[ty, tx, 0]
                ry = flow[y, x, 1] + back[ty, tx, 1]
                if math.hypot(rx, ry) <= CONSISTENCY:
                    out[y, x] = ty * width + tx
    return out


def motion(first: np.ndarray, second: np.ndarray) -> Motion:
    """The trusted nearest-pixel correspondences between two consecutive gray frames, both ways.

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[0:48, 0:48]
    >>> a = 0.5 + 0.4 * np.sin(x / 4.0) * np.cos(y / 6.0)
    >>> m = motion(a, np.roll(a, 1, axis=0))         # everything moves one row down
    >>> int(m.forward[20, 20]) == 21 * 48 + 20, int(m.backward[21, 20]) == 20 * 48 + 20
    (True, True)
    """
    forward, backward = dense_flow(first, second), dense_flow(second, first)
    return Motion(_targets(forward, backward), _targets(backward, forward))


def histogram_distance(first: np.ndarray, second: np.ndarray, bins: int = 32) -> float:
    """Half the L1 distance between two gray frames' luminance histograms: 0 (same) to 1 (disjoint)."""
    h1 = np.histogram(first, bins=bins, range=(0.0, 1.0))[0] / first.size
    h2 = np.histogram(second, bins=bins, range=(0.0, 1.0))[0] / second.size
    return 0.5 * float(np.abs(h1 - h2).sum())


def is_cut(first: np.ndarray, second: np.ndarray, found: Motion | None = None) -> bool:
    """Whether a scene cut separates two consecutive gray frames (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.random((32, 32)) * 0.3, 0.7 + rng.random((32, 32)) * 0.3
    >>> is_cut(a, a), is_cut(a, b)
    (False, True)
    """
    distance = histogram_distance(first, second)
    if distance > CUT_HISTOGRAM:
        return True
    if distance <= CUT_SUSPECT:
        return False
    found = found if found is not None else motion(first, second)
    landed = found.forward.ravel()
    trusted = landed >= 0
    if trusted.mean() < 0.5:  # most of the picture has no counterpart: a new scene
        return True
    residual = np.abs(first.ravel()[trusted] - second.ravel()[landed[trusted]]).mean()
    return bool(residual > CUT_RESIDUAL)
