"""A big image's PNG written by bands on several threads: the same pixels any decoder reads."""

from __future__ import annotations

import io
import zlib

import numpy as np
import png
import pytest
from PIL import Image

import varcolor
from varcolor.io import formats
from varcolor.io import png as bands
from varcolor.io.profiles import SRGB_ICC


def _pypng_pixels(data: bytes) -> np.ndarray:
    """Every sample as pypng decodes it (an independent decoder, 8 and 16 bits)."""
    width, height, rows, info = png.Reader(bytes=data).read_flat()
    pixels = np.asarray(rows).reshape(height, width, info["planes"])
    return pixels[..., 0] if info["planes"] == 1 else pixels


@pytest.mark.parametrize("planes", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("threads", [1, 3])
def test_bands_decode_to_the_same_pixels(monkeypatch, planes, dtype, threads):
    monkeypatch.setattr(bands, "PNG_BAND_ROWS", 7)  # several bands, the last one short
    rng = np.random.default_rng(planes)
    shape = (45, 33) if planes == 1 else (45, 33, planes)
    pixels = rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)
    pixels[:20] = pixels[:1]  # repeated rows: the deflate streams refer back within a band
    buffer = io.BytesIO()
    bands.write_png(buffer, pixels, threads=threads)
    assert np.array_equal(_pypng_pixels(buffer.getvalue()), pixels)
    if dtype == np.uint8 and planes != 2:
        with Image.open(io.BytesIO(buffer.getvalue())) as im:
            im.load()  # Pillow checks the chunks' CRCs and the zlib stream's adler32 as it reads
            assert np.array_equal(np.asarray(im), pixels)


def test_profile_kept():
    buffer = io.BytesIO()
    bands.write_png(buffer, np.zeros((4, 5, 3), np.uint8), profile=SRGB_ICC)
    with Image.open(io.BytesIO(buffer.getvalue())) as im:
        assert im.info["icc_profile"] == SRGB_ICC


@pytest.mark.parametrize("bits", [8, 16])
def test_write_image_of_a_big_image_by_bands(tmp_path, monkeypatch, bits):
    """From BIG_PNG_PIXELS on, write_image deflates by bands (level 1): read back, the same levels
    as Pillow's or pypng's file of the same image."""
    monkeypatch.setattr(bands, "PNG_BAND_ROWS", 16)
    rng = np.random.default_rng(bits)
    image = rng.random((70, 40, 3))
    varcolor.write_image(tmp_path / "small.png", image, bits=bits)
    monkeypatch.setattr(formats, "BIG_PNG_PIXELS", 70 * 40)
    calls = []
    monkeypatch.setattr(formats, "write_png", lambda *a, **k: calls.append(k) or bands.write_png(*a, **k))
    varcolor.write_image(tmp_path / "big.png", image, bits=bits, profile=SRGB_ICC)
    assert calls and calls[0]["level"] == 1
    big, small = (tmp_path / "big.png").read_bytes(), (tmp_path / "small.png").read_bytes()
    assert big.count(b"IDAT") >= 5  # one a band, with the stream's header and checksum
    assert np.array_equal(_pypng_pixels(big), _pypng_pixels(small))
    assert np.array_equal(varcolor.read_image(tmp_path / "big.png"), varcolor.read_image(tmp_path / "small.png"))
    assert varcolor.io.image_profile(tmp_path / "big.png") == SRGB_ICC


def test_a_level_asked_for_is_kept_by_bands(monkeypatch):
    """encode_image's level (an IR's gray at 6) holds for a big PNG too; unasked, a big one is level 1."""
    monkeypatch.setattr(formats, "BIG_PNG_PIXELS", 100)
    calls = []
    monkeypatch.setattr(formats, "write_png", lambda *a, **k: calls.append(k["level"]) or bands.write_png(*a, **k))
    image = np.random.default_rng(0).random((20, 10))
    six, default = formats.encode_image(image, png_level=6), formats.encode_image(image)
    assert calls == [6, 1]
    assert np.array_equal(_pypng_pixels(six), _pypng_pixels(default))


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 40, 3), (40, 1, 3), (14, 9, 4), (15, 9)])
def test_odd_shapes_and_views_decode_to_the_same_pixels(monkeypatch, shape):
    # One pixel, one row, one column, a height a multiple of the band and one past it, and a
    # flipped view (not C-ordered, as an upright EXIF turn gives): the same pixels back.
    monkeypatch.setattr(bands, "PNG_BAND_ROWS", 7)
    rng = np.random.default_rng(sum(shape))
    pixels = rng.integers(0, 256, shape, endpoint=False).astype(np.uint8)
    for given in (pixels, pixels[::-1, ::-1]):
        buffer = io.BytesIO()
        bands.write_png(buffer, given, threads=2)
        with Image.open(io.BytesIO(buffer.getvalue())) as im:
            im.load()
            assert np.array_equal(np.asarray(im), given)


def test_a_png_s_orientation_in_a_raw_exif_text_chunk_is_read_from_the_header_alike(tmp_path):
    from PIL import PngImagePlugin

    exif = Image.Exif()
    exif[0x0112] = 6
    data = exif.tobytes()
    info = PngImagePlugin.PngInfo()  # as ImageMagick stores EXIF in a PNG: hex in a text chunk
    info.add_text("Raw profile type exif", f"\nexif\n{len(data):8d}\n{data.hex()}\n")
    Image.fromarray(np.zeros((8, 12), np.uint8)).save(tmp_path / "raw.png", pnginfo=info)
    assert varcolor.io.image_shape(tmp_path / "raw.png") == varcolor.read_image(tmp_path / "raw.png").shape == (12, 8)


