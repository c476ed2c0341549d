"""levin-multiscale (issue 47): Levin's system solved coarse, lifted by the gray, corrected fine.

Each test holds the engine to an independent expectation: the exact solve (``levin``, itself
tested against the authors' code in test_levin.py), an analytic case, or a property of Levin's
system (a constant is a solution; cues are held exactly). The engine's propagation, unrestrained
(``restraint="off"``, the colour Levin's system gives: what these expectations are of); its
restraint to the cues' reach is tested in tests/test_restraint.py."""

import gc
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

import varcolor
import varcolor.common.kernels
import varcolor.painting
from varcolor.errors import InputError
from varcolor.methods import levin_multiscale
from varcolor.methods.base import Problem
from varcolor.methods.levin_multiscale import auto_factor

from ..conftest import gray_and_cues, make_pair, on_threads, photo, run, stroke

# not a first run's array code; Levin's propagation, unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("kernels", "unrestrained")

ENGINE = "levin-multiscale"


@pytest.fixture(autouse=True)
def _factorisations_at_the_tests_priority(monkeypatch):
    """The background factorisation at the tests' own priority: at nice 19 on a machine the test
    run keeps busy (a worker a core) it waited for idle cores, and the tests that wait for it
    took 13 s instead of 3 (its priority has a test of its own, which sets it back)."""
    monkeypatch.setattr(levin_multiscale, "lowest_priority", lambda: None)


@pytest.mark.parametrize("space", ["lab", "yiq"])
def test_factor_one_is_the_exact_solve(space, rng):
    gray, cues = gray_and_cues("astronaut", (48, 64), 30, rng)
    exact = varcolor.colorize(gray, cues, method="levin", space=space)
    multiscale = varcolor.colorize(gray, cues, method=ENGINE, factor=1, space=space)
    assert np.abs(multiscale.ab - exact.ab).max() < 1e-6
    assert multiscale.info["engine"]["factor"] == 1


def test_one_colour_everywhere_is_that_colour(rng):
    """Any constant solves every unmarked row of Levin's system (and the lift of a constant is it)."""
    gray, cues = gray_and_cues("coffee", (70, 90), 25, rng)
    flat = varcolor.Cues(cues.mask, np.where(cues.mask[..., None], (25.0, -12.0), 0.0))
    exact = varcolor.colorize(gray, flat, method="levin")
    result = varcolor.colorize(gray, flat, method=ENGINE, factor=4)
    # the corrections' tiles are solved to a relative residual of 1e-5: 25 × 1e-5 is the rounding
    assert np.abs(result.ab - exact.ab).max() < 1e-3


def test_cues_are_held_exactly(rng):
    gray, cues = gray_and_cues("chelsea", (80, 96), 60, rng)
    result = varcolor.colorize(gray, cues, method=ENGINE, factor=4)
    np.testing.assert_array_equal(result.ab[cues.mask], cues.ab[cues.mask])


def _regions():
    """Four flat regions of distinct gray, a stroke of its own colour in each: Levin's exact
    solution is each region's colour (up to the thin band where the weights cross an edge)."""
    gray = np.full((96, 96), 0.2)
    gray[:48, 48:], gray[48:, :48], gray[48:, 48:] = 0.45, 0.7, 0.9
    colours = {(0, 0): (40.0, 10.0), (0, 1): (-30.0, 25.0), (1, 0): (5.0, -40.0), (1, 1): (20.0, 30.0)}
    mask = np.zeros(gray.shape, bool)
    ab = np.zeros(gray.shape + (2,))
    truth = np.zeros(gray.shape + (2,))
    for (i, j), colour in colours.items():
        rows, columns = slice(48 * i + 20, 48 * i + 23), slice(48 * j + 10, 48 * j + 38)
        mask[rows, columns], ab[rows, columns] = True, colour
        truth[48 * i : 48 * i + 48, 48 * j : 48 * j + 48] = colour
    return gray, varcolor.Cues(mask, ab), truth


@pytest.mark.parametrize("factor", [2, 4, 5])
def test_piecewise_constant_image_reproduces_the_exact_solution(factor):
    """Blocks that straddle a region's edge (5 does not divide the 48-px regions) average two
    grays; the lift's slope against the full-resolution gray puts each pixel back in its region."""
    gray, cues, truth = _regions()
    exact = varcolor.colorize(gray, cues, method="levin").ab
    # the reference itself: Levin's solution is the regions' colours but for a leak across the edges
    assert np.abs(exact - truth).mean() < 1.0
    result = varcolor.colorize(gray, cues, method=ENGINE, factor=factor).ab
    assert np.abs(result - exact).mean() < 1.2
    edges = ndimage.binary_dilation(np.abs(np.diff(gray, axis=0, prepend=gray[:1])) > 0, iterations=3)
    edges |= ndimage.binary_dilation(np.abs(np.diff(gray, axis=1, prepend=gray[:, :1])) > 0, iterations=3)
    # off the edges, within a fraction of an ab unit (0.09 / 0.21 / 0.52 measured for 2 / 4 / 5)
    assert np.abs(result - exact)[~edges].mean() < 0.65


def _disks(side=160, seed=3):
    """Small disks of their own lightness and colour on a grainy background, a 2×2 cue dot in each."""
    rng = np.random.default_rng(seed)
    gray = np.clip(0.5 + rng.normal(0, 4 / 255, (side, side)), 0, 1)
    truth = np.zeros((side, side, 2))
    truth[...] = (10.0, 20.0)
    mask = np.zeros((side, side), bool)
    mask[4::16, 4::16] = True  # the background's own cue dots
    yy, xx = np.mgrid[:side, :side]
    for y in range(25, side - 15, 30):
        for x in range(25, side - 15, 30):
            radius = rng.uniform(5, 10)
            disk = (yy - y) ** 2 + (xx - x) ** 2 <= radius**2
            mask[(yy - y) ** 2 + (xx - x) ** 2 <= (radius + 3) ** 2] = False
            gray[disk] = np.clip(rng.uniform(0.1, 0.9) + rng.normal(0, 4 / 255, disk.sum()), 0, 1)
            truth[disk] = rng.uniform(-50, 50, 2)
            mask[y : y + 2, x : x + 2] = True
    return gray, varcolor.Cues(mask, np.where(mask[..., None], truth, 0.0)), truth


def test_small_disks_keep_their_colour_near_the_exact_solve():
    """Detail smaller than a few blocks, each with one cue dot: the correction near the cues
    brings it back (the coarse grid alone blurs the disks into the background)."""
    gray, cues, truth = _disks()

    def error(ab):
        return float(np.sqrt(((ab - truth) ** 2).sum(axis=-1)).mean())

    exact = error(varcolor.colorize(gray, cues, method="levin").ab)
    corrected = error(varcolor.colorize(gray, cues, method=ENGINE, factor=4).ab)
    coarse_only = error(varcolor.colorize(gray, cues, method=ENGINE, factor=4, margin=0).ab)
    assert corrected < exact + 0.5
    assert coarse_only > corrected + 0.2  # what the correction is for


