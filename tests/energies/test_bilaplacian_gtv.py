"""The bi-Laplacian + generalised TV energy (varcolor.energies.bilaplacian_gtv) solved by ADMM: its
minimum against an independent convex solver, by the kernels and by the array code a small photo
runs before they are compiled, its operators against sparse ones, resuming, bad parameters."""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

import varcolor
from varcolor.common.neighbours import EDGE_OFFSETS
from varcolor.energies import bilaplacian_gtv
from varcolor.energies.bilaplacian_gtv import Parameters, edge_operator, gradient_operator, solve
from varcolor.errors import InputError
from varcolor.solvers import admm, amg, device
from varcolor.solvers.stencil import graph_laplacian

from ..conftest import tiny_problem


@pytest.fixture(params=[pytest.param("numba", marks=pytest.mark.slow), "array"])
def path(request, monkeypatch):
    """Each way a CPU solve runs: the kernels, or the array code of a small photo whose kernels
    are not compiled (varcolor.common.kernels.array_code), chosen as a user would (VARCOLOR_KERNELS).
    The kernels' run is `make test-slow`'s: in a cold `make test` compiling ADMM's kernels was most of it."""
    monkeypatch.setenv("VARCOLOR_KERNELS", request.param)
    return request.param


def test_energy_matches_an_independent_convex_solver(path):
    cp = pytest.importorskip("cvxpy")
    gray, mask, targets = tiny_problem()
    params = Parameters(lam=0.5, mu=2.0, gamma=np.inf, tol=1e-7, maxiter=20000, sharpness=8.0)
    u, info = solve(gray, mask, targets, params)
    # The same energy written independently: Laplacian as a dense 5-point stencil with Neumann ends,
    # the GTV over all 8-neighbour pairs.
    h, w = gray.shape
    n = h * w
    lap = np.zeros((n, n))
    for i in range(h):
        for j in range(w):
            for di, dj in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                if 0 <= i + di < h and 0 <= j + dj < w:
                    lap[i * w + j, i * w + j] -= 1
                    lap[i * w + j, (i + di) * w + j + dj] += 1
    scale = varcolor.common.affinity.local_scale(gray)
    pairs, weights = [], []
    for i in range(h):
        for j in range(w):
            for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
                if 0 <= i + di < h and 0 <= j + dj < w:
                    s2 = 0.5 * (scale[i, j] + scale[i + di, j + dj]) / params.sharpness  # the mean csig, sharpened
                    pairs.append((i * w + j, (i + di) * w + j + dj))
                    weights.append(np.exp(-((gray[i, j] - gray[i + di, j + dj]) ** 2) / (2 * s2)))
    x = cp.Variable((n, 2))
    first = np.array([p[0] for p in pairs])
    second = np.array([p[1] for p in pairs])
    objective = 0.5 * params.lam * cp.sum_squares(lap @ x) + params.mu * cp.sum(
        cp.multiply(np.array(weights), cp.norm(x[second] - x[first], 2, axis=1))
    )
    flat = mask.ravel()
    problem = cp.Problem(cp.Minimize(objective), [x[flat] == targets.reshape(n, 2)[flat]])
    problem.solve(solver="CLARABEL")
    assert abs(info["energy"] - problem.value) <= 1e-4 * abs(problem.value)
    assert info["energy"] >= problem.value - 1e-6 * abs(problem.value)


def test_progress_reports_every_iteration():
    gray, mask, targets = tiny_problem(5)
    seen = []
    _, info = solve(gray, mask, targets, Parameters(maxiter=300), progress=seen.append)
    assert [report["iterations"] for report in seen] == list(range(1, info["iterations"] + 1))
    assert seen[-1]["maxiter"] == 300 and seen[-1]["dual_residual"] == info["dual_residual"]


