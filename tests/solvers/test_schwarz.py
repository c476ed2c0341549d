"""The correction's sweep (:mod:`varcolor.solvers.schwarz`): its tiles cover the image in raster
order, and its solves gathered into waves give the answer of the solves one after another
(checked on a random nine-point system, against that sweep itself)."""

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

from varcolor.solvers.schwarz import sweep_tiles, sweep_waves, tile_overlap
from varcolor.solvers.stencil import STENCIL_OFFSETS


@pytest.mark.parametrize("shape,side,margin", [((300, 450), 256, 8), ((620, 700), 256, 16), ((37, 50), 12, 2)])
def test_the_tiles_cover_the_image_once_each_in_raster_order(shape, side, margin):
    listed = list(sweep_tiles(shape, side, margin))
    keys = [key for key, _ in listed]
    assert sorted(keys) == [(top, left) for top in range(0, shape[0], side) for left in range(0, shape[1], side)]
    covered = np.zeros(shape, int)
    for (top, left), window in listed:
        covered[top : top + side, left : left + side] += 1
        assert window[0].start == max(top - tile_overlap(margin), 0)
        assert window[1].stop == min(left + side + tile_overlap(margin), shape[1])
    assert (covered == 1).all() and keys == sorted(keys)


def sweep_batches(units, shape):
    """Each wave's unknowns (:func:`sweep_waves`), sorted: the systems a device solves."""
    waves = sweep_waves(units, shape)
    return [
        np.sort(np.concatenate([units[k] for k in np.flatnonzero(waves == w)]))
        for w in range(waves.max(initial=-1) + 1)
    ]


def nine_point_system(shape, seed):
    """A random diagonally dominant nine-point system on an ``H×W`` grid (as Levin's rows are)."""
    rng = np.random.default_rng(seed)
    height, width = shape
    count = height * width
    rows, columns, values = [], [], []
    index = np.arange(count).reshape(shape)
    for dy, dx in STENCIL_OFFSETS:
        if dy == 0 and dx == 0:
            continue
        source = index[max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)]
        target = index[max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)]
        rows.append(source.ravel())
        columns.append(target.ravel())
        values.append(-rng.random(source.size))
    off = scipy.sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=(count, count)
    )
    return (off + scipy.sparse.diags(1.0 - off.sum(axis=1).A1)).tocsr()


def solve_on(matrix, x, unknowns, rhs):
    """``x`` with ``unknowns`` solved, every other entry held."""
    held = np.setdiff1d(np.arange(matrix.shape[0]), unknowns)
    right = rhs[unknowns] - matrix[unknowns][:, held] @ x[held]
    x = x.copy()
    x[unknowns] = scipy.sparse.linalg.spsolve(matrix[unknowns][:, unknowns].tocsc(), right)
    return x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_systems_give_the_answer_of_the_solves_one_after_another(seed):
    shape, side, margin = (40, 52), 12, 2
    matrix = nine_point_system(shape, seed)
    rng = np.random.default_rng(seed)
    start, rhs = rng.random(matrix.shape[0]), rng.random(matrix.shape[0])
    band = rng.random(shape) < 0.9
    units = []
    for _, window in sweep_tiles(shape, side, margin):
        rows, columns = np.nonzero(band[window])
        units.append((rows + window[0].start) * shape[1] + columns + window[1].start)
    one_after_another = start
    for unit in units:
        if unit.size:
            one_after_another = solve_on(matrix, one_after_another, unit, rhs)
    systems = sweep_batches(units, shape)
    assert len(systems) == 5 + 2 * 3 < sum(unit.size > 0 for unit in units)  # a wave a column, two a row
    gathered = start
    for system in systems:
        gathered = solve_on(matrix, gathered, system, rhs)
    assert np.abs(gathered - one_after_another).max() <= 1e-10
    # all in one system (the band's exact solution) is not the sweep's answer: the check can fail
    whole = solve_on(matrix, start, np.unique(np.concatenate(units)), rhs)
    assert np.abs(whole - one_after_another).max() > 1e-6


def test_a_unit_goes_one_wave_after_the_last_unit_it_touches():
    shape = (6, 6)
    a, b, c = np.array([0]), np.array([7]), np.array([35])  # b is a's diagonal neighbour; c is far
    assert [s.tolist() for s in sweep_batches([a, c, b], shape)] == [[0, 35], [7]]
    assert [s.tolist() for s in sweep_batches([a, b, c], shape)] == [[0, 35], [7]]  # c waits for none
    assert [s.tolist() for s in sweep_batches([a, np.array([], int), c], shape)] == [[0, 35]]
    assert sweep_batches([], shape) == []
