import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage import color as skcolor
from skimage.util import img_as_float64

from varcolor import color
from varcolor.errors import InputError
from varcolor.io.formats import _quantize

from .conftest import photo


def test_lab_round_trip(rng):
    rgb = rng.random((30, 30, 3))
    assert np.abs(color.lab_to_rgb(color.rgb_to_lab(rgb)) - rgb).max() < 1e-10
    assert np.abs(color.lab_to_rgb(color.rgb_to_lab(rgb), gamut="clip") - rgb).max() < 1e-10


def test_chroma_to_rgb_paints_views_and_any_shape(rng):
    rgb = rng.random((12, 16, 3))
    lab = color.rgb_to_lab(rgb)
    canvas = np.full((12, 16, 3), -1.0)
    window = (slice(2, 9), slice(3, 14))
    out = color.chroma_to_rgb(lab[..., 0][window], lab[..., 1:][window], out=canvas[window])
    assert np.shares_memory(out, canvas)  # written in place, through the strides
    assert np.abs(canvas[window] - rgb[window]).max() < 1e-10
    assert np.all(
        np.delete(canvas.reshape(-1, 3), np.ravel_multi_index(np.mgrid[window].reshape(2, -1), (12, 16)), axis=0)
        == -1.0
    )
    cube = lab.reshape(4, 3, 16, 3)  # more than two image axes; a pixel list; one pixel
    assert np.abs(color.chroma_to_rgb(cube[..., 0], cube[..., 1:]) - rgb.reshape(4, 3, 16, 3)).max() < 1e-10
    assert np.abs(color.chroma_to_rgb(lab[0, :, 0], lab[0, :, 1:]) - rgb[0]).max() < 1e-10
    assert np.abs(color.chroma_to_rgb(lab[0, 0, 0], lab[0, 0, 1:]) - rgb[0, 0]).max() < 1e-10
    with pytest.raises(InputError, match="ab must have shape"):
        color.chroma_to_rgb(lab[..., 0], lab[..., 1:2])


def test_lightness_of_gray_is_lab_of_equal_channels(rng):
    gray = rng.random((20, 20))
    expected = skcolor.rgb2lab(np.repeat(gray[..., None], 3, axis=2))[..., 0]
    assert np.abs(color.lightness_of_gray(gray) - expected).max() < 1e-10


def test_gray_from_lightness_inverts(rng):
    lightness = rng.random((20, 20)) * 100
    gray = color.gray_from_lightness(lightness)
    assert np.abs(color.lightness_of_gray(gray) - lightness).max() < 1e-9
    assert color.gray_from_lightness(np.array([0.0, 100.0])).tolist() == pytest.approx([0.0, 1.0], abs=1e-12)


def _icc_lab(rgb):
    """CIE Lab (D50) of sRGB floats as LittleCMS reads them through its sRGB profile: what an
    editor's Lab readout shows, independent of varcolor's conversions."""
    import imagecodecs

    return imagecodecs.cms_transform(
        np.ascontiguousarray(rgb, dtype=np.float64),
        imagecodecs.cms_profile("srgb"),
        imagecodecs.cms_profile("lab4"),
        colorspace="rgb",
        outcolorspace="lab",
        outdtype=np.float64,
    )


def test_lab_is_the_icc_lightness_with_d65_chroma(rng):
    """Issue 71: L* is the one ICC colour management measures (D50 connection space), within
    LittleCMS's own rounding (its sRGB profile's colorants in 16.16 fixed point); D65's was up to
    2.6 away from it. a* and b* are scikit-image's D65 chroma, unchanged."""
    rgb = rng.random((60, 60, 3))
    lab = color.rgb_to_lab(rgb)
    assert np.abs(lab[..., 0] - _icc_lab(rgb)[..., 0]).max() < 0.005
    assert np.abs(skcolor.rgb2lab(rgb)[..., 0] - _icc_lab(rgb)[..., 0]).max() > 2  # what D65 gave
    assert np.array_equal(lab[..., 1:], skcolor.rgb2lab(rgb)[..., 1:])
    gray = np.repeat(rng.random((8, 8, 1)), 3, axis=2)  # a gray's L* is the same in both
    assert np.abs(color.rgb_to_lab(gray)[..., 0] - skcolor.rgb2lab(gray)[..., 0]).max() < 1e-9


