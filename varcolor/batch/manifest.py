"""A folder run's manifest, which ``--resume`` reads: records appended, read back, judged.

A folder run keeps a manifest beside its outputs (:data:`MANIFEST`, JSON Lines: one record per
image and run: input, outputs, status done / failed / skipped, reason, seconds, bytes, time; for
a job done, also what its outputs were made from: the size and modification time of every file
it read, taken before it ran, a fingerprint of the options, and the size and modification time
of every output as written).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ..common.fields import fingerprint
from ..errors import InputError, OutputError
from ..io import identity
from .jobs import Job

__all__ = ["MANIFEST", "read_manifest", "provenance", "made_here", "finished"]

#: The manifest's file name, in a folder run's output folder.
MANIFEST = "varcolor-manifest.jsonl"


def _open_regular(path: Path, write: bool) -> int:
    """A descriptor of the regular file ``path`` (made if ``write``), opened without following a
    link and without blocking on a FIFO; anything else is refused with one line."""
    what = "write" if write else "read"
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT if write else os.O_RDONLY
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
        mode = os.fstat(fd).st_mode
    except OSError as exc:  # a link (ELOOP), a FIFO without reader (ENXIO), a folder (EISDIR), ...
        mode = None
        with contextlib.suppress(OSError):
            mode = os.lstat(path).st_mode
        if mode is None or stat.S_ISREG(mode):
            raise InputError(f"{path}: cannot {what} the manifest ({exc.strerror or exc})") from None
    else:
        assert mode is not None
        if stat.S_ISREG(mode) and write and os.fstat(fd).st_nlink > 1:
            os.close(fd)  # appending would change every file it is linked to (an input, say)
            raise InputError(f"{path}: cannot write the manifest (it has other names: a hard link); move it away")
        if stat.S_ISREG(mode):
            os.set_blocking(fd, True)
            return fd
        os.close(fd)
    kind = "a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a regular file"
    raise InputError(f"{path}: cannot {what} the manifest ({kind}; varcolor writes it as a regular file); move it away")


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """The records of a manifest file.

    A line that is not JSON (as a killed run may leave) is ignored; a manifest that varcolor
    cannot have written (not a regular file, a link, bytes that are not UTF-8, nesting deeper than
    JSON's parser goes) is refused: :class:`~varcolor.errors.InputError`.

    Parameters
    ----------
    path : path
        The manifest (none there: no records).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / MANIFEST
    >>> _ = path.write_text('{"input": "a.png", "status": "done"}\\n{"input": "b.p')
    >>> [row["input"] for row in read_manifest(path)]
    ['a.png']
    """
    path = Path(path)
    if not os.path.lexists(path):
        return []
    fd = _open_regular(path, write=False)
    try:
        with open(fd, "rb", closefd=False) as f:
            lines = f.read().split(b"\n")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(
                f"{path}: not a varcolor manifest (line {number} is not UTF-8 text); move it away"
            ) from None
        except RecursionError:
            raise InputError(
                f"{path}: not a varcolor manifest (line {number} nests too deeply); move it away"
            ) from None
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("input"), str):
            rows.append(row)
    return rows


class ManifestFailure(OutputError):
    """The manifest could not be appended to: the run stops."""


class ManifestWriter:
    """Appends one JSON line per settled job (written at once: a killed run loses no record).
    Opened when made (refusing a link or a file that is not regular), before any work."""

    def __init__(self, path: Path | None, options: str = ""):
        self.path, self.options, self.fd = path, options, None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"{path}: cannot write the manifest ({exc.strerror or exc})") from None
            self.fd = _open_regular(path, write=True)

    def write(
        self, job: Job, status: str, reason: str = "", seconds: float | None = None, error: str | None = None
    ) -> dict:
        """Append ``job``'s record (a done job's with what it read and made); the record."""
        made = provenance(job.outputs) if status == "done" else []
        row = {
            "input": job.name,
            "outputs": [str(p) for p in job.outputs],
            "status": status,
            "reason": reason,
            "seconds": None if seconds is None else round(seconds, 3),
            "bytes": sum(entry.get("size") or 0 for entry in made),
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        if error is not None:
            row["error"] = error
        if status == "done":
            row.update(sources=job.sources, options=self.options, made=made)
        if self.fd is not None:
            data = (json.dumps(row) + "\n").encode("utf-8")
            try:
                while data:  # a write may take part of it (a disk filling up)
                    data = data[os.write(self.fd, data) :]
            except OSError as exc:
                raise ManifestFailure(f"{self.path}: cannot append to the manifest ({exc.strerror or exc})") from None
        return row

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def provenance(paths: Iterable[str | os.PathLike]) -> list[dict]:
    """What the manifest records of files: each one's path, size and modification time (ns), or
    that it is missing.

    Parameters
    ----------
    paths : iterable of path
        The files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_text("four")
    >>> [(entry["size"], entry["path"] == str(path)) for entry in provenance([path])]
    [(4, True)]
    """
    entries = []
    for path in paths:
        try:
            info = os.stat(path)
            entries.append({"path": str(path), "size": info.st_size, "mtime_ns": info.st_mtime_ns})
        except OSError:
            entries.append({"path": str(path), "size": None, "mtime_ns": None})
    return entries


def made_here(manifest: str | os.PathLike, read_from: str | os.PathLike | None = None) -> set:
    """The identities (:func:`~varcolor.io.identity`) of the outputs that the runs recorded in
    ``manifest`` made and that are still as they made them (same size and modification time):
    a rerun whose output folder is inside its input folder walks them.

    Parameters
    ----------
    manifest : path
        The output folder's manifest.
    read_from : path, optional
        Only the runs whose inputs lay under this folder (a run that wrote into its own input
        folder; another run's outputs there, an IR folder's, are the next command's inputs).
    """
    ours = set()
    under = None if read_from is None else identity(read_from)
    for row in read_manifest(manifest):
        if row.get("status") != "done" or not isinstance(row.get("made"), list):
            continue
        if under is not None and not _under(row.get("input"), under):
            continue
        for entry in row["made"]:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                now = provenance([entry["path"]])[0]
                unchanged = (now["size"], now["mtime_ns"]) == (entry.get("size"), entry.get("mtime_ns"))
                if now["size"] is not None and unchanged:
                    ours.add(identity(entry["path"]))
    return ours


def finished(manifest: str | os.PathLike, jobs: list[Job], *, options: dict) -> list[Job]:
    """The jobs that ``resume`` would skip: those whose last "done" record in ``manifest`` still
    holds (the same files as recorded, ``options`` the same, every output as written). A job
    without ``sources`` is judged by its inputs as they are now.

    Parameters
    ----------
    manifest : path
        The output folder's manifest.
    jobs : list of Job
        The run's jobs.
    options : dict
        The run's options that shape its outputs.
    """
    for job in jobs:
        if job.sources is None:
            job.sources = provenance(job.inputs)
    done, _ = resume_plan(Path(manifest), jobs, fingerprint(options))
    return [job for job in jobs if id(job) in done]


def resume_plan(manifest: Path | None, jobs: list[Job], options: str) -> tuple[set[int], dict[int, str]]:
    """The jobs (by ``id``) that the manifest's last "done" record shows finished and unchanged,
    and, for the others it records as done, why each must be redone."""
    if manifest is None:
        return set(), {}
    last = {}
    for row in read_manifest(manifest):
        if row.get("status") == "done":  # skipped and failed records leave a job's outputs as they were
            last[row["input"]] = row
    finished, redo = set(), {}
    for job in jobs:
        done = last.get(job.name)
        if done is not None:
            why = _changed(done, job, options)
            if why is None:
                finished.add(id(job))
            else:
                redo[id(job)] = why
    return finished, redo


def _changed(row: dict, job: Job, options: str) -> str | None:
    """Why the outputs that ``row`` records no longer stand for ``job`` (None: they do)."""
    sources, made = row.get("sources"), row.get("made")
    assert job.sources is not None  # what it reads now, recorded before resume_plan (run, finished)
    if not (isinstance(sources, list) and isinstance(made, list) and isinstance(row.get("options"), str)):
        return "its record does not say what the output was made from (an older varcolor); redone"
    if row["options"] != options:
        return "its output was made with other options"
    if (
        row.get("outputs") != [str(p) for p in job.outputs]
        or [e.get("path") if isinstance(e, dict) else None for e in made] != row["outputs"]
    ):
        return "its outputs were other files"
    if [e.get("path") if isinstance(e, dict) else None for e in sources] != [e["path"] for e in job.sources]:
        return "its output was made from other files"
    if job.outputs and provenance(job.outputs[-1:])[0]["size"] is None:
        # the output itself lost: said before what it was made from, or a file written with it (a map
        # of a chain's dropped with it, made again)
        return f"{job.outputs[-1]} is missing"
    for recorded, now in zip(sources, job.sources):
        if recorded != now:
            return f"{now['path']} changed since its output was made"
    for recorded, now in zip(made, provenance(job.outputs)):
        if now["size"] is None:
            return f"{now['path']} is missing"
        if recorded != now:
            return f"{now['path']} changed since it was written (truncated or replaced)"
    return None


def _under(path, folder) -> bool:
    """Whether the file ``path`` (a manifest row's input) lies under the folder whose identity is ``folder``."""
    if not isinstance(path, str):
        return False
    parent = Path(path).parent
    for ancestor in (parent, *parent.parents):
        if identity(ancestor) == folder:
            return True
    return False