def test_a_solve_resumed_from_the_last_admm_state_reaches_the_same_minimum_sooner(path):
    gray, mask, targets = tiny_problem(6, (32, 40))
    params = Parameters(tol=1e-6, maxiter=5000)
    state = bilaplacian_gtv.AdmmState()
    first, _ = solve(gray, mask, targets, params, state=state)
    assert state.grid == path and state.z.size == 32 * 40 * 4 * 2 and state.rho > 0
    more = mask.copy()
    more[20:22, 5:15] = True  # a stroke
    cold, cold_info = solve(gray, more, targets, params)
    state.iterations = 0  # a changed problem
    warm, warm_info = solve(gray, more, targets, params, x0=first, state=state)
    assert abs(warm_info["energy"] - cold_info["energy"]) <= 1e-5 * cold_info["energy"]
    assert warm_info["iterations"] < 0.8 * cold_info["iterations"]
    # Another image's state is not used.
    other, other_info = solve(gray[:30], more[:30], targets[:30], params, state=state)
    assert other_info["iterations"] > 0 and state.z.size == 30 * 40 * 4 * 2


@pytest.mark.slow
def test_a_state_left_by_the_other_path_is_not_resumed(monkeypatch):
    # The kernels may arrive (a background compile) between two solves of one photo: the array
    # code's edge variables are laid out otherwise, and the next solve starts afresh.
    gray, mask, targets = tiny_problem(6, (32, 40))
    params = Parameters(tol=1e-6, maxiter=5000)
    monkeypatch.setenv("VARCOLOR_KERNELS", "array")
    state = bilaplacian_gtv.AdmmState()
    first, first_info = solve(gray, mask, targets, params, state=state)
    monkeypatch.setenv("VARCOLOR_KERNELS", "numba")
    state.iterations = 0
    again, again_info = solve(gray, mask, targets, params, x0=first, state=state)
    assert state.grid == "numba" and state.z.shape == (32, 40, 4, 2)
    assert abs(again_info["energy"] - first_info["energy"]) <= 1e-5 * first_info["energy"]


def test_without_gtv_it_is_the_bilaplacian_quadratic():
    gray, mask, targets = tiny_problem(1, (16, 20))
    u, _ = solve(gray, mask, targets, Parameters(lam=1.0, mu=0.0, tol=1e-10, maxiter=50))
    grad = gradient_operator(gray.shape)
    bilaplacian = ((grad.T @ grad).T @ (grad.T @ grad)).tocsr()
    free, fixed = ~mask.ravel(), mask.ravel()
    f = targets.reshape(-1, 2)
    expected = np.array(f)
    expected[free] = np.column_stack(
        [spsolve(bilaplacian[free][:, free].tocsc(), -bilaplacian[free][:, fixed] @ f[fixed, c]) for c in range(2)]
    )
    assert np.abs(u.reshape(-1, 2) - expected).max() < 1e-6


def test_hard_cues_are_honoured_and_soft_cues_pull():
    gray, mask, targets = tiny_problem(2)
    hard, _ = solve(gray, mask, targets)
    assert np.array_equal(hard[mask], targets[mask])
    soft, _ = solve(gray, mask, targets, Parameters(gamma=5.0))
    assert 0 < np.abs(soft[mask] - targets[mask]).max() < np.abs(targets[mask]).max()


def simulated_gpu(monkeypatch):
    """The CuPy path's array code, run with NumPy and SciPy in place of CuPy."""
    simulated = device.ArrayBackend("cuda", np, sp)
    monkeypatch.setattr(amg, "backend", lambda name, **_: simulated)
    monkeypatch.setattr(admm, "backend", lambda name, **_: simulated)
    return simulated


