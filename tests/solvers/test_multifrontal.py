"""The multifrontal LU against SciPy's sparse solve."""

import numpy as np
import pytest
from scipy.sparse.linalg import spsolve

from varcolor.energies.levin import exact_operator, symmetric_system
from varcolor.errors import InputError
from varcolor.solvers import DirectSolver
from varcolor.solvers.direct import _diagonal_only_rows
from varcolor.solvers.multifrontal import MultifrontalLU
from varcolor.solvers.stencil import GridOperator


def _problem(shape, density, seed, symmetric=False):
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) < density
    mask.flat[0] = True
    guide = rng.random(shape)
    operator = symmetric_system(guide, mask, np.zeros(shape + (1,)))[0] if symmetric else exact_operator(guide, mask)
    free = ~_diagonal_only_rows(operator.stencil).reshape(shape)
    return operator, free, rng.normal(0, 30, (shape[0] * shape[1], 2))


def _reference(operator, free, b, transpose):
    matrix = operator.to_csr()
    index = np.flatnonzero(free)
    block = matrix[index][:, index]
    return spsolve((block.T if transpose else block).tocsc(), b[index])


@pytest.mark.parametrize("shape", [(2, 2), (2, 9), (37, 5), (64, 65), (97, 128)])
@pytest.mark.parametrize("density", [0.01, 0.3])
@pytest.mark.parametrize("transpose", [False, True])
def test_solves_the_free_block_like_spsolve(shape, density, transpose):
    operator, free, b = _problem(shape, density, seed=shape[0] * shape[1])
    expected = _reference(operator, free, b, transpose)
    for threads in (1, 2):
        x = MultifrontalLU(operator.stencil, free, np.float64, threads=threads).solve(b, transpose)
        np.testing.assert_allclose(x[free.ravel()], expected, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(x[~free.ravel()], b[~free.ravel()])  # other rows untouched


@pytest.mark.parametrize("leaf", [1, 5, 32, 500])
def test_any_leaf_size_gives_the_same_solution(leaf):
    operator, free, b = _problem((40, 33), 0.02, seed=3, symmetric=True)
    x = MultifrontalLU(operator.stencil, free, np.float64, leaf=leaf).solve(b)
    np.testing.assert_allclose(x[free.ravel()], _reference(operator, free, b, False), rtol=1e-9, atol=1e-9)


def test_single_precision_factors_are_accurate_to_single_precision():
    operator, free, b = _problem((80, 90), 0.01, seed=4)
    x = MultifrontalLU(operator.stencil, free, np.float32).solve(b)
    assert x.dtype == np.float32
    expected = _reference(operator, free, b, False)
    assert np.abs(x[free.ravel()] - expected).max() <= 1e-4 * np.abs(expected).max()


def test_a_singular_block_is_reported():
    stencil = np.zeros((4, 5, 9))  # no coupling and a zero diagonal: every pivot is 0
    with pytest.raises(ZeroDivisionError):
        MultifrontalLU(stencil, np.ones((4, 5), bool))
    stencil[..., 4] = 1.0
    stencil[1:3, 1:4, 4] = 0.0
    with pytest.raises(InputError, match="singular"):
        DirectSolver(GridOperator(stencil))


def test_blas_runs_on_one_thread_during_the_factorisation_and_as_the_caller_set_it_after(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from varcolor.solvers import multifrontal

    def blas_threads():
        return {
            lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"
        }

    seen = []
    factor = multifrontal._factor

    def watched(*args):
        seen.append(set(blas_threads().values()))
        return factor(*args)

    monkeypatch.setattr(multifrontal, "_factor", watched)
    rng = np.random.default_rng(3)
    operator = exact_operator(rng.random((40, 60)), rng.random((40, 60)) < 0.05)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        DirectSolver(operator)
        after = blas_threads()
    assert seen and all(counts == {1} for counts in seen)
    assert after == before and 2 in before.values()


def test_whole_solves_local_solves_and_renumbered_passes_share_one_compiled_version():
    # Each compiled version of the solve passes costs seconds to compile on a first run: a whole
    # solve (every pixel in its own place), a local one and a pass in another numbering (an
    # update's block of the inverse) must all use the same one, per precision.
    from varcolor.solvers.multifrontal import _solve_down, _solve_up

    operator, free, b = _problem((64, 65), 0.05, seed=3)
    expected = _reference(operator, free, b, False)
    for threads in (1, 2):
        lu = MultifrontalLU(operator.stencil, free, np.float32, threads=threads)
        np.testing.assert_allclose(lu.solve(b)[free.ravel()], expected, rtol=1e-3, atol=1e-3)
        pixels = np.flatnonzero(free.ravel())[:3]
        lu.solve_local(pixels, np.ones((3, 2)), tiny=1e-6)
        nodes = np.arange(len(lu.tree.parent))
        x = np.zeros((2, len(lu.tree.owner)), np.float32)
        x[:, pixels] = 1.0
        renumbered = np.arange(len(lu.tree.owner))
        np.testing.assert_array_equal(lu.up(x.copy(), nodes, renumbered), lu.up(x.copy(), nodes))
    for kernel in (_solve_up, _solve_down):
        single = [s for s in kernel.signatures if str(s[0].dtype) == "float32"]
        assert len(single) == 1, (kernel.__name__, single)
