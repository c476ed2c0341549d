"""Updates corrected from the first solve's factors (low rank) against fresh global solves."""

import numpy as np
import pytest

import varcolor
import varcolor.methods.interactive
from varcolor.energies.levin import exact_operator, exact_rhs
from varcolor.methods.interactive import Updates
from varcolor.solvers import DirectSolver
from varcolor.solvers.direct import _diagonal_only_rows
from varcolor.solvers.inverse_block import InverseBlock
from varcolor.solvers.lowrank import LowRankUpdater
from varcolor.solvers.multifrontal import MultifrontalLU

from ..conftest import MAX_AB, gray_and_cues, stroke, strokes

# not a first run's array code; Levin's propagation, unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("kernels", "unrestrained")


@pytest.fixture(autouse=True)
def _correct_whatever_it_costs(monkeypatch):
    # These tests check the low-rank correction itself: on their small images a fresh solve
    # costs about as much, and the cost-based choice (tested on its own below) could take it.
    monkeypatch.setattr(Updates, "compare_with_fresh", False)


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
        outside[top : top + height, left : left + width] = False
        assert np.array_equal(after.rgb[outside], before.rgb[outside])
        assert np.abs(after.ab - before.ab).max() > 20


def test_sparse_cues_and_recoloured_strokes_update_without_refactoring():
    # Where cues are sparse a stroke changes the whole image: still one correction, no new LU.
    gray, cues = gray_and_cues("coffee", (128, 160), 12, rng=6)
    cz = varcolor.Colorizer(gray, method="levin", solver="direct")
    cz.solve(cues)
    factors = cz.engine.solver
    first = strokes(gray.shape)[0]
    again = varcolor.Cues(
        first.mask, np.where(first.mask[..., None], (-30.0, 30.0), 0.0)
    )  # the same pixels, recoloured
    for more in (first, again):
        result = cz.update(more)
        cues = cues.merged(more)
        assert result.info["update"] == "low-rank" and cz.engine.solver is factors
        assert np.abs(result.ab - _fresh(gray, cues, "levin", "lab").ab).max() <= MAX_AB
    assert result.info["held"] == first.count
    unchanged = cz.update(cues)  # nothing new: nothing moves
    assert unchanged.info["update"] == "low-rank" and np.array_equal(unchanged.ab, result.ab)


@pytest.mark.parametrize("method", ["levin", "levin-symmetric"])
def test_recoloured_first_cues_update_too_and_too_many_new_ones_do_not(method, monkeypatch):
    gray, cues = gray_and_cues("coffee", (128, 160), 1024, rng=7)
    cz = varcolor.Colorizer(gray, method=method, solver="direct")
    monkeypatch.setattr(varcolor.methods.interactive, "MAX_HELD", 5)  # the updater's limit, set at the solve
    cz.solve(cues)
    # Cues of the first solve recoloured: its right-hand side changes (for the symmetric system
    # also at their neighbours), which the correction carries too.
    recoloured = varcolor.Cues(cues.mask & (np.arange(gray.size).reshape(gray.shape) % 7 == 0), cues.ab + 15.0)
    result = cz.update(recoloured)
    cues = cues.merged(recoloured)
    assert result.info["update"] == "low-rank" and result.info["held"] == 0
    assert np.abs(result.ab - _fresh(gray, cues, method, "lab").ab).max() <= MAX_AB
    more = strokes(gray.shape)[0]
    result = cz.update(more)
    assert result.info.get("update") != "low-rank"  # 16 new pixels > MAX_HELD: a window or a global solve
    assert np.abs(result.ab - _fresh(gray, cues.merged(more), method, "lab").ab).max() <= MAX_AB


def _system(shape, density, seed):
    rng = np.random.default_rng(seed)
    guide = rng.random(shape)
    mask = rng.random(shape) < density
    values = rng.normal(0, 30, shape + (2,))
    return guide, mask, values


def _exact(guide, mask, values):
    return DirectSolver(exact_operator(guide, mask)).solve(exact_rhs(mask, values))[0]