@pytest.mark.parametrize("kind", ["floats", "8-bit levels", "16-bit levels", "uint8", "uint16", "beyond", "float32"])
def test_lab_chroma_is_scikit_images_in_bands_and_by_level(rng, kind):
    """rgb_to_lab converts in bands, its samples of 8 or 16 bits decoded by a table: a* and b*
    are still scikit-image's rgb2lab (in float64) to the last bit, across the bands' seams."""
    rgb = rng.random((700, 190, 3))  # (several bands)
    rgb = {
        "floats": rgb,
        "8-bit levels": np.round(rgb * 255) / 255,
        "16-bit levels": np.round(rgb * 65535) / 65535,
        "uint8": np.round(rgb * 255).astype(np.uint8),
        "uint16": np.round(rgb * 65535).astype(np.uint16),
        "beyond": np.round(rgb * 400 - 50) / 255,  # levels past white and below black: the formula
        "float32": rgb.astype(np.float32),
    }[kind]
    expected = skcolor.rgb2lab(rgb.astype(np.float64) if rgb.dtype == np.float32 else rgb)
    lab = color.rgb_to_lab(rgb)
    assert lab.dtype == np.float64 and np.array_equal(lab[..., 1:], expected[..., 1:])
    decoded = color._srgb_decode(img_as_float64(rgb))
    assert np.array_equal(lab[..., 0], color._lightness_of_luminance(decoded @ color.ICC_LUMINANCE))


def test_the_table_of_decoded_levels_is_the_kernels_formula():
    levels = np.arange(65536) / 65535.0
    kernel = np.array([color._srgb_decode_one(v) for v in levels])
    assert np.array_equal(color._decoded_levels(), kernel)


def test_same_lightness_gray_keeps_lightness(astronaut_small):
    gray = color.same_lightness_gray(astronaut_small)
    assert np.abs(color.lightness_of_gray(gray) - _icc_lab(astronaut_small)[..., 0]).max() < 0.005


def test_same_lightness_gray_is_the_lab_round_trip(rng):
    # The reference: through the whole-image Lab, as the definition reads; values out of [0, 1],
    # 16-bit levels, both companding branches and a strided view included.
    levels = rng.integers(0, 65536, (40, 50, 3)) / 65535.0
    darks = rng.uniform(0.0, 0.06, (40, 50, 3))  # around the linear branches' thresholds
    wild = rng.uniform(-0.3, 1.3, (40, 50, 3))
    for rgb in (levels, darks, wild, np.asfortranarray(levels)[::2, ::-3], np.dstack([levels, levels[..., :1]])):
        expected = color.gray_from_lightness(color.rgb_to_lab(rgb[..., :3])[..., 0])
        assert np.abs(color.same_lightness_gray(rgb) - expected).max() < 1e-12


