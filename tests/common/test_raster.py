"""varcolor.common.raster: a mask's coordinates are NumPy's nonzero's, for any mask; each channel's
extremes are NumPy's own per channel."""

from __future__ import annotations

import numpy as np
import pytest

from varcolor.common.raster import channel_extremes, coordinates


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (37, 53), (0, 5), (5, 0)])
@pytest.mark.parametrize("share", [0.0, 0.01, 0.5, 1.0])
def test_coordinates_are_nonzeros(shape, share):
    mask = np.random.default_rng(shape[0] * 100 + shape[1]).random(shape) < share
    rows, columns = coordinates(mask)
    expected = np.nonzero(mask)
    assert rows.tolist() == expected[0].tolist() and columns.tolist() == expected[1].tolist()
    assert rows.dtype == expected[0].dtype


def test_views_and_values():
    """A strided view (a band, every other column) and nonzero integers count as NumPy counts them."""
    values = np.random.default_rng(1).integers(0, 3, (20, 30))
    for mask in (values[3:17, ::2] > 0, values[::-1], values.T):
        got, expected = coordinates(mask), np.nonzero(mask)
        assert all(g.tolist() == e.tolist() for g, e in zip(got, expected))
    # as an index, the same pixels
    mask = values > 1
    assert values[coordinates(mask)].tolist() == values[mask].tolist()


def test_refuses_other_dimensions():
    with pytest.raises(ValueError, match="2-d"):
        coordinates(np.ones((2, 2, 2), bool))


@pytest.mark.parametrize("shape", [(1, 1, 2), (3, 5, 2), (64, 64, 2), (65, 67, 2), (300, 211, 3), (5000, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_channel_extremes_are_each_channels_min_and_max(shape, dtype):
    """Below a block, whole blocks, and a remainder past them: each channel's min and max as NumPy
    gives them channel by channel, its extremes anywhere (the first pixel, the last)."""
    values = np.random.default_rng(shape[0]).normal(0, 30, shape).astype(dtype)
    flat = values.reshape(-1, shape[-1])
    flat[-1, 0], flat[0, -1] = 1e4, -1e4  # the extremes at the ends
    low, high = channel_extremes(values)
    for c in range(shape[-1]):
        assert low[c] == values[..., c].min() and high[c] == values[..., c].max()
    strided = channel_extremes(values[::-1])  # a view: the same values
    assert np.array_equal(strided[0], low) and np.array_equal(strided[1], high)
