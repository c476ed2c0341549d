"""What :meth:`varcolor.Cues.from_reference` refuses, in one line naming the argument, before any
matching (issue 71): a gray image that is not finite or not in [0, 1] (as ``colorize`` refuses it),
a reference outside [0, 1] (not "gray"), a target too narrow to match; and how far a reference may
be decoded reduced."""

import numpy as np
import pytest
from skimage import data

import varcolor
import varcolor.reading.matching
from varcolor import Cues
from varcolor.errors import InputError
from varcolor.reading.matching import WORK_PIXELS, _factor, _reference_factors

PHOTO = data.chelsea() / 255.0
GRAY = PHOTO.mean(axis=2)


@pytest.fixture
def no_matching(monkeypatch):
    """The neighbourhood descriptions refused: what is checked is checked before any matching."""

    def described(*args, **kwargs):
        raise AssertionError("matched before the inputs were checked")

    monkeypatch.setattr(varcolor.reading.matching, "_described", described)


def _nan_gray():
    gray = GRAY.copy()
    gray[10, 10] = np.nan
    return gray


@pytest.mark.parametrize(
    "gray, says",
    [
        (_nan_gray(), r"^gray has non-finite values"),
        ((GRAY * 255).astype(np.uint8), r"^gray must hold values in \[0, 1\], got \[\d+, \d+\] \(8-bit levels"),
        (GRAY * 255, r"^gray must hold values in \[0, 1\].*divide by 255"),
        ((GRAY * 65535).astype(np.uint16), r"^gray must hold values in \[0, 1\].*divide by their maximum"),
    ],
)
def test_a_gray_image_colorize_refuses_is_refused_by_name(gray, says, no_matching):
    with pytest.raises(InputError, match=says):
        Cues.from_reference(gray, PHOTO)
    with pytest.raises(InputError):  # the same check as colorize's
        varcolor.colorize(gray, Cues.empty(gray.shape))


@pytest.mark.parametrize(
    "reference, says",
    [
        (PHOTO - 0.5, r"^reference must hold values in \[0, 1\], got \[-0\.5, .*divide by their maximum"),
        (PHOTO * 255, r"^reference must hold values in \[0, 1\], got \[0, \d+\] \(8-bit levels\? divide by 255\)"),
        (data.chelsea(), r"^reference must hold values in \[0, 1\], got \[\d+, \d+\] \(8-bit levels"),
        (np.where(PHOTO > 0.9, np.inf, PHOTO), r"^reference has non-finite values"),
    ],
)
def test_a_reference_outside_the_unit_range_is_refused_as_such_not_as_gray(reference, says, no_matching):
    with pytest.raises(InputError, match=says):
        Cues.from_reference(GRAY, reference)


@pytest.mark.parametrize("shape", [(3, 3), (3, 400), (400, 3), (4, 300), (300, 4), (15, 200)])
def test_a_target_too_narrow_to_match_is_refused_in_one_line(shape, no_matching):
    with pytest.raises(InputError, match=r"^gray: a \d+×\d+ image is too narrow to match against a reference"):
        Cues.from_reference(GRAY[: shape[0], : shape[1]], PHOTO)


def test_the_narrowest_target_matched_is_16_pixels_a_side():
    strip = np.ascontiguousarray(GRAY[100:116])  # 16 rows: matched (cues or none), no error
    cues = Cues.from_reference(strip, PHOTO)
    assert cues.shape == strip.shape


@pytest.mark.parametrize(
    "shape, gray_shape",
    [((5000, 6000), (300, 315)), ((10000, 20000), (300, 450)), ((3000, 3000), None), ((900, 1200), (800, 900))],
)
def test_a_reference_is_decoded_reduced_only_as_far_as_its_matching_allows(shape, gray_shape):
    from varcolor.reading.matching import decode_reduction

    scale = decode_reduction(shape, gray_shape)
    assert scale in (1, 2, 4, 8)
    whole = _factor(shape, WORK_PIXELS)
    reduced = (-(-shape[0] // scale), -(-shape[1] // scale))
    assert _factor(reduced, WORK_PIXELS) * scale <= 1.25 * whole  # about the same copy is matched
    if gray_shape is not None:
        target = _factor(gray_shape, WORK_PIXELS)
        if len(_reference_factors(shape, target, WORK_PIXELS)) > 1:  # also tried at the photo's scale
            assert scale == 1
        else:
            assert len(_reference_factors(reduced, target, WORK_PIXELS)) == 1  # nor a wrong scale added
