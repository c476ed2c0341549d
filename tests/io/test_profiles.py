"""Embedded ICC profiles: colours converted to sRGB against an independent computation of the
same colour science, sRGB profiles left alone, and what cannot be converted refused in one line."""

import io
import json
import os
import struct
import subprocess
import sys
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageCms

import varcolor
from varcolor.color import rgb_to_lab, same_lightness_gray
from varcolor.errors import InputError, VarcolorError

from ..conftest import FUZZ, ICC_GAMMA, icc_profile, icc_rgb_to_linear_srgb, photo, run, srgb_from_icc_rgb


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
    (tmp_path / "deep.png").write_bytes(_png_with_iccp((tmp_path / "deep.png").read_bytes(), lab))
    with pytest.raises(InputError, match="is for Lab colours, but the pixels are RGB"):
        varcolor.read_image(tmp_path / "deep.png")
    import tifffile

    tifffile.imwrite(tmp_path / "t.tif", numbers.astype(np.uint16) * 257, iccprofile=icc_profile(b"GRAY"))
    with pytest.raises(InputError, match="is for GRAY colours, but the pixels are RGB"):
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


@pytest.mark.parametrize("kind", ["png16", "tif16", "tif-float"])
def test_a_16_bit_or_float_adobe_rgb_scan_is_converted_at_full_precision(tmp_path, kind):
    """Issue 50: a 16-bit scan with an Adobe RGB profile was refused ("convert the image to sRGB
    first"); it is converted in double precision, far finer than 8 bits' 1/255."""
    import tifffile

    rng = np.random.default_rng(5)
    levels = rng.integers(0, 65536, size=(24, 32, 3), dtype=np.uint16)
    levels[0, :3] = [[1000, 1001, 1002], [1001, 1001, 1001], [30000, 30001, 30002]]  # a level apart
    path = tmp_path / ("scan.png" if kind == "png16" else "scan.tif")
    if kind == "png16":
        varcolor.write_image(path, levels, bits=16)
        path.write_bytes(_png_with_iccp(path.read_bytes(), icc_profile(name="Adobe-like RGB")))
    else:
        data = levels if kind == "tif16" else (levels / 65535.0).astype(np.float32)
        tifffile.imwrite(path, data, photometric="rgb", iccprofile=icc_profile(name="Adobe-like RGB"))
    image, said = read_warned(path)
    expected = srgb_from_icc_rgb(levels / 65535.0)
    # The reference's sRGB matrix has 4 digits: 0.4 of an 8-bit level apart at most, in dark saturated colours.
    assert np.abs(image - expected).max() <= 0.5 / 255 and np.abs(image - expected).mean() <= 0.05 / 255
    # 16-bit levels a level apart, which one 8-bit level holds, stay apart: no 8-bit path on the way.
    step, reference = image[0, 0] - image[0, 1], expected[0, 0] - expected[0, 1]
    assert np.abs(reference).max() > 3e-6 and np.abs(step - reference).max() < 5e-7
    assert said == [f"{path}: converted to sRGB from its embedded ICC profile (Adobe-like RGB)"]


def test_a_16_bit_gray_scan_keeps_its_lightness_through_a_gray_gamma_profile(tmp_path):
    import tifffile
    from skimage.color import rgb2lab

    ramp = np.tile(np.linspace(0, 65535, 512).round().astype(np.uint16), (2, 1))
    tifffile.imwrite(tmp_path / "g.tif", ramp, iccprofile=icc_profile(b"GRAY", gamma=2.2, name="Gray Gamma 2.2"))
    image, said = read_warned(tmp_path / "g.tif")
    luminance = (ramp / 65535.0) ** (round(2.2 * 256) / 256)  # the profile's curve: Y of the gray
    lightness = rgb2lab(np.repeat(image[..., None], 3, axis=2))[..., 0]
    expected = np.where(luminance > (6 / 29) ** 3, 116 * np.cbrt(luminance) - 16, luminance * (29 / 3) ** 3)
    assert image.ndim == 2 and np.abs(lightness - expected).max() < 0.01 and len(said) == 1


def _scan_and_strokes(folder, profile, rgb=False):
    """A 16-bit TIFF scan of a photo (gray, or RGB of that gray) with ``profile`` embedded, and a mask
    of two strokes on a transparent layer."""
    import tifffile

    gray = 0.08 + 0.9 * same_lightness_gray(photo("coffee", (40, 48)))  # clear of black, where 1/Y**0.55 grows
    levels = np.round(gray * 65535).astype(np.uint16)
    data = np.repeat(levels[..., None], 3, axis=2) if rgb else levels
    tifffile.imwrite(folder / "scan.tif", data, photometric="rgb" if rgb else "minisblack", iccprofile=profile)
    mask = np.zeros((40, 48, 4))
    mask[10:13, 5:40] = [0.8, 0.3, 0.2, 1.0]
    mask[28:31, 8:44] = [0.2, 0.4, 0.8, 1.0]
    varcolor.write_image(folder / "strokes.png", mask)
    return levels


