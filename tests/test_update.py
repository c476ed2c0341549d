"""Updates corrected from the first solve's factors (low rank) against fresh global solves."""

import numpy as np
import pytest

import varcolor
import varcolor.api
from varcolor.energies.levin import exact_operator, exact_rhs
from varcolor.solvers import DirectSolver
from varcolor.solvers.direct import _diagonal_only_rows
from varcolor.solvers.multifrontal import MultifrontalLU

from .test_window import MAX_AB, gray_and_cues, stroke, strokes


def _fresh(gray, cues, method, space):
    return varcolor.colorize(gray, cues, method=method, space=space, solver="direct")


@pytest.mark.parametrize("method,space", [("levin", "lab"), ("levin-symmetric", "lab"), ("levin", "yiq")])
def test_low_rank_updates_match_fresh_solves(method, space):
    gray, cues = gray_and_cues("astronaut", (192, 224), 860, rng=5)
    cz = varcolor.Colorizer(gray, method=method, space=space, solver="direct")
    after = cz.solve(cues)
    first = cues.mask
    # The third stroke also recolours two of the first cues.
    for more in (*strokes(gray.shape), stroke(gray.shape, slice(100, 103), slice(150, 170), (-10.0, -45.0))):
        before, after = after, cz.update(more)
        cues = cues.merged(more)
        fresh = _fresh(gray, cues, method, space)
        assert after.info["update"] == "low-rank" and after.info["held"] == (cues.mask & ~first).sum()
        assert np.abs(after.ab - fresh.ab).max() <= MAX_AB
        assert np.abs(after.rgb - fresh.rgb).max() <= 1e-3
        top, left, height, width = after.info["window"]
        outside = np.ones(gray.shape, bool)
        outside[top: top + height, left: left + width] = False
        assert np.array_equal(after.rgb[outside], before.rgb[outside])
        assert np.abs(after.ab - before.ab).max() > 20


def test_sparse_cues_and_recoloured_strokes_update_without_refactoring():
    # Where cues are sparse a stroke changes the whole image: still one correction, no new LU.
    gray, cues = gray_and_cues("coffee", (128, 160), 12, rng=6)
    cz = varcolor.Colorizer(gray, solver="direct")
    cz.solve(cues)
    factors = cz._solver
    first = strokes(gray.shape)[0]
    again = varcolor.Cues(first.mask, np.where(first.mask[..., None], (-30.0, 30.0), 0.0))  # the same pixels, recoloured
    for more in (first, again):
        result = cz.update(more)
        cues = cues.merged(more)
        assert result.info["update"] == "low-rank" and cz._solver is factors
        assert np.abs(result.ab - _fresh(gray, cues, "levin", "lab").ab).max() <= MAX_AB
    assert result.info["held"] == first.count
    unchanged = cz.update(cues)  # nothing new: nothing moves
    assert unchanged.info["update"] == "low-rank" and np.array_equal(unchanged.ab, result.ab)


@pytest.mark.parametrize("method", ["levin", "levin-symmetric"])
def test_recoloured_first_cues_update_too_and_too_many_new_ones_do_not(method, monkeypatch):
    gray, cues = gray_and_cues("coffee", (128, 160), 1024, rng=7)
    cz = varcolor.Colorizer(gray, method=method, solver="direct")
    cz.solve(cues)
    # Cues of the first solve recoloured: its right-hand side changes (for the symmetric system
    # also at their neighbours), which the correction carries too.
    recoloured = varcolor.Cues(cues.mask & (np.arange(gray.size).reshape(gray.shape) % 7 == 0), cues.ab + 15.0)
    result = cz.update(recoloured)
    cues = cues.merged(recoloured)
    assert result.info["update"] == "low-rank" and result.info["held"] == 0
    assert np.abs(result.ab - _fresh(gray, cues, method, "lab").ab).max() <= MAX_AB
    monkeypatch.setattr(varcolor.api, "MAX_HELD", 5)
    more = strokes(gray.shape)[0]
    result = cz.update(more)
    assert result.info.get("update") != "low-rank"  # 16 new pixels > MAX_HELD: a window or a global solve
    assert np.abs(result.ab - _fresh(gray, cues.merged(more), method, "lab").ab).max() <= MAX_AB


