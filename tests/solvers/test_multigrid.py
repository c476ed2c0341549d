"""The grid multigrid, conjugate gradients and the symmetric Levin variant against scipy's sparse algebra."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

import varcolor
from varcolor.common.affinity import edge_weights
from varcolor.cues import sample_random
from varcolor.energies.levin import exact_operator
from varcolor.errors import ConvergenceError, InputError
from varcolor.solvers import amg, device
from varcolor.solvers.amg import CgSolver
from varcolor.solvers.cg import pcg
from varcolor.solvers.multigrid import GridMultigrid, MultigridSolver
from varcolor.solvers.stencil import GridOperator

from ..conftest import photo, stroke


def weighted_laplacian(shape, seed=0, fixed_fraction=0.01):
    """An image-weighted 8-neighbour graph Laplacian (weights spanning 1e-6 … 1) with fixed pixels
    eliminated and a small mass term: the kind of SPD operator the multigrid is for."""
    gray = photo("astronaut", shape).mean(axis=2)
    weights = np.maximum(edge_weights(gray), 1e-6) * (edge_weights(gray) > 0)
    fixed = np.random.default_rng(seed).random(shape) < fixed_fraction
    stencil = np.zeros(shape + (9,))
    height, width = shape
    # edge e from (i, j) to (i + dy, j + dx): stencil entry k on the first pixel, 8 − k on the second
    for e, (dy, dx) in enumerate(((0, 1), (1, 0), (1, 1), (1, -1))):
        k = 3 * (dy + 1) + dx + 1
        for i in range(height):
            for j in range(width):
                w = weights[i, j, e]
                if w:
                    ii, jj = i + dy, j + dx
                    stencil[i, j, k] -= w
                    stencil[ii, jj, 8 - k] -= w
                    stencil[i, j, 4] += w
                    stencil[ii, jj, 4] += w
    stencil[..., 4] += 1e-4
    for i, j in zip(*np.nonzero(fixed)):
        stencil[i, j] = 0.0
        stencil[i, j, 4] = 1.0
        for k in range(9):
            ii, jj = i + k // 3 - 1, j + k % 3 - 1
            if k != 4 and 0 <= ii < height and 0 <= jj < width:
                stencil[ii, jj, 8 - k] = 0.0
    return GridOperator(stencil), fixed


def solve_with_multigrid(operator, fixed, rhs, tol=1e-10):
    multigrid = GridMultigrid(operator, fixed)
    shape = rhs.shape
    return pcg(
        lambda v: operator.apply(v.reshape(shape)).reshape(-1, shape[2]),
        rhs.reshape(-1, shape[2]),
        lambda r: multigrid.vcycle(r.reshape(shape)).reshape(-1, shape[2]),
        np,
        tol=tol,
        maxiter=200,
    )


def test_galerkin_levels_are_the_sparse_triple_product():
    operator, fixed = weighted_laplacian((21, 18))
    multigrid = GridMultigrid(operator, fixed, coarsest=10)
    stencil, weights = multigrid.levels[0]
    height, width = operator.shape
    coarse_width = (width + 1) // 2
    rows, cols, values = [], [], []
    for i in range(height):
        for j in range(width):
            for corner in range(4):
                if weights[i, j, corner]:
                    rows.append(i * width + j)
                    cols.append((i // 2 + corner // 2) * coarse_width + j // 2 + corner % 2)
                    values.append(weights[i, j, corner])
    p = sp.csr_matrix((values, (rows, cols)), shape=(height * width, ((height + 1) // 2) * coarse_width))
    expected = (p.T @ operator.to_csr() @ p).toarray()
    actual = GridOperator(multigrid.levels[1][0].astype(np.float64)).to_csr().toarray()
    assert np.allclose(actual, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())


def test_vcycle_is_symmetric():
    operator, fixed = weighted_laplacian((40, 37))
    multigrid = GridMultigrid(operator, fixed, coarsest=50)
    rng = np.random.default_rng(1)
    a, b = (np.where(fixed[..., None], 0.0, rng.standard_normal((40, 37, 1))) for _ in range(2))
    left, right = np.vdot(multigrid.vcycle(a), b), np.vdot(a, multigrid.vcycle(b))
    assert abs(left - right) <= 1e-5 * abs(left)


@pytest.mark.parametrize("shape", [(48, 64), (96, 128)])
def test_multigrid_cg_matches_spsolve_in_few_iterations(shape):
    operator, fixed = weighted_laplacian(shape)
    rng = np.random.default_rng(2)
    rhs = np.where(fixed[..., None], 0.0, rng.standard_normal(shape + (2,)))
    x, iterations, residual = solve_with_multigrid(operator, fixed, rhs)
    matrix = operator.to_csr().tocsc()
    expected = np.column_stack([spsolve(matrix, rhs[..., c].ravel()) for c in range(2)])
    assert np.abs(x - expected).max() <= 1e-7 * np.abs(expected).max()
    assert residual.max() <= 1e-10
    # Mesh-independent convergence is the point of multigrid: a few tens of iterations at most,
    # on weights that jump by six orders of magnitude.
    assert iterations <= 40


def test_a_vcycle_compiles_each_kernel_once():
    # Each kernel called with one layout of its arrays: a second (a reversed view) is a second compile.
    from varcolor.solvers import multigrid

    operator, fixed = weighted_laplacian((20, 24))
    GridMultigrid(operator, fixed, coarsest=50).vcycle(np.ones((20, 24, 2)))
    kernels = [multigrid._gauss_seidel, multigrid._residual, multigrid._restrict, multigrid._prolong_add]
    assert [len(kernel.signatures) for kernel in kernels] == [1, 1, 1, 1]


def test_pcg_columns_are_independent_and_a_zero_column_stays_zero():
    rng = np.random.default_rng(3)
    m = sp.random(60, 60, density=0.1, random_state=4)
    a = (m @ m.T + sp.eye(60)).tocsr()
    b = np.column_stack([rng.standard_normal(60), np.zeros(60)])
    x, iterations, residual = pcg(lambda v: a @ v, b, lambda r: r, np, tol=1e-12, maxiter=500)
    assert np.allclose(x[:, 0], spsolve(a.tocsc(), b[:, 0])) and np.all(x[:, 1] == 0)
    assert residual.max() <= 1e-12 and 0 < iterations <= 120


def test_symmetric_levin_is_the_weighted_graph_laplacian_with_cues_fixed():
    from varcolor.energies.levin import symmetric_system

    rgb = photo("coffee", (40, 56))
    gray = varcolor.color.same_lightness_gray(rgb)
    mask = np.random.default_rng(5).random(gray.shape) < 0.02
    values = varcolor.color.rgb_to_lab(rgb)[..., 1:]
    # Independently: minimise ½ Σ w (u_s − u_r)² over the free pixels, the Laplacian assembled edge by edge.
    weights = edge_weights(gray)
    height, width = gray.shape
    laplacian = sp.lil_matrix((height * width, height * width))
    for e, (dy, dx) in enumerate(((0, 1), (1, 0), (1, 1), (1, -1))):
        for i in range(height):
            for j in range(width):
                if 0 <= i + dy < height and 0 <= j + dx < width:
                    r, s_ = i * width + j, (i + dy) * width + j + dx
                    laplacian[r, r] += weights[i, j, e]
                    laplacian[s_, s_] += weights[i, j, e]
                    laplacian[r, s_] -= weights[i, j, e]
                    laplacian[s_, r] -= weights[i, j, e]
    laplacian = laplacian.tocsr()
    free, fixed = ~mask.ravel(), mask.ravel()
    f = values.reshape(-1, 2)
    expected = f.copy()
    expected[free] = spsolve(laplacian[free][:, free].tocsc(), -laplacian[free][:, fixed] @ f[fixed])
    operator, rhs = symmetric_system(gray, mask, values)
    x, info = MultigridSolver(operator, tol=1e-10).solve(rhs)
    assert np.abs(x.reshape(-1, 2) - expected).max() <= 1e-6
    assert info.solver == "multigrid" and 0 < info.iterations <= 40 and info.residual <= 1e-10


@pytest.mark.parametrize("density", [0.01, 0.0005])
def test_colorize_symmetric_solvers_agree_and_refuse_the_exact_system(density):
    rgb = photo("astronaut", (64, 80))
    gray = varcolor.color.same_lightness_gray(rgb)
    cues = sample_random(rgb, max(2, int(density * gray.size)), rng=6)
    results = {
        s: varcolor.colorize(gray, cues, method="levin-symmetric", solver=s)
        for s in ("direct", "multigrid", "cg", "amg")
    }
    for solver in ("multigrid", "cg", "amg"):
        error = np.abs(results["direct"].ab - results[solver].ab)
        assert error.max() <= 0.05 and np.sqrt(np.mean(error**2)) <= 0.005, solver
        assert results[solver].info["solver"] == solver and results[solver].info["iterations"] > 0
    for solver, builder in (("multigrid", MultigridSolver), ("cg", CgSolver)):
        with pytest.raises(InputError, match=f"solver '{solver}' needs a symmetric system"):
            varcolor.colorize(gray, cues, solver=solver)
        with pytest.raises(InputError, match="symmetric"):
            builder(exact_operator(gray, cues.mask))


def test_cg_cycle_is_symmetric_and_runs_as_array_code(monkeypatch):
    # The GPU path is the same array code with CuPy arrays; run it with NumPy and SciPy's sparse
    # module in place of CuPy's (no CPU-only threaded product).
    simulated = device.ArrayBackend("cuda", np, sp)
    monkeypatch.setattr(amg, "backend", lambda name: simulated)
    operator, fixed = weighted_laplacian((40, 56), fixed_fraction=0.02)
    solver = CgSolver(operator, device="cuda", tol=1e-10)
    assert isinstance(solver.matrix, sp.csr_matrix) and len(solver.hierarchy.levels) >= 2
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, operator.stencil[..., 0].size, 1))
    cycle = solver.hierarchy.precondition
    assert np.isclose(np.vdot(cycle(a), b), np.vdot(a, cycle(b)), rtol=1e-10)  # CG needs M = Mᵀ
    assert np.vdot(a, cycle(a)) > 0
    rhs = np.where(fixed[..., None], 0.0, rng.standard_normal(fixed.shape + (2,)))
    x, info = solver.solve(rhs)
    expected = spsolve(operator.to_csr().tocsc(), rhs.reshape(-1, 2))
    assert np.abs(x.reshape(-1, 2) - expected).max() <= 1e-6 * np.abs(expected).max()
    assert info.solver == "cg" and info.iterations <= 60 and info.residual <= 1e-10


def test_cg_update_reuses_the_hierarchy_and_matches_a_fresh_solve():
    rgb = photo("astronaut", (96, 128))
    gray = varcolor.color.same_lightness_gray(rgb)
    first = sample_random(rgb, 60, rng=1)
    more = stroke(gray.shape, 40, slice(50, 62), (25.0, -10.0))
    cz = varcolor.Colorizer(gray, method="levin-symmetric", solver="cg")
    cz.solve(first)
    hierarchy = cz.engine.solver.hierarchy
    warm = cz.update(more, local=False)  # the global re-solve, warm-started
    assert cz.engine.solver.hierarchy is hierarchy
    fresh = varcolor.colorize(gray, first.merged(more), method="levin-symmetric", solver="direct")
    assert np.abs(warm.ab - fresh.ab).max() <= 0.05


def test_multigrid_non_convergence_is_an_error_with_the_residual():
    rgb = photo("astronaut", (64, 80))
    gray = varcolor.color.same_lightness_gray(rgb)
    cues = sample_random(rgb, 10, rng=7)
    with pytest.raises(ConvergenceError, match="relative residual"):
        varcolor.colorize(gray, cues, method="levin-symmetric", solver="multigrid", maxiter=1)


def test_symmetry_check_and_identity_rows_agree_with_the_dense_matrix():
    operator, fixed = weighted_laplacian((12, 15))
    assert operator.is_symmetric()
    assert np.array_equal(operator.identity_rows(), fixed)
    rng = np.random.default_rng(1)
    for _ in range(40):  # any one entry changed, including those that would reach outside the image
        stencil = operator.stencil.copy()
        i, j, k = rng.integers(12), rng.integers(15), rng.integers(9)
        stencil[i, j, k] += 0.25
        dense = GridOperator(stencil).to_csr().toarray()
        inside = 0 <= i + k // 3 - 1 < 12 and 0 <= j + k % 3 - 1 < 15
        expected = inside and np.array_equal(dense, dense.T)  # a coupling out of the image is never valid
        assert GridOperator(stencil).is_symmetric() == expected
