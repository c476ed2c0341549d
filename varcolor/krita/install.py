"""Installing the Krita plug-in: its files copied into Krita's ``pykrita`` folder (under
``$XDG_DATA_HOME/krita``, ``~/.local/share/krita`` by default) and the plug-in enabled in
``kritarc`` (under ``$XDG_CONFIG_HOME``, ``~/.config`` by default); or both undone."""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import OutputError
from .plugin.varcolor_krita import protocol

__all__ = ["NAME", "Installed", "pykrita_folder", "kritarc_path", "install", "uninstall", "program_command"]

#: The plug-in's name: its package and ``.desktop`` file in ``pykrita``, its key in ``kritarc``.
NAME = "varcolor_krita"
_SECTION = "[python]"


@dataclass(frozen=True)
class Installed:
    """Where the plug-in went: its package folder, its ``.desktop`` file, and the ``kritarc`` that
    enables it (None where it was left as it was)."""

    package: Path
    desktop: Path
    kritarc: Path | None


def _home(variable: str, default: str, environ) -> Path:
    value = environ.get(variable, "")
    return Path(value) if os.path.isabs(value) else Path(environ.get("HOME", str(Path.home()))) / default


def pykrita_folder(environ=os.environ) -> Path:
    """Krita's folder of Python plug-ins for this user (Linux: XDG base directories)."""
    return _home("XDG_DATA_HOME", ".local/share", environ) / "krita" / "pykrita"


def kritarc_path(environ=os.environ) -> Path:
    """Krita's settings file for this user."""
    return _home("XDG_CONFIG_HOME", ".config", environ) / "kritarc"


def _plugin_files() -> dict[str, bytes]:
    """The plug-in's files by their path under ``pykrita``: the shipped package, its ``.desktop``
    file and the command of this varcolor (:func:`program_command`)."""
    shipped = resources.files("varcolor.krita") / "plugin"
    files = {f"{NAME}.desktop": (shipped / f"{NAME}.desktop").read_bytes()}
    for entry in (shipped / NAME).iterdir():
        if entry.name.endswith(".py"):
            files[f"{NAME}/{entry.name}"] = entry.read_bytes()
    files[f"{NAME}/{protocol.PROGRAM}"] = json.dumps({"command": program_command()}).encode()
    return files


def _publish(path: Path, data: bytes) -> None:
    """``data`` as the file ``path``, whole or not at all (a temporary file, then a rename). A link
    is written through: its target gets the new bytes and keeps its permissions (a ``kritarc``
    linked from a dotfiles folder stays that folder's file, the link stays a link)."""
    path = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as file:
        file.write(data)
    if mode is not None:
        os.chmod(file.name, mode)
    os.replace(file.name, path)


def _set_enabled(kritarc: Path, enabled: bool) -> None:
    """``enable_varcolor_krita=true`` under ``[python]`` in ``kritarc`` (or that line removed),
    every other line kept byte for byte (Krita writes it in the locale's encoding: it is read and
    written as bytes, not decoded); published whole."""
    key = f"enable_{NAME}".encode()
    lines = kritarc.read_bytes().splitlines(keepends=True) if kritarc.exists() else []
    lines = [line for line in lines if not re.fullmatch(rb"\s*" + key + rb"\s*=.*\s*", line)]
    if lines and not lines[-1].endswith((b"\n", b"\r")):
        lines[-1] += b"\n"
    if enabled:
        section = [line.strip() for line in lines]
        if _SECTION.encode() in section:
            lines.insert(section.index(_SECTION.encode()) + 1, key + b"=true\n")
        else:
            lines += ([b"\n"] if lines else []) + [_SECTION.encode() + b"\n", key + b"=true\n"]
    else:
        lines = _without_empty_section(lines)
    _publish(kritarc, b"".join(lines))


def _without_empty_section(lines: list[bytes]) -> list[bytes]:
    """``lines`` without a ``[python]`` section left empty (its header followed by no setting before
    the next section or the end), and the blank line before it: what install added for itself."""
    header = _SECTION.encode()
    stripped = [line.strip() for line in lines]
    if header not in stripped:
        return lines
    at = stripped.index(header)
    rest = stripped[at + 1 :]
    body = rest[: next((i for i, line in enumerate(rest) if line.startswith(b"[")), len(rest))]
    if any(body):
        return lines
    start = at - 1 if at > 0 and not stripped[at - 1] else at
    return lines[:start] + lines[at + 1 + len(body) :]


