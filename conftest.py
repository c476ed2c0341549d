"""pytest setup for the doctests collected from the package (`make test`)."""

import importlib.util
import os

# The test processes (the workers and the programs they start) share the cores without spinning,
# set before NumPy, PyTorch or numba loads: `make test` runs a worker on every core, and threads
# that spin while they wait for a core another worker holds take it from the work. One OpenMP and
# BLAS thread a process: beside the other worker, a training test took 13.9 s against 1.3 s
# alone, the studio's suggestions 30 s against 7 s. numba's kernels keep their threads (its own
# setting), on OpenMP's layer where it loads, its threads sleeping as they wait: TBB's yield the
# core in a loop (1:25 of system time in a suite of 4:42, 0:38 in one of 4:09 so, on 2 cores).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("NUMBA_THREADING_LAYER_PRIORITY", "omp tbb workqueue")

# The neural prior and the studio are optional extras: without them, their modules are not collected.
collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["varcolor/neural/*", "varcolor/ui/suggest.py"]
if not importlib.util.find_spec("starlette"):
    collect_ignore_glob.append("varcolor/ui/server.py")
# The Krita plug-in's Qt glue imports Krita's own modules, which only Krita's Python has.
collect_ignore_glob.append("varcolor/krita/plugin/*")