def test_held_pixels_give_the_direct_solve_of_the_new_system():
    guide, mask, values = _system((40, 50), 0.03, 9)
    solver = DirectSolver(exact_operator(guide, mask))
    base, _ = solver.solve(exact_rhs(mask, values))
    updater = LowRankUpdater(solver, base, tiny=0.0)
    held = np.zeros(guide.shape, bool)
    held[10:14, 5:30] = True  # a thick stroke: its inner pixels need no multiplier
    held &= ~mask
    for more in ((slice(30, 33), slice(20, 40)), (slice(0, 2), slice(0, 50))):
        x, report = updater.hold(np.flatnonzero(held), values[held])
        both = mask | held
        assert np.abs(x - _exact(guide, both, values)).max() <= 1e-3 * np.abs(values).max()
        assert report["held"] == held.sum() and report["block"] < held.sum()
        assert report["nodes"] == report["nodes_total"] and report["bound"] == 0.0  # tiny=0: nothing skipped
        held[more] = True
        held &= ~mask
    assert report["correction"] == "incremental"
    # Cues of the first solve recoloured: the right-hand side changes; then back to their values.
    recoloured = np.flatnonzero(mask)[::3]
    change = np.full((len(recoloured), 2), 12.0)
    x, _ = updater.hold(np.flatnonzero(held), values[held], (recoloured, change))
    shifted = values.copy()
    shifted.reshape(-1, 2)[recoloured] += change
    assert np.abs(x - _exact(guide, mask | held, np.where(held[..., None], values, shifted))).max() <= 0.03
    x, report = updater.hold(np.flatnonzero(held), values[held])
    assert np.abs(x - _exact(guide, mask | held, values)).max() <= 0.03
    with pytest.raises(ValueError, match="unknowns"):
        updater.hold(np.flatnonzero(mask)[:3], values[mask][:3])
    with pytest.raises(ValueError, match="more than 5"):
        LowRankUpdater(solver, base, max_block=5).hold(np.flatnonzero(held), values[held])


def test_corrections_from_the_last_result_stay_within_their_bound():
    guide, mask, values = _system((64, 64), 0.01, 11)
    solver = DirectSolver(exact_operator(guide, mask))
    base, _ = solver.solve(exact_rhs(mask, values))
    updater = LowRankUpdater(solver, base, tiny=0.05, budget=0.3)
    held = np.zeros(guide.shape, bool)
    rng = np.random.default_rng(12)
    kinds = []
    for _ in range(8):
        i, j = rng.integers(0, 60, 2)
        held[i : i + 3, j : j + 4] = True
        held &= ~mask
        before = updater._x
        x, report = updater.hold(np.flatnonzero(held), values[held])
        kinds.append(report["correction"])
        assert np.abs(x - _exact(guide, mask | held, values)).max() <= report["bound"] + 1e-4
        assert report["bound"] <= 0.3
        outside = np.ones(guide.shape, bool)
        outside[report["box"]] = False
        assert np.array_equal(x[outside], before[outside])
    assert kinds[0] == "full" and "incremental" in kinds and "full" in kinds[1:]  # the budget restarts them


def _small_lu():
    """A 30×36 Levin system's factors, its unknowns, their dense inverse and 25 random unknowns."""
    rng = np.random.default_rng(10)
    guide = rng.random((30, 36))
    mask = rng.random(guide.shape) < 0.02
    mask.flat[0] = True
    operator = exact_operator(guide, mask)
    free = ~_diagonal_only_rows(operator.stencil).reshape(guide.shape)
    index = np.flatnonzero(free)
    inverse = np.linalg.inv(operator.to_csr()[index][:, index].toarray())
    pixels = index[rng.choice(len(index), 25, replace=False)]
    return MultifrontalLU(operator.stencil, free, np.float64), index, inverse, pixels, rng


@pytest.mark.slow  # 3.4 s, compiling a version of the LU's solve; make test-slow runs it
def test_blocks_of_the_inverse_against_dense_algebra():
    lu, index, inverse, pixels, rng = _small_lu()
    position = np.searchsorted(index, pixels)
    block = InverseBlock(lu)
    for part in (pixels[:10], pixels[10:11], pixels[11:]):  # grown in steps, as strokes come
        block.add(part)
    np.testing.assert_array_equal(block.pixels, pixels)
    np.testing.assert_allclose(block.block, inverse[np.ix_(position, position)], rtol=1e-9, atol=1e-12)
    for m in (2, 12):  # few right-hand sides by loops, many by BLAS
        block = InverseBlock(lu, m)
        block.add(pixels[:10])
        b = np.zeros((len(index), m))
        for sources in (index[::7], index[3::11]):  # the right-hand side changed twice, pixels added between
            values = rng.normal(0, 1, (len(sources), m))
            b[np.searchsorted(index, sources)] += values
            block.add_to_rhs(sources, values)
            block.add(pixels[len(block.pixels) : len(block.pixels) + 7])
            np.testing.assert_allclose(
                block.solution, inverse[np.searchsorted(index, block.pixels)] @ b, rtol=1e-9, atol=1e-12
            )


