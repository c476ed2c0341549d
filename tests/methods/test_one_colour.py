"""Cues all of one colour give that colour everywhere (issue 71): a 3×100,000 strip with three cues
left 57 % of its pixels without colour, with the default method and with ``levin``. Levin's exact
system there is numerically singular (weak links in series: relative residual 2e-14 and any answer
fits); with one colour the exact answer needs no solve, and with two a result outside the cues'
range (which these methods' answers never leave) is an error, not a picture."""

import numpy as np
import pytest

import varcolor
from varcolor import Cues
from varcolor.color import rgb_to_lab
from varcolor.errors import ConvergenceError

# not a first run's array code; Levin's propagation, unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("kernels", "unrestrained")

COLOUR = rgb_to_lab(np.array([[[0.8, 0.3, 0.2]]]))[0, 0, 1:]
BLUE = rgb_to_lab(np.array([[[0.2, 0.3, 0.9]]]))[0, 0, 1:]


def _strip(height, width, columns, colours):
    rng = np.random.default_rng(0)
    gray = 0.5 + 0.1 * np.sin(np.arange(width) / 50.0)[None, :] + 0.02 * rng.standard_normal((height, width))
    mask = np.zeros((height, width), bool)
    ab = np.zeros((height, width, 2))
    for column, colour in zip(columns, colours):
        mask[height // 2, column] = True
        ab[height // 2, column] = colour
    return np.clip(gray, 0, 1), Cues(mask, ab)


@pytest.mark.parametrize("method", [None, "levin"])  # None: the default
def test_a_long_strip_with_cues_of_one_colour_takes_it_everywhere(method):
    gray, cues = _strip(3, 100_000, (10, 50_000, 99_990), [COLOUR] * 3)
    result = varcolor.colorize(gray, cues, **({} if method is None else {"method": method}))
    assert np.abs(result.ab - COLOUR).max() < 0.05  # every pixel (solved: 171,254 of 300,000 under 1 of 64)


@pytest.mark.parametrize("method", ["levin", "levin-multiscale"])
def test_an_edit_after_one_colour_is_the_solve_of_all_the_cues(method):
    gray, cues = _strip(60, 80, (10, 40), [COLOUR] * 2)
    session = varcolor.Colorizer(gray, method=method)
    first = session.solve(cues)
    assert np.abs(first.ab - COLOUR).max() < 0.05
    blue = BLUE
    more = Cues(np.zeros(gray.shape, bool), np.zeros(gray.shape + (2,)))
    more.mask[30, 70], more.ab[30, 70] = True, blue
    edited = session.update(more)
    fresh = varcolor.colorize(gray, cues.merged(more), method=method)
    assert np.abs(edited.ab - fresh.ab).max() < 0.5
    assert np.hypot(*(edited.ab[30, 70] - blue)) < 1  # the new colour is there
    assert fresh.info["solver"] != first.info["solver"]  # two colours: solved


@pytest.mark.parametrize("method", ["levin", "levin-multiscale"])
def test_a_solve_that_left_the_cues_range_is_an_error_not_a_picture(method):
    gray, cues = _strip(3, 100_000, (10, 50_000, 99_990), [COLOUR, BLUE, COLOUR])
    with pytest.raises(ConvergenceError, match=r"lost accuracy: [\d,]+ of 300,000 pixels .* outside the cues' range"):
        varcolor.colorize(gray, cues, method=method)


def test_a_strip_solved_accurately_is_within_the_cues_range():
    gray, cues = _strip(3, 20_000, (10, 10_000, 19_990), [COLOUR, BLUE, COLOUR])
    result = varcolor.colorize(gray, cues, method="levin")  # 10,000 pixels apart: accurate
    low, high = np.minimum(COLOUR, BLUE), np.maximum(COLOUR, BLUE)
    assert result.info["solver"] == "direct"
    assert np.all(result.ab >= low - 1) and np.all(result.ab <= high + 1)
