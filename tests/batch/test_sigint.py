"""Ctrl-C while a run waits on its Dask workers: noted, and raised in code of ours (sigint.py)."""

import os
import signal
import threading
import time

import pytest

from varcolor.batch.runner import _waited
from varcolor.batch.sigint import sigint_noted


def test_a_ctrl_c_inside_sigint_noted_is_noted_not_raised_and_the_handler_comes_back():
    before = signal.getsignal(signal.SIGINT)
    with sigint_noted() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs in the main thread between bytecodes
        assert stop.requested
    assert signal.getsignal(signal.SIGINT) is before


def test_sigint_noted_outside_the_main_thread_changes_nothing():
    seen = {}

    def body():
        with sigint_noted() as stop:
            seen["handler"] = signal.getsignal(signal.SIGINT)
            seen["requested"] = stop.requested

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == {"handler": before, "requested": False}


class _Completed:
    """as_completed's polling face: ``ready`` futures come first; ``waiting`` never finish."""

    def __init__(self, ready, waiting):
        self.ready, self.waiting = list(ready), waiting

    def is_empty(self):
        return not self.ready and not self.waiting

    def has_ready(self):
        return bool(self.ready)

    def __next__(self):
        return self.ready.pop(0)


def test_waited_yields_what_finishes_and_raises_keyboard_interrupt_soon_after_a_noted_ctrl_c():
    with sigint_noted() as stop:
        waited = _waited(_Completed(["a", "b"], waiting=1), stop, poll=0.01)
        assert [next(waited), next(waited)] == ["a", "b"]
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            next(waited)  # the one left never finishes: only the Ctrl-C ends the wait
        assert 0.15 < time.monotonic() - start < 5


def test_waited_ends_when_all_finished():
    with sigint_noted() as stop:
        assert list(_waited(_Completed(["a"], waiting=0), stop)) == ["a"]
