"""Ctrl-C while a run starts or stops its workers: SIGINT ignored, or held until a block ends."""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["sigint_ignored", "sigint_deferred"]


@contextlib.contextmanager
def sigint_ignored():
    """SIGINT ignored meanwhile (in the main thread; elsewhere nothing changes). A process started
    meanwhile keeps ignoring it: an ignored signal stays ignored across exec, and Python leaves it so."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def sigint_deferred():
    """A Ctrl-C meanwhile (in the main thread) is held and raised as KeyboardInterrupt at the end
    of the block, so that what the block makes exists, and is cleaned up, when it is raised."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
