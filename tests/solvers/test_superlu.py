"""varcolor.solvers.superlu: a small system's LU by SuperLU on a nested-dissection order, the
direct solver's factors up to kernels.small_system's size; the multifrontal LU made when a
low-rank edit first asks for it."""

import numpy as np
import pytest
from scipy.sparse.linalg import spsolve

from varcolor.energies.levin import exact_operator
from varcolor.errors import InputError
from varcolor.solvers import DirectSolver
from varcolor.solvers.direct import DirichletSolver
from varcolor.solvers.multifrontal import MultifrontalLU
from varcolor.solvers.stencil import GridOperator
from varcolor.solvers.superlu import SuperLUFactors, dissection_order

from ..conftest import gray_and_cues


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (7, 11), (40, 63)])
def test_the_dissection_order_holds_each_free_pixel_once_and_ends_with_a_separator(shape):
    rng = np.random.default_rng(sum(shape))
    free = rng.random(shape) < 0.8
    order = dissection_order(free, leaf=4)
    assert sorted(order.tolist()) == np.flatnonzero(free).tolist()
    if free.sum() > 4 and min(shape) > 2:
        # The last pixels split the box: a line of one row or one column.
        rows, columns = np.divmod(order[-3:], shape[1])
        assert len(set(rows.tolist())) == 1 or len(set(columns.tolist())) == 1


def test_superlu_solves_the_free_block_as_scipy_does_and_leaves_the_other_rows():
    rng = np.random.default_rng(1)
    guide = rng.random((30, 41))
    mask = rng.random(guide.shape) < 0.05
    operator = exact_operator(guide, mask)
    free = ~mask
    b = rng.random((guide.size, 2))
    x = SuperLUFactors(operator.stencil, free).solve(b)
    rows = np.flatnonzero(free)
    block = operator.to_csr()[rows][:, rows].tocsc()
    np.testing.assert_allclose(x[rows], spsolve(block, b[rows]), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(x[~free.ravel()], b[~free.ravel()])
    xt = SuperLUFactors(operator.stencil, free).solve(b, transpose=True)
    np.testing.assert_allclose(xt[rows], spsolve(block.T.tocsc(), b[rows]), rtol=1e-10, atol=1e-12)


def test_a_small_direct_solve_is_superlus_and_agrees_with_the_multifrontal_lu(monkeypatch):
    gray, cues = gray_and_cues("astronaut", (64, 96), 40, np.random.default_rng(2))
    operator = exact_operator(gray, cues.mask)
    rhs = np.where(cues.mask[..., None], cues.ab, 0.0)
    small = DirectSolver(operator)
    assert isinstance(small._lu, SuperLUFactors)
    x, info = small.solve(rhs)
    monkeypatch.setattr("varcolor.common.kernels.ARRAY_CODE_PIXELS", 0)
    big = DirectSolver(operator)
    assert isinstance(big._lu, MultifrontalLU)
    y, _ = big.solve(rhs)
    assert info.residual <= 1e-8
    np.testing.assert_allclose(x, y, atol=1e-7)
    # Low-rank edits read the multifrontal LU: made once, when first asked for.
    assert isinstance(small.multifrontal(), MultifrontalLU) and small.multifrontal() is small.multifrontal()
    assert big.multifrontal() is big._lu


def test_a_dirichlet_tile_by_superlu_is_the_multifrontal_one(monkeypatch):
    rng = np.random.default_rng(3)
    guide = rng.random((30, 40))
    free = np.zeros(guide.shape, bool)
    free[8:20, 5:33] = True
    operator = exact_operator(guide, np.zeros(guide.shape, bool), rows=np.flatnonzero(free))
    known = rng.random(guide.shape + (2,)) * 50
    rhs = np.zeros((free.sum(), 2))
    x, _ = DirichletSolver(operator, free).solve(rhs, known)
    monkeypatch.setattr("varcolor.common.kernels.ARRAY_CODE_PIXELS", 0)
    y, _ = DirichletSolver(operator, free).solve(rhs, known)
    np.testing.assert_allclose(x, y, atol=1e-6)


def test_a_singular_small_system_is_one_line():
    stencil = np.zeros((3, 4, 9))  # no row holds anything: every pivot is zero
    stencil[0, 0, 4] = 1.0
    with pytest.raises(InputError, match="singular"):
        DirectSolver(GridOperator(stencil))
