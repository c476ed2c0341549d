"""The run loop: the ready jobs run in this process or as Dask tasks, each outcome reported and
recorded in the manifest, and what a stopped run published told by the disk.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from tqdm import tqdm

from ..common.fields import fingerprint
from ..errors import InputError, OutputError, OutputExists, VarcolorError
from ..io import file_state, publish_gate, quiet_decoders, remove_stale_temporaries, writers_at_work
from .cluster import SCHEDULER_VARIABLE, check_scheduler, dask_client, on_dask
from .gate import GATE_TIMEOUT, StopGate
from .jobs import Job, Outcome, Report, Said, judge
from .manifest import ManifestFailure, ManifestWriter, provenance, resume_plan
from .sigint import Noted, sigint_ignored, sigint_noted

__all__ = [
    "RETRIES",
    "LOST_GRACE",
    "run",
    "outcomes",
    "attempt",
    "unreported",
    "Unreported",
    "SchedulerLost",
    "WorkerLost",
]

#: How many more times a task is tried after its worker died.
RETRIES = 2

#: Seconds a run waits, after its scheduler went away, before it looks at what was published.
LOST_GRACE = 1.0


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
    note: Callable[[str], None] | None = None,
    scheduler: str | None = None,
    client=None,
    manifest: str | os.PathLike | None = None,
    resume: bool = False,
    options: dict | None = None,
) -> Report:
    """Check ``jobs`` (:func:`~varcolor.batch.jobs.check`) and run the ready ones (:func:`outcomes`: where).

    With ``single`` (one input file) nothing is skipped quietly: the first problem is raised.
    Stale temporary files that killed runs left in the output folders are removed first (never
    an input of the run).

    Parameters
    ----------
    jobs : list of Job
        The work, a job per output.
    verb : str
        What the progress bar and the messages call the work done (``colorized``, ``encoded``).
    overwrite : bool
        Whether existing outputs may be replaced.
    workers : int
        Processes running jobs at once.
    quiet : bool
        No progress bar.
    single : bool
        One input file: its first problem is raised, not skipped.
    protected : iterable of path
        Files that no output may replace besides the jobs' own inputs.
    warn : callable, optional
        Takes each warning line.
    note : callable, optional
        Takes each note line.
    scheduler : str, optional
        A Dask scheduler's address to run on.
    client : dask.distributed.Client, optional
        A client already connected.
    manifest : path, optional
        Where each job's outcome is appended.
    resume : bool
        Skip the jobs the manifest shows finished and unchanged.
    options : dict, optional
        The run's options that shape its outputs, recorded with each done job.
    """
    if not jobs:
        raise InputError("no images found")
    manifest = Path(manifest) if manifest is not None else None
    fingerprint_ = fingerprint(options or {})
    jobs, resumed, redo, verdicts = _judged(jobs, manifest, fingerprint_, resume, overwrite, protected)
    ready = [job for job, status, _ in verdicts if status == "ready"]
    problems = [reason for _, status, reason in verdicts if status == "failed"]
    problems += [reason for _, status, reason in verdicts if status == "skipped"]
    if single and problems:
        raise InputError(problems[0])
    report = Report(len(jobs) + len(resumed), resumed=resumed)
    report.redone = [f"{job.name}: {redo[id(job)]}" for job in ready if id(job) in redo]
    if scheduler is not None and client is None:  # before anything is written: the output folder, the manifest
        check_scheduler(scheduler)
    record = ManifestWriter(manifest, fingerprint_)
    folders = sorted({path.parent for job in ready for path in job.outputs})  # (a map's folder too)
    inputs = [*protected, *(path for job in jobs + resumed for path in job.inputs)]
    bar = None
    # Each output's marker before the run: what was published but not reported is told by the disk.
    before = {id(job): file_state(job.outputs[-1]) for job in ready}
    settled: set[int] = set()
    lost: list[tuple[Job, Unreported]] = []
    stream = None
    try:
        for job, status, reason in verdicts:
            if status != "ready":
                _settle(report, record, job, status, reason)
        report.skipped += [
            Outcome(job.name, f"{job.name}: done by an earlier run (manifest: same files, options and outputs)")
            for job in resumed
        ]
        stale = [path for folder in folders for path in remove_stale_temporaries(folder, keep=inputs)]
        if stale and warn:
            warn(f"removed {len(stale)} temporary file(s) left by an interrupted run (e.g. {stale[0]})")
        bar = tqdm(total=len(ready), desc=verb, unit="img", disable=quiet or single or None, file=sys.stderr)
        stream = outcomes(ready, workers, scheduler=scheduler, client=client)
        for job, outcome, seconds in stream:
            bar.update()
            settled.add(id(job))
            if isinstance(outcome, Unreported):  # the disk says whether it was published
                lost.append((job, outcome))
            elif isinstance(outcome, OutputExists):  # appeared while this job ran: kept, like at planning
                if single:
                    raise InputError(str(outcome))
                _settle(report, record, job, "skipped", str(outcome), seconds)
            elif isinstance(outcome, VarcolorError):
                if single:
                    raise outcome
                _settle(report, record, job, "failed", str(outcome), seconds, type(outcome).__name__)
            else:
                warned, noted = (outcome.warned, outcome.noted) if isinstance(outcome, Said) else (outcome, "")
                if warned and warn:
                    warn(warned)
                if noted and note:
                    note(noted)
                _settle(report, record, job, "done", outcome or "", seconds)
        _settle_lost(report, record, lost, folders, before)
    except KeyboardInterrupt:
        report.interrupted = True
        with sigint_ignored():  # stopping already: a second Ctrl-C changes nothing
            if stream is not None:
                stream.close()  # the workers stopped: from here on nothing more is published
            for job in ready:  # published before the stop, not yet reported: done
                if id(job) not in settled and file_state(job.outputs[-1]) not in (None, before[id(job)]):
                    _settle(report, record, job, "done", "published as the run was interrupted")
            # The stopped workers' half-written files are temporaries no process holds any more.
            for folder in folders:
                remove_stale_temporaries(folder, older_than=0, keep=inputs)
    except ManifestFailure as exc:  # a full disk, say: stop, and say how far the run got
        raise OutputError(
            f"{exc}; the run stopped: {verb} {len(report.done)} of {report.total} (outputs written so far are "
            "complete; a rerun with --resume redoes what the manifest lacks)"
        ) from None
    finally:
        if stream is not None:  # a run stopped by a full disk stops its workers too
            stream.close()
        if bar is not None:
            bar.close()
        record.close()
    return report


def _judged(jobs: list[Job], manifest: Path | None, fingerprint_, resume: bool, overwrite: bool, protected):
    """The jobs left to judge, those a resume skips, the reasons to redo, and each job's verdict."""
    if manifest is not None:  # before any work: what each job reads, as it is now
        for job in jobs:
            if job.sources is None:
                job.sources = provenance(job.inputs)
    finished, redo = resume_plan(manifest, jobs, fingerprint_) if resume else (set(), {})
    resumed = [job for job in jobs if id(job) in finished]
    jobs = [job for job in jobs if id(job) not in finished]
    verdicts = [
        (job, status, f"{job.outputs[-1]}: exists, but {redo[id(job)]}; kept (use --overwrite to redo it)")
        if status == "skipped" and id(job) in redo and not job.skip
        else (job, status, reason)
        for job, status, reason in judge(jobs, overwrite, protected)
    ]
    return jobs, resumed, redo, verdicts