def test_local_solves_leave_out_only_what_is_below_tiny():
    lu, index, inverse, pixels, rng = _small_lu()
    guide_shape = (30, 36)
    position = np.searchsorted(index, pixels)
    values = rng.normal(0, 30, (25, 2))
    exact = inverse[:, position] @ values
    for tiny in (0.0, 1e-2, 1.0):
        x, solved, (top, bottom, left, right) = lu.solve_local(pixels, values, tiny)
        # Skipped subtrees are left at 0, within `tiny` of the solution (maximum principle).
        assert np.abs(x.T[index] - exact).max() <= tiny + 1e-9
        outside = np.ones(guide_shape, bool)
        outside[top:bottom, left:right] = False
        assert np.abs(x.reshape(2, *guide_shape)[:, outside]).max(initial=0) < max(tiny, 1e-300)
    # One pixel's change dies out among the cues: part of the tree is left out.
    x, solved, _ = lu.solve_local(index[:1], np.array([[30.0, -30.0]]), 0.1)
    assert np.abs(x.T[index] - inverse[:, :1] @ [[30.0, -30.0]]).max() <= 0.1 + 1e-9
    assert solved < len(lu.tree.parent)


def _without(cues, removed):
    mask = cues.mask & ~removed
    return varcolor.Cues(mask, np.where(mask[..., None], cues.ab, 0.0))


def _edits(gray, cues, rng):
    """A random sequence of whole cue sets, each one edit from the last: strokes added, undone
    (the set two steps back), moved, recoloured, and the first cues erased in a box."""
    states = [cues]
    kinds = []
    for _ in range(7):
        kind = rng.choice(["add", "undo", "move", "recolour", "erase"])
        now = states[-1]
        height, width = gray.shape
        if kind == "undo" and len(states) > 1:
            new = states[-2]
        elif kind == "erase":
            box = np.zeros(gray.shape, bool)
            i, j = rng.integers(0, height - 30), rng.integers(0, width - 30)
            box[i : i + 30, j : j + 30] = True
            new = _without(now, box)
        elif kind == "recolour":
            box = np.zeros(gray.shape, bool)
            i, j = rng.integers(0, height - 40), rng.integers(0, width - 40)
            box[i : i + 40, j : j + 40] = True
            box &= now.mask
            new = now.merged(varcolor.Cues(box, np.where(box[..., None], rng.uniform(-40, 40, 2), 0.0)))
        else:  # add, or a stroke moved: the last one removed and one added elsewhere
            i, j = rng.integers(0, height - 4), rng.integers(0, width - 25)
            more = stroke(gray.shape, slice(i, i + 3), slice(j, j + 20), tuple(rng.uniform(-40, 40, 2)))
            new = now.merged(more) if kind != "move" or len(states) < 2 else states[-2].merged(more)
        kinds.append(str(kind))
        states.append(new)
    return kinds, states[1:]


@pytest.mark.parametrize(
    "method,space,seed",
    [("levin", "lab", 0), ("levin", "lab", 1), ("levin", "lab", 2), ("levin-symmetric", "lab", 3), ("levin", "yiq", 4)],
)
def test_any_edit_given_to_solve_matches_a_fresh_direct_solve(method, space, seed):
    # Cues added, undone, moved, recoloured and erased: each new cue set corrects the first
    # solve's factors (no new LU) and lands within the updates' error budget of a fresh solve.
    gray, cues = gray_and_cues("coffee", (96, 128), 120, rng=seed)
    cz = varcolor.Colorizer(gray, method=method, space=space, solver="direct")
    cz.solve(cues)
    factors = cz.engine.solver
    kinds, states = _edits(gray, cues, np.random.default_rng(seed))
    for kind, new in zip(kinds, states):
        result = cz.solve(new)
        assert result.info["update"] == "low-rank", (kind, result.info)
        assert cz.engine.solver is factors
        assert result.info["released"] == (cues.mask & ~new.mask).sum()
        assert result.info["held"] == (new.mask & ~cues.mask).sum()
        fresh = _fresh(gray, new, method, space)
        assert np.abs(result.ab - fresh.ab).max() <= MAX_AB, kind
        assert np.abs(result.rgb - fresh.rgb).max() <= 1e-3
        assert cz.cues is new
        if method == "levin":  # refined with the new system's residual to the direct solve's tolerance
            assert result.info["residual"] <= 1e-8
            assert np.abs(result.ab - fresh.ab).max() <= 1e-4, kind
        else:
            assert result.info["residual"] is None


