"""A folder run's jobs and the checks made before any work: :class:`Job`, :class:`Report`, :func:`check`.

A run is a list of :class:`Job` s, one per input image, each naming every file it reads and
every file it writes (the last of which marks the job's output as complete). Before any work,
:func:`check` enforces the rules that keep a user's files safe:
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..io import identity

__all__ = ["Job", "Outcome", "Report", "Said", "check"]


class Said(str):
    """A job's outcome line (what the manifest records: its parts joined by "; ") that keeps
    which parts are notes (what was done: the references that gave a photo's cues, blended edges
    read as paint) and which are warnings; a run prints them apart (:func:`~varcolor.batch.run`).

    Examples
    --------
    >>> said = Said(["a.png: cues from b.jpg 100 %", "a.png: clipped"], notes=["a.png: cues from b.jpg 100 %"])
    >>> str(said)
    'a.png: cues from b.jpg 100 %; a.png: clipped'
    >>> said.noted, said.warned
    ('a.png: cues from b.jpg 100 %', 'a.png: clipped')
    """

    parts: tuple[str, ...]
    notes: tuple[str, ...]

    def __new__(cls, parts: Iterable[str], notes: Iterable[str] = ()) -> Said:
        """Join ``parts`` into one line, keeping which are notes.

        Parameters
        ----------
        parts : iterable of str
            The outcome's parts, in order (empty ones and repeats left out).
        notes : iterable of str
            Those of ``parts`` that are notes; the others are warnings.
        """
        kept = tuple(dict.fromkeys(part for part in parts if part))
        said = super().__new__(cls, "; ".join(kept))
        said.parts, said.notes = kept, tuple(note for note in dict.fromkeys(notes) if note in kept)
        return said

    def __reduce__(self):  # str's own would rebuild it from the joined line, as parts
        return Said, (self.parts, self.notes)

    @property
    def noted(self) -> str:
        """The notes, as one line ("" for none)."""
        return "; ".join(self.notes)

    @property
    def warned(self) -> str:
        """The warnings, as one line ("" for none)."""
        return "; ".join(part for part in self.parts if part not in self.notes)


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
        Does the work (picklable, for a pool); returns warnings to show, as one string, or "" (a
        :class:`Said`: its notes apart).
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
    run: Callable[[], object]  # a folder run's: its warnings (str); :func:`outcomes` hands back any outcome
    skip: str | None = None
    fail: str | None = None
    memory: int = 0  # bytes its solve needs (0: unknown); a worker runs no more at once than it holds
    key: Path | None = None
    sources: list[dict] | None = None

    @property
    def name(self) -> str:
        """The job's name in the manifest."""
        return str(self.key if self.key is not None else self.inputs[0])


@dataclass(frozen=True)
class Outcome:
    """A job that was not done, typed: which job, why in a line, and the kind of error.

    Attributes
    ----------
    name : str
        The job's name, as its manifest record names it (:attr:`Job.name`: its first input).
    line : str
        Why, in the line printed and recorded (``str(outcome)`` is this line).
    error : str or None
        The error's class name where an error failed it (``InputError``, ``Unmatched``...), as
        the manifest's ``error`` field records it; None for a skip.
    """

    name: str
    line: str
    error: str | None = None

    def __str__(self) -> str:
        return self.line


@dataclass
class Report:
    """What a run did: the jobs done (in the order they finished), skipped and failed, the jobs
    that ``resume`` redoes and why and those it skips as finished, and the manifest records of
    this run (one per job, in the order they were settled).

    Attributes
    ----------
    total : int
        The jobs of the run, those skipped as finished included.
    done : list of Job
        The jobs done, in the order they finished.
    skipped : list of Outcome
        Each skipped job and why.
    failed : list of Outcome
        Each failed job and why.
    redone : list of str
        The jobs ``resume`` does again, each with its reason.
    resumed : list of Job
        The jobs ``resume`` skips as finished.
    interrupted : bool
        Whether the run was stopped (Ctrl-C).
    rows : list of dict
        The manifest's records of this run.
    """

    total: int
    done: list[Job] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)
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

    Parameters
    ----------
    jobs : list of Job
        The run's jobs.
    overwrite : bool
        Whether an existing output may be replaced (else its job is skipped).
    protected : iterable of path
        Files that no output may replace besides the jobs' own inputs (for instance, the photos
        of a ``recolor`` run while its decode step runs).
    """
    verdicts = judge(jobs, overwrite, protected)
    return (
        [job for job, status, _ in verdicts if status == "ready"],
        [reason for _, status, reason in verdicts if status == "skipped"],
        [reason for _, status, reason in verdicts if status == "failed"],
    )


def judge(jobs: list[Job], overwrite: bool, protected: Iterable[Path]) -> list[tuple[Job, str, str]]:
    """(job, "ready" / "skipped" / "failed", reason) for each job.

    Parameters
    ----------
    jobs : list of Job
        The run's jobs.
    overwrite : bool
        Whether an existing output may be replaced.
    protected : iterable of path
        Files that no output may replace besides the jobs' own inputs.
    """
    inputs: dict[tuple[int, int] | str, Path] = {}
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
        own = [keys[output] for output in job.outputs]
        for output in job.outputs:
            key = keys[output]
            if own.count(key) > 1:
                problem = (
                    f"{output}: two of {job.inputs[0]}'s outputs would be written there "
                    "(its colours and its confidence map?); give them different paths"
                )
                break
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
            verdicts.append((job, "failed", problem or job.fail or ""))
        elif os.path.lexists(job.outputs[-1]) and not overwrite:
            verdicts.append((job, "skipped", f"{job.outputs[-1]}: exists; kept (use --overwrite to replace it)"))
        else:
            verdicts.append((job, "ready", ""))
    return verdicts
