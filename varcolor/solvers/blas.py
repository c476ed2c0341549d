"""One BLAS thread while the direct solver calls BLAS from its own threads.

The multifrontal LU factorises the root's two subtrees on two threads of its own, each calling
LAPACK and BLAS (scipy's OpenBLAS) front by front; with OpenBLAS's default of a thread per core,
its threads and ours compete for the cores and spin between calls: a direct solve takes about
twice as long with OpenBLAS's default threads as with one (benchmarks/results/solvers_measured.md, "Timing
settings"). The limit holds only while the solver works; the
caller's own BLAS settings are restored after (threadpoolctl), when the last of the threads
inside it leaves (a levin-multiscale edit solves while its coarse grid is factored in a thread).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None
_lock = threading.Lock()
_inside = 0  # threads inside one_blas_thread now
_limit = None  # the limit they share, undone by the last to leave


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with every loaded BLAS library limited to one thread. The limit is the
    process's: threads inside this at once share one, and the settings from before come back
    when the last leaves (each undoing its own would let one restore the default under another,
    or leave the limit set for good)."""
    global _controller, _inside, _limit
    with _lock:
        if _controller is None:  # the BLAS libraries are loaded by the time a solver runs
            _controller = ThreadpoolController()
        if _inside == 0:
            _limit = _controller.limit(limits=1, user_api="blas")
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                _limit.restore_original_limits()
                _limit = None
