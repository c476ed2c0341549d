"""Folder runs: checked plans of jobs, run in this process or on Dask, reported at the end.

A run is a list of :class:`Job` s, one per input image, each naming every file it reads and
every file it writes (the last of which marks the job's output as complete). Before any work,
:func:`check` enforces the rules that keep a user's files safe:

* no output may be any input of the run (compared by file identity, so a symlink or hard link
  to an input counts as the input), whatever ``overwrite`` says;
* no two jobs may write the same output (``a.png`` and ``a.jpg`` both becoming ``out/a.png``):
  both are refused, naming each other;
* an existing output is kept unless ``overwrite``; the check is made again at the moment of
  writing (:func:`varcolor.io.write_image` with ``overwrite=False``), so a file that appears
  during the run is kept too.

:func:`run` goes on past a failed job, reports every failure at the end and, when interrupted
(Ctrl-C), stops the workers at once and says how many files were done. On Dask, workers publish
each unit through the run's stop gate (a Dask lock and event): once the run has stopped, nothing
more is published, and what was published but not yet reported is counted from the disk, so the
report and the manifest agree with the output folder (also when the scheduler goes away).

Where jobs run: in this process (one worker, no scheduler), on an embedded Dask ``LocalCluster``
of ``workers`` processes, or on an existing Dask cluster (``scheduler`` address, or a
``dask.distributed.Client`` of the caller's). Each image is one task; a task whose worker dies
(killed, out of memory) is retried on another worker up to :data:`RETRIES` times and then
reported as failed. Outputs are published atomically by the task itself, so a worker that dies
leaves at most a temporary file, which the next run in that folder removes. On a cluster every
worker must see the input and output paths (a shared file system).

One module, though long: the safety checks, the manifest that ``--resume`` reads and the
scheduling share one notion of a job and of its outcome; split, each part would have to repeat
what the others know about a job's files.

A folder run keeps a manifest beside its outputs (:data:`MANIFEST`, JSON Lines: one record per
image and run: input, outputs, status done / failed / skipped, reason, seconds, bytes, time);
``resume`` skips the inputs that the manifest records as done whose outputs still exist.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .errors import InputError, OutputError, OutputExists, VarcolorError
from .io import publish_gate, remove_stale_temporaries
from .memory import memory_budget

__all__ = [
    "Job",
    "Report",
    "check",
    "run",
    "outcomes",
    "identity",
    "read_manifest",
    "MANIFEST",
    "RETRIES",
    "SCHEDULER_VARIABLE",
    "run_folder",
    "check_scheduler",
]

#: The manifest's file name, in a folder run's output folder.
MANIFEST = "varcolor-manifest.jsonl"
#: How many more times a task is tried after its worker died.
RETRIES = 2
#: The environment variable naming a Dask scheduler to use when ``--scheduler`` is not given.
SCHEDULER_VARIABLE = "VARCOLOR_SCHEDULER"
#: Seconds to wait for a scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = 5
#: Seconds a worker waits for its turn to publish, and a stopping run for the last publication.
GATE_TIMEOUT = 10
#: Seconds a run waits, after its scheduler went away, before it looks at what was published.
LOST_GRACE = 1.0


@dataclass
class Job:
    """One unit of a run.

    Attributes
    ----------
    inputs : list of Path
        Every file the job reads (the image first).
    outputs : list of Path
        Every file it writes; the last one marks the output complete (a unit is published
        marker-last, :func:`varcolor.io.publish`).
    run : callable
        Does the work (picklable, for a pool); returns warnings to show, as one string, or "".
    skip : str, optional
        Why this job is skipped without failing (no cue file, say).
    fail : str, optional
        Why this job fails without running (found while planning).
    """

    inputs: list[Path]
    outputs: list[Path]
    run: Callable[[], str]
    skip: str | None = None
    fail: str | None = None
    memory: int = 0  # bytes its solve needs (0: unknown); a worker runs no more at once than it holds


@dataclass
class Report:
    """What a run did: the jobs done (in the order they finished), skipped and failed, and the
    manifest records of this run (one per job, in the order they were settled)."""

    total: int
    done: list[Job] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    interrupted: bool = False
    rows: list[dict] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0: all went well; 1: some failed; 130: interrupted."""
        return 130 if self.interrupted else (1 if self.failed else 0)