def _small_disks(side=288, seed=5):
    """Disks of radius 8–16 px, each of its own lightness and colour with a 2×2 cue dot at its
    centre, on a grainy texture whose smooth colour field a grid of cue dots gives; and the
    disks' labels (0 elsewhere)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    lightness = 0.45 + 0.08 * np.sin(yy / 23.0) * np.cos(xx / 31.0)
    truth = np.stack([20 * np.sin(xx / 90.0), 15 * np.cos(yy / 70.0)], axis=-1)
    labels = np.zeros((side, side), int)
    for k, (y, x) in enumerate((y, x) for y in range(36, side - 20, 72) for x in range(36, side - 20, 72)):
        radius = rng.uniform(8, 16)
        disk = (yy - y) ** 2 + (xx - x) ** 2 <= radius**2
        lightness[disk] = rng.choice([rng.uniform(0.1, 0.25), rng.uniform(0.65, 0.9)])
        truth[disk] = rng.uniform(-50, 50, 2)
        labels[disk] = k + 1
    mask = np.zeros((side, side), bool)
    mask[::24, ::24] = True  # the background's cue dots, off the disks and their edges
    mask &= ~ndimage.binary_dilation(labels > 0, iterations=6)
    for y, x in ndimage.center_of_mass(labels > 0, labels, np.arange(1, labels.max() + 1)):
        mask[int(y) : int(y) + 2, int(x) : int(x) + 2] = True
    gray = np.clip(lightness + rng.normal(0, 4 / 255, lightness.shape), 0, 1)
    return gray, varcolor.Cues(mask, np.where(mask[..., None], truth, 0.0)), truth, labels


def test_a_cues_correction_spans_the_small_region_it_colours_and_nothing_else(monkeypatch):
    """A 2×2 cue dot in a disk wider than the band (``margin`` 8 px) of its own lightness: the
    exact solve colours the whole disk with it, the lift mixes in the colour around it. The
    correction spans the whole disk (its colours within a fraction of an ab unit of the exact
    solve's, where the band alone was more than 1 ab worse), and away from the disks the colours
    are the band's alone (a region's solve spans ``SPAN_PAD`` across its edge)."""
    gray, cues, truth, labels = _small_disks()
    disks = labels > 0

    def error(ab):
        return float(np.sqrt(((ab - truth) ** 2).sum(axis=-1))[disks].mean())

    exact = varcolor.colorize(gray, cues, method="levin").ab
    result = varcolor.colorize(gray, cues, method=ENGINE, factor=4)
    assert error(result.ab) < error(exact) + 0.3
    # each disk's colour, not only their mean
    per_disk = ndimage.mean(np.abs(result.ab - exact).max(axis=-1), labels, np.arange(1, labels.max() + 1))
    assert per_disk.max() < 1.5
    monkeypatch.setattr(levin_multiscale, "SPAN_ABOVE", np.inf)  # the band alone
    band = varcolor.colorize(gray, cues, method=ENGINE, factor=4)
    assert error(band.ab) > error(exact) + 1.0  # what the span is for: the check can fail
    away = ~ndimage.binary_dilation(disks, np.ones((3, 3)), iterations=levin_multiscale.SPAN_PAD + 3)
    assert np.abs(result.ab - band.ab)[away].max() < 1e-6
    np.testing.assert_array_equal(result.ab[cues.mask], cues.ab[cues.mask])


@pytest.mark.parametrize("space", ["lab", "yiq"])
def test_an_edit_recolouring_a_small_regions_cue_recolours_the_region(monkeypatch, space):
    """An edit that recolours one disk's cue dot: the disk takes the new colour to its edge, as a
    fresh solve colours it, while the tiles no changed cue touches keep their corrections (those
    of the other disks' regions too)."""
    monkeypatch.setattr(levin_multiscale, "TILE", 96)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues, _, labels = _small_disks()
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4, space=space)
    colorizer.solve(cues)
    dot = cues.mask & (labels == 1)
    recoloured = varcolor.Cues(cues.mask, np.where(dot[..., None], (45.0, -45.0), cues.ab))
    edited = colorizer.solve(recoloured)
    assert 0 < edited.info["engine"]["tiles_reused"]
    fresh = varcolor.colorize(gray, recoloured, method=ENGINE, factor=4, space=space)
    assert np.abs(edited.ab - fresh.ab).max() < 0.05
    # the disk took the new colour as the exact solve gives it (its far side too: beyond the band)
    exact = varcolor.colorize(gray, recoloured, method="levin", space=space).ab
    assert np.abs(edited.ab - exact)[labels == 1].max(axis=-1).mean() < 1.5


def test_edits_correct_the_coarse_factors_and_match_a_fresh_solve(monkeypatch, rng):
    # Correct the coarse factors even where a fresh solve of the small coarse grid is predicted cheaper.
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues = gray_and_cues("astronaut", (120, 160), 40, rng)
    added = stroke(gray.shape, slice(60, 63), slice(30, 110), (30.0, -30.0))
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
    first = colorizer.solve(cues)
    assert first.info["engine"]["coarse_update"] == "fresh"
    edited = colorizer.solve(cues.merged(added))
    assert edited.info["engine"]["coarse_update"] == "low-rank"
    fresh = varcolor.colorize(gray, cues.merged(added), method=ENGINE, factor=4)
    assert np.abs(edited.ab - fresh.ab).max() < 0.05
    undone = colorizer.solve(cues)  # undo: the added stroke's blocks released
    assert undone.info["engine"]["coarse_update"] == "low-rank"
    assert np.abs(undone.ab - first.ab).max() < 0.05
    again = colorizer.solve(cues, reuse=False)
    assert again.info["engine"]["coarse_update"] == "fresh"


def test_a_never_warmed_small_photos_edit_is_solved_afresh_by_array_code_compiling_nothing(monkeypatch, rng):
    # auto, no warm mark (the suite's _no_warm_mark): the low-rank correction's kernels would
    # compile in the user's face; the edit is a fresh solve, the same as a new colorizer's.
    monkeypatch.setenv(varcolor.common.kernels.KERNELS_VARIABLE, "auto")
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    varcolor.common.kernels.kernels_warm.cache_clear()
    assert varcolor.common.kernels.kernels_missing(120 * 160)
    gray, cues = gray_and_cues("astronaut", (120, 160), 40, rng)
    added = stroke(gray.shape, slice(60, 63), slice(30, 110), (30.0, -30.0))
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
    colorizer.solve(cues)
    edited = colorizer.solve(cues.merged(added))
    assert edited.info["engine"]["coarse_update"] == "fresh"
    assert "not compiled yet" in edited.info["full_solve"]  # says why
    assert "changed" not in edited.info  # painted whole, as a first solve
    fresh = varcolor.colorize(gray, cues.merged(added), method=ENGINE, factor=4)
    assert np.abs(edited.ab - fresh.ab).max() < 1e-9


def test_factor_by_image_size():
    assert auto_factor((256, 256)) == 1  # small enough that the exact solve costs nothing
    assert auto_factor((1000, 1000)) == 4
    assert auto_factor((5000, 8000)) == 8  # coarse grid at most about a megapixel
    result = varcolor.colorize(*gray_and_cues("coffee", (300, 320), 20, np.random.default_rng(0)), method=ENGINE)
    assert result.info["engine"]["factor"] == 4


def test_bad_parameters_are_one_line(tmp_path, capsys):
    with pytest.raises(InputError, match="factor must be a whole number"):
        varcolor.methods.build_options(method=ENGINE, factor=-2)
    with pytest.raises(InputError, match="eps must be a positive number"):
        varcolor.methods.build_options(method=ENGINE, eps=0.0)
    make_pair(tmp_path)
    code, _, err = run(capsys, "colorize", tmp_path / "img.png", "-o", tmp_path / "out.png", "--factor", "-1")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "factor" in err
    assert not (tmp_path / "out.png").exists()


