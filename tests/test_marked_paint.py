"""Reading a marked image for both kinds of paint (:meth:`varcolor.Cues.from_marked`).

Strokes painted over the gray photo by a paint program (antialiased: coverage-weighted paint over
gray), crossing each other, must colorize as the same strokes drawn hard-edged; strokes of true
colours copied from a colour original (textured, hard-edged) must be read as drawn, as the same
strokes on a layered file's strokes layer are.
"""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from scipy import ndimage

import varcolor
from varcolor import Cues
from varcolor.cues import MARKED_THRESHOLD
from varcolor.errors import InputError

from .conftest import photo, run

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)

SHAPE = (192, 256)
#: Twelve paints, one a stroke.
PAINTS = (
    (0.85, 0.2, 0.15),
    (0.15, 0.4, 0.9),
    (0.25, 0.75, 0.25),
    (0.95, 0.8, 0.1),
    (0.6, 0.2, 0.7),
    (0.1, 0.7, 0.75),
    (0.9, 0.5, 0.1),
    (0.45, 0.25, 0.1),
    (0.9, 0.4, 0.6),
    (0.3, 0.3, 0.6),
    (0.6, 0.7, 0.2),
    (0.2, 0.5, 0.4),
)


def _lines(shape, count=12, seed=3):
    """``count`` straight strokes across the image, every other one mostly across, the others
    mostly down: they cross each other many times."""
    rng = np.random.default_rng(seed)
    height, width = shape
    lines = []
    for i in range(count):
        if i % 2:
            lines.append((rng.uniform(5, 0.3 * width), rng.uniform(10, height - 10)))
            lines[-1] += (rng.uniform(0.7 * width, width - 5), rng.uniform(10, height - 10))
        else:
            lines.append((rng.uniform(10, width - 10), rng.uniform(5, 0.3 * height)))
            lines[-1] += (rng.uniform(10, width - 10), rng.uniform(0.7 * height, height - 5))
    return lines


def _coverage(shape, line, width=7, factor=4):
    """The share of each pixel a brush ``width`` pixels wide along ``line`` covers (supersampled)."""
    from PIL import Image, ImageDraw

    big = Image.new("L", (shape[1] * factor, shape[0] * factor), 0)
    ImageDraw.Draw(big).line([c * factor for c in line], fill=255, width=width * factor)
    pixels = np.asarray(big, np.float64) / 255
    return pixels.reshape(shape[0], factor, shape[1], factor).mean(axis=(1, 3))


def _gray(name="coffee", shape=SHAPE):
    return np.round(varcolor.color.to_gray(photo(name, shape)) * 255) / 255


def _crossing(gray, brush, seed=3, count=12, width=7):
    """The gray image with twelve crossing strokes painted one after another, as a paint program
    does (8-bit, as saved): ``antialiased``, each pixel the paint over what is under it weighted
    by the brush's coverage; ``hard``, full paint where the brush covers half the pixel or more.
    Also the strokes' hard outline."""
    marked = np.repeat(gray[..., None], 3, axis=2)
    outline = np.zeros(gray.shape, bool)
    for line, paint in zip(_lines(gray.shape, count, seed), PAINTS):
        cover = _coverage(gray.shape, line, width)
        outline |= cover >= 0.5
        if brush == "hard":
            cover = (cover >= 0.5).astype(np.float64)
        marked = cover[..., None] * np.array(paint) + (1 - cover[..., None]) * marked
    return np.round(marked * 255) / 255, outline


def _ab_apart(first, second, where):
    return float(np.mean(np.hypot(*np.moveaxis(first - second, -1, 0))[where]))


