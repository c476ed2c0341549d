"""Starting Krita with an environment its own Python can start in (``varcolor krita launch`` and
``varcolor krita check``).

Krita embeds the system's Python, which finds its standard library and its packages (PyQt5, in
Debian's ``python3-pyqt5``) from the first ``python3`` on ``PATH``. With a virtual environment
activated that is the environment's own: Krita's Python takes the environment's packages instead
of the system's, cannot import PyQt5, and no Python plug-in loads, without a message anywhere but
Krita's log. ``PYTHONHOME`` and ``PYTHONPATH`` lead it astray the same way. The environment given
to Krita lacks them; the plug-in needs nothing from varcolor's environment (it runs varcolor as a
program: the command ``varcolor krita install`` records).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import InputError

__all__ = ["PYTHON_VARIABLES", "krita_environment", "launch"]

#: Variables that make an embedded Python look for its library and packages elsewhere.
PYTHON_VARIABLES = ("PYTHONHOME", "PYTHONPATH", "PYTHONEXECUTABLE", "VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT")


def _environment_bin(folder: str, environ: Mapping[str, str]) -> bool:
    """Whether the ``PATH`` entry ``folder`` is the programs folder of a Python environment (a
    virtual environment, or the active conda environment)."""
    if not folder:
        return False
    path = Path(folder)
    if (path.parent / "pyvenv.cfg").is_file():
        return True
    prefixes = [environ.get(name) for name in ("VIRTUAL_ENV", "CONDA_PREFIX")]
    return any(prefix and os.path.abspath(path) == os.path.abspath(Path(prefix) / "bin") for prefix in prefixes)


def krita_environment(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """``environ`` without what leads Krita's embedded Python to another environment: the variables
    :data:`PYTHON_VARIABLES` and the ``PATH`` entries of Python environments (virtual or conda).

    Examples
    --------
    >>> krita_environment({"PATH": "/usr/bin", "PYTHONPATH": "/src", "HOME": "/home/a"})
    {'PATH': '/usr/bin', 'HOME': '/home/a'}
    """
    clean = {name: value for name, value in environ.items() if name not in PYTHON_VARIABLES}
    if "PATH" in clean:
        kept = [entry for entry in clean["PATH"].split(os.pathsep) if not _environment_bin(entry, environ)]
        clean["PATH"] = os.pathsep.join(kept)
    return clean


def launch(files: Sequence[str | os.PathLike]) -> subprocess.Popen:
    """Start Krita on ``files`` in :func:`krita_environment`, on its own (it goes on after this
    process ends). Returns its process."""
    environ = krita_environment()
    krita = shutil.which("krita", path=environ.get("PATH"))
    if krita is None:
        raise InputError("krita is not on PATH (Debian: apt install krita)")
    for file in files:
        if not Path(file).exists():
            raise InputError(f"{file}: no such file")
    return subprocess.Popen(
        [krita, *(os.path.abspath(file) for file in files)],  # "-x.png" is a file, not an option
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
