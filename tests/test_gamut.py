"""The quantized ab gamut and the global hints (histogram + saturation)."""

import numpy as np
import pytest

from varcolor.color import rgb_to_lab
from varcolor.gamut import BIN_COUNT, GlobalHints, ab_bins, ab_histogram


def test_bins_are_the_313_grid_points_near_the_srgb_gamut():
    bins = ab_bins()
    assert bins.shape == (BIN_COUNT, 2) == (313, 2)
    assert np.all(bins % 10 == 0) and len(np.unique(bins, axis=0)) == 313
    assert np.array_equal(bins, bins[np.lexsort((bins[:, 1], bins[:, 0]))])  # by a, then b
    # Every random sRGB colour has all four surrounding grid points in the set (the rule, checked
    # on colours the table was not computed from), and each a column is one run of b values.
    rgb = np.random.default_rng(0).random((20000, 1, 3))
    ab = rgb_to_lab(rgb)[:, 0, 1:] / 10
    known = {tuple(b) for b in bins.astype(int).tolist()}
    for fa in (np.floor, np.ceil):
        for fb in (np.floor, np.ceil):
            corners = {(int(a) * 10, int(b) * 10) for a, b in np.stack([fa(ab[:, 0]), fb(ab[:, 1])], axis=1)}
            assert corners <= known
    for a in np.unique(bins[:, 0]):
        column = bins[bins[:, 0] == a, 1]
        assert np.array_equal(column, np.arange(column[0], column[-1] + 1, 10))
    assert {(0, 0), (-90, 50), (100, 0), (60, -110)} <= known and (110, 0) not in known


def test_histogram_counts_pixels_in_their_nearest_bin():
    ab = np.zeros((10, 10, 2))
    ab[:3] = (41.0, -18.0)  # nearest bin (40, -20)
    histogram = ab_histogram(ab)
    bins = ab_bins()
    assert histogram.sum() == pytest.approx(1.0)
    assert histogram[np.flatnonzero((bins == (40, -20)).all(axis=1))[0]] == pytest.approx(0.3)
    assert histogram[np.flatnonzero((bins == (0, 0)).all(axis=1))[0]] == pytest.approx(0.7)


def test_global_hints_of_an_image():
    rgb = np.zeros((8, 8, 3))
    rgb[:, :4] = (0.2, 0.6, 0.2)  # half green, half gray
    rgb[:, 4:] = 0.5
    hints = GlobalHints.from_rgb(rgb)
    assert hints.saturation == pytest.approx(0.5 * (0.6 - 0.2) / 0.6)
    green = rgb_to_lab(np.array([[[0.2, 0.6, 0.2]]]))[0, 0, 1:]
    top_two = ab_bins()[np.argsort(hints.histogram)[-2:]]
    assert {tuple(b) for b in top_two.tolist()} == {(0.0, 0.0), tuple(np.round(green / 10) * 10)}
    with pytest.raises(ValueError):
        GlobalHints(np.zeros(313), 0.5)


def test_histogram_equals_a_brute_force_nearest_bin_search():
    ab = np.random.default_rng(1).uniform(-140, 140, (3000, 2))  # in and far out of gamut
    bins = ab_bins()
    nearest = np.argmin(((ab[:, None, :] - bins[None]) ** 2).sum(axis=-1), axis=1)
    assert np.array_equal(ab_histogram(ab), np.bincount(nearest, minlength=313) / 3000)


def test_transport_moves_a_guess_onto_a_histogram_keeping_its_order_and_matches_saturation():
    from varcolor.color import chroma_to_rgb
    from varcolor.gamut import GlobalHints, ab_bins, ab_histogram, mean_saturation, transport

    # A smooth, muted guess: a ramp in a; the target: 30 % of the pixels green, 70 % red.
    a = np.tile(np.linspace(-5.0, 5.0, 64), (48, 1))
    guess = np.dstack([a, np.zeros_like(a)])
    histogram = np.zeros(313)
    green = int(np.flatnonzero((ab_bins() == (-40.0, 30.0)).all(axis=1))[0])
    red = int(np.flatnonzero((ab_bins() == (50.0, 20.0)).all(axis=1))[0])
    histogram[[green, red]] = (0.3, 0.7)
    moved = transport(guess, GlobalHints(histogram, 0.5))
    assert np.abs(ab_histogram(moved) - histogram).sum() < 0.05  # the target's shares, but for a few edge pixels
    assert np.all(moved[:, :19, 0] < 0) and np.all(moved[:, 20:, 0] > 0)  # the greenest 30 %: the left
    # With the lightness, the colours' mean HSV saturation becomes the hints'.
    lightness = np.full(a.shape, 60.0)
    for target in (0.2, 0.45):
        scaled = transport(guess, GlobalHints(histogram, target), lightness)
        assert mean_saturation(chroma_to_rgb(lightness, scaled)) == pytest.approx(target, abs=1e-3)