def test_lift_options_on_an_image_solved_at_full_resolution_are_said_to_have_no_effect(recwarn):
    gray, cues = gray_and_cues("coffee", (120, 140), 10, np.random.default_rng(1))
    given = varcolor.colorize(gray, cues, method=ENGINE, margin=3, eps=0.01)
    said = [str(w.message) for w in recwarn if "no effect" in str(w.message)]
    assert len(said) == 1 and said[0].startswith("eps, margin: no effect on this 140×120 image")
    assert "full resolution" in said[0]
    # ... and truly none: the default options' colours, bit for bit
    np.testing.assert_array_equal(given.ab, varcolor.colorize(gray, cues, method=ENGINE).ab)
    recwarn.clear()
    varcolor.colorize(gray, cues, method=ENGINE, margin=8)  # at its default: nothing to say
    varcolor.colorize(gray, cues, method=ENGINE, factor=2, margin=3)  # a coarse grid: margin acts
    assert not [w for w in recwarn if "no effect" in str(w.message)]


def _drafts_painted(monkeypatch) -> list:
    """Every edit's paint whole and each draft painted (Method.on_early) as array code (safe
    under any numba threading layer): the futures of the drafts' paints, as they are started."""
    import varcolor.api

    monkeypatch.setattr(varcolor.painting, "WHOLE_PAINT_SHARE", 0.0)
    monkeypatch.setenv(varcolor.common.kernels.KERNELS_VARIABLE, "array")
    monkeypatch.setattr(varcolor.api, "kernels_launch_from_threads", lambda: True)
    started = []
    ahead = varcolor.painting.Painter.paint_ahead

    def painting(self, chroma):
        started.append(ahead(self, chroma))
        return started[-1]

    monkeypatch.setattr(varcolor.painting.Painter, "paint_ahead", painting)
    return started


@pytest.mark.parametrize("space", [pytest.param("lab", marks=pytest.mark.slow), "yiq"])
def test_a_draft_painted_while_it_is_corrected_gives_the_colours_of_the_answer(monkeypatch, rng, space):
    """The lift is painted while the corrections run, then the windows they wrote are painted
    again: each result's colours are exactly its chroma's painted afresh, for a first solve and
    for edits whose tiles are solved again, keep their corrections, or hold a recoloured cue."""
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    started = _drafts_painted(monkeypatch)
    gray, cues = gray_and_cues("astronaut", (200, 240), 80, rng)
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4, margin=8, space=space, bits=8)
    fresh = varcolor.painting.Painter(gray, space, colorizer.options.gamut, bits=8)
    added = cues.merged(stroke(gray.shape, slice(20, 23), slice(20, 60), (30.0, -30.0)))
    recoloured = varcolor.Cues(added.mask, np.where(added.mask[..., None], added.ab * 0.5, 0.0))
    reused = []
    for count, step in enumerate((cues, added, recoloured, cues), start=1):
        result = colorizer.solve(step)
        assert len(started) == count and started[-1].done()
        reused.append(result.info["engine"]["tiles_reused"])
        np.testing.assert_array_equal(result.rgb, fresh.paint(colorizer._chroma)[0])
    assert max(reused) > 0 and "late" not in result.info


def test_a_solve_that_fails_after_its_draft_leaves_no_paint_running(monkeypatch, rng):
    """A method that fails after giving its draft: the error is the method's, the draft's paint
    has ended (nothing writes into the painter's arrays after the call), and the next solve is
    right."""
    started = _drafts_painted(monkeypatch)
    gray, cues = gray_and_cues("astronaut", (120, 160), 40, rng)
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4, bits=8)
    correct = levin_multiscale.LevinMultiscale._correct

    def failing(self, *args, **kwargs):
        raise RuntimeError("the correction failed")

    monkeypatch.setattr(levin_multiscale.LevinMultiscale, "_correct", failing)
    with pytest.raises(RuntimeError, match="correction failed"):
        colorizer.solve(cues)
    assert len(started) == 1 and started[0].done() and colorizer._early is None
    monkeypatch.setattr(levin_multiscale.LevinMultiscale, "_correct", correct)
    result = colorizer.solve(cues, reuse=False)
    fresh = varcolor.colorize(gray, cues, method=ENGINE, factor=4, bits=8)
    np.testing.assert_array_equal(result.rgb, fresh.rgb)


def test_an_edit_solves_again_only_the_tiles_it_touches(monkeypatch, rng):
    """Tiles far from the stroke keep their corrections on the new lift: close to a fresh solve
    (the lift moved only as much as the coarse solution did there)."""
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues = gray_and_cues("astronaut", (200, 240), 80, rng)
    added = stroke(gray.shape, slice(20, 23), slice(20, 60), (30.0, -30.0))
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4, margin=8)
    first = colorizer.solve(cues)
    edited = colorizer.solve(cues.merged(added))
    engine = edited.info["engine"]
    assert engine["tiles_reused"] > 0 and engine["tiles"] < first.info["engine"]["tiles"]
    fresh = varcolor.colorize(gray, cues.merged(added), method=ENGINE, factor=4, margin=8)
    assert np.abs(edited.ab - fresh.ab).max() < 0.05
    # only the part that changed was painted again: the colours are still those of its chroma
    assert np.abs(edited.rgb - fresh.rgb).max() < 1e-3
    np.testing.assert_array_equal(edited.ab[added.mask], added.ab[added.mask])


def test_a_scan_beyond_the_kept_size_holds_nothing_for_edits(monkeypatch, rng):
    """Above KEEP_PIXELS (a scan colorized once) neither the lift nor the tiles' corrections are
    kept: an edit solves every tile again, and gives the fresh solve's colours."""
    monkeypatch.setattr(levin_multiscale, "KEEP_PIXELS", 1000)
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    gray, cues = gray_and_cues("coffee", (120, 160), 40, rng)
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
    colorizer.solve(cues)
    assert colorizer.engine._kept == {} and colorizer.engine._lifted is None
    assert colorizer.engine._interiors == {} and colorizer.engine._statistics is None
    added = stroke(gray.shape, slice(10, 13), slice(10, 50), (20.0, 20.0))
    edited = colorizer.solve(cues.merged(added))
    assert edited.info["engine"]["tiles_reused"] == 0
    fresh = varcolor.colorize(gray, cues.merged(added), method=ENGINE, factor=4)
    assert np.abs(edited.ab - fresh.ab).max() < 0.05


def _strokes_float32(shape):
    """Four strokes of distinct colours, as the readers of marks make cues: float32 ab."""
    mask, ab = np.zeros(shape, bool), np.zeros(shape + (2,), np.float32)
    for k, (row, column) in enumerate([(100, 150), (300, 450), (400, 100), (150, 600)]):
        mask[row : row + 6, column : column + 100] = True
        ab[row : row + 6, column : column + 100] = (30 - 15 * k, 20 * k - 25)
    return varcolor.Cues(mask, ab)


