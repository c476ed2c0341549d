"""The tiles solver of big scans against the direct solve, and the memory budget's refusals."""

import re

import numpy as np
import pytest

import varcolor
import varcolor.common.memory
from varcolor.color import same_lightness_gray
from varcolor.cues import sample_grid, sample_random
from varcolor.energies.levin import exact_operator, exact_rhs
from varcolor.errors import InputError
from varcolor.solvers import DirectSolver, LinearSystem, TiledSolver, plan_solver
from varcolor.solvers.choice import estimate_bytes
from varcolor.solvers.tiled import coarsen, lift

from ..conftest import photo

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)

SHAPE = (256, 320)
# Small tiles on a small photo, so that the test crosses many tile borders and two levels of
# coarse solves: 64-pixel cores with 32 pixels of margin, one LU at the bottom under 6000 pixels,
# each coarse level half the size of the one above (the default makes it a third).
SMALL = {"core": 64, "margin": 32, "direct_pixels": 6000, "factor": 2}


def levin(guide, fixed, values, prior=None, weight=None):
    """Levin's exact system with a prior term, as the method builds it."""
    return exact_operator(guide, fixed, prior_weight=weight), exact_rhs(fixed, values, prior, weight)


def tiled(gray, mask, rhs, weight=None, **keywords) -> TiledSolver:
    return TiledSolver(LinearSystem(levin, gray, mask, rhs, weight=weight), **keywords)


def problem(cues: str, name="astronaut"):
    rgb = photo(name, SHAPE)
    count = {"random1": int(0.01 * rgb[..., 0].size), "random005": int(0.0005 * rgb[..., 0].size)}
    found = sample_grid(rgb, step=8) if cues == "grid8" else sample_random(rgb, count[cues], rng=0)
    gray = same_lightness_gray(rgb)
    rhs = exact_rhs(found.mask, found.ab)
    exact, _ = DirectSolver(exact_operator(gray, found.mask)).solve(rhs)
    return gray, found, rhs, exact


def test_one_tile_over_the_whole_image_is_the_exact_solve():
    """A core as large as the image leaves no border to hold: the design is exact there."""
    gray, cues, rhs, exact = problem("random005")
    x, info = tiled(gray, cues.mask, rhs, core=512, margin=0, direct_pixels=6000).solve(rhs)
    assert np.abs(x - exact).max() <= 0.05
    assert info.solver == "tiles" and info.iterations == 1 + 1  # the full-resolution tile and the coarse one


@pytest.mark.parametrize(
    "cues,factor,largest,mean",
    [
        ("random1", 2, 2.0, 0.006),
        ("grid8", 2, 1.0, 0.002),
        ("random005", 2, 5.0, 0.35),
        ("random1", 3, 1.5, 0.006),
        ("grid8", 3, 2.5, 0.003),
        ("random005", 3, 6.5, 0.45),
    ],
)
def test_tiles_match_the_direct_solve_within_the_stated_tolerance(cues, factor, largest, mean):
    """The stated tolerance (docs/big-scans.md): dense cues hold every tile border close to the
    exact answer, so the tiles agree with it to a few thousandths of an ab unit on average; sparse
    cues carry the coarse solve's error on the borders further in. Measured here, with tiles far
    smaller than the solver's own (so more borders cross the photo's detail), coarse levels halving
    the size: 1.37 / 0.0041, 0.67 / 0.0006 and 3.55 / 0.28 (largest / mean |Δab|); with the
    default thirds: 0.99 / 0.0045, 1.69 / 0.0015 and 4.58 / 0.37."""
    gray, found, rhs, exact = problem(cues)
    solver = tiled(gray, found.mask, rhs, **{**SMALL, "factor": factor})
    x, info = solver.solve(rhs)
    error = np.abs(x - exact)
    assert error.max() <= largest and error.mean() <= mean
    assert info.iterations == solver.tile_count(gray.shape) > 20
    # The residual reported is the answer's on the full-resolution system.
    product = exact_operator(gray, found.mask).apply(x)
    true = np.max(np.linalg.norm((rhs - product).reshape(-1, 2), axis=0) / np.linalg.norm(rhs.reshape(-1, 2), axis=0))
    assert info.residual == pytest.approx(true, rel=1e-6)


def test_progress_counts_every_tile_from_zero():
    gray, found, rhs, _ = problem("random1")
    seen = []
    solver = tiled(gray, found.mask, rhs, **SMALL, progress=seen.append)
    solver.solve(rhs)
    done = [event["tiles"] for event in seen]
    assert done == list(range(len(done))) and seen[-1]["tiles"] == seen[-1]["tile_count"] == solver.tile_count(SHAPE)


def test_colorize_with_tiles_keeps_the_cues_and_reports_it():
    rgb = photo("coffee", (120, 160))
    gray = same_lightness_gray(rgb)
    cues = sample_random(rgb, 200, rng=1)
    tiled = varcolor.colorize(gray, cues, solver="tiles")
    direct = varcolor.colorize(gray, cues, solver="direct")
    assert tiled.info["solver"] == "tiles"
    assert np.abs(tiled.ab[cues.mask] - cues.ab[cues.mask]).max() < 1e-6
    # A 0.02 MP image is below the tiles' direct size: one LU, the exact answer.
    assert np.abs(tiled.ab - direct.ab).max() <= 0.05


