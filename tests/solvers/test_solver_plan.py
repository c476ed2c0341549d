"""The solver interface: every solver the factory builds keeps the :class:`~varcolor.solvers.Solver`
protocol and solves a small Levin system as scipy does; the plan :func:`varcolor.check_fits`
returns is what a colorization then uses, made once per call; the tiles solve any linear method's
system."""

import dataclasses
import re

import numpy as np
import pytest
import scipy.sparse.linalg

import varcolor
import varcolor.methods.base
import varcolor.options
import varcolor.solvers.choice
from varcolor.common.kernels import KERNELS_VARIABLE
from varcolor.energies.levin import exact_operator, exact_rhs, symmetric_system
from varcolor.errors import InputError
from varcolor.methods import Problem
from varcolor.solvers import (
    SOLVERS,
    SYMMETRIC_ONLY,
    DirectSolver,
    LinearSystem,
    RebindableSolver,
    Solver,
    SolverPlan,
    TiledSolver,
    make_solver,
    plan_solver,
)
from varcolor.solvers.window import held_border

from ..conftest import gray_and_cues

# Array code, the suite's default: on the kernels this module compiled 7-25 s of kernels that
# `varcolor warm` does not (multigrid, ADMM, tiles; video) in a clean clone, for a 3 s gain.

SHAPE = (40, 52)


def levin(guide, fixed, values, prior=None, weight=None):
    return exact_operator(guide, fixed, prior_weight=weight), exact_rhs(fixed, values, prior, weight)


def small_system(symmetric: bool, seed: int = 0) -> LinearSystem:
    """Levin's exact system (or its symmetric variant) on a random image with 5 % random cues."""
    rng = np.random.default_rng(seed)
    guide = rng.random(SHAPE)
    mask = rng.random(SHAPE) < 0.05
    targets = np.where(mask[..., None], rng.normal(size=SHAPE + (2,)) * 20, 0.0)
    return LinearSystem(symmetric_system if symmetric else levin, guide, mask, targets)


def scipy_solution(operator, rhs: np.ndarray) -> np.ndarray:
    return scipy.sparse.linalg.spsolve(operator.to_csr().tocsc(), rhs.reshape(-1, rhs.shape[-1])).reshape(rhs.shape)


@pytest.mark.parametrize("name", list(SOLVERS))
def test_every_solver_the_factory_builds_keeps_the_protocol_and_solves_as_scipy(name):
    symmetric = name in SYMMETRIC_ONLY
    system = small_system(symmetric)
    operator, rhs = system.assemble()
    plan = plan_solver(name, SHAPE, symmetric=symmetric, max_memory=4e9)
    assert plan.solver == name and plan.requested == name
    solver = make_solver(plan, system)  # every solver takes the method's system
    assert isinstance(solver, Solver) and solver.name == name
    assert solver.supports_rebind == isinstance(solver, RebindableSolver)
    x, info = solver.solve(rhs)
    expected = scipy_solution(operator, rhs)
    assert info.solver == name and info.residual <= 1e-6
    assert np.abs(x - expected).max() <= 1e-5 * np.abs(expected).max()
    if solver.supports_rebind:
        # More cues: the rebound solver solves the new system, as scipy does.
        changed = dataclasses.replace(system, mask=system.mask | (np.arange(SHAPE[1]) % 7 == 0))
        new_operator, new_rhs = changed.assemble()
        y, _ = solver.rebind(new_operator).solve(new_rhs)
        assert np.abs(y - scipy_solution(new_operator, new_rhs)).max() <= 1e-5 * np.abs(expected).max()


def test_tiles_need_the_methods_system_not_an_operator():
    system = small_system(False)
    plan = plan_solver("tiles", SHAPE)
    assert plan.from_system
    with pytest.raises(TypeError, match="LinearSystem"):
        make_solver(plan, system.assemble()[0])
    with pytest.raises(ValueError, match="no linear system"):
        make_solver(varcolor.check_fits(SHAPE, method="bilaplacian-gtv"), system)


def test_a_plan_is_frozen_and_says_what_and_why():
    plan = varcolor.check_fits((600, 800), max_memory=8e9)
    assert isinstance(plan, SolverPlan) and plan.method == "levin-multiscale" and plan.shape == (600, 800)
    assert varcolor.check_fits((600, 800), method="levin").method == "levin"
    assert plan.solver == "direct" and 0 < plan.bytes <= plan.budget == 8e9 and "LU" in plan.reason
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.solver = "amg"
    gtv = varcolor.check_fits((600, 800), method="bilaplacian-gtv")
    assert gtv.solver is None and 0 < gtv.bytes <= gtv.budget


