"""Numba kernels compiled once, for arrays of any memory layout, how many threads they run on, and
saying so while numba compiles.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

import numba
import numba.core.event

from ..errors import InputError
from .threads import usable_cores

#: numba's threading layers in the order varcolor takes them: OpenMP first (Debian's TBB hung
#: processes at exit, numba issue 10556; workqueue aborts when several threads run kernels at once).
#: The user's ``NUMBA_THREADING_LAYER`` or ``NUMBA_THREADING_LAYER_PRIORITY`` wins.
THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]
if not {"NUMBA_THREADING_LAYER", "NUMBA_THREADING_LAYER_PRIORITY"} & set(os.environ):
    # The environment too: numba reads its settings from it again whenever a NUMBA_ variable
    # changes (numba.core.config.reload_config), and processes we start take the same layer.
    os.environ["NUMBA_THREADING_LAYER_PRIORITY"] = " ".join(THREADING_LAYER_PRIORITY)
    numba.config.THREADING_LAYER_PRIORITY = THREADING_LAYER_PRIORITY  # type: ignore[attr-defined]  # set by numba's reload_config, unseen by a checker

__all__ = [
    "ARRAY_CODE_PIXELS",
    "GTV_ARRAY_CODE_PIXELS",
    "DEFAULT_KIND",
    "SYMMETRIC_KIND",
    "start_background_warm",
    "array_code",
    "small_system",
    "kernels_at_every_size",
    "KERNELS_VARIABLE",
    "WARM_MARK",
    "kernels_choice",
    "kernels_warm",
    "kernels_missing",
    "kernels_launch_from_threads",
    "mark_kernels_warm",
    "warm_while_running",
    "interactive",
    "BACKGROUND_WARM_VARIABLE",
    "BACKGROUND_KINDS",
    "PARALLEL_PIXELS",
    "threads_for",
    "solve_threads",
    "busy_cores",
    "any_layout",
    "compile_once",
    "compile_each_once",
]

#: Below this many pixels a solve runs numba's kernels on one thread: on a loaded machine each
#: parallel region costs a time slice (benchmarks/results/code_notes.md).
PARALLEL_PIXELS = 65_536

#: Up to this many pixels (1280×1024) the default engine's steps run as array code (NumPy, SciPy)
#: until ``varcolor warm`` has compiled their kernels, so that a first run compiles nothing
#: (benchmarks/results/first_run.md).
ARRAY_CODE_PIXELS = 1280 * 1024

#: Up to this many pixels (512×384) a ``bilaplacian-gtv`` solve runs as array code while its own
#: kernels are not compiled: past it, waiting for the compile costs less
#: (benchmarks/results/first_run_gtv.md, first_run_gtv_half_mp_limit.md).
GTV_ARRAY_CODE_PIXELS = 512 * 384

#: The kind of run (:data:`varcolor.app.warm.WARM_RUNS`) whose kernels the default engine's steps
#: need: what :func:`array_code` asks about unless told another.
DEFAULT_KIND = "cues"
#: The kind of run of ``levin-symmetric`` (its graph Laplacian and the grid multigrid): up to
#: :data:`ARRAY_CODE_PIXELS` built by array code and solved by a solver that needs no kernel
#: (benchmarks/results/first_run_never_warmed_levin_symmetric.md).
SYMMETRIC_KIND = "levin-symmetric"
#: The kinds whose steps have array code of their own, and the largest image each runs it on.
_ARRAY_KINDS = {
    DEFAULT_KIND: lambda: ARRAY_CODE_PIXELS,
    "bilaplacian-gtv": lambda: GTV_ARRAY_CODE_PIXELS,
    SYMMETRIC_KIND: lambda: ARRAY_CODE_PIXELS,
}


#: The environment variable that chooses between the two for small images: ``array``, ``numba``, or
#: unset or ``auto``: array code until the kernels are compiled (:func:`kernels_warm`), then the kernels.
KERNELS_VARIABLE = "VARCOLOR_KERNELS"
#: What ``varcolor warm`` leaves beside numba's cache once it has compiled the kernels
#: (:func:`mark_kernels_warm`): the numba, Python and varcolor sources it compiled them for.
WARM_MARK = "varcolor-kernels-warm.json"


class _Forked:
    """Whether this process was forked from one whose kernels ran under GNU OpenMP: its steps run as
    array code at any size (:func:`array_code`)."""

    openmp = False


def _after_fork_in_child() -> None:
    # GNU OpenMP's threads do not come through a fork: numba ends a forked child at its first
    # parallel kernel (SIGTERM), and a multiprocessing.Pool then waits for ever on its task.
    with suppress(ValueError):  # (no parallel kernel ran in the parent)
        if numba.threading_layer() == "omp":
            _Forked.openmp = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def array_code(pixels: int, kind: str = DEFAULT_KIND) -> bool:
    """Whether a step of the ``kind`` of run (the default engine's, or ``"bilaplacian-gtv"``) on an image
    (or grid) of ``pixels`` pixels runs as array code rather than its numba kernel.

    Parameters
    ----------
    pixels : int
        The image's (or grid's) size in pixels.
    kind : str, optional
        The kind of run, a key of its own array code's sizes: :data:`DEFAULT_KIND`,
        ``"bilaplacian-gtv"`` or :data:`SYMMETRIC_KIND`.
    """
    if pixels > _ARRAY_KINDS[kind]():
        return _Forked.openmp  # a forked child's array code at any size (slower, but it runs)
    choice = kernels_choice()
    if _Forked.openmp:
        return True
    if choice == "auto" and not kernels_warm(kind):
        if _LONG_LIVED.looks_again():  # the background compile may have finished meanwhile
            kernels_warm.cache_clear()
            if kernels_warm(kind):
                return False
        _warm_later(kind)  # array code for want of the kernels: they are compiled once this process ends
        return True
    return choice == "array"


def kernels_launch_from_threads() -> bool:
    """Whether parallel kernels may be launched from two threads at once: numba's OpenMP and TBB layers
    allow it; its workqueue layer (where neither is installed) aborts the process.
    """
    try:
        return numba.threading_layer() != "workqueue"
    except ValueError:  # no parallel kernel has run yet
        return False


def kernels_missing(pixels: int) -> bool:
    """Whether a step on an image of ``pixels`` pixels that exists only as kernels would compile them in the
    user's face: the choice left to varcolor (``auto``), the kernels not compiled yet.

    Parameters
    ----------
    pixels : int
        The image's size in pixels.
    """
    return kernels_choice() == "auto" and array_code(pixels)


class _LongLived:
    """Whether this process lives long (:func:`warm_while_running`), and when it last looked for
    the background compile's mark."""

    #: Seconds between two looks for the mark (each reads the sources' times: a few milliseconds).
    EVERY = 10.0

    def __init__(self) -> None:
        self.on = False
        self.looked = 0.0

    def looks_again(self) -> bool:
        if not self.on or time.monotonic() - self.looked < self.EVERY:
            return False
        self.looked = time.monotonic()
        return True


