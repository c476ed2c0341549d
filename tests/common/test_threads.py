"""varcolor.common.threads: one pool per name and process, a forked child's own; idle priority."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from varcolor.common.threads import Worker, lowest_priority, shared_pool


def test_a_name_is_one_pool_whose_threads_are_started_as_asked():
    seen = []
    pool = shared_pool("test-one", 2, seen.append, ("started",))
    assert shared_pool("test-one", 5) is pool and shared_pool("test-two", 1) is not pool
    names = {pool.submit(lambda: threading.current_thread().name).result() for _ in range(20)}
    assert all(name.startswith("varcolor-test-one") for name in names)
    assert seen and set(seen) == {"started"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_makes_its_own_pool():
    """A child forked after the pool was made has none of its threads: it gets a pool that runs."""
    parent = shared_pool("test-fork", 1)
    assert parent.submit(lambda: 1).result() == 1
    child = os.fork()
    if child == 0:  # the child: its own pool, which runs work
        ok = False
        try:
            ok = (
                shared_pool("test-fork", 1) is not parent
                and shared_pool("test-fork", 1).submit(lambda: 2).result(5) == 2
            )
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert shared_pool("test-fork", 1) is parent


def test_a_worker_runs_its_jobs_in_turn_on_one_thread_and_hands_back_errors():
    worker = Worker("test-worker")
    order: list[tuple[int, int]] = []
    futures = [worker.submit(lambda k=k: order.append((k, threading.get_ident())) or k) for k in range(20)]
    assert [f.result(5) for f in futures] == list(range(20))
    assert [k for k, _ in order] == list(range(20)) and len({ident for _, ident in order}) == 1
    failing = worker.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(5)
    assert worker.submit(lambda: threading.current_thread().name).result(5) == "varcolor-test-worker"


def test_a_job_posted_from_a_finaliser_inside_the_collector_runs():
    """:meth:`Worker.post` from a ``__del__`` run by Python's collector on this thread (as SuperLU's
    factors dropped in a cycle wake their maker): no deadlock, and the job runs."""
    import gc

    worker = Worker("test-post")
    worker.submit(lambda: None).result(5)
    ran = threading.Event()

    class Cycle:
        def __del__(self):
            worker.post(ran.set)

    first, second = Cycle(), Cycle()
    first.other, second.other = second, first
    del first, second
    gc.collect()
    assert ran.wait(5)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_starts_its_own_worker_thread():
    worker = Worker("test-fork-worker")
    assert worker.submit(lambda: 1).result(5) == 1
    held = threading.Event()
    worker.submit(held.wait)  # the parent's thread busy, a job of the parent's queued behind it:
    queued = worker.submit(lambda: os.getpid())
    child = os.fork()
    if child == 0:  # the child runs its own jobs, not the parent's left in the queue
        ok = False
        try:
            ran: list[int] = []
            ok = worker.submit(lambda: ran.append(2) or 2).result(5) == 2 and ran == [2] and not queued.done()
        finally:
            os._exit(0 if ok else 1)
    held.set()
    assert queued.result(5) == os.getpid()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_lowest_priority_is_the_calling_threads_alone():
    if not hasattr(os, "getpriority") or not sys.platform.startswith("linux"):
        pytest.skip("a thread's own priority is Linux's")
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def low():
        lowest_priority()
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    found = []
    thread = threading.Thread(target=lambda: found.append(low()))
    thread.start()
    thread.join()
    assert found == [19] and os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_idle_priority_can_be_left_off(monkeypatch):
    """VARCOLOR_IDLE_PRIORITY=0: the thread keeps its process's priority."""
    if not hasattr(os, "getpriority") or not sys.platform.startswith("linux"):
        pytest.skip("a thread's own priority is Linux's")
    monkeypatch.setenv("VARCOLOR_IDLE_PRIORITY", "0")
    found = []

    def low():
        lowest_priority()
        found.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=low)
    thread.start()
    thread.join()
    assert found == [os.getpriority(os.PRIO_PROCESS, 0)]


def test_closing_a_worker_ends_its_thread_after_the_job_under_way_and_cancels_the_rest():
    worker = Worker("test-close")
    going, release = threading.Event(), threading.Event()
    under_way = worker.submit(lambda: (going.set(), release.wait(5), "finished")[-1])
    queued = worker.submit(lambda: "ran")
    assert going.wait(5)
    thread = next(t for t in threading.enumerate() if t.name == "varcolor-test-close")
    closing = threading.Thread(target=worker.close)
    closing.start()
    release.set()
    closing.join(10)
    assert under_way.result(5) == "finished" and queued.cancelled() and not thread.is_alive()
    assert worker.submit(lambda: "again").result(5) == "again"  # a later job starts it again
    worker.close()
