"""Process pools for the benchmarks: one image per process and, with several processes, one thread each."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor


def _one_thread() -> None:
    # Each process already keeps a core busy; numba's threads in several processes at once only
    # contend (measured: bilaplacian-gtv's many short parallel kernels ran 4× slower).
    import numba

    numba.set_num_threads(1)


def pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes (at least 1); single-threaded numba when there are several."""
    workers = max(1, workers)
    return ProcessPoolExecutor(max_workers=workers, initializer=_one_thread if workers > 1 else None)