def test_a_symmetric_run_takes_the_multigrid_once_its_kernels_are_compiled(monkeypatch):
    # The suite runs small photos as a first run does, their kernels not compiled (array code):
    # SciPy's LU for a small system, the Ruge–Stüben cycle up to ARRAY_CODE_PIXELS (1280×1024),
    # neither of which compiles a kernel; the grid multigrid beyond, and at every size with kernels.
    def auto(shape):
        return varcolor.check_fits(shape, method="levin-symmetric", max_memory=8e9)

    assert auto((60, 80)).solver == "direct" and "not compiled" in auto((60, 80)).reason
    assert auto((600, 800)).solver == "cg"
    assert auto((1025, 1281)).solver == "multigrid"
    monkeypatch.setenv(KERNELS_VARIABLE, "numba")
    assert auto((60, 80)).solver == auto((600, 800)).solver == "multigrid"
    assert "linear time" in auto((60, 80)).reason


@pytest.mark.parametrize(
    "keywords",
    [
        {"method": "levin"},
        {"method": "levin", "solver": "amg"},
        {"method": "levin-symmetric"},
        {"method": "levin-symmetric", "solver": "tiles"},
        {"method": "bilaplacian-gtv", "admm_tol": 1e-2},
    ],
)
def test_colorize_with_the_plan_of_check_fits_gives_the_same_result(keywords):
    gray, cues = gray_and_cues("coffee", (48, 64), 60, rng=2)
    options = varcolor.methods.build_options(**keywords)
    plan = varcolor.check_fits(gray.shape, options)
    planned = varcolor.colorize(gray, cues, options, plan=plan)
    alone = varcolor.colorize(gray, cues, **keywords)
    assert np.array_equal(planned.ab, alone.ab) and np.array_equal(planned.rgb, alone.rgb)
    assert planned.info["solver"] == alone.info["solver"]
    assert varcolor.Colorizer(gray, options, plan=plan).plan is plan


def test_a_plan_for_another_image_or_other_options_is_refused():
    gray, cues = gray_and_cues("coffee", (48, 64), 60, rng=2)
    plan = varcolor.check_fits(gray.shape)
    with pytest.raises(InputError, match="plan was made for method 'levin-multiscale' on a 64×48 image"):
        varcolor.colorize(gray[:40], cues, plan=plan)
    with pytest.raises(InputError, match="plan was made"):
        varcolor.colorize(gray, cues, method="levin-symmetric", plan=plan)
    with pytest.raises(InputError, match="plan was made"):
        varcolor.colorize(gray, cues, solver="amg", plan=plan)
    with pytest.raises(InputError, match="plan must be a varcolor.SolverPlan"):
        varcolor.colorize(gray, cues, plan="direct")


@pytest.fixture
def counted(monkeypatch):
    """Counts of the options' checks (:class:`Options` made) and of solver choices (plans)."""
    counts = {"validations": 0, "choices": 0}
    check, plan = varcolor.options.Options.__post_init__, varcolor.solvers.choice.plan_solver

    def counted_check(self):
        counts["validations"] += 1
        check(self)

    def counted_plan(*arguments, **keywords):
        counts["choices"] += 1
        return plan(*arguments, **keywords)

    monkeypatch.setattr(varcolor.options.Options, "__post_init__", counted_check)
    monkeypatch.setattr(varcolor.solvers.choice, "plan_solver", counted_plan)
    monkeypatch.setattr(varcolor.methods.base, "plan_solver", counted_plan)
    return counts


@pytest.mark.parametrize("keywords", [{}, {"method": "levin", "solver": "amg"}, {"method": "levin-symmetric"}])
def test_one_colorize_checks_the_options_once_and_chooses_a_solver_once(counted, keywords):
    gray, cues = gray_and_cues("coffee", (24, 32), 20, rng=0)
    varcolor.colorize(gray, cues, **keywords)
    assert counted == {"validations": 1, "choices": 1}
    # The command line's order: options checked once for a folder, then per image the plan from
    # its header, then the colorization with that plan: no check or choice made again.
    counted.update(validations=0, choices=0)
    options = varcolor.methods.build_options(**keywords)
    plan = varcolor.check_fits(gray.shape, options)
    varcolor.colorize(gray, cues, options, plan=plan)
    assert counted == {"validations": 1, "choices": 1}


def test_a_method_without_a_linear_solver_chooses_none(counted):
    gray, cues = gray_and_cues("coffee", (24, 32), 20, rng=0)
    result = varcolor.colorize(gray, cues, method="bilaplacian-gtv", admm_tol=1e-2)
    assert counted == {"validations": 1, "choices": 0} and result.info["solver"] == "admm"


