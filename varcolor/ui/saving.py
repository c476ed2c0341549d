"""Saving a studio document at full resolution, as one unit, off the server's request path.

:class:`Saves` checks a save's name and files, decides its solver and estimate, and keeps the one
save under way (:class:`SaveJob`). A save is the command the page prints, run in a child process:
the printed command reproduces the result by construction, the solve's memory goes with the
child, and a save can be cancelled. Its files are published as one unit (:func:`varcolor.io.publish`,
the session file last as its marker) under a journal; :func:`recover` takes back what a killed
save left. Each save holds a lock (flock) so that studios sharing a data folder never recover a
live one's.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from .. import methods
from ..app.cues import cue_path
from ..common.fields import path_word
from ..common.memory import give_back_free_memory, memory_budget
from ..errors import InputError, OutputError
from ..io import (
    WRITE_EXTENSIONS,
    check_writable,
    encode_image,
    file_sha256,
    inside,
    publish,
    remove_stale_temporaries,
    same_file,
)
from ..methods import build_options
from .document import DEFAULT_PRESET, PRESETS, SECONDS_PER_MEGAPIXEL, Document, points_file, rasterize, session_dict
from .refphoto import Suggestions

__all__ = [
    "Saves",
    "SaveJob",
    "recover",
    "command_line",
    "save_request",
    "drawing",
    "draw_mask",
    "claim",
    "release",
    "SAVE_FORMATS",
]

log = logging.getLogger("varcolor.ui")

#: Seconds a save's child process takes to start and read the photo before it solves (until this
#: session has timed its own).
START_SECONDS = 3.0
#: A save's solver is chosen to fit in this share of the memory budget when it starts.
SAVE_MEMORY_SHARE = 0.7
#: ``ora``, ``psd``: a layered file (the photo, the result above it, the strokes hidden on top).
SAVE_FORMATS = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "ora": ".ora", "psd": ".psd"}
#: A spare child's work ahead waits while the studio says it is busy, for this many seconds at most
#: since it last said so: a lost "idle" costs a pause of the work ahead, never a save.
PAUSE_LEASE = 3.0
BUSY_AGAIN = 1.0
#: How often a spare child's pacer (:class:`Spare`) asks whether the studio is busy, in seconds.
PACE_SECONDS = 0.02
#: A save's child process: :mod:`varcolor.ui.save_child`.
CHILD_MODULE = "varcolor.ui.save_child"


def save_request(photo: Path, mask: Path, output: Path, options: dict, solver: str | None, bits: int) -> dict:
    """What a save's child runs (:func:`varcolor.app.run_request`): the same colorization as
    :func:`command_line` prints, as plain values.

    Examples
    --------
    >>> save_request(Path("a.png"), Path("m.png"), Path("o.png"), {"method": "levin"}, "direct", 8)["solver"]
    'direct'
    """
    chosen = build_options(**options, **({"solver": solver} if solver is not None else {}))
    return {
        "command": "colorize",
        "source": str(photo),
        "output": str(output),
        "mask": str(mask),
        "edges": "exact",  # as the printed command: each stroke pixel in its own colour
        "bits": 16 if bits == 16 else None,
        "quiet": True,
        **chosen.keywords(),
    }


def command_line(photo: Path, mask: Path, output: Path, options: dict, solver: str | None, bits: int) -> list[str]:
    """The ``varcolor colorize`` arguments that colorize ``photo`` from the stroke mask ``mask``
    into ``output`` with the studio method's ``options`` and the ``solver`` decided for it (its
    options' flags rendered by :meth:`varcolor.options.Options.flags`, the command line's own).

    Examples
    --------
    >>> command_line(Path("a.png"), Path("m.png"), Path("o.png"), {"method": "levin"}, "direct", 8)[:8]
    ['colorize', 'a.png', '--mask', 'm.png', '--edges', 'exact', '-o', 'o.png']
    """
    chosen = build_options(**options, **({"solver": solver} if solver is not None else {}))
    # Paths a user named may start with "-": never read as options (path_word). Each stroke pixel
    # is taken in its own colour, as the live view does.
    argv = ["colorize", path_word(photo), "--mask", path_word(mask), "--edges", "exact", "-o", path_word(output)]
    argv += chosen.flags(always=("method",))
    if bits == 16:
        argv += ["--bits", "16"]
    return argv


def drawing(doc: Document, shape: tuple[int, int]) -> dict:
    """What a save's child draws as the stroke mask (:func:`draw_mask`): ``doc``'s strokes and
    points at the photo's ``shape``, as plain values (drawn in the child: a scan's mask weighed on
    the studio's peak)."""
    drawn = {"strokes": list(doc.strokes), "points": list(doc.points), "shape": list(shape)}
    if doc.suggestions is not None and doc.suggestions.count:
        drawn["suggestions"] = doc.suggestions.rows()  # a reference's, kept where no stroke cleared them
    return drawn