def test_removing_all_but_one_cue_is_refined_to_the_exact_answer():
    # Two cues, one removed: one colour, the answer everywhere with no solve (a correction of the
    # factors would be nearly singular: one cue holds the whole image).
    gray, cues = gray_and_cues("coffee", (64, 80), 2, rng=3)
    one = _without(cues, np.arange(gray.size).reshape(gray.shape) == np.flatnonzero(cues.mask)[1])
    cz = varcolor.Colorizer(gray, solver="direct")
    cz.solve(cues)
    result = cz.solve(one)
    assert result.info["solver"].startswith("none") and np.abs(result.ab - one.ab[one.mask][0]).max() < 1e-9
    # Three cues, one removed: the low-rank correction, its rounding refined to the tolerance.
    gray, cues = gray_and_cues("coffee", (64, 80), 3, rng=3)
    two = _without(cues, np.arange(gray.size).reshape(gray.shape) == np.flatnonzero(cues.mask)[2])
    for tol, close in ((1e-8, 1e-4), (1e-2, MAX_AB)):
        cz = varcolor.Colorizer(gray, solver="direct", tol=tol)
        cz.solve(cues)
        result = cz.solve(two)
        assert result.info["update"] == "low-rank" and result.info["released"] == 1
        assert result.info["residual"] <= tol
        assert np.abs(result.ab - _fresh(gray, two, "levin", "lab").ab).max() <= close


def test_released_pixels_give_the_direct_solve_of_the_new_system():
    # Without leaving anything out (tiny = 0) a removed cue patch and a held stroke together give
    # the new system's exact solution, for Levin's system from the updater alone.
    from varcolor.solvers.lowrank import Released

    guide, mask, values = _system((40, 50), 0.05, 21)
    mask[15:25, 20:30] = True  # a cue patch, then erased in part
    solver = DirectSolver(exact_operator(guide, mask))
    base, _ = solver.solve(exact_rhs(mask, values))
    updater = LowRankUpdater(solver, base, tiny=0.0)
    erased = np.zeros(guide.shape, bool)
    erased[12:22, 18:27] = True
    erased &= mask
    held = np.zeros(guide.shape, bool)
    held[30:33, 5:40] = True
    held &= ~mask
    new_mask = (mask & ~erased) | held
    window = (slice(9, 25), slice(15, 30))
    operator = exact_operator(guide[window], new_mask[window])
    released = Released(np.flatnonzero(erased), window, operator.stencil, exact_rhs(new_mask[window], values[window]))
    removed = np.flatnonzero(erased)
    x, report = updater.solve(np.flatnonzero(held), values[held], (removed, -values.reshape(-1, 2)[removed]), released)
    assert np.abs(x - _exact(guide, new_mask, values)).max() <= 1e-3 * np.abs(values).max()
    assert report["released"] == erased.sum() and report["held"] == held.sum()
    not_cues = Released(np.flatnonzero(held), window, released.stencil, released.rhs)
    with pytest.raises(ValueError, match="cue pixels"):
        updater.solve(np.zeros(0, np.int64), np.zeros((0, 2)), None, not_cues)


