"""varcolor.solvers.blas: one BLAS thread while a solver works, the caller's setting given back,
however the solvers of several threads overlap."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import scipy.linalg  # noqa: F401 - loads scipy's BLAS
from threadpoolctl import threadpool_info, threadpool_limits

from varcolor.solvers import blas
from varcolor.solvers.blas import one_blas_thread


class _Controller:
    """threadpoolctl's controller as the limit sees it: the count each limit set, and restored."""

    def __init__(self):
        self.threads, self.calls = 4, []

    def limit(self, limits, user_api):
        controller, before = self, self.threads
        self.threads = limits
        self.calls.append(("set", limits))

        class Limiter:
            def restore_original_limits(self):
                controller.threads = before
                controller.calls.append(("restored", before))

        return Limiter()


def test_overlapping_bodies_keep_one_thread_and_give_the_callers_setting_back(monkeypatch):
    """Two threads' bodies overlap, the first leaving while the second still runs: the second keeps
    one BLAS thread to its end, and the caller's count comes back once both have left. (Each
    setting and restoring its own, the first's exit gave the second the caller's count mid-solve,
    and the second's then restored one thread for good.)"""
    controller = _Controller()
    monkeypatch.setattr(blas, "_controller", controller)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with one_blas_thread():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second():
        first_in.wait(10)
        with one_blas_thread():
            second_in.set()
            first_out.wait(10)
            seen["second, after the first left"] = controller.threads

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert seen["second, after the first left"] == 1
    assert controller.threads == 4 and controller.calls == [("set", 1), ("restored", 4)]
    with one_blas_thread():  # again, alone: set and given back
        assert controller.threads == 1
    assert controller.threads == 4


def test_a_body_runs_with_one_blas_thread():
    """On the real libraries: one thread inside, the count before given back after."""

    def counts():
        return [found["num_threads"] for found in threadpool_info() if found["user_api"] == "blas"]

    # Two threads before (the test processes run one: conftest.py), so that one inside is seen.
    with threadpool_limits(limits=2, user_api="blas"):
        before = counts()
        with one_blas_thread():
            assert set(counts()) <= {1}
        assert counts() == before
    assert 2 in before  # NumPy's own BLAS at least


def test_a_process_of_its_own_keeps_one_blas_thread():
    """The Krita worker's and the studio's setting: one BLAS thread from then on, which the
    solvers' bodies keep after them (run in a child process: the setting is the process's)."""
    code = (
        "from threadpoolctl import threadpool_info, threadpool_limits\n"
        "from varcolor.solvers.blas import keep_one_blas_thread, one_blas_thread\n"
        "def counts(): return {f['num_threads'] for f in threadpool_info() if f['user_api'] == 'blas'}\n"
        "keep_one_blas_thread()\n"
        "with one_blas_thread(): pass\n"
        "assert counts() == {1}, counts()\n"
        "print('ok')\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "2"},
    )
    assert ran.returncode == 0 and ran.stdout.strip() == "ok", ran.stderr