def test_a_scan_holds_less_than_a_float64_chroma(monkeypatch):
    """A scan colorized once (above KEEP_PIXELS and HOLD_LIGHTNESS) into 8-bit levels holds its
    chroma in float32 (8 bytes a pixel), the levels (3) and a few masks: the whole solve's peak
    stays under what a float64 chroma alone takes (16). Painting's bands and the factor made small,
    as a 40 MP scan's are to it, so that only image-sized arrays count (it was 35: the chroma and
    the lift in float64, the lightness held, the coarse factors kept). Its colours are those painted
    from the held lightness."""
    import tracemalloc

    import varcolor.api
    import varcolor.color

    monkeypatch.setattr(levin_multiscale, "KEEP_PIXELS", 0)
    monkeypatch.setattr(varcolor.painting, "HOLD_LIGHTNESS", 0)
    monkeypatch.setattr(varcolor.color, "_BAND_VALUES", 1 << 14)
    monkeypatch.setattr(
        varcolor.common.kernels, "ARRAY_CODE_PIXELS", 0
    )  # a scan's kernels, not a small photo's array code
    gray = varcolor.color.to_gray(photo("coffee", (512, 768)))
    cues = _strokes_float32(gray.shape)
    # Once before, whole: numba compiles every kernel the path takes (a fresh clone has no cache, and
    # a compilation's allocations are traced; a crop missed some and failed on an empty cache).
    varcolor.colorize(gray, cues, method=ENGINE, factor=8, bits=8)
    tracemalloc.start()
    try:
        result = varcolor.colorize(gray, cues, method=ENGINE, factor=8, bits=8)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.rgb.dtype == np.uint8 and result.info["engine"]["tiles"] > 0
    assert peak < 16 * gray.size
    monkeypatch.setattr(varcolor.painting, "HOLD_LIGHTNESS", gray.size)
    held = varcolor.colorize(gray, cues, method=ENGINE, factor=8, bits=8)
    np.testing.assert_array_equal(result.rgb, held.rgb)


def test_float32_cues_give_the_float64_cues_colours():
    """Cues in float32 (the marks' readers') are solved in float32 at full resolution: the colours
    are those of the same cues in float64 within a twentieth of a 16-bit level (float32 rounds ab
    by 1e-5), and the cues are held exactly in each."""
    gray = varcolor.color.to_gray(photo("coffee", (512, 768)))
    single = _strokes_float32(gray.shape)
    double = varcolor.Cues(single.mask, single.ab.astype(np.float64))
    one, two = (varcolor.colorize(gray, cues, method=ENGINE, factor=8) for cues in (single, double))
    assert one.ab.dtype == np.float32 and two.ab.dtype == np.float64
    assert np.abs(one.rgb - two.rgb).max() < 0.05 / 65535
    for result, cues in ((one, single), (two, double)):
        np.testing.assert_array_equal(result.ab[cues.mask], cues.ab[cues.mask])


def _whole_window_correction(monkeypatch):
    """The correction as it was solved before it cost what its unknowns cost: each tile's window
    given whole to Levin's ``system`` (every pixel but the free ones a cue row holding its
    value) and to the direct solver. Returns the pixels each tile's system was built on."""
    from varcolor.methods.levin import Levin
    from varcolor.solvers.direct import DirectSolver, Factors

    built, last = [], {}
    free_system = Levin.free_system

    def recording(self, guide, free, prior=None, weight=None):
        last.update(method=self, guide=guide, prior=prior, weight=weight)
        operator, rhs = free_system(self, guide, free, prior, weight)
        built.append((int(free.sum()), int(np.count_nonzero(operator.stencil.any(axis=2)))))
        return operator, rhs

    class WholeWindow:
        def __init__(self, operator, free, tol):
            self.free, self.tol = free, tol
            self.operator, self.factors = operator, Factors(None, True)  # what an edit would keep

        def solve(self, rhs, known):
            operator, b = last["method"].system(last["guide"], ~self.free, known, last["prior"], last["weight"])
            solution, _ = DirectSolver(operator, tol=self.tol).solve(b)
            return solution[self.free], None

    monkeypatch.setattr(Levin, "free_system", recording)
    return built, WholeWindow


@pytest.mark.parametrize("prior_mode", [None, "anchor", "residual"])
def test_the_correction_solves_the_whole_windows_system_on_its_unknowns_alone(monkeypatch, rng, prior_mode):
    """Each tile's correction is Levin's system on its window with everything but the pixels near
    the cues held: solved on those pixels alone (their rows only built), it gives the whole
    window's direct solve's colours, with a prior (both ways it enters) too."""
    monkeypatch.setattr(levin_multiscale, "TILE", 48)
    gray, cues = gray_and_cues("astronaut", (120, 144), 40, rng)
    cues = cues.merged(stroke(gray.shape, slice(60, 63), slice(10, 130), (30.0, -20.0)))
    problem = Problem(cues.mask, cues.ab)
    if prior_mode is not None:
        prior = np.stack([np.linspace(-20, 20, gray.size), np.linspace(15, -5, gray.size)], -1)
        problem = Problem(cues.mask, cues.ab, prior.reshape(gray.shape + (2,)), np.full(gray.shape, 0.5))
    options = {} if prior_mode is None else {"prior_mode": prior_mode}

    def solve(margin=6):
        colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4, margin=margin, **options)
        return colorizer.engine.solve(problem, None)

    built, whole_window = _whole_window_correction(monkeypatch)
    chroma, info = solve()
    # only the unknowns' rows were built: as many pixels as the tile's unknowns, not its window
    assert built and all(rows == unknowns for unknowns, rows in built)
    monkeypatch.setattr(levin_multiscale, "DirichletSolver", whole_window)
    reference, reference_info = solve()
    assert info["engine"]["tiles"] == reference_info["engine"]["tiles"] > 4
    assert info["engine"]["corrected_pixels"] == reference_info["engine"]["corrected_pixels"]
    uncorrected, _ = solve(margin=0)
    assert np.abs(reference - uncorrected).max() > 1.0  # the correction moves the colours: the check can fail
    # both solved to a relative residual of 1e-5 against colours of a few tens
    assert np.abs(chroma - reference).max() < 1e-3
    np.testing.assert_array_equal(chroma[cues.mask], cues.ab[cues.mask])


def _grainy_strokes(shape=(240, 320), seed=4):
    """A grainy photo's gray and a few dozen strokes of its own colours (a restorer's scene, small)."""
    rng = np.random.default_rng(seed)
    rgb = photo("coffee", shape)
    gray = np.clip(varcolor.color.same_lightness_gray(rgb) + rng.normal(0, 4 / 255, shape), 0, 1)
    ab = varcolor.color.rgb_to_lab(rgb)[..., 1:]
    mask = np.zeros(shape, bool)
    for _ in range(30):
        top, left = rng.integers(0, shape[0] - 3), rng.integers(0, shape[1] - 30)
        mask[top : top + 3, left : left + 30] = True
    return gray, varcolor.Cues(mask, np.where(mask[..., None], ab, 0.0)), ab


def test_edits_far_away_leave_the_rest_of_the_image_as_it_was(monkeypatch):
    """A stroke in a corner moves the coarse solution everywhere a little; only the blocks it can
    move past LIFT_BELOW are lifted and painted again: elsewhere the result is the last one, bit
    for bit, and every pixel is within the engine's bound of a fresh solve of the same cues."""
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues, ab = _grainy_strokes()
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
    first = colorizer.solve(cues)
    added = stroke(gray.shape, slice(200, 203), slice(270, 300), (35.0, -25.0))
    edited = colorizer.update(added)
    engine = edited.info["engine"]
    assert engine["coarse_update"] == "low-rank"
    blocks = 60 * 80
    assert 0 < engine["lifted_blocks"] < blocks / 2
    same = np.all(edited.rgb == first.rgb, axis=-1) & np.all(edited.ab == first.ab, axis=-1)
    assert same.mean() > 0.5  # the far side of the image untouched
    assert same[:80, :100].all()  # the far corner: no block of it moved
    fresh = varcolor.colorize(gray, cues.merged(added), method=ENGINE, factor=4)
    assert np.abs(edited.ab - fresh.ab).max() <= 0.05
    assert np.abs(edited.rgb - fresh.rgb).max() < 1e-3


