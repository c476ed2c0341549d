"""pytest setup for the doctests collected from the package (`make test`)."""

import importlib.util
import os

# One OpenMP and BLAS thread in each test process (the workers and the programs they start), set
# before NumPy or PyTorch loads: `make test` runs a worker on every core, and OpenMP's threads
# spin while they wait for a core another worker holds. Beside the other worker, a training test
# took 13.9 s against 1.3 s alone, and the studio's suggestions 30 s against 7 s; the suite 5:43
# against 4:33 so. numba's kernels keep their threads (its own setting), as do the library's.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# The neural prior and the studio are optional extras: without them, their modules are not collected.
collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["varcolor/neural/*", "varcolor/ui/suggest.py"]
if not importlib.util.find_spec("starlette"):
    collect_ignore_glob.append("varcolor/ui/server.py")
# The Krita plug-in's Qt glue imports Krita's own modules, which only Krita's Python has.
collect_ignore_glob.append("varcolor/krita/plugin/*")