def test_same_lightness_gray_holds_no_lab_image(rng):
    # Through Lab the temporaries were several float64 copies of the photo (24 bytes a pixel
    # each: 2.3 GB for a 12 MP scan); now only the gray itself (8 bytes a pixel) is made.
    import tracemalloc

    rgb = rng.random((1000, 1000, 3))
    color.same_lightness_gray(rgb[:2, :2])  # compiled outside the measurement
    tracemalloc.start()
    try:
        color.same_lightness_gray(rgb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * rgb.shape[0] * rgb.shape[1]


def test_to_gray(astronaut_small):
    flat = np.repeat(astronaut_small[..., :1], 3, axis=2)
    assert np.array_equal(color.to_gray(flat), astronaut_small[..., 0])
    assert np.allclose(color.to_gray(astronaut_small), color.same_lightness_gray(astronaut_small))


def test_chroma_gamut_mapping_keeps_lightness_and_hue(rng):
    lab = np.stack(
        [rng.uniform(5, 95, 500), rng.uniform(-150, 150, 500), rng.uniform(-150, 150, 500)], axis=-1
    ).reshape(20, 25, 3)
    rgb = color.lab_to_rgb(lab)
    assert rgb.min() >= 0 and rgb.max() <= 1
    back = color.rgb_to_lab(rgb)
    assert np.abs(back[..., 0] - lab[..., 0]).max() < 1e-3
    hue_in = np.arctan2(lab[..., 2], lab[..., 1])
    hue_out = np.arctan2(back[..., 2], back[..., 1])
    chroma_out = np.hypot(back[..., 1], back[..., 2])
    assert np.all(chroma_out <= np.hypot(lab[..., 1], lab[..., 2]) + 1e-6)
    visible = chroma_out > 1  # hue is undefined at gray
    assert np.abs(np.angle(np.exp(1j * (hue_out - hue_in)))[visible]).max() < 1e-3
    # The largest chroma in the gamut: the result touches the cube's surface, 1e-6 more chroma leaves it.
    outside = np.any(np.abs(color.lab_to_rgb(lab, gamut="clip") - color.lab_to_rgb(lab)) > 0, axis=-1)
    linear = [
        color._lab_to_linear(
            *lab[i, j, :1], *(lab[i, j, 1:] * s), color._WHITE, color._RGB_FROM_XYZ, color._ICC_LUMINANCE_OF_XYZ
        )
        for i, j in zip(*np.nonzero(outside))
        for s in [chroma_out[i, j] / np.hypot(*lab[i, j, 1:]) * (1 + 1e-6)]
    ]
    assert outside.sum() > 100 and not any(inside for inside, *_ in linear)
    assert np.all(np.any((rgb[outside] < 1e-6) | (rgb[outside] > 1 - 1e-6), axis=-1))
    # Clipping instead moves lightness: the reason "chroma" is the default.
    clipped = color.rgb_to_lab(color.lab_to_rgb(lab, gamut="clip"))
    assert np.abs(clipped[..., 0] - lab[..., 0]).max() > 1


@pytest.mark.parametrize("lightness", [0.0, 1e-9, 99.99999, 100.0])
def test_chroma_gamut_mapping_at_black_and_white(lightness):
    # At L = 0 and 100 only black and white are in the gamut, and the gray itself may round to just
    # outside it (white: R = 1 + 1e-16); any chroma, zero or tiny included, maps to that gray.
    ab = np.array([[0.0, 0.0], [1e-12, 0.0], [0.0, -1e-9], [40.0, -70.0], [-120.0, 90.0]])
    rgb = color.chroma_to_rgb(np.full((5,), lightness), ab, "chroma")
    gray = color.gray_from_lightness(np.array(lightness))
    assert np.all(np.isfinite(rgb)) and np.abs(rgb - gray).max() < 1e-3


def test_yiq_matches_matlab_rgb2ntsc():
    # Hand values: MATLAB rgb2ntsc([1 0 0]) = [0.299 0.596 0.211]; a gray's Y is the gray itself.
    assert color.rgb_to_yiq(np.array([[[1.0, 0, 0]]]))[0, 0] == pytest.approx([0.299, 0.596, 0.211])
    assert color.rgb_to_yiq(np.full((1, 1, 3), 0.4))[0, 0] == pytest.approx([0.4, 0, 0], abs=1e-12)
    yiq = color.rgb_to_yiq(np.array([[[0.2, 0.5, 0.7]]]))
    assert color.yiq_to_rgb(yiq)[0, 0] == pytest.approx([0.2, 0.5, 0.7])


def test_bad_shapes():
    with pytest.raises(InputError):
        color.rgb_to_lab(np.zeros((4, 4)))
    with pytest.raises(InputError):
        color.lab_to_rgb(np.zeros((2, 2, 3)), gamut="wrap")


@pytest.mark.parametrize("bits", [8, 16])
def test_chroma_to_rgb_paints_levels_band_by_band_as_the_writer_quantizes(monkeypatch, rng, bits):
    # Band-wise painting into an integer image must give exactly the levels the writer makes of
    # the whole-image float painting (in and out of gamut, several bands, a ragged last one).
    lightness = color.rgb_to_lab(photo("astronaut", (64, 64)))[..., 0]
    ab = rng.uniform(-110, 110, (64, 64, 2))
    monkeypatch.setattr(color, "_BAND_VALUES", 2 * 3 * 64 * 5)  # bands of 5 rows
    dtype = np.uint8 if bits == 8 else np.uint16
    for gamut in ("chroma", "clip"):
        expected = _quantize(color.chroma_to_rgb(lightness, ab, gamut), bits)
        levels = color.chroma_to_rgb(lightness, ab, gamut, out=np.empty((64, 64, 3), dtype))
        assert levels.dtype == dtype and np.array_equal(levels, expected)
        flat = color.chroma_to_rgb(lightness.ravel(), ab.reshape(-1, 2), gamut, out=np.empty((64 * 64, 3), dtype))
        assert np.array_equal(flat, expected.reshape(-1, 3))


def test_painting_levels_holds_no_float_image(rng):
    # A whole-image float64 painting needs 24 bytes a pixel; band by band the temporaries are a
    # band's (two float64 copies of 2^20 values: 16 MiB) whatever the size: at 4 MP, 4 bytes a
    # pixel. The bound, 8, leaves room and fails any whole-image float temporary.
    import tracemalloc

    shape = (2000, 2000)
    lightness = np.full(shape, 55.0)
    ab = np.broadcast_to(np.array([60.0, -90.0]), shape + (2,))  # out of gamut: the slow path too
    out = np.empty(shape + (3,), np.uint8)
    # Compiled outside the measurement: the kernel the whole image takes (by its size, not two rows').
    color.chroma_to_rgb(lightness[:2], ab[:2], out=out[:2], image_pixels=lightness.size)
    tracemalloc.start()
    try:
        color.chroma_to_rgb(lightness, ab, out=out)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * lightness.size
    one = _quantize(color.chroma_to_rgb(lightness[:1, :1], ab[:1, :1]), 8)
    assert np.array_equal(out, np.broadcast_to(one, out.shape))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, bool])
