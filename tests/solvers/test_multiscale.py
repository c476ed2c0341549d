"""The multi-scale engine's array code (varcolor/solvers/multiscale.py) against independent
computations: scikit-image's block reduction, a loop over blocks, and the array-code path that
CuPy takes (NumPy standing in) against the CPU's numba pass."""

import numpy as np
import pytest
from skimage.measure import block_reduce

from varcolor.solvers.multiscale import (
    block_mean,
    block_range,
    coarse_cues,
    guided_coefficients,
    lift,
    lift_change,
    lift_rows,
)


@pytest.mark.parametrize("shape", [(12, 20), (13, 21)])
def test_block_mean_is_the_mean_of_each_block(shape):
    image = np.random.default_rng(0).random(shape)
    expected = np.array(
        [[image[i : i + 4, j : j + 4].mean() for j in range(0, shape[1], 4)] for i in range(0, shape[0], 4)]
    )
    assert np.allclose(block_mean(image, 4), expected)
    if shape == (12, 20):
        assert np.allclose(block_mean(image, 4), block_reduce(image, (4, 4), np.mean))


def test_coarse_cues_are_the_mean_of_each_blocks_cue_pixels():
    rng = np.random.default_rng(1)
    mask = rng.random((10, 14)) < 0.2
    values = rng.uniform(-50, 50, (10, 14, 2))
    held, targets = coarse_cues(mask, values, 3)
    for i in range(held.shape[0]):
        for j in range(held.shape[1]):
            block = (slice(3 * i, 3 * i + 3), slice(3 * j, 3 * j + 3))
            assert held[i, j] == mask[block].any()
            if held[i, j]:
                assert np.allclose(targets[i, j], values[block][mask[block]].mean(axis=0))


@pytest.mark.parametrize("factor", [2, 4, 5])
def test_the_cpu_lift_is_the_array_codes(factor, monkeypatch):
    """The numba pass and the band-wise array code (what runs on CuPy, and for a small image) give
    the same lift, whole and on some blocks."""
    monkeypatch.setattr("varcolor.common.kernels.ARRAY_CODE_PIXELS", 0)  # the numba pass, as a big image's
    rng = np.random.default_rng(2)
    guide = rng.random((37, 53))
    coarse_guide = block_mean(guide, factor)
    chroma = rng.uniform(-40, 40, coarse_guide.shape + (2,))
    a, b = guided_coefficients(coarse_guide, chroma, 1, 1e-3)
    low, high = np.array([-30.0, -35.0]), np.array([30.0, 35.0])
    whole = lift(a, b, guide, factor, low, high)
    bands = np.clip(
        np.concatenate([lift_rows(a, b, guide, factor, slice(t, min(t + 8, 37))) for t in range(0, 37, 8)]), low, high
    )
    assert np.allclose(whole, bands)
    blocks = np.zeros(coarse_guide.shape, bool)
    blocks[1:3, 2:4] = blocks[-1, -1] = True  # the last block partial where the factor does not divide the size
    out = np.zeros_like(whole)
    lift(a, b, guide, factor, low, high, out=out, blocks=blocks)
    inside = np.kron(blocks, np.ones((factor, factor), bool))[:37, :53]
    assert np.array_equal(out[inside], whole[inside]) and not out[~inside].any()


@pytest.mark.parametrize("factor", [3, 4])
def test_lifting_some_blocks_again_reports_each_blocks_largest_move(factor):
    """After an edit, the blocks lifted again report the largest change of their pixels (any
    channel), computed here from the arrays before and after; the others keep what they had, in
    the moves and in the chroma (float32, as the cues' precision)."""
    rng = np.random.default_rng(4)
    guide = rng.random((23, 30))
    coarse_guide = block_mean(guide, factor)
    low, high = np.array([-30.0, -35.0]), np.array([30.0, 35.0])
    before = [guided_coefficients(coarse_guide, rng.uniform(-40, 40, coarse_guide.shape + (2,)), 1, 1e-3)]
    kept = lift(*before[0], guide, factor, low, high, out=np.empty(guide.shape + (2,), np.float32))
    a, b = guided_coefficients(coarse_guide, rng.uniform(-40, 40, coarse_guide.shape + (2,)), 1, 1e-3)
    blocks = rng.random(coarse_guide.shape) < 0.5
    blocks[-1, -1] = True  # a partial block
    moved = np.full(blocks.shape, -1.0)
    out = kept.copy()
    lift(a, b, guide, factor, low, high, out=out, blocks=blocks, moved=moved)
    fresh = lift(a, b, guide, factor, low, high)
    for row, column in np.ndindex(blocks.shape):
        block = np.s_[row * factor : (row + 1) * factor, column * factor : (column + 1) * factor]
        if blocks[row, column]:
            # (the whole lift here is the array code's: the same sums in another order, to 1e-15)
            assert np.allclose(out[block], fresh[block], rtol=1e-6, atol=0)
            assert moved[row, column] == pytest.approx(np.abs(fresh[block] - kept[block]).max(), rel=1e-12)
        else:
            assert np.array_equal(out[block], kept[block]) and moved[row, column] == -1.0