def _settle_lost(report: Report, record: ManifestWriter, lost: list, folders: list[Path], before: dict) -> None:
    """Settle the jobs whose outcome went unreported, as the disk tells it."""
    if lost:  # a publication under way as the scheduler or worker went away: wait until it has ended
        time.sleep(LOST_GRACE)
        # A worker past the gate still renames its files into place; its temporaries stay locked until then.
        deadline = time.monotonic() + GATE_TIMEOUT
        while time.monotonic() < deadline and any(writers_at_work(folder) for folder in folders):
            time.sleep(0.05)
    for job, outcome in lost:
        if file_state(job.outputs[-1]) not in (None, before[id(job)]):
            _settle(report, record, job, "done", outcome.published)
        else:
            _settle(report, record, job, "failed", str(outcome), error=type(outcome).__name__)


def _settle(
    report: Report,
    record: ManifestWriter,
    job: Job,
    status: str,
    line: str,
    seconds: float | None = None,
    error: str | None = None,
) -> None:
    """Count ``job`` in ``report`` as ``status`` (``done``, ``skipped``, ``failed``) and append its
    manifest record: the report and the manifest say the same of it."""
    if status == "done":
        report.done.append(job)
    else:
        (report.failed if status == "failed" else report.skipped).append(Outcome(job.name, line, error))
    report.rows.append(record.write(job, status, line, seconds, error))


def attempt(work: Callable[[], object], gate: StopGate | None = None) -> tuple[object, float]:
    """Run one job, returning its user-facing error instead of raising it (so a run goes on),
    and its seconds; with ``gate``, its outputs are published only while the run goes on.

    Parameters
    ----------
    work : callable
        The job's work.
    gate : StopGate, optional
        The run's stop switch, on Dask.
    """
    quiet_decoders()  # (in a worker process too)
    start = time.perf_counter()
    try:
        with publish_gate(gate) if gate is not None else contextlib.nullcontext():
            outcome = work()
    except VarcolorError as exc:
        outcome = exc
    except Exception as exc:  # a bug met on one file: that file fails, the run goes on
        outcome = Unexpected.of(exc)
    return outcome, time.perf_counter() - start


