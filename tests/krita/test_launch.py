"""Krita started with its own Python whatever environment started varcolor (a virtual environment's
``python3`` first on PATH made Krita's Python miss PyQt5: no plug-in loaded, silently), and
``varcolor krita check`` stopping at once, in one line, when Krita fails, leaving nothing running.
The checks here run a fake ``krita`` (and ``xvfb-run``): no Krita needed, seconds each."""

import os
import sys
import time
from pathlib import Path

import pytest

from varcolor.krita import check, launch

from ..conftest import run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="shell scripts and process groups")

# The lines Krita 5.1 logged when its Python took a virtual environment's packages.
PYQT_MISSING = r"""krita.scripting: "Traceback (most recent call last):"
krita.scripting: "  File \"/usr/lib/x86_64-linux-gnu/krita-python-libs/krita/__init__.py\", line 11, in <module>"
krita.scripting: "ModuleNotFoundError: No module named 'PyQt5'"
"""


def test_the_environment_given_to_krita_has_no_other_python(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    other = tmp_path / "other-venv"
    (other / "bin").mkdir(parents=True)
    (other / "pyvenv.cfg").write_text("home = /usr/bin\n")
    environ = {
        "PATH": os.pathsep.join([str(venv / "bin"), "/usr/local/bin", str(other / "bin"), "/usr/bin", "/bin"]),
        "VIRTUAL_ENV": str(venv),
        "PYTHONHOME": "/somewhere",
        "PYTHONPATH": "/src",
        "HOME": "/home/a",
        "LANG": "C.UTF-8",
    }
    clean = launch.krita_environment(environ)
    assert clean == {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/a", "LANG": "C.UTF-8"}
    conda = {"PATH": "/opt/conda/envs/x/bin:/usr/bin", "CONDA_PREFIX": "/opt/conda/envs/x"}
    assert launch.krita_environment(conda)["PATH"] == "/usr/bin"


def _fakes(folder: Path, krita: str) -> str:
    """A PATH whose ``krita`` is the shell script ``krita`` and whose ``xvfb-run`` runs its command
    (after xvfb-run's three options) without a screen."""
    folder.mkdir()
    for name, body in (("krita", krita), ("xvfb-run", 'shift 3\nexec "$@"\n')):
        (folder / name).write_text("#!/bin/sh\n" + body)
        (folder / name).chmod(0o755)
    return os.pathsep.join([str(folder), "/usr/bin", "/bin"])


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"  # ended, its parent not yet told


def _check(capsys, tmp_path, monkeypatch, krita: str, **environ: str) -> tuple[int, str, float]:
    monkeypatch.setenv("PATH", _fakes(tmp_path / "bin", krita))
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    start = time.monotonic()
    code, _, err = run(capsys, "krita", "check", "--keep", tmp_path / "kept")
    return code, err, time.monotonic() - start


def test_a_kept_check_refuses_a_folder_that_holds_files(capsys, tmp_path):
    """The check writes photo.png, strokes.png, document.ora… into --keep's folder: a user's files
    of those names were replaced."""
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "photo.png").write_text("mine")
    code, _, err = run(capsys, "krita", "check", "--keep", tmp_path / "kept")
    assert code == 2 and err.count("\n") == 1 and "not an empty folder" in err, err
    assert (tmp_path / "kept" / "photo.png").read_text() == "mine"


def test_krita_failing_to_start_is_one_line_within_seconds(capsys, tmp_path, monkeypatch):
    code, err, seconds = _check(capsys, tmp_path, monkeypatch, 'echo "krita: cannot connect to X server" >&2\nexit 1\n')
    assert code == 2 and seconds < 20
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert "Krita ended (exit 1) without running the check: krita: cannot connect to X server" in err


def test_krita_whose_python_fails_is_stopped_at_once_and_nothing_is_left_running(capsys, tmp_path, monkeypatch):
    """Krita's Python without PyQt5 left Krita running with no plug-in: the check waited 600 s,
    ended in a raw TimeoutExpired traceback and left Krita and Xvfb running."""
    pids = tmp_path / "pids"
    krita = f"echo $$ > {pids}\ncat >&2 <<'EOF'\n{PYQT_MISSING}EOF\nexec sleep 300\n"
    code, err, seconds = _check(capsys, tmp_path, monkeypatch, krita)
    assert code == 2 and seconds < 20
    assert err.strip().count("\n") == 0
    assert "Krita could not load the plug-in: ModuleNotFoundError: No module named 'PyQt5'" in err
    assert _gone(int(pids.read_text()))


@pytest.mark.slow
def test_krita_that_hangs_in_silence_is_stopped_after_its_start_time(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(check, "STARTUP_TIMEOUT", 2)
    pids = tmp_path / "pids"
    code, err, seconds = _check(capsys, tmp_path, monkeypatch, f"echo $$ > {pids}\nexec sleep 300\n")
    assert code == 2 and seconds < 20
    assert "the plug-in did not start in Krita within 2 s" in err and err.strip().count("\n") == 0
    assert _gone(int(pids.read_text()))


def test_krita_gets_no_virtual_environment_and_the_plug_in_this_varcolor(capsys, tmp_path, monkeypatch):
    """The check run with a virtual environment activated (its programs first on PATH, VIRTUAL_ENV)
    starts Krita without them; the plug-in is told to run this varcolor."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    seen = tmp_path / "seen"
    krita = f'env > {seen}\necho "no screen" >&2\nexit 3\n'
    monkeypatch.setenv("PATH", _fakes(tmp_path / "bin", krita))
    monkeypatch.setenv("PATH", os.pathsep.join([str(venv / "bin"), os.environ["PATH"]]))
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    monkeypatch.setenv("PYTHONHOME", sys.base_prefix)
    code, _, err = run(capsys, "krita", "check", "--keep", tmp_path / "kept")
    assert code == 2 and "exit 3" in err
    environ = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert "VIRTUAL_ENV" not in environ and "PYTHONHOME" not in environ and "PYTHONPATH" not in environ
    assert str(venv / "bin") not in environ["PATH"].split(os.pathsep)
    plan = (tmp_path / "kept" / "plan.json").read_text()
    assert sys.executable in plan


def test_a_screenshot_without_imagemagick_is_one_line_before_anything_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", _fakes(tmp_path / "bin", "exit 1\n"))
    monkeypatch.setattr(check.shutil, "which", lambda name, path=None: None if name == "import" else name)
    code, out, err = run(capsys, "krita", "check", "--screenshot", tmp_path / "shot.png")
    assert code == 2 and out == ""
    assert "ImageMagick's import (for --screenshot)" in err and "apt install imagemagick" in err
    assert err.strip().count("\n") == 0


def test_launch_starts_krita_without_the_virtual_environment(tmp_path, monkeypatch):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    seen = tmp_path / "seen"
    monkeypatch.setenv("PATH", _fakes(tmp_path / "bin", f'echo "$@" > {seen}.args\nenv > {seen}\n'))
    monkeypatch.setenv("PATH", os.pathsep.join([str(venv / "bin"), os.environ["PATH"]]))
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    document = tmp_path / "scan.kra"
    document.write_bytes(b"")
    process = launch.launch([document])
    assert process.wait(timeout=30) == 0
    assert Path(f"{seen}.args").read_text().strip() == str(document)
    environ = seen.read_text()
    assert "VIRTUAL_ENV=" not in environ and str(venv / "bin") not in environ


def test_install_from_a_shell_with_a_virtual_environment_says_how_to_start_krita(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", "/bin"]))
    code, out, _ = run(capsys, "krita", "install")
    assert code == 0 and "varcolor krita launch" not in out
    monkeypatch.setenv("PATH", os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"]))
    code, out, _ = run(capsys, "krita", "install")
    assert code == 0 and "start Krita from the desktop menu, or here with: varcolor krita launch" in out


def test_launch_hands_krita_a_file_named_like_an_option_as_a_file(tmp_path, monkeypatch):
    """A document named ``--nosplash.kra`` (or ``-x.png``) in the current folder reaches Krita as
    a path it cannot take for one of its options."""
    seen = tmp_path / "seen"
    monkeypatch.setenv("PATH", _fakes(tmp_path / "bin", f'echo "$@" > {seen}.args\n'))
    monkeypatch.chdir(tmp_path)
    Path("--nosplash.kra").write_bytes(b"")
    process = launch.launch(["--nosplash.kra"])
    assert process.wait(timeout=30) == 0
    assert Path(f"{seen}.args").read_text().strip() == str(tmp_path / "--nosplash.kra")