# The kernels' parameter is `make test-slow`'s, as the `path` fixture's (their compile).
@pytest.mark.parametrize("kind", [pytest.param("numba", marks=pytest.mark.slow), "array", "gpu"])
@pytest.mark.parametrize("shape", [(9, 11), (2, 7), (4, 3), (5, 5)])  # (5, 5): one pixel two from every side
def test_grid_kernels_match_the_sparse_operators(kind, shape):
    # Each grid in its own layout and precision (the kernels' and the GPU's edge variables float32).
    grids = {
        "numba": admm._NumbaGrid,
        "array": admm.array_grid,
        "gpu": lambda: admm._ArrayGrid(device.ArrayBackend("cuda", np, sp)),
    }
    grid = grids[kind]()
    close = lambda a, b: np.allclose(a, b, rtol=1e-5, atol=1e-5)  # noqa: E731
    rng = np.random.default_rng(3)
    d, _ = edge_operator(np.zeros(shape))
    valid = np.zeros(shape + (4,), bool)  # the edges D lists, in its order: direction by direction
    for e, (dy, dx) in enumerate(EDGE_OFFSETS):
        valid[: shape[0] - dy, max(0, -dx) : shape[1] - max(0, dx), e] = True
    order = np.transpose(valid, (2, 0, 1))
    u = rng.standard_normal(shape + (2,))
    flat = lambda z: np.transpose(z, (2, 0, 1, 3))[order]  # noqa: E731
    differences = grid.edges_to_host(grid.differences(grid.asarray(u)))
    assert close(flat(differences), d @ u.reshape(-1, 2)) and not differences[~valid].any()
    z, y = (np.where(valid[..., None], rng.standard_normal(shape + (4, 2)), 0.0) for _ in range(2))
    z, y = (grid.edges_to_host(grid.edges(v)) for v in (z, y))  # in the grid's precision
    diagonal, fixed = rng.random(shape), rng.random(shape) < 0.2
    rhs_fixed, old, rhs, au = (rng.standard_normal(shape + (2,)) for _ in range(4))
    left = np.where(fixed[..., None], 0.0, rhs - au).reshape(-1, 2)
    divergence_z, on_grid = grid.asarray(old.copy()), grid.asarray(rhs.copy())
    dual2, y2 = grid.divergences(
        grid.edges(z), grid.edges(y), grid.asarray(rhs_fixed), 0.7, divergence_z, on_grid, grid.asarray(au), fixed
    )
    assert close(grid.to_host(divergence_z).reshape(-1, 2), d.T @ flat(z))
    assert np.isclose(dual2, np.sum((left + 0.7 * (d.T @ flat(z) - old.reshape(-1, 2))) ** 2))
    assert np.isclose(y2, np.sum((0.7 * d.T @ flat(y)) ** 2))
    assert close(grid.to_host(on_grid).reshape(-1, 2), rhs_fixed.reshape(-1, 2) + 0.7 * d.T @ (flat(z) - flat(y)))
    a, b = rng.standard_normal((2,) + shape + (2,))
    difference = grid.to_host(grid.free_difference(grid.asarray(a), grid.asarray(b), fixed))
    assert np.array_equal(difference[fixed], np.zeros((fixed.sum(), 2))) and close(difference[~fixed], (a - b)[~fixed])
    moved = grid.asarray(a.copy())
    grid.add_free(moved, grid.asarray(b), 0.5, fixed)
    moved = grid.to_host(moved)
    assert np.array_equal(moved[fixed], a[fixed]) and close(moved[~fixed], (a + 0.5 * b)[~fixed])
    laplacian = gradient_operator(shape).T @ gradient_operator(shape)
    expected = (0.3 * laplacian @ laplacian + 2.0 * d.T @ d + sp.diags(diagonal.ravel())) @ u.reshape(-1, 2)
    expected[fixed.ravel()] = 0.0
    applied = grid.u_operator(grid.asarray(u), 0.3, 2.0, grid.asarray(diagonal), grid.asarray(fixed))
    assert close(grid.to_host(applied).reshape(-1, 2), expected)
    # The z- and y-steps: the group soft-threshold of the relaxed differences, against the formula.
    weights = np.where(valid, rng.random(shape + (4,)), 0.0)
    relaxed = 1.9 * differences + (1.0 - 1.9) * z + y
    norm = np.sqrt(np.sum(relaxed**2, axis=3, keepdims=True))
    kept = np.maximum(0.0, 1.0 - 0.4 * weights[..., None] / np.where(norm > 0, norm, 1.0)) * (norm > 0) * relaxed
    on_grid_z, on_grid_y = grid.edges(z), grid.edges(y)
    sums = grid.z_and_y_steps(
        grid.asarray(u), on_grid_z, on_grid_y, grid.asarray(weights.astype(grid.edge_dtype)), 0.4, 1.9
    )
    assert close(grid.edges_to_host(on_grid_z), kept) and close(grid.edges_to_host(on_grid_y), relaxed - kept)
    assert np.allclose(sums, [np.sum((differences - kept) ** 2), np.sum(differences**2), np.sum(kept**2)], rtol=1e-4)


