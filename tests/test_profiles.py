"""Embedded ICC profiles: colours converted to sRGB against an independent computation of the
same colour science, sRGB profiles left alone, and what cannot be converted refused in one line."""

import io
import json
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

import varcolor
from varcolor.errors import InputError

from .conftest import ICC_GAMMA, icc_profile, icc_rgb_to_linear_srgb, photo, run, srgb_from_icc_rgb


def read_warned(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = varcolor.read_image(path)
    return image, [str(w.message) for w in caught]


def srgb_decode(v):
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_an_adobe_rgb_photo_is_converted_to_srgb(tmp_path, suffix):
    numbers = np.round(photo("astronaut", (48, 64)) * 255).astype(np.uint8)
    path = tmp_path / f"adobe{suffix}"
    Image.fromarray(numbers).save(path, icc_profile=icc_profile(name="Adobe-like RGB"), quality=100)
    stored = np.asarray(Image.open(path).convert("RGB")) / 255.0  # the numbers as stored, no colour management
    image, said = read_warned(path)
    expected = srgb_from_icc_rgb(stored)
    assert np.abs(image - expected).max() <= 1.5 / 255 and np.abs(image - expected).mean() <= 0.5 / 255
    assert np.abs(stored - expected).max() > 20 / 255  # what reading the numbers as sRGB got wrong
    assert said == [f"{path}: converted to sRGB from its embedded ICC profile (Adobe-like RGB)"]


def test_an_srgb_profile_changes_nothing_and_says_nothing(tmp_path):
    numbers = np.round(photo("coffee", (32, 40)) * 255).astype(np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(numbers).save(tmp_path / "s.png", icc_profile=srgb)
    image, said = read_warned(tmp_path / "s.png")
    assert np.array_equal(image, numbers / 255.0) and said == []


def test_a_gray_profile_gives_the_srgb_gray_and_alpha_is_kept(tmp_path):
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    Image.fromarray(ramp).save(tmp_path / "g.png", icc_profile=icc_profile(b"GRAY", gamma=1.8, name="Gray 1.8"))
    image, said = read_warned(tmp_path / "g.png")
    linear = (ramp / 255.0) ** (round(1.8 * 256) / 256)  # the profile's curve; gray stays neutral
    expected = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    assert image.shape == (4, 256) and np.abs(image - expected).max() <= 1.5 / 255 and len(said) == 1
    rgba = np.dstack([np.round(photo("coffee", (8, 8)) * 255).astype(np.uint8), np.full((8, 8), 77, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png", icc_profile=icc_profile())
    image, _ = read_warned(tmp_path / "a.png")
    assert image.shape == (8, 8, 4) and np.allclose(image[..., 3], 77 / 255)
    assert np.abs(image[..., :3] - srgb_from_icc_rgb(rgba[..., :3] / 255.0)).max() <= 1.5 / 255


def _png_with_iccp(png: bytes, profile: bytes) -> bytes:
    """``png`` with an iCCP chunk after IHDR (how a 16-bit PNG carries its profile)."""
    body = b"icc\0\0" + zlib.compress(profile)
    chunk = struct.pack(">I", len(body)) + b"iCCP" + body + struct.pack(">I", zlib.crc32(b"iCCP" + body))
    return png[:33] + chunk + png[33:]


def test_what_cannot_be_converted_is_refused_in_one_line(tmp_path, capsys):
    numbers = np.round(photo("coffee", (32, 40)) * 255).astype(np.uint8)
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    cases = {
        "junk.png": (b"not a profile at all" * 10, "embedded ICC profile cannot be read"),
        "cut.png": (icc_profile()[:200], "embedded ICC profile cannot be read"),
        "lab.png": (lab, "is for Lab colours, but the pixels are RGB"),
        "gray-on-rgb.png": (icc_profile(b"GRAY"), "is for GRAY colours, but the pixels are RGB"),
    }
    for name, (profile, message) in cases.items():
        Image.fromarray(numbers).save(tmp_path / name, icc_profile=profile)
        with pytest.raises(InputError, match=message):
            varcolor.read_image(tmp_path / name)
    varcolor.write_image(tmp_path / "deep.png", numbers / 255.0, bits=16)
    (tmp_path / "deep.png").write_bytes(_png_with_iccp((tmp_path / "deep.png").read_bytes(), icc_profile()))
    with pytest.raises(InputError, match="16-bit samples with a non-sRGB ICC profile"):
        varcolor.read_image(tmp_path / "deep.png")
    import tifffile

    tifffile.imwrite(tmp_path / "t.tif", numbers, iccprofile=icc_profile())
    with pytest.raises(InputError, match="TIFF samples with a non-sRGB ICC profile"):
        varcolor.read_image(tmp_path / "t.tif")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tifffile.imwrite(tmp_path / "s.tif", numbers, iccprofile=srgb)  # an sRGB profile: read as before
    assert np.array_equal(varcolor.read_image(tmp_path / "s.tif"), numbers / 255.0)
    code, out, err = run(capsys, "metrics", tmp_path / "lab.png", "-r", tmp_path / "lab.png")
    assert code == 2 and out == "" and err.count("\n") == 1 and "lab.png" in err and "Traceback" not in err


def test_an_adobe_rgb_twin_scores_as_its_srgb_original(tmp_path, capsys):
    """The issue's case: the Adobe RGB copy of a photo was ΔE2000 2.6–3.5 from its sRGB twin."""
    original = np.round(photo("astronaut", (64, 64)) * 255) / 255
    # The Adobe numbers of the original: the inverse of srgb_from_icc_rgb, by its own linear algebra.
    linear = srgb_decode(original) @ np.linalg.inv(icc_rgb_to_linear_srgb()).T
    adobe = np.round(np.clip(linear, 0, 1) ** (1 / ICC_GAMMA) * 255).astype(np.uint8)
    Image.fromarray(adobe).save(tmp_path / "twin.png", icc_profile=icc_profile())
    varcolor.write_image(tmp_path / "original.png", original)
    code, out, err = run(capsys, "metrics", tmp_path / "twin.png", "-r", tmp_path / "original.png", "--format", "json")
    assert code == 0 and json.loads(out)[0]["ciede2000"] < 0.5
    assert (
        err
        == f"varcolor: warning: {tmp_path / 'twin.png'}: converted to sRGB from its embedded ICC profile (Test RGB)\n"
    )
    code, _, err = run(capsys, "metrics", tmp_path / "twin.png", "-r", tmp_path / "twin.png")
    assert code == 0 and err.count("converted to sRGB") == 1  # read twice, named once
    stored = io.BytesIO()
    Image.fromarray(adobe).save(stored, "PNG")  # the same numbers without their profile: read as sRGB
    (tmp_path / "bare.png").write_bytes(stored.getvalue())
    code, out, _ = run(capsys, "metrics", tmp_path / "bare.png", "-r", tmp_path / "original.png", "--format", "json")
    assert json.loads(out)[0]["ciede2000"] > 2.0
