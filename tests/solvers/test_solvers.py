"""Every solver against the direct solve, the iterative machinery against independent answers."""

import numpy as np
import pytest
import scipy.sparse

import varcolor
import varcolor.common.memory
from varcolor.color import same_lightness_gray
from varcolor.cues import sample_random
from varcolor.energies.levin import exact_operator, exact_rhs
from varcolor.errors import ConvergenceError, InputError
from varcolor.solvers import AmgSolver, DirectSolver, device, plan_solver
from varcolor.solvers import amg as amg_module
from varcolor.solvers.choice import estimate_bytes
from varcolor.solvers.krylov import gmres

from ..conftest import MAX_AB, gray_and_cues, photo, stroke

# not a first run's array code; Levin's propagation, unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("kernels", "unrestrained")


# "Exact" per the speed issue: within 0.05 ab units of the direct solve (max), 0.005 RMS.
RMS_AB = 0.005


def levin_problem(name="astronaut", shape=(96, 128), density=0.01, seed=0):
    return gray_and_cues(name, shape, int(density * shape[0] * shape[1]), rng=seed)


@pytest.mark.parametrize("name,density", [("astronaut", 0.01), ("coffee", 0.002), ("chelsea", 0.0005)])
def test_amg_matches_direct(name, density):
    gray, cues = levin_problem(name, density=density)
    operator = exact_operator(gray, cues.mask)
    rhs = exact_rhs(cues.mask, cues.ab)
    reference, _ = DirectSolver(operator).solve(rhs)
    result, info = AmgSolver(operator).solve(rhs)
    error = np.abs(result - reference)
    assert error.max() <= MAX_AB and np.sqrt(np.mean(error**2)) <= RMS_AB
    assert info.solver == "amg" and 0 < info.iterations < 100 and info.residual <= 1e-6


def test_colorize_solvers_agree_and_report():
    gray, cues = levin_problem("coffee", density=0.005)
    direct = varcolor.colorize(gray, cues, solver="direct")
    amg = varcolor.colorize(gray, cues, solver="amg")
    assert np.abs(direct.ab - amg.ab).max() <= MAX_AB
    for result in (direct, amg):
        assert {"method", "solver", "iterations", "residual", "seconds"} <= set(result.info)
    assert amg.info["iterations"] > 0 and direct.info["iterations"] == 0


def test_update_warm_starts_and_matches_a_fresh_solve():
    # The global re-solve starts from the last chroma: on the same merged system it takes fewer
    # AMG iterations than a cold solve (13 against 17 here; the same 17 when x0 was dropped).
    rgb = photo("astronaut", (96, 128))
    gray = same_lightness_gray(rgb)
    first = sample_random(rgb, 60, rng=1)
    more = stroke(gray.shape, 40, slice(50, 62), (25.0, -10.0))  # one more short stroke, as a user adds
    cz = varcolor.Colorizer(gray, solver="amg")
    cz.solve(first)
    warm = cz.update(more, local=False)  # the global re-solve, warm-started
    cold = varcolor.colorize(gray, first.merged(more), solver="amg")
    fresh = varcolor.colorize(gray, first.merged(more), solver="direct")
    assert np.abs(warm.ab - fresh.ab).max() <= MAX_AB
    assert warm.info["iterations"] < cold.info["iterations"]
    assert cz.cues.count == first.merged(more).count


def test_x0_starts_the_iterative_solve():
    # Started from the exact answer, GMRES has nothing left to do (it took 17 iterations when the
    # default method, levin-multiscale, dropped x0).
    gray, cues = gray_and_cues("astronaut", (96, 128), 60, rng=1)
    exact = varcolor.colorize(gray, cues, solver="direct")
    started = varcolor.colorize(gray, cues, solver="amg", x0=exact.ab)
    assert started.info["iterations"] <= 1
    assert np.abs(started.ab - exact.ab).max() <= MAX_AB


