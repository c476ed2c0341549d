"""The nested-dissection tree of a pixel grid: every unknown eliminated once, before its ring;
the ordering cuts where cues leave holes; a direct solve on it matches SciPy's."""

import numpy as np
import pytest
from scipy.sparse.linalg import spsolve

from varcolor.energies.levin import exact_operator
from varcolor.solvers import DirectSolver
from varcolor.solvers.dissection import Dissection, nested_dissection


@pytest.mark.parametrize("shape", [(1, 1), (3, 50), (61, 47)])
def test_every_unknown_is_eliminated_once_before_its_ring(shape):
    rng = np.random.default_rng(5)
    free = rng.random(shape) < 0.8
    tree = Dissection(shape, free, leaf=6)
    assert np.array_equal(np.sort(tree.e_pix), np.flatnonzero(free))
    eliminated_at = np.full(free.size, -1)
    for node in range(len(tree.e_ptr) - 1):
        eliminated_at[tree.e_pix[tree.e_ptr[node] : tree.e_ptr[node + 1]]] = node
    for node in range(len(tree.e_ptr) - 1):
        ring = tree.r_pix[tree.r_ptr[node] : tree.r_ptr[node + 1]]
        # Ring pixels are unknowns eliminated by an ancestor, which comes later in post-order.
        assert free.ravel()[ring].all() and (eliminated_at[ring] > node).all()
        for child in tree.children[node]:
            if child >= 0:
                assert child < node and tree.subtree_sizes[node] > tree.subtree_sizes[child]
    assert tree.subtree_sizes[-1] == len(tree.e_ptr) - 1  # the root's subtree is everything


@pytest.mark.parametrize("shape", [(1, 7), (2, 2), (37, 5), (64, 65), (97, 128)])
def test_nested_dissection_orders_every_pixel_and_solves_like_spsolve(shape):
    order = nested_dissection(shape, leaf=8)
    assert np.array_equal(np.sort(order), np.arange(shape[0] * shape[1]))
    if min(shape) >= 2:
        rng = np.random.default_rng(1)
        mask = rng.random(shape) < 0.05
        mask.flat[0] = True
        operator = exact_operator(rng.random(shape), mask)
        rhs = np.where(mask[..., None], rng.normal(0, 30, shape + (2,)), 0.0)
        x, _ = DirectSolver(operator).solve(rhs)
        expected = spsolve(operator.to_csr().tocsc(), rhs.reshape(-1, 2)).reshape(rhs.shape)
        np.testing.assert_allclose(x, expected, atol=1e-8)


def test_nested_dissection_cuts_through_pixels_that_are_not_unknowns():
    free = np.ones((8, 12), bool)
    free[:, 5] = False  # a column of cue pixels, one off the middle
    order = nested_dissection(free.shape, leaf=8, free=free)
    assert np.array_equal(np.sort(order), np.flatnonzero(free))  # every unknown once, nothing else
    columns = np.arange(free.size).reshape(free.shape) % 12
    # The first half eliminated is left of the cue column (a separator with nothing to eliminate);
    # without cues the middle column (6) splits the block.
    assert set(columns.ravel()[order[:40]]) == {0, 1, 2, 3, 4}
    assert set(columns.ravel()[nested_dissection(free.shape, leaf=8)[:48]]) == {0, 1, 2, 3, 4, 5}
