"""Levin et al.'s energy (varcolor.energies.levin): the exact system's rows, its row-scaled
operator's solution."""

import numpy as np
from scipy.sparse.linalg import spsolve

from varcolor.energies.levin import exact_operator, exact_system


def test_system_rows():
    guide = np.random.default_rng(3).random((6, 7))
    mask = np.zeros((6, 7), bool)
    mask[2, 3] = True
    A = exact_system(guide, mask).toarray()
    assert np.allclose(A.sum(axis=1)[~mask.ravel()], 0)  # weights of each unmarked row sum to 1
    assert np.allclose(A[2 * 7 + 3], np.eye(42)[2 * 7 + 3])  # marked rows fix the cue
    assert np.all(np.diag(A) == 1)
    # Only the 8 neighbours are coupled: corner rows have 3, edge rows 5, interior rows 8.
    offdiag = (A != 0).sum(axis=1) - 1
    assert offdiag[0] == 3 and offdiag[1] == 5 and offdiag[8] == 8


def test_row_scaled_operator_has_the_same_solution():
    guide = np.random.default_rng(4).random((9, 11))
    mask = np.random.default_rng(5).random((9, 11)) < 0.1
    rhs = np.where(mask, 3.0, 0.0).ravel()
    plain = spsolve(exact_operator(guide, mask).to_csr().tocsc(), rhs)
    scaled = exact_operator(guide, mask, row_scaled=True).to_csr()
    assert np.allclose(spsolve(scaled.tocsc(), rhs), plain)
    assert scaled.diagonal().max() > 1  # rows really were rescaled