def test_coarse_re_solve_starts_from_the_last_coarse_solve():
    # levin-multiscale's coarse grid: an update's global re-solve starts from the last coarse
    # chroma (8 AMG iterations against 12 cold here; 12 and 12 when x0 was dropped).
    rgb = photo("astronaut", (192, 256))
    gray = same_lightness_gray(rgb)
    first = sample_random(rgb, 150, rng=1)
    more = stroke(gray.shape, 80, slice(100, 124), (25.0, -10.0))
    options = {"method": "levin-multiscale", "factor": 4, "solver": "amg"}
    cz = varcolor.Colorizer(gray, **options)
    cz.solve(first)
    warm = cz.update(more, local=False)
    cold = varcolor.colorize(gray, first.merged(more), **options)
    assert warm.info["engine"]["coarse_iterations"] < cold.info["engine"]["coarse_iterations"]


def test_gmres_solves_several_columns_independently():
    rng = np.random.default_rng(3)
    a = scipy.sparse.random(300, 300, density=0.02, random_state=4) + scipy.sparse.eye(300) * 3
    b = rng.random((300, 2))
    x, iterations, residual = gmres(lambda v: a @ v, b, lambda v: v, np, tol=1e-10, restart=15, maxiter=500)
    expected = np.linalg.solve(a.toarray(), b)
    assert np.abs(x - expected).max() < 1e-8 and residual.max() <= 1e-10 and iterations > 15  # restarted


def test_non_convergence_is_an_error_naming_the_residual():
    gray, cues = levin_problem("chelsea", density=0.0005)
    with pytest.raises(ConvergenceError, match="stopped after 2 iterations at relative residual"):
        varcolor.colorize(gray, cues, solver="amg", maxiter=2)


def test_generic_array_path_runs_with_numpy(monkeypatch):
    # The GPU path is the same array code with CuPy arrays; run it with NumPy and SciPy's sparse
    # module in place of CuPy's, bypassing the CPU-only threaded product.
    simulated = device.ArrayBackend("cuda", np, scipy.sparse)
    monkeypatch.setattr(amg_module, "backend", lambda name: simulated)
    gray, cues = levin_problem("coffee", density=0.01)
    operator = exact_operator(gray, cues.mask)
    rhs = exact_rhs(cues.mask, cues.ab)
    solver = AmgSolver(operator, device="cuda")
    assert isinstance(solver.matrix, scipy.sparse.csr_matrix)
    result, _ = solver.solve(rhs)
    reference, _ = DirectSolver(operator).solve(rhs)
    assert np.abs(result - reference).max() <= MAX_AB


def test_cuda_without_cupy_is_a_clear_error():
    pytest.importorskip("numpy")
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed here")
    except ImportError:
        pass
    gray, cues = levin_problem()
    with pytest.raises(InputError, match="needs CuPy"):
        varcolor.colorize(gray, cues, device="cuda")


def test_memory_refusal_names_size_and_alternative(monkeypatch):

    monkeypatch.setattr(varcolor.common.memory, "available_bytes", lambda: 5 * 10**9)
    assert estimate_bytes("amg", 6_000_000) > estimate_bytes("direct", 6_000_000) > 4.5e9
    assert estimate_bytes("multigrid", 6_000_000) < 4.5e9
    with pytest.raises(InputError, match=r"3000×2000 image \(6.0 MP\).*'direct'.*solver 'multigrid' would fit"):
        plan_solver("direct", (2000, 3000), symmetric=True)
    # The exact system: the LU does not fit in the budget (80 % of 5 GB), AMG needs more still,
    # and `auto` takes the tiles, which fit.
    with pytest.raises(
        InputError,
        match=r"6.0 MP\) needs about 7.5 GB with solver 'amg', over the memory budget "
        r"of 4.0 GB \(80% of the 5.0 GB available.*solver 'tiles' would fit",
    ):
        plan_solver("amg", (2000, 3000))
    assert plan_solver("auto", (2000, 3000)).solver == "tiles"
    assert plan_solver("auto", (100, 150)).solver == "direct"


