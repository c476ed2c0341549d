"""Publishing files atomically, cleaning up after killed runs, and which names are the same file."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from ..errors import OutputError, OutputExists

try:  # advisory locks mark a temporary file as in use; without them stale files are judged by age only
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]  # the module or None: checked before each use

__all__ = [
    "atomic_path",
    "publish",
    "publish_gate",
    "remove_stale_temporaries",
    "writers_at_work",
    "identity",
    "file_state",
    "same_file",
    "inside",
    "folder_mode",
]

#: Temporary files: a fixed-length name, so that a destination of any valid length can be written.
#: A new file is made as ``.varcolor-XXXXXXXX.tmp`` and at once renamed to carry its tag.
_TMP_PREFIX, _TMP_SUFFIX = ".varcolor-", ".tmp"
_TMP_PATTERN = re.compile(r"^\.varcolor-([a-z0-9_]{8})(?:-([0-9a-f]{16}))?\.tmp$")
#: The key of the tag (public: the tag is a check against mistakes, not a secret).
_TMP_TAG_KEY = b"varcolor temporary file"
#: By default a temporary file younger than this is not judged stale; where no lock can be asked
#: (no flock), none younger ever is.
_STALE_AFTER = 60.0


def atomic_path(path: str | os.PathLike, *, overwrite: bool = True):
    """Context manager giving a temporary path beside ``path``, published as ``path`` on success.

    A reader never sees a half-written file, and a failure leaves the old file (if any) intact.
    With ``overwrite=False`` an existing ``path`` is never replaced, even one that appeared while
    the temporary file was being written: :class:`~varcolor.errors.OutputExists` is raised and
    the temporary file removed. An operating-system failure (a folder that cannot be made, a
    full disk) is raised as :class:`~varcolor.errors.OutputError` naming ``path``.

    Parameters
    ----------
    path : path-like
        The file to publish.
    overwrite : bool
        Replace an existing ``path`` (default True); False: never.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "table.md"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("| a |")
    >>> target.read_text()
    '| a |'
    """
    return _AtomicPath(Path(path), overwrite)


class _AtomicPath:
    def __init__(self, path: Path, overwrite: bool):
        self.path, self.overwrite = path, overwrite
        self.tmp: Path | None = None
        self.fd: int | None = None

    def __enter__(self) -> Path:
        self.tmp, self.fd = _temporary_beside(self.path)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None and self.fd is not None  # set by __enter__
        try:
            if exc_type is None:
                with _gated():
                    _publish_temporary(self.tmp, self.fd, self.path, self.overwrite)
        finally:
            self.tmp.unlink(missing_ok=True)
            os.close(self.fd)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):  # the write itself failed
            raise _failed(self.path, exc) from exc


#: What each publication in this context passes through first (:func:`publish_gate`); None: nothing.
_GATE: contextvars.ContextVar = contextvars.ContextVar("varcolor_publish_gate", default=None)


@contextlib.contextmanager
def publish_gate(gate: Callable[[], contextlib.AbstractContextManager]):
    """Within this block (in this thread), every file made visible by :func:`atomic_path`,
    :func:`publish` or :func:`write_image` is renamed into place inside ``gate()``, a context
    manager that may refuse by raising (the temporary files are then removed, nothing is
    published): how a folder run stops its workers from publishing once it has stopped
    (:mod:`varcolor.batch`).

    Parameters
    ----------
    gate : callable
        Returns the context manager every publication of this thread goes through.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from varcolor.errors import OutputError
    >>> @contextlib.contextmanager
    ... def closed():
    ...     raise OutputError("the run has stopped")
    ...     yield
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with publish_gate(closed):
    ...     publish([(target, b"data")])
    Traceback (most recent call last):
    ...
    varcolor.errors.OutputError: the run has stopped
    >>> list(target.parent.iterdir())
    []
    """
    token = _GATE.set(gate)
    try:
        yield
    finally:
        _GATE.reset(token)


def _gated() -> contextlib.AbstractContextManager:
    gate = _GATE.get()
    return contextlib.nullcontext() if gate is None else gate()


def check_no_special_file(path: str | os.PathLike) -> None:
    """Refuse an output ``path`` that is (or links to) a device, a pipe or a socket: renamed over,
    it would become a plain file (``--overwrite`` of ``/dev/null``, as root, replaced the system's)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # nothing there (or a name no file can have): written as usual
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise OutputError(f"{path}: a device, pipe or socket, not a file; not replaced (give a file's name)")


def _temporary_beside(path: Path) -> tuple[Path, int]:
    """A new, locked, empty temporary file in ``path``'s folder (made if needed)."""
    check_no_special_file(path)
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "a folder is in the way", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_TMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise _failed(path, exc) from exc
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until published: a cleaner never takes a file in use
    made = Path(tmp)
    named = _TMP_PATTERN.match(made.name)
    assert named is not None  # mkstemp named it with our prefix and suffix
    tagged = made.with_name(_tagged_name(named.group(1), os.fstat(fd).st_ino))
    try:
        os.rename(made, tagged)  # unique: another file cannot have this name's random part and inode
    except OSError:  # kept untagged: never judged stale, never deleted by a cleaner
        return made, fd
    return tagged, fd


def _tagged_name(random_part: str, inode: int) -> str:
    tag = hashlib.blake2b(f"{random_part}:{inode}".encode(), key=_TMP_TAG_KEY, digest_size=8).hexdigest()
    return f"{_TMP_PREFIX}{random_part}-{tag}{_TMP_SUFFIX}"


def _ours(name: str, inode: int) -> bool:
    """Whether ``name`` is a temporary name that varcolor gave to the file of this ``inode``."""
    match = _TMP_PATTERN.match(name)
    return match is not None and bool(match.group(2)) and name == _tagged_name(match.group(1), inode)


def _publish_temporary(tmp: Path, fd: int, path: Path, overwrite: bool) -> None:
    try:
        os.fsync(fd)
        os.chmod(tmp, _new_file_mode(path))
        if overwrite:
            check_no_special_file(path)  # (again: one may have appeared since the temporary was made)
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)  # fails if anything is at ``path``, however recently it appeared
        except FileExistsError:
            raise OutputExists(f"{path}: exists; kept (use --overwrite to replace it)") from None
        except OSError:  # a file system without hard links: check, then rename
            if os.path.lexists(path):
                raise OutputExists(f"{path}: exists; kept (use --overwrite to replace it)") from None
            os.replace(tmp, path)
    except OutputError:  # (refused above, in one line of its own)
        raise
    except OSError as exc:
        raise _failed(path, exc) from exc


