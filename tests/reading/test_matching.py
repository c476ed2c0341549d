"""Cues from a reference photo (varcolor.reading.matching, Cues.from_reference): checked against the
photo the gray image was made from."""

import numpy as np
import pytest
from skimage import data, transform

import varcolor
from varcolor import Cues
from varcolor.color import rgb_to_lab, same_lightness_gray
from varcolor.errors import InputError
from varcolor.metrics import psnr
from varcolor.reading.matching import CLEARANCE, MIN_CONFIDENCE, match_reference

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)


def _pair(photo: np.ndarray, angle: float = 3.0, gamma: float = 0.8):
    """Two overlapping crops of one photo: the left 70 % (the truth) and the right 70 %, turned a
    few degrees with another tone curve (the reference)."""
    width = int(photo.shape[1] * 0.7)
    turned = transform.rotate(photo[:, -width:], angle, mode="reflect")
    return photo[:, :width], np.clip(turned, 0, 1) ** gamma


def _gain(truth: np.ndarray, cues: Cues) -> float:
    """dB over the gray image of the default engine's result from ``cues``."""
    gray = same_lightness_gray(truth)
    result = varcolor.colorize(gray, cues).rgb
    return psnr(result, truth) - psnr(np.repeat(gray[..., None], 3, axis=2), truth)


@pytest.fixture(scope="module")
def chelsea_pair():
    return _pair(data.chelsea() / 255.0)


def test_same_scene_cues_carry_the_true_colours(chelsea_pair):
    truth, reference = chelsea_pair
    gray = same_lightness_gray(truth)
    cues = Cues.from_reference(gray, reference)
    assert cues.count > 50
    error = np.hypot(*(cues.ab[cues.mask] - rgb_to_lab(truth)[..., 1:][cues.mask]).T)
    assert np.median(error) < 6.0  # ab units: a just-noticeable difference is about 2
    assert np.all((cues.weight[cues.mask] >= MIN_CONFIDENCE) & (cues.weight[cues.mask] <= 1))
    assert _gain(truth, cues) > 3.0


def _fast_motion(photo: np.ndarray):
    """A frame and a frame of fast motion: the left 60 % (the truth), and the same width 30 % further
    right, zoomed 1.3×, turned 6° with another tone curve (the reference). Few of its pixels are the
    nearest description of the right place; their neighbours fit the same motion."""
    width = int(photo.shape[1] * 0.6)
    moved = photo[:, int(photo.shape[1] * 0.3) :][:, :width]
    moved = transform.rotate(transform.rescale(moved, 1.3, channel_axis=2, anti_aliasing=True), 6.0, mode="reflect")
    return photo[:, :width], np.clip(moved, 0, 1) ** 0.8


@pytest.mark.slow
def test_fast_motion_is_coloured_from_the_matches_grown():
    # Trusted matches cover about 1 % of this pair: they are carried to their neighbours and
    # checked again, and the pair gets cues of the true colours over much more of the image.
    truth, reference = _fast_motion(data.astronaut() / 255.0)
    gray = same_lightness_gray(truth)
    cues = Cues.from_reference(gray, reference)
    assert cues.count > 300
    error = np.hypot(*(cues.ab[cues.mask] - rgb_to_lab(truth)[..., 1:][cues.mask]).T)
    assert np.median(error) < 6.0
    assert np.percentile(error, 90) < 20.0
    assert _gain(truth, cues) > 3.0


def test_an_unrelated_reference_declines_to_guess():
    truth = transform.resize(data.coffee() / 255.0, (300, 400), anti_aliasing=True)
    for other in (data.astronaut(), data.chelsea(), data.rocket()):
        cues = Cues.from_reference(same_lightness_gray(truth), other / 255.0)
        assert cues.count < 20
        assert _gain(truth, cues) > -1.0 if cues.count else True


def _side(photo: np.ndarray, side: int = 200) -> np.ndarray:
    """``photo`` (uint8) in [0, 1], its longer side ``side`` pixels: under the working size."""
    scale = side / max(photo.shape[:2])
    return np.clip(transform.rescale(photo / 255.0, scale, channel_axis=2, anti_aliasing=True), 0, 1)