def test_a_16_bit_png_s_gama_and_chrm_are_honoured_without_an_icc_profile(tmp_path):
    """A linear ProPhoto scan saved as PNG with gAMA 1.0 and cHRM, no iCCP: its samples are
    linear light, not sRGB levels (read as sRGB, mid-gray 0.5 was 47 levels too dark)."""
    import png

    def chunk(tag, payload):
        return len(payload).to_bytes(4, "big") + tag + payload + zlib.crc32(tag + payload).to_bytes(4, "big")

    samples = np.full((4, 6, 3), 32768, np.uint16)
    buffer = io.BytesIO()
    png.Writer(6, 4, bitdepth=16, greyscale=False, gamma=1.0).write(buffer, samples.reshape(4, -1))
    prophoto = (0.3457, 0.3585, 0.7347, 0.2653, 0.1596, 0.8404, 0.0366, 0.0001)  # white, red, green, blue
    chrm = chunk(b"cHRM", b"".join(round(v * 100000).to_bytes(4, "big") for v in prophoto))
    data = buffer.getvalue()
    (tmp_path / "linear.png").write_bytes(data[:33] + chrm + data[33:])  # after IHDR
    with pytest.warns(UserWarning, match="converted to sRGB"):
        image = varcolor.read_image(tmp_path / "linear.png")
    linear = 32768 / 65535
    expected = 1.055 * linear ** (1 / 2.4) - 0.055  # sRGB's curve: the same light, D50 white to D65's
    assert np.abs(image - expected).max() <= 0.5 / 255
    assert varcolor.io.image_profile(tmp_path / "linear.png")[36:40] == b"acsp"  # --profile input keeps it


def test_an_interlaced_png_reads_quietly_and_as_its_plain_twin(tmp_path):
    """Issue 94, item 10: an interlaced 8-bit PNG printed libpng's own "PNG warning: Interlace
    handling should be turned on…" on stderr, even with -q (the pixels were right)."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (48, 64), dtype=np.uint8)
    with open(tmp_path / "inter.png", "wb") as f:
        png.Writer(64, 48, greyscale=True, interlace=True, bitdepth=8).write(f, gray.tolist())
    mask = np.zeros((48, 64, 3), np.uint8)
    mask[20:24, 10:50] = (200, 50, 40)
    with open(tmp_path / "inter_mask.png", "wb") as f:
        png.Writer(64, 48, greyscale=False, interlace=True, bitdepth=8).write(f, mask.reshape(48, -1).tolist())
    assert np.array_equal(np.round(varcolor.read_image(tmp_path / "inter.png") * 255).astype(np.uint8), gray)
    argv = [sys.executable, "-m", "varcolor.cli", "colorize", str(tmp_path / "inter.png"), "--mask"]
    argv += [str(tmp_path / "inter_mask.png"), "-o", str(tmp_path / "out.png"), "-q"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("greyscale", [True, False])
def test_a_tRNS_colour_is_read_as_transparency_and_checked(tmp_path, bits, greyscale):
    """A gray or RGB PNG whose tRNS chunk names one level (or colour) transparent: 8-bit ones were read
    opaque, so an all-transparent photo gave a black result unchecked. Written by pypng, the alpha
    expected from the chunk's definition (0 exactly where the samples equal it)."""
    top = 2**bits - 1
    rng = np.random.default_rng(3)
    levels = rng.integers(1, top, (6, 7, 1 if greyscale else 3)).astype(np.uint16 if bits == 16 else np.uint8)
    levels[:, :3] = 0  # the key
    key = 0 if greyscale else (0, 0, 0)

    def written(name: str, pixels: np.ndarray) -> str:
        path = tmp_path / name
        writer = png.Writer(7, 6, greyscale=greyscale, bitdepth=bits, transparent=key)
        with open(path, "wb") as f:
            writer.write(f, pixels.reshape(6, -1).tolist())
        return str(path)

    read = varcolor.read_image(written("half.png", levels))
    assert read.shape == (6, 7, 4)
    np.testing.assert_array_equal(read[..., 3] == 0, np.all(levels == 0, axis=2))
    np.testing.assert_allclose(read[..., :3], np.broadcast_to(levels / top, (6, 7, 3)), atol=1e-12)
    with pytest.warns(UserWarning, match=r"18 pixels \(43 %\) are transparent"):
        formats.check_transparency("half.png", read)
    cleared = varcolor.read_image(written("cleared.png", np.zeros_like(levels)))
    with pytest.raises(varcolor.InputError, match="cleared.png: every pixel is transparent"):
        formats.check_transparency("cleared.png", cleared)
    if bits == 8:  # a chunk whose colour no pixel has: the file as it was read before
        assert varcolor.read_image(written("none.png", levels + 1)).ndim == (2 if greyscale else 3)


@pytest.mark.parametrize("bits", [1, 2, 4])
def test_a_tRNS_level_of_a_low_bit_depth_gray_png_is_its_transparency(tmp_path, bits):
    """Gray PNGs of 1, 2 and 4 bits with a tRNS level (1 bit was read opaque): the alpha is 0
    exactly where the samples equal it (pypng writes them; the chunk's definition)."""
    levels = np.zeros((6, 7), np.uint8)
    levels[:, :3] = 2**bits - 1
    path = tmp_path / "low.png"
    with open(path, "wb") as f:
        png.Writer(7, 6, greyscale=True, bitdepth=bits, transparent=0).write(f, levels.tolist())
    read = varcolor.read_image(path)
    assert read.shape == (6, 7, 4)
    np.testing.assert_array_equal(read[..., 3] == 0, levels == 0)
