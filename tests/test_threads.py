"""varcolor.threads: one pool per name and process, a forked child's own; idle priority."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from varcolor.threads import lowest_priority, shared_pool


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