@pytest.mark.slow  # 9 s in make test, compiling the tiles' kernels; tests/solvers/test_tiled.py keeps tiles there
@pytest.mark.parametrize("prior", [False, True])
def test_symmetric_systems_solved_by_tiles_match_the_direct_solve(prior):
    """The tiles hold their borders at a coarse solution of the method's own system: the symmetric
    variant too (here with tiles far smaller than the solver's own, over two coarse levels).
    Measured, largest / mean |Δab|: 0.21 / 0.0034 without a prior, 0.15 / 0.0020 with one (Levin's
    exact system on the same photo and tiles: 0.74 / 0.0028)."""
    gray, cues = gray_and_cues("astronaut", (192, 256), 400, rng=1)
    rng = np.random.default_rng(4)
    guess = rng.normal(size=gray.shape + (2,)) * 10 if prior else None
    weight = rng.random(gray.shape) * 0.05 if prior else None
    system = LinearSystem(symmetric_system, gray, cues.mask, cues.ab, guess, weight)
    operator, rhs = system.assemble()
    exact, _ = DirectSolver(operator).solve(rhs)
    solver = TiledSolver(system, core=64, margin=32, direct_pixels=6000, factor=2)
    x, info = solver.solve(rhs)
    error = np.abs(x - exact)
    assert info.iterations == solver.tile_count(gray.shape) > 10
    assert error.max() <= 0.5 and error.mean() <= 0.01
    assert np.array_equal(x[cues.mask], cues.ab[cues.mask])
    # The residual reported is the answer's on the whole system.
    true = np.max(
        np.linalg.norm((rhs - operator.apply(x)).reshape(-1, 2), axis=0) / np.linalg.norm(rhs.reshape(-1, 2), axis=0)
    )
    assert info.residual == pytest.approx(true, rel=1e-9)


@pytest.mark.parametrize("mode", ["anchor", "residual"])
@pytest.mark.parametrize("method", ["levin", "levin-symmetric"])
def test_the_tiles_assemble_the_whole_systems_right_hand_side(method, mode):
    """The tiles read only the cues' values and assemble the rest of the right-hand side with
    each tile's operator (Levin's ``residual`` prior mode applies it to the prior): the residual
    they report is the whole system's, and the whole right-hand side given instead changes
    nothing."""
    gray, cues = gray_and_cues("chelsea", (70, 90), 80, rng=3)
    rng = np.random.default_rng(5)
    prior, weight = rng.normal(size=gray.shape + (2,)) * 10, rng.random(gray.shape) * 0.05
    options = varcolor.methods.build_options(method=method, prior_mode=mode if method == "levin" else "anchor")
    engine = varcolor.methods.get(method)(gray, options)
    system = LinearSystem(engine.system, gray, cues.mask, cues.ab, prior, weight)
    operator, rhs = system.assemble()
    solver = TiledSolver(system, core=24, margin=8, direct_pixels=1500)
    x, info = solver.solve(cues.ab)
    assert info.iterations > 10
    true = np.max(
        np.linalg.norm((rhs - operator.apply(x)).reshape(-1, 2), axis=0) / np.linalg.norm(rhs.reshape(-1, 2), axis=0)
    )
    assert info.residual == pytest.approx(true, rel=1e-9)
    assert np.array_equal(solver.solve(rhs)[0], x)


def test_levin_through_tiles_keeps_its_cues_and_matches_direct_with_a_prior():
    """Levin's method's own solve with the tiles (a prior in residual mode), against its direct solve."""
    gray, cues = gray_and_cues("astronaut", (120, 150), 150, rng=6)
    rng = np.random.default_rng(7)
    problem = Problem(cues.mask, cues.ab, rng.normal(size=gray.shape + (2,)) * 10, rng.random(gray.shape) * 0.05)
    results = {}
    for solver in ("direct", "tiles"):
        engine = varcolor.methods.get("levin")(
            gray, varcolor.methods.build_options(solver=solver, prior_mode="residual")
        )
        results[solver], report = engine.solve(problem, None)
        assert report["solver"] == solver
    assert np.abs(results["tiles"] - results["direct"]).max() <= 0.05  # one LU below the tiles' direct size


def test_held_border_leaves_the_image_edge_free():
    held = held_border((slice(0, 10), slice(5, 12)), (10, 12))
    assert not held[2:, 2:].any()  # the image's own bottom and right edge, and its top: free
    assert held[:, :2].all() and held.sum() == 2 * 10
    assert not held_border((slice(0, 10), slice(0, 12)), (10, 12)).any()


@pytest.mark.parametrize("method", ["levin-multiscale", "levin", "levin-symmetric", "bilaplacian-gtv"])
@pytest.mark.parametrize("shape", [(200, 300), (600, 800), (3000, 4000), (6000, 8000)])
def test_a_plan_gives_one_memory_figure_the_one_it_checked(method, shape):
    """The reason's size is the plan's ``bytes`` (a 12 MP levin-multiscale plan once said "about
    0.6 GB", its coarse LU, beside bytes of 1.43 GB; the solve peaked 1.31 GB above its inputs)."""
    from varcolor.common.memory import _gb

    plan = varcolor.check_fits(shape, method=method, max_memory=20e9)
    sizes = re.findall(r"about ([\d.]+ GB)", plan.reason)
    assert all(size == _gb(plan.bytes) for size in sizes), (plan.reason, plan.bytes)


def test_a_refusal_of_the_default_method_names_the_image_not_its_grid():
    """A 15000×15000 scan refused for memory was "a 938×938 image (0.9 MP)": the coarse grid's size."""
    with pytest.raises(InputError) as refused:
        varcolor.check_fits((15000, 12000), max_memory=1e8)
    said = str(refused.value)
    assert "on a 12000×15000 image" in said and "block grid" in said and "938×750 image" not in said, said
