import os

import numpy as np
import pytest
from PIL import Image, ImageOps

import varcolor
from varcolor.errors import InputError, OutputError
from varcolor.io import walk_images


@pytest.mark.parametrize("shape", [(17, 23), (17, 23, 3), (17, 23, 4)])
@pytest.mark.parametrize("suffix,bits,tol", [(".png", 8, 0.5 / 255), (".png", 16, 0.5 / 65535),
                                             (".tif", 8, 0.5 / 255), (".tif", 16, 0.5 / 65535)])
def test_lossless_round_trip(tmp_path, rng, shape, suffix, bits, tol):
    image = rng.random(shape)
    path = tmp_path / f"img{suffix}"
    varcolor.write_image(path, image, bits=bits)
    back = varcolor.read_image(path)
    assert back.shape == shape
    assert np.abs(back - image).max() <= tol + 1e-12


def test_sixteen_bits_are_kept(tmp_path):
    # A 16-bit ramp has values 8-bit storage cannot hold: reading must not drop to 8 bits.
    ramp = np.linspace(0, 1, 3 * 300).reshape(10, 30, 3)
    for suffix in (".png", ".tif"):
        varcolor.write_image(tmp_path / f"r{suffix}", ramp, bits=16)
        back = varcolor.read_image(tmp_path / f"r{suffix}")
        assert len(np.unique(np.round(back * 65535))) == ramp.size


def test_jpeg_and_bmp(tmp_path, rng):
    smooth = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
    image = np.stack([smooth, smooth.T[:24, :24].mean() + 0 * smooth, 1 - smooth], axis=2)
    varcolor.write_image(tmp_path / "a.jpg", image)
    assert np.abs(varcolor.read_image(tmp_path / "a.jpg") - image).mean() < 0.02
    Image.fromarray((image * 255).round().astype(np.uint8)).save(tmp_path / "a.bmp")
    assert np.abs(varcolor.read_image(tmp_path / "a.bmp") - image).max() <= 0.5 / 255 + 1e-12


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, rng, orientation):
    pixels = (rng.random((5, 7, 3)) * 255).astype(np.uint8)
    im = Image.fromarray(pixels)
    exif = im.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "o.png"
    im.save(path, exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB")) / 255.0
    assert np.array_equal(varcolor.read_image(path), expected)


def test_missing_and_truncated_files(tmp_path, rng):
    with pytest.raises(InputError, match="no such file"):
        varcolor.read_image(tmp_path / "nope.png")
    path = tmp_path / "cut.png"
    varcolor.write_image(path, rng.random((64, 64, 3)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.png"):
        varcolor.read_image(path)
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(InputError, match="text.png"):
        varcolor.read_image(tmp_path / "text.png")


def test_write_is_atomic_and_keeps_old_file_on_failure(tmp_path, rng, monkeypatch):
    path = tmp_path / "out.png"
    varcolor.write_image(path, np.zeros((4, 4)))
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Image.Image, "save", explode)
    with pytest.raises(RuntimeError):
        varcolor.write_image(path, np.ones((4, 4)))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["out.png"]  # no temporary left behind


def test_system_write_failures_are_output_errors_naming_the_file(tmp_path, monkeypatch):
    (tmp_path / "afile").write_bytes(b"")
    with pytest.raises(OutputError, match=r"afile/out\.png: cannot write \(.*afile: a file, not a folder\)"):
        varcolor.write_image(tmp_path / "afile" / "out.png", np.zeros((4, 4)))
    path = tmp_path / "out.png"
    varcolor.write_image(path, np.zeros((4, 4)))
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(OutputError, match=r"out\.png: cannot write \(No space left on device\)"):
        varcolor.write_image(path, np.ones((4, 4)))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["afile", "out.png"]


def test_new_files_get_ordinary_permissions(tmp_path):
    path = tmp_path / "p.png"
    varcolor.write_image(path, np.zeros((4, 4)))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_rejects_unknown_format(tmp_path):
    with pytest.raises(InputError, match="gif"):
        varcolor.write_image(tmp_path / "x.gif", np.zeros((4, 4)))
    with pytest.raises(InputError, match="JPEG"):
        varcolor.write_image(tmp_path / "x.jpg", np.zeros((4, 4)), bits=16)


def test_walk_images_keeps_relative_paths(tmp_path):
    for rel in ["a.png", "sub/b.jpg", "sub/deeper/c.tif", "sub/notes.txt", ".hidden/d.png"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    found = [p.as_posix() for p in walk_images(tmp_path)]
    assert found == ["a.png", "sub/b.jpg", "sub/deeper/c.tif"]


def test_decompression_bombs_are_refused(tmp_path, monkeypatch):
    varcolor.write_image(tmp_path / "big.png", np.zeros((64, 64)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 64×64 is now over twice the limit
    with pytest.raises(InputError, match="big.png: refused"):
        varcolor.read_image(tmp_path / "big.png")
