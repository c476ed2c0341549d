"""Scores of a colorized clip against its original: each frame's PSNR and CIEDE2000, and the
measures of temporal consistency that video colorization papers report.

- **flicker**: mean |Δab| between consecutive frames of the result where the original is still
  (its Lab moves by at most :data:`STILL` between the two frames): colour that changes where
  nothing does.
- **warp error** (Lai et al. 2018, "Learning blind video temporal consistency"): each frame
  against the next one warped back onto it along the original's optical flow (OpenCV's DIS, as
  :mod:`varcolor.video.flow`), over the pixels the flow sees both ways (occluded ones masked by
  the forward-backward check), mean squared RGB difference.
- **CDC**, colour distribution consistency (Liu et al. 2021, "Temporally consistent video
  colorization with deep feature propagation and self-regularization learning"; the NTIRE 2023
  video colorization track's measure): the Jensen–Shannon divergence (natural logarithm) between
  the 256-bin histograms of each 8-bit RGB channel of frames ``t`` and ``t + d``, averaged over
  ``t``, over ``d`` in :data:`CDC_INTERVALS` with equal weights, and over the three channels.
  Lower is more consistent; the original's own CDC is given beside it.

Frames are read one at a time (a film need not fit in memory).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

__all__ = ["STILL", "CDC_INTERVALS", "ClipScores", "score_clip", "cdc", "warp_error"]

#: A pixel is still when its original's Lab moves by at most this between two frames.
STILL = 1.5
#: The frame intervals CDC compares, with equal weights (the published measure's).
CDC_INTERVALS = (1, 2, 4)
#: The forward-backward check of the warp error: a pixel is seen both ways when
#: ``|F + B|² ≤ OCCLUSION_SHARE (|F|² + |B|²) + OCCLUSION_PIXELS`` (Sundaram et al.'s rule).
OCCLUSION_SHARE, OCCLUSION_PIXELS = 0.01, 0.5


@dataclass
class ClipScores:
    """What :func:`score_clip` found."""

    frames: list[dict] = field(default_factory=list)
    psnr: float = float("nan")
    ciede2000: float = float("nan")
    flicker: float = float("nan")
    warp_error: float = float("nan")
    cdc: float = float("nan")
    cdc_original: float = float("nan")

    def summary(self) -> dict[str, float]:
        """The whole clip's scores."""
        return {
            "psnr": self.psnr,
            "ciede2000": self.ciede2000,
            "flicker": self.flicker,
            "warp_error": self.warp_error,
            "cdc": self.cdc,
            "cdc_original": self.cdc_original,
        }


def _levels(frame: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(frame * 255.0), 0, 255).astype(np.uint8)


def _histograms(frame: np.ndarray) -> np.ndarray:
    """The three normalised 256-bin histograms of an RGB frame's 8-bit levels (``3×256``)."""
    levels = _levels(frame)
    counts = np.stack([np.bincount(levels[..., c].ravel(), minlength=256) for c in range(3)]).astype(np.float64)
    return counts / counts.sum(axis=1, keepdims=True)