@pytest.mark.slow
def test_small_photos_need_a_larger_trusted_share_and_keep_their_true_references():
    """Both photos under the working size: the rocket's left 75 % against the cat trusted 1 % of
    its reduced pixels by chance (no verified geometry), over the flat 0.008 gate, and was coloured
    from the cat; the gate grows as 1/√pixels below :data:`~varcolor.reading.matching.SHARE_PIXELS`. Same-
    scene pairs of those sizes still give cues."""
    from varcolor.reading.matching import MIN_SHARE, SHARE_PIXELS, min_share

    rocket, cat = _side(data.rocket()), _side(data.chelsea())
    gray = same_lightness_gray(rocket[:, : int(rocket.shape[1] * 0.75)])
    assert gray.size < SHARE_PIXELS and min_share(gray.size) > MIN_SHARE
    assert Cues.from_reference(gray, cat).count == 0
    for photo in (rocket, cat, _side(data.astronaut())):
        truth, reference = _pair(photo)
        cues = Cues.from_reference(same_lightness_gray(truth), reference)
        assert cues.count > 50 and _gain(truth, cues) > 2.0


def test_a_reference_of_another_size_and_shape(chelsea_pair):
    truth, reference = chelsea_pair
    gray = same_lightness_gray(truth)
    half = transform.resize(reference, (reference.shape[0] // 2, reference.shape[1] // 2), anti_aliasing=True)
    tall = reference[:, : reference.shape[0] // 2]  # a narrow strip of it
    for other in (half, tall):
        cues = Cues.from_reference(gray, other)
        assert cues.count > 20
        error = np.hypot(*(cues.ab[cues.mask] - rgb_to_lab(truth)[..., 1:][cues.mask]).T)
        assert np.median(error) < 8.0


def test_strokes_win_where_they_are(chelsea_pair):
    truth, reference = chelsea_pair
    gray = same_lightness_gray(truth)
    strokes = Cues.from_points([{"y": 150, "x": 150, "r": 0, "g": 0, "b": 255, "radius": 5}], shape=gray.shape)
    cues = Cues.from_reference(gray, reference, strokes=strokes)
    np.testing.assert_allclose(cues.ab[strokes.mask], strokes.ab[strokes.mask])
    matched = cues.mask & ~strokes.mask
    rows, cols = np.nonzero(matched)
    assert matched.sum() > 50
    assert np.all((np.abs(rows - 150) > CLEARANCE) | (np.abs(cols - 150) > CLEARANCE))
    np.testing.assert_array_equal(cues.weight[strokes.mask], 1.0)  # strokes are the user's: certain


def test_a_sterner_threshold_gives_fewer_cues(chelsea_pair):
    truth, reference = chelsea_pair
    gray = same_lightness_gray(truth)
    loose = match_reference(gray, reference, min_confidence=0.5)[0]
    stern = match_reference(gray, reference, min_confidence=0.9)[0]
    assert stern.sum() < loose.sum()


@pytest.mark.parametrize(
    "reference, words",
    [
        (np.full((40, 40, 3), 0.5), "gray"),
        (np.repeat(data.camera()[:64, :64, None] / 255.0, 3, axis=2), "gray"),
        (np.full((1, 1, 3), 0.5), "at least"),
        (np.zeros((40, 40)), "colour"),
        (np.full((40, 40, 3), np.nan), "finite"),
    ],
)
def test_a_reference_that_cannot_give_colour_is_refused(reference, words):
    with pytest.raises(InputError, match=words):
        Cues.from_reference(np.full((50, 50), 0.5), reference)


@pytest.mark.slow
def test_a_pair_the_patch_statistics_refuse_is_trusted_by_its_geometry():
    # A stained tissue section (plain, pale background): 75 % crops turned 4° with another tone
    # curve. Its patch statistics trust too little of it (the old gate refused it: no cue); the
    # keypoints fit one affine transform, so the pair is the same scene and gets the true colours.
    from varcolor.reading.matching import signature, verified

    photo = data.immunohistochemistry() / 255.0
    width = int(photo.shape[1] * 0.75)
    truth = photo[:, :width]
    reference = np.clip(transform.rotate(photo[:, -width:], 4.0, mode="reflect"), 0, 1) ** 0.8
    gray = same_lightness_gray(truth)
    geometry = verified(signature(np.repeat(gray[..., None], 3, axis=2)), signature(reference))
    assert geometry.trusted and geometry.inliers >= 50
    # the fitted transform is the crop's: a turn of 4° (either sign: rows point down)
    turn = np.degrees(np.arctan2(geometry.transform.params[1, 0], geometry.transform.params[0, 0]))
    assert abs(abs(turn) - 4.0) < 1.0
    cues = Cues.from_reference(gray, reference)
    assert cues.count > 500
    error = np.hypot(*(cues.ab[cues.mask] - rgb_to_lab(truth)[..., 1:][cues.mask]).T)
    assert np.median(error) < 6.0
    assert _gain(truth, cues) > 4.0


def test_unrelated_signatures_do_not_verify():
    from varcolor.reading.matching import signature, verified

    photos = [data.coffee() / 255.0, data.astronaut() / 255.0, data.chelsea() / 255.0, data.rocket() / 255.0]
    signatures = [signature(photo) for photo in photos]
    for i, ours in enumerate(signatures):
        for j, theirs in enumerate(signatures):
            if i != j:
                geometry = verified(ours, theirs)
                assert not geometry.trusted and geometry.inliers < 10


def test_ransac_draws_enough_trials_to_find_any_transform_the_gate_would_trust():
    """RANSAC's trials (:func:`varcolor.reading.matching._trials`): where just enough of ``m`` matches fit
    for the pair to be trusted (10, or a fifth of them), three of them are drawn together at least
    once with probability 0.999, within the 1,000-trial cap; a pair of fewer than 10 matches is
    not fitted at all (it cannot be trusted), and a true pair still verifies."""
    from varcolor.reading.matching import _TRIALS, MIN_INLIERS, _trials, signature, verified

    for matches in range(MIN_INLIERS, 400):
        ratio = max(MIN_INLIERS / matches, 0.2)
        trials = _trials(matches)
        assert 1 <= trials <= _TRIALS
        assert 1 - (1 - ratio**3) ** trials >= 0.999 or trials == _TRIALS
    few = verified(signature(data.coffee() / 255.0), signature(data.rocket() / 255.0))
    assert not few.trusted and (few.inliers == 0 if few.matches < MIN_INLIERS else True)
    truth, reference = _pair(data.astronaut() / 255.0)
    assert verified(signature(truth), signature(reference)).trusted


def test_a_references_alpha_says_where_its_colour_is_known(chelsea_pair):
    # A chain's photo is passed with its confidence as alpha: its guessed pixels give no colour.
    from varcolor.reading.matching import KNOWN_ALPHA

    truth, reference = chelsea_pair
    gray = same_lightness_gray(truth)
    whole, _, _ = match_reference(gray, reference)
    alpha = np.ones(reference.shape[:2])
    alpha[:, : int(reference.shape[1] * 0.4)] = KNOWN_ALPHA / 2  # its left 40 % guessed
    halved, ab, weight = match_reference(gray, np.dstack([reference, alpha]))
    # The truth is the photo's left 70 %, the reference its right 70 % (turned 3°): the reference's
    # left 40 % is the truth's columns from 43 % to 83 %, its known rest the truth's last 17 %.
    guessed = np.zeros(gray.shape, bool)
    guessed[:, int(gray.shape[1] * 0.5) : int(gray.shape[1] * 0.78)] = True
    known = np.zeros(gray.shape, bool)
    known[:, int(gray.shape[1] * 0.88) :] = True
    assert whole[guessed].sum() > 50 and halved[guessed].sum() == 0
    assert halved[known].sum() > 0.5 * whole[known].sum() > 0  # the known part still gives its colour
    assert np.all(weight[halved] >= MIN_CONFIDENCE)
