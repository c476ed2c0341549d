"""One BLAS thread while the direct solver works: the limit shared by threads inside it at once."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from varcolor.solvers.blas import one_blas_thread


def _blas_threads() -> list[int]:
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_the_limit_holds_until_the_last_thread_inside_leaves():
    """Two threads overlap inside (a levin-multiscale edit beside its coarse grid's factorisation
    in a thread): the first to leave does not give the second its BLAS threads back in the
    middle of its solve, and the last restores what was there before, not the limit."""
    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # BLAS loaded
    before = _blas_threads()
    if set(before) == {1}:
        pytest.skip("BLAS runs one thread here already: the limit changes nothing to see")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with one_blas_thread():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with one_blas_thread():
        second_in.set()
        first_out.wait(10)
        seen["inside"] = _blas_threads()
    thread.join()
    assert set(seen["inside"]) == {1}
    assert _blas_threads() == before
