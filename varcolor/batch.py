"""Folder runs: checked plans of jobs, run in this process or in a pool, reported at the end.

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
(Ctrl-C), stops the workers at once and says how many files were done.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from tqdm import tqdm

from .errors import InputError, OutputExists, VarcolorError
from .io import remove_stale_temporaries

__all__ = ["Job", "Report", "check", "run", "outcomes", "identity"]


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


@dataclass
class Report:
    """What a run did: the jobs done (in the order they finished), skipped and failed."""

    total: int
    done: list[Job] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    interrupted: bool = False

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


def check(jobs: list[Job], *, overwrite: bool, protected: Iterable[Path] = ()) -> tuple[list[Job], list[str], list[str]]:
    """Split ``jobs`` into (ready, skipped, failed) by the safety rules of this module.

    ``protected`` adds files that no output may replace besides the jobs' own inputs (for
    instance, the photos of a ``recolor`` run while its decode step runs).
    """
    inputs = {}
    for path in [*protected, *(p for job in jobs for p in job.inputs)]:
        inputs.setdefault(identity(path), path)
    writers: dict = {}
    for job in jobs:
        if not job.skip:
            for output in job.outputs:
                writers.setdefault(identity(output), []).append(job)
    ready, skipped, failed = [], [], []
    for job in jobs:
        if job.skip:
            skipped.append(job.skip)
            continue
        problem = None
        for output in job.outputs:
            key = identity(output)
            if key in inputs:
                problem = f"{output}: refusing to overwrite an input file ({inputs[key]})"
                break
            others = [other for other in writers[key] if other is not job]
            if others:
                problem = (f"{job.inputs[0]}: its output {output} would also be written for "
                           f"{', '.join(str(o.inputs[0]) for o in others)}; rename one of them")
                break
        if problem or job.fail:
            failed.append(problem or job.fail)
        elif os.path.lexists(job.outputs[-1]) and not overwrite:
            skipped.append(f"{job.outputs[-1]}: exists; kept (use --overwrite to replace it)")
        else:
            ready.append(job)
    return ready, skipped, failed


def run(jobs: list[Job], *, verb: str, overwrite: bool, workers: int = 1, quiet: bool = False,
        single: bool = False, protected: Iterable[Path] = (),
        warn: Callable[[str], None] | None = None) -> Report:
    """Check ``jobs`` (:func:`check`) and run the ready ones, in ``workers`` processes.

    With ``single`` (one input file) nothing is skipped quietly: the first problem is raised.
    Stale temporary files that killed runs left in the output folders are removed first.
    """
    if not jobs:
        raise InputError("no images found")
    ready, skipped, failed = check(jobs, overwrite=overwrite, protected=protected)
    if single and (skipped or failed):
        raise InputError((failed or skipped)[0])
    report = Report(len(jobs), skipped=skipped, failed=failed)
    stale = [p for folder in sorted({job.outputs[-1].parent for job in ready}) for p in remove_stale_temporaries(folder)]
    if stale and warn:
        warn(f"removed {len(stale)} temporary file(s) left by an interrupted run (e.g. {stale[0]})")
    bar = tqdm(total=len(ready), desc=verb, unit="img", disable=quiet or single or None, file=sys.stderr)
    try:
        for job, outcome in outcomes(ready, workers):
            bar.update()
            if isinstance(outcome, OutputExists):  # appeared while this job ran: kept, like at planning
                if single:
                    raise InputError(str(outcome))
                report.skipped.append(str(outcome))
            elif isinstance(outcome, VarcolorError):
                if single:
                    raise outcome
                report.failed.append(str(outcome))
            else:
                if outcome and warn:
                    warn(outcome)
                report.done.append(job)
    except KeyboardInterrupt:
        report.interrupted = True
        # The stopped workers' half-written files are temporaries no process holds any more.
        for folder in sorted({job.outputs[-1].parent for job in ready}):
            remove_stale_temporaries(folder, older_than=0)
    finally:
        bar.close()
    return report


def _attempt(work: Callable[[], str]) -> str | VarcolorError:
    """Run one job, returning its user-facing error instead of raising it (so a pool goes on)."""
    try:
        return work()
    except VarcolorError as exc:
        return exc


def _quiet_worker() -> None:
    # Ctrl-C reaches the whole process group; the parent alone decides what to do about it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def outcomes(jobs: list[Job], workers: int):
    """(job, outcome) as each job finishes, in this process or in ``workers`` fresh processes."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield job, _attempt(job.run)
        return
    # Fresh (spawned) processes: forking after numba's OpenMP threads have started is unsafe.
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_quiet_worker)
    pending = {pool.submit(_attempt, job.run): job for job in jobs}
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:  # a worker was killed (out of memory, kill -9): the pool is gone
                    outcome = VarcolorError(f"{job.inputs[0]}: a worker process died while this image was "
                                            "being processed (killed, or out of memory); nothing was written")
                yield job, outcome
    except BaseException:
        # Interrupted (or the caller stopped): end the workers now rather than let the pool finish
        # its queue at exit (a half-written output is only ever a locked temporary file). The
        # futures are not cancelled: the pool fails them itself once it sees its workers gone
        # (cancelling first makes Python 3.11's pool raise in its management thread).
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=False)
        raise
    pool.shutdown()
