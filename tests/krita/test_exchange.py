"""varcolor's side of the exchange: Krita's raw layers read in their byte order, depth and profile;
an exchange folder colorized as ``varcolor.colorize`` colours the same layers; bad input one line
in the reply."""

import json

import imagecodecs
import numpy as np
import pytest

import varcolor
from varcolor.krita import exchange
from varcolor.krita.plugin.varcolor_krita import protocol

from ..conftest import photo

SHAPE = (24, 32)
BGRA = ["Blue", "Green", "Red", "Alpha"]
RGBA = ["Red", "Green", "Blue", "Alpha"]


def _layout(depth, channels=BGRA, profile_file=None):
    return protocol.layout("RGBA", depth, "p.icc", channels, profile_file)


def test_integer_layers_are_read_blue_first_as_krita_stores_them():
    pixel = bytes([10, 20, 30, 255])  # Krita's 8-bit RGBA: blue, green, red, alpha
    read = exchange.read_layer(pixel, _layout("U8"), (1, 1), "photo")
    assert np.allclose(read[0, 0], [30 / 255, 20 / 255, 10 / 255, 1])
    wide = np.array([1000, 2000, 3000, 65535], dtype="<u2").tobytes()
    read = exchange.read_layer(wide, _layout("U16"), (1, 1), "photo")
    assert np.allclose(read[0, 0], [3000 / 65535, 2000 / 65535, 1000 / 65535, 1])


@pytest.mark.parametrize(
    ("depth", "channels", "step"), [("U8", BGRA, 1 / 255), ("U16", BGRA, 1e-4), ("F32", RGBA, 1e-6)]
)
def test_a_result_written_in_the_document_layout_reads_back(depth, channels, step):
    rgb = photo("coffee", SHAPE)
    data = exchange.encode_layer(rgb, _layout(depth, channels))
    assert len(data) == SHAPE[0] * SHAPE[1] * 4 * protocol.DEPTHS[depth]
    back = exchange.read_layer(data, _layout(depth, channels), SHAPE, "result")
    assert np.abs(back[..., :3] - rgb).max() <= step / 2 + 1e-7
    assert np.all(back[..., 3] == 1)


def test_a_linear_profile_is_converted_to_srgb(tmp_path):
    """A linear-light layer (Krita's float documents are linear): its grays read as the sRGB curve
    of the same light, analytically."""
    icc = tmp_path / "linear.icc"
    srgb_primaries = [0.64, 0.33, 1, 0.3, 0.6, 1, 0.15, 0.06, 1]
    icc.write_bytes(imagecodecs.cms_profile("rgb", whitepoint=[0.3127, 0.329, 1], primaries=srgb_primaries, gamma=1))
    light = np.linspace(0, 1, 11)
    samples = np.stack([light, light, light, np.ones_like(light)], axis=1)[None].astype("<f4")
    read = exchange.read_layer(samples.tobytes(), _layout("F32", RGBA, str(icc)), (1, 11), "photo")
    srgb = np.where(light <= 0.0031308, 12.92 * light, 1.055 * light ** (1 / 2.4) - 0.055)
    assert np.abs(read[0, :, :3] - srgb[:, None]).max() < 2e-3


def _folder(tmp_path, gray, strokes, depth="U16", **options):
    scale = 255 if depth == "U8" else 65535
    dtype = "<u1" if depth == "U8" else "<u2"

    def raw(rgba):
        return np.round(rgba[..., [2, 1, 0, 3]] * scale).astype(dtype).tobytes()

    layout = _layout(depth)
    request = protocol.make_request(SHAPE[1], SHAPE[0], layout, layout, layout, **options)
    protocol.write_json(tmp_path / protocol.REQUEST, request)
    (tmp_path / protocol.PHOTO).write_bytes(raw(np.dstack([gray, gray, gray, np.ones_like(gray)])))
    (tmp_path / protocol.STROKES).write_bytes(raw(strokes))
    return layout


