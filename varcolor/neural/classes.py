"""The class head's ab bins: their centres, class rebalancing, and the annealed-mean decoding.

The head predicts, per quarter-size cell, a distribution over 529 ab bins (23×23, step 10, centres
−110…110, a-major). Zhang et al. 2016 ("Colorful Image Colorization") make it colourful in two
ways, both here:

- **Class rebalancing** (training): the cross-entropy of a pixel whose true bin is q is weighted by
  ``w_q ∝ 1 / ((1 − λ) p̃_q + λ / Q)``, with ``p̃`` the training set's bin distribution smoothed
  by a Gaussian (σ = 5 ab units) and ``Q`` the number of in-gamut bins (313), scaled so that
  ``Σ p̃_q w_q = 1`` (the mean weight over training pixels is 1). Rare saturated bins then count
  as much as the common desaturated ones.
- **Rebalanced decoding**: a head trained with plain cross-entropy estimates ``p(q | x)``; the
  minimiser of the rebalanced loss is ``∝ w_q p(q | x)``, so adding ``log w_q`` to the logits
  (logit adjustment, Menon et al. 2021) rebalances a trained head without training it again;
  ``strength`` s adds ``s·log w_q``.
- **Annealed mean** (decoding): the mean of the distribution re-tempered to ``f_T(z) ∝ exp(log z / T)``;
  ``T = 1`` is the mean (muted: it averages the modes), ``T → 0`` the mode (vivid, patchy), the
  paper's ``T = 0.38`` in between.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from ..gamut import ab_bins

STEP = 10.0
PER_AXIS = 23
CLASSES = PER_AXIS * PER_AXIS
LOW = -110.0  # centre of the first bin on each axis
#: The temperature of Zhang et al. 2016's annealed mean (the ``vivid`` automatic colours); kept by
#: the tuning part's sweep (benchmarks/tune_automatic.py, results/tune_automatic_decoding.md).
TEMPERATURE = 0.38
#: Their mixing weight of the uniform distribution in the rebalancing weights, and smoothing σ.
MIX = 0.5
SIGMA = 5.0
#: How much of the rebalancing the decoder applies to a head trained with plain cross-entropy
#: (1 is the full reweighting): the best PSNR among the settings that keep most of the originals'
#: colourfulness on the tuning part (benchmarks/tune_automatic.py).
REBALANCE = 1.0


def centres() -> np.ndarray:
    """The ``529×2`` (a, b) bin centres, a-major (class ``i·23 + j`` is a = −110 + 10i, b = −110 + 10j).

    >>> centres()[[0, 1, 528]].tolist()
    [[-110.0, -110.0], [-110.0, -100.0], [110.0, 110.0]]
    """
    axis = LOW + STEP * np.arange(PER_AXIS)
    a, b = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1)


def in_gamut() -> np.ndarray:
    """Boolean mask of the 529 bins that are among the Q = 313 in-gamut bins of :mod:`varcolor.gamut`.

    >>> int(in_gamut().sum())
    313
    """
    index = np.round((ab_bins() - LOW) / STEP).astype(int)
    mask = np.zeros(CLASSES, bool)
    mask[index[:, 0] * PER_AXIS + index[:, 1]] = True
    return mask


def bin_index(ab: np.ndarray) -> np.ndarray:
    """The class (nearest bin, clipped to the grid) of each chroma in ``ab`` (``…×2``).

    Examples
    --------
    >>> bin_index(np.array([[-110.0, -110.0], [0.0, 0.0], [4.9, -5.1]])).tolist()
    [0, 264, 263]
    """
    index = np.clip(np.round((np.asarray(ab, np.float64) - LOW) / STEP), 0, PER_AXIS - 1).astype(int)
    return index[..., 0] * PER_AXIS + index[..., 1]


def empirical_distribution(ab_images) -> np.ndarray:
    """The fraction of pixels in each of the 529 bins over ``ab_images`` (arrays ``…×2``), each
    image reduced by 4×4 average pooling first, as the class head's targets are.

    Examples
    --------
    >>> p = empirical_distribution([np.zeros((8, 8, 2))])
    >>> float(p[264]), float(p.sum())
    (1.0, 1.0)
    """
    counts = np.zeros(CLASSES)
    for ab in ab_images:
        ab = np.asarray(ab, np.float64)
        h, w = ab.shape[0] // 4 * 4, ab.shape[1] // 4 * 4
        pooled = ab[:h, :w].reshape(h // 4, 4, w // 4, 4, 2).mean(axis=(1, 3))
        counts += np.bincount(bin_index(pooled).ravel(), minlength=CLASSES)
    if counts.sum() == 0:
        raise ValueError("no pixels to count")
    return counts / counts.sum()


def rebalancing_weights(
    distribution: np.ndarray, *, mix: float = MIX, sigma: float = SIGMA, support: np.ndarray | None = None
) -> np.ndarray:
    """Zhang et al. 2016's class weights for a bin distribution.

    Examples
    --------
    >>> p = np.zeros(529); p[264] = 3; p[265] = 1
    >>> support = np.zeros(529, bool); support[[264, 265]] = True
    >>> w = rebalancing_weights(p, mix=0.5, sigma=0, support=support)
    >>> [round(float(v), 4) for v in w[[264, 265]]]  # 1/0.625, 1/0.375, over 0.75/0.625 + 0.25/0.375
    [0.8571, 1.4286]
    """
    p = np.asarray(distribution, np.float64)
    if p.shape != (CLASSES,) or not np.all(np.isfinite(p)) or p.min() < 0 or p.sum() <= 0:
        raise ValueError("the distribution must be 529 non-negative finite numbers, not all zero")
    if not 0 <= mix <= 1:
        raise ValueError(f"mix must be in [0, 1], got {mix}")
    p = p / p.sum()
    if sigma > 0:
        p = gaussian_filter(p.reshape(PER_AXIS, PER_AXIS), sigma / STEP, mode="constant").ravel()
        p /= p.sum()
    support = in_gamut() if support is None else np.asarray(support, bool)
    uniform = np.where(support, 1.0 / support.sum(), 0.0)
    denominator = (1 - mix) * p + mix * uniform
    weights = np.divide(1.0, denominator, out=np.zeros(CLASSES), where=denominator > 0)
    return weights / float(np.sum(p * weights))


def annealed_mean(logits: torch.Tensor, temperature: float = TEMPERATURE) -> torch.Tensor:
    """The annealed mean ab of the class head's ``logits`` (``N×529×h×w``): ``N×2×h×w``.

    ``f_T(z) ∝ exp(log z / T)`` of the softmax ``z`` is ``softmax(logits / T)``; its mean over the
    bin centres is returned. ``T = 1`` gives the mean, ``T → 0`` the mode.

    Examples
    --------
    >>> logits = torch.full((1, 529, 1, 1), -1e4); logits[0, 264] = 0.0; logits[0, 265] = -1.0
    >>> [round(float(v), 3) for v in annealed_mean(logits, 1.0).ravel()]  # 10 / (1 + e)
    [0.0, 2.689]
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    weights = torch.softmax(logits.double() / temperature, dim=1)
    table = torch.from_numpy(centres()).to(weights.device)
    return torch.einsum("nchw,cd->ndhw", weights, table)


def rebalanced_logits(
    logits: torch.Tensor,
    distribution: np.ndarray,
    *,
    strength: float = REBALANCE,
    mix: float = MIX,
    sigma: float = SIGMA,
) -> torch.Tensor:
    """``logits + strength · log w`` with ``w`` the :func:`rebalancing_weights` of the training
    set's bin ``distribution``; out-of-gamut bins are ruled out (logit −10⁴).

    Examples
    --------
    >>> p = np.zeros(529); p[264] = 3; p[265] = 1
    >>> shifted = rebalanced_logits(torch.zeros(1, 529, 1, 1), p, strength=1.0, sigma=0)
    >>> round(float(shifted[0, 265] - shifted[0, 264]), 4)  # log((0.375 + 0.5/313) / (0.125 + 0.5/313))
    1.0902
    """
    weights = rebalancing_weights(distribution, mix=mix, sigma=sigma)
    # Out-of-gamut bins that the smoothing gave a sliver of mass would get enormous weights.
    allowed = in_gamut() & (weights > 0)
    bias = np.where(allowed, strength * np.log(np.where(allowed, weights, 1.0)), -1e4)
    return logits + torch.from_numpy(bias).to(logits.device, logits.dtype).reshape(1, -1, 1, 1)
