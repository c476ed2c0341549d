"""The multifrontal LU against SciPy's sparse solve."""

import numba
import numpy as np
import pytest
from scipy.sparse.linalg import spsolve

from varcolor.energies.levin import exact_operator, symmetric_system
from varcolor.errors import InputError
from varcolor.solvers import DirectSolver, multifrontal
from varcolor.solvers.direct import _diagonal_only_rows
from varcolor.solvers.multifrontal import MultifrontalLU
from varcolor.solvers.stencil import GridOperator


@pytest.fixture(autouse=True)
def multifrontal_at_every_size(monkeypatch):
    """These small systems through :class:`DirectSolver` factored by the multifrontal LU, as a big
    image's are (a small one's are SuperLU's: tests/solvers/test_superlu.py)."""
    monkeypatch.setattr("varcolor.common.kernels.ARRAY_CODE_PIXELS", 0)


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
def test_solves_the_free_block_like_spsolve(shape, density, transpose, monkeypatch):
    monkeypatch.setattr(multifrontal, "TWO_THREADS_FROM", 0)  # two threads at every size, where asked
    operator, free, b = _problem(shape, density, seed=shape[0] * shape[1])
    expected = _reference(operator, free, b, transpose)
    for threads in (1, 2):
        x = MultifrontalLU(operator.stencil, free, np.float64, threads=threads).solve(b, transpose)
        np.testing.assert_allclose(x[free.ravel()], expected, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(x[~free.ravel()], b[~free.ravel()])  # other rows untouched


def test_a_small_system_is_factored_and_solved_in_the_callers_thread(monkeypatch):
    """Below TWO_THREADS_FROM unknowns the pool's hand-offs cost more than its second thread
    saves: nothing goes to it; from there on the root's subtrees do (the same answer)."""
    operator, free, b = _problem((40, 50), 0.02, seed=5)
    assert np.count_nonzero(free) < multifrontal.TWO_THREADS_FROM
    expected = _reference(operator, free, b, False)
    handed = []
    pool = multifrontal._pool
    monkeypatch.setattr(multifrontal, "_pool", lambda: handed.append(1) or pool())
    x = MultifrontalLU(operator.stencil, free, np.float64).solve(b)
    np.testing.assert_allclose(x[free.ravel()], expected, rtol=1e-9, atol=1e-9)
    assert not handed
    monkeypatch.setattr(multifrontal, "TWO_THREADS_FROM", 100)
    before = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))  # one thread: never the pool
    try:
        x = MultifrontalLU(operator.stencil, free, np.float64).solve(b)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_allclose(x[free.ravel()], expected, rtol=1e-9, atol=1e-9)
    assert handed or numba.config.NUMBA_NUM_THREADS < 2


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
        # (the passes of many right-hand sides, which call BLAS, are another version: below)
        single = [s for s in kernel.signatures if str(s[0].dtype) == "float32" and s[-1] == numba.types.none]
        assert len(single) == 1, (kernel.__name__, single)


@pytest.mark.slow  # 10 s in make test, compiling the passes it checks; make test-slow runs it
def test_few_channels_compile_passes_without_blas_and_many_with():
    # A solve of the chroma (2 channels) never calls BLAS: its compiled passes leave the BLAS calls
    # out (a second less to compile on a first run). Many channels (an update's block of the
    # inverse) take BLAS, in another compiled version.
    from varcolor.solvers.multifrontal import _BLAS_CHANNELS, _solve_down, _solve_up

    operator, free, b = _problem((40, 47), 0.05, seed=4)
    lu = MultifrontalLU(operator.stencil, free, np.float32)
    nodes = np.arange(len(lu.tree.parent))
    many = np.random.default_rng(0).normal(size=(free.size, _BLAS_CHANNELS))
    for transpose in (False, True):
        few = b if not transpose else b[:, ::-1].copy()
        expected = _reference(operator, free, np.hstack([few, many]), transpose)
        np.testing.assert_allclose(lu.solve(few, transpose)[free.ravel()], expected[:, :2], rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(lu.solve(many, transpose)[free.ravel()], expected[:, 2:], rtol=1e-3, atol=1e-3)
        x = np.array(many.T, np.float32)
        lu._down(lu.up(x, nodes, transpose=transpose), nodes, transpose)
        np.testing.assert_allclose(x.T[free.ravel()], expected[:, 2:], rtol=1e-3, atol=1e-3)
    for kernel in (_solve_up, _solve_down):
        single = [s for s in kernel.signatures if str(s[0].dtype) == "float32"]
        assert {s[-1] == numba.types.none for s in single} == {True, False}, (kernel.__name__, single)


def _stack_peak(children, e_ptr, r_ptr, lo, hi, below):
    """The factorisation's update stack, simulated from the updates ``below`` (those of the
    children of ``lo`` to ``hi − 1`` that come before ``lo``): each node pops its children's
    updates (nr² numbers each) and pushes its own; its front (n²) sits on top while it is assembled."""
    stack = list(below)
    peak = sum(stack)
    for node in range(lo, hi):
        n = (e_ptr[node + 1] - e_ptr[node]) + (r_ptr[node + 1] - r_ptr[node])
        peak = max(peak, sum(stack) + n * n)
        for child in children[node]:
            if child >= 0:
                stack.remove((r_ptr[child + 1] - r_ptr[child]) ** 2)
        stack.append((r_ptr[node + 1] - r_ptr[node]) ** 2)
    return peak


def test_the_workspace_holds_the_update_stack_at_its_fullest():
    from varcolor.solvers.dissection import Dissection
    from varcolor.solvers.multifrontal import _workspace

    rng = np.random.default_rng(2)
    for _ in range(40):
        shape = tuple(int(v) for v in rng.integers(2, 60, 2))
        tree = Dissection(shape, rng.random(shape) < rng.uniform(0.3, 1.0), int(rng.integers(2, 40)))
        count = len(tree.parent)
        # The whole tree; and the root alone on its subtrees' updates (as two threads leave them).
        below = [int(tree.r_ptr[c + 1] - tree.r_ptr[c]) ** 2 for c in tree.children[-1] if c >= 0]
        for lo, updates in ((0, []), (count - 1, below)):
            expected = _stack_peak(tree.children, tree.e_ptr, tree.r_ptr, lo, count, updates)
            assert _workspace(tree.children, tree.e_ptr, tree.r_ptr, lo, count, sum(updates)) == expected


def test_diagonal_only_rows_are_those_with_no_other_nonzero_entry():
    rng = np.random.default_rng(1)
    stencil = np.where(rng.random((9, 11, 9)) < 0.3, rng.normal(size=(9, 11, 9)), 0.0)
    stencil[0, :4] = 0.0
    stencil[0, :4, 4] = (1.0, 0.0, np.nan, -2.0)
    stencil[1, 0] = [0, 0, 0, 1e-320, 3.0, 0, 0, 0, 0]  # a subnormal neighbour still counts
    stencil[1, 1] = [0, 0, 0, 0, 3.0, 0, 0, np.nan, 0]
    expected = [
        stencil[i, j, 4] != 0 and all(stencil[i, j, k] == 0 for k in range(9) if k != 4)
        for i in range(9)
        for j in range(11)
    ]
    assert _diagonal_only_rows(stencil).tolist() == expected