def _edits_of_new_colours(monkeypatch, limit):
    """A grainy scene's strokes, then two strokes of new colours (each moves the lift over the
    whole picture: every tile holding cues is solved again), with tile factors kept up to
    ``limit`` bytes; each result and its engine report."""
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    monkeypatch.setattr(levin_multiscale, "TILE_FACTORS_BYTES", limit)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues, _ = _grainy_strokes()
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
    results = [colorizer.solve(cues)]
    for rows, columns, colour in [
        (slice(200, 203), slice(270, 300), (60.0, -50.0)),
        (slice(30, 33), slice(20, 50), (-55.0, 60.0)),
    ]:
        results.append(colorizer.update(stroke(gray.shape, rows, columns, colour)))
    return results, colorizer.engine._tile_factors


@pytest.mark.parametrize(
    "code", ["numba", pytest.param("array", marks=pytest.mark.slow)]
)  # the multifrontal LU's factors, and SuperLU's
def test_an_edit_solves_tiles_from_their_kept_factors_with_the_same_answer(monkeypatch, code):
    """A tile solved again for the same unknowns takes the factors kept from the last solve: the
    same rows factored the same way, so the same answer bit for bit as factoring them again."""
    monkeypatch.setenv(varcolor.common.kernels.KERNELS_VARIABLE, code)
    kept, held = _edits_of_new_colours(monkeypatch, 32 << 20)
    made, nothing = _edits_of_new_colours(monkeypatch, 0)
    assert nothing.nbytes == 0 and not nothing._held
    for with_factors, without in zip(kept, made):
        np.testing.assert_array_equal(with_factors.ab, without.ab)
        np.testing.assert_array_equal(with_factors.rgb, without.rgb)
    for edit, fresh in zip(kept[1:], made[1:]):
        tiles = edit.info["engine"]["tiles"]
        assert tiles > 4  # the new colours moved the lift under many tiles: solved again
        assert fresh.info["engine"]["tile_factorisations"] == tiles
        # only the tiles whose unknowns the new stroke changed are factored again: those its band
        # reaches, with their overlaps (a 30-pixel stroke across 40-pixel tiles: at most 2 × 2)
        assert edit.info["engine"]["tile_factorisations"] <= 4
    assert 0 < held.nbytes <= 32 << 20
    kinds = {type(factors.lu).__name__ for _, _, factors, _, _ in held._held.values()}
    assert kinds == {"MultifrontalLU" if code == "numba" else "SuperLUFactors"}


def test_the_kept_tile_factors_stay_within_their_bytes(monkeypatch):
    """Once the kept factors would pass TILE_FACTORS_BYTES, the others are factored each time and
    not kept: the bytes held never pass it, and the answers are the same."""
    everything, all_held = _edits_of_new_colours(monkeypatch, 32 << 20)
    limit = all_held.nbytes // 3
    some, held = _edits_of_new_colours(monkeypatch, limit)
    assert 0 < held.nbytes <= limit and len(held._held) < len(all_held._held)
    np.testing.assert_array_equal(some[-1].ab, everything[-1].ab)
    assert some[-1].info["engine"]["tile_factorisations"] > everything[-1].info["engine"]["tile_factorisations"]


def test_a_sequence_of_edits_stays_within_the_bound_and_undoes_exactly(monkeypatch):
    """Each block's kept lift may lag the coarse solution by less than LIFT_BELOW summed over
    edits, never more: after every edit of a sequence (strokes added, one of a colour outside the
    coarse range, which changes the range the lift is clipped to) the result is within 0.05 ab of
    a fresh solve of the same cues; undo comes back to the first result within the same bound."""
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues, ab = _grainy_strokes()
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
    first = colorizer.solve(cues)
    rng = np.random.default_rng(9)
    outside = (float(cues.ab[cues.mask][:, 0].max()) + 30.0, 0.0)  # beyond every cue's a
    lifted = []
    for k in range(6):
        top, left = rng.integers(0, 230), rng.integers(0, 280)
        colour = outside if k == 3 else tuple(ab[top + 1, left + 20])
        added = stroke(gray.shape, slice(top, top + 3), slice(left, left + 40), colour)
        edited = colorizer.update(added)
        lifted.append(edited.info["engine"]["lifted_blocks"])
        fresh = varcolor.colorize(gray, colorizer.cues, method=ENGINE, factor=4)
        assert np.abs(edited.ab - fresh.ab).max() <= 0.05, k
        np.testing.assert_array_equal(edited.ab[added.mask], added.ab[added.mask])
    assert min(lifted) < 60 * 80 / 2  # most edits lifted little of the image again
    for _ in range(6):
        undone = colorizer.undo()
    assert colorizer.cues.count == cues.count
    assert np.abs(undone.ab - first.ab).max() <= 0.05


