"""One BLAS thread while the direct solver calls BLAS from its own threads."""

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
    """Run the body with every loaded BLAS library limited to one thread."""
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
    """BLAS on one thread for the rest of this process (:func:`one_blas_thread`'s bodies then keep it): for
    varcolor's own long-lived processes, the Krita Live worker and the studio's server.
    """
    global _controller
    import scipy.linalg  # noqa: F401 - its BLAS loaded now, so that the limit reaches it

    with _lock:
        _controller = ThreadpoolController()  # every BLAS loaded by now
        _controller.limit(limits=1, user_api="blas")  # not restored: this process's setting