def test_with_held_is_the_direct_solve_of_the_new_system():
    rng = np.random.default_rng(9)
    guide = rng.random((40, 50))
    mask = rng.random(guide.shape) < 0.03
    values = rng.normal(0, 30, guide.shape + (2,))
    solver = DirectSolver(exact_operator(guide, mask))
    base, _ = solver.solve(exact_rhs(mask, values))
    held = np.zeros(guide.shape, bool)
    held[10:12, 5:30] = True
    held &= ~mask
    x, report = solver.with_held(base, np.flatnonzero(held), values[held], tiny=0.0)
    both = mask | held
    expected, _ = DirectSolver(exact_operator(guide, both)).solve(exact_rhs(both, values))
    assert np.abs(x - expected).max() <= 1e-3 * np.abs(expected).max()
    assert report["held"] == held.sum() and report["nodes"] == report["nodes_total"]  # tiny=0: nothing skipped
    assert report["box"] == (slice(0, 40), slice(0, 50))
    # Holding more pixels later, from the first call's block: only the new rows and columns solved.
    more = held.copy()
    more[30:33, 20:40] = True
    more &= ~mask
    first, _ = solver.with_held(base, np.flatnonzero(held), values[held], tiny=0.0)
    reused, _ = solver.with_held(base, np.flatnonzero(more), values[more], tiny=0.0, known=report["block"])
    fresh, _ = solver.with_held(base, np.flatnonzero(more), values[more], tiny=0.0)
    assert np.abs(reused - fresh).max() <= 1e-4 * np.abs(fresh).max()
    assert np.abs(reused - first).max() > 1.0
    with pytest.raises(ValueError, match="unknowns"):
        solver.with_held(base, np.flatnonzero(mask)[:3], values[mask][:3])


def test_solves_at_pixels_and_local_solves_against_dense_algebra():
    rng = np.random.default_rng(10)
    guide = rng.random((30, 36))
    mask = rng.random(guide.shape) < 0.02
    mask.flat[0] = True
    operator = exact_operator(guide, mask)
    free = ~_diagonal_only_rows(operator.stencil).reshape(guide.shape)
    index = np.flatnonzero(free)
    inverse = np.linalg.inv(operator.to_csr()[index][:, index].toarray())
    lu = MultifrontalLU(operator.stencil, free, np.float64)
    pixels = index[rng.choice(len(index), 25, replace=False)]
    position = np.searchsorted(index, pixels)
    np.testing.assert_allclose(lu.solve_at(pixels, np.eye(25), pixels), inverse[np.ix_(position, position)],
                               rtol=1e-9, atol=1e-12)
    at = index[::7]
    values = rng.normal(0, 1, (25, 3))
    np.testing.assert_allclose(lu.solve_at(pixels, values, at), inverse[np.searchsorted(index, at)][:, position] @ values,
                               rtol=1e-9, atol=1e-12)
    for m in (3, 12):  # few right-hand sides by loops, many by BLAS, transposed or not
        values = rng.normal(0, 1, (25, m))
        np.testing.assert_allclose(lu.solve_at(pixels, values, at, transpose=True),
                                   inverse.T[np.searchsorted(index, at)][:, position] @ values, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(lu.solve_at(pixels, values, at), inverse[np.searchsorted(index, at)][:, position] @ values,
                                   rtol=1e-9, atol=1e-12)
    values = rng.normal(0, 30, (25, 2))
    exact = inverse[:, position] @ values
    for tiny in (0.0, 1e-2, 1.0):
        x, solved, (top, bottom, left, right) = lu.solve_local(pixels, values, tiny)
        # Skipped subtrees are left at 0, within `tiny` of the solution (maximum principle).
        assert np.abs(x.T[index] - exact).max() <= tiny + 1e-9
        outside = np.ones(guide.shape, bool)
        outside[top:bottom, left:right] = False
        assert np.abs(x.reshape(2, *guide.shape)[:, outside]).max(initial=0) < max(tiny, 1e-300)
    # One pixel's change dies out among the cues: part of the tree is left out.
    x, solved, _ = lu.solve_local(index[:1], np.array([[30.0, -30.0]]), 0.1)
    assert np.abs(x.T[index] - inverse[:, :1] @ [[30.0, -30.0]]).max() <= 0.1 + 1e-9
    assert solved < len(lu.tree.parent)
