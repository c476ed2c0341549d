"""Where a run's jobs go on Dask: the caller's client, an existing cluster's scheduler (checked
before anything is written), or an embedded ``LocalCluster`` of ``workers`` processes; one client
shared by the runs of a command. Dask is imported only here, and only when a run goes to it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading

from ..common.memory import memory_budget
from ..errors import InputError
from .sigint import sigint_deferred, sigint_ignored

__all__ = ["SCHEDULER_VARIABLE", "CONNECT_TIMEOUT", "on_dask", "shared_client", "dask_client", "check_scheduler"]

#: The environment variable naming a Dask scheduler to use when ``--scheduler`` is not given.
SCHEDULER_VARIABLE = "VARCOLOR_SCHEDULER"
#: Seconds to wait for a scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = 5


def on_dask(workers: int = 1, scheduler: str | None = None, client=None) -> bool:
    """Whether a run with these settings goes to Dask (a client given, a scheduler
    given or in ``$VARCOLOR_SCHEDULER``, or several workers) rather than staying in this process.

    Parameters
    ----------
    workers : int
        Processes asked for.
    scheduler : str, optional
        A Dask scheduler's address.
    client : dask.distributed.Client, optional
        A client already connected.
    """
    return client is not None or workers > 1 or bool(scheduler or os.environ.get(SCHEDULER_VARIABLE))


@contextlib.contextmanager
def shared_client(workers: int = 1, scheduler: str | None = None, client=None):
    """The one Dask client of a command of several runs (``recolor`` starts its LocalCluster
    once): ``client`` itself where given, else a new one where these settings go to Dask
    (:func:`on_dask`), else None (the runs stay in this process). Pass it to each run.

    Parameters
    ----------
    workers : int
        Processes asked for (several: a LocalCluster of that many, without a scheduler).
    scheduler : str, optional
        A Dask scheduler's address (default: ``$VARCOLOR_SCHEDULER`` if set).
    client : dask.distributed.Client, optional
        A client already connected, used as it is.

    Examples
    --------
    >>> with shared_client(1) as client:
    ...     client is None
    True
    """
    scheduler = scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
    if client is not None or not on_dask(workers, scheduler):
        yield client
        return
    with dask_client(workers, scheduler, None) as made:
        yield made


@contextlib.contextmanager
def dask_client(workers: int, scheduler: str | None, client):
    """The caller's client, one connected to ``scheduler``, or an embedded LocalCluster's."""
    if client is not None:
        yield client
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("running on Dask needs dask.distributed: pip install 'dask[distributed]'") from None
    if scheduler is not None:
        check_scheduler(scheduler)
        with _quiet_logs():
            try:
                connected = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError(
                    f"--scheduler {scheduler}: cannot reach the Dask scheduler ({first_line(exc)})"
                ) from None
            try:
                yield connected
            finally:
                with sigint_ignored(), contextlib.suppress(Exception):  # a lost scheduler: nothing to close
                    connected.close(timeout=CONNECT_TIMEOUT)
        return
    budget, _ = memory_budget()
    # One thread a worker: the solvers use the machine's cores themselves.
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    env = {name: threads for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    with sigint_ignored():  # the worker processes inherit it: Ctrl-C is the parent's alone to handle
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # No dashboard, but Dask's scheduler still serves its health page, on port 8787 by
            # default: a free port on this computer instead.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            resources={"MEMORY": budget // workers},
            silence_logs=logging.CRITICAL,
            env=env,
        )
    local = None
    try:
        with sigint_deferred():  # a Ctrl-C while the client connects comes once it exists, so it is closed
            local = Client(cluster, set_as_default=False)
        yield local
    finally:
        # Closed with Ctrl-C ignored throughout (not by ``with local:``, whose exit runs with it live):
        # a Ctrl-C inside the close left a client half-closed, and its __del__ printed a traceback.
        with sigint_ignored():
            if local is not None:
                local.close()  # a client left half-made printed a traceback at exit
            cluster.close(timeout=10)


@contextlib.contextmanager
def _quiet_logs():
    """Dask's own logging silenced meanwhile: a lost scheduler is a page of tracebacks from the
    client, while the run's report says what happened, image by image."""
    names = ["distributed"] + [name for name in logging.root.manager.loggerDict if name.startswith("distributed.")]
    loggers = [logging.getLogger(name) for name in names]  # each: distributed's configuration sets some
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def check_scheduler(address: str, *, seconds: float | None = None) -> None:
    """Refuse, within ``seconds`` in all (:data:`CONNECT_TIMEOUT` unless given), an ``address``
    where no Dask scheduler answers.

    The connection, Dask's handshake and an ``identity`` request share one deadline: a port
    that accepts connections but speaks another protocol (the dashboard's, a web server) would
    otherwise hold ``Client`` in the handshake for minutes.

    Parameters
    ----------
    address : str
        The scheduler's address (``tcp://host:8786``).
    seconds : float, optional
        The deadline (default: :data:`CONNECT_TIMEOUT`).

    Examples
    --------
    >>> check_scheduler("garbage::://")
    Traceback (most recent call last):
    ...
    varcolor.errors.InputError: --scheduler garbage::://: not a Dask address (unknown address scheme 'garbage::' ...
    """
    import asyncio

    from distributed.comm import connect, registry
    from distributed.comm.addressing import parse_address
    from distributed.security import Security

    deadline = float(CONNECT_TIMEOUT if seconds is None else seconds)  # read now: tests shorten it
    try:
        scheme, location = parse_address(address)
        registry.get_backend(scheme)
    except ValueError as exc:
        raise InputError(f"--scheduler {address}: not a Dask address ({first_line(exc)})") from None
    port = location.rpartition(":")[2] if scheme in ("tcp", "tls", "ws", "wss") else ""
    if port.isdigit() and not 0 < int(port) < 65536:  # (no connection is tried to learn that)
        raise InputError(f"--scheduler {address}: not a Dask address (port {port}: ports are 1 to 65535)")

    async def identify() -> object:
        # Connecting gives up a second early: "cannot reach" is then told from "does not answer".
        wait = max(deadline - 1, deadline / 2)
        comm = await connect(address, timeout=wait, **Security().get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    answer: dict = {}

    def probe() -> None:  # its own thread and event loop: the caller's may be running (Jupyter)
        try:
            answer["reply"] = asyncio.run(asyncio.wait_for(identify(), deadline))
        except BaseException as exc:  # noqa: BLE001 -- reported below, in the caller's thread
            answer["error"] = exc

    thread = threading.Thread(target=probe, name="varcolor scheduler probe", daemon=True)
    thread.start()
    thread.join(deadline + 1)
    error, reply = answer.get("error"), answer.get("reply")
    if thread.is_alive() or isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        raise InputError(
            f"--scheduler {address}: nothing there answered as a Dask scheduler within {deadline:g} s "
            "(a web server, or the dashboard's port? a scheduler listens on 8786 unless told otherwise)"
        )
    if isinstance(error, OSError):  # refused, reset, no route
        raise InputError(f"--scheduler {address}: cannot reach the Dask scheduler ({first_line(error)})")
    if error is not None:  # it answered, in another protocol
        raise InputError(f"--scheduler {address}: did not answer as a Dask scheduler ({first_line(error)})")
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        raise InputError(
            f"--scheduler {address}: a {kind or 'program that is not Dask'} answered, not a Dask scheduler"
        )


def first_line(exc: BaseException) -> str:
    """An exception's first line, shortened (its type's name if it says nothing): Dask's errors
    can be pages long, and a run reports in one line.

    Parameters
    ----------
    exc : BaseException
        The error.
    """
    text = str(exc).strip()
    return (text.splitlines()[0][:160] if text else "") or type(exc).__name__