def _strokes_in_turn(gray, ab, count, seed=9):
    """``count`` strokes of the photo's own colours, 3×40 px, at random places."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        top, left = rng.integers(0, gray.shape[0] - 10), rng.integers(0, gray.shape[1] - 45)
        yield stroke(gray.shape, slice(top, top + 3), slice(left, left + 40), tuple(ab[top + 1, left + 20]))


def _session(monkeypatch, background: bool = True, count: int = 8, compare: bool = False):
    """A grainy scene's first solve, then ``count`` strokes added in turn with few held pixels
    allowed (MAX_HELD 60: the coarse grid's low-rank correction fills after about three): the
    colorizer and each edit's result (``compare``: edits priced against a fresh solve)."""
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    monkeypatch.setattr(varcolor.methods.interactive, "MAX_HELD", 60)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", compare)
    monkeypatch.setattr(levin_multiscale.LevinMultiscale, "background", background)
    gray, cues, ab = _grainy_strokes()
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
    colorizer.solve(cues)
    edits = []
    for added in _strokes_in_turn(gray, ab, count):
        edits.append(colorizer.update(added))
        if colorizer.engine._refactor is not None:
            # The user's pause before the next stroke, in which the factorisation runs: at nice 19
            # it waits for idle cores, which a busy test machine may not give it before the next
            # stroke (it is then adopted later, or when an edit needs it: timing, not this test's).
            colorizer.engine._refactor.join()
    return gray, colorizer, edits


def _thread_solves(monkeypatch, wrap) -> None:
    """The background factorisation's coarse solve replaced by ``wrap(solve, refactor)``."""
    run_first = levin_multiscale._Refactor._run

    def run(self):
        self.coarse.solve = wrap(self.coarse.solve, self)
        run_first(self)

    monkeypatch.setattr(levin_multiscale._Refactor, "_run", run)


@pytest.mark.slow
def test_the_coarse_grid_is_factored_again_in_the_background_not_in_an_edit(monkeypatch):
    """As held pixels add up, the coarse grid is factored again in a thread and a later edit
    adopts those factors: no edit of the sequence factors the coarse grid itself (the
    synchronous path does, once its correction is full), and every result is within the
    engine's 0.05 ab of a fresh solve of the same cues, as the synchronous path's are."""
    gray, colorizer, edits = _session(monkeypatch)
    reports = [edit.info["engine"] for edit in edits]
    assert all(report["coarse_update"] == "low-rank" for report in reports), [r["coarse_update"] for r in reports]
    assert "adopted" in [report.get("coarse_refactor") for report in reports]
    _, synchronous, same_edits = _session(monkeypatch, background=False)
    assert "fresh" in [edit.info["engine"]["coarse_update"] for edit in same_edits]  # what it spares
    np.testing.assert_array_equal(synchronous.cues.mask, colorizer.cues.mask)
    fresh = varcolor.colorize(gray, colorizer.cues, method=ENGINE, factor=4)
    assert np.abs(edits[-1].ab - fresh.ab).max() <= 0.05
    assert np.abs(edits[-1].ab - same_edits[-1].ab).max() <= 0.05


@pytest.mark.slow
def test_edits_and_undos_while_the_background_factorisation_runs(monkeypatch):
    """Attack the thread: quick strokes and undos while the coarse grid's factorisation is held
    back in its thread (started for cues that the undos then remove), then let it finish. Each
    result stays within 0.05 ab of a fresh solve of its cues, the new factors are adopted (their
    strokes undone: released pixels), and undoing everything comes back to the first result."""
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    monkeypatch.setattr(varcolor.methods.interactive, "MAX_HELD", 200)
    monkeypatch.setattr(levin_multiscale, "REFACTOR_ABOVE", 0.1)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    release = threading.Event()
    run_first = levin_multiscale._Refactor._run

    def held_back(self):
        release.wait(30)
        run_first(self)

    monkeypatch.setattr(levin_multiscale._Refactor, "_run", held_back)
    gray, cues, ab = _grainy_strokes()
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
    first = colorizer.solve(cues)
    strokes = list(_strokes_in_turn(gray, ab, 6, seed=3))
    started = []
    for k, added in enumerate(strokes[:4]):
        edited = colorizer.update(added)
        started.append(edited.info["engine"].get("coarse_refactor"))
        if k in (1, 2):
            edited = colorizer.undo()
        fresh = varcolor.colorize(gray, colorizer.cues, method=ENGINE, factor=4)
        assert np.abs(edited.ab - fresh.ab).max() <= 0.05, k
    assert "started" in started and colorizer.engine._refactor is not None
    pending = colorizer.engine._refactor
    release.set()
    pending.join()
    undone = colorizer.undo()  # past the cues the factorisation was made for: its pixels released
    assert undone.info["engine"].get("coarse_refactor") == "adopted"
    assert undone.info["engine"]["coarse_update"] == "low-rank"
    fresh = varcolor.colorize(gray, colorizer.cues, method=ENGINE, factor=4)
    assert np.abs(undone.ab - fresh.ab).max() <= 0.05
    for added in strokes[4:]:
        edited = colorizer.update(added)
        fresh = varcolor.colorize(gray, colorizer.cues, method=ENGINE, factor=4)
        assert np.abs(edited.ab - fresh.ab).max() <= 0.05
    while colorizer._undo:
        last = colorizer.undo()
    np.testing.assert_array_equal(colorizer.cues.mask, cues.mask)
    assert np.abs(last.ab - first.ab).max() <= 0.05


def _refactoring_after_each_edit(monkeypatch):
    """A grainy photo's strokes solved by a colorizer whose every edit factors the coarse grid
    again in the background: the photo, its cues, their chroma and the colorizer."""
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    monkeypatch.setattr(levin_multiscale, "REFACTOR_ABOVE", 0.0)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues, ab = _grainy_strokes()
    colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
    colorizer.solve(cues)
    return gray, cues, ab, colorizer


def test_a_solve_afresh_drops_the_factorisation_under_way(monkeypatch):
    """``solve(reuse=False)`` forgets the coarse factors, and the ones being made in the
    background with them: a later edit does not adopt factors of cues from before."""
    gray, cues, ab, colorizer = _refactoring_after_each_edit(monkeypatch)
    added = next(_strokes_in_turn(gray, ab, 1))
    assert colorizer.update(added).info["engine"]["coarse_refactor"] == "started"
    colorizer.solve(cues, reuse=False)
    assert colorizer.engine._refactor is None
    edited = colorizer.update(added)
    assert edited.info["engine"].get("coarse_refactor") != "adopted"
    fresh = varcolor.colorize(gray, colorizer.cues, method=ENGINE, factor=4)
    assert np.abs(edited.ab - fresh.ab).max() <= 0.05


def test_a_factorisation_an_edit_starts_begins_once_the_edit_is_painted(monkeypatch):
    """The coarse grid's factorisation that an edit starts in a thread waits until the edit's
    result is painted (begun earlier, it took a core from the paint); a caller of the method alone,
    which never says painted, has it let go by its next solve."""
    from varcolor.painting import Painter

    gray, cues, ab, colorizer = _refactoring_after_each_edit(monkeypatch)
    seen = []
    paint = Painter.paint

    def painting(self, *args, **kwargs):  # whether the factorisation was let go before the paint
        pending = colorizer.engine._refactor
        seen.append(None if pending is None else pending.go.is_set())
        return paint(self, *args, **kwargs)

    monkeypatch.setattr(Painter, "paint", painting)
    strokes = _strokes_in_turn(gray, ab, 2)
    assert colorizer.update(next(strokes)).info["engine"]["coarse_refactor"] == "started"
    pending = colorizer.engine._refactor
    assert seen == [False] and pending.go.is_set()  # held through the paint, let go after it
    pending.join()
    # A caller of the method alone never says painted: the next solve lets the factorisation go
    # before its edit runs.
    engine = colorizer.engine
    engine._drop_refactor()
    full = Problem(colorizer.cues.mask, colorizer.painter.targets(colorizer.cues), None, None)
    engine._refactor = levin_multiscale._Refactor(engine, *levin_multiscale.coarse_cues(full.mask, full.targets, 4))
    waiting = engine._refactor
    let_go = []
    edit = engine.updates.edit
    monkeypatch.setattr(engine.updates, "edit", lambda *args: let_go.append(waiting.go.is_set()) or edit(*args))
    monkeypatch.setattr(Painter, "paint", paint)
    engine.solve(full, None)
    assert let_go and let_go[0]
    waiting.join()


def test_the_background_factorisation_runs_at_the_lowest_priority(monkeypatch):
    """The coarse grid's factorisation made ahead runs at nice 19: the strokes drawn meanwhile
    come first (at the caller's priority it took a core from them: a 12 MP Live stroke 0.96 → 1.45 s);
    the caller's own thread keeps its priority."""
    import os
    import sys

    if not hasattr(os, "getpriority") or not sys.platform.startswith("linux"):
        pytest.skip("a thread's own priority is Linux's")
    from varcolor.common.threads import lowest_priority

    monkeypatch.setattr(levin_multiscale, "lowest_priority", lowest_priority)  # as the engine has it
    seen = []

    def wrap(solve, refactor):
        def solving(*args, **kwargs):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return solve(*args, **kwargs)

        return solving

    _thread_solves(monkeypatch, wrap)
    gray, cues, ab, colorizer = _refactoring_after_each_edit(monkeypatch)
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert colorizer.update(next(_strokes_in_turn(gray, ab, 1))).info["engine"]["coarse_refactor"] == "started"
    colorizer.engine._refactor.join()
    assert seen == [19] and os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_factorisations_made_ahead_run_on_one_thread_that_frees_them(monkeypatch):
    """Every factorisation made ahead runs on the process's one refactoring thread, which lives
    on: SuperLU frees factors only in their maker thread (:mod:`varcolor.solvers.superlu`), and
    those of a thread of its own that had ended could never be freed. The SuperLU factors it made
    that the main thread dropped (a closed colorizer's) are freed by it, woken for them."""
    import scipy.sparse.linalg as spla

    from varcolor.solvers import superlu

    made = []
    splu = spla.splu
    monkeypatch.setattr(
        spla, "splu", lambda *args, **options: made.append(threading.get_ident()) or splu(*args, **options)
    )
    # SuperLU's factors for the coarse grid, as array code has them (VARCOLOR_KERNELS=array)
    monkeypatch.setattr(varcolor.solvers.direct, "small_system", lambda rows: True)
    gray, cues, ab, colorizer = _refactoring_after_each_edit(monkeypatch)
    for added in _strokes_in_turn(gray, ab, 5):
        colorizer.update(added)
        if colorizer.engine._refactor is not None:
            colorizer.engine._refactor.join()
    threads = [t for t in threading.enumerate() if t.name.startswith("varcolor-coarse-refactor")]
    assert len(threads) == 1
    ident = threads[0].ident
    assert made.count(ident) >= 3  # each refactoring's coarse factors, on the one thread
    released = []
    release = levin_multiscale.release
    monkeypatch.setattr(levin_multiscale, "release", lambda: released.append(threading.get_ident()) or release())
    del colorizer
    gc.collect()  # dropped here: held for their maker, woken to free them ...
    levin_multiscale._REFACTORING.submit(lambda: None).result()  # (after what was posted before)
    assert ident in released and not superlu._ORPHANS.get(ident)  # ... which it did


def test_two_sessions_editing_at_once_share_the_refactoring_thread(monkeypatch):
    """Two colorizers edited at once on two threads (a server's two studio sessions), each edit
    factoring its coarse grid again: their factorisations queue on the one thread, neither waits
    for ever on the other's, and every edit stays within 0.05 ab of a fresh solve of its cues."""
    gray, cues, ab, _ = _refactoring_after_each_edit(monkeypatch)
    finals, errors = {}, []

    def session(seed: int) -> None:
        try:
            colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
            colorizer.solve(cues)
            for added in _strokes_in_turn(gray, ab, 4, seed=seed):
                edited = colorizer.update(added)
            finals[seed] = (colorizer.cues, edited)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = on_threads(session, (3, 5))
    assert not any(thread.is_alive() for thread in threads) and not errors, errors
    for final_cues, edited in finals.values():
        fresh = varcolor.colorize(gray, final_cues, method=ENGINE, factor=4)
        assert np.abs(edited.ab - fresh.ab).max() <= 0.05


_SESSION_IN_A_THREAD = """
import threading
import varcolor
from tests.methods import test_levin_multiscale as here
from varcolor.methods import levin_multiscale

levin_multiscale.TILE, levin_multiscale.REFACTOR_ABOVE = 40, 0.0  # factored ahead after every edit
varcolor.methods.interactive.Updates.compare_with_fresh = False
gray, cues, ab = here._grainy_strokes()
reports = []


def session():
    colorizer = varcolor.Colorizer(gray, method="levin-multiscale", factor=4)
    colorizer.solve(cues)
    for added in here._strokes_in_turn(gray, ab, 4, seed=3):
        reports.append(colorizer.update(added).info["engine"].get("coarse_refactor"))
        colorizer.engine.painted()  # the user's pause: the factorisation runs
        if colorizer.engine._refactor is not None:
            colorizer.engine._refactor.join()


thread = threading.Thread(target=session)
thread.start()
thread.join()
print(reports.count("started"))
"""


@pytest.mark.slow  # a process of its own that compiles and factors; the refactor's in-process checks stay in make test
def test_a_process_that_factored_ahead_exits_cleanly():
    """A process whose editing session (on a thread of its own, as a server's) factored its
    coarse grid ahead exits with status 0: SuperLU's factors made by a thread still alive at exit
    failed the exit's flush of the output (status 120, "an integer is required"), so the
    refactoring thread is ended at exit (:class:`varcolor.common.threads.Worker`)."""
    import subprocess
    import sys

    env = {**os.environ, "VARCOLOR_KERNELS": "array"}  # SuperLU's factors for the coarse grid
    root = Path(__file__).resolve().parents[2]  # (the subprocess imports this module's helpers)
    done = subprocess.run(
        [sys.executable, "-c", _SESSION_IN_A_THREAD], capture_output=True, text=True, env=env, cwd=root, timeout=300
    )
    assert done.returncode == 0 and "Exception ignored" not in done.stderr, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) >= 3  # the factorisations ahead were made


