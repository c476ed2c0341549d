"""A wheel built from the checkout installs like any other package: it carries the shipped network,
its card and the studio's page, and ``varcolor`` runs from a folder outside the checkout (issue 50).

The wheel goes into a fresh virtual environment that cannot see the checkout or its editable
install: the shared environment's site-packages is added by a ``.pth`` line, which puts the folder
on ``sys.path`` without running the ``.pth`` files inside it (the editable install's finder is one).
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest

import varcolor
from varcolor.color import same_lightness_gray

from .conftest import photo

ROOT = Path(__file__).resolve().parents[1]


def _tracked_tree(target: Path) -> None:
    """The checkout's files that git keeps (tracked, or new and not ignored), copied to ``target``:
    the build never writes ``build/`` or ``*.egg-info`` into the checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def test_the_package_declares_its_types():
    """PEP 561: the ``py.typed`` marker is in the package and listed as package data, so that a
    wheel (the slow test below checks one) and an install carry it to type checkers."""
    import tomllib

    assert (ROOT / "varcolor" / "py.typed").is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "py.typed" in data["varcolor"]


@pytest.mark.slow
def test_the_wheel_carries_the_network_and_runs_outside_the_checkout(tmp_path):
    tree, wheels, env, work = (tmp_path / name for name in ("tree", "wheels", "env", "work"))
    for folder in (tree, wheels, work):
        folder.mkdir()
    _tracked_tree(tree)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, tree], check=True)
    (wheel,) = wheels.glob("varcolor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "varcolor/neural/models/ideepcolor-w025.safetensors",
        "varcolor/neural/models/README.md",
        "varcolor/ui/static/index.html",
        "varcolor/ui/static/main.js",
        "varcolor/krita/plugin/varcolor_krita.desktop",
        "varcolor/krita/plugin/varcolor_krita/protocol.py",
        "varcolor/krita/plugin/varcolor_krita/docker.py",
        "varcolor/py.typed",
        "varcolor/__init__.pyi",  # the public names: import varcolor reads it (lazy_loader.attach_stub)
    ):
        assert needed in names, needed

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env], check=True)
    python = env / "bin" / "python"
    subprocess.run([*pip, "--python", python, "install", "--no-deps", wheel], check=True)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies, from the shared environment's site-packages, after the wheel's own varcolor.
    (Path(site) / "shared-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    gray = same_lightness_gray(photo("coffee", (48, 48)))
    varcolor.write_image(work / "gray.png", gray)
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VARCOLOR_MODELS")}
    clean.update(OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")

    def run(*argv):
        return subprocess.run(argv, cwd=work, env=clean, capture_output=True, text=True, timeout=600)

    where = run(python, "-c", "import varcolor; print(varcolor.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(env), where.stdout  # the wheel's copy, not the checkout
    done = run(env / "bin" / "varcolor", "colorize", "gray.png", "--prior", "ideepcolor", "-o", "out.png")
    assert done.returncode == 0, done.stderr
    out = varcolor.read_image(work / "out.png")
    assert out.shape == (48, 48, 3) and np.ptp(out[..., 0] - out[..., 2]) > 0.01  # colours, not gray
    helped = run(env / "bin" / "varcolor", "ui", "--help")
    assert helped.returncode == 0 and "usage: varcolor ui" in helped.stdout, helped.stderr
    # The Krita plug-in installs from the wheel's own files.
    clean.update(HOME=str(work / "home"), XDG_DATA_HOME="", XDG_CONFIG_HOME="")
    installed = run(env / "bin" / "varcolor", "krita", "install")
    assert installed.returncode == 0, installed.stderr
    assert (work / "home/.local/share/krita/pykrita/varcolor_krita/job.py").is_file()
    program = json.loads((work / "home/.local/share/krita/pykrita/varcolor_krita/program.json").read_text())
    assert program["command"][0].startswith(str(env)) and program["command"][1:] == ["-m", "varcolor.cli"]