def test_a_16_bit_gray_gamma_scan_comes_out_16_bit_srgb_with_its_lightness(tmp_path, capsys):
    """Issue 50: the scan was refused; now its result is 16-bit (its depth), carries an sRGB profile,
    and its lightness (varcolor's L*, the ICC connection space's: issue 71) is the scan's within one
    of the scan's 16-bit levels."""
    import tifffile

    gamma = round(2.2 * 256) / 256  # the profile's curve, as ICC stores it
    levels = _scan_and_strokes(tmp_path, icc_profile(b"GRAY", gamma=2.2, name="Gray Gamma 2.2"))
    code, _, err = run(
        capsys, "colorize", tmp_path / "scan.tif", "--mask", tmp_path / "strokes.png", "-o", tmp_path / "out.tif"
    )
    assert code == 0, err
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        out, icc = tif.pages.first.asarray(), bytes(tif.pages.first.tags[34675].value)
    assert out.dtype == np.uint16 and out.shape == (40, 48, 3)
    assert "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    assert np.ptp(out[..., 0].astype(int) - out[..., 2]) > 5000  # coloured, not gray

    def lightness(v):  # the scan's L*, from its profile's curve (Y = v ** gamma)
        y = v**gamma
        return np.where(y > (6 / 29) ** 3, 116 * np.cbrt(y) - 16, y * (29 / 3) ** 3)

    scan = levels / 65535.0
    one_level = lightness(scan + 1 / 65535) - lightness(scan)
    assert np.all(np.abs(rgb_to_lab(out / 65535.0)[..., 0] - lightness(scan)) <= one_level)


def test_the_input_profile_is_kept_on_request_and_8_bit_stays_8_bit(tmp_path, capsys):
    import tifffile

    adobe = icc_profile(name="Adobe-like RGB")
    _scan_and_strokes(tmp_path, adobe, rgb=True)
    strokes = tmp_path / "strokes.png"
    assert run(capsys, "colorize", tmp_path / "scan.tif", "--mask", strokes, "-o", tmp_path / "s.tif")[0] == 0
    code, _, err = run(
        capsys, "colorize", tmp_path / "scan.tif", "--mask", strokes, "-o", tmp_path / "a.tif", "--profile", "input"
    )
    assert code == 0, err
    with tifffile.TiffFile(tmp_path / "a.tif") as tif:
        assert bytes(tif.pages.first.tags[34675].value) == adobe and tif.pages.first.dtype == np.uint16
    srgb, kept = varcolor.read_image(tmp_path / "s.tif"), read_warned(tmp_path / "a.tif")[0]
    assert np.abs(srgb - kept).max() <= 4 / 65535  # the same colours in Adobe RGB (a level lost each way, twice)
    assert np.abs(tifffile.imread(tmp_path / "a.tif") / 65535 - srgb).max() > 0.02  # other numbers
    varcolor.write_image(tmp_path / "g8.png", 0.1 + 0.8 * same_lightness_gray(photo("coffee", (40, 48))))
    assert run(capsys, "colorize", tmp_path / "g8.png", "--mask", strokes, "-o", tmp_path / "o8.png")[0] == 0
    assert Image.open(tmp_path / "o8.png").mode == "RGB"  # 8 bits in, 8 bits out
    code, _, err = run(
        capsys,
        "colorize",
        tmp_path / "scan.tif",
        "--mask",
        strokes,
        "-o",
        tmp_path / "x.tif",
        "--profile",
        tmp_path / "strokes.png",
    )
    assert code == 2 and err.count("\n") == 1 and "strokes.png" in err and not (tmp_path / "x.tif").exists()


def _d50_lab(pixels, profile):
    """CIE Lab against D50 (the ICC connection space) of 16-bit ``pixels`` read through ``profile``
    by LittleCMS: what an editor's Lab readout shows, independent of varcolor's conversions."""
    import imagecodecs

    return imagecodecs.cms_transform(
        np.ascontiguousarray(pixels),
        profile,
        imagecodecs.cms_profile("lab4"),
        colorspace="gray" if pixels.ndim == 2 else "rgb",
        outcolorspace="lab",
        outdtype=np.float64,
        intent=imagecodecs.CMS.INTENT.RELATIVE_COLORIMETRIC,
    )