def _js(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence (natural logarithm) of two distributions."""
    from scipy.stats import entropy

    middle = (p + q) / 2
    return float(0.5 * entropy(p, middle) + 0.5 * entropy(q, middle))


def _cdc_of(histograms: list[np.ndarray]) -> float:
    """CDC from each frame's histograms (:func:`_histograms`)."""
    per_interval = []
    for interval in CDC_INTERVALS:
        pairs = [
            [_js(histograms[t][c], histograms[t + interval][c]) for c in range(3)]
            for t in range(len(histograms) - interval)
        ]
        if pairs:
            per_interval.append(np.mean(pairs, axis=0))
    return float(np.mean(np.mean(per_interval, axis=0))) if per_interval else float("nan")


def cdc(frames: Iterable[np.ndarray]) -> float:
    """Colour distribution consistency of a clip (module docstring): lower is steadier.

    Examples
    --------
    >>> import numpy as np
    >>> still = [np.full((4, 4, 3), 0.5)] * 6
    >>> cdc(still)
    0.0
    >>> flashing = [np.full((4, 4, 3), 0.2 + 0.6 * (k % 2)) for k in range(6)]
    >>> round(cdc(flashing), 4)  # ln 2 between unlike frames, 0 between alike ones: (ln 2 + 0 + 0) / 3
    0.231
    """
    return _cdc_of([_histograms(frame) for frame in frames])


def _flows(first_gray: np.ndarray, second_gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from .flow import dense_flow

    return dense_flow(first_gray, second_gray), dense_flow(second_gray, first_gray)


def _warp_pair(result: np.ndarray, following: np.ndarray, forward: np.ndarray, backward: np.ndarray) -> float:
    """Mean squared RGB difference of ``result`` and ``following`` warped back onto it along the
    flow ``forward`` (frame t to t + 1), where the flow ``backward`` brings it back."""
    import cv2

    height, width = forward.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    to_x, to_y = xs + forward[..., 0], ys + forward[..., 1]
    warped = cv2.remap(following.astype(np.float32), to_x, to_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    back = np.stack(
        [cv2.remap(backward[..., c], to_x, to_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for c in range(2)],
        axis=-1,
    )
    inside = (to_x >= 0) & (to_x <= width - 1) & (to_y >= 0) & (to_y <= height - 1)
    loop = np.sum((forward + back) ** 2, axis=-1)
    seen = inside & (loop <= OCCLUSION_SHARE * (np.sum(forward**2, -1) + np.sum(back**2, -1)) + OCCLUSION_PIXELS)
    if not seen.any():
        return float("nan")
    difference = np.sum((result.astype(np.float32) - warped) ** 2, axis=-1)
    return float(difference[seen].mean() / 3)


def warp_error(result_frames: Iterable[np.ndarray], original_frames: Iterable[np.ndarray]) -> float:
    """The warp error of a result clip (module docstring), the flow taken from its original."""
    scores = score_clip(result_frames, original_frames)
    return scores.warp_error


def score_clip(
    result_frames: Iterable[np.ndarray],
    original_frames: Iterable[np.ndarray],
    progress: Callable[[int], None] | None = None,
) -> ClipScores:
    """Every frame's PSNR and CIEDE2000 against the original's, flicker, warp error and CDC
    (module docstring), the frames read one pair at a time."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    from ..color import to_gray
    from ..metrics import check_pair, psnr

    scores = ClipScores()
    results, originals = iter(result_frames), iter(original_frames)
    histograms: list[np.ndarray] = []
    truth_histograms: list[np.ndarray] = []
    last: tuple | None = None  # (result, original, their Lab, the original's gray)
    index = 0
    while True:
        result, original = next(results, None), next(originals, None)
        if result is None or original is None:
            if result is not None or original is not None:
                longer = "result" if result is not None else "original"
                raise InputError(f"the clips differ in length: the {longer} has frames beyond frame {index - 1}")
            break
        try:
            result, original = check_pair(result, original)
        except InputError as exc:
            raise InputError(f"frame {index}: {exc}") from None
        lab, true_lab = rgb2lab(result), rgb2lab(original)
        row = {
            "frame": index,
            "psnr": psnr(result, original),
            "ciede2000": float(np.mean(deltaE_ciede2000(lab, true_lab, channel_axis=-1))),
        }
        gray = to_gray(original)
        if last is not None:
            previous, _, previous_lab, previous_true_lab, previous_gray = last
            still = np.sqrt(np.sum((true_lab - previous_true_lab) ** 2, axis=-1)) <= STILL
            moved = np.sqrt(np.sum((lab[..., 1:] - previous_lab[..., 1:]) ** 2, axis=-1))
            row["flicker"] = float(moved[still].mean()) if still.any() else float("nan")
            forward, backward = _flows(previous_gray, gray)
            row["warp_error"] = _warp_pair(previous, result, forward, backward)
        scores.frames.append(row)
        histograms.append(_histograms(result))
        truth_histograms.append(_histograms(original))
        last = (result, original, lab, true_lab, gray)
        if progress is not None:
            progress(index)
        index += 1
    if not scores.frames:
        raise InputError("the clips hold no frame")

    def mean(key: str) -> float:
        values = [row[key] for row in scores.frames if key in row and not np.isnan(row[key])]
        return float(np.mean(values)) if values else float("nan")

    scores.psnr, scores.ciede2000 = mean("psnr"), mean("ciede2000")
    scores.flicker, scores.warp_error = mean("flicker"), mean("warp_error")
    scores.cdc, scores.cdc_original = _cdc_of(histograms), _cdc_of(truth_histograms)
    return scores