def test_bad_solver_options():
    gray, cues = levin_problem()
    with pytest.raises(InputError, match="unknown device"):
        varcolor.colorize(gray, cues, device="tpu")
    with pytest.raises(InputError, match="tol"):
        varcolor.colorize(gray, cues, tol=-1)
    with pytest.raises(InputError, match="x0"):
        varcolor.colorize(gray, cues, x0=np.zeros((3, 3, 2)))


@pytest.mark.parametrize("density", [0.002, 0.3, 0.9, 1.0])
@pytest.mark.parametrize("transpose", [False, True])
def test_direct_solver_is_double_precision_exact_at_any_cue_density(density, transpose):
    # Cued pixels are solved in closed form outside the single-precision LU; refinement must
    # still reach the tolerance, for both A and Aᵀ, up to an image that is all cues.
    from scipy.sparse.linalg import spsolve

    rng = np.random.default_rng(2)
    shape = (40, 52)
    mask = rng.random(shape) < density
    mask.flat[0] = True
    operator = exact_operator(rng.random(shape), mask)
    rhs = rng.normal(0, 30, shape + (2,))
    x, info = DirectSolver(operator, tol=1e-12).solve(rhs, transpose=transpose)
    matrix = operator.to_csr().tocsc()
    expected = spsolve(matrix.T.tocsc() if transpose else matrix, rhs.reshape(-1, 2)).reshape(rhs.shape)
    np.testing.assert_allclose(x, expected, rtol=1e-9, atol=1e-9)
    assert info.residual <= 1e-12


def test_direct_solver_falls_back_to_double_precision_when_refinement_stalls(monkeypatch):
    from scipy.sparse.linalg import spsolve

    gray, cues = levin_problem("coffee", shape=(30, 40), density=0.01)
    operator = exact_operator(gray, cues.mask)
    rhs = exact_rhs(cues.mask, cues.ab)
    monkeypatch.setattr(DirectSolver, "max_corrections", 0)  # no refinement: straight to the fallback
    x, info = DirectSolver(operator, tol=1e-300).solve(rhs)
    expected = spsolve(operator.to_csr().tocsc(), rhs.reshape(-1, 2)).reshape(rhs.shape)
    assert np.abs(x - expected).max() < 1e-10  # the single-precision solve alone is ~3e-4 off
    assert info.residual < 1e-13


