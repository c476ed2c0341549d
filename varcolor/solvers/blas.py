"""One BLAS thread while the direct solver calls BLAS from its own threads.

The multifrontal LU factorises the root's two subtrees on two threads of its own, each calling
LAPACK and BLAS (scipy's OpenBLAS) front by front; with OpenBLAS's default of a thread per core,
its threads and ours compete for the cores and spin between calls: a direct solve takes about
twice as long with OpenBLAS's default threads as with one (benchmarks/results/solvers_measured.md, "Timing
settings"). The limit holds only while the solver works; the
caller's own BLAS settings are restored after (threadpoolctl).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None
_lock = threading.Lock()
_inside = 0  # bodies running under the limit, in any thread
_limiter = None  # the limit they share (threadpoolctl's), restored by the last to leave


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with every loaded BLAS library limited to one thread.

    The limit is the process's (BLAS has one thread count), so the bodies of several threads
    share it: the first to enter sets it, the last to leave gives the caller's setting back.
    Each setting and restoring its own, a body that ended while another ran (the studio's tiles,
    its live copy's edit and a factorisation in the background) restored the count from before it
    while the other still solved, and the other then restored one thread for good."""
    global _controller, _inside, _limiter
    with _lock:
        if _controller is None:  # the BLAS libraries are loaded by the time a solver runs
            _controller = ThreadpoolController()
        if _inside == 0:
            _limiter = _controller.limit(limits=1, user_api="blas")
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None


def keep_one_blas_thread() -> None:
    """BLAS on one thread for the rest of this process (:func:`one_blas_thread`'s bodies then keep
    it): for varcolor's own long-lived processes, the Krita Live worker and the studio's server,
    whose work is numba's kernels on every core with BLAS called between them (an edit's dense
    steps). OpenBLAS's own threads beside them took cores from the kernels: a large Live stroke was
    slower, its slowest runs most (benchmarks/results/code_notes.md). A program that calls varcolor
    keeps its own setting."""
    global _controller
    import scipy.linalg  # noqa: F401 - its BLAS loaded now, so that the limit reaches it

    with _lock:
        _controller = ThreadpoolController()  # every BLAS loaded by now
        _controller.limit(limits=1, user_api="blas")  # not restored: this process's setting