def test_same_lightness_gray_of_integer_samples_is_the_lab_round_trip(rng, dtype):
    """8- and 16-bit arrays are read as rgb_to_lab reads them (by 255, 65535, ...): the compiled
    pass took their 0-255 as values and gave a white image (the Lab round trip gave the photo)."""
    info = np.iinfo(dtype) if dtype is not bool else None
    if info is None:
        rgb = rng.random((6, 7, 3)) > 0.5
    else:
        rgb = rng.integers(max(info.min, 0), info.max, (6, 7, 3), endpoint=True).astype(dtype)
    expected = color.gray_from_lightness(color.rgb_to_lab(rgb)[..., 0])
    assert np.abs(color.same_lightness_gray(rgb) - expected).max() < 1e-12
    assert (
        np.abs(
            color.same_lightness_gray(rgb[::-1, ::2].astype(rgb.dtype.newbyteorder(">"))) - expected[::-1, ::2]
        ).max()
        < 1e-12
    )


@pytest.mark.parametrize("kind", ["uint8", "uint16", "rgba", "equal", "float", "gray"])
def test_gray_by_bands_is_to_gray_of_the_pixels_read_and_calls_between_before_each_band(rng, kind, monkeypatch):
    """The same values as ``to_gray`` of what ``read_image`` makes of the levels (float64), one
    ``between`` before each band (and each band of the channels' comparison, until one differs)."""
    from varcolor.io import levels_to_float

    monkeypatch.setattr(color, "GRAY_BAND_PIXELS", 9 * 256)  # bands of 256 rows
    height = 2 * 256 + 17  # three bands, the last one short
    levels = rng.integers(0, 256, (height, 9, 3), dtype=np.uint8)
    if kind == "uint16":
        levels = rng.integers(0, 65536, (height, 9, 3), dtype=np.uint16)
    elif kind == "rgba":
        levels = np.concatenate([levels, rng.integers(0, 256, (height, 9, 1), dtype=np.uint8)], axis=2)
    elif kind == "equal":
        levels = np.repeat(levels[..., :1], 3, axis=2)
    elif kind == "gray":
        levels = levels[..., 0]
    pixels = rng.random((height, 9, 3)) if kind == "float" else levels
    read = pixels if kind == "float" else levels_to_float(levels)
    calls = []
    gray = color.gray_by_bands(pixels, between=lambda: calls.append(1))
    assert gray.dtype == np.float64 and np.array_equal(gray, color.to_gray(read))
    # The comparison ends at the first band whose channels differ; an image of equal channels is its first.
    assert len(calls) == {"gray": 0, "equal": 3}.get(kind, 1 + 3)
    single = color.gray_by_bands(pixels, np.float32, colour=kind not in ("gray", "equal"))
    assert single.dtype == np.float32 and np.abs(single - gray).max() < 1e-6