def test_the_array_codes_nine_point_matrix_is_the_kernels():
    rng = np.random.default_rng(1)
    diagonal, fixed = rng.random((7, 9)) * (rng.random((7, 9)) < 0.5), rng.random((7, 9)) < 0.3
    nothing = np.zeros((7, 9, 1))
    operator, _ = graph_laplacian(np.full((7, 9, 4), 0.8), fixed, nothing, diagonal, nothing)
    expected = operator.to_csr().toarray()
    assert np.allclose(admm._nine_point_matrix(0.8, diagonal, fixed).toarray(), expected)


def test_a_small_photo_whose_kernels_are_not_compiled_solves_without_compiling(tmp_path):
    # A user's first bilaplacian-gtv run of a small photo, no `varcolor warm`: an empty numba
    # cache, and no kernel compiled (each compile is reported by numba's event).
    script = """
import numpy as np
from numba.core import event
import varcolor
from varcolor.energies.bilaplacian_gtv import Parameters, solve
compiled = []
class Count(event.Listener):
    def on_start(self, ev): compiled.append(ev.data["dispatcher"].py_func.__name__)
    def on_end(self, ev): pass
event.register("numba:compile", Count())
rng = np.random.default_rng(0)
gray = rng.random((40, 50)); mask = rng.random((40, 50)) < 0.05
u, info = solve(gray, mask, rng.normal(0, 20, (40, 50, 2)), Parameters(maxiter=50))
assert np.isfinite(u).all() and info["iterations"] > 0
print("COMPILED", compiled)
"""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "VARCOLOR_BACKGROUND_WARM": "0"}
    env.pop("VARCOLOR_KERNELS", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "COMPILED []" in done.stdout, done.stdout


@pytest.mark.parametrize("kernels", [pytest.param("numba", marks=pytest.mark.slow), "array"])
def test_gpu_array_path_reaches_the_cpu_paths_minimum(monkeypatch, kernels):
    simulated_gpu(monkeypatch)
    monkeypatch.setenv("VARCOLOR_KERNELS", kernels)  # the CPU's kernels (a large photo's), or its array code
    gray, mask, targets = tiny_problem(4, (32, 40))
    params = Parameters(tol=1e-6, maxiter=5000)
    cpu, cpu_info = solve(gray, mask, targets, params)
    gpu, gpu_info = solve(gray, mask, targets, params, device="cuda")
    assert abs(gpu_info["energy"] - cpu_info["energy"]) <= 1e-5 * cpu_info["energy"]
    assert np.array_equal(gpu[mask], targets[mask]) and np.abs(gpu - cpu).max() < 0.05
    assert isinstance(gpu, np.ndarray) and gpu_info["iterations"] < 5000


def test_gpu_without_cupy_is_a_one_line_error():
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed")
    except ImportError:
        pass
    gray, mask, targets = tiny_problem()
    with pytest.raises(InputError, match="CuPy"):
        solve(gray, mask, targets, device="cuda")


def test_edge_operator_counts_and_weights():
    d, w = edge_operator(np.zeros((6, 7)))
    assert d.shape == (6 * 6 + 5 * 7 + 2 * 5 * 6, 42) and np.allclose(w, 1.0)
    assert np.allclose(d @ np.ones(42), 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lam=-1),
        dict(mu=np.nan),
        dict(gamma=-2),
        dict(lam=np.inf),
        dict(sharpness=0.0),
        dict(sharpness=np.inf),
        dict(sharpness=np.nan),
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(InputError, match=f"^{next(iter(kwargs))} must be"):
        Parameters(**kwargs)


def test_every_pixel_a_hard_cue_is_the_cues_without_a_minimisation():
    """Nothing is free: the result is the cues' colours, as Levin's, and no ADMM runs (its multigrid
    could not coarsen a system of fixed pixels alone, and inverted it whole: 30 s at 40×60)."""
    rng = np.random.default_rng(1)
    gray, ab = rng.random((40, 60)), rng.normal(0, 20, (40, 60, 2))
    cues = varcolor.Cues(np.ones(gray.shape, bool), ab)
    result = varcolor.colorize(gray, cues, method="bilaplacian-gtv")
    assert result.info["iterations"] == 0
    assert np.abs(result.rgb - varcolor.colorize(gray, cues, method="levin").rgb).max() < 1e-12
