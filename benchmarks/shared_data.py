"""Where the benchmarks find the project's image sets: ``../shared/data`` beside the checkout, or
the folder that ``VARCOLOR_DATA`` names (a copy carried to a machine without ``../shared``, such as
a lent GPU machine: ``benchmarks/gpu_session.sh``)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("VARCOLOR_DATA") or Path(__file__).resolve().parent.parent.parent / "shared" / "data")