@pytest.mark.parametrize("density", [0.05, 0.5, 0.95])
def test_dirichlet_solver_solves_the_free_rows_with_the_rest_known(density):
    """Only the free pixels' rows built (exact_operator's rows), the rest known values: the answer
    of the whole grid's system with those pixels held (spsolve's), and the residual on free rows."""
    from scipy.sparse.linalg import spsolve

    from varcolor.solvers.direct import DirichletSolver

    rng = np.random.default_rng(3)
    shape = (36, 44)
    guide, free = rng.random(shape), rng.random(shape) < density
    known, prior = rng.normal(0, 30, shape + (2,)), rng.normal(0, 10, shape + (2,))
    weight = rng.random(shape)
    rows = np.flatnonzero(free)
    partial = exact_operator(guide, ~free, prior_weight=weight, rows=rows)
    whole = exact_operator(guide, ~free, prior_weight=weight)
    assert not partial.stencil.reshape(-1, 9)[~free.ravel()].any()  # no held row was built
    np.testing.assert_allclose(partial.stencil[free], whole.stencil[free], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(partial.apply_rows(prior, rows), whole.apply(prior)[free], rtol=1e-12, atol=1e-12)
    rhs = exact_rhs(~free, known, prior, weight)
    x, info = DirichletSolver(partial, free, tol=1e-12).solve(rhs[free], known)
    expected = spsolve(whole.to_csr().tocsc(), rhs.reshape(-1, 2)).reshape(rhs.shape)
    np.testing.assert_allclose(x, expected[free], rtol=1e-9, atol=1e-9)
    assert info.residual <= 1e-12


# --- a solve that did not converge is no result (issue 36) ---


def _strip_problem():
    """A 5000×2 strip with a cue near each end: AMG stalls far above its tolerance on it."""
    gray = np.tile(np.linspace(0.2, 0.8, 5000)[:, None], (1, 2))
    cues = varcolor.Cues.from_points(
        [{"y": 10, "x": 0, "a": 30, "b": 10}, {"y": 4990, "x": 1, "a": -30, "b": 10}], shape=gray.shape
    )
    return gray, cues


def test_a_solve_that_misses_its_tolerance_is_an_error_not_a_result():
    gray, cues = _strip_problem()
    exact = varcolor.colorize(gray, cues, solver="direct")
    assert exact.info["residual"] <= 1e-8
    # What AMG's last iterate would have been: far from the exact answer, which is why it is refused.
    operator = exact_operator(gray, cues.mask)
    rhs = exact_rhs(cues.mask, cues.ab)
    with pytest.raises(ConvergenceError, match=r"amg solver stopped after 300 iterations at relative residual"):
        AmgSolver(operator).solve(rhs)
    with pytest.raises(ConvergenceError, match="above its tolerance 1e-08"):
        varcolor.colorize(gray, cues, solver="amg")


@pytest.mark.slow
def test_the_command_line_refuses_a_non_converged_solve_and_a_folder_goes_on(tmp_path, capsys):
    from ..conftest import make_pair, run

    gray, cues = _strip_problem()
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[cues.mask] = varcolor.color.lab_to_rgb(
        np.concatenate([varcolor.color.lightness_of_gray(gray)[..., None], cues.ab], axis=2)
    )[cues.mask]
    source = tmp_path / "in"
    source.mkdir()
    varcolor.write_image(source / "strip.png", gray)
    varcolor.write_image(source / "strip_marked.png", marked)
    make_pair(source, "fine")
    single = ["colorize", source / "strip.png", "--marked", source / "strip_marked.png", "-o", tmp_path / "one.png"]
    code, _, err = run(capsys, *single, "--solver", "amg")
    assert code == 2 and not (tmp_path / "one.png").exists()
    assert err.count("\n") == 1 and "strip.png" in err and "relative residual" in err and "Traceback" not in err
    code, _, err = run(capsys, "colorize", source, "-o", tmp_path / "out", "--solver", "amg")
    assert code != 0 and "strip.png" in err and "relative residual" in err
    assert (tmp_path / "out" / "fine.png").is_file() and not (tmp_path / "out" / "strip.png").exists()


@pytest.mark.parametrize(
    ("method", "solver"), [("levin", "amg"), ("levin-symmetric", "cg"), ("levin-symmetric", "multigrid")]
)
def test_iterative_solvers_report_their_convergence_history(method, solver):
    """info["residuals"]: the worst relative residual after each iteration, ending at the solve's
    own final residual, which is the true ‖b − A x‖ / ‖b‖ of the answer returned."""
    from varcolor.solvers import make_solver

    gray, cues = gray_and_cues("coffee", (48, 64), 30, rng=4)
    info = varcolor.colorize(gray, cues, method=method, solver=solver, tol=1e-10).info
    history = info["residuals"]
    assert len(history) == info["iterations"] > 2 and history[-1] == info["residual"] <= 1e-10
    assert history[0] > 100 * history[-1]  # it converged, and the history shows it
    # The same solve by hand: the solver's own final residual is the answer's true residual.
    engine = varcolor.methods.get(method)(gray, varcolor.Options.build(method=method, solver=solver, tol=1e-10))
    operator, rhs = engine.system(gray, cues.mask, cues.ab)
    x, report = make_solver(solver, operator, tol=1e-10, symmetric=operator.is_symmetric()).solve(rhs)
    true = np.linalg.norm((rhs - operator.apply(x)).reshape(-1, 2), axis=0) / np.linalg.norm(rhs.reshape(-1, 2), axis=0)
    assert report.residuals[-1] == report.residual == pytest.approx(true.max(), rel=1e-3, abs=1e-14)
    assert "residuals" not in varcolor.colorize(gray, cues, method="levin", solver="direct").info