def program_command() -> list[str]:
    """The command that runs this varcolor (by its Python's absolute path), written beside the
    installed plug-in (``program.json``, read by the plug-in's ``protocol.varcolor_command`` where
    the docker names no program): Krita finds varcolor then however it was started (from a desktop
    menu, or with no virtual environment on ``PATH``: :mod:`varcolor.krita.launch`)."""
    return [sys.executable, "-m", "varcolor.cli"]


def install(environ=os.environ, *, enable: bool = True) -> Installed:
    """Copy the plug-in into Krita's ``pykrita`` folder (replacing an older copy of it) and enable
    it in ``kritarc``; Krita loads it at its next start."""
    folder = pykrita_folder(environ)
    package = folder / NAME
    if package.is_symlink():  # a developer's checkout, linked: copying would write over its files
        raise OutputError(
            f"{package} is a link to {os.readlink(package)}; nothing was installed "
            "(varcolor krita install --uninstall removes the link, not its files)"
        )
    kritarc = kritarc_path(environ) if enable else None
    if kritarc is not None:
        _check_writable(kritarc)  # before any file is copied: installed and enabled, or nothing
    try:
        package.mkdir(parents=True, exist_ok=True)
        for name, data in _plugin_files().items():
            _publish(folder / name, data)
        if kritarc is not None:
            kritarc.parent.mkdir(parents=True, exist_ok=True)
            _set_enabled(kritarc, True)
    except OSError as exc:
        raise OutputError(f"cannot install the Krita plug-in into {exc.filename or folder}: {exc.strerror}") from None
    return Installed(package, folder / f"{NAME}.desktop", kritarc)


def _check_writable(kritarc: Path) -> None:
    """Refuse, in one line and before anything is copied, a ``kritarc`` that cannot be written (its
    folder read-only, or the file itself): the plug-in would be copied and left disabled."""
    target = Path(os.path.realpath(kritarc))
    folder = target.parent
    while not folder.exists() and folder.parent != folder:  # the nearest folder that exists: made below it
        folder = folder.parent
    blocked = target if target.exists() and not os.access(target, os.W_OK) else folder
    if blocked is target or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot enable the Krita plug-in in {kritarc}: {blocked} is not writable; nothing was installed "
            "(--no-enable copies the plug-in alone, to be enabled in Krita's Python Plugin Manager)"
        )


def uninstall(environ=os.environ) -> Installed:
    """Remove the plug-in's files from ``pykrita`` and its line from ``kritarc``, nothing else: a
    file someone else put in the plug-in's folder stays (and so does the folder, then); a plug-in
    folder that is a link (a developer's checkout) loses the link, not the files it points to."""
    folder = pykrita_folder(environ)
    installed = Installed(folder / NAME, folder / f"{NAME}.desktop", kritarc_path(environ))
    try:
        if installed.package.is_symlink():
            installed.package.unlink()
        elif installed.package.is_dir():
            _remove_ours(installed.package)
        installed.desktop.unlink(missing_ok=True)
        if installed.kritarc is not None and installed.kritarc.exists():  # (kritarc_path's: never None here)
            _set_enabled(installed.kritarc, False)
    except OSError as exc:
        raise OutputError(f"cannot remove the Krita plug-in from {exc.filename or folder}: {exc.strerror}") from None
    return installed


def _remove_ours(package: Path) -> None:
    """The plug-in's files in ``package`` removed, and what Python compiled of them in its
    ``__pycache__``; each folder too once nothing else is left in it."""
    modules = [name.split("/", 1)[1] for name in _plugin_files() if "/" in name]
    for module in modules:
        (package / module).unlink(missing_ok=True)
    cache = package / "__pycache__"
    if cache.is_dir() and not cache.is_symlink():
        stems = {module.removesuffix(".py") for module in modules}
        for entry in cache.iterdir():
            if entry.name.split(".", 1)[0] in stems and entry.name.endswith(".pyc"):
                entry.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            cache.rmdir()  # only when empty
    with contextlib.suppress(OSError):
        package.rmdir()  # only when empty: someone else's files stay where they put them