_LONG_LIVED = _LongLived()


def warm_while_running() -> None:
    """Say that this process lives long (the studio's server, Krita's Live worker): where it runs array code
    for want of the kernels (:func:`array_code`).
    """
    _LONG_LIVED.on = True
    _LONG_LIVED.looked = time.monotonic()


def interactive() -> bool:
    """Whether this process is an interactive session (a Python or IPython prompt, a Jupyter
    kernel): it lives long, as the studio's server does (:func:`warm_while_running`)."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return True
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and get() is not None


def kernels_choice() -> str:
    """:data:`KERNELS_VARIABLE`'s value (``auto`` where unset); another value raises
    :class:`~varcolor.errors.InputError` naming it (the command line asks before any work)."""
    choice = os.environ.get(KERNELS_VARIABLE) or "auto"
    if choice not in ("array", "numba", "auto"):
        raise InputError(f"{KERNELS_VARIABLE}={choice!r}: say array, numba or auto (or leave it unset)")
    return choice


def _mark_folder() -> Path | None:
    """Where numba keeps varcolor's kernels: ``NUMBA_CACHE_DIR``, else beside the package where that can be
    written (numba's own first choice), else numba's user-wide cache; None where even that cannot be written."""
    if numba.config.CACHE_DIR:  # type: ignore[attr-defined]  # set by numba's reload_config, unseen by a checker
        return Path(numba.config.CACHE_DIR)  # type: ignore[attr-defined]  # as above
    folder = Path(__file__).parent / "__pycache__"
    if os.access(folder if folder.exists() else folder.parent, os.W_OK):
        return folder
    from numba.core.caching import UserWideCacheLocator
    from numba.misc.appdirs import AppDirs

    user = Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)
    folder = user / UserWideCacheLocator.get_suitable_cache_subpath(__file__)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


#: The environment variable that turns off (``0``) the kernels' low-priority compile in the
#: background after a run that went without them (:func:`varcolor.app.warm.warm_in_background`).
BACKGROUND_WARM_VARIABLE = "VARCOLOR_BACKGROUND_WARM"


def background_warm_off() -> bool:
    """Whether :data:`BACKGROUND_WARM_VARIABLE` turns the background compile off: ``0``, or
    ``false``, ``no``, ``off`` in any case (a user who writes ``false`` means it)."""
    return os.environ.get(BACKGROUND_WARM_VARIABLE, "").strip().lower() in ("0", "false", "no", "off")


def background_warm_asked() -> bool:
    """Whether :data:`BACKGROUND_WARM_VARIABLE` asks a one-shot command for the background compile as it
    ends: ``1``, or ``true``, ``yes``, ``on`` in any case.
    """
    return os.environ.get(BACKGROUND_WARM_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


#: The kinds of run :func:`varcolor.app.warm.warm_in_background` compiles for a kind that ran array
#: code for want of its kernels.
BACKGROUND_KINDS = {
    DEFAULT_KIND: ("cues", "edits"),
    "bilaplacian-gtv": ("bilaplacian-gtv",),
    SYMMETRIC_KIND: (SYMMETRIC_KIND,),
}


@functools.cache
def _warm_later(kind: str = DEFAULT_KIND) -> None:
    """Have the kernels of ``kind`` compiled in the background: at once in a long-lived process
    (:func:`warm_while_running`), as it ends in a one-shot one where asked."""
    import multiprocessing

    if background_warm_off() or multiprocessing.parent_process() is not None:
        return
    if not _LONG_LIVED.on and interactive():
        warm_while_running()  # a notebook or a prompt: it lives long, so it takes the kernels once they are compiled
    if _LONG_LIVED.on:  # now: such a process ends hours later, if at all
        _start_warming(BACKGROUND_KINDS[kind])
        return
    if not background_warm_asked():  # a one-shot command leaves nothing running behind it
        return
    if not _PENDING:
        import atexit

        atexit.register(lambda: _start_warming(tuple(_PENDING)))
    _PENDING.extend(k for k in BACKGROUND_KINDS[kind] if k not in _PENDING)


#: The kinds to compile once this process ends (:func:`_warm_later`).
_PENDING: list[str] = []


def _start_warming(kinds: tuple[str, ...]) -> None:
    with suppress(Exception):  # a process ending is no place for an error about a cache
        start_background_warm(kinds)


def start_background_warm(kinds: tuple[str, ...] = BACKGROUND_KINDS[DEFAULT_KIND]) -> subprocess.Popen | None:
    """Start :func:`varcolor.app.warm.warm_in_background` of ``kinds`` in a process of its own, detached
    (its own process group, no terminal, nothing waited for).

    Parameters
    ----------
    kinds : tuple of str, optional
        The kinds of run to compile (of :data:`varcolor.app.warm.WARM_RUNS`); the default engine's
        first solve and edits by default.
    """
    if background_warm_off() or all(kernels_warm(kind) for kind in kinds) or _mark_folder() is None:
        return None
    package = str(Path(__file__).resolve().parents[1])  # where this varcolor is imported from
    env = {
        **os.environ,
        BACKGROUND_WARM_VARIABLE: "0",
        "PYTHONPATH": os.pathsep.join([package, *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    env.pop("VARCOLOR_KERNELS", None)
    quiet = subprocess.DEVNULL
    # A process group of its own (a Ctrl-C at the terminal is not for it) in the user's session,
    # where its nice 19 yields to the user's next run.
    group = {"process_group": 0} if sys.version_info >= (3, 11) else {"preexec_fn": os.setpgrp}
    return subprocess.Popen(
        [sys.executable, "-m", "varcolor.app.warm", *kinds],
        stdin=quiet,
        stdout=quiet,
        stderr=quiet,
        env=env,
        close_fds=True,
        **group,
    )


def _warm_key() -> dict:
    """What compiled kernels are good for: numba's and Python's versions and every varcolor
    source's size and time (numba compiles a module's kernels again when its file changes)."""
    package = Path(__file__).parent
    stamps = []
    for source in sorted(package.rglob("*.py")):
        found = source.stat()
        stamps.append([str(source.relative_to(package)), found.st_size, found.st_mtime_ns])
    return {"numba": numba.__version__, "python": sys.version, "sources": stamps}


def _warm_kinds(folder: Path) -> list[str]:
    """The kinds of run :data:`WARM_MARK` in ``folder`` says are compiled for these sources (none
    where it is missing, unreadable or for other sources)."""
    try:
        mark = json.loads((folder / WARM_MARK).read_text())
        kinds = mark.pop("kinds")
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return []
    return [kind for kind in kinds if isinstance(kind, str)] if isinstance(kinds, list) and mark == _warm_key() else []


@functools.cache
def kernels_warm(kind: str = DEFAULT_KIND) -> bool:
    """Whether ``varcolor warm`` (or the background compile) compiled the kernels of ``kind``.

    Parameters
    ----------
    kind : str, optional
        The kind of run (of :data:`varcolor.app.warm.WARM_RUNS`).
    """
    folder = _mark_folder()
    return folder is not None and kind in _warm_kinds(folder)


def mark_kernels_warm(kinds: tuple[str, ...] = (DEFAULT_KIND,)) -> None:
    """Say (:data:`WARM_MARK`) that the kernels of ``kinds`` are compiled into numba's cache, beside the
    kinds it says already: from then on small images run them too (:func:`array_code`).

    Parameters
    ----------
    kinds : tuple of str, optional
        The kinds of run whose kernels were compiled.
    """
    folder = _mark_folder()
    if folder is None:
        return
    temporary = folder / f".{WARM_MARK}.{os.getpid()}"
    with suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        kinds = tuple(sorted(set(_warm_kinds(folder)) | set(kinds)))
        temporary.write_text(json.dumps({**_warm_key(), "kinds": list(kinds)}))
        os.replace(temporary, folder / WARM_MARK)
        kernels_warm.cache_clear()
    with suppress(OSError):
        temporary.unlink(missing_ok=True)


def small_system(rows: int) -> bool:
    """Whether a linear system's ``rows`` (those built, or a direct solve's unknowns) are built and solved
    by array code: up to the coarse grid (4×4 blocks) of an image that :func:`array_code` takes.

    Parameters
    ----------
    rows : int
        The system's rows (or a direct solve's unknowns).
    """
    return array_code(16 * rows)


@contextmanager
def kernels_at_every_size() -> Iterator[None]:
    """Within this, every step runs its numba kernel whatever the image's size (:func:`array_code` says no):
    what ``varcolor warm`` colorizes its small example with.
    """
    global ARRAY_CODE_PIXELS, GTV_ARRAY_CODE_PIXELS
    before = ARRAY_CODE_PIXELS, GTV_ARRAY_CODE_PIXELS
    ARRAY_CODE_PIXELS = GTV_ARRAY_CODE_PIXELS = 0
    try:
        yield
    finally:
        ARRAY_CODE_PIXELS, GTV_ARRAY_CODE_PIXELS = before


def busy_cores(samples: int = 3) -> int:
    """How many cores other processes keep busy now: the runnable threads the kernel counts
    (``/proc/loadavg``'s fourth field), less the one asking.

    Parameters
    ----------
    samples : int, optional
        How many readings of ``/proc/loadavg`` to take the least of.
    """
    try:
        counts = []
        for sample in range(samples):
            with open("/proc/loadavg") as file:
                counts.append(int(file.read().split()[3].split("/")[0]))
            if sample + 1 < samples:
                time.sleep(0.001)
        return max(min(counts) - 1, 0)
    except (OSError, ValueError, IndexError):
        try:
            return max(round(os.getloadavg()[0]) - 1, 0)
        except OSError:
            return 0


def solve_threads(pixels: int, threads: int | None = None) -> int:
    """The threads a solve of ``pixels`` pixels runs its kernels on: ``threads`` if given (at most numba's
    ``NUMBA_NUM_THREADS``), else the cores not :func:`busy_cores` (at least one).

    Parameters
    ----------
    pixels : int
        The size of the problem.
    threads : int, optional
        The most threads to use (``Options.threads``); None: decided from the cores free now.
    """
    most = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set by numba's reload_config, unseen by a checker
    if pixels < PARALLEL_PIXELS:
        return 1
    if threads is not None:
        return max(1, min(int(threads), most))
    return max(1, min(most, usable_cores() - busy_cores()))


@contextmanager
def threads_for(pixels: int, threads: int | None = None) -> Iterator[int]:
    """Within this, numba's kernels called from this thread run on :func:`solve_threads` threads (numba's
    thread count is the calling thread's own: other threads keep theirs); yields that count.

    Parameters
    ----------
    pixels : int
        The size of the problem, as :func:`solve_threads` takes it.
    threads : int, optional
        The most threads to use; None: decided from the cores free now.
    """
    count = solve_threads(pixels, threads)
    before = numba.get_num_threads()
    if count == before:
        yield count
        return
    numba.set_num_threads(count)
    try:
        yield count
    finally:
        numba.set_num_threads(before)


def any_layout(ndim: int, readonly: bool = True) -> numba.types.Array:
    """The numba type of a float64 array of ``ndim`` dimensions and any strides (read-only
    arrays are passed to it, writable ones too).

    Parameters
    ----------
    ndim : int
        The array's number of dimensions.
    readonly : bool, optional
        Type the array as read-only (default True), which takes writable arrays too.
    """
    return numba.types.Array(numba.float64, ndim, "A", readonly=readonly)


_FIRST_USE = threading.RLock()


def compile_once(kernel, *argument_types) -> None:
    """Compile ``kernel`` for ``argument_types`` on its first use, and no more: whole images and windows of
    them then share one version.

    Parameters
    ----------
    kernel : numba dispatcher
        The kernel (a function made by ``numba.njit``).
    *argument_types : numba type
        The types of its arguments, in order.
    """
    compile_each_once(kernel, tuple(argument_types))


def compile_each_once(kernel, *signatures: tuple) -> None:
    """:func:`compile_once` for several ``signatures`` (tuples of argument types): a kernel that
    takes 8- and 16-bit samples, each compiled on the first use, and no other.

    Parameters
    ----------
    kernel : numba dispatcher
        The kernel (a function made by ``numba.njit``).
    *signatures : tuple
        Each version's argument types, in order.
    """
    if kernel.signatures:
        return
    with _FIRST_USE:  # two threads' first use at once: the second compiled what the first had disabled
        if kernel.signatures:
            return
        for argument_types in signatures:
            kernel.compile(argument_types)
        kernel.disable_compile()


class CompileNotice(numba.core.event.Listener):
    """Says on ``stream`` that numba is compiling varcolor's kernels, which it does once per kind of run."""

    def __init__(self, stream: TextIO, interval: float = 0.5, pause: float = 1.0) -> None:
        self.stream = stream
        try:
            self.tty = stream.isatty()
        except (AttributeError, OSError, ValueError):  # no such method, or a closed stream
            self.tty = False
        self.interval, self.pause = interval, pause
        self.done = 0  # kernels compiled (outermost compiles: nested ones are part of them)
        self.seconds = 0.0  # spent compiling
        self.current = ""
        self._depth = 0
        self._since = 0.0  # when the outermost compile under way started, or the last one ended
        self._open = False  # a progress line is on the terminal, not yet ended
        self._said = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def on_start(self, event) -> None:
        """A compile started: where it is the outermost, note its kernel and, on a terminal, show
        the progress line (elsewhere say once that numba is compiling).

        Parameters
        ----------
        event : numba.core.event.Event
            numba's start of a compile event (its data names the kernel's dispatcher).
        """
        with self._lock:
            self._depth += 1
            if self._depth > 1:
                return
            self._since = time.perf_counter()
            self.current = _kernel_name(event.data["dispatcher"])
            if not self.tty:
                if not self._said:
                    self._write(f"varcolor: {_COMPILING}, {_ONCE}\n")
                self._said = True
                return
            self._open = True
            self._progress()
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="varcolor-compile-notice", daemon=True)
                self._ticker.start()

    def on_end(self, event) -> None:
        """A compile ended: where it was the outermost, count the kernel done and its time.

        Parameters
        ----------
        event : numba.core.event.Event
            numba's end of a compile event.
        """
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                now = time.perf_counter()
                self.done += 1
                self.seconds += now - self._since
                self._since = now

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if not self._open:
                    continue
                if self._depth:
                    self._progress()
                elif time.perf_counter() - self._since >= self.pause:
                    self._end_line()

    def _progress(self) -> None:
        seconds = self.seconds + (time.perf_counter() - self._since if self._depth else 0.0)
        self._write(f"\r\x1b[Kvarcolor: {_COMPILING}, once: {seconds:.0f} s, {self.done} done, now {self.current}")

    def _end_line(self) -> None:
        self._write(f"\r\x1b[Kvarcolor: compiled {self.done} numba kernels in {self.seconds:.0f} s, {_ONCE}\n")
        self._open = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: the notice is not worth a failure
            pass

    def finish(self) -> None:
        """Stop the progress line, ending it with the total if it is still open."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self._open:
                self._end_line()


_COMPILING = "compiling numba kernels"
_ONCE = "once: later runs load them from numba's cache ('varcolor warm' compiles them ahead)"


def _kernel_name(dispatcher) -> str:
    function = dispatcher.py_func
    return f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}"  # short: the line fits


@contextmanager
def compile_notice(stream: TextIO | None = None, quiet: bool = False) -> Iterator[CompileNotice | None]:
    """While the block runs, say on ``stream`` (stderr) when numba compiles a kernel
    (:class:`CompileNotice`); nothing with ``quiet``.

    Parameters
    ----------
    stream : text stream, optional
        Where the notice goes; ``sys.stderr`` by default.
    quiet : bool
        Say nothing.
    """
    if quiet:
        yield None
        return
    notice = CompileNotice(sys.stderr if stream is None else stream)
    numba.core.event.register("numba:compile", notice)
    try:
        yield notice
    finally:
        numba.core.event.unregister("numba:compile", notice)
        notice.finish()