def test_solve_says_why_it_solved_afresh(monkeypatch):
    gray, cues = gray_and_cues("coffee", (96, 128), 200, rng=9)
    cz = varcolor.Colorizer(gray, solver="direct")
    assert "full_solve" not in cz.solve(cues).info  # nothing to reuse yet
    monkeypatch.setattr(varcolor.methods.interactive, "MAX_HELD", 5)  # the updater's limit, set at the solve
    cz = varcolor.Colorizer(gray, solver="direct")
    cz.solve(cues)
    big = stroke(gray.shape, slice(40, 44), slice(10, 60), (30.0, -20.0))
    result = cz.solve(cues.merged(big))
    assert result.info["update"] == "full" and "too large" in result.info["full_solve"]
    assert np.abs(result.ab - _fresh(gray, cues.merged(big), "levin", "lab").ab).max() <= 1e-6
    cz.solve(cues, reuse=False)
    erased = cz.solve(_without(cues, np.arange(gray.size).reshape(gray.shape) % 2 == 0))  # many cues removed
    assert erased.info["update"] == "full" and "too large" in erased.info["full_solve"]
    again = cz.solve(cues.merged(big), reuse=False)
    assert "update" not in again.info and "full_solve" not in again.info
    amg = varcolor.Colorizer(gray, solver="amg")
    amg.solve(cues)
    assert "no factors" in amg.solve(cues.merged(big)).info["full_solve"]


def test_an_edit_predicted_to_cost_more_than_a_fresh_solve_is_solved_afresh_and_says_why(monkeypatch):
    # Thin strokes over the whole width: ~1,800 held pixels coupled to unknowns, whose block of
    # the inverse is ~30 times a factorisation's work here; a short stroke after it is cheap.
    monkeypatch.setattr(Updates, "compare_with_fresh", True)
    gray, cues = gray_and_cues("coffee", (160, 200), 12, rng=6)
    cz = varcolor.Colorizer(gray, method="levin", solver="direct")
    cz.solve(cues)
    lines = cues
    for row in range(20, 140, 20):
        lines = lines.merged(stroke(gray.shape, slice(row, row + 2), slice(10, 160), (30.0, -20.0)))
    factors = cz.engine.solver
    afresh = cz.solve(lines)
    assert afresh.info["update"] == "full" and cz.engine.solver is not factors
    assert "predicted" in afresh.info["full_solve"] and "fresh solve" in afresh.info["full_solve"]
    assert np.array_equal(afresh.ab, _fresh(gray, lines, "levin", "lab").ab)
    more = lines.merged(stroke(gray.shape, slice(150, 153), slice(50, 70), (-10.0, 40.0)))
    corrected = cz.solve(more)  # from the new factors: one small stroke
    assert corrected.info["update"] == "low-rank" and corrected.info["held"] == 60
    assert corrected.info["predicted_seconds"] <= corrected.info["fresh_seconds"]
    assert "predicted" in corrected.info["why"]
    assert np.abs(corrected.ab - _fresh(gray, more, "levin", "lab").ab).max() <= MAX_AB


def test_the_block_cost_counts_the_forward_passes_and_products_of_one_path():
    # One pixel into an empty block: two forward passes over its path's fronts and one product
    # per node (its own entry): 2 Σ (ne² + 2 ne nr) + 2 Σ ne, by hand from the tree.
    s = np.zeros((24, 30, 9))
    s[..., 4] = 8.0
    s[..., [0, 1, 2, 3, 5, 6, 7, 8]] = -0.9
    lu = MultifrontalLU(s, np.ones((24, 30), bool), np.float64, leaf=8)
    t = lu.tree
    pixel = np.array([7 * 30 + 11])
    nodes = t.paths(pixel)
    ne, nr = np.diff(t.e_ptr)[nodes], np.diff(t.r_ptr)[nodes]
    expected = 2 * np.sum(ne * ne + 2 * ne * nr) + 2 * np.sum(ne)
    block = InverseBlock(lu)
    assert block.cost(pixel) == expected
    block.add(pixel)
    # A second pixel sharing the path's upper nodes also pays the products with the kept one.
    other = np.array([7 * 30 + 12])
    both = t.paths(np.concatenate([pixel, other]))
    shared = np.intersect1d(t.paths(other), nodes)
    ne2, nr2 = np.diff(t.e_ptr)[t.paths(other)], np.diff(t.r_ptr)[t.paths(other)]
    expected = 2 * np.sum(ne2 * ne2 + 2 * ne2 * nr2) + 2 * np.sum(ne2) + 4 * np.sum(np.diff(t.e_ptr)[shared])
    assert len(both) >= len(nodes) and block.cost(other) == expected
