"""varcolor.kernels: small problems run numba's kernels on one thread (a parallel region waits a
scheduler time slice for a busy core: a 40×60 solve took 80 s at load 5), big ones on every thread."""

import numba
import numpy as np

import varcolor
from varcolor.kernels import PARALLEL_PIXELS, threads_for


def test_threads_for_a_small_problem_is_one_and_restored_after():
    before = numba.get_num_threads()
    with threads_for(PARALLEL_PIXELS - 1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with threads_for(PARALLEL_PIXELS):
        assert numba.get_num_threads() == before


def test_a_colorizer_solves_a_small_image_on_one_thread_with_the_same_result(monkeypatch):
    gray = np.tile(np.linspace(0.2, 0.8, 48), (32, 1))
    cues = varcolor.Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 10}], gray.shape)
    seen = []
    colorizer = varcolor.Colorizer(gray, method="bilaplacian-gtv")
    solve = colorizer.engine.solve
    monkeypatch.setattr(colorizer.engine, "solve", lambda *a: seen.append(numba.get_num_threads()) or solve(*a))
    one = colorizer.solve(cues)
    assert seen == [1] and numba.get_num_threads() >= 1
    monkeypatch.setattr("varcolor.kernels.PARALLEL_PIXELS", 0)  # every problem on every thread
    many = varcolor.Colorizer(gray, method="bilaplacian-gtv").solve(cues)
    np.testing.assert_allclose(one.ab, many.ab, atol=1e-6)