@pytest.mark.parametrize(
    "name, seed, shape, count, width",
    [("coffee", 3, SHAPE, 12, 7), ("astronaut", 5, SHAPE, 12, 7), ("astronaut", 51, (167, 152), 11, 12)],
)
def test_antialiased_crossing_strokes_colorize_as_their_hard_edged_twins(name, seed, shape, count, width):
    """Near the strokes (5 pixels around their outline) the results agree within 1 ab, with the
    default method and Levin's; the rims where strokes of two colours cross are read as blends
    of both paints, not as grayish cues of their own (which fenced each stroke's colour in:
    12-15 ab apart). The last case: wide strokes whose paints lie further than the rims looked
    at (an index past the rows gathered once ended the reading in an IndexError)."""
    gray = _gray(name, shape)
    antialiased, outline = _crossing(gray, "antialiased", seed, count, width)
    hard, _ = _crossing(gray, "hard", seed, count, width)
    near = ndimage.binary_dilation(outline, iterations=5)
    read, drawn = Cues.from_marked(gray, antialiased), Cues.from_marked(gray, hard)
    assert "blended edge pixels read as partial paint" in read.note
    assert drawn.note == ""  # hard edges: every pixel its paint
    for method in ("levin-multiscale", "levin"):
        apart = _ab_apart(
            varcolor.colorize(gray, read, method=method).ab, varcolor.colorize(gray, drawn, method=method).ab, near
        )
        assert apart < 1.0, (method, apart)


def test_hard_edged_crossing_strokes_are_read_as_drawn():
    """Hard-edged strokes crossing each other: every pixel a cue in its own colour, the exact
    rule's cues bit for bit (no pixel read as a blend of two paints)."""
    gray = _gray("astronaut")
    hard, _ = _crossing(gray, "hard")
    read, exact = Cues.from_marked(gray, hard), Cues.from_marked(gray, hard, edges="exact")
    assert read.note == ""
    assert np.array_equal(read.mask, exact.mask)
    assert np.array_equal(read.ab, exact.ab)


def _in_linear_light(gray, brush, width=7):
    """The gray image with three saturated strokes apart from each other, painted as a program that
    blends in linear light does (8-bit, as saved): ``antialiased``, each pixel's light the paint's
    and the photo's weighted by the brush's coverage; ``hard``, full paint where the brush covers
    half the pixel or more. Also the strokes' hard outline."""

    def linear(v):
        return np.where(v > 0.04045, ((v + 0.055) / 1.055) ** 2.4, v / 12.92)

    def srgb(v):
        return np.where(v > 0.0031308, 1.055 * np.maximum(v, 0.0031308) ** (1 / 2.4) - 0.055, 12.92 * v)

    lines = ((20, 20, 60, 170), (120, 15, 100, 175), (190, 20, 235, 170))
    marked = np.repeat(gray[..., None], 3, axis=2)
    outline = np.zeros(gray.shape, bool)
    for line, paint in zip(lines, ((0.2, 0.56, 0.855), PAINTS[0], PAINTS[2])):
        cover = _coverage(gray.shape, line, width)
        outline |= cover >= 0.5
        if brush == "hard":
            cover = (cover >= 0.5).astype(np.float64)
        marked = srgb(cover[..., None] * linear(np.array(paint)) + (1 - cover[..., None]) * linear(marked))
    return np.round(marked * 255) / 255, outline


@pytest.mark.parametrize("name", ["coffee", "astronaut"])
def test_strokes_antialiased_in_linear_light_colorize_as_their_hard_edged_twins(name):
    """A rim blended in linear light lies off sRGB's line from the photo to a saturated paint by
    more than the slack (a blue's half-paint rim by 7 levels): still read as partial paint, every
    cue holds one of the three paints and the results agree within 1 ab near the strokes (kept in
    their own pale colours, 70-100 rim cues fenced each stroke in: 2 ab apart)."""
    gray = _gray(name)
    antialiased, outline = _in_linear_light(gray, "antialiased")
    hard, _ = _in_linear_light(gray, "hard")
    read, drawn = Cues.from_marked(gray, antialiased), Cues.from_marked(gray, hard)
    assert "blended edge pixels read as partial paint" in read.note
    assert len(np.unique(read.ab[read.mask], axis=0)) == 3
    near = ndimage.binary_dilation(outline, iterations=5)
    for method in ("levin-multiscale", "levin"):
        apart = _ab_apart(
            varcolor.colorize(gray, read, method=method).ab, varcolor.colorize(gray, drawn, method=method).ab, near
        )
        assert apart < 1.0, (method, apart)