class Unexpected(VarcolorError):
    """A job that raised what varcolor does not raise on purpose: a bug, or the machine (memory)."""

    @classmethod
    def of(cls, exc: Exception) -> Unexpected:
        """``exc`` told in one line, the batch's failure for its file."""
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if isinstance(exc, MemoryError):
            return cls(f"out of memory ({what})")
        return cls(f"unexpected error, a bug in varcolor ({what}); please report it with this file")


class Unreported(VarcolorError):
    """A Dask task whose outcome never came back: whether it was published is told by the disk."""

    #: The manifest's reason when the disk shows the job's output as newly published.
    published = "published, but its outcome was never reported"


class SchedulerLost(Unreported):
    """The Dask scheduler (or the connection to it) went away before this job's outcome was reported."""

    published = "published as the Dask scheduler went away"


class WorkerLost(Unreported):
    """The job's worker died on every try (killed, out of memory)."""

    published = "published, but its worker died before reporting it"


def unreported(job: Job, exc: BaseException, status: object) -> Unreported:
    """What a task that raised ``exc`` (the client's ``status`` then) is reported as, until the
    disk says whether it was published anyway.

    Parameters
    ----------
    job : Job
        The job whose task raised.
    exc : BaseException
        What it raised.
    status : object
        The client's status then (distributed's ``Status``, or its name).
    """
    # A closed comm (an OSError) is the connection to the scheduler lost, often before the
    # client's status says so: CI saw a killed scheduler reported as a dead worker.
    status = getattr(status, "value", status)  # distributed's Status enum, or its name
    if (
        status != "running"
        or isinstance(exc, OSError)
        or type(exc).__name__ in ("CancelledError", "FutureCancelledError")
    ):
        return SchedulerLost(
            f"{job.inputs[0]}: the Dask scheduler went away before it was done; not written "
            "(rerun with --resume when the cluster is back)"
        )
    return WorkerLost(
        f"{job.inputs[0]}: its worker died {RETRIES + 1} times while processing it (killed, or out "
        f"of memory); nothing was written ({type(exc).__name__})"
    )


def outcomes(jobs: list[Job], workers: int = 1, *, scheduler: str | None = None, client=None):
    """``(job, outcome, seconds)`` as each job finishes: in this process (one worker and no
    scheduler or client), else as Dask tasks (see the module's docstring).

    Parameters
    ----------
    jobs : list of Job
        The jobs to run.
    workers : int
        Processes running them at once.
    scheduler : str, optional
        A Dask scheduler's address (default: ``$VARCOLOR_SCHEDULER`` if set).
    client : dask.distributed.Client, optional
        A client already connected.
    """
    scheduler = scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
    if not on_dask(workers, scheduler, client) or (client is None and scheduler is None and len(jobs) <= 1):
        for job in jobs:
            yield (job, *attempt(job.run))
        return
    # (a local cluster of more processes than jobs or cores would split the memory into useless parts)
    workers = max(1, min(workers, len(jobs), os.cpu_count() or 1))
    with dask_client(workers, scheduler, client) as active:
        yield from _dask_outcomes(jobs, active)


def _dask_outcomes(jobs: list[Job], client):
    from dask.distributed import as_completed

    # Ctrl-C raised by _waited, in code of ours, not inside Dask's locks (see sigint.py)
    with sigint_noted() as stop:
        holds = [w.get("resources", {}).get("MEMORY") for w in client.scheduler_info()["workers"].values()]
        largest = max(holds) if holds and all(h is not None for h in holds) else None
        gate = StopGate(f"varcolor-{uuid.uuid4().hex}")
        futures = {}
        pending: set = set()
        try:
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
                    attempt,
                    job.run,
                    gate,
                    key=f"varcolor-{os.getpid()}-{index}-{id(job)}",
                    pure=False,
                    retries=RETRIES,
                    resources=resources,
                )
                futures[future] = job
                pending.add(future)
            for future in _waited(as_completed(list(futures), loop=client.loop), stop):
                pending.discard(future)
                job = futures[future]
                try:
                    outcome, seconds = future.result()
                except Exception as exc:  # the worker died RETRIES + 1 times, the scheduler went away
                    outcome = unreported(job, exc, client.status)
                    seconds = None
                yield job, outcome, seconds
        finally:
            with sigint_ignored():  # stopping already: a second Ctrl-C must not cut the stop short
                if pending:
                    gate.close(client)  # from here on, nothing more is published
                    with contextlib.suppress(Exception):
                        client.cancel(list(pending), force=True)


def _waited(completed, stop: Noted, poll: float = 0.05):
    """``completed``'s futures as they finish, checking for a Ctrl-C ``stop`` noted meanwhile
    every ``poll`` seconds: raised as KeyboardInterrupt here, between Dask's calls."""
    while not completed.is_empty():
        if stop.requested:
            raise KeyboardInterrupt
        if completed.has_ready():
            yield next(completed)
        else:
            time.sleep(poll)
    if stop.requested:
        raise KeyboardInterrupt