def _failed(path: Path, exc: OSError) -> OutputError:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        reason = "a file, not a folder"
    elif isinstance(exc, IsADirectoryError):
        reason = "a folder is in the way"
    else:
        reason = exc.strerror or str(exc)
    if exc.filename and Path(exc.filename) != path and not _TMP_PATTERN.match(Path(exc.filename).name):
        reason = f"{exc.filename}: {reason}"
    return OutputError(f"{path}: cannot write ({reason})")


def _new_file_mode(path: Path) -> int:
    # mkstemp makes 0600 files; give the result the mode a plain open() would (or the replaced file's).
    if path.exists():
        return path.stat().st_mode & 0o7777
    return 0o666 & folder_mode()


def folder_mode() -> int:
    """The mode a plain ``mkdir`` gives a new folder here (0777 less the umask): what a folder made
    by ``tempfile.mkdtemp`` (0700) and renamed into place is given."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


#: Bytes a file given to :func:`publish` by its path is copied by at a time.
_COPY_BLOCK = 1 << 20


def publish(files: Sequence[tuple[str | os.PathLike, bytes | Path]], *, overwrite: bool = True) -> None:
    """Write several files as one unit: each is written under a temporary name first, then they
    are published in the given order, the last one (the unit's marker) last.

    Readers treat a unit whose marker is missing as absent, so a run killed at any moment leaves
    either the whole unit or no marker. With ``overwrite=False`` an existing marker is kept
    (:class:`~varcolor.errors.OutputExists`, nothing published); the files before it are replaced
    when their marker is missing (the leftovers of an interrupted run).

    Parameters
    ----------
    files : sequence of (path-like, bytes or Path)
        Each file's name and content, the unit's marker last. A content given as a
        :class:`~pathlib.Path` is that file's bytes, copied a megabyte at a time (the file itself
        is left as it is): a 40 MP result is published without holding it in memory.
    overwrite : bool
        Replace an existing marker (default True); False: keep it and publish nothing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> publish([(folder / "x.vcir", b"cues"), (folder / "x.png", b"gray")])
    >>> sorted(p.name for p in folder.iterdir())
    ['x.png', 'x.vcir']
    """
    units = [(Path(path), data) for path, data in files]
    marker = units[-1][0]
    if not overwrite and os.path.lexists(marker):
        raise OutputExists(f"{marker}: exists; kept (use --overwrite to replace it)")
    opened: list[tuple[Path, Path, int]] = []
    try:
        for path, data in units:
            tmp, fd = _temporary_beside(path)
            opened.append((path, tmp, fd))
            try:
                with open(tmp, "wb") as f:
                    if isinstance(data, Path):
                        with open(data, "rb") as source:
                            shutil.copyfileobj(source, f, _COPY_BLOCK)
                    else:
                        f.write(data)
            except OSError as exc:
                raise _failed(path, exc) from exc
        with _gated():  # the whole unit, or none of it
            for path, tmp, fd in opened:
                _publish_temporary(tmp, fd, path, overwrite or path != marker)
    finally:
        for _, tmp, fd in opened:
            tmp.unlink(missing_ok=True)
            os.close(fd)


def remove_stale_temporaries(
    folder: str | os.PathLike, *, older_than: float = _STALE_AFTER, keep: Iterable[str | os.PathLike] = ()
) -> list[Path]:
    """Delete the temporary files that killed varcolor runs left in ``folder`` (not recursively)
    and return their paths.

    A file is deleted only when all of these hold: its name is a varcolor temporary name whose tag
    matches the file's inode (so varcolor made this very file: a copy, or a file of another
    program or of an earlier version, is never taken); it is a regular file, not a link; no
    process holds its lock; it is older than ``older_than`` seconds; and it is not one of the
    files ``keep`` names (compared by identity: a run's inputs).

    Parameters
    ----------
    folder : path-like
        The folder to clean (not its subfolders).
    older_than : float
        Seconds a temporary must be older than to be deleted.
    keep : iterable of path-like
        Files never deleted, whatever their names (a run's inputs).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".scan.abcd1234.png.tmp").write_bytes(b"another program's")
    >>> remove_stale_temporaries(folder, older_than=0)
    []
    """
    removed: list[Path] = []
    kept = {identity(path) for path in keep}
    # Without a lock to ask (no flock here), age alone tells whether a writer may still be at work.
    minimum_age = older_than if fcntl is not None else max(older_than, _STALE_AFTER)
    now = time.time()
    for path, fd, info in _our_temporaries(folder):
        if (info.st_dev, info.st_ino) in kept or now - info.st_mtime < minimum_age:
            continue
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while a writer holds it
            if os.stat(path, follow_symlinks=False).st_ino != info.st_ino:  # renamed meanwhile
                continue
            os.unlink(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def _our_temporaries(folder: str | os.PathLike[str]) -> Iterator[tuple[Path, int, os.stat_result]]:
    """Each temporary file varcolor made in ``folder`` (not recursively): its path, a descriptor open on it
    (closed when the next one is taken) and that file's status."""
    try:
        entries = [entry for entry in os.scandir(folder) if _TMP_PATTERN.match(entry.name)]
    except OSError:
        return
    for entry in entries:
        try:
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:  # renamed or removed meanwhile, or a link
            continue
        try:
            info = os.fstat(fd)  # of the file opened, not of whatever the name points to later
            if stat.S_ISREG(info.st_mode) and _ours(entry.name, info.st_ino):
                yield Path(entry.path), fd, info
        finally:
            os.close(fd)  # also lets go of any lock taken on it


def writers_at_work(folder: str | os.PathLike) -> int:
    """How many varcolor writes are under way in ``folder``: its temporaries (tagged as
    :func:`remove_stale_temporaries` checks) whose lock a process holds. A write holds its lock
    until its file is renamed into place or removed, so 0 means none will be published later.
    Where files cannot be locked, a temporary younger than the stale age counts as at work.

    Parameters
    ----------
    folder : path-like
        The folder whose writes are counted (not its subfolders).

    Examples
    --------
    >>> import tempfile
    >>> writers_at_work(tempfile.mkdtemp())
    0
    """
    busy = 0
    for _, fd, info in _our_temporaries(folder):
        if fcntl is None:
            busy += time.time() - info.st_mtime < _STALE_AFTER
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # a writer holds it
            busy += 1
    return busy


# ---------------------------------------------------------------- which names are the same file


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes (hex), read a megabyte at a time: a big scan is
    hashed without holding it. Whether a file is still the one read, where its size and
    time could be kept by a rewrite. Raises OSError where it cannot be read.

    Parameters
    ----------
    path : path-like
        The file.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_state(path: str | os.PathLike) -> tuple | None:
    """The file as it is now: its device, inode, size and modification time (None where it cannot
    be looked at). A published file is a new inode (:func:`publish` renames it into place), so a
    changed state means a new or changed file, and what was read of it holds while it is the same.

    Parameters
    ----------
    path : path-like
        The file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a"
    >>> file_state(path) is None, path.write_bytes(b"x") and file_state(path) == file_state(path)
    (True, True)
    """
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def identity(path: str | os.PathLike) -> tuple[int, int] | str:
    """What makes two names the same file: its device and inode where it exists (so a hard link,
    a symlink or another spelling of the same file is the same), else its resolved path.

    Parameters
    ----------
    path : path-like
        A file's name (it need not exist).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.png").write_bytes(b"x")
    >>> (folder / "b.png").symlink_to(folder / "a.png")
    >>> identity(folder / "b.png") == identity(folder / "." / "a.png")
    True
    """
    try:
        info = os.stat(path)
        return info.st_dev, info.st_ino
    except OSError:
        try:
            return str(Path(path).resolve())
        except (OSError, RuntimeError):
            return str(Path(path).absolute())


def same_file(first: str | os.PathLike, second: str | os.PathLike) -> bool:
    """Whether two names are the same file (:func:`identity`): a hard link or symlink to a file
    is that file; a name where nothing is yet is compared by its resolved path.

    Parameters
    ----------
    first, second : path-like
        The two names.
    """
    return identity(first) == identity(second)


def inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``path`` lies below ``folder`` (at any depth; not ``folder`` itself), judged by
    the identity of each folder above ``path`` once its links are resolved: a symlink into
    ``folder``, a ``..`` and a bind mount of ``folder`` are all seen.

    Parameters
    ----------
    path : path-like
        The name to judge (it need not exist).
    folder : path-like
        The folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "out").mkdir()
    >>> (root / "link").symlink_to(root / "out")
    >>> inside(root / "link" / "a.png", root / "out"), inside(root / "out" / ".." / "a.png", root / "out")
    (True, False)
    """
    target = identity(folder)
    try:
        parent = Path(path).parent.resolve()
    except (OSError, RuntimeError):
        parent = Path(path).parent.absolute()
    return any(identity(above) == target for above in (parent, *parent.parents))
