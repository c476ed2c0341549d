"""``read_image(reduce=)``: a JPEG (MPO too) decoded reduced by libjpeg, at the size
``image_shape(reduce=)`` says from the header, upright; other formats read whole."""

import numpy as np
import pytest
from PIL import Image

import varcolor
from varcolor.io import image_shape


def _jpeg(path, size, orientation=1, **save):
    rng = np.random.default_rng(0)
    pixels = (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif, quality=95, **save)


@pytest.mark.parametrize("orientation", [1, 6])  # 6: a portrait photo stored landscape
@pytest.mark.parametrize("reduce", [1, 2, 3, 4, 8, 100])
def test_a_jpeg_is_read_reduced_at_the_size_its_header_says(tmp_path, reduce, orientation):
    path = tmp_path / "a.jpg"
    _jpeg(path, (75, 37), orientation)
    whole = varcolor.read_image(path)
    reduced = varcolor.read_image(path, reduce=reduce)
    assert reduced.shape[:2] == image_shape(path, reduce=reduce)
    scale = max(s for s in (1, 2, 4, 8) if s <= reduce)
    assert reduced.shape[:2] == tuple(-(-side // scale) for side in whole.shape[:2])
    if scale > 1 and orientation == 1:  # about the block means (the stored image's blocks: unturned)
        rows, cols = (side // scale for side in whole.shape[:2])
        means = whole[: rows * scale, : cols * scale].reshape(rows, scale, cols, scale, 3).mean(axis=(1, 3))
        assert np.abs(reduced[:rows, :cols] - means).mean() < 0.05


def test_an_mpo_is_read_reduced_and_a_png_whole(tmp_path):
    _jpeg(tmp_path / "camera.jpg", (80, 64), format="MPO", save_all=True)
    assert varcolor.read_image(tmp_path / "camera.jpg", reduce=8).shape == (8, 10, 3)
    varcolor.write_image(tmp_path / "a.png", np.zeros((64, 80, 3)))
    assert varcolor.read_image(tmp_path / "a.png", reduce=8).shape == (64, 80, 3)
    assert image_shape(tmp_path / "a.png", reduce=8) == (64, 80)