def test_coarse_edits_are_not_refined_below_what_the_lift_shows(monkeypatch):
    """The coarse grid's low-rank corrections stop at COARSE_REFINE_TOL, not at the options'
    tol: the single-precision factors' rounding is left (no refinement pass), and the results
    stay within 0.01 ab (the correction's own bound, UPDATE_BUDGET) of the refined ones and
    within 0.05 ab of a fresh solve."""
    monkeypatch.setattr(levin_multiscale, "TILE", 40)
    monkeypatch.setattr(varcolor.methods.interactive.Updates, "compare_with_fresh", False)
    gray, cues, ab = _grainy_strokes()

    def edits():
        colorizer = varcolor.Colorizer(gray, method=ENGINE, factor=4)
        colorizer.solve(cues)
        return colorizer, [colorizer.update(added) for added in _strokes_in_turn(gray, ab, 3)]

    colorizer, loose = edits()
    assert colorizer.options.tol < levin_multiscale.COARSE_REFINE_TOL
    assert all(edit.info["refinements"] == 0 for edit in loose)
    # (the coarse grid's residual: the result's own on the full system is not measured after an edit)
    coarse = [edit.info["engine"]["coarse_residual"] for edit in loose]
    assert all(colorizer.options.tol < residual <= levin_multiscale.COARSE_REFINE_TOL for residual in coarse)
    assert all(edit.info["residual"] is None for edit in loose)
    monkeypatch.setattr(levin_multiscale, "COARSE_REFINE_TOL", colorizer.options.tol)
    _, refined = edits()
    assert all(edit.info["refinements"] >= 1 for edit in refined)
    for a, b in zip(loose, refined):
        assert np.abs(a.ab - b.ab).max() <= varcolor.methods.interactive.UPDATE_BUDGET
    fresh = varcolor.colorize(gray, colorizer.cues, method=ENGINE, factor=4)
    assert np.abs(loose[-1].ab - fresh.ab).max() <= 0.05