def _true_colour_marks(name="coffee", shape=(192, 256), width=7, count=12, seed=1):
    """A colour photo's gray (8-bit, its own lightness) with hard-edged strokes ``width`` pixels
    wide copied from the colour original (textured: their colour varies along each stroke), some
    crossing; and where they differ from the gray (Levin's rule)."""
    from skimage.draw import line
    from skimage.transform import resize

    from varcolor.color import same_lightness_gray

    rgb = np.round(resize(getattr(skimage.data, name)() / 255.0, shape, anti_aliasing=True) * 255) / 255
    gray = np.round(same_lightness_gray(rgb) * 255) / 255
    strokes = np.zeros(shape, bool)
    rng = np.random.default_rng(seed)
    for y0, x0, y1, x1 in rng.integers(8, min(shape) - 8 - width, (count, 4)):
        rows, cols = line(y0, x0, y1, x1)
        for dy in range(width):
            for dx in range(width):
                strokes[rows + dy, cols + dx] = True
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[strokes] = rgb[strokes]
    painted = np.abs(marked - gray[..., None]).sum(axis=2) > MARKED_THRESHOLD
    return gray, marked, painted


@pytest.mark.parametrize("name, width, count", [("coffee", 7, 12), ("chelsea", 3, 12)])
def test_true_colour_strokes_as_marks_and_as_a_strokes_layer_colorize_alike(tmp_path, capsys, name, width, count):
    """The same textured, hard-edged strokes (crossing) given as ``--marked`` and as a ``.ora``'s
    strokes layer colorize within a level of each other: no edge pixel of theirs is read as
    partial paint (a hundred or more were, up to 33 levels apart)."""
    from varcolor.io.layers import Layer
    from varcolor.io.stack import write_layers

    from .cli.test_cli import run

    gray, marked, painted = _true_colour_marks(name, width=width, count=count)
    assert ndimage.label(painted, np.ones((3, 3)))[1] < count  # some strokes cross
    read = Cues.from_marked(gray, marked)
    assert "blended" not in read.note
    varcolor.write_image(tmp_path / "gray.png", gray)
    varcolor.write_image(tmp_path / "marked.png", marked)
    layer = np.concatenate([marked, painted[..., None] * 1.0], axis=2)
    scan = np.dstack([gray, gray, gray, np.ones_like(gray)])
    write_layers(tmp_path / "work.ora", [Layer("scan", scan), Layer("strokes", layer)])
    argv = ("colorize", tmp_path / "gray.png", "--marked", tmp_path / "marked.png", "-o", tmp_path / "flat.png")
    assert run(capsys, *argv)[0] == 0
    code, _, err = run(capsys, "colorize", tmp_path / "work.ora", "-o", tmp_path / "layered.png")
    assert code == 0, err
    flat, layered = varcolor.read_image(tmp_path / "flat.png"), varcolor.read_image(tmp_path / "layered.png")
    apart = float(np.abs(flat - layered).max()) * 255
    assert apart <= 1.0 + 1e-9, apart  # levels


def test_rims_with_no_laid_paint_near_them_fall_back_to_their_own_paint():
    """A box of rim pixels with no laid paint in reach (a grainy 12 MP scan's strokes met it)
    takes each pixel's fallback paint in every hue direction; it raised IndexError."""
    from varcolor.reading.marks import HUES, _hue_paints

    strokes = np.zeros((20, 30), bool)
    strokes[5:8, 4:20] = True
    flat = np.random.default_rng(0).uniform(0, 1, (strokes.size, 3))
    at = np.flatnonzero(strokes)
    fallback = at[::-1].copy()
    found = _hue_paints(at, flat, strokes, np.zeros_like(strokes), fallback, 3)
    assert len(found) == HUES and all(np.array_equal(f, fallback) for f in found)


