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
from collections.abc import Iterator

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with every loaded BLAS library limited to one thread."""
    global _controller
    if _controller is None:  # the BLAS libraries are loaded by the time a solver runs
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