def test_the_studio_pickers_lab_is_varcolors(tmp_path):
    """The colour picker (varcolor/ui/static/colour.js) converts as varcolor.color does: its swatch
    shows the lightness the result will have (issue 71 moved L* to the ICC connection space)."""
    import json
    import shutil
    import subprocess
    from pathlib import Path

    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to run the studio's JavaScript")
    source = (Path(color.__file__).parent / "ui" / "static" / "colour.js").read_text()
    rgbs = [[200, 30, 30], [10, 200, 40], [20, 40, 230], [128, 128, 128], [250, 240, 10], [3, 2, 1]]
    labs = [[55.0, 60.0, -40.0], [30.0, -20.0, 50.0], [85.0, 5.0, 70.0]]
    script = source.replace("export const Colour", "const Colour") + (
        f"console.log(JSON.stringify([{rgbs}.map((c) => Colour.rgb8ToLab(c)), "
        f"{labs}.map((l) => Colour.labToLinear(...l))]));"
    )
    (tmp_path / "colour.js").write_text(script)
    found = json.loads(
        subprocess.run([node, tmp_path / "colour.js"], capture_output=True, check=True, text=True).stdout
    )
    expected_lab = color.rgb_to_lab(np.array(rgbs, float)[None] / 255.0)[0]
    assert np.abs(np.array(found[0]) - expected_lab).max() < 1e-9
    for lab, linear in zip(labs, found[1], strict=True):
        inside, *expected = color._lab_to_linear(*lab, color._WHITE, color._RGB_FROM_XYZ, color._ICC_LUMINANCE_OF_XYZ)
        assert np.abs(np.array(linear) - expected).max() < 1e-8