def draw_mask(drawing: dict, path: Path) -> None:
    """Draw a save's stroke mask (:func:`drawing`; what
    :func:`~varcolor.ui.document.rasterize` makes of the document) into the PNG ``path``."""
    shape = tuple(drawing["shape"])
    suggestions = drawing.get("suggestions")
    doc = Document(
        strokes=tuple(drawing["strokes"]),
        points=tuple(drawing["points"]),
        suggestions=None if suggestions is None else Suggestions.from_rows(suggestions, shape, "suggestions"),
    )
    path.write_bytes(encode_image(rasterize(doc, shape), ".png"))


class Saves:
    """A studio session's saves: at most one under way, and how long finished ones took."""

    def __init__(self, data_dir: Path, out_dir: Path):
        self.data_dir, self.out_dir = Path(data_dir), Path(out_dir)
        self.job: SaveJob | None = None
        #: The next save's child, started before it is asked for (:meth:`Spare.start`).
        self.spare = Spare()
        self._rates: dict[str, float] = {}  # seconds per pixel of this session's last save of each method
        self._measured: set[str] = set()
        # Held from the "a save is under way" check until the save has started (two requests at once).
        self._starting = threading.Lock()

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start(self, image, doc: Document, name: str, fmt: str, overwrite: bool, live_rates: dict[str, float]) -> dict:
        """Start saving ``doc`` at full resolution, inside ``out_dir``, as one unit: the result,
        the stroke mask (``NAME_mask.png``: strokes and points), the points (``NAME.points.json``)
        and the session (``NAME.studio.json``). Refuses at once (one line) a bad name, a name that
        is the photo, existing files without ``overwrite`` (``FileExistsError`` with their paths), a
        solve that does not fit, a photo changed on disk, a save while one is under way. Returns
        the save's first status."""
        with self._starting:
            if self.running:
                raise InputError("a save is under way: wait for it or cancel it")
            return self._start(image, doc, name, fmt, overwrite, live_rates)

    def _start(self, image, doc: Document, name: str, fmt: str, overwrite: bool, live_rates: dict[str, float]) -> dict:
        if not isinstance(fmt, str) or fmt not in SAVE_FORMATS:
            raise InputError(f"unknown format {fmt!r}; available: {', '.join(SAVE_FORMATS)}")
        base = self._inside_out_dir(name)
        paths = {
            "result": base.with_name(base.name + SAVE_FORMATS[fmt]),
            "mask": cue_path(base.parent, base.name, "mask"),  # named so that `varcolor colorize` finds them
            "points": cue_path(base.parent, base.name, "points"),
            "session": base.with_name(base.name + ".studio.json"),
        }
        for path in paths.values():
            if same_file(path, image.path):  # a hard link or symlink to the photo too
                raise InputError(f"{path}: that is the photo itself; choose another name")
        existing = [str(p) for p in paths.values() if p.exists()]
        if existing and not overwrite:
            raise FileExistsError(existing)
        for path in paths.values():  # a pipe, a folder in the way: refused now, not after the solve
            check_writable(path, image=False)
        method = doc.settings.get("method", DEFAULT_PRESET)
        options = dict(PRESETS[method])
        # The solver is decided here, once, and named in the command ("auto" could pick another
        # later), to fit in SAVE_MEMORY_SHARE of the budget so that the child still finds room.
        method_class = methods.get(options["method"])
        budget, _ = memory_budget()
        try:
            share = build_options(**options, max_memory=SAVE_MEMORY_SHARE * budget)
            solver = method_class.plan(image.shape, share).solver
        except InputError:
            try:
                solver = method_class.plan(image.shape, build_options(**options)).solver
            except InputError as exc:
                raise InputError(f"{image.name}: {exc}") from None
        if image.changed():
            raise InputError(f"{image.path}: the photo changed on disk since it was opened; open it again")
        bits = 16 if image.bits == 16 and fmt != "jpeg" else 8
        save_id = uuid.uuid4().hex[:12]
        job = SaveJob(
            work=self.data_dir / "saving" / save_id,
            photo=image.path,
            files=paths,
            drawing=drawing(doc, image.shape),
            points=points_file(doc, image.shape),
            session=session_dict(doc, image.record()),
            options=options,
            solver=solver,
            bits=bits,
            overwrite=overwrite,
            estimate=self._estimate(method, image.shape, live_rates),
            spare=self.spare,
            journal=self.data_dir / "saving" / f"{save_id}.json",
        )
        job.method, job.pixels = method, image.shape[0] * image.shape[1]
        self.job = job.start()
        log.info("saving %s: %s", paths["result"], job.command)
        return job.status()

    def _estimate(self, method: str, shape: tuple[int, int], live_rates: dict[str, float]) -> float:
        """Seconds a save should take: this session's last save of the method, per pixel, else its
        live solves' rate (scaled up for full resolution), else
        :data:`~varcolor.ui.document.SECONDS_PER_MEGAPIXEL`; plus the child's start."""
        pixels = shape[0] * shape[1]
        rate = self._rates.get(method)
        if rate is None and method in live_rates:
            rate = 1.5 * live_rates[method]
        if rate is None:
            rate = SECONDS_PER_MEGAPIXEL[method] / 1e6
        return START_SECONDS + rate * pixels

    def status(self) -> dict:
        """The last save's progress (``state``: solving, publishing, done, failed, cancelled)."""
        job = self.job
        if job is None:
            return {"state": None}
        status = job.status()
        if job.state == "done" and job.solve_seconds and job.method not in self._measured:
            self._measured.add(job.method)
            rate = max(job.solve_seconds - START_SECONDS, 0.1) / job.pixels
            self._rates[job.method] = rate
        return status

    def cancel(self, wait: float | None = 30) -> None:
        """Stop a save under way (nothing of it is kept); ``wait``: up to that many seconds for it
        to end (None: do not wait)."""
        job = self.job
        if job is not None and job.running:
            job.cancel()
            if wait is not None:
                job.wait(wait)

    def _inside_out_dir(self, name: str) -> Path:
        if not isinstance(name, str) or not name.strip() or "\x00" in name:
            raise InputError("give a file name to save as")
        name = name.strip()
        for suffix in WRITE_EXTENSIONS:
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        if Path(name).is_absolute():
            raise PermissionError(f"{name}: results are saved inside {self.out_dir} only")
        # The longest of the unit's names (NAME.studio.json) must fit the file system's limit.
        limit = _name_max(self.out_dir)
        if max((len(os.fsencode(part)) for part in Path(name).parts), default=0) + len(".studio.json") > limit:
            raise InputError(f"{name[:40]}…: too long a file name (at most {limit} bytes with its suffix)")
        base = (self.out_dir / name).resolve()
        if not inside(base, self.out_dir):
            raise PermissionError(f"{name}: results are saved inside {self.out_dir} only")
        return base


