"""Installing the Krita plug-in: its files copied into Krita's ``pykrita`` folder (under
``$XDG_DATA_HOME/krita``, ``~/.local/share/krita`` by default) and the plug-in enabled in
``kritarc`` (under ``$XDG_CONFIG_HOME``, ``~/.config`` by default); or both undone."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import OutputError

__all__ = ["NAME", "Installed", "pykrita_folder", "kritarc_path", "install", "uninstall"]

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
    """The plug-in's files by their path under ``pykrita``: the shipped package and its
    ``.desktop`` file."""
    shipped = resources.files("varcolor.krita") / "plugin"
    files = {f"{NAME}.desktop": (shipped / f"{NAME}.desktop").read_bytes()}
    for entry in (shipped / NAME).iterdir():
        if entry.name.endswith(".py"):
            files[f"{NAME}/{entry.name}"] = entry.read_bytes()
    return files


def _publish(path: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as file:
        file.write(data)
    os.replace(file.name, path)


def _set_enabled(kritarc: Path, enabled: bool) -> None:
    """``enable_varcolor_krita=true`` under ``[python]`` in ``kritarc`` (or that line removed),
    every other line kept as it was; published whole."""
    key = f"enable_{NAME}"
    lines = kritarc.read_text(encoding="utf-8").splitlines() if kritarc.exists() else []
    lines = [line for line in lines if not re.fullmatch(rf"\s*{key}\s*=.*", line)]
    if enabled:
        if _SECTION in (line.strip() for line in lines):
            at = [line.strip() for line in lines].index(_SECTION) + 1
            lines.insert(at, f"{key}=true")
        else:
            lines += ([""] if lines else []) + [_SECTION, f"{key}=true"]
    _publish(kritarc, ("\n".join(lines) + "\n").encode("utf-8"))


def install(environ=os.environ, *, enable: bool = True) -> Installed:
    """Copy the plug-in into Krita's ``pykrita`` folder (replacing an older copy of it) and enable
    it in ``kritarc``; Krita loads it at its next start.

    Parameters
    ----------
    environ : mapping
        The environment whose ``HOME``, ``XDG_DATA_HOME`` and ``XDG_CONFIG_HOME`` say where.
    enable : bool
        Enable it in ``kritarc`` (else Krita's Python Plugin Manager does it).
    """
    folder = pykrita_folder(environ)
    package = folder / NAME
    try:
        package.mkdir(parents=True, exist_ok=True)
        for name, data in _plugin_files().items():
            _publish(folder / name, data)
        kritarc = kritarc_path(environ) if enable else None
        if kritarc is not None:
            kritarc.parent.mkdir(parents=True, exist_ok=True)
            _set_enabled(kritarc, True)
    except OSError as exc:
        raise OutputError(f"cannot install the Krita plug-in into {exc.filename or folder}: {exc.strerror}") from None
    return Installed(package, folder / f"{NAME}.desktop", kritarc)


def uninstall(environ=os.environ) -> Installed:
    """Remove the plug-in's files from ``pykrita`` and its line from ``kritarc`` (nothing else)."""
    folder = pykrita_folder(environ)
    installed = Installed(folder / NAME, folder / f"{NAME}.desktop", kritarc_path(environ))
    try:
        if installed.package.is_dir():
            shutil.rmtree(installed.package)
        installed.desktop.unlink(missing_ok=True)
        if installed.kritarc.exists():
            _set_enabled(installed.kritarc, False)
    except OSError as exc:
        raise OutputError(f"cannot remove the Krita plug-in from {exc.filename or folder}: {exc.strerror}") from None
    return installed
