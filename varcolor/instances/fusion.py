"""Instance-aware colorization: each object's colours from its own crop, fused by the solver.

Inside each instance's soft mask its crop's chroma replaces the whole image's guess in the prior,
in proportion to the detector's confidence; the method then solves once with that prior, so user
cues still win.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..common.memory import check_memory
from ..cues import Cues
from .detectors import Detector, Instance
from .masks import soft_mask

__all__ = ["find", "fuse", "window_of", "network_crops", "MARGIN", "CROP_BYTES"]

#: Context around an instance's box in its crop, as a share of the box's longer side on each side
#: (benchmarks/results/instances.md).
MARGIN = 1.0
#: Peak bytes per crop pixel of a crop's run: its gray, lifted chroma, confidence and resampling.
CROP_BYTES = 160


def find(detector: Detector, gray: np.ndarray) -> list[Instance]:
    """The detector's instances in ``gray``, each with its soft mask (the detector's own where it
    gives one, else :func:`~varcolor.instances.masks.soft_mask` from the image's edges).

    Parameters
    ----------
    detector : Detector
        The detector that finds the instances (:func:`~varcolor.instances.pick`).
    gray : ndarray, ``H×W``
        The gray image, in [0, 1].
    """
    found = []
    for instance in detector.detect(gray):
        mask = instance.mask if instance.mask is not None else soft_mask(gray, instance.box)
        found.append(Instance(instance.box, instance.score, instance.label, mask))
    return found


def window_of(box: tuple[int, int, int, int], shape: tuple[int, int], margin: float = MARGIN) -> tuple[slice, slice]:
    """The crop of an instance: a square of side ``(1 + 2·margin)`` times the box's longer side,
    centred on the box, moved (not shrunk) to lie inside the image where it fits, else clipped.

    Parameters
    ----------
    box : tuple of int
        The instance's box, ``(top, left, height, width)`` in the image's pixels.
    shape : tuple of int
        The image's ``(height, width)``.
    margin : float, optional
        The context on each side, as a share of the box's longer side (default :data:`MARGIN`).

    Returns
    -------
    tuple of slice
        The crop's rows and columns.

    Examples
    --------
    >>> window_of((10, 10, 20, 10), (100, 100), 0.5)
    (slice(0, 40, None), slice(0, 40, None))
    """
    top, left, height, width = box
    side = round(max(height, width) * (1 + 2 * margin))
    spans = []
    for start, length, size in ((top, height, shape[0]), (left, width, shape[1])):
        begin = start + length / 2 - side / 2
        begin = min(max(round(begin), 0), max(size - side, 0))
        spans.append(slice(begin, min(begin + side, size)))
    return spans[0], spans[1]


def fuse(
    gray: np.ndarray,
    prior: np.ndarray,
    weight: np.ndarray,
    instances: list[Instance],
    crop_guess: Callable[[tuple[slice, slice]], tuple[np.ndarray, np.ndarray]],
    *,
    margin: float | None = None,
    max_memory: float | None = None,
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """The prior and its weight with each instance's own colours inside its mask.

    Parameters
    ----------
    gray : ndarray, ``H×W``
    prior, weight : ndarray, ``H×W×2`` and ``H×W``
        The whole image's guess and weight (:func:`varcolor.neural.prior.guess`); not modified.
    instances : list of Instance
        With their soft masks (:func:`find`).
    crop_guess : callable
        ``crop_guess(window)`` → the guess and weight of the crop ``gray[window]`` (the network run
        on the crop alone, at its input size, lifted to the crop's pixels).
    margin : float, optional
        Context around each box (:func:`window_of`; default :data:`MARGIN`).

    Returns
    -------
    prior, weight : the fused ones
    records : list of dict
        Per instance: ``label``, ``score``, ``box`` (top, left, height, width), ``mask_area``
        (pixels of α > ½), ``window`` (the crop: top, left, height, width) and ``seconds``.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((40, 40), 0.5)
    >>> face = Instance((10, 10, 20, 20), 1.0, "face", np.ones((20, 20)))
    >>> crop = lambda w: (np.full(gray[w].shape + (2,), 30.0), np.ones(gray[w].shape))
    >>> p, c, records = fuse(gray, np.zeros((40, 40, 2)), np.ones((40, 40)), [face], crop)
    >>> float(p[20, 20, 0]), float(p[0, 0, 0]), records[0]["mask_area"]
    (30.0, 0.0, 400)
    """
    prior, weight = prior.copy(), weight.copy()
    margin = MARGIN if margin is None else margin
    records: list[dict[str, Any]] = []  # as Info's instances
    # The surest last: where instances overlap, the higher score has the last word.
    for instance in sorted(instances, key=lambda i: i.score):
        start = time.perf_counter()
        window = window_of(instance.box, gray.shape, margin)
        size = (window[0].stop - window[0].start, window[1].stop - window[1].start)
        pixels = size[0] * size[1]
        check_memory(pixels * CROP_BYTES, f"the {instance.label} instance's crop ({pixels / 1e6:.1f} MP)", max_memory)
        top, left, height, width = instance.box
        assert instance.mask is not None  # find() gives each its soft mask
        share = np.zeros(size)
        y, x = top - window[0].start, left - window[1].start
        share[y : y + height, x : x + width] = instance.score * np.clip(instance.mask, 0.0, 1.0)
        crop_prior, crop_weight = crop_guess(window)
        prior[window] += share[..., None] * (crop_prior - prior[window])
        weight[window] += share * (crop_weight - weight[window])
        records.append(
            {
                "label": instance.label,
                "score": round(float(instance.score), 4),
                "box": [int(v) for v in instance.box],
                "mask_area": int((instance.mask > 0.5).sum()),
                "window": [window[0].start, window[1].start, share.shape[0], share.shape[1]],
                "seconds": round(time.perf_counter() - start, 4),
            }
        )
    records.sort(key=lambda r: -r["score"])
    return prior, weight, records


def network_crops(
    net, gray: np.ndarray, cues: Cues, *, mode: str, prior_weight: float, confidence: str, decode: str
) -> Callable[[tuple[slice, slice]], tuple[np.ndarray, np.ndarray]]:
    """``crop_guess`` for :func:`fuse`: the network's guess on a crop, as the whole image's guess
    is made (:func:`varcolor.neural.prior.guess`, same mode, decoding and cues inside the crop),
    read and scaled as the whole image's: the decoding and the spread mode's contrast follow the
    whole image's cues, not the crop's. Global hints describe the whole image, not a crop: a
    crop gets none.

    Parameters
    ----------
    net : SIGGRAPH17
        The loaded network that colours each crop.
    gray : ndarray, ``H×W``
        The whole gray image, in [0, 1]; each crop is a window of it.
    cues : Cues
        The whole image's cues: those inside a crop are its hints, and their count decides the
        spread mode's contrast.
    mode, prior_weight, confidence, decode
        As the whole image's guess takes them (:func:`varcolor.neural.prior.guess`): how the method
        uses the prior (``spread``, ``anchor`` or ``residual``), its weight β, the confidence
        per pixel (``uniform`` or ``entropy``) and the decoding (``regression`` or ``annealed``).
    """
    from ..neural.prior import SPREAD_CONTRAST, guess

    def crop_guess(window: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
        given = Cues(cues.mask[window], cues.ab[window])
        prior, weight = guess(
            net, gray[window], given, mode=mode, prior_weight=prior_weight, confidence=confidence, decode=decode
        )
        if mode == "spread" and cues.count and not given.count:
            prior = prior * SPREAD_CONTRAST  # as the whole image's guess is, where it has cues
        return prior, weight

    return crop_guess