def _gamut_cases() -> tuple[np.ndarray, np.ndarray]:
    """Lightness and chroma (as rows) that probe Lab → sRGB's gamut mapping: random colours, most
    outside sRGB (vivid and extreme chroma); the grays; every edge of the lightness (0, the
    companding knee L* = 8, 100, just beyond either end); chroma tiny, zero, huge; and the sRGB
    cube's surface itself, exactly on it and a hair outside (where the chroma's scale is 1 or just
    below, the bracketing's ends)."""
    rng = np.random.default_rng(68)
    rows = [
        np.column_stack([rng.uniform(0, 100, 4000), rng.normal(0, 60, (4000, 2))]),
        np.column_stack([rng.uniform(0, 100, 500), rng.uniform(-500, 500, (500, 2))]),
    ]
    edges = np.array([0.0, 1e-12, 1e-6, 7.9999, 8.0, 8.0001, 50.0, 99.999, 100.0 - 1e-12, 100.0, -0.5, 100.5])
    chroma = np.array(
        [
            [0.0, 0.0],
            [1e-12, -1e-12],
            [1e-6, 0.0],
            [30.0, -30.0],
            [-80.0, 90.0],
            [127.0, 127.0],
            [-128.0, -128.0],
            [600.0, -600.0],
        ]
    )
    rows.append(np.column_stack([np.repeat(edges, len(chroma)), np.tile(chroma, (len(edges), 1))]))
    # the cube's six faces, sampled on a grid
    t = np.linspace(0, 1, 9)
    u, v = (g.ravel() for g in np.meshgrid(t, t))
    faces = [
        np.column_stack(np.roll([np.full_like(u, side), u, v], k, axis=0)) for side in (0.0, 1.0) for k in range(3)
    ]
    surface = color.rgb_to_lab(np.concatenate(faces)[None])[0]
    for stretch in (1.0, 1.0 + 1e-9, 1.001, 1.2):
        rows.append(np.column_stack([surface[:, 0], surface[:, 1:] * stretch]))
    cases = np.concatenate(rows)
    return cases[:, 0].copy(), cases[:, 1:].copy()


@pytest.mark.parametrize("gamut", ["chroma", "clip"])
def test_the_array_codes_gamut_mapping_is_the_kernels_on_every_kind_of_colour(gamut):
    """Lab → sRGB is written twice, as the kernel's scalars (numba) and as array code (a small
    image's, run without compiling: one definition run as Python per pixel took 31 to 41 times the
    array code's time on 64k pixels). The two are held equal here, to the rounding of their Newton
    steps (up to 3e-7 apart far out of gamut), on colours of every kind: a change to one that is
    not made to the other fails."""
    lightness, ab = _gamut_cases()
    array = color._srgb_of(lightness, ab, gamut, None, array=True)
    kernel = color._srgb_of(lightness, ab, gamut, None, array=False)
    assert np.isfinite(array).all() and array.min() >= 0.0 and array.max() <= 1.0
    np.testing.assert_allclose(array, kernel, rtol=0, atol=1e-6)
    inside = np.all((kernel > 1e-9) & (kernel < 1 - 1e-9), axis=-1)
    assert 0.1 < inside.mean() < 0.6  # both inside and outside the gamut are probed
    if gamut == "chroma":  # the mapping's own properties, the same in both: the lightness kept
        lightness_in = np.clip(lightness, 0, 100)
        kept = (lightness > 0.5) & (lightness < 99.5)
        for rgb in (array, kernel):
            # (4e-5 at the knee L* = 8, where scikit-image's rounded constants part by that much)
            np.testing.assert_allclose(color.rgb_to_lab(rgb[None])[0, kept, 0], lightness_in[kept], atol=1e-4)


def test_a_small_images_same_lightness_gray_is_the_kernels_without_compiling_it(monkeypatch):
    """``same_lightness_gray`` of a small image runs as array code (a first run compiles nothing:
    the marks' reading calls it) and gives the kernel's gray, also off [0, 1] and on 8-bit levels."""
    from varcolor import color
    from varcolor.common import kernels

    rng = np.random.default_rng(5)
    images = [
        rng.random((30, 40, 3)),
        rng.random((20, 30, 3)) * 1.4 - 0.2,
        np.round(rng.random((16, 16, 3)) * 255) / 255,
    ]
    for rgb in images:
        monkeypatch.setenv(kernels.KERNELS_VARIABLE, "array")
        array = color.same_lightness_gray(rgb)
        monkeypatch.setenv(kernels.KERNELS_VARIABLE, "numba")
        kernel = color.same_lightness_gray(rgb)
        assert np.abs(array - kernel).max() <= 1e-12
        assert array.min() >= 0.0 and array.max() <= 1.0