def identity(path: Path):
    """What makes two paths the same file: device and inode where it exists, else its resolved path."""
    try:
        info = os.stat(path)
        return info.st_dev, info.st_ino
    except OSError:
        try:
            return str(Path(path).resolve())
        except (OSError, RuntimeError):
            return str(Path(path).absolute())


def check(
    jobs: list[Job], *, overwrite: bool, protected: Iterable[Path] = ()
) -> tuple[list[Job], list[str], list[str]]:
    """Split ``jobs`` into (ready, skipped, failed) by the safety rules of this module.

    ``protected`` adds files that no output may replace besides the jobs' own inputs (for
    instance, the photos of a ``recolor`` run while its decode step runs).
    """
    verdicts = _verdicts(jobs, overwrite, protected)
    return (
        [job for job, status, _ in verdicts if status == "ready"],
        [reason for _, status, reason in verdicts if status == "skipped"],
        [reason for _, status, reason in verdicts if status == "failed"],
    )


def _verdicts(jobs: list[Job], overwrite: bool, protected: Iterable[Path]) -> list[tuple[Job, str, str]]:
    """(job, "ready" / "skipped" / "failed", reason) for each job."""
    inputs = {}
    for path in [*protected, *(p for job in jobs for p in job.inputs)]:
        inputs.setdefault(identity(path), path)
    # Each output's identity taken once: another run may create the file meanwhile, which changes it.
    keys = {output: identity(output) for job in jobs if not job.skip for output in job.outputs}
    writers: dict = {}
    for job in jobs:
        if not job.skip:
            for output in job.outputs:
                writers.setdefault(keys[output], []).append(job)
    verdicts = []
    for job in jobs:
        if job.skip:
            verdicts.append((job, "skipped", job.skip))
            continue
        problem = None
        for output in job.outputs:
            key = keys[output]
            if key in inputs:
                problem = f"{output}: refusing to overwrite an input file ({inputs[key]})"
                break
            others = [other for other in writers[key] if other is not job]
            if others:
                problem = (
                    f"{job.inputs[0]}: its output {output} would also be written for "
                    f"{', '.join(str(o.inputs[0]) for o in others)}; rename one of them"
                )
                break
        if problem or job.fail:
            verdicts.append((job, "failed", problem or job.fail))
        elif os.path.lexists(job.outputs[-1]) and not overwrite:
            verdicts.append((job, "skipped", f"{job.outputs[-1]}: exists; kept (use --overwrite to replace it)"))
        else:
            verdicts.append((job, "ready", ""))
    return verdicts


def run_folder(
    command: str, source: str | os.PathLike, output: str | os.PathLike, *, client=None, **options
) -> list[dict]:
    """Run a folder command (``colorize``, ``encode``, ``decode``, ``recolor``) as the command
    line would, on ``client`` (a ``dask.distributed.Client``) or as ``options`` say, and return
    the manifest records of the run.

    ``options`` are the command's long options with underscores (``workers=2``, ``marked=True``
    for a bare ``--marked``, ``overwrite=True``, ``encoder="grid"``). Bad input raises
    :class:`~varcolor.errors.InputError` as the command line would print it.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, varcolor
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> varcolor.write_image(folder / "in" / "a.png", np.random.default_rng(0).random((16, 16, 3)))
    >>> rows = run_folder("encode", folder / "in", folder / "ir", encoder="grid", quiet=True)
    >>> [(pathlib.Path(r["input"]).name, r["status"]) for r in rows]
    [('a.png', 'done')]
    """
    from .cli import build_parser

    argv = [command, str(source), "-o", str(output)]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value is not False and value is not None:
            argv += [flag, str(value)]
    args = build_parser().parse_args(argv)
    from .cli import run_parsed

    reports: list[Report] = []
    # Not on ``args``: the jobs carry it to the workers, and a client does not travel.
    tokens = _CLIENT.set(client), _REPORTS.set(reports)
    try:
        run_parsed(args)
    finally:
        _CLIENT.reset(tokens[0])
        _REPORTS.reset(tokens[1])
    return [row for report in reports for row in report.rows]