def _strokes():
    strokes = np.zeros(SHAPE + (4,))
    strokes[4:7, 3:28] = [0.85, 0.25, 0.15, 1]
    strokes[16:19, 5:30] = [0.15, 0.35, 0.8, 1]
    return strokes


@pytest.mark.parametrize("method", ["levin-multiscale", "levin"])
def test_a_folder_is_colorized_as_the_library_colours_the_same_layers(tmp_path, method):
    gray = np.round(varcolor.color.same_lightness_gray(photo("astronaut", SHAPE)) * 65535) / 65535
    strokes = np.round(_strokes() * 65535) / 65535  # the layer as Krita holds it
    layout = _folder(tmp_path, gray, strokes, method=method)
    reply = exchange.colorize_folder(tmp_path)
    assert reply["ok"] and reply == json.loads((tmp_path / protocol.REPLY).read_text())
    result = exchange.read_layer((tmp_path / protocol.RESULT).read_bytes(), layout, SHAPE, "result")
    expected = varcolor.colorize(gray, varcolor.Cues.from_mask(strokes), method=method).rgb
    assert np.abs(result[..., :3] - expected).max() <= 0.5 / 65535 + 1e-9
    painted = np.asarray(strokes[..., 3] > 0)
    assert np.abs(result[painted, 0] - result[painted, 2]).max() > 0.3  # it is in colour


def test_the_confidence_map_asked_for_is_the_librarys_and_written_only_when_asked(tmp_path):
    gray = np.round(varcolor.color.same_lightness_gray(photo("astronaut", SHAPE)) * 65535) / 65535
    strokes = np.round(_strokes() * 65535) / 65535
    layout = _folder(tmp_path, gray, strokes, confidence=True)
    assert exchange.colorize_folder(tmp_path)["ok"]
    known = exchange.read_layer((tmp_path / protocol.CONFIDENCE).read_bytes(), layout, SHAPE, "confidence")
    expected = varcolor.colorize(gray, varcolor.Cues.from_mask(strokes)).confidence
    assert np.abs(known[..., 0] - expected).max() <= 0.5 / 65535 + 1e-9  # as a gray: its three channels alike
    assert np.array_equal(known[..., 0], known[..., 2]) and np.all(known[..., 3] == 1)
    painted = np.asarray(strokes[..., 3] > 0)
    assert known[painted, 0].min() > 0.99 and known[~painted, 0].min() < known[painted, 0].min()
    (tmp_path / protocol.CONFIDENCE).unlink()
    _folder(tmp_path, gray, strokes)  # not asked for (an older plug-in's request has no such field)
    request = json.loads((tmp_path / protocol.REQUEST).read_text())
    del request["confidence"]
    protocol.write_json(tmp_path / protocol.REQUEST, request)
    assert exchange.colorize_folder(tmp_path)["ok"]
    assert not (tmp_path / protocol.CONFIDENCE).exists()


def test_a_confidence_that_is_no_yes_or_no_is_refused(tmp_path):
    _folder(tmp_path, np.full(SHAPE, 0.5), _strokes())
    request = json.loads((tmp_path / protocol.REQUEST).read_text())
    request["confidence"] = "yes"
    protocol.write_json(tmp_path / protocol.REQUEST, request)
    reply = exchange.colorize_folder(tmp_path)
    assert not reply["ok"] and "confidence must be true or false" in reply["error"]


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda folder: (folder / protocol.PHOTO).write_bytes(b"short"), "photo.raw: 5 bytes"),
        (lambda folder: (folder / protocol.REQUEST).write_text("{"), "cannot read the request"),
        (lambda folder: (folder / protocol.REQUEST).write_text('{"format": 9}'), "not an exchange request"),
    ],
)
def test_a_broken_folder_is_one_line_in_the_reply(tmp_path, spoil, said):
    _folder(tmp_path, np.full(SHAPE, 0.5), _strokes())
    spoil(tmp_path)
    reply = exchange.colorize_folder(tmp_path)
    assert not reply["ok"] and said in reply["error"] and "\n" not in reply["error"]
    assert not (tmp_path / protocol.RESULT).exists()