def test_levels_painted_band_by_band_as_array_code_first_thing_in_a_process():
    # numba says its threading layer only once a parallel kernel has run: asking before (array
    # code paints the bands) raised ValueError in a fresh process, as a never-warmed API user's.
    code = (
        "import numpy as np\n"
        "from varcolor.color import chroma_to_rgb\n"
        "L, ab = np.full((600, 700), 50.0), np.full((600, 700, 2), 10.0)\n"
        "levels = chroma_to_rgb(L, ab, out=np.empty((600, 700, 3), np.uint8))\n"
        "print(int(levels.min()), int(levels.max()))\n"
    )
    env = {**os.environ, "VARCOLOR_KERNELS": "array", "VARCOLOR_BACKGROUND_WARM": "0"}
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr
    one = color.chroma_to_rgb(np.full((1, 1), 50.0), np.full((1, 1, 2), 10.0), out=np.empty((1, 1, 3), np.uint8))
    assert done.stdout.split() == [str(int(one.min())), str(int(one.max()))]  # every pixel the same colour


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_the_gray_of_levels_is_the_gray_of_their_floats_and_a_gray_pixel_is_its_own(monkeypatch, dtype):
    """8- and 16-bit samples are made gray as they are (no float copy first): the same values as of
    the floats ``read_image`` gives for them, by the kernel and by array code; a pixel whose
    channels are equal is its own gray exactly (through L* and back it came out up to 3e-7 off at
    16 bits, L* 8), and ``gray_by_bands`` of the levels is ``to_gray`` of their floats."""
    from varcolor.common import kernels
    from varcolor.io import levels_to_float

    top = np.iinfo(dtype).max
    rng = np.random.default_rng(11)
    levels = rng.integers(0, top, (60, 70, 3), endpoint=True).astype(dtype)
    levels[::2] = levels[::2, :, :1]  # half the rows gray: every level of a 16-bit ramp below
    levels[0, :, :] = np.linspace(0, top, 70).astype(dtype)[:, None]
    # rows of a scanner's noise (channels a few levels apart, 8 bits: a table's), to 0 and 255
    near = levels[1::4, :, :1].astype(int) + rng.integers(-12, 13, (15, 70, 3))
    levels[1::4] = np.clip(near, 0, top).astype(dtype)
    floats = levels_to_float(levels)
    grays = {}
    for choice in ("numba", "array"):
        monkeypatch.setenv(kernels.KERNELS_VARIABLE, choice)
        of_levels, of_floats = color.same_lightness_gray(levels), color.same_lightness_gray(floats)
        assert np.array_equal(of_levels, of_floats), choice
        assert np.array_equal(of_levels[::2], floats[::2, :, 0]), choice  # a gray pixel is its own gray
        assert np.array_equal(color.gray_by_bands(levels), color.to_gray(floats)), choice
        with_alpha = np.dstack([levels, np.full(levels.shape[:2], top, dtype)])  # strided RGB of RGBA
        assert np.array_equal(color.same_lightness_gray(with_alpha), of_levels), choice
        grays[choice] = of_levels
    assert np.abs(grays["numba"] - grays["array"]).max() <= 1e-12
    expected = color.gray_from_lightness(color.rgb_to_lab(floats[1::2])[..., 0])
    assert np.abs(grays["numba"][1::2] - expected).max() < 1e-12


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_levels_painted_by_the_kernel_are_the_rounded_float_colours(dtype):
    """The kernel writes an 8- or 16-bit result's levels by looking linear values up among the
    levels' thresholds, with no float image between: the same levels as the float colours rounded
    (``to_levels``), on colours of every kind and on linear values at, just below and just above
    every threshold."""
    from varcolor.io import to_levels

    lightness, ab = _gamut_cases()
    for gamut in ("chroma", "clip"):
        levels = color.chroma_to_rgb(
            lightness, ab, gamut, out=np.empty(lightness.shape + (3,), dtype), image_pixels=10**8
        )
        floats = color._srgb_of(lightness, ab, gamut, None, array=False)
        assert np.array_equal(levels, to_levels(floats, np.empty(floats.shape, dtype)))
    table = color._level_table(8 if dtype == np.uint8 else 16)
    inner = table.thresholds[1:-1]
    values = np.concatenate(
        [inner, np.nextafter(inner, 0), np.nextafter(inner, 2), np.linspace(-0.1, 1.1, 100_001), [np.nan, np.inf]]
    )
    found = np.array(
        [color._level_of(v, table.thresholds, table.starts, table.buckets, table.top) for v in values[:2000]]
        + list(_levels_looked_up(values[2000:], table))
    )
    expected = to_levels(color._srgb_encode_all(np.nan_to_num(values, nan=0.0)), np.empty(values.shape, dtype))
    assert np.array_equal(found, expected)
    # the thresholds are where the rounded level steps up: each one's level is its own index
    assert np.array_equal(expected[: inner.size], np.arange(1, inner.size + 1))
    assert np.array_equal(expected[inner.size : 2 * inner.size], np.arange(inner.size))


