"""Threads beside the work a user waits for: pools made once per process, and a thread's priority."""

from __future__ import annotations

import atexit
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["Worker", "lowest_priority", "shared_pool", "usable_cores", "IDLE_PRIORITY_VARIABLE"]

#: Set to ``0``, :func:`lowest_priority` leaves threads at their process's priority (for a machine
#: whose every core is kept busy by other work, such as a test run).
IDLE_PRIORITY_VARIABLE = "VARCOLOR_IDLE_PRIORITY"

_POOLS: dict[tuple[int, str], ThreadPoolExecutor] = {}
_LOCK = threading.Lock()


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system keeps one, else all.

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def shared_pool(
    name: str, workers: int, initializer: Callable[..., object] | None = None, initargs: tuple = ()
) -> ThreadPoolExecutor:
    """The pool called ``name`` of this process: ``workers`` threads named ``varcolor-<name>``, each started
    by ``initializer(*initargs)``, made at the first call."""
    key = (os.getpid(), name)
    with _LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            for other in [k for k in _POOLS if k[0] != key[0]]:  # a parent's, before a fork: not ours
                del _POOLS[other]
            pool = _POOLS[key] = ThreadPoolExecutor(
                workers, thread_name_prefix=f"varcolor-{name}", initializer=initializer, initargs=initargs
            )
        return pool


_STOP = object()  # a worker's last job: its thread ends
#: Seconds a process at exit waits for a :class:`Worker`'s job under way.
EXIT_WAIT = 10.0


class Worker:
    """One long-lived daemon thread named ``varcolor-<name>`` that runs what it is given, in turn: made at
    the first :meth:`submit` (again in a forked child, which has none of its parent's threads)."""

    def __init__(self, name: str) -> None:
        self.name = f"varcolor-{name}"
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._closing = threading.Event()

    def submit(self, job: Callable[[], object]) -> Future:
        """Run ``job()`` on the thread, after what was given before: its future."""
        future: Future = Future()
        with self._lock:
            if self._pid != os.getpid():  # a forked child: its parent's queued jobs are not its own
                self._queue, self._thread, self._pid = queue.SimpleQueue(), None, os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, args=(self._queue, self._closing), name=self.name, daemon=True
                )
                self._thread.start()
                atexit.register(self.close)
        self._queue.put((job, future))
        return future

    def post(self, job: Callable[[], object]) -> None:
        """Run ``job()`` on the thread if it is running, its result and errors dropped: re-entrant,
        for a ``__del__`` or the collector's callbacks."""
        self._queue.put((job, None))

    def close(self, wait: float | None = None) -> None:
        """End the thread: the job under way finishes (waited for up to ``wait`` seconds, default
        :data:`EXIT_WAIT`), those queued are cancelled. A later :meth:`submit` starts it again."""
        with self._lock:
            thread, jobs, closing = self._thread, self._queue, self._closing
            if thread is None or self._pid != os.getpid():
                return
            closing.set()
            jobs.put((_STOP, None))
            self._thread, self._queue, self._closing = None, queue.SimpleQueue(), threading.Event()
        atexit.unregister(self.close)
        thread.join(EXIT_WAIT if wait is None else wait)

    @staticmethod
    def _loop(jobs: queue.SimpleQueue, closing: threading.Event) -> None:
        while True:
            job, future = jobs.get()
            if job is _STOP:
                return
            if closing.is_set():
                if future is not None:
                    future.cancel()
                continue
            if future is not None and not future.set_running_or_notify_cancel():
                continue
            try:
                result = job()
            except BaseException as error:  # noqa: BLE001 - handed to the future's reader
                if future is not None:
                    future.set_exception(error)
            else:
                if future is not None:
                    future.set_result(result)
            del job, future  # (what the job held goes now, not at the next one)


def lowest_priority() -> None:
    """Put the calling thread (Linux: a thread's own priority; the threads it starts inherit it) at nice 19,
    unless :data:`IDLE_PRIORITY_VARIABLE` is ``0`` or the system has no such thing or refuses."""
    if os.environ.get(IDLE_PRIORITY_VARIABLE, "").strip() == "0":
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass
