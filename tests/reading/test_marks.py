"""The marks reading's geometry, against its definition (a stroke's pixels near its outside)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from varcolor.reading.marks import RIM, _outside_within


@pytest.mark.parametrize("radius", [1.5, RIM, 3.0])
@pytest.mark.parametrize("seed", range(4))
def test_the_outside_within_a_radius_is_the_distance_transforms(radius, seed):
    """The erosion by a disk gives the pixels whose distance to the outside (past the box's edge
    too) is at most ``radius``, as the Euclidean distance transform says: blobs, lines, holes, and
    strokes that touch the edge."""
    rng = np.random.default_rng(seed)
    own = ndimage.binary_dilation(rng.random((40, 53)) < 0.04, iterations=int(rng.integers(1, 4)))
    own[rng.integers(0, 40), :] = True  # a line across, touching both sides
    own[5:9, 10:30] ^= rng.random((4, 20)) < 0.3  # holes
    depth = ndimage.distance_transform_edt(np.pad(own, 1))[1:-1, 1:-1]
    np.testing.assert_array_equal(_outside_within(own, radius), own & (depth <= radius))