def test_adopted_factors_are_priced_as_the_edits_ran(monkeypatch):
    """Factors made in the thread, slowly (here their factorisation's time reads 1000 × what it
    took, as a thread on one busy core can take long): the edits after their adoption are still
    priced by what edits took in the foreground, and stay low-rank corrections, not fresh solves
    priced against the thread's time."""

    def slow(solve, refactor):
        def timed(*arguments):
            out = solve(*arguments)
            refactor.coarse.factors.setup_seconds *= 1000
            return out

        return timed

    _thread_solves(monkeypatch, slow)
    _, _, edits = _session(monkeypatch, compare=True)
    assert "adopted" in [edit.info["engine"].get("coarse_refactor") for edit in edits]
    assert [edit.info["engine"]["coarse_update"] for edit in edits] == ["low-rank"] * len(edits)


def test_a_failed_background_factorisation_leaves_the_edit_to_factor(monkeypatch):
    """The thread's factorisation fails (out of memory, say): nothing is adopted, and the edit
    that needs a full coarse solve makes it itself and says why; its result is the fresh
    solve's."""

    def failing(solve, refactor):
        def refused(*arguments):
            raise MemoryError("no room for a second coarse LU")

        return refused

    _thread_solves(monkeypatch, failing)
    gray, colorizer, edits = _session(monkeypatch)
    reports = [edit.info["engine"] for edit in edits]
    assert "started" in [report.get("coarse_refactor") for report in reports]
    assert "adopted" not in [report.get("coarse_refactor") for report in reports]
    full = [edit for edit in edits if edit.info["engine"]["coarse_update"] == "fresh"]
    assert full and all("held pixels" in edit.info["full_solve"] for edit in full)
    fresh = varcolor.colorize(gray, colorizer.cues, method=ENGINE, factor=4)
    assert np.abs(edits[-1].ab - fresh.ab).max() <= 0.05


@pytest.mark.parametrize("prior_mode", [None, "anchor", "residual"])
def test_the_full_systems_residual_made_row_by_row_is_the_whole_operators(monkeypatch, rng, prior_mode):
    """The result's residual on Levin's full-resolution system, as numba's kernel makes it (each
    row made and applied at once) and as array code does (bands of the operator), is the one the
    whole operator, built here, gives: with a prior (both ways it enters) too."""
    from varcolor.common.kernels import kernels_at_every_size
    from varcolor.energies import levin

    gray, cues = gray_and_cues("astronaut", (90, 150), 40, rng)
    problem = Problem(cues.mask, cues.ab)
    weight = prior = None
    if prior_mode is not None:
        prior = np.stack([np.linspace(-20, 20, gray.size), np.linspace(15, -5, gray.size)], -1).reshape(
            gray.shape + (2,)
        )
        weight = np.linspace(0.1, 0.9, gray.size).reshape(gray.shape)
        problem = Problem(cues.mask, cues.ab, prior, weight)
    options = {} if prior_mode is None else {"prior_mode": prior_mode}
    engine = varcolor.Colorizer(gray, method=ENGINE, factor=4, **options).engine
    chroma, _ = engine.solve(problem, None)
    operator = levin.exact_operator(gray, cues.mask, prior_weight=weight)
    if prior_mode == "residual":  # the smoothness acts on u − p: A p off the cues
        rhs = np.where(cues.mask[..., None], cues.ab, operator.apply(prior))
    else:
        rhs = levin.exact_rhs(cues.mask, cues.ab, prior, weight)
    residual = (operator.apply(chroma) - rhs).reshape(-1, 2)
    expected = np.max(np.linalg.norm(residual, axis=0) / np.linalg.norm(rhs.reshape(-1, 2), axis=0))
    assert expected > 1e-4  # a result off the full system: the comparison can fail
    with kernels_at_every_size(), monkeypatch.context() as bands:
        bands.setattr(levin, "RESIDUAL_KERNEL_BAND_PIXELS", 2000)  # bands of 14 rows: seven of them
        assert engine.full_residual(chroma, problem) == pytest.approx(expected, rel=1e-10)
    monkeypatch.setenv(varcolor.common.kernels.KERNELS_VARIABLE, "array")
    monkeypatch.setattr(levin, "RESIDUAL_BAND_PIXELS", 2000)  # bands of 14 rows: seven of them
    assert engine.full_residual(chroma, problem) == pytest.approx(expected, rel=1e-10)


# 11 s in make test, compiling the LU's kernels for its shape (tests/cli/test_cli_small_images.py
# keeps a thin wide photo there)
@pytest.mark.slow  # make test-slow runs it
@pytest.mark.parametrize("shape", [(3, 50000), (3, 100000)])
def test_a_thin_wide_image_gets_the_default_engine_s_result(shape):
    gray = 0.5 + 0.2 * np.sin(np.arange(shape[1]) / 50.0)[None].repeat(shape[0], 0)
    mask = np.zeros(shape, bool)
    ab = np.zeros(shape + (2,))
    mask[:, 100:110], ab[:, 100:110] = True, (40.0, 20.0)
    mask[:, -200:-190], ab[:, -200:-190] = True, (-30.0, -30.0)
    result = varcolor.colorize(gray, varcolor.Cues(mask, ab))
    lab = varcolor.color.rgb_to_lab(result.rgb)
    assert min(result.info["engine"]["coarse_shape"]) >= 3
    assert np.abs(lab[:, 100:110, 1:] - (40.0, 20.0)).max() < 1.0  # the cues hold
    assert np.abs(lab[..., 0] - varcolor.color.lightness_of_gray(gray)).max() < 1e-6 * 100 + 0.01


def test_the_cells_say_where_a_mask_may_hold_pixels():
    """A window whose cells hold no pixel of the mask holds none itself, and one that holds a
    pixel is never passed over (random sparse masks, windows of any size and place, edge cells
    smaller than the rest)."""
    rng = np.random.default_rng(6)
    for _ in range(20):
        shape = tuple(rng.integers(20, 90, 2))
        mask = rng.random(shape) < rng.choice([0.0005, 0.005, 0.05])
        cells = levin_multiscale._cells_holding(mask)
        assert cells.shape == tuple(-(-n // levin_multiscale.CELL) for n in shape)
        for _ in range(50):
            top, left = rng.integers(0, shape[0]), rng.integers(0, shape[1])
            window = (
                slice(top, rng.integers(top + 1, shape[0] + 1)),
                slice(left, rng.integers(left + 1, shape[1] + 1)),
            )
            if mask[window].any():
                assert levin_multiscale._may_hold(cells, window)
            cell = levin_multiscale.CELL  # the cells the window overlaps, whole
            cell_rows = slice(window[0].start // cell * cell, -(-window[0].stop // cell) * cell)
            cell_columns = slice(window[1].start // cell * cell, -(-window[1].stop // cell) * cell)
            assert levin_multiscale._may_hold(cells, window) == mask[cell_rows, cell_columns].any()


def test_a_kept_tiles_closed_regions_are_added_after_the_bands_solved_again():
    """An edit that solves a tile's band again (the lift moved there) beside a kept tile whose
    closed region extends into it: the kept region's correction comes after the new band, as in
    a fresh solve (added with the kept band, before it, the edit was 0.76 ab off a fresh solve
    on this scene)."""
    from .test_multiscale_device import _strokes, grainy_scene

    gray, cues = grainy_scene()
    colorizer = varcolor.Colorizer(gray, method=ENGINE)
    colorizer.solve(cues)
    for more in list(_strokes(gray.shape, 3, seed=3)):
        edited = colorizer.update(more)
    assert edited.info["engine"]["tiles_reused"] > 0
    fresh = varcolor.colorize(gray, colorizer.cues, method=ENGINE)
    assert np.abs(edited.ab - fresh.ab).max() <= 0.1
