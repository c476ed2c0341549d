"""The class head's bins: rebalancing weights and annealed-mean decoding against hand-computed cases."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from varcolor.neural.classes import (  # noqa: E402
    CLASSES,
    annealed_mean,
    bin_index,
    centres,
    empirical_distribution,
    in_gamut,
    rebalancing_weights,
)

CENTRE = 11 * 23 + 11  # the bin of (0, 0)


def two_bins(first: float, second: float) -> tuple[np.ndarray, np.ndarray]:
    p = np.zeros(CLASSES)
    p[CENTRE], p[CENTRE + 1] = first, second
    support = np.zeros(CLASSES, bool)
    support[[CENTRE, CENTRE + 1]] = True
    return p, support


def test_bins_are_a_major_on_a_ten_unit_grid():
    assert centres()[CENTRE].tolist() == [0.0, 0.0] and centres()[CENTRE + 1].tolist() == [0.0, 10.0]
    assert centres()[CENTRE + 23].tolist() == [10.0, 0.0]
    assert bin_index(np.array([14.9, -5.1])) == CENTRE + 23 - 1
    assert in_gamut()[CENTRE] and not in_gamut()[0]  # (−110, −110) is no sRGB colour's chroma


def test_rebalancing_weights_by_hand():
    p, support = two_bins(0.75, 0.25)
    # λ = 0.5, Q = 2: 1/(0.5·0.75 + 0.25) = 1.6 and 1/(0.5·0.25 + 0.25) = 8/3; E_p[w] = 1.2 + 2/3.
    w = rebalancing_weights(p, mix=0.5, sigma=0, support=support)
    scale = 0.75 * 1.6 + 0.25 * 8 / 3
    assert w[CENTRE] == pytest.approx(1.6 / scale) and w[CENTRE + 1] == pytest.approx(8 / 3 / scale)
    assert np.count_nonzero(w) == 2  # no mass and no support: weight 0
    # λ = 0: inverse frequency, every class then weighs the same in total (w_q p_q equal).
    w = rebalancing_weights(p, mix=0.0, sigma=0, support=support)
    assert w[CENTRE] * 0.75 == pytest.approx(w[CENTRE + 1] * 0.25) == pytest.approx(0.5)
    # λ = 1: plain cross-entropy, every weight 1.
    assert rebalancing_weights(p, mix=1.0, sigma=0, support=support)[[CENTRE, CENTRE + 1]] == pytest.approx([1, 1])


def test_mean_weight_over_the_training_pixels_is_one():
    rng = np.random.default_rng(0)
    p = np.where(in_gamut(), rng.exponential(size=CLASSES) ** 3, 0.0)
    w = rebalancing_weights(p)
    from scipy.ndimage import gaussian_filter

    smoothed = gaussian_filter((p / p.sum()).reshape(23, 23), 0.5, mode="constant").ravel()
    assert np.sum(smoothed / smoothed.sum() * w) == pytest.approx(1.0)
    assert w[np.argmax(smoothed)] < 1 < w[in_gamut()].max()  # the commonest bin is weighed down


def test_smoothing_of_one_bin_is_a_gaussian_of_sigma_five():
    p, _ = two_bins(1.0, 0.0)
    # σ = 5 ab units = 0.5 bins; the kernel (truncated at 4σ: radius 2) is exp(−k²/(2·0.25)), k = −2…2.
    kernel = np.exp(-(np.arange(-2, 3) ** 2) / 0.5)
    kernel /= kernel.sum()
    smoothed_centre = kernel[2] ** 2  # separable: the centre keeps kernel[0]·kernel[0]
    support = np.ones(CLASSES, bool)
    w = rebalancing_weights(p, mix=0.5, sigma=5.0, support=support)
    neighbour = kernel[2] * kernel[3]
    raw = np.array([1 / (0.5 * smoothed_centre + 0.5 / CLASSES), 1 / (0.5 * neighbour + 0.5 / CLASSES)])
    assert w[CENTRE + 1] / w[CENTRE] == pytest.approx(raw[1] / raw[0])


def test_empirical_distribution_pools_four_by_four():
    ab = np.zeros((8, 8, 2))
    ab[:4, :4] = (20.0, 0.0)  # one pooled cell at (20, 0)
    ab[4:, 4:, 1] = 8.0  # pools to (0, 8): bin (0, 10)
    p = empirical_distribution([ab])
    assert p[CENTRE + 2 * 23] == 0.25 and p[CENTRE + 1] == 0.25 and p[CENTRE] == 0.5


def logits_of(p: np.ndarray) -> torch.Tensor:
    with np.errstate(divide="ignore"):
        return torch.from_numpy(np.maximum(np.log(p), -1e4)).reshape(1, CLASSES, 1, 1)


def test_annealed_mean_of_two_bins_by_hand():
    p, _ = two_bins(0.75, 0.25)
    assert annealed_mean(logits_of(p), 1.0).ravel().tolist() == pytest.approx([0.0, 2.5])
    # T = 0.5: f ∝ p² = (0.5625, 0.0625) → (0.9, 0.1), b = 1.0
    assert annealed_mean(logits_of(p), 0.5).ravel().tolist() == pytest.approx([0.0, 1.0])


def test_annealed_mean_is_the_mean_at_one_and_the_mode_as_t_falls():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.full(CLASSES, 0.3))
    mean = p @ centres()
    assert annealed_mean(logits_of(p), 1.0).ravel().numpy() == pytest.approx(mean, abs=1e-9)
    mode = centres()[np.argmax(p)]
    assert annealed_mean(logits_of(p), 1e-3).ravel().numpy() == pytest.approx(mode, abs=1e-6)
    # In between, the distance to the mode shrinks as T falls.
    gaps = [np.linalg.norm(annealed_mean(logits_of(p), t).ravel().numpy() - mode) for t in (1.0, 0.38, 0.1)]
    assert gaps[0] > gaps[1] > gaps[2]
    with pytest.raises(ValueError):
        annealed_mean(logits_of(p), 0.0)


def test_bad_distributions_are_refused():
    with pytest.raises(ValueError):
        rebalancing_weights(np.zeros(CLASSES))
    with pytest.raises(ValueError):
        rebalancing_weights(np.full(CLASSES, math.nan))
    with pytest.raises(ValueError):
        rebalancing_weights(np.ones(CLASSES), mix=2.0)
