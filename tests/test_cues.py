import json
import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import varcolor
from varcolor import Cues
from varcolor.color import rgb_to_lab, same_lightness_gray
from varcolor.cues import sample_grid, sample_ideepcolor, sample_random
from varcolor.errors import InputError, VarcolorError

from .conftest import FUZZ, json_values, photo


def test_from_marked_follows_levins_threshold():
    gray = np.full((5, 6), 0.5)
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[1, 1] = (0.9, 0.2, 0.2)
    marked[2, 2] = (0.5, 0.5, 0.5 + 0.011)  # just above 0.01 in total
    marked[3, 3] = (0.5, 0.5, 0.5 + 0.009)  # just below
    cues = Cues.from_marked(gray, marked)
    assert cues.mask.sum() == 2 and cues.mask[1, 1] and cues.mask[2, 2]
    assert np.allclose(cues.ab[1, 1], rgb_to_lab(marked[1:2, 1:2])[0, 0, 1:])
    assert np.isclose(cues.lightness[1, 1], rgb_to_lab(marked[1:2, 1:2])[0, 0, 0])


def test_from_marked_rgba_transparent_pixels_are_not_cues():
    gray = np.full((3, 3), 0.5)
    marked = np.concatenate([np.full((3, 3, 3), 0.9), np.zeros((3, 3, 1))], axis=2)
    marked[0, 0, 3] = 1.0
    assert Cues.from_marked(gray, marked).mask.sum() == 1


def test_from_marked_size_mismatch():
    with pytest.raises(InputError, match="marked image is 4×3"):
        Cues.from_marked(np.zeros((5, 5)), np.zeros((3, 4, 3)))


def test_from_mask():
    strokes = np.zeros((4, 4, 4))
    strokes[0, 0] = (1, 0, 0, 1)
    strokes[1, 1] = (0, 0, 1, 0)  # transparent
    strokes[2, 2] = (0, 0, 0, 1)  # black paint on transparency: coverage is the alpha
    cues = Cues.from_mask(strokes)
    assert cues.mask.sum() == 2 and cues.mask[0, 0] and cues.mask[2, 2]
    assert np.allclose(cues.ab[0, 0], rgb_to_lab(np.array([[[1.0, 0, 0]]]))[0, 0, 1:])
    assert np.allclose(cues.ab[2, 2], 0.0, atol=1e-3)
    opaque = Cues.from_mask(strokes[..., :3] * (strokes[..., 3:] > 0))  # no alpha: on black, black is no paint
    assert opaque.mask.sum() == 1 and opaque.mask[0, 0]


def test_points_json_csv_and_radius(tmp_path):
    (tmp_path / "p.json").write_text(
        json.dumps(
            {
                "points": [
                    {"y": 2, "x": 3, "a": 10, "b": -20},
                    {"y": 5, "x": 5, "r": 255, "g": 0, "b": 0, "radius": 1.5},
                ]
            }
        )
    )
    cues = Cues.from_points(tmp_path / "p.json", shape=(8, 8))
    assert cues.mask[2, 3] and np.allclose(cues.ab[2, 3], (10, -20))
    # A radius-1.5 disk holds the 3×3 square around its centre.
    assert cues.mask[4:7, 4:7].all() and cues.count == 1 + 9
    assert np.allclose(cues.ab[5, 5], rgb_to_lab(np.array([[[1.0, 0, 0]]]))[0, 0, 1:])
    (tmp_path / "p.csv").write_text("y,x,a,b\n2,3,10,-20\n\n5,5,1,2\n")
    csv_cues = Cues.from_points(tmp_path / "p.csv", shape=(8, 8))
    assert csv_cues.count == 2 and np.allclose(csv_cues.ab[5, 5], (1, 2))


def test_a_points_file_says_whether_its_points_are_hints_or_strokes(tmp_path):
    records = [{"y": 2, "x": 3, "a": 10, "b": -20, "radius": 1}]
    hints = Cues.from_points({"points": records}, shape=(8, 8))
    assert hints.points is not None and np.array_equal(hints.points, hints.mask)
    (tmp_path / "s.json").write_text(json.dumps({"as": "strokes", "width": 8, "height": 8, "points": records}))
    strokes = Cues.from_points(tmp_path / "s.json", shape=(8, 8))
    assert strokes.points is None and np.array_equal(strokes.mask, hints.mask)
    assert np.array_equal(strokes.ab, hints.ab)
    # Scaled onto a photo twice the size, they stay strokes.
    assert Cues.from_points(tmp_path / "s.json", shape=(16, 16)).points is None
    (tmp_path / "bad.json").write_text(json.dumps({"as": "paint", "points": records}))
    with pytest.raises(InputError, match=r"bad.json: \"as\" must be one of 'points', 'strokes', got 'paint'"):
        Cues.from_points(tmp_path / "bad.json", shape=(8, 8))


