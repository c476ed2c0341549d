"""The exact methods' GPU solver (:class:`varcolor.solvers.aggregation.AggregationSolver`), run on
the CPU through the same array seam: it lands on the exact LU's answer for Levin's system and the
symmetric one, within 1e-3 ab, with a hierarchy of its own (no pyamg set-up); ``auto`` picks it
where a GPU is asked for."""

import numpy as np
import pytest
import scipy.sparse.linalg

import varcolor
from varcolor.color import rgb_to_lab, same_lightness_gray
from varcolor.errors import ConvergenceError
from varcolor.solvers.choice import plan_solver

from ..conftest import photo

CLOSE = 1e-3


def scribbled(rgb, strokes, seed):
    """``strokes`` short strokes, 3 px wide, of the photo's own colours, at random places."""
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    mask = np.zeros((height, width), bool)
    for _ in range(strokes):
        top, left = rng.integers(0, height - 3), rng.integers(0, width - width // 4)
        mask[top : top + 3, left : left + width // 5] = True
    ab = np.where(mask[..., None], rgb_to_lab(rgb)[..., 1:], 0.0)
    return varcolor.Cues(mask, ab)


@pytest.mark.parametrize("method", [pytest.param("levin", marks=pytest.mark.slow), "levin-symmetric"])
def test_it_lands_on_the_lu_answer_on_a_grainy_photo_with_sparse_strokes(method):
    rng = np.random.default_rng(4)
    rgb = np.clip(photo("astronaut", (180, 260)) + rng.normal(0, 0.03, (180, 260, 3)), 0, 1)
    gray, cues = same_lightness_gray(rgb), scribbled(rgb, strokes=6, seed=4)
    exact = varcolor.colorize(gray, cues, method=method, solver="direct", tol=1e-12)
    result = varcolor.colorize(gray, cues, method=method, solver="aggregation", tol=1e-11)
    assert result.info["solver"] == "aggregation" and result.info["iterations"] > 0
    assert np.abs(result.ab - exact.ab).max() <= CLOSE
    assert result.info["residuals"][-1] <= 1e-11


def test_its_hierarchy_is_its_own_not_pyamgs(monkeypatch):
    import pyamg

    def refused(*args, **kwargs):
        raise AssertionError("pyamg's set-up was called")

    monkeypatch.setattr(pyamg, "air_solver", refused)
    monkeypatch.setattr(pyamg, "ruge_stuben_solver", refused)
    rgb = photo("coffee", (64, 96))
    gray = same_lightness_gray(rgb)
    result = varcolor.colorize(gray, scribbled(rgb, strokes=3, seed=1), method="levin", solver="aggregation")
    assert result.info["solver"] == "aggregation"


def test_a_solve_that_cannot_converge_in_its_iterations_is_an_error():
    rgb = photo("coffee", (64, 96))
    gray = same_lightness_gray(rgb)
    with pytest.raises(ConvergenceError):
        varcolor.colorize(gray, scribbled(rgb, strokes=3, seed=1), method="levin", solver="aggregation", maxiter=2)


@pytest.mark.parametrize("symmetric", [False, True])
def test_auto_picks_it_on_a_gpu_and_never_on_the_cpu(monkeypatch, symmetric):
    from varcolor.solvers import choice

    monkeypatch.setattr(choice, "backend", lambda device: None)  # a GPU stands here (nothing is solved)
    budget = 64e9  # (not this machine's free memory)
    planned = plan_solver("auto", (4000, 3000), device="cuda", symmetric=symmetric, max_memory=budget)
    assert planned.solver == "aggregation" and planned.bytes < choice.estimate_bytes("amg", 12_000_000)
    assert plan_solver("auto", (400, 300), device="cpu", symmetric=symmetric, max_memory=budget).solver != "aggregation"


def test_rebound_to_more_cues_it_keeps_its_coarse_levels_and_solves_the_new_system():
    from varcolor.energies.levin import exact_operator
    from varcolor.solvers.aggregation import AggregationSolver

    rng = np.random.default_rng(2)
    gray = rng.random((64, 80))
    mask = rng.random(gray.shape) < 0.02
    solver = AggregationSolver(exact_operator(gray, mask), tol=1e-11, maxiter=500)
    coarse = [level[2] for level in solver.cycle.levels]
    assert coarse  # (a grid with levels: rebinding keeps them)
    more = mask | (rng.random(gray.shape) < 0.01)
    operator = exact_operator(gray, more)
    rhs = np.where(more[..., None], rng.random(gray.shape + (2,)), 0.0)
    rebound = solver.rebind(operator)
    assert all(level[2] is kept for level, kept in zip(rebound.cycle.levels, coarse, strict=True))
    x, info = rebound.solve(rhs)
    expected = scipy.sparse.linalg.spsolve(operator.to_csr().tocsc(), rhs.reshape(-1, 2)).reshape(rhs.shape)
    assert info.residual <= 1e-11 and np.abs(x - expected).max() <= 1e-6
