"""Folder runs: checked plans of jobs, run in this process or on Dask, reported at the end.

A run is a list of :class:`Job` s, one per input image, each naming every file it reads and
every file it writes; :func:`check` refuses, before any work, a plan that would lose a file (an
output over an input, two jobs on one output, an existing output without ``overwrite``).
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