def test_a_high_dynamic_range_photo_is_refused(tmp_path):
    layout = _layout("F32", RGBA)
    request = protocol.make_request(2, 1, layout, layout, layout)
    protocol.write_json(tmp_path / protocol.REQUEST, request)
    (tmp_path / protocol.PHOTO).write_bytes(np.array([[2, 2, 2, 1], [0, 0, 0, 1]], "<f4").tobytes())
    (tmp_path / protocol.STROKES).write_bytes(np.zeros((2, 4), "<f4").tobytes())
    assert "values outside [0, 1]" in exchange.colorize_folder(tmp_path)["error"]


@pytest.mark.parametrize(
    ("strokes", "said"), [(np.ones(SHAPE + (4,)), "100 % of the pixels are cues"), (np.zeros(SHAPE + (4,)), "no paint")]
)
def test_strokes_that_leave_nothing_to_colorize_are_refused(tmp_path, strokes, said):
    _folder(tmp_path, np.full(SHAPE, 0.5), strokes)
    assert said in exchange.colorize_folder(tmp_path)["error"]


@pytest.mark.parametrize("depth", ["U8", "U16"])
@pytest.mark.parametrize("edges", ["unmix", "exact"])
def test_a_strokes_layers_levels_give_the_cues_of_its_floats(tmp_path, depth, edges):
    """The Live worker reads an sRGB strokes layer as its levels (no float layer made): the cues are
    those of the layer read as floats, antialiased and translucent edges, black paint and every
    alpha level included; a floating-point layer is read as floats."""
    top = 255 if depth == "U8" else 65535
    rng = np.random.default_rng(3)
    height, width = 40, 50
    rgba = np.zeros((height, width, 4))
    rgba[5:15, 5:45, :3] = rng.random(3)  # a stroke, its edge rows antialiased
    rgba[5:15, 5:45, 3] = 1.0
    rgba[4, 5:45, 3], rgba[15, 5:45, 3] = 0.5, 127 / 255  # both sides of the half-paint threshold
    rgba[20:30, 10:20, 3] = np.linspace(0, 1, 10)  # every kind of alpha, black paint
    rgba[32:36, :, :] = rng.random((4, width, 4))
    levels = np.round(rgba * top)
    raw = levels[..., [2, 1, 0, 3]].astype("<u1" if depth == "U8" else "<u2").tobytes()
    (tmp_path / protocol.STROKES).write_bytes(raw)
    request = {"width": width, "height": height, "strokes": _layout(depth)}
    read, channels = exchange.read_strokes(tmp_path, request)
    assert channels == "BGRA"  # read as the file holds it, not put in RGBA order
    assert read.dtype.kind == "u" and np.array_equal(read, levels[..., [2, 1, 0, 3]])
    from_levels = varcolor.Cues.from_layer(read, edges=edges, channels=channels)
    from_floats = varcolor.Cues.from_mask(
        exchange.read_layer(raw, _layout(depth), (height, width), "strokes"), edges=edges
    )
    assert from_levels.count == from_floats.count > 400
    assert np.array_equal(from_levels.mask, from_floats.mask)
    assert np.array_equal(from_levels.ab, from_floats.ab)
    assert np.array_equal(from_levels.lightness, from_floats.lightness, equal_nan=True)
    assert from_levels.note == from_floats.note
    (tmp_path / protocol.STROKES).write_bytes(rgba[..., [2, 1, 0, 3]].astype("<f4").tobytes())
    floating, channels = exchange.read_strokes(tmp_path, {**request, "strokes": _layout("F32")})
    assert channels == "RGBA" and floating.dtype.kind == "f" and np.allclose(floating, rgba, atol=1e-7)


def test_a_strokes_layer_of_the_wrong_size_is_one_line(tmp_path):
    (tmp_path / protocol.STROKES).write_bytes(bytes(10))
    with pytest.raises(varcolor.InputError, match="strokes layer holds 10 bytes"):
        exchange.read_strokes(tmp_path, {"width": 4, "height": 4, "strokes": _layout("U8")})
