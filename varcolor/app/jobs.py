"""Running planned jobs through :mod:`varcolor.batch` (manifest, resume, Dask): :func:`run_jobs`,
and :func:`made_with`, what shapes a run's outputs (the manifest's record of it)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .. import batch
from ..batch import Job, Report
from ..errors import InputError
from ..ir.encode import EncodeOptions
from ..options import Options
from .run_options import RunOptions

__all__ = ["run_jobs", "made_with"]


def made_with(
    *,
    options: Options | None = None,
    encode_options: EncodeOptions | None = None,
    run: RunOptions | None = None,
    **more,
) -> dict:
    """What shapes a run's outputs, for its manifest (``resume`` redoes an output made otherwise):
    the colorization's options, the encoder's, the format of the
    images written (``bits``, ``ext``) and ``more`` (the cue files' kind, the IR's layout...).

    Parameters
    ----------
    options : Options, optional
        The colorization's options (their ``threads`` aside: they do not change an output).
    encode_options : EncodeOptions, optional
        The encoder's options, for a run that encodes.
    run : RunOptions, optional
        The run's options that shape what it writes (``bits``, ``ext``, ``edges``, and the profile and
        layers where chosen).
    **more
        Anything else that shapes the outputs, by name (paths are recorded as strings).
    """
    shaped = dict(options.keywords()) if options is not None else {}
    shaped.pop("threads", None)  # how many threads solved it does not change an output, bit for bit
    if encode_options is not None:
        shaped.update(encode_options.keywords())
    if run is not None:
        shaped.update(bits=run.bits, ext=run.ext, edges=run.edges)
        # an output in another colour space, or from other layers, is another output
        chosen = ("profile", "layer", "strokes_layer")
        shaped.update({name: getattr(run, name) for name in chosen if getattr(run, name) is not None})
    shaped.update({name: str(value) if isinstance(value, Path) else value for name, value in more.items()})
    return shaped


def run_jobs(
    jobs: list[Job],
    *,
    verb: str,
    run: RunOptions,
    source: str | os.PathLike,
    output: str | os.PathLike,
    single: bool,
    made: dict,
    protected=(),
    warn: Callable[[str], None] | None = None,
    client=None,
    note: Callable[[str], None] | None = None,
) -> Report:
    """Run ``jobs`` from ``source`` into ``output`` as ``run`` says (a folder run keeps its
    manifest in ``output``; ``made``: what shapes the outputs, :func:`made_with`); the
    :class:`~varcolor.batch.Report`, whose ``rows`` are the manifest records of this run.

    Parameters
    ----------
    jobs : list of Job
        The planned work, a job per output (none: refused, no images found).
    verb : str
        What the progress bar and the messages call the work done (``colorized``, ``encoded``).
    run : RunOptions
        How the run goes (overwrite, workers, quiet, scheduler, resume).
    source, output : path
        The run's input (named in its messages) and its output folder (which holds the manifest).
    single : bool
        One input file: no manifest, and its first problem is raised, not skipped.
    made : dict
        What shapes the outputs, recorded in the manifest (:func:`made_with`).
    protected : iterable of path
        Files that no output may replace besides the jobs' own inputs.
    warn, note : callable, optional
        Told each job's warnings, and its notes.
    client : dask.distributed.Client, optional
        A client already connected, to run the jobs on.
    """
    if not jobs:
        raise InputError(f"{source}: no images found")
    return batch.run(
        jobs,
        verb=verb,
        overwrite=run.overwrite,
        workers=run.workers,
        quiet=run.quiet,
        single=single,
        protected=protected,
        warn=warn,
        note=note,
        scheduler=run.scheduler,
        client=client,
        manifest=None if single else Path(output) / batch.MANIFEST,
        resume=run.resume,
        options=made,
    )
