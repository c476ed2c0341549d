"""The stop gate of a run on Dask, which its workers' publications pass through: once the run has
stopped (Ctrl-C) or its scheduler is gone, nothing more is published."""

from __future__ import annotations

import contextlib

from ..errors import OutputError
from .cluster import first_line

__all__ = ["GATE_TIMEOUT", "RunStopped", "StopGate"]

#: Seconds a worker waits for its turn to publish, and a stopping run for the last publication.
GATE_TIMEOUT = 10


class RunStopped(OutputError):
    """A job's outputs not published: its run has stopped (Ctrl-C), or its scheduler is gone."""


class StopGate:
    """The stop switch of a run on Dask, which its workers' publications pass through
    (:func:`varcolor.io.publish_gate`): a Dask lock held while a unit is renamed into place."""

    def __init__(self, name: str):
        self.name = name

    @contextlib.contextmanager
    def __call__(self):
        try:
            from distributed import Event, Lock

            lock = Lock(f"{self.name}-publishing")
            held = lock.acquire(timeout=GATE_TIMEOUT)
        except Exception as exc:  # the scheduler is gone: its run has been reported lost
            raise RunStopped(f"not published: the Dask scheduler cannot be reached ({first_line(exc)})") from None
        if not held:
            raise RunStopped(f"not published: the run's publishing lock was not free within {GATE_TIMEOUT} s")
        try:
            try:
                stopped = Event(f"{self.name}-stopped").is_set()
            except Exception as exc:
                raise RunStopped(f"not published: the Dask scheduler cannot be reached ({first_line(exc)})") from None
            if stopped:
                raise RunStopped("not published: the run was stopped")
            yield
        finally:
            with contextlib.suppress(Exception):
                lock.release()

    def close(self, client) -> bool:
        """Stop every publication from now on (on ``client``'s scheduler); False if a worker
        kept the lock past the deadline (it may still publish one unit).

        Parameters
        ----------
        client : dask.distributed.Client
            The run's client.
        """
        from distributed import Event, Lock

        try:
            Event(f"{self.name}-stopped", client=client).set()
            # Lock takes no client (a TypeError, taken for a scheduler gone): its scheduler's instead
            lock = Lock(f"{self.name}-publishing", scheduler_rpc=client.scheduler, loop=client.loop)
            if not lock.acquire(timeout=GATE_TIMEOUT):
                return False
            lock.release()
            return True
        except Exception:  # the scheduler is gone: the workers' gates are closed with it
            return True