def _astronaut_with_true_colour_marks(shape=(256, 256), width=4, count=24, seed=1):
    """A colour photo, its gray (8-bit), and its gray with hard-edged strokes ``width`` px wide
    copied from the colour original: marks whose colour varies along the stroke."""
    from skimage.draw import line
    from skimage.transform import resize

    from varcolor.color import same_lightness_gray

    rgb = np.round(resize(skimage.data.astronaut() / 255.0, shape, anti_aliasing=True) * 255) / 255
    gray = np.round(same_lightness_gray(rgb) * 255) / 255
    strokes = np.zeros(shape, bool)
    rng = np.random.default_rng(seed)
    for y0, x0, y1, x1 in rng.integers(8, min(shape) - 8 - width, (count, 4)):
        rows, cols = line(y0, x0, y1, x1)
        for dy in range(width):
            for dx in range(width):
                strokes[rows + dy, cols + dx] = True
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[strokes] = rgb[strokes]
    return rgb, gray, marked, strokes


def test_hard_edged_true_colour_marks_are_read_as_drawn_not_as_blends():
    _, gray, marked, _ = _astronaut_with_true_colour_marks()
    unmixed, exact = (varcolor.Cues.from_marked(gray, marked, edges=e) for e in ("unmix", "exact"))
    assert "blended" not in unmixed.note  # a quarter of these pixels were read as blends
    both = unmixed.mask & exact.mask
    moved = np.count_nonzero(np.abs(unmixed.ab - exact.ab).max(axis=2)[both] > 1e-3)
    assert np.count_nonzero(unmixed.mask != exact.mask) + moved <= 0.02 * exact.count  # 25 % before


def test_the_same_hard_edged_strokes_as_a_layer_and_as_marks_colorize_alike(tmp_path, capsys):
    """The promise of the layered files' guide: hard-edged strokes on a layer give the result of
    the same strokes painted on a copy of the photo (--marked), level for level."""
    _, gray, marked, _ = _astronaut_with_true_colour_marks((96, 128), width=3, count=8)
    # It holds where every stroke pixel differs from the photo under it (Levin's rule): paint of
    # the photo's own gray level is a cue on a layer, and none in a marked image.
    painted = np.abs(marked - gray[..., None]).sum(axis=2) > varcolor.cues.MARKED_THRESHOLD
    layer = np.concatenate([marked, painted[..., None] * 1.0], axis=2)
    varcolor.write_image(tmp_path / "gray.png", gray)
    varcolor.write_image(tmp_path / "marked.png", marked)
    photo_layer = np.dstack([gray, gray, gray, np.ones_like(gray)])
    from varcolor.io.layers import Layer
    from varcolor.io.stack import write_layers

    write_layers(tmp_path / "work.ora", [Layer("scan", photo_layer), Layer("strokes", layer)])
    argv = ("colorize", tmp_path / "gray.png", "--marked", tmp_path / "marked.png", "-o", tmp_path / "flat.png")
    assert run(capsys, *argv)[0] == 0
    code, _, err = run(capsys, "colorize", tmp_path / "work.ora", "-o", tmp_path / "layered.png")
    assert code == 0, err
    flat, layered = varcolor.read_image(tmp_path / "flat.png"), varcolor.read_image(tmp_path / "layered.png")
    assert np.abs(flat - layered).max() <= 1 / 255


def test_a_marked_image_that_is_not_the_photo_under_it_is_one_line(tmp_path, capsys):
    """The photo upscaled smoothly, its marked copy by nearest neighbour: a third of the pixels
    differ without colour; they became gray cues (a gray photo with coloured lines)."""
    from skimage.transform import resize

    _, gray, _, _ = _astronaut_with_true_colour_marks((120, 120))
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[30:33, 10:110], marked[80:83, 20:100] = (0.9, 0.2, 0.1), (0.1, 0.3, 0.9)
    big_gray = np.round(np.clip(resize(gray, (360, 360), order=3), 0, 1) * 255) / 255
    big_marked = marked.repeat(3, axis=0).repeat(3, axis=1)
    # (the smooth photo's small differences from the blocky copy are said to be noise, first)
    with pytest.raises(InputError, match="not this photo with strokes on it"), pytest.warns(UserWarning, match="noise"):
        varcolor.Cues.from_marked(big_gray, big_marked)
    varcolor.write_image(tmp_path / "big.png", big_gray)
    varcolor.write_image(tmp_path / "big_marked.png", big_marked)
    code, out, err = run(
        capsys, "colorize", tmp_path / "big.png", "--marked", tmp_path / "big_marked.png", "-o", tmp_path / "o.png"
    )
    assert code == 2 and err.count("\n") == 1 and "big_marked.png" in err and "resize both the same way" in err, err
    # the same strokes on the photo itself are read, and the marks resized alike are too
    same = np.repeat(big_gray[..., None], 3, axis=2)
    same[90:99, 30:330] = (0.9, 0.2, 0.1)
    assert varcolor.Cues.from_marked(big_gray, same).count == 9 * 300


