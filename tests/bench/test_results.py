"""Results made elsewhere: telling a photo's colorization from a file of another photo."""

import numpy as np

from tests.conftest import photo
from varcolor import bench
from varcolor.bench.results import FOLLOWS, follows_gray
from varcolor.color import lab_to_rgb, rgb_to_lab

NAMES = ("astronaut", "chelsea", "coffee", "rocket")


def test_a_colorization_follows_its_gray_and_another_photo_does_not():
    photos = {name: photo(name, (64, 64)) for name in NAMES}
    grays = {name: bench.protocol_gray(rgb) for name, rgb in photos.items()}
    for name, rgb in photos.items():
        lab = rgb_to_lab(rgb)
        lab[..., 1:] *= 3  # far more colourful than the photo: gamut-clipped, lightness kept
        vivid = np.clip(lab_to_rgb(lab), 0, 1)
        assert follows_gray(rgb, grays[name]) > 0.99 and follows_gray(vivid, grays[name]) > 0.99
        others = [follows_gray(rgb, grays[other]) for other in NAMES if other != name]
        assert max(others) < FOLLOWS - 0.3


def test_a_flat_result_follows_a_flat_gray_of_its_lightness_only():
    gray = np.full((8, 8), 0.5)
    assert follows_gray(np.full((8, 8, 3), 0.5), gray) == 1.0
    assert follows_gray(np.full((8, 8, 3), 0.9), gray) == 0.0
