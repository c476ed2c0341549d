"""numba's threading layer is chosen by varcolor (varcolor.common.kernels), not left to numba's own order,
which takes TBB first: Debian's libtbb (installed with Krita) made processes spin in TBB's
finalizer after their work, so that ``make test`` never exited."""

import os
import subprocess
import sys
import time

import pytest

# A parallel kernel run from a second thread and then from the main one (the pattern of numba
# issue 10556, and of the studio: its live thread solves), then the layer numba took.
SCRIPT = """
import threading
import numpy as np
import varcolor.common.kernels
import numba

@numba.njit(parallel=True)
def total(values):
    found = 0.0
    for i in numba.prange(values.size):
        found += values[i]
    return found

thread = threading.Thread(target=total, args=(np.ones(100_000),))
thread.start()
thread.join()
assert total(np.ones(100_000)) == 100_000
print(numba.threading_layer(), flush=True)
"""


def _run(environ: dict) -> tuple[str, float]:
    """The layer the script reports and the seconds from its report to the process's end."""
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline().strip()
        said = time.perf_counter()
        process.wait(timeout=60)
        return line, time.perf_counter() - said
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _environ(**extra: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING_LAYER")}
    return {**environ, **extra}


@pytest.mark.skipif(sys.platform != "linux", reason="numba's OpenMP layer is always there on Linux")
@pytest.mark.slow
def test_a_process_running_the_kernels_takes_openmp_and_exits_at_once():
    layer, exit_seconds = _run(_environ())
    assert layer == "omp"
    assert exit_seconds < 5


@pytest.mark.slow
def test_the_users_own_choice_of_layer_is_kept():
    layer, exit_seconds = _run(_environ(NUMBA_THREADING_LAYER="workqueue"))
    assert layer == "workqueue"
    assert exit_seconds < 5