def test_coarsen_and_lift_keep_constants():
    gray = np.random.default_rng(0).random((9, 11))
    mask = np.zeros((9, 11), bool)
    mask[4, 4] = True
    rhs = np.zeros((9, 11, 2))
    rhs[4, 4] = (5.0, -3.0)
    g, m, r, _ = coarsen(gray, mask, rhs)
    assert g.shape == m.shape == (5, 6) and m.sum() == 1 and np.allclose(r[2, 2], (5.0, -3.0))
    assert np.isclose(g[0, 0], gray[:2, :2].mean()) and np.isclose(g[-1, -1], gray[-1, -1])  # padded by the edge
    assert np.allclose(lift(np.full((5, 6, 2), 7.0), (9, 11)), 7.0)


def test_auto_takes_tiles_for_big_scans_and_where_the_lu_does_not_fit(monkeypatch):

    monkeypatch.setattr(varcolor.common.memory, "available_bytes", lambda: 20 * 10**9)
    assert plan_solver("auto", (816, 1225)).solver == "direct"  # 1 MP: the exact LU, as before
    assert plan_solver("auto", (6000, 6000)).solver == "tiles"  # 36 MP
    # 4 MP fits the LU in 16 GB (80 % of 20) but not in a 3 GB budget: the tiles do.
    assert plan_solver("auto", (1633, 2449), max_memory=16e9).solver == "direct"
    assert plan_solver("auto", (1633, 2449), max_memory=3e9).solver == "tiles"
    assert plan_solver("tiles", (100, 100), symmetric=True).solver == "tiles"  # any linear method's system
    assert plan_solver("auto", (6000, 6000), symmetric=True).solver == "multigrid"  # linear memory: no tiles needed
    with pytest.raises(InputError, match="CPU only"):
        plan_solver("tiles", (100, 100), device="cuda")


def _numbers(message: str) -> tuple[float, float]:
    need = float(re.search(r"needs about ([\d.]+) GB", message).group(1))
    budget = float(re.search(r"memory budget of ([\d.]+) GB", message).group(1))
    return need, budget


def test_memory_refusal_states_the_budget_and_the_solver_that_fits(monkeypatch):
    import varcolor.common.memory

    monkeypatch.setattr(varcolor.common.memory, "available_bytes", lambda: 10 * 10**9)
    pixels = 4000 * 5000
    assert estimate_bytes("tiles", pixels) < 8e9 < estimate_bytes("direct", pixels)
    with pytest.raises(InputError) as refused:
        plan_solver("direct", (4000, 5000))
    message = str(refused.value)
    need, budget = _numbers(message)
    assert need > budget == 8.0  # the budget it compares with, 80 % of the 10 GB available, is the one it states
    assert "80% of the 10.0 GB available" in message and "--max-memory" in message
    assert "5000×4000 image (20.0 MP)" in message and "solver 'tiles' would fit" in message
    # A budget given is named as such; where nothing fits, the smallest need is stated.
    with pytest.raises(InputError) as refused:
        plan_solver("auto", (4000, 5000), max_memory=1e9)
    message = str(refused.value)
    need, budget = _numbers(message)
    assert need > budget == 1.0 and "the budget given" in message and "no solver fits" in message
    with pytest.raises(InputError, match="max_memory must be a positive"):
        plan_solver("auto", (10, 10), max_memory=-1)


def test_cli_max_memory_refusal_is_one_line(tmp_path, capsys):
    from varcolor.cli import main

    rgb = photo("coffee", (60, 80))
    gray = same_lightness_gray(rgb)
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[::7, ::7] = rgb[::7, ::7]
    varcolor.write_image(tmp_path / "img.png", gray)
    varcolor.write_image(tmp_path / "img_marked.png", marked)
    code = main(
        [
            "colorize",
            str(tmp_path / "img.png"),
            "--marked",
            str(tmp_path / "img_marked.png"),
            "-o",
            str(tmp_path / "out.png"),
            "--solver",
            "direct",
            "--max-memory",
            "0.001",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "memory budget of 0.001 GB (the budget given" in err and "Traceback" not in err
    assert not (tmp_path / "out.png").exists()
    code = main(
        [
            "colorize",
            str(tmp_path / "img.png"),
            "--marked",
            str(tmp_path / "img_marked.png"),
            "-o",
            str(tmp_path / "out.png"),
            "--max-memory",
            "4",
        ]
    )
    assert code == 0 and (tmp_path / "out.png").is_file()


@pytest.mark.parametrize("shape,core,margin,prior", [((97, 131), 32, 2, False), ((100, 70), 33, 8, True)])
def test_residual_summed_over_the_tiles_is_the_full_systems(shape, core, margin, prior):
    """The residual is summed tile by tile and over the seams the tiles leave; it must be the one
    computed on the whole system afterwards, on cores that do not divide the image and with a
    prior's weight."""
    rng = np.random.default_rng(3)
    gray = rng.random(shape)
    mask = rng.random(shape) < 0.03
    rhs = np.where(mask[..., None], rng.normal(size=shape + (2,)) * 20, 0.0)
    weight = rng.random(shape) * 0.1 if prior else None
    solver = tiled(gray, mask, rhs, weight, core=core, margin=margin, direct_pixels=1000)
    x, info = solver.solve(rhs)
    product = exact_operator(gray, mask, prior_weight=weight).apply(x)
    true = np.max(np.linalg.norm((rhs - product).reshape(-1, 2), axis=0) / np.linalg.norm(rhs.reshape(-1, 2), axis=0))
    assert info.iterations > 10 and info.residual == pytest.approx(true, rel=1e-9)