@pytest.mark.parametrize(
    "content,suffix,message",
    [
        ('[{"y": 9, "x": 0, "a": 1, "b": 1}]', ".json", "outside"),
        ('[{"y": 1, "x": -1, "a": 1, "b": 1}]', ".json", "outside"),
        ('[{"y": 1, "x": 1, "a": NaN, "b": 1}]', ".json", "finite"),
        ('[{"y": 1, "x": 1, "a": 1}]', ".json", "a, b or r, g, b"),
        ('[{"y": 1, "x": 1, "a": 1, "b": -1e300}]', ".json", "point 1: b=.* is beyond Lab's ±128"),
        ('[{"y": 1, "x": 1, "r": 300, "g": 0, "b": 0}]', ".json", "0..255"),
        ('{"y": 1}', ".json", "list of point objects"),
        ("{not json", ".json", "not valid JSON"),
        ("y,x,a,b\n1,1,zz,1\n", ".csv", "numbers"),
        ("1,1,1,1\n", ".csv", "header"),
        ("y,x,a,b\n1,1,1,1,1\n", ".csv", "more values"),
    ],
)
def test_points_errors_name_the_file(tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        Cues.from_points(path, shape=(8, 8))
    assert "bad" in str(info.value)


def test_cues_validation():
    with pytest.raises(InputError, match="finite"):
        Cues(np.ones((2, 2), bool), np.full((2, 2, 2), np.inf))
    with pytest.raises(InputError, match="within ±1000, got 1001"):
        Cues(np.ones((2, 2), bool), np.full((2, 2, 2), -1001.0))
    Cues(
        np.eye(2, dtype=bool), np.where(np.eye(2, dtype=bool)[..., None], [1000.0, -1000.0], 1e300)
    )  # only cue pixels count
    with pytest.raises(InputError, match="shape"):
        Cues(np.ones((2, 2), bool), np.zeros((2, 3, 2)))
    with pytest.raises(InputError, match="boolean"):
        Cues(np.ones((2, 2)), np.zeros((2, 2, 2)))


def test_merged_later_cues_win():
    first = Cues.from_points([{"y": 0, "x": 0, "a": 1, "b": 1}, {"y": 1, "x": 1, "a": 2, "b": 2}], (3, 3))
    second = Cues.from_points([{"y": 1, "x": 1, "a": 5, "b": 5}], (3, 3))
    both = first.merged(second)
    assert both.count == 2 and np.allclose(both.ab[1, 1], 5) and np.allclose(both.ab[0, 0], 1)


@pytest.mark.parametrize("mine", [False, True])
@pytest.mark.parametrize("theirs", [False, True])
def test_merged_weights_and_lightness_are_the_later_where_they_mark(mine, theirs):
    """Against a plain-array reference (``np.where`` over the whole image, a default where a set
    has none): the later set's weight and lightness where it marks, the earlier's elsewhere."""
    rng = np.random.default_rng(5)
    shape = (30, 40)
    first_mask, second_mask = rng.random(shape) < 0.3, np.zeros(shape, bool)
    second_mask[5:9, 10:30] = True
    fields = {
        name: [rng.uniform(0.1, 0.9, shape) if has else None for has in (mine, theirs)]
        for name in ("weight", "lightness")
    }
    first = Cues(first_mask, np.zeros(shape + (2,)), weight=fields["weight"][0], lightness=fields["lightness"][0])
    second = Cues(second_mask, np.zeros(shape + (2,)), weight=fields["weight"][1], lightness=fields["lightness"][1])
    both = first.merged(second)
    for name, default in (("weight", 1.0), ("lightness", np.nan)):
        if not (mine or theirs):
            assert getattr(both, name) is None
            continue
        a, b = (np.full(shape, default) if f is None else f for f in fields[name])
        expected = np.where(second_mask, getattr(second, name) if theirs else b, getattr(first, name) if mine else a)
        np.testing.assert_array_equal(getattr(both, name), expected)


def test_a_stroke_without_weight_or_lightness_shares_them_where_it_changes_none():
    """A studio stroke (no weight, no lightness) over pixels holding the defaults leaves the
    fields as they were: shared, read-only, not copied; across a marked pixel they are copied and
    reset there, the earlier set unchanged (the plain-array reference as above)."""
    shape = (30, 40)
    first_mask = np.zeros(shape, bool)
    first_mask[10:20, 5:15] = True
    weight = np.where(first_mask, 0.5, 1.0)
    lightness = np.where(first_mask, 60.0, np.nan)
    first = Cues(first_mask, np.zeros(shape + (2,)), weight=weight, lightness=lightness)
    for columns, shared in ((slice(20, 35), True), (slice(10, 35), False)):
        mask = np.zeros(shape, bool)
        mask[12:14, columns] = True
        both = first.merged(Cues(mask, np.zeros(shape + (2,))))
        for name, default in (("weight", 1.0), ("lightness", np.nan)):
            field = getattr(both, name)
            np.testing.assert_array_equal(field, np.where(mask, default, getattr(first, name)))
            assert np.shares_memory(field, getattr(first, name)) == shared
            assert field.flags.writeable != shared
    np.testing.assert_array_equal(first.lightness, lightness)
    np.testing.assert_array_equal(first.weight, weight)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_merged_is_the_union_with_the_later_values_into_any_memory_given(dtype):
    """Merged cues against a plain-array reference, for strokes on the image's edges and
    corners, one inside the other, none at all: the mask is the union, the later values win,
    nothing of either set changes; with ``out``, in that array (of this set's type)."""
    rng = np.random.default_rng(3)
    shape = (40, 50)
    mask = rng.random(shape) < 0.2
    base = Cues(mask, np.where(mask[..., None], rng.normal(0, 20, shape + (2,)), 0).astype(dtype))
    before = base.ab.copy(), base.mask.copy()
    for rows, columns in [(slice(0, 3), slice(0, 50)), (slice(38, 40), slice(45, 50)), (slice(10, 30), slice(0, 1))]:
        stroke_mask = np.zeros(shape, bool)
        stroke_mask[rows, columns] = True
        stroke = Cues(stroke_mask, np.where(stroke_mask[..., None], rng.normal(0, 20, shape + (2,)), 0))
        expected = np.where(stroke_mask[..., None], stroke.ab.astype(dtype), base.ab)
        for out in (None, np.full(shape + (2,), np.nan, dtype)):
            both = base.merged(stroke, out=out)
            assert out is None or both.ab is out
            assert both.ab.dtype == dtype
            np.testing.assert_array_equal(both.mask, base.mask | stroke_mask)
            np.testing.assert_array_equal(both.ab, expected)
    assert base.merged(Cues.empty(shape)).count == base.count
    np.testing.assert_array_equal(base.ab, before[0])
    np.testing.assert_array_equal(base.mask, before[1])
    with pytest.raises(ValueError, match="out"):
        base.merged(stroke, out=np.zeros(shape + (2,), np.float16))
    with pytest.raises(ValueError, match="out"):
        base.merged(stroke, out=base.ab)


def test_patch_samplers_fill_the_mean_true_chroma(astronaut_small):
    true_ab = rgb_to_lab(astronaut_small)[..., 1:]
    cues = sample_grid(astronaut_small, step=10, offset=0, patch=3)
    assert cues.count == 4 * 5 * 9
    assert np.allclose(cues.ab[10, 20], true_ab[10:13, 20:23].mean(axis=(0, 1)))
    assert sample_random(astronaut_small, n=7, patch=1, rng=0).count <= 7
    assert sample_random(astronaut_small, n=0, rng=0).count == 0


@pytest.mark.slow  # 4 s of sampling; make test-slow runs it
def test_ideepcolor_sampler_follows_the_published_distribution(rng):
    # Corners ~ N((S-P+1)/2, (S-P+1)/4) per axis, clipped to [0, S-P]; each hint a P×P patch.
    height, width, patch = 256, 200, 6
    image = rng.random((height, width, 3))
    corners = []
    for seed in range(300):
        cues = sample_ideepcolor(image, n=1, patch=patch, rng=seed)
        ys, xs = np.nonzero(cues.mask)
        assert ys.max() - ys.min() == patch - 1 and xs.max() - xs.min() == patch - 1
        corners.append((ys.min(), xs.min()))
    corners = np.array(corners)
    for axis, side in enumerate((height, width)):
        span = side - patch + 1
        assert abs(corners[:, axis].mean() - span / 2) < 4 * (span / 4) / np.sqrt(len(corners))
        assert 0.8 * span / 4 < corners[:, axis].std() < 1.1 * span / 4  # clipping narrows it slightly
        assert corners[:, axis].min() >= 0 and corners[:, axis].max() <= side - patch


# --- noise is not strokes (issue 36) ---


def _noisy_gray_and_marked(stroke_ab=(40.0, 30.0), seed=0):
    """A clean 8-bit gray, the same gray as an RGB file with ±1 level of chroma noise, and a marked
    image painted on the clean copy: three strokes of colour ``stroke_ab`` at each pixel's lightness."""
    import varcolor
    from varcolor.color import lab_to_rgb

    from .conftest import photo

    clean = np.round(varcolor.color.same_lightness_gray(photo("astronaut", (64, 80))) * 255) / 255
    rng = np.random.default_rng(seed)
    noisy = np.clip(clean[..., None] + rng.integers(-1, 2, (64, 80, 3)) / 255, 0, 1)
    strokes = np.zeros((64, 80), bool)
    strokes[10:13, 10:60] = strokes[30:50, 40:42] = strokes[55:58, 5:30] = True
    lightness = varcolor.color.lightness_of_gray(clean)
    lab = np.stack([lightness, np.full_like(clean, stroke_ab[0]), np.full_like(clean, stroke_ab[1])], axis=-1)
    marked = np.repeat(clean[..., None], 3, axis=2)
    marked[strokes] = np.round(lab_to_rgb(lab)[strokes] * 255) / 255
    return clean, noisy, marked, strokes


def test_chroma_noise_of_an_rgb_gray_is_not_taken_for_strokes():
    import varcolor

    clean, noisy, marked, strokes = _noisy_gray_and_marked()
    levin = Cues.from_marked(noisy, marked, noise=0)  # Levin's rule alone: the noise becomes cues
    assert levin.count > 0.2 * strokes.size
    with pytest.warns(UserWarning, match=r"differ from the gray image by at most [\d.]+ levels per channel"):
        cues = Cues.from_marked(noisy, marked)
    assert np.array_equal(cues.mask, strokes)
    # The colours come back as from the clean gray: not pulled to gray by thousands of near-gray cues.
    reference = varcolor.colorize(clean, Cues.from_marked(clean, marked))
    result, washed = varcolor.colorize(noisy, cues), varcolor.colorize(noisy, levin)
    chroma = [np.hypot(*r.ab.transpose(2, 0, 1)).mean() for r in (reference, result, washed)]
    assert abs(chroma[1] - chroma[0]) < 0.05 * chroma[0] and chroma[2] < 0.5 * chroma[0]


@pytest.mark.parametrize("ab,on_noise", [((3.0, 0.0), False), ((0.0, -3.0), False), ((4.0, 3.0), True)])
def test_strokes_of_subtle_colour_are_still_strokes(recwarn, ab, on_noise):
    clean, noisy, marked, strokes = _noisy_gray_and_marked(stroke_ab=ab)
    cues = Cues.from_marked(noisy if on_noise else clean, marked)
    assert np.array_equal(cues.mask, strokes)
    assert np.allclose(np.hypot(*cues.ab[strokes].T), np.hypot(*ab), atol=1.5)
    assert len([w for w in recwarn if "noise" in str(w.message)]) == (1 if on_noise else 0)


def test_the_command_line_reads_the_noise_as_the_photo_and_colorizes_from_the_strokes(tmp_path, capsys):
    # The noise is the photo's own (its channels' spread): the command takes the clean copy's
    # unpainted pixels for the photo, quietly (it named the noise once a run before issue 94).
    import varcolor

    from .conftest import run

    clean, noisy, marked, strokes = _noisy_gray_and_marked()
    varcolor.write_image(tmp_path / "g.png", noisy)
    varcolor.write_image(tmp_path / "g_marked.png", marked)
    code, _, err = run(
        capsys, "colorize", tmp_path / "g.png", "--marked", tmp_path / "g_marked.png", "-o", tmp_path / "o.png"
    )
    assert code == 0 and "noise" not in err, err
    expected = varcolor.colorize(clean, Cues.from_marked(clean, marked)).rgb
    # (the noise is texture too: the reach made whole over things moves by a level or two on a pixel or so)
    apart = np.abs(varcolor.read_image(tmp_path / "o.png") - expected).max(axis=-1)
    assert (apart > 4 / 255).mean() < 0.001 and apart.max() < 8 / 255


def test_marked_and_mask_cues_are_found_band_by_band_as_on_the_whole_image(monkeypatch):
    # Bands of 100 pixels (the default is a megapixel): Levin's rule and the noise rule on the
    # whole image, written out here, and the Lab of the marked colours at the cues.
    import varcolor.reading.marks as cues_module

    monkeypatch.setattr(cues_module, "_bands", lambda shape: [slice(top, top + 7) for top in range(0, shape[0], 7)])
    rng = np.random.default_rng(3)
    gray = rng.random((40, 15))
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[rng.random((40, 15)) < 0.2] = rng.random(3)
    faint = rng.random((40, 15)) < 0.05
    marked[faint, 0] += 1.5 / 255  # chroma noise: not strokes
    cues = Cues.from_marked(gray, marked)
    difference = np.abs(marked - gray[..., None])
    expected = (difference.sum(axis=2) > 0.01) & ~(
        (difference.max(axis=2) <= 2.5 / 255) & (np.ptp(marked, axis=2) <= 0)
    )
    assert expected.any() and np.array_equal(cues.mask, expected)
    lab = rgb_to_lab(marked)
    assert np.allclose(cues.ab[expected], lab[expected][:, 1:]) and np.allclose(
        cues.lightness[expected], lab[expected][:, 0]
    )
    assert np.isnan(cues.lightness[~expected]).all()
    strokes = np.where(expected[..., None], marked, 0.0)
    from_mask = Cues.from_mask(strokes)
    assert np.array_equal(from_mask.mask, expected & (strokes.max(axis=2) > 0.5 / 255))
    assert np.allclose(from_mask.ab[from_mask.mask], lab[from_mask.mask][:, 1:])


# Strokes as paint programs draw them (issue 48): the same outlines with hard, antialiased (4×
# supersampled), soft (Gaussian-edged) and translucent brushes, and as an RGBA layer.
STROKE_SHAPE = (96, 128)
STROKE_LINES = (  # (x0, y0, x1, y1), paint RGB: three strokes that do not touch
    ((15, 15, 110, 25), (0.85, 0.25, 0.2)),
    ((20, 78, 115, 64), (0.2, 0.45, 0.9)),
    ((12, 42, 60, 52), (0.3, 0.75, 0.3)),
)


def _coverage(line, width=6, factor=4):
    """The share of each pixel a brush of ``width`` pixels along ``line`` covers (supersampled)."""
    from PIL import Image, ImageDraw

    big = Image.new("L", (STROKE_SHAPE[1] * factor, STROKE_SHAPE[0] * factor), 0)
    ImageDraw.Draw(big).line([c * factor for c in line], fill=255, width=width * factor)
    pixels = np.asarray(big, np.float64) / 255
    return pixels.reshape(STROKE_SHAPE[0], factor, STROKE_SHAPE[1], factor).mean(axis=(1, 3))


def _opacity(line, brush, threshold=0.5):
    """How much paint ``brush`` leaves on each pixel; ``hard``: full paint where the brush covers
    at least ``threshold`` of the pixel, none elsewhere (a rasterizer without antialiasing)."""
    from scipy import ndimage

    cover = _coverage(line)
    if brush.startswith("hard"):
        cover = (cover >= threshold).astype(np.float64)
    elif brush == "soft":
        cover = ndimage.gaussian_filter(cover, 1.2)
    return 0.6 * cover if brush.endswith("translucent") else cover


def _gray():
    from varcolor.color import to_gray

    from .conftest import photo

    return np.round(to_gray(photo("coffee", STROKE_SHAPE)) * 255) / 255


def _painted(gray, brush, threshold=0.5):
    """The gray image with the strokes painted by ``brush`` (8-bit, as saved)."""
    marked = np.repeat(gray[..., None], 3, axis=2)
    for line, paint in STROKE_LINES:
        alpha = _opacity(line, brush, threshold)[..., None]
        marked = alpha * np.array(paint) + (1 - alpha) * marked
    return np.round(marked * 255) / 255


def _hard_outline():
    mask = np.zeros(STROKE_SHAPE, bool)
    for line, _ in STROKE_LINES:
        mask |= _coverage(line) >= 0.5
    return mask


def _colorized(gray, cues):
    import varcolor

    return varcolor.colorize(gray, cues, method="levin").ab


def _band_rms(first, second, band):
    return float(np.sqrt(np.mean(np.sum((first - second) ** 2, axis=-1)[band])))


def test_hard_edged_marks_give_the_exact_rules_cues_bit_for_bit():
    gray = _gray()
    marked = _painted(gray, "hard")
    marked[40:44, 70:90] = (0.9, 0.9, 0.2)  # a hard stroke touching another of another colour
    marked[44:47, 70:90] = (0.2, 0.2, 0.7)
    marked[60, 5:40] = (0.6, 0.3, 0.5)  # one pixel wide
    layer = np.concatenate([marked, (np.abs(marked - gray[..., None]).sum(axis=2) > 0)[..., None] * 1.0], axis=2)
    on_black = np.where(np.abs(marked - gray[..., None]).sum(axis=2, keepdims=True) > 0, marked, 0.0)
    from pathlib import Path

    import varcolor

    example = Path(__file__).resolve().parent.parent / "examples" / "data"  # strokes in a "colour" blend mode
    example_gray, example_marked = (varcolor.read_image(example / f"chelsea{s}.png") for s in ("", "_marked"))
    pairs = [
        (Cues.from_marked(gray, marked), Cues.from_marked(gray, marked, edges="exact")),
        (Cues.from_marked(example_gray, example_marked), Cues.from_marked(example_gray, example_marked, edges="exact")),
        (Cues.from_marked(gray, layer), Cues.from_marked(gray, layer, edges="exact")),
        (Cues.from_mask(on_black), Cues.from_mask(on_black, edges="exact")),
    ]
    for read, exact in pairs:
        assert read.count > 1000 and read.note == ""
        assert np.array_equal(read.mask, exact.mask)
        assert np.array_equal(read.ab, exact.ab)
        assert np.array_equal(read.lightness, exact.lightness, equal_nan=True)


@pytest.mark.parametrize("brush", ["antialiased", "soft", "translucent"])
def test_blended_strokes_colorize_as_the_same_strokes_drawn_hard_edged(brush):
    """Inside and beside the strokes (3 pixels either side of the outline) the result matches the
    hard-edged strokes' within the change that moving their outline makes: hard strokes drawn
    where the brush covers 10 % of a pixel against 90 % (the outline moved by about ±0.4 pixel),
    ab RMS 4.8 here. The old rule, every differing pixel a cue in its own colour, is 3-9× that."""
    from scipy import ndimage

    gray = _gray()
    band = ndimage.binary_dilation(_hard_outline(), iterations=3)
    tolerance = _band_rms(
        _colorized(gray, Cues.from_marked(gray, _painted(gray, "hard", 0.1))),
        _colorized(gray, Cues.from_marked(gray, _painted(gray, "hard", 0.9))),
        band,
    )
    assert 3 < tolerance < 7  # the yardstick itself: a real change, not a trivial one
    hard = _colorized(gray, Cues.from_marked(gray, _painted(gray, "hard_translucent" if "transl" in brush else "hard")))
    marked = _painted(gray, brush)
    read = Cues.from_marked(gray, marked)
    assert "blended edge pixels read as partial paint" in read.note
    assert _band_rms(_colorized(gray, read), hard, band) <= tolerance
    assert _band_rms(_colorized(gray, Cues.from_marked(gray, marked, edges="exact")), hard, band) > 3 * tolerance


@pytest.mark.parametrize("name", ["coffee", "astronaut", "rocket", "retina", "hubble_deep_field"])
def test_a_soft_brushs_faint_rim_is_no_cue_however_far_its_laid_paint_lies(name):
    """Where the soft brush left under a quarter of its paint, the hard-edged stroke of the same
    outline has no cue, and the reading none either: at a stroke's end the soft brush's laid core
    starts more than PAINT_REACH pixels in, and its faint rim there was kept in its own, nearly
    gray colour (7-16 such cues on these photos), or not, as one level of the photo decided; over
    a flat dark photo, a faint rim of one colour was taken for laid paint of its own."""
    from varcolor.color import to_gray

    gray = np.round(to_gray(photo(name, STROKE_SHAPE)) * 255) / 255
    paint = np.max([_opacity(line, "soft") for line, _ in STROKE_LINES], axis=0)
    read = Cues.from_marked(gray, _painted(gray, "soft"))
    assert "blended edge pixels read as partial paint" in read.note
    assert not (read.mask & (paint < 0.25)).any()
    assert (read.mask & (paint >= 0.75)).sum() >= 0.99 * (paint >= 0.75).sum()  # the strokes themselves are kept
    assert np.hypot(*read.ab[read.mask].T).min() > 50  # every cue in a stroke's colour (chroma 63-71)


def test_an_rgba_layers_alpha_and_a_masks_dark_fringe_are_partial_paint():
    """An RGBA layer (the paint, its coverage in alpha) and a stroke mask on black with
    antialiased edges both give the hard outline's cues, each in its stroke's paint; the old rule
    takes every pixel with any alpha (a fatter stroke) and every non-black fringe pixel (darker,
    duller colours: the near-gray fence) for cues."""
    from varcolor.color import rgb_to_lab

    gray = _gray()
    outline = _hard_outline()
    layer = np.zeros(STROKE_SHAPE + (4,))
    on_black = np.zeros(STROKE_SHAPE + (3,))
    paint_ab = np.zeros(STROKE_SHAPE + (2,))
    tie = np.zeros(STROKE_SHAPE, bool)  # pixels half covered: 8-bit rounding puts them either side
    for line, paint in STROKE_LINES:
        cover = _coverage(line)
        tie |= np.abs(cover - 0.5) < 0.01
        layer[cover > 0] = (*paint, 0)
        layer[..., 3] = np.maximum(layer[..., 3], np.round(cover * 255) / 255)
        on_black = np.maximum(on_black, np.round(cover[..., None] * np.array(paint) * 255) / 255)
        paint_ab[cover >= 0.5] = rgb_to_lab(np.array(paint).reshape(1, 1, 3))[0, 0, 1:]
    for read, old in [
        (Cues.from_marked(gray, layer), Cues.from_marked(gray, layer, edges="exact")),
        (Cues.from_mask(on_black), Cues.from_mask(on_black, edges="exact")),
    ]:
        assert not np.any((read.mask ^ outline) & ~tie)  # the outline
        assert np.sum(old.mask ^ outline) > 0.1 * outline.sum()  # a ring of a pixel more
        both = read.mask & outline
        error = np.hypot(*np.moveaxis(read.ab[both] - paint_ab[both], -1, 0))
        assert np.median(error) < 0.5  # the paint's colour, as a whole
        # pixels of at least 90 % paint keep their own colour: within 10 % of the paint's chroma
        assert np.all(error <= 0.15 * np.hypot(*paint_ab[both].T))
    fringe = old.mask & ~outline  # the mask's old cues beside the outline: duller than any paint
    assert np.median(np.hypot(*np.moveaxis(old.ab[fringe], -1, 0))) < 0.6 * np.hypot(*paint_ab[outline].T).min()


def test_marks_drawn_at_another_size_are_scaled_smoothly():
    """The strokes drawn at half the size, scaled up: the antialiased half-size strokes read as
    the full-size ones (the outline within a pixel, the cues the strokes' paint); another aspect
    ratio is refused naming both sizes."""
    from scipy import ndimage

    gray = _gray()
    full = Cues.from_marked(gray, _painted(gray, "antialiased"))
    small_gray = gray.reshape(48, 2, 64, 2).mean(axis=(1, 3))
    small_marked = np.repeat(small_gray[..., None], 3, axis=2)
    for (x0, y0, x1, y1), paint in STROKE_LINES:  # the same strokes at half the size
        from PIL import Image, ImageDraw

        big = Image.new("L", (64 * 4, 48 * 4), 0)
        ImageDraw.Draw(big).line([c * 2 for c in (x0, y0, x1, y1)], fill=255, width=3 * 4)
        cover = (np.asarray(big, np.float64) / 255).reshape(48, 4, 64, 4).mean(axis=(1, 3))[..., None]
        small_marked = cover * np.array(paint) + (1 - cover) * small_marked
    small_marked = np.round(small_marked * 255) / 255
    scaled = Cues.from_marked(gray, small_marked)
    assert scaled.note.startswith("drawn at 64×48, scaled to 128×96")
    # PIL draws a 3-pixel line's caps unlike a 6-pixel one's: 98 % of the outline within a pixel
    for one, other in ((scaled.mask, full.mask), (full.mask, scaled.mask)):
        assert np.mean(ndimage.distance_transform_edt(~other)[one] <= 1.0) >= 0.98
    both = scaled.mask & full.mask
    assert np.median(np.hypot(*np.moveaxis(scaled.ab[both] - full.ab[both], -1, 0))) < 2.0
    on_black = np.where(np.abs(small_marked - small_gray[..., None]).sum(axis=2, keepdims=True) > 0.01, small_marked, 0)
    mask = Cues.from_mask(on_black, shape=STROKE_SHAPE)
    assert mask.shape == STROKE_SHAPE and "scaled to 128×96" in mask.note
    with pytest.raises(InputError, match=r"the marked image is 64×50 but the photo is 128×96"):
        Cues.from_marked(gray, np.zeros((50, 64, 3)))


def test_points_placed_on_another_size_are_scaled(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps({"width": 64, "height": 48, "points": [{"y": 10, "x": 20, "a": 30, "b": 5, "radius": 2}]})
    )
    cues = Cues.from_points(path, shape=(96, 128))
    assert cues.note == "placed on 64×48, scaled to 128×96"
    same = Cues.from_points([{"y": 20.5, "x": 40.5, "a": 30, "b": 5, "radius": 4}], shape=(96, 128))
    assert np.array_equal(cues.mask, same.mask) and cues.count == same.count > 40
    with pytest.raises(InputError, match=r"placed on a 64×48 image but the photo is 100×96"):
        Cues.from_points(path, shape=(96, 100))


@pytest.mark.parametrize("edge", [pytest.param("hard", marks=pytest.mark.slow), "soft"])
def test_from_marked_holds_the_cues_once(edge):
    # At 4 MP with a fifth painted: the cues themselves are 13 bytes a pixel (ab and lightness in
    # float32, the mask), the marks' row bands about 20 (ten float64 arrays of a 2^20-pixel band)
    # and the Lab chunks a few more. Cues in float64 (12 more), a second copy of ab and lightness,
    # the Lab of every cue at once (the 0.8 M cues' temporaries, 20 more) or a copy of the marks
    # to paint the soft edge's blends over (24) breaks the bound.
    import tracemalloc

    n = 2000
    gray = np.tile(np.linspace(0.2, 0.8, n), (n, 1))
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[:, : n // 5] = (0.8, 0.3, 0.2)
    if edge == "soft":  # a brush's edge blended into the photo over 3 pixels: read as partial paint
        for k, alpha in enumerate((0.75, 0.5, 0.25)):
            marked[:, n // 5 + k] = (
                np.round((alpha * np.array([0.8, 0.3, 0.2]) + (1 - alpha) * marked[:, n // 5 + k]) * 255) / 255
            )
    tracemalloc.start()
    try:
        cues = Cues.from_marked(gray, marked)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert cues.count == n * n // 5 + (2 * n if edge == "soft" else 0)  # at least half paint: paint; less: none
    paint = rgb_to_lab(np.array([[[0.8, 0.3, 0.2]]]))[0, 0, 1:]
    assert np.abs(cues.ab[cues.mask] - paint).max() < 1e-4  # float32: 1e-5 of ab's rounding
    assert peak < 50 * n * n


@pytest.mark.parametrize("sampler", [sample_ideepcolor, sample_random])
def test_samplers_name_the_range_the_colour_image_must_be_in(sampler):
    rgb = photo("coffee", (32, 40))
    for bad, says in (
        (
            (rgb * 255).astype(np.uint8),
            r"values in \[0, 1\], got \[\d+, \d+\] \(8-bit levels\? divide by 255\)",
        ),
        (rgb * 255, r"must hold values in \[0, 1\].*divide by 255"),
        (np.where(rgb > 0.5, np.nan, rgb), "non-finite"),
    ):
        with pytest.raises(InputError, match=says) as refused:
            sampler(bad, n=5, rng=0)
        assert str(refused.value).startswith("rgb") and "\n" not in str(refused.value)
    # rng: a seed, a list of seeds and a Generator draw what numpy.random.default_rng draws.
    seeded = sampler(rgb, n=5, rng=[7, 1, 5])
    again = sampler(rgb, n=5, rng=np.random.default_rng([7, 1, 5]))
    assert np.array_equal(seeded.mask, again.mask) and np.array_equal(seeded.ab, again.ab)
    assert np.array_equal(sampler(rgb, n=5, rng=3).mask, sampler(rgb, n=5, rng=3).mask)


point_like = st.dictionaries(
    st.sampled_from(["y", "x", "a", "b", "r", "g", "radius", "Y", " x ", "extra"]),
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(string.digits + ".-e", max_size=6),
    max_size=7,
)


@FUZZ
@given(data=st.lists(point_like, max_size=6) | json_values)
def test_points_json_never_crashes(tmp_path, data):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        cues = varcolor.Cues.from_points(path, shape=(9, 11))
    except VarcolorError:
        return
    assert cues.mask.shape == (9, 11) and np.all(np.isfinite(cues.ab[cues.mask]))


@FUZZ
@given(text=st.text(string.printable + "é\x00", max_size=200))
def test_points_csv_never_crashes(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_text("y,x,a,b,radius\n" + text, encoding="utf-8")
    try:
        varcolor.Cues.from_points(path, shape=(9, 11))
    except VarcolorError:
        pass


def test_infinite_cue_lightness_is_refused():
    mask = np.zeros((4, 4), bool)
    mask[1, 1] = True
    lightness = np.full((4, 4), np.nan)
    for bad in (np.inf, -np.inf):
        lightness[1, 1] = bad
        with pytest.raises(InputError, match="lightness"):
            varcolor.Cues(mask, np.zeros((4, 4, 2)), lightness=lightness)
    lightness[1, 1], lightness[0, 0] = np.nan, np.inf  # unknown at a cue, anything where no cue is
    assert varcolor.Cues(mask, np.zeros((4, 4, 2)), lightness=lightness).count == 1


@pytest.mark.parametrize(
    "levels, said",
    [
        (np.zeros((8, 8, 4)), "uint8 or uint16"),  # floats: from_mask's
        (np.zeros((8, 8, 3), np.uint8), "H×W×4"),  # no alpha
        (np.zeros((8, 8, 4), np.int16), "uint8 or uint16"),
        (np.zeros(8, np.uint8), "H×W×4"),
    ],
)
def test_a_layer_that_is_no_rgba_levels_is_one_line(levels, said):
    with pytest.raises(InputError, match=said):
        Cues.from_layer(levels)
    with pytest.raises(InputError, match="edges"):
        Cues.from_layer(np.zeros((8, 8, 4), np.uint8), edges="blur")


@pytest.mark.parametrize("channels", ["BGRA", "ARGB", "abgr"])
@pytest.mark.parametrize("edges", ["unmix", "exact"])
def test_a_layer_in_its_own_channel_order_gives_the_cues_of_its_rgba(channels, edges):
    """A layer read as it lies (Krita's BGRA) gives the cues of the same layer in RGBA order:
    translucent edges, black paint, every alpha level and a layer without transparency."""
    rng = np.random.default_rng(5)
    rgba = np.zeros((30, 40, 4), np.uint8)
    rgba[3:12, 4:36, :3] = rng.integers(0, 256, 3)
    rgba[3:12, 4:36, 3] = 255
    rgba[12, 4:36, 3], rgba[2, 4:36, 3] = 128, 127  # both sides of half paint
    rgba[15:25, 5:15, 3] = np.linspace(0, 255, 10).astype(np.uint8)  # black paint, every kind of alpha
    rgba[26:29] = rng.integers(0, 256, (3, 40, 4))
    order = ["RGBA".index(name) for name in channels.upper()]
    for layer in (rgba, np.concatenate([rgba[..., :3], np.full((30, 40, 1), 255, np.uint8)], axis=2)):
        own = Cues.from_layer(np.ascontiguousarray(layer[..., order]), edges=edges, channels=channels)
        expected = Cues.from_layer(layer, edges=edges)
        assert own.count == expected.count > 0
        assert np.array_equal(own.mask, expected.mask) and np.array_equal(own.ab, expected.ab)
        assert np.array_equal(own.lightness, expected.lightness, equal_nan=True) and own.note == expected.note


@pytest.mark.parametrize("channels", ["RGB", "RGBB", "RGBAX", "", 4])
def test_channels_that_do_not_name_rgba_are_one_line(channels):
    with pytest.raises(InputError, match="channels must name R, G, B and A"):
        Cues.from_layer(np.zeros((8, 8, 4), np.uint8), channels=channels)


def test_the_checks_read_the_cues_of_strided_arrays():
    """Cue values given as views (not in one piece) are checked at the cue pixels as well."""
    mask = np.zeros((6, 6), bool)
    mask[2, 3] = True
    ab = np.zeros((6, 12, 2))[:, ::2]
    ab[2, 3] = (2000.0, 0.0)
    with pytest.raises(InputError, match="within"):
        Cues(mask, ab)
    weight = np.ones((6, 12))[:, ::2]
    weight[2, 3] = -1
    with pytest.raises(InputError, match="non-negative"):
        Cues(mask, np.zeros((6, 6, 2)), weight=weight)
    lightness = np.zeros((12, 6))[::2]
    lightness[2, 3] = np.inf
    with pytest.raises(InputError, match="lightness"):
        Cues(mask, np.zeros((6, 6, 2)), lightness=lightness)


def test_a_jpeg_round_trip_of_a_grainy_scans_marked_copy_leaves_no_specks_to_pin_it_gray(recwarn):
    """A gray scan with grain in each channel, strokes painted on it, the marked copy saved as
    JPEG and back: thousands of one- to eight-pixel marks, colourless and coloured, were read as
    cues and held the photo gray (and 1.0 confident) where the strokes' colour should reach."""
    import io

    from PIL import Image
    from scipy import ndimage

    import varcolor
    from varcolor.reading.marks import SPECK

    from .conftest import photo

    rng = np.random.default_rng(5)
    base = varcolor.color.same_lightness_gray(photo("astronaut", (192, 240)))
    scan = np.round(np.clip(base[..., None] + rng.normal(0, 0.03, base.shape + (3,)), 0, 1) * 255) / 255
    strokes = np.zeros(base.shape, bool)
    strokes[40:45, 30:120] = strokes[120:125, 100:220] = strokes[60:150, 20:25] = True
    marked = scan.copy()
    marked[strokes] = (0.8, 0.3, 0.2)
    buffer = io.BytesIO()
    Image.fromarray(np.round(marked * 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
    round_trip = np.asarray(Image.open(buffer)).astype(np.float64) / 255
    cues = Cues.from_marked(scan, round_trip)
    labels, count = ndimage.label(cues.mask, np.ones((3, 3)))
    sizes = np.bincount(labels.ravel())[1:]
    assert sizes.min() >= SPECK and count <= 6, np.sort(sizes)  # the three strokes, in a few parts at most
    assert (cues.mask & strokes).sum() > 0.9 * strokes.sum()
    assert any("specks" in str(w.message) for w in recwarn)
    clean = varcolor.colorize(scan, Cues.from_marked(scan, marked))
    result = varcolor.colorize(scan, cues)
    chroma = [np.hypot(*r.ab.transpose(2, 0, 1)) for r in (clean, result)]
    # Where the clean copy's strokes give colour, the round trip's give some (0.16 of it with the
    # specks, 0.39 without: the JPEG's low-chroma halo round each stroke, read as cues, keeps the
    # rest), and it is not said to be known everywhere (0.98 confident with the specks, 0.41).
    known = chroma[0] > 5
    assert chroma[1][known].mean() > 0.3 * chroma[0][known].mean(), (chroma[1][known].mean(), chroma[0][known].mean())
    assert result.confidence.mean() < 2 * clean.confidence.mean()


@pytest.mark.parametrize("quality", [85, 70])
def test_a_marked_copy_saved_as_jpeg_is_read_not_refused_as_another_photo(quality, recwarn):
    """Strokes on a gray photo's copy, saved as JPEG and back: the copy strays by up to 12 levels
    in textured parts, and its colourless differences (a quarter of the photo at quality 85) were
    read as gray paint, then refused as "not this photo"; now they are the copy's noise."""
    import io

    from PIL import Image

    import varcolor

    from .conftest import photo

    gray = np.round(varcolor.color.same_lightness_gray(photo("astronaut", (192, 240))) * 255) / 255
    strokes = np.zeros(gray.shape, bool)
    strokes[40:45, 30:120] = strokes[120:125, 100:220] = strokes[60:150, 20:25] = True
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[strokes] = (0.8, 0.3, 0.2)
    buffer = io.BytesIO()
    Image.fromarray(np.round(marked * 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    cues = Cues.from_marked(gray, np.asarray(Image.open(buffer)).astype(np.float64) / 255)
    assert (cues.mask & strokes).sum() > 0.9 * strokes.sum() and cues.count < 1.5 * strokes.sum()
    assert (np.hypot(*cues.ab[cues.mask].T) > 10).mean() > 0.8  # colour, not gray paint
    assert any("not strokes" in str(w.message) for w in recwarn)
    # The JPEG's halo of each stroke's colour (chroma spread round it, its lightness moved) is no
    # cue: read as cues, its weak colour held the strokes' to 0.61 (85) and 0.40 (70) of a clean copy's.
    clean = np.hypot(*varcolor.colorize(gray, Cues.from_marked(gray, marked)).ab.transpose(2, 0, 1))
    result = np.hypot(*varcolor.colorize(gray, cues).ab.transpose(2, 0, 1))
    known = clean > 5
    assert result[known].mean() > 0.7 * clean[known].mean(), (result[known].mean(), clean[known].mean())


def test_a_jpegs_halo_is_found_band_by_band_as_on_the_whole_image(monkeypatch):
    import varcolor.reading.marks as marks

    rng = np.random.default_rng(4)
    mask = rng.random((60, 40)) < 0.3
    ab = rng.normal(0, 30, (60, 40, 2))
    whole = marks._halo(mask, ab)
    monkeypatch.setattr(marks, "_bands", lambda shape: [slice(top, top + 7) for top in range(0, shape[0], 7)])
    assert whole.any() and np.array_equal(marks._halo(mask, ab), whole)


def test_a_few_dots_painted_on_a_scanners_rgb_are_strokes_not_specks():
    """Three 3×3 dots on the one-channel copy of a gray photo stored with noise in each channel:
    the photo's own noise is read apart, and so few small marks are no noise's specks."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0.2, 0.8, 120 * 160).reshape(120, 160)
    scan = np.round(np.clip(ramp[..., None] + rng.normal(0, 0.01, (120, 160, 3)), 0, 1) * 255) / 255
    marked = np.repeat(np.round(scan.mean(axis=2) * 255)[..., None] / 255, 3, axis=2)
    dots = np.zeros(ramp.shape, bool)
    for y, x in [(20, 20), (60, 80), (100, 140)]:
        dots[y : y + 3, x : x + 3] = True
    marked[dots] = (0.9, 0.2, 0.2)
    with pytest.warns(UserWarning, match=r"differ from the gray image by at most .*taken as noise, not strokes"):
        cues = Cues.from_marked(scan, marked)
    assert np.array_equal(cues.mask, dots)


@pytest.mark.parametrize("saved", ["LA", "RGBA"])
def test_a_gray_photo_saved_with_alpha_gives_the_cues_of_its_gray(saved):
    """An alpha channel says how the photo was saved, not what it shows: a gray photo saved as gray
    and alpha, or as RGBA, reads the same strokes as the gray alone."""
    gray = np.round(same_lightness_gray(photo("coffee", (60, 80))) * 255) / 255
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[20:24, 10:70] = (0.8, 0.3, 0.2)
    marked[40:43, 10:70] = (0.2, 0.4, 0.8)
    opaque = np.ones(gray.shape + (1,))
    with_alpha = np.dstack([gray, opaque] if saved == "LA" else [gray, gray, gray, opaque])
    read, alone = Cues.from_marked(with_alpha, marked), Cues.from_marked(gray, marked)
    assert read.count == alone.count > 0 and np.array_equal(read.mask, alone.mask)
    assert np.array_equal(read.ab, alone.ab)


@pytest.mark.parametrize(
    "gray, keywords, said",
    [
        (np.zeros((0, 0)), {}, r"gray image must be H×W or H×W×3 with pixels, got shape \(0, 0\)"),
        (0.5, {}, r"gray image must be .*got shape \(\)"),
        (np.zeros((6, 6, 5)), {}, r"got shape \(6, 6, 5\)"),
        (np.zeros((6, 6)), {"threshold": float("nan")}, "threshold must be a positive number, not nan"),
        (np.zeros((6, 6)), {"threshold": 0.0}, "threshold must be a positive number"),
        (np.zeros((6, 6)), {"noise": -1.0}, "noise must be a non-negative number, not -1.0"),
    ],
)
def test_a_marked_reading_of_no_photo_or_odd_limits_is_one_line(gray, keywords, said):
    with pytest.raises(InputError, match=said):
        Cues.from_marked(gray, np.zeros((6, 6, 3)), **keywords)
