"""Settings for timings, made before NumPy loads: import this module before NumPy.

- ``OPENBLAS_NUM_THREADS=1``: OpenBLAS's spinning threads compete with the numba kernels and the
  direct solver's two threads for the two cores; one BLAS thread is faster here. (The direct
  solver now sets this itself while it runs, :mod:`varcolor.solvers.blas`; the baselines do not.)
- ``NUMPY_MADVISE_HUGEPAGE=0``: NumPy asks the kernel for transparent huge pages on large arrays.
  Where the kernel's THP ``defrag`` setting is ``madvise`` (this machine's, and a common default),
  a first touch of such an array may wait for memory compaction, and in a process that has churned
  through gigabytes (a factorisation) that is slow: on this machine, with huge pages, a first 1 MP
  direct solve took 1.8–2.6 s against 1.6–1.7 s without, and the first update after it
  0.14–0.16 s against 0.08–0.11 s (copies of the previous result into fresh memory).

Both are defaults: a value set in the shell wins.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
