"""Colorizer.update's windowed re-solve against fresh global solves."""

import numpy as np
import pytest

import varcolor
from varcolor.color import same_lightness_gray
from varcolor.cues import sample_random

from ..conftest import MAX_AB, gray_and_cues, photo, strokes

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)


# Windows are what an update uses without the direct solver's factors to correct (tests/solvers/test_update.py).
@pytest.mark.parametrize(
    "method,space,solver",
    [
        pytest.param("levin", "lab", "amg", marks=pytest.mark.slow),
        ("levin-symmetric", "lab", "multigrid"),
        pytest.param("levin", "yiq", "amg", marks=pytest.mark.slow),
    ],
)
def test_update_in_a_window_matches_a_fresh_global_solve(method, space, solver):
    rgb = photo("astronaut", (384, 448))
    gray = same_lightness_gray(rgb)
    dense = sample_random(rgb, int(0.08 * gray.size), rng=5)
    cz = varcolor.Colorizer(gray, method=method, space=space, solver=solver)
    after = cz.solve(dense)
    cues = dense
    for more in strokes(gray.shape):
        before, after = after, cz.update(more)
        cues = cues.merged(more)
        fresh = varcolor.colorize(gray, cues, method=method, space=space, solver="direct")
        top, left, height, width = after.info["window"]
        assert after.info["update"] == "window" and height * width <= 0.1 * gray.size
        assert after.info["window_agreement"] <= 0.02 and after.info["residual"] is None
        assert np.abs(after.ab - fresh.ab).max() <= MAX_AB
        assert np.abs(after.rgb - fresh.rgb).max() <= 1e-3
        # Outside the window nothing moved; inside, the stroke's change was large.
        outside = np.ones(gray.shape, bool)
        outside[top : top + height, left : left + width] = False
        assert np.array_equal(after.ab[outside], before.ab[outside])
        assert np.abs(after.ab - before.ab).max() > 20
    assert top == left == 0 and cz.cues.count == cues.count


def test_sparse_cues_fall_back_to_the_global_solve():
    gray, sparse = gray_and_cues("astronaut", (160, 192), 12, rng=6)
    cz = varcolor.Colorizer(gray, method="levin-symmetric")
    cz.solve(sparse)
    more = strokes(gray.shape)[0]
    after = cz.update(more)
    fresh = varcolor.colorize(gray, sparse.merged(more), method="levin-symmetric", solver="direct")
    # A full re-solve, and why: levin-symmetric holds no LU factors, and no small window holds the change.
    assert after.info["update"] == "full" and after.info["iterations"] > 0
    assert "no factors" in after.info["full_solve"] and "tenth of the image" in after.info["full_solve"]
    # info holds every option the solve ran with: they rebuild the colorizer's options.
    assert varcolor.methods.build_options(**after.info["options"]) == cz.options
    assert after.info["options"]["tol"] == cz.options.tol and after.info["options"]["maxiter"] == 300
    assert np.abs(after.ab - fresh.ab).max() <= MAX_AB


def test_successive_windowed_updates_stay_exact():
    rgb = photo("coffee", (320, 384))
    gray = same_lightness_gray(rgb)
    cues = sample_random(rgb, int(0.08 * gray.size), rng=7)
    cz = varcolor.Colorizer(gray, method="levin-symmetric")
    cz.solve(cues)
    rng = np.random.default_rng(8)
    for _ in range(3):
        mask = np.zeros(gray.shape, bool)
        i, j = rng.integers(20, 300), rng.integers(20, 360)
        mask[i : i + 2, j : j + 10] = True
        more = varcolor.Cues(mask, np.where(mask[..., None], rng.uniform(-40, 40, 2), 0.0))
        cues = cues.merged(more)
        result = cz.update(more)
        assert "window" in result.info
    fresh = varcolor.colorize(gray, cues, method="levin-symmetric", solver="direct")
    assert np.abs(result.ab - fresh.ab).max() <= MAX_AB