@pytest.mark.parametrize("scan", ["gray-gamma-2.2", "adobe-rgb", "adobe-rgb-kept"])
def test_lightness_through_the_profiles_is_kept_as_an_editor_measures_it(tmp_path, capsys, scan):
    """Issue 71: a 16-bit Gray Gamma 2.2 scan and an Adobe RGB one, colorized with vivid strokes,
    came out |ΔL*| 0.26 lighter or darker on average and 2.7 at most, read through their profiles
    into D50 Lab (the result's L* was kept against D65, where sRGB's red, green and blue weigh
    otherwise). Target: mean ≤ 0.05, max ≤ 0.5."""
    import imagecodecs
    import tifffile
    from skimage import data
    from skimage.transform import resize

    luminance = resize(data.camera() / 255.0, (64, 64), anti_aliasing=True)
    if scan == "gray-gamma-2.2":
        profile = imagecodecs.cms_profile("gray", gamma=2.2)
        levels = np.round(luminance ** (1 / 2.2) * 65535).astype(np.uint16)
    else:
        profile = imagecodecs.cms_profile("adobergb")  # gamma 563/256; a gray scan: equal channels
        levels = np.repeat(np.round(luminance ** (256 / 563) * 65535).astype(np.uint16)[..., None], 3, axis=2)
    tifffile.imwrite(
        tmp_path / "scan.tif", levels, photometric="rgb" if levels.ndim == 3 else "minisblack", iccprofile=profile
    )
    strokes = np.zeros((64, 64, 4))
    for k, colour in enumerate([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1), (1, 0, 1)]):
        strokes[5 + 10 * k : 8 + 10 * k, 6:58] = (*colour, 1.0)
    varcolor.write_image(tmp_path / "strokes.png", strokes)
    kept = ["--profile", "input"] if scan == "adobe-rgb-kept" else []
    code, _, err = run(
        capsys, "colorize", tmp_path / "scan.tif", "--mask", tmp_path / "strokes.png", "-o", tmp_path / "out.tif", *kept
    )
    assert code == 0, err
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        out, icc = tif.pages.first.asarray(), bytes(tif.pages.first.tags[34675].value)
    assert out.dtype == np.uint16 and (icc == profile) == bool(kept)
    before, after = _d50_lab(levels, profile), _d50_lab(out, icc)
    assert np.hypot(after[..., 1], after[..., 2]).mean() > 20  # coloured, vividly
    delta = np.abs(after[..., 0] - before[..., 0])
    assert delta.mean() <= 0.05 and delta.max() <= 0.5, (delta.mean(), delta.max())


@FUZZ
@given(
    gamma=st.floats(1.0, 3.0),
    shift=st.lists(st.floats(-0.03, 0.03), min_size=9, max_size=9),
    seed=st.integers(0, 2**32 - 1),
)
def test_colour_profiles_convert_as_colour_science_says(tmp_path, gamma, shift, seed):
    from ..conftest import ADOBE_RGB_D50, icc_profile, srgb_from_icc_rgb

    primaries = ADOBE_RGB_D50 + np.reshape(shift, (3, 3))
    numbers = np.random.default_rng(seed).integers(0, 256, (6, 7, 3)).astype(np.uint8)
    Image.fromarray(numbers).save(tmp_path / "p.png", icc_profile=icc_profile(primaries=primaries, gamma=gamma))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = varcolor.read_image(tmp_path / "p.png")
    expected = srgb_from_icc_rgb(numbers / 255.0, primaries=primaries, gamma=gamma)
    assert np.abs(image - expected).max() <= 2.5 / 255


@FUZZ
@given(
    cuts=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 255)), max_size=8),
    truncate=st.integers(0, 600),
    space=st.sampled_from([b"RGB ", b"GRAY"]),
    gray_pixels=st.booleans(),
)
def test_damaged_colour_profiles_are_converted_or_refused_in_one_line(tmp_path, cuts, truncate, space, gray_pixels):
    from ..conftest import icc_profile

    profile = bytearray(icc_profile(space))
    for offset, value in cuts:
        profile[offset % len(profile)] = value
    profile = bytes(profile[: max(truncate, 1)])
    numbers = np.random.default_rng(0).integers(0, 256, (5, 6) if gray_pixels else (5, 6, 3)).astype(np.uint8)
    Image.fromarray(numbers).save(tmp_path / "d.png", icc_profile=profile)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = varcolor.read_image(tmp_path / "d.png")
    except VarcolorError as exc:
        assert "\n" not in str(exc) and "d.png" in str(exc)
        return
    assert image.shape == numbers.shape and np.all((image >= 0) & (image <= 1))


