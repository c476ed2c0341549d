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
image and run: input, outputs, status done / failed / skipped, reason, seconds, bytes, time; for
a job done, also what its outputs were made from: the size and modification time of every file it
read, taken before it ran, a fingerprint of the options, and the size and modification time of
every output as written). The manifest is opened without following a link, as a regular file only.
``resume`` skips a job only when its last "done" record still holds: the same files with the same
sizes and times, the same options, and every output as it was written; anything else is redone
(with ``overwrite``) or kept and reported, with the reason.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import signal
import stat
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .errors import InputError, OutputError, OutputExists, VarcolorError
from .fields import fingerprint
from .io import identity, publish_gate, remove_stale_temporaries, writers_at_work
from .memory import memory_budget

__all__ = [
    "Job",
    "Report",
    "check",
    "run",
    "outcomes",
    "read_manifest",
    "provenance",
    "finished",
    "made_here",
    "MANIFEST",
    "RETRIES",
    "SCHEDULER_VARIABLE",
    "check_scheduler",
    "attempt",
    "on_dask",
    "shared_client",
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
    key : Path, optional
        What the manifest names the job by (default: its first input); ``recolor`` names its
        decoding by the photo, not by the temporary IR it decodes.
    sources : list of dict, optional
        What its outputs are made from, as :func:`provenance` records it (default: its inputs,
        recorded when the run starts).
    """

    inputs: list[Path]
    outputs: list[Path]
    run: Callable[[], str]
    skip: str | None = None
    fail: str | None = None
    memory: int = 0  # bytes its solve needs (0: unknown); a worker runs no more at once than it holds
    key: Path | None = None
    sources: list[dict] | None = None

    @property
    def name(self) -> str:
        """The job's name in the manifest."""
        return str(self.key if self.key is not None else self.inputs[0])


@dataclass
class Report:
    """What a run did: the jobs done (in the order they finished), skipped and failed, the jobs
    that ``resume`` redoes and why and those it skips as finished, and the manifest records of
    this run (one per job, in the order they were settled)."""

    total: int
    done: list[Job] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    redone: list[str] = field(default_factory=list)
    resumed: list[Job] = field(default_factory=list)
    interrupted: bool = False
    rows: list[dict] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0: all went well; 1: some failed; 130: interrupted."""
        return 130 if self.interrupted else (1 if self.failed else 0)


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


def _open_regular(path: Path, write: bool) -> int:
    """A descriptor of the regular file ``path`` (made if ``write``), opened without following a
    link and without blocking on a FIFO; anything else is refused with one line."""
    what = "write" if write else "read"
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT if write else os.O_RDONLY
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
        mode = os.fstat(fd).st_mode
    except OSError as exc:  # a link (ELOOP), a FIFO without reader (ENXIO), a folder (EISDIR), ...
        mode = None
        with contextlib.suppress(OSError):
            mode = os.lstat(path).st_mode
        if mode is None or stat.S_ISREG(mode):
            raise InputError(f"{path}: cannot {what} the manifest ({exc.strerror or exc})") from None
    else:
        if stat.S_ISREG(mode) and write and os.fstat(fd).st_nlink > 1:
            os.close(fd)  # appending would change every file it is linked to (an input, say)
            raise InputError(f"{path}: cannot write the manifest (it has other names: a hard link); move it away")
        if stat.S_ISREG(mode):
            os.set_blocking(fd, True)
            return fd
        os.close(fd)
    kind = "a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a regular file"
    raise InputError(f"{path}: cannot {what} the manifest ({kind}; varcolor writes it as a regular file); move it away")


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """The records of a manifest file.

    A line that is not JSON (as a killed run may leave) is ignored; a manifest that varcolor
    cannot have written (not a regular file, a link, bytes that are not UTF-8, nesting deeper than
    JSON's parser goes) is refused: :class:`~varcolor.errors.InputError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / MANIFEST
    >>> _ = path.write_text('{"input": "a.png", "status": "done"}\\n{"input": "b.p')
    >>> [row["input"] for row in read_manifest(path)]
    ['a.png']
    """
    path = Path(path)
    if not os.path.lexists(path):
        return []
    fd = _open_regular(path, write=False)
    try:
        with open(fd, "rb", closefd=False) as f:
            lines = f.read().split(b"\n")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(
                f"{path}: not a varcolor manifest (line {number} is not UTF-8 text); move it away"
            ) from None
        except RecursionError:
            raise InputError(
                f"{path}: not a varcolor manifest (line {number} nests too deeply); move it away"
            ) from None
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("input"), str):
            rows.append(row)
    return rows


class _ManifestFailure(OutputError):
    """The manifest could not be appended to: the run stops."""


class _Manifest:
    """Appends one JSON line per settled job (written at once: a killed run loses no record).
    Opened when made (refusing a link or a file that is not regular), before any work."""

    def __init__(self, path: Path | None, options: str = ""):
        self.path, self.options, self.fd = path, options, None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"{path}: cannot write the manifest ({exc.strerror or exc})") from None
            self.fd = _open_regular(path, write=True)

    def write(self, job: Job, status: str, reason: str = "", seconds: float | None = None) -> dict:
        made = provenance(job.outputs) if status == "done" else []
        row = {
            "input": job.name,
            "outputs": [str(p) for p in job.outputs],
            "status": status,
            "reason": reason,
            "seconds": None if seconds is None else round(seconds, 3),
            "bytes": sum(entry.get("size") or 0 for entry in made),
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        if status == "done":
            row.update(sources=job.sources, options=self.options, made=made)
        if self.fd is not None:
            data = (json.dumps(row) + "\n").encode("utf-8")
            try:
                while data:  # a write may take part of it (a disk filling up)
                    data = data[os.write(self.fd, data) :]
            except OSError as exc:
                raise _ManifestFailure(f"{self.path}: cannot append to the manifest ({exc.strerror or exc})") from None
        return row

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def provenance(paths: Iterable[str | os.PathLike]) -> list[dict]:
    """What the manifest records of files: each one's path, size and modification time (ns), or
    that it is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_text("four")
    >>> [(entry["size"], entry["path"] == str(path)) for entry in provenance([path])]
    [(4, True)]
    """
    entries = []
    for path in paths:
        try:
            info = os.stat(path)
            entries.append({"path": str(path), "size": info.st_size, "mtime_ns": info.st_mtime_ns})
        except OSError:
            entries.append({"path": str(path), "size": None, "mtime_ns": None})
    return entries


def made_here(manifest: str | os.PathLike) -> set:
    """The identities (:func:`~varcolor.io.identity`) of the outputs that the runs recorded in
    ``manifest`` made and that are still as they made them (same size and modification time): a
    rerun whose output folder is inside its input folder walks them, and must not take them for
    inputs. A file changed since is no longer proven ours: it stays an input (and is never
    overwritten)."""
    ours = set()
    for row in read_manifest(manifest):
        if row.get("status") != "done" or not isinstance(row.get("made"), list):
            continue
        for entry in row["made"]:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                now = provenance([entry["path"]])[0]
                unchanged = (now["size"], now["mtime_ns"]) == (entry.get("size"), entry.get("mtime_ns"))
                if now["size"] is not None and unchanged:
                    ours.add(identity(entry["path"]))
    return ours


def finished(manifest: str | os.PathLike, jobs: list[Job], *, options: dict) -> list[Job]:
    """The jobs that ``resume`` would skip: those whose last "done" record in ``manifest`` still
    holds (the same files as recorded, ``options`` the same, every output as written). A job
    without ``sources`` is judged by its inputs as they are now."""
    for job in jobs:
        if job.sources is None:
            job.sources = provenance(job.inputs)
    done, _ = _resume(Path(manifest), jobs, fingerprint(options))
    return [job for job in jobs if id(job) in done]


def _resume(manifest: Path | None, jobs: list[Job], options: str) -> tuple[set[int], dict[int, str]]:
    """The jobs (by ``id``) that the manifest's last "done" record shows finished and unchanged,
    and, for the others it records as done, why each must be redone."""
    if manifest is None:
        return set(), {}
    last = {}
    for row in read_manifest(manifest):
        if row.get("status") == "done":  # skipped and failed records leave a job's outputs as they were
            last[row["input"]] = row
    finished, redo = set(), {}
    for job in jobs:
        row = last.get(job.name)
        if row is not None:
            why = _changed(row, job, options)
            if why is None:
                finished.add(id(job))
            else:
                redo[id(job)] = why
    return finished, redo


def _changed(row: dict, job: Job, options: str) -> str | None:
    """Why the outputs that ``row`` records no longer stand for ``job`` (None: they do)."""
    sources, made = row.get("sources"), row.get("made")
    if not (isinstance(sources, list) and isinstance(made, list) and isinstance(row.get("options"), str)):
        return "its record does not say what the output was made from (an older varcolor); redone"
    if row["options"] != options:
        return "its output was made with other options"
    if (
        row.get("outputs") != [str(p) for p in job.outputs]
        or [e.get("path") if isinstance(e, dict) else None for e in made] != row["outputs"]
    ):
        return "its outputs were other files"
    if [e.get("path") if isinstance(e, dict) else None for e in sources] != [e["path"] for e in job.sources]:
        return "its output was made from other files"
    for recorded, now in zip(sources, job.sources):
        if recorded != now:
            return f"{now['path']} changed since its output was made"
    for recorded, now in zip(made, provenance(job.outputs)):
        if now["size"] is None:
            return f"{now['path']} is missing"
        if recorded != now:
            return f"{now['path']} changed since it was written (truncated or replaced)"
    return None


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
    options: dict | None = None,
) -> Report:
    """Check ``jobs`` (:func:`check`) and run the ready ones (see the module's docstring for where).

    With ``single`` (one input file) nothing is skipped quietly: the first problem is raised.
    Stale temporary files that killed runs left in the output folders are removed first (never
    an input of the run). With a ``manifest`` path, every job's outcome is appended to it, a job
    done with what its outputs were made from (``options``: the run's options that shape its
    outputs); with ``resume``, jobs whose last "done" record still holds are skipped, and the
    others redone where ``overwrite`` allows, each with its reason (:attr:`Report.redone`).
    A manifest that cannot be appended to (a full disk) stops the run:
    :class:`~varcolor.errors.OutputError` saying how far it got.
    """
    if not jobs:
        raise InputError("no images found")
    manifest = Path(manifest) if manifest is not None else None
    fingerprint_ = fingerprint(options or {})
    if manifest is not None:  # before any work: what each job reads, as it is now
        for job in jobs:
            if job.sources is None:
                job.sources = provenance(job.inputs)
    finished, redo = _resume(manifest, jobs, fingerprint_) if resume else (set(), {})
    resumed = [job for job in jobs if id(job) in finished]
    jobs = [job for job in jobs if id(job) not in finished]
    verdicts = [
        (job, status, f"{job.outputs[-1]}: exists, but {redo[id(job)]}; kept (use --overwrite to redo it)")
        if status == "skipped" and id(job) in redo and not job.skip
        else (job, status, reason)
        for job, status, reason in _verdicts(jobs, overwrite, protected)
    ]
    ready = [job for job, status, _ in verdicts if status == "ready"]
    problems = [reason for _, status, reason in verdicts if status == "failed"]
    problems += [reason for _, status, reason in verdicts if status == "skipped"]
    if single and problems:
        raise InputError(problems[0])
    report = Report(len(jobs) + len(resumed), resumed=resumed)
    report.redone = [f"{job.name}: {redo[id(job)]}" for job in ready if id(job) in redo]
    if scheduler is not None and client is None:  # before anything is written: the output folder, the manifest
        check_scheduler(scheduler)
    record = _Manifest(manifest, fingerprint_)
    folders = sorted({job.outputs[-1].parent for job in ready})
    inputs = [*protected, *(path for job in jobs + resumed for path in job.inputs)]
    bar = None
    # What each output's marker was before the run: an output the run published but could not
    # report (stopped, scheduler lost) is told by the disk, so that the report agrees with it.
    before = {id(job): _state(job.outputs[-1]) for job in ready}
    settled: set[int] = set()
    lost: list[tuple[Job, SchedulerLost]] = []
    stream = None
    try:
        for job, status, reason in verdicts:
            if status != "ready":
                (report.failed if status == "failed" else report.skipped).append(reason)
                report.rows.append(record.write(job, status, reason))
        report.skipped += [
            f"{job.name}: done by an earlier run (manifest: same files, options and outputs)" for job in resumed
        ]
        stale = [path for folder in folders for path in remove_stale_temporaries(folder, keep=inputs)]
        if stale and warn:
            warn(f"removed {len(stale)} temporary file(s) left by an interrupted run (e.g. {stale[0]})")
        bar = tqdm(total=len(ready), desc=verb, unit="img", disable=quiet or single or None, file=sys.stderr)
        stream = outcomes(ready, workers, scheduler=scheduler, client=client)
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
        if lost:  # a publication under way as the scheduler went away: wait until it has ended
            time.sleep(LOST_GRACE)
            # A worker past the gate still renames its files into place; on a loaded machine that
            # took over a second once. Its temporaries stay locked until then.
            deadline = time.monotonic() + GATE_TIMEOUT
            while time.monotonic() < deadline and any(writers_at_work(folder) for folder in folders):
                time.sleep(0.05)
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
            if stream is not None:
                stream.close()  # the workers stopped: from here on nothing more is published
            for job in ready:  # published before the stop, not yet reported: done
                if id(job) not in settled and _state(job.outputs[-1]) not in (None, before[id(job)]):
                    report.done.append(job)
                    report.rows.append(record.write(job, "done", "published as the run was interrupted"))
            # The stopped workers' half-written files are temporaries no process holds any more.
            for folder in folders:
                remove_stale_temporaries(folder, older_than=0, keep=inputs)
    except _ManifestFailure as exc:  # a full disk, say: stop, and say how far the run got
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


def _state(path: Path) -> tuple | None:
    """A file's inode, size and modification time (None: absent): a published file is a new
    inode (:mod:`varcolor.io` renames it into place), so a changed state means a new file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def attempt(work: Callable[[], object], gate: _StopGate | None = None) -> tuple[object, float]:
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
    if not on_dask(workers, scheduler, client) or (client is None and scheduler is None and len(jobs) <= 1):
        for job in jobs:
            yield (job, *attempt(job.run))
        return
    with _dask_client(workers, scheduler, client) as dask_client:
        yield from _dask_outcomes(jobs, dask_client)


def on_dask(workers: int = 1, scheduler: str | None = None, client=None) -> bool:
    """Whether a run with these settings goes to Dask (a client given, a scheduler
    given or in ``$VARCOLOR_SCHEDULER``, or several workers) rather than staying in this process."""
    return client is not None or workers > 1 or bool(scheduler or os.environ.get(SCHEDULER_VARIABLE))


@contextlib.contextmanager
def shared_client(workers: int = 1, scheduler: str | None = None, client=None):
    """The one Dask client of a command of several runs (``recolor`` starts its LocalCluster
    once): ``client`` itself where given, else a new one where these settings go to Dask
    (:func:`on_dask`), else None (the runs stay in this process). Pass it to each run.

    >>> with shared_client(1) as client:
    ...     client is None
    True
    """
    scheduler = scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
    if client is not None or not on_dask(workers, scheduler):
        yield client
        return
    with _dask_client(workers, scheduler, None) as made:
        yield made


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
    local = None
    try:
        with sigint_deferred():  # a Ctrl-C while the client connects comes once it exists, so it is closed
            local = Client(cluster, set_as_default=False)
        with local:
            yield local
    finally:
        with sigint_ignored():
            if local is not None:
                local.close()  # a no-op once closed; a client left half-made printed a traceback at exit
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
            attempt,
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