def test_strokes_upscaled_by_nearest_neighbour_lose_their_pale_rims():
    """Antialiased strokes upscaled ×3 by nearest neighbour have blended rims 3 px wide: read as
    partial paint, they colorize as the same strokes drawn hard-edged (read in their own pale
    colour, they fenced each stroke in)."""
    from .test_cues import _band_rms, _colorized, _gray, _painted

    gray = _gray()[:48, :64]
    marks, hard = (_painted(_gray(), brush)[:48, :64] for brush in ("antialiased", "hard"))
    big = [x.repeat(3, axis=0).repeat(3, axis=1) for x in (gray, marks, hard)]
    read, drawn = varcolor.Cues.from_marked(big[0], big[1]), varcolor.Cues.from_marked(big[0], big[2])
    assert "blended edge pixels read as partial paint" in read.note
    rms = _band_rms(_colorized(big[0], read), _colorized(big[0], drawn), np.ones(big[0].shape, bool))
    assert rms < 3.0, rms


def test_a_group_of_strokes_is_read_alike_wherever_it_lies_and_whatever_lies_beyond_its_reach():
    """Antialiased strokes are read from their neighbourhood alone (each group of strokes within
    the paint's reach of each other in a box of its own): the same crossing strokes read alone and
    placed in a wider scan, beside other strokes further than the reach, give the same cues,
    blends included."""
    from varcolor.reading.marks import PAINT_REACH

    gray = _gray("coffee", (120, 160))
    marked, _ = _crossing(gray, "antialiased", seed=3, count=6)
    alone = Cues.from_marked(gray, marked)
    wide_gray = _gray("astronaut", (200, 500))
    wide_gray[40:160, 300:460] = gray
    wide = np.repeat(wide_gray[..., None], 3, axis=2)
    other, _ = _crossing(wide_gray[:, : 300 - 2 * PAINT_REACH - 2], "antialiased", seed=5, count=6)
    wide[:, : other.shape[1]] = other
    wide[40:160, 300:460] = marked
    read = Cues.from_marked(wide_gray, wide)
    assert "blended edge pixels read as partial paint" in alone.note
    assert np.array_equal(read.mask[40:160, 300:460], alone.mask)
    assert np.array_equal(read.ab[40:160, 300:460], alone.ab)
    assert read.mask[:, : other.shape[1]].sum() > 1000  # the other strokes were read too


def _chroma(rgb: np.ndarray) -> np.ndarray:
    ab = varcolor.color.rgb_to_lab(rgb)[..., 1:]
    return np.hypot(ab[..., 0], ab[..., 1])


def _lanczos(image: np.ndarray, factor: float) -> np.ndarray:
    from PIL import Image

    u8 = Image.fromarray(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8))
    size = (round(u8.width * factor), round(u8.height * factor))
    return np.asarray(u8.resize(size, Image.LANCZOS)).astype(np.float64) / 255


