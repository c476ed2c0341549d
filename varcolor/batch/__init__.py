"""Folder runs: checked plans of jobs, run in this process or on Dask, reported at the end.

A run is a list of :class:`Job` s, one per input image, each naming every file it reads and
every file it writes; :func:`check` refuses, before any work, a plan that would lose a file
(an output over an input, two jobs on one output, an existing output without ``overwrite``).
:func:`run` runs the ready jobs, goes on past a failed one, reports every failure at the end and
keeps a manifest beside the outputs (:data:`MANIFEST`) that ``resume`` reads.

Where jobs run: in this process (one worker, no scheduler), on an embedded Dask ``LocalCluster``
of ``workers`` processes, or on an existing Dask cluster (``scheduler`` address, or a
``dask.distributed.Client`` of the caller's). On a cluster every worker must see the input and
output paths (a shared file system).

One module per job:

- :mod:`~varcolor.batch.jobs`: :class:`Job`, :class:`Report` and the safety checks (:func:`check`);
- :mod:`~varcolor.batch.manifest`: the manifest, written and read (:func:`read_manifest`), what it
  records of files (:func:`provenance`), the outputs it proves ours (:func:`made_here`) and the jobs
  ``resume`` skips (:func:`finished`);
- :mod:`~varcolor.batch.runner`: the run loop (:func:`run`), each job's outcome here or on Dask
  (:func:`outcomes`, :func:`attempt`);
- :mod:`~varcolor.batch.gate`: the stop gate that a run's workers publish through;
- :mod:`~varcolor.batch.cluster`: the Dask client or cluster (:func:`on_dask`, :func:`shared_client`,
  :func:`check_scheduler`), Dask imported only there and only when used;
- :mod:`~varcolor.batch.sigint`: Ctrl-C ignored or held while workers start and stop.
"""

from __future__ import annotations

from ..io import identity
from .cluster import CONNECT_TIMEOUT, SCHEDULER_VARIABLE, check_scheduler, on_dask, shared_client
from .gate import GATE_TIMEOUT, RunStopped
from .jobs import Job, Outcome, Report, Said, check
from .manifest import MANIFEST, finished, made_here, provenance, read_manifest
from .runner import LOST_GRACE, RETRIES, SchedulerLost, Unreported, WorkerLost, attempt, outcomes, run, unreported
from .sigint import sigint_deferred, sigint_ignored

__all__ = [
    "Job",
    "Outcome",
    "Report",
    "Said",
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
    "sigint_ignored",
    "sigint_deferred",
    "RunStopped",
    "SchedulerLost",
    "Unreported",
    "WorkerLost",
    "unreported",
    "CONNECT_TIMEOUT",
    "GATE_TIMEOUT",
    "LOST_GRACE",
    "identity",
]
