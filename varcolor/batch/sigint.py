"""Ctrl-C while a run starts, waits on or stops its workers: SIGINT ignored, held until a block
ends, or noted for the waiting loop to act on: a KeyboardInterrupt raised inside Dask's client
code can leave one of its locks held, and the run hangs in ``Client.close``.
"""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["sigint_ignored", "sigint_deferred", "sigint_noted", "Noted"]


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


class Noted:
    """Whether a Ctrl-C came while :func:`sigint_noted` held SIGINT."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, *_: object) -> None:
        self.requested = True


@contextlib.contextmanager
def sigint_noted():
    """A Ctrl-C meanwhile (in the main thread) only sets ``requested`` of what this yields; the
    block checks it between calls into other libraries and raises KeyboardInterrupt itself."""
    noted = Noted()
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    previous = signal.signal(signal.SIGINT, noted)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)