#: The Dask client and the report list of a :func:`run_folder` call, for the runs it makes.
_CLIENT: contextvars.ContextVar = contextvars.ContextVar("varcolor_batch_client", default=None)
_REPORTS: contextvars.ContextVar = contextvars.ContextVar("varcolor_batch_reports", default=None)


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """The records of a manifest file (unreadable lines, as a killed run may leave at the end,
    are ignored)."""
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("input"), str):
                    rows.append(row)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc.strerror or exc})") from None
    return rows


class _Manifest:
    """Appends one JSON line per settled job (flushed at once: a killed run loses no record)."""

    def __init__(self, path: Path | None):
        self.path, self.file = path, None

    def write(self, job: Job, status: str, reason: str = "", seconds: float | None = None) -> dict:
        row = {
            "input": str(job.inputs[0]),
            "outputs": [str(p) for p in job.outputs],
            "status": status,
            "reason": reason,
            "seconds": None if seconds is None else round(seconds, 3),
            "bytes": sum(p.stat().st_size for p in job.outputs if p.is_file()) if status == "done" else 0,
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        if self.path is not None:
            if self.file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.file = open(self.path, "a", encoding="utf-8")
            self.file.write(json.dumps(row) + "\n")
            self.file.flush()
        return row

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _done_before(manifest: Path | None, jobs: list[Job]) -> set[str]:
    """Inputs that the manifest records as done and whose outputs all still exist."""
    if manifest is None:
        return set()
    outputs = {str(job.inputs[0]): job.outputs for job in jobs}
    done = set()
    for row in read_manifest(manifest):
        name = row["input"]
        if row.get("status") == "done" and name in outputs and all(p.exists() for p in outputs[name]):
            done.add(name)
        elif name in done and row.get("status") != "done":
            done.discard(name)
    return done


def run(
    jobs: list[Job],
    *,
    verb: str,
    overwrite: bool,
    workers: int = 1,
    quiet: bool = False,
    single: bool = False,
    protected: Iterable[Path] = (),
    warn: Callable[[str], None] | None = None,
    scheduler: str | None = None,
    client=None,
    manifest: str | os.PathLike | None = None,
    resume: bool = False,
) -> Report:
    """Check ``jobs`` (:func:`check`) and run the ready ones (see the module's docstring for where).

    With ``single`` (one input file) nothing is skipped quietly: the first problem is raised.
    Stale temporary files that killed runs left in the output folders are removed first. With a
    ``manifest`` path, every job's outcome is appended to it; with ``resume``, jobs it records
    as done (outputs present) are skipped.
    """
    if not jobs:
        raise InputError("no images found")
    manifest = Path(manifest) if manifest is not None else None
    finished = _done_before(manifest, jobs) if resume else set()
    resumed = [job for job in jobs if str(job.inputs[0]) in finished]
    jobs = [job for job in jobs if str(job.inputs[0]) not in finished]
    verdicts = _verdicts(jobs, overwrite, protected)
    ready = [job for job, status, _ in verdicts if status == "ready"]
    problems = [reason for _, status, reason in verdicts if status == "failed"]
    problems += [reason for _, status, reason in verdicts if status == "skipped"]
    if single and problems:
        raise InputError(problems[0])
    report = Report(len(jobs) + len(resumed))
    record = _Manifest(manifest)
    for job, status, reason in verdicts:
        if status != "ready":
            (report.failed if status == "failed" else report.skipped).append(reason)
            report.rows.append(record.write(job, status, reason))
    report.skipped += [f"{job.inputs[0]}: done by an earlier run (manifest)" for job in resumed]
    folders = sorted({job.outputs[-1].parent for job in ready})
    stale = [path for folder in folders for path in remove_stale_temporaries(folder)]
    if stale and warn:
        warn(f"removed {len(stale)} temporary file(s) left by an interrupted run (e.g. {stale[0]})")
    bar = tqdm(total=len(ready), desc=verb, unit="img", disable=quiet or single or None, file=sys.stderr)
    # What each output's marker was before the run: an output the run published but could not
    # report (stopped, scheduler lost) is told by the disk, so that the report agrees with it.
    before = {id(job): _state(job.outputs[-1]) for job in ready}
    settled: set[int] = set()
    lost: list[tuple[Job, SchedulerLost]] = []
    stream = outcomes(ready, workers, scheduler=scheduler, client=client)
    try:
        for job, outcome, seconds in stream:
            bar.update()
            settled.add(id(job))
            if isinstance(outcome, SchedulerLost):
                lost.append((job, outcome))
            elif isinstance(outcome, OutputExists):  # appeared while this job ran: kept, like at planning
                if single:
                    raise InputError(str(outcome))
                report.skipped.append(str(outcome))
                report.rows.append(record.write(job, "skipped", str(outcome), seconds))
            elif isinstance(outcome, VarcolorError):
                if single:
                    raise outcome
                report.failed.append(str(outcome))
                report.rows.append(record.write(job, "failed", str(outcome), seconds))
            else:
                if outcome and warn:
                    warn(outcome)
                report.done.append(job)
                report.rows.append(record.write(job, "done", outcome or "", seconds))
        if lost:  # a publication under way as the scheduler went away ends within a moment
            time.sleep(LOST_GRACE)
        for job, outcome in lost:
            if _state(job.outputs[-1]) not in (None, before[id(job)]):
                report.done.append(job)
                report.rows.append(record.write(job, "done", "published as the Dask scheduler went away"))
            else:
                report.failed.append(str(outcome))
                report.rows.append(record.write(job, "failed", str(outcome)))
    except KeyboardInterrupt:
        report.interrupted = True
        with sigint_ignored():  # stopping already: a second Ctrl-C changes nothing
            stream.close()  # the workers stopped: from here on nothing more is published
            for job in ready:  # published before the stop, not yet reported: done
                if id(job) not in settled and _state(job.outputs[-1]) not in (None, before[id(job)]):
                    report.done.append(job)
                    report.rows.append(record.write(job, "done", "published as the run was interrupted"))
            # The stopped workers' half-written files are temporaries no process holds any more.
            for folder in folders:
                remove_stale_temporaries(folder, older_than=0)
    finally:
        bar.close()
        record.close()
    if _REPORTS.get() is not None:
        _REPORTS.get().append(report)
    return report


def _state(path: Path) -> tuple | None:
    """A file's inode, size and modification time (None: absent): a published file is a new
    inode (:mod:`varcolor.io` renames it into place), so a changed state means a new file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _attempt(work: Callable[[], object], gate: _StopGate | None = None) -> tuple[object, float]:
    """Run one job, returning its user-facing error instead of raising it (so a run goes on),
    and its seconds; with ``gate``, its outputs are published only while the run goes on."""
    start = time.perf_counter()
    try:
        with publish_gate(gate) if gate is not None else contextlib.nullcontext():
            outcome = work()
    except VarcolorError as exc:
        outcome = exc
    return outcome, time.perf_counter() - start


class RunStopped(OutputError):
    """A job's outputs not published: its run has stopped (Ctrl-C), or its scheduler is gone."""


class SchedulerLost(VarcolorError):
    """The Dask scheduler went away before this job's outcome was reported."""


class _StopGate:
    """The stop switch of a run on Dask, which its workers' publications pass through
    (:func:`varcolor.io.publish_gate`): a Dask lock held while a unit is renamed into place, and
    a Dask event that the client sets when the run stops. Having set it, the client takes the
    lock once: from then on no worker is publishing and none will. A scheduler that cannot be
    reached closes the gate too (its run is reported as lost). Picklable: it travels by name."""

    def __init__(self, name: str):
        self.name = name

    @contextlib.contextmanager
    def __call__(self):
        try:
            from distributed import Event, Lock

            lock = Lock(f"{self.name}-publishing")
            held = lock.acquire(timeout=GATE_TIMEOUT)
        except Exception as exc:  # the scheduler is gone: its run has been reported lost
            raise RunStopped(f"not published: the Dask scheduler cannot be reached ({_first_line(exc)})") from None
        if not held:
            raise RunStopped(f"not published: the run's publishing lock was not free within {GATE_TIMEOUT} s")
        try:
            try:
                stopped = Event(f"{self.name}-stopped").is_set()
            except Exception as exc:
                raise RunStopped(f"not published: the Dask scheduler cannot be reached ({_first_line(exc)})") from None
            if stopped:
                raise RunStopped("not published: the run was stopped")
            yield
        finally:
            with contextlib.suppress(Exception):
                lock.release()

    def close(self, client) -> bool:
        """Stop every publication from now on (on ``client``'s scheduler); False if a worker
        kept the lock past the deadline (it may still publish one unit)."""
        from distributed import Event, Lock

        try:
            Event(f"{self.name}-stopped", client=client).set()
            lock = Lock(f"{self.name}-publishing", client=client)
            if not lock.acquire(timeout=GATE_TIMEOUT):
                return False
            lock.release()
            return True
        except Exception:  # the scheduler is gone: the workers' gates are closed with it
            return True


def outcomes(jobs: list[Job], workers: int = 1, *, scheduler: str | None = None, client=None):
    """``(job, outcome, seconds)`` as each job finishes: in this process (one worker and no
    scheduler or client), else as Dask tasks (see the module's docstring)."""
    scheduler = scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
    client = client if client is not None else _CLIENT.get()
    if not on_dask(workers, scheduler, client) or (client is None and scheduler is None and len(jobs) <= 1):
        for job in jobs:
            yield (job, *_attempt(job.run))
        return
    with _dask_client(workers, scheduler, client) as dask_client:
        yield from _dask_outcomes(jobs, dask_client)


def on_dask(workers: int = 1, scheduler: str | None = None, client=None) -> bool:
    """Whether a run with these settings goes to Dask (a client given or in effect, a scheduler
    given or in ``$VARCOLOR_SCHEDULER``, or several workers) rather than staying in this process."""
    return (
        client is not None
        or _CLIENT.get() is not None
        or workers > 1
        or bool(scheduler or os.environ.get(SCHEDULER_VARIABLE))
    )


@contextlib.contextmanager
def shared_client(workers: int = 1, scheduler: str | None = None):
    """Within this block, every run uses one Dask client (a command of several steps, such as
    ``recolor``, starts its LocalCluster once); nothing changes where a run would use none."""
    scheduler = scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
    if _CLIENT.get() is not None or not on_dask(workers, scheduler):
        yield
        return
    with _dask_client(workers, scheduler, None) as client:
        token = _CLIENT.set(client)
        try:
            yield
        finally:
            _CLIENT.reset(token)


@contextlib.contextmanager
def _dask_client(workers: int, scheduler: str | None, client):
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
                    f"--scheduler {scheduler}: cannot reach the Dask scheduler ({_first_line(exc)})"
                ) from None
            try:
                yield connected
            finally:
                with sigint_ignored(), contextlib.suppress(Exception):  # a lost scheduler: nothing to close
                    connected.close(timeout=CONNECT_TIMEOUT)
        return
    budget, _ = memory_budget()
    # One thread a worker: the solvers use the machine's cores themselves. Each worker holds an
    # equal share of the memory budget, as a Dask resource the tasks ask for.
    # The cores shared out: numba's and BLAS's threads in several processes at once only contend.
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    env = {name: threads for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    with sigint_ignored():  # the worker processes inherit it: Ctrl-C is the parent's alone to handle
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            resources={"MEMORY": budget // workers},
            silence_logs=logging.CRITICAL,
            env=env,
        )
    try:
        with Client(cluster, set_as_default=False) as local:
            yield local
    finally:
        with sigint_ignored():
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


def check_scheduler(address: str, *, seconds: float = CONNECT_TIMEOUT) -> None:
    """Refuse, within ``seconds`` in all, an ``address`` where no Dask scheduler answers.

    The connection, Dask's handshake and an ``identity`` request share one deadline: a port that
    accepts connections but speaks another protocol (the dashboard's, a web server) would
    otherwise hold ``Client`` in the handshake for minutes. A malformed address is refused here
    too, before any ``Client`` exists (a half-made one prints a traceback when collected).

    >>> check_scheduler("garbage::://")
    Traceback (most recent call last):
    ...
    varcolor.errors.InputError: --scheduler garbage::://: not a Dask address (unknown address scheme 'garbage::' ...
    """
    import asyncio

    from distributed.comm import connect, registry
    from distributed.comm.addressing import parse_address
    from distributed.security import Security

    try:
        registry.get_backend(parse_address(address)[0])
    except ValueError as exc:
        raise InputError(f"--scheduler {address}: not a Dask address ({_first_line(exc)})") from None

    async def identify() -> object:
        # Connecting gives up a second early: "cannot reach" is then told from "does not answer".
        wait = max(seconds - 1, seconds / 2)
        comm = await connect(address, timeout=wait, **Security().get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    answer: dict = {}

    def probe() -> None:  # its own thread and event loop: the caller's may be running (Jupyter)
        try:
            answer["reply"] = asyncio.run(asyncio.wait_for(identify(), seconds))
        except BaseException as exc:  # noqa: BLE001 -- reported below, in the caller's thread
            answer["error"] = exc

    thread = threading.Thread(target=probe, name="varcolor scheduler probe", daemon=True)
    thread.start()
    thread.join(seconds + 1)
    error, reply = answer.get("error"), answer.get("reply")
    if thread.is_alive() or isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        raise InputError(
            f"--scheduler {address}: nothing there answered as a Dask scheduler within {seconds:g} s "
            "(a web server, or the dashboard's port? a scheduler listens on 8786 unless told otherwise)"
        )
    if isinstance(error, OSError):  # refused, reset, no route
        raise InputError(f"--scheduler {address}: cannot reach the Dask scheduler ({_first_line(error)})")
    if error is not None:  # it answered, in another protocol
        raise InputError(f"--scheduler {address}: did not answer as a Dask scheduler ({_first_line(error)})")
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        raise InputError(
            f"--scheduler {address}: a {kind or 'program that is not Dask'} answered, not a Dask scheduler"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:160] if text else "") or type(exc).__name__


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


def _dask_outcomes(jobs: list[Job], client):
    from dask.distributed import as_completed

    holds = [w.get("resources", {}).get("MEMORY") for w in client.scheduler_info()["workers"].values()]
    largest = max(holds) if holds and all(h is not None for h in holds) else None
    gate = _StopGate(f"varcolor-{uuid.uuid4().hex}")
    futures = {}
    for index, job in enumerate(jobs):
        if largest is not None and job.memory > largest:
            yield (
                job,
                VarcolorError(
                    f"{job.inputs[0]}: needs about {job.memory / 1e9:.1f} GB of memory, more than "
                    f"any worker holds ({largest / 1e9:.1f} GB); use fewer --workers"
                ),
                0.0,
            )
            continue
        resources = {"MEMORY": max(job.memory, 1)} if largest is not None else None
        future = client.submit(
            _attempt,
            job.run,
            gate,
            key=f"varcolor-{os.getpid()}-{index}-{id(job)}",
            pure=False,
            retries=RETRIES,
            resources=resources,
        )
        futures[future] = job
    pending = set(futures)
    try:
        for future in as_completed(list(futures), loop=client.loop):
            pending.discard(future)
            job = futures[future]
            try:
                outcome, seconds = future.result()
            except Exception as exc:  # the worker died RETRIES + 1 times, the scheduler went away
                if client.status != "running" or type(exc).__name__ in ("CancelledError", "FutureCancelledError"):
                    outcome = SchedulerLost(
                        f"{job.inputs[0]}: the Dask scheduler went away before it was done; not written "
                        "(rerun with --resume when the cluster is back)"
                    )
                else:
                    outcome = VarcolorError(
                        f"{job.inputs[0]}: its worker died {RETRIES + 1} times while processing it (killed, or out "
                        f"of memory); nothing was written ({type(exc).__name__})"
                    )
                seconds = None
            yield job, outcome, seconds
    finally:
        with sigint_ignored():  # stopping already: a second Ctrl-C must not cut the stop short
            if pending:
                gate.close(client)  # from here on, nothing more is published
                with contextlib.suppress(Exception):
                    client.cancel(list(pending), force=True)