def test_block_mean_sums_a_band_at_a_time(monkeypatch):
    """Bands of one block row (of a partial last block row and column, too) give each block's mean,
    and nothing image-sized is allocated: a float32 image's block means take less than a byte a
    pixel more (a padded float64 copy and an image of ones took 16)."""
    import tracemalloc

    from varcolor.solvers import multiscale

    monkeypatch.setattr(multiscale, "BAND_PIXELS", 1)
    image = np.random.default_rng(4).random((13, 21))
    expected = np.array([[image[i : i + 4, j : j + 4].mean() for j in range(0, 21, 4)] for i in range(0, 13, 4)])
    assert np.allclose(block_mean(image, 4), expected)
    monkeypatch.setattr(multiscale, "BAND_PIXELS", 1 << 14)
    big = np.random.default_rng(5).random((1001, 1502)).astype(np.float32)
    tracemalloc.start()
    try:
        means = block_mean(big, 8)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert means.shape == (126, 188)
    assert np.allclose(means[:125, :187], block_reduce(big[:1000, :1496].astype(np.float64), (8, 8), np.mean))
    assert peak < big.size


def test_lift_change_bounds_every_pixels_move_and_flags_where_clipping_acts():
    """The bound of each block is at least the largest move of its pixels between the two lifts
    (unclipped), and no more than the largest move of its 3×3 cells' affine functions; a block
    not flagged lies inside the range in both lifts."""
    rng = np.random.default_rng(4)
    factor = 4
    guide = rng.random((41, 57))
    coarse_guide = block_mean(guide, factor)
    last = guided_coefficients(coarse_guide, rng.uniform(-30, 30, coarse_guide.shape + (2,)), 1, 1e-3)
    now = guided_coefficients(coarse_guide, rng.uniform(-30, 30, coarse_guide.shape + (2,)), 1, 1e-3)
    darkest, lightest = block_range(guide, factor)
    wide = np.array([1e9, 1e9])
    change, clips = lift_change(last, now, darkest, lightest, -wide, wide)
    assert not clips.any()
    before, after = lift(*last, guide, factor, -wide, wide), lift(*now, guide, factor, -wide, wide)
    _, moved = block_range(np.abs(after - before).max(axis=2), factor)  # each block's largest move
    assert np.all(change >= moved - 1e-9)
    assert np.all(change <= np.abs(np.asarray(now) - np.asarray(last)).sum(axis=0).max() + 1e-9)
    # Chroma rising across the image: only the blocks towards the sides can leave ±10.
    ramp = np.linspace(-20, 20, coarse_guide.shape[1])[None, :, None] * np.ones(coarse_guide.shape + (2,))
    last = guided_coefficients(coarse_guide, ramp, 1, 1e-3)
    now = guided_coefficients(coarse_guide, ramp + rng.uniform(-1, 1, ramp.shape), 1, 1e-3)
    low, high = np.array([-10.0, -10.0]), np.array([10.0, 10.0])
    before, after = lift(*last, guide, factor, -wide, wide), lift(*now, guide, factor, -wide, wide)
    _, clips = lift_change(last, now, darkest, lightest, low, high)
    assert 0 < clips.mean() < 1
    inside = ~np.kron(clips, np.ones((factor, factor), bool))[:41, :57]
    for lifted in (before, after):
        assert np.all((lifted[inside] >= low) & (lifted[inside] <= high))


def test_block_range_is_each_blocks_least_and_greatest():
    rng = np.random.default_rng(1)
    image = rng.random((13, 10))
    least, greatest = block_range(image, 4)
    for i in range(4):
        for j in range(3):
            block = image[4 * i : 4 * i + 4, 4 * j : 4 * j + 4]
            assert least[i, j] == block.min() and greatest[i, j] == block.max()


@pytest.mark.parametrize("radius", [1, 2, 4])
def test_the_box_mean_is_each_clipped_windows_mean(radius):
    """The box filter (scipy's running sums on the CPU, and the array code written for CuPy) against
    each window's mean taken directly, at the borders and where the window is wider than the grid."""
    from varcolor.solvers.multiscale import _box

    rng = np.random.default_rng(radius)
    image = rng.uniform(-50, 50, (7, 5, 2))
    for cpu in (True, False):
        boxed = _box(image, radius, np, cpu)
        for i in range(7):
            for j in range(5):
                window = image[max(i - radius, 0) : i + radius + 1, max(j - radius, 0) : j + radius + 1]
                np.testing.assert_allclose(boxed[i, j], window.mean(axis=(0, 1)), rtol=1e-12, atol=1e-12)


def test_coefficients_fitted_a_channel_a_thread_are_those_fitted_together(monkeypatch, rng):
    """Above THREADED_CELLS each channel is fitted in a thread of its own: the same coefficients,
    bit for bit, as the channels fitted together; below it, one call."""
    from varcolor.solvers import multiscale

    guide = rng.random((90, 110))
    chroma = rng.uniform(-40, 40, guide.shape + (3,))
    together = guided_coefficients(guide, chroma, 2, 1e-3)
    monkeypatch.setattr(multiscale, "THREADED_CELLS", 1)
    apart = guided_coefficients(guide, chroma, 2, 1e-3, statistics=multiscale.guide_statistics(guide, 2, 1e-3))
    for one, other in zip(together, apart):
        assert one.shape == other.shape == chroma.shape
        np.testing.assert_array_equal(one, other)