def test_a_profiles_name_that_does_not_print_is_named_on_one_line():
    """A damaged description (a newline in it: the fuzz test above found one) is named with ``?``
    for what does not print, so that the message naming it stays one line."""
    import io

    from PIL import ImageCms

    from varcolor.io.profiles import profile_name

    from ..conftest import icc_profile

    damaged = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile(name="T\nst\tRGB")))
    assert profile_name(damaged) == "T?st?RGB"
    assert profile_name(ImageCms.ImageCmsProfile(io.BytesIO(icc_profile(name="Test RGB")))) == "Test RGB"


def _child_cli(argv, *, seconds=60, memory=3 << 30, prelude=""):
    """``varcolor ARGV…`` in a child process with an address-space limit (a read that never ends
    meets MemoryError there, not this machine's swap) and a time limit: (exit code, stderr)."""
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))\n"
        f"{prelude}\n"
        "from varcolor.cli import main\n"
        f"sys.exit(main({[str(a) for a in argv]!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds, env={**os.environ}
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize("kind", ["FIFO", "/dev/zero", "folder", "huge"])
def test_a_profile_that_is_no_small_regular_file_is_one_line_unread(tmp_path, kind):
    varcolor.write_image(tmp_path / "gray.png", np.full((8, 8), 0.5))
    mask = np.zeros((8, 8, 3))
    mask[2:4, 2:6] = (0.9, 0.1, 0.1)
    varcolor.write_image(tmp_path / "mask.png", mask)
    profile = {"FIFO": tmp_path / "p.icc", "/dev/zero": "/dev/zero", "folder": tmp_path, "huge": tmp_path / "big.icc"}
    if kind == "FIFO":
        os.mkfifo(profile[kind])  # opened for reading, it blocks until a writer comes: never
    if kind == "huge":
        with open(profile[kind], "wb") as f:
            f.truncate(1 << 30)  # sparse: a gigabyte of nothing
    argv = ["colorize", tmp_path / "gray.png", "--mask", tmp_path / "mask.png", "-o", tmp_path / "out.png"]
    code, err = _child_cli([*argv, "--profile", profile[kind]], seconds=60, memory=1 << 30)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and str(profile[kind]) in err, err
    assert not (tmp_path / "out.png").exists()


def test_lightness_through_the_editors_d50_profiles_stays_within_what_the_guide_says():
    """varcolor keeps CIE L* (D65, sRGB's white) exactly; an editor reading the result through ICC
    profiles (the D50 connection space, Bradford-adapted) weighs red, green and blue a little
    differently: the restorers' guide gives the bound (mean 0.45, max 0.9 L*)."""
    import imagecodecs

    gray, marked = varcolor.data.chelsea(), varcolor.data.chelsea_marked()
    result = varcolor.colorize(gray, varcolor.Cues.from_marked(gray, marked)).rgb

    def lightness_d50(rgb):
        srgb, lab = imagecodecs.cms_profile("srgb"), imagecodecs.cms_profile("lab4")
        pixels = np.ascontiguousarray(rgb, dtype=np.float64)
        return imagecodecs.cms_transform(pixels, srgb, lab, colorspace="rgb", outcolorspace="lab")[..., 0]

    difference = np.abs(lightness_d50(result) - lightness_d50(np.repeat(gray[..., None], 3, axis=2)))
    assert difference.mean() <= 0.45 and difference.max() <= 0.9, (difference.mean(), difference.max())
    ours = np.abs(varcolor.color.rgb_to_lab(result)[..., 0] - varcolor.color.lightness_of_gray(gray))
    assert ours.max() <= 0.05  # as varcolor measures it: exact


def test_a_profile_file_that_is_no_profile_is_named_as_given_not_as_embedded(tmp_path, capsys):
    """``--profile photo.png`` said "its embedded ICC profile cannot be read … remove or repair it"."""
    from ..conftest import run

    varcolor.write_image(tmp_path / "gray.png", np.full((8, 8), 0.5))
    mask = np.zeros((8, 8, 3))
    mask[2:4, 2:6] = (0.9, 0.1, 0.1)
    varcolor.write_image(tmp_path / "mask.png", mask)
    argv = ["colorize", tmp_path / "gray.png", "--mask", tmp_path / "mask.png", "-o", tmp_path / "out.png"]
    code, _, err = run(capsys, *argv, "--profile", tmp_path / "gray.png")
    assert code == 2 and err.count("\n") == 1 and "gray.png: not an ICC profile" in err and "embedded" not in err