def _name_max(folder: Path) -> int:
    """The longest file name ``folder``'s file system takes, in bytes."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


class SaveJob:
    """One save under way: the child process, its progress against an estimate, and the unit it
    publishes (``files``: kind -> final path, the session file last)."""

    def __init__(
        self,
        *,
        work: Path,
        photo: Path,
        files: dict[str, Path],
        drawing: dict,
        points,
        session: dict,
        options: dict,
        solver: str | None,
        bits: int,
        overwrite: bool,
        estimate: float,
        journal: Path,
        spare: Spare | None = None,
    ):
        self.id = uuid.uuid4().hex[:12]
        self.work, self.photo, self.files = work, photo, files
        self.points, self.session = points, session
        self.options, self.solver, self.bits, self.overwrite = options, solver, bits, overwrite
        self.estimate, self.journal, self.spare = estimate, journal, spare
        self.state = "solving"  # then: publishing, done, failed, cancelled
        self.error: str | None = None
        self.started = time.monotonic()
        self.seconds: float | None = None
        self.solve_seconds: float | None = None
        self.method = ""  # the studio's method and the photo's pixels: what its rate is learnt for
        self.pixels = 0
        self._cancel = threading.Event()
        self._child: subprocess.Popen | None = None
        self._lock: int | None = None  # the save's lock (claim), held while it runs
        self.keep_work = False  # a publication that could not be taken back: left for recover()
        result_name = "result" + files["result"].suffix
        self._request = save_request(photo, work / "mask.png", work / result_name, options, solver, bits)
        self._request["draw_mask"] = {**drawing, "path": str(work / "mask.png")}
        self.command = "varcolor " + shlex.join(
            command_line(photo, files["mask"], Path("OUT" + files["result"].suffix), options, solver, bits)
        )
        self.thread = threading.Thread(target=self._run, name="varcolor-save", daemon=True)

    def start(self) -> SaveJob:
        # Held before the work folder and the journal exist: no other studio's recovery sees them.
        self.work.parent.mkdir(parents=True, exist_ok=True)
        self._lock = claim(self.work.parent / (self.work.name + ".lock"))
        if self._lock is None:
            raise OutputError(f"{self.work}: another process holds this save's lock")
        self.thread.start()
        return self

    @property
    def running(self) -> bool:
        return self.state in ("solving", "publishing")

    def cancel(self) -> None:
        """Stop the save: the child is killed; nothing of the unit is published (once it is being
        published, it finishes: publishing is the last, short step)."""
        self._cancel.set()
        child = self._child
        if child is not None and child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except OSError:
                pass

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the save's thread to end."""
        self.thread.join(timeout)

    def status(self, now: float | None = None) -> dict:
        """What the page shows: state, seconds so far, the estimate, the fraction done (by time
        against the estimate while solving), and when done the files and the command."""
        now = time.monotonic() if now is None else now
        elapsed = (self.seconds if self.seconds is not None else now - self.started) or 0.0
        if self.state == "done":
            fraction = 1.0
        else:
            fraction = min(elapsed / max(self.estimate, 1e-9), 0.99) if self.state == "solving" else 0.99
        out = {
            "id": getattr(self, "id", None),
            "state": self.state,
            "elapsed": elapsed,
            "estimate": self.estimate,
            "fraction": fraction,
            "error": self.error,
        }
        if self.state == "done":
            out.update(
                paths={k: str(v) for k, v in self.files.items()},
                bits=self.bits,
                seconds=self.seconds,
                solve_seconds=self.solve_seconds,
                command=self.command,
                solver=self.solver,
            )
        return out

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._solve()
            if self._cancel.is_set():
                self.state = "cancelled"
                return
            self.state = "publishing"
            self._publish()
            self.state = "done"
            log.info("saved %s (%.1f s)", self.files["result"], time.monotonic() - self.started)
        except (InputError, OutputError) as exc:
            self.state, self.error = ("cancelled", None) if self._cancel.is_set() else ("failed", str(exc))
            if self.error:
                log.warning("save failed: %s", self.error)
        except Exception as exc:  # noqa: BLE001 - one line on the page; the details in the log
            log.exception("save failed")
            self.state, self.error = "failed", f"internal error while saving: {type(exc).__name__}: {exc}"
        finally:
            self.seconds = time.monotonic() - self.started
            give_back_free_memory()  # the result's bytes
            if not self.keep_work:
                shutil.rmtree(self.work, ignore_errors=True)
            release(self._lock, self.work.parent / (self.work.name + ".lock"))

    def _solve(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        start = time.monotonic()
        spare = self.spare.take() if self.spare is not None else None
        self._child = spare or _child([], env)
        log.info("save %s solving in %s child %d", self.id, "the spare" if spare else "a fresh", self._child.pid)
        if self._cancel.is_set():
            self.cancel()
        _, err = self._child.communicate(json.dumps(self._request).encode() + b"\n")
        self.solve_seconds = time.monotonic() - start
        log.info("save %s: its child ended after %.1f s", self.id, self.solve_seconds)
        if self._cancel.is_set():
            return
        code = self._child.returncode
        if code < 0:  # a signal from outside: whatever it last printed is not why it ended
            name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
            why = " (out of memory?)" if code == -signal.SIGKILL else ""
            raise OutputError(f"saving failed: its process was killed by {name}{why}; nothing was saved")
        if code != 0:
            lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit code {code}"
            raise OutputError(f"saving failed: {reason.removeprefix('varcolor: ')}")

    def _publish(self) -> None:
        # The child's files by their paths, copied into place a megabyte at a time, not read whole.
        unit: list[tuple[Path, bytes | Path]] = [
            (self.files["result"], self.work / ("result" + self.files["result"].suffix)),
            (self.files["mask"], self.work / "mask.png"),
            (self.files["points"], json.dumps(self.points, indent=1).encode()),
            (self.files["session"], json.dumps(self.session, indent=1).encode()),  # the marker: last
        ]
        if not self.overwrite:
            there = [str(path) for path, _ in unit if path.exists()]
            if there:
                raise OutputError(f"{there[0]}: appeared while saving; kept (save again to replace it)")
        journal = {
            "files": [str(path) for path, _ in unit],
            "sha256": [
                file_sha256(data) if isinstance(data, Path) else hashlib.sha256(data).hexdigest() for _, data in unit
            ],
            # Made before the journal names them: a save killed before its marker puts these back.
            "before": [_keep_before(path, self.work / "before" / str(i)) for i, (path, _) in enumerate(unit)],
        }
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        self.journal.write_text(json.dumps(journal))
        try:
            publish(unit, overwrite=True)
        except BaseException:
            try:
                _take_back(self.journal)  # before the work folder (with what was replaced) goes
            except OSError:
                self.keep_work = True  # the journal and what it names, for the next start's recovery
            raise
        self.journal.unlink()


class Spare:
    """The next save's child process, started ahead (:mod:`varcolor.ui.save_child`), which runs
    the save's request once it has it. At most one is kept; it ends with the studio. While it
    waits, it is told whether the studio is busy (``busy``, polled every :data:`PACE_SECONDS`),
    so that its work ahead waits while a stroke is solved and painted."""

    def __init__(self, busy: Callable[[], bool] | None = None):
        self._child: subprocess.Popen | None = None
        self._photo: Path | None = None
        self._lock = threading.Lock()
        #: Whether the studio is busy now (None: never).
        self.busy = busy
        self._poke = threading.Event()

    def start(self, photo: Path | None = None) -> None:
        """Start one, unless one is waiting for the same ``photo`` (whose gray it makes ahead:
        :mod:`varcolor.ui.save_child`); one waiting for another photo is stopped."""
        with self._lock:
            if self._child is not None and self._child.poll() is None and self._photo != photo:
                _stop(self._child)
                self._child = None
            if self._child is None or self._child.poll() is not None:
                env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
                self._child = _child(["--spare"] + ([str(photo)] if photo is not None else []), env)
                self._photo = photo
                # Never blocking the studio: a line that does not fit the pipe now is lost.
                os.set_blocking(_stdin(self._child), False)
                # Said before the child runs a line of its own: it reads this first, and waits.
                said = self._busy_now()
                if said:
                    with suppress(OSError):
                        os.write(_stdin(self._child), b"busy\n")
                pacing = threading.Thread(
                    target=self._pace, args=(self._child, said), name="varcolor-spare", daemon=True
                )
                pacing.start()

    def poke(self) -> None:
        """Ask the studio's busyness now, not at the next poll (an edit has come)."""
        self._poke.set()

    def _busy_now(self) -> bool:
        busy = self.busy
        try:
            return bool(busy()) if busy is not None else False
        except Exception:  # noqa: BLE001 - the studio closing its session: not busy
            return False

    def _pace(self, child: subprocess.Popen, said: bool) -> None:
        """Tell ``child`` while it waits whether the studio is busy: ``busy`` when it becomes so
        and every :data:`BUSY_AGAIN` seconds while it stays so, ``idle`` when it stops (``said``:
        what it was told as it started)."""
        when = time.monotonic()
        while True:
            self._poke.wait(PACE_SECONDS)
            self._poke.clear()
            now_busy = self._busy_now()
            with self._lock:
                if self._child is not child or child.poll() is not None:
                    return  # taken by a save (which never waits), stopped, or dead
                now = time.monotonic()
                if now_busy != said or (now_busy and now - when >= BUSY_AGAIN):
                    with suppress(OSError):  # a full pipe or a dead child: the line is lost
                        os.write(_stdin(child), b"busy\n" if now_busy else b"idle\n")
                    said, when = now_busy, now

    def take(self) -> subprocess.Popen | None:
        """The waiting child (None if there is none): the caller writes it one save's arguments."""
        with self._lock:
            child, self._child = self._child, None
        if child is None or child.poll() is not None:
            return None
        os.set_blocking(_stdin(child), True)
        return child

    def close(self) -> None:
        child = self.take()
        if child is not None:
            _stop(child)


def _stop(child: subprocess.Popen) -> None:
    """Kill a spare child (its process group) and reap it."""
    with suppress(OSError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def _stdin(child: subprocess.Popen) -> int:
    """The descriptor of a save child's stdin: a pipe (:func:`_child` makes it one)."""
    assert child.stdin is not None
    return child.stdin.fileno()


def _child(args: list[str], env: dict) -> subprocess.Popen:
    """A save's child (:mod:`varcolor.ui.save_child`, ``args``: ``--spare [PHOTO]`` or none), its
    stdin a pipe, in its own session (Ctrl-C reaches the studio, which stops it); it ends when the
    studio is gone."""
    return subprocess.Popen(
        [sys.executable, "-m", CHILD_MODULE, str(os.getpid()), repr(PAUSE_LEASE), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )


#: A save's id (``uuid4().hex[:12]``): the names of its work folder, journal and lock.
_SAVE_ID = re.compile(r"^[0-9a-f]{12}$")


def recover(saving: Path) -> list[str]:
    """Finish what killed saves left in the data folder's ``saving`` folder: a unit whose marker is
    missing loses the files it had published (those still the journal's) and gets back those it
    had replaced; temporaries and work folders go. Returns one line per unit taken back."""
    said: list[str] = []
    if not saving.is_dir():
        return said
    # (a save's name is its id, 12 hex digits: whatever else a user keeps in a folder given as the data folder stays)
    saves = sorted({name for path in saving.iterdir() if _SAVE_ID.match(name := path.name.split(".")[0])})
    for save in saves:
        lock = saving / f"{save}.lock"
        fd = claim(lock)
        if fd is None:  # a live process's save (perhaps paused): not ours to touch
            continue
        try:
            said += _take_back(saving / f"{save}.json")
            shutil.rmtree(saving / save, ignore_errors=True)
        except OSError as exc:  # (its folder gone, its drive unplugged): kept whole for a later start
            said.append(
                f"an interrupted save could not be taken back yet ({exc.strerror or exc}); kept for the next start"
            )
            log.warning("%s", said[-1])
        finally:
            release(fd, lock)
    return said


def claim(lock: Path) -> int | None:
    """Lock the file ``lock`` (made if missing) for this process without waiting: its descriptor,
    or None while another live process holds it. The kernel lets go when the process dies."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def release(fd: int | None, lock: Path) -> None:
    """Remove the lock file ``lock`` and let go of it (``fd`` from :func:`claim`)."""
    if fd is None:
        return
    with suppress(OSError):
        lock.unlink()
    os.close(fd)


def _keep_before(path: Path, keep: Path) -> str | None:
    """A link to (or, across file systems, a copy of) the file a save is about to replace at
    ``path``, made at ``keep`` in its work folder; None where there is none."""
    if not path.is_file():
        return None
    keep.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(path, keep)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(path, keep)
    return str(keep)


def _put_back(kept: Path, path: Path) -> None:
    """The file a save replaced at ``path`` put back from ``kept`` (its work folder's link or copy):
    renamed, or across file systems copied beside ``path`` and renamed (:func:`publish`)."""
    try:
        os.replace(kept, path)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        publish([(path, kept)], overwrite=True)
        kept.unlink()


def _named_as_a_unit(files: list[Path]) -> bool:
    """Whether ``files`` are named as a save's unit (:meth:`Saves.start`): in one folder, the
    session file last, the others its name's result, mask or points."""
    marker = files[-1]
    if not marker.name.endswith(".studio.json"):
        return False
    base = marker.name.removesuffix(".studio.json")
    names = {base + suffix for suffix in SAVE_FORMATS.values()} | {marker.name}
    names |= {cue_path(marker.parent, base, kind).name for kind in ("mask", "points")}
    return all(path.parent == marker.parent and path.name in names for path in files)


def _take_back(journal: Path) -> list[str]:
    """The unit of a dead save's ``journal``: taken back unless its marker was published; the
    files it had replaced are put back."""
    said: list[str] = []
    if not journal.is_file():
        return said
    try:
        record = json.loads(journal.read_text())
        files, digests = [Path(p) for p in record["files"]], record["sha256"]
        # (only files in this save's own work folder are ever moved back)
        own = journal.with_suffix("") / "before"
        before = [Path(p) if p and Path(p).parent == own else None for p in record.get("before", [None] * len(files))]
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)
        return said
    if not files or not _named_as_a_unit(files):  # (a hand-written journal: it touches nothing)
        log.warning("%s: names files no save writes; ignored", journal)
        journal.unlink(missing_ok=True)
        return said
    marker = files[-1]
    complete = marker.is_file() and file_sha256(marker) == digests[-1]
    if not complete:
        restored = False
        for index, (path, digest, kept) in enumerate(zip(files, digests, before)):
            # (what the save published there, by its bytes; a file someone wrote since stays)
            ours = path.is_file() and file_sha256(path) == digest
            if kept is not None and kept.is_file() and (ours or not path.exists()):
                _put_back(kept, path)
                restored = True
            elif ours and index < len(files) - 1:
                path.unlink()
        kept_word = "the files it replaced are back" if restored else "none of its files kept"
        said.append(f"an interrupted save of {marker.name} was taken back ({kept_word})")
        log.warning("%s", said[-1])
    for folder in {path.parent for path in files}:
        remove_stale_temporaries(folder, older_than=0)  # a live writer's (flocked) are kept
    journal.unlink(missing_ok=True)
    return said
