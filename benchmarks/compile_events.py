"""A pytest plug-in for ``suite_compiles.py``: every numba compile in a test process (the outermost
of nested ones: a kernel's callees are compiled inside it), with its seconds and the test that
asked for it, and when each test file ran; written at the end to ``$COMPILE_EVENTS_DIR/NAME.json``
(NAME: the pytest-xdist worker, else ``main``).

numba says ``numba:compile`` only when it compiles (a kernel loaded from its cache says nothing),
so with an empty ``NUMBA_CACHE_DIR`` the events are every compile the suite pays for.
Loaded with ``-p compile_events`` (``benchmarks/`` on ``PYTHONPATH``); changes nothing it records.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from numba.core import event

_START = time.time()
_RECORDS: list[dict] = []
_FILES: dict[str, list[float]] = {}
_LOCAL = threading.local()


class _Compiles(event.Listener):
    def on_start(self, ev: event.Event) -> None:
        depth = getattr(_LOCAL, "depth", 0)
        _LOCAL.depth = depth + 1
        if depth == 0:
            function = getattr(ev.data.get("dispatcher"), "py_func", None)
            _LOCAL.started = time.perf_counter()
            _LOCAL.kernel = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"

    def on_end(self, ev: event.Event) -> None:
        _LOCAL.depth -= 1
        if _LOCAL.depth == 0:
            _RECORDS.append(
                {
                    "kernel": _LOCAL.kernel,
                    "types": str(ev.data.get("args")),
                    "seconds": time.perf_counter() - _LOCAL.started,
                    "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
                    "at": time.time() - _START,
                }
            )


event.register("numba:compile", _Compiles())


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    _FILES.setdefault(nodeid.split("::")[0], [time.time() - _START, 0.0])


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    _FILES[nodeid.split("::")[0]][1] = time.time() - _START


def pytest_sessionfinish(session: object) -> None:
    folder = os.environ.get("COMPILE_EVENTS_DIR")
    if folder:
        name = os.environ.get("PYTEST_XDIST_WORKER", "main")
        record = {"compiles": _RECORDS, "files": _FILES, "seconds": time.time() - _START}
        (Path(folder) / f"{name}.json").write_text(json.dumps(record))