def _levels_looked_up(values: np.ndarray, table) -> np.ndarray:
    import numba

    @numba.njit
    def look(values, thresholds, starts, buckets, top):
        out = np.empty(values.size, np.int64)
        for k in range(values.size):
            out[k] = color._level_of(values[k], thresholds, starts, buckets, top)
        return out

    return look(values, table.thresholds, table.starts, table.buckets, table.top)


def _first_exit_by_bisection(lightness: float, a: float, b: float) -> float:
    """The chroma scale where the path from the gray to the colour first leaves sRGB: the first of
    400 samples outside, then bisection between it and the sample before (a reference written
    from the definition, with none of the kernel's search)."""
    args = (color._WHITE, color._RGB_FROM_XYZ, color._ICC_LUMINANCE_OF_XYZ)

    def inside(scale: float) -> bool:
        return bool(color._lab_to_linear(lightness, a * scale, b * scale, *args)[0])

    samples = np.linspace(0, 1, 401)
    first = next(k for k, scale in enumerate(samples) if not inside(scale))
    low, high = samples[first - 1], samples[first]
    for _ in range(60):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if inside(middle) else (low, middle)
    return low


def test_the_largest_chroma_in_srgb_is_where_the_path_from_the_gray_first_leaves_it():
    """The gamut search finds the boundary by Newton's method on the scale and the luminance at once
    (regula falsi where that cannot be trusted): the colour it returns is where the path from the
    gray first leaves sRGB, within 1e-8 of the scale found by bisection, on vivid colours of every
    lightness and on yellows near white, whose path leaves the cube through red's face, comes back
    and leaves again through blue's (Newton's method alone found the second exit: 0.68 for 0.32)."""
    rng = np.random.default_rng(12)
    cases = [(95.89, -28.1, 137.5), (98.07, -42.4, 149.1), (96.57, -25.4, 111.9)]
    cases += [tuple(c) for c in np.column_stack([rng.uniform(1, 99, 150), rng.uniform(-150, 150, (150, 2))])]
    args = (color._WHITE, color._RGB_FROM_XYZ, color._ICC_LUMINANCE_OF_XYZ)
    searched = 0
    for lightness, a, b in cases:
        inside, red, green, blue, fy = color._lab_to_linear_fy(lightness, a, b, *args)
        if inside:
            continue
        searched += 1
        scale, *rgb = color._largest_chroma_scale(
            lightness, a, b, *args, color._excess(red, green, blue), fy, (red, green, blue)
        )
        assert abs(scale - _first_exit_by_bisection(lightness, a, b)) <= 1e-8, (lightness, a, b)
        assert min(rgb) >= -1e-9 and max(rgb) <= 1 + 1e-9 and (min(rgb) <= 1e-7 or max(rgb) >= 1 - 1e-7)
        assert (
            abs(color.rgb_to_lab(np.clip(color._srgb_encode_all(np.array(rgb)), 0, 1)[None, None])[0, 0, 0] - lightness)
            < 1e-4
        )
    assert searched >= 60