@pytest.mark.parametrize("scale", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_a_soft_stroke_in_colour_blend_mode_is_its_paint_not_a_gray_fence(scale):
    """A stroke painted as restorers paint in an editor's Color layer — the paint at the photo's
    own lightness, its antialiased edge falling over 1.5 px — colours the photo beside it as the
    same stroke given as a hard mask does (its pale rim read as pixels of their own colour fenced
    it in: 0.40 of the chroma 3–6 px out at native size)."""
    from skimage.transform import rescale

    rgb = skimage.data.chelsea() / 255.0
    if scale > 1:
        rgb = np.clip(rescale(rgb, scale, channel_axis=2, order=1), 0, 1)
    gray = np.round(varcolor.color.same_lightness_gray(rgb) * 255) / 255
    yy, xx = np.mgrid[: gray.shape[0], : gray.shape[1]]
    (y0, x0), (y1, x1) = (150 * scale, 100 * scale), (160 * scale, 250 * scale)
    t = np.clip(((yy - y0) * (y1 - y0) + (xx - x0) * (x1 - x0)) / ((y1 - y0) ** 2 + (x1 - x0) ** 2), 0, 1)
    distance = np.hypot(yy - y0 - t * (y1 - y0), xx - x0 - t * (x1 - x0))
    alpha = np.clip((2.5 + 0.75 - distance) / 1.5, 0, 1)[..., None]
    paint = np.array([30.0, 45.0])
    lightness = varcolor.color.rgb_to_lab(np.repeat(gray[..., None], 3, axis=2))[..., :1]
    coloured = varcolor.color.lab_to_rgb(np.concatenate([lightness, np.broadcast_to(paint, gray.shape + (2,))], axis=2))
    marked = np.round(((1 - alpha) * gray[..., None] + alpha * np.clip(coloured, 0, 1)) * 255) / 255
    soft = Cues.from_marked(gray, marked)
    hard_mask = alpha[..., 0] >= 0.5
    hard = Cues(hard_mask, np.where(hard_mask[..., None], paint.astype(np.float32), np.float32(0)))
    ring = (distance >= 5.5) & (distance <= 8.5)
    kept = (
        _chroma(varcolor.colorize(gray, soft).rgb)[ring].mean()
        / _chroma(varcolor.colorize(gray, hard).rgb)[ring].mean()
    )
    assert kept >= 0.85, kept
    assert "soft rim" in soft.note


def test_marks_an_editor_resampled_with_lanczos_leave_no_gray_fence():
    """The photo and its marked copy both enlarged 2× with Lanczos: the ringing beside each stroke
    is no cue (it was read as 6,078 near-neutral cues on the bundled example)."""
    gray, marked = _lanczos(varcolor.data.chelsea(), 2), _lanczos(varcolor.data.chelsea_marked(), 2)
    cues = Cues.from_marked(gray, marked)
    chroma = np.hypot(cues.ab[..., 0], cues.ab[..., 1])
    assert np.count_nonzero(cues.mask & (chroma < 2)) <= 20
    assert np.count_nonzero(cues.mask) > 2 * np.count_nonzero(
        Cues.from_marked(varcolor.data.chelsea(), varcolor.data.chelsea_marked()).mask
    )


def test_marks_drawn_on_a_2x_copy_colour_as_the_native_marks():
    """Marks drawn on a copy enlarged 2× with Lanczos, read onto the photo: the scaling's halo
    round each stroke is partial paint, not cues of its own pale colour (24.7 dB against 29.4)."""
    gray, original = varcolor.data.chelsea(), varcolor.data.chelsea_original()
    native = varcolor.metrics.psnr(
        varcolor.colorize(gray, Cues.from_marked(gray, varcolor.data.chelsea_marked())).rgb, original
    )
    scaled = Cues.from_marked(gray, _lanczos(varcolor.data.chelsea_marked(), 2))
    assert varcolor.metrics.psnr(varcolor.colorize(gray, scaled).rgb, original) >= native - 0.5


@pytest.mark.parametrize("share", [0.004, 0.01])
def test_a_marked_copy_dithered_on_the_way_reads_its_strokes_alone(share):
    """A level or two of dither on scattered pixels (an editor's export, a profile conversion) is no
    paint: as gray cues it pinned the photo near gray wherever it lay (chroma 19.7 → 4.2 on the
    bundled example), below the share that is refused as another image."""
    from varcolor.color import same_lightness_gray

    gray = np.round(same_lightness_gray(photo("astronaut", (160, 200))) * 255) / 255
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[40:44, 20:180], marked[110:114, 30:170] = (0.8, 0.3, 0.2), (0.2, 0.4, 0.8)
    clean = Cues.from_marked(gray, marked)
    rng = np.random.default_rng(0)
    dithered = marked.copy()
    picked = (rng.random(gray.shape) < share) & ~clean.mask
    dithered[picked] = np.clip(dithered[picked] + np.array([1, -1, 1]) / 255, 0, 1)
    with pytest.warns(UserWarning, match=r"scattered pixels differ by a level or two .* taken as noise"):
        read = Cues.from_marked(gray, dithered)
    beside = ndimage.binary_dilation(clean.mask, np.ones((3, 3), bool))  # (a dithered pixel there joins a stroke)
    assert read.mask[clean.mask].all() and not (read.mask & ~beside).any(), (read.count, clean.count, picked.sum())
    # A few gray dots painted on purpose stay.
    dotted = marked.copy()
    dots = np.zeros(gray.shape, bool)
    dots[5:155:10, 195] = True
    dots &= (gray > 2 / 255) & (gray < 253 / 255)  # (a level off each way: not clipped away)
    dotted[dots] = np.clip(dotted[dots] + np.array([1, -1, 1]) / 255, 0, 1)
    assert Cues.from_marked(gray, dotted).mask[dots].all()


def test_another_gray_photo_given_as_the_marks_is_refused_not_a_gray_result():
    """A gray photo (here the photo itself, mirrored) given as its marked copy differs from it over
    most of its pixels without colour: as gray cues it made the gray image back, exit 0 and the map
    1 everywhere. Refused; gray paint laid flat over as much is read (a mask to keep it gray)."""
    from varcolor.color import same_lightness_gray

    gray = np.round(same_lightness_gray(photo("astronaut", (160, 200))) * 255) / 255
    mirrored = np.repeat(gray[:, ::-1, None], 3, axis=2)
    with pytest.raises(InputError, match="another photo or another copy of this one"):
        with pytest.warns(UserWarning, match="taken as noise"):  # (its pixels near the photo's, first)
            Cues.from_marked(gray, mirrored)
    masked = np.repeat(gray[..., None], 3, axis=2)
    masked[10:150, 10:190] = 0.45
    masked[70:74, 20:180] = (0.8, 0.3, 0.2)
    with pytest.warns(UserWarning, match="seldom most of a photo"):
        cues = Cues.from_marked(gray, masked)
    assert cues.count > 0.6 * gray.size


def test_a_pale_stroke_beside_a_vivid_one_is_paint_not_ringing():
    """A thin pale stroke (a skin tone) painted a pixel from a vivid one differs from the photo by a
    small share of the vivid stroke's difference, as ringing does; but ringing lies along that
    difference, and the pale paint is off it: read whole (41 % of it was dropped)."""
    from PIL import Image, ImageDraw

    height, width, fine = 120, 200, 4
    rows, columns = np.mgrid[:height, :width]
    gray = np.round(100 + 60 * columns / width + 20 * np.sin(rows / 9)) / 255

    def cover(y: float, thickness: float) -> np.ndarray:  # drawn 4× finer and box-filtered: antialiased
        image = Image.new("L", (width * fine, height * fine), 0)
        ImageDraw.Draw(image).line(
            [(30 * fine, y * fine), (170 * fine, y * fine)], fill=255, width=int(thickness * fine)
        )
        return np.asarray(image.resize((width, height), Image.BOX)) / 255.0

    vivid, pale = cover(50, 8), cover(56.5, 3)
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked = marked * (1 - pale[..., None]) + np.array([160, 140, 130]) / 255 * pale[..., None]
    marked = marked * (1 - vivid[..., None]) + np.array([20, 40, 230]) / 255 * vivid[..., None]
    marked = np.round(marked * 255) / 255
    opaque = pale >= 0.99
    assert Cues.from_marked(gray, marked).mask[opaque].all()
