"""The Makefile's set-up, read with ``make -n`` (commands printed, none run) against a stand-in
virtual environment: each target installs its own extras, with pip's progress visible, and only
what an earlier target did not install already."""

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from varcolor.app.cues import CUE_KINDS, find_cue

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(target: str, venv: Path) -> list[str]:
    """The commands ``make TARGET`` would run with ``VENV=venv`` (continued lines joined)."""
    done = subprocess.run(
        ["make", "-n", f"VENV={venv}", target], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.replace("\\\n", " ").splitlines()


def installs(lines: list[str]) -> list[str]:
    """The extras of each ``pip install -e '.[…]'`` among ``lines``."""
    return [match for line in lines for match in re.findall(r"pip install [^']*'\.\[([^]]*)\]'", line)]


def stand_in(tmp_path: Path, *stamps: str) -> Path:
    """A virtual environment as make sees it: its python, and the stamps of the extras installed."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    for stamp in stamps:
        (venv / f".installed-{stamp}").touch()  # after pyproject.toml: up to date
    return venv


def test_demo_installs_the_runtime_with_the_network_and_the_studio_only_showing_progress(tmp_path):
    lines = dry_run("demo", tmp_path / "fresh")
    assert any(line.endswith(f"-m venv {tmp_path / 'fresh'}") for line in lines)
    assert installs(lines) == ["neural,ui"]
    assert not [line for line in lines if "pip install" in line and ("--quiet" in line or " -q" in line)]


@pytest.mark.parametrize(("target", "extras"), [("test", "dev,layers,neural,ui"), ("docs", "docs,layers,neural,ui")])
def test_after_the_demo_a_target_installs_only_its_own_extras(tmp_path, target, extras):
    venv = stand_in(tmp_path, "neural-ui")
    lines = dry_run(target, venv)
    assert installs(lines) == [extras]  # pip adds only what is missing from the demo's set
    assert not [line for line in lines if "-m venv" in line]
    assert installs(dry_run("demo", venv)) == []  # the demo's set is there: nothing to install


def test_each_set_is_installed_once(tmp_path):
    venv = stand_in(tmp_path, "neural-ui", "dev-layers-neural-ui", "docs-layers-neural-ui")
    for target in ("demo", "test", "docs", "lint"):
        assert installs(dry_run(target, venv)) == []


def is_suite(line: str) -> bool:
    """Whether a line of ``make -n test`` is the suite's run (on every core), not its collection."""
    return "-m pytest" in line and " -n " in line


def test_the_demo_colours_without_cues_only_an_image_with_no_cue_file_beside_it(tmp_path):
    # A no-cue run on an image with its scribbles beside it notes they are not used: the demo's own
    # automatic step must not print that.
    venv = stand_in(tmp_path, "neural-ui")
    commands = [shlex.split(line) for line in dry_run("demo", venv) if "varcolor colorize" in line]
    automatic = [words for words in commands if not {"--marked", "--mask", "--points"} & set(words)]
    assert len(automatic) == 1 and "--prior" in automatic[0]
    image = ROOT / automatic[0][2]
    assert find_cue(image, image.parent, CUE_KINDS) == (None, None)


def test_neither_the_suite_nor_the_demo_waits_for_a_warm(tmp_path):
    # No `varcolor warm` before the suite: its small photos run array code (tests/conftest.py pins
    # it, here too), and the checks of the kernels compile those they ask for (the Makefile says
    # why); `make demo` colorizes only the small bundled photo, which runs array code (nothing to
    # compile: tests/common/test_kernels.py).
    from varcolor.common.kernels import KERNELS_VARIABLE

    assert os.environ[KERNELS_VARIABLE] == "array"
    for target, venv in (("test", stand_in(tmp_path, "neural-ui")), ("demo", tmp_path / "fresh")):
        assert not [line for line in dry_run(target, venv) if "varcolor warm" in line or "app.warm" in line]


def test_the_quick_suite_runs_on_every_core_a_file_to_a_worker_and_the_slow_one_in_order(tmp_path):
    # `make test` on both cores of a 2-core machine (9½ minutes on one: issue 72), each test file on
    # one worker (a module's shared fixture made once); `make test-slow`'s processes killed and
    # resumed run one at a time. The workers come from pytest-xdist, in the dev extra.
    import tomllib

    venv = stand_in(tmp_path, "neural-ui", "dev-layers-neural-ui")
    quick = shlex.split(next(line for line in dry_run("test", venv) if is_suite(line)))
    quick = quick[quick.index("pytest") :]  # (the line starts the types first, under nice -n)
    assert quick[quick.index("-n") + 1] == "auto" and quick[quick.index("--dist") + 1] == "loadfile"
    slow = shlex.split(next(line for line in dry_run("test-slow", venv) if "-m pytest" in line))
    assert "-n" not in slow and "slow" in slow
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert any(re.match(r"pytest-xdist\b", requirement) for requirement in dev)


def stand_in_tools(tmp_path: Path, types: int, suite: int) -> Path:
    """A stand-in environment whose ruff passes, whose mypy prints a line and exits with ``types``
    once the suite has started (it waits for the suite's start), and whose suite, once the types
    have started, prints a line and exits with ``suite``: each waits for the other, so that they
    end only if they run side by side."""
    venv = stand_in(tmp_path, "neural-ui", "dev-layers-neural-ui")
    (venv / "bin" / "ruff").write_text("#!/bin/sh\nexit 0\n")
    started = tmp_path / "started"
    (venv / "bin" / "python").write_text(
        f"""#!/bin/sh
wait_for() {{ n=0; until [ -e "{started}-$1" ]; do n=$((n+1)); [ $n -gt 300 ] && exit 9; sleep 0.1; done; }}
case "$*" in
    *"-m mypy"*) touch "{started}-types"; wait_for suite; echo "the stand-in types"; exit {types};;
    *--collect-only*) exit 0;;
    *"-m pytest"*) touch "{started}-suite"; wait_for types; echo "the stand-in suite"; exit {suite};;
esac
exit 0
"""
    )
    for tool in ("ruff", "python"):
        (venv / "bin" / tool).chmod(0o755)
    return venv


@pytest.mark.parametrize(("types", "suite"), [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_the_types_run_beside_the_suite_and_either_fails_make_test(tmp_path, types, suite):
    """``make test`` checks the package's types (mypy, ``make typecheck``) beside the suite (each
    stand-in waits for the other to start), prints their report after the suite's, and fails where
    either fails, so that CI fails on a type error."""
    venv = stand_in_tools(tmp_path, types, suite)
    # A make of its own: not the one running the suite, whose flags (and SHELL) would pass down.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKE_TEST_STEPS")}
    done = subprocess.run(
        ["make", "-s", f"VENV={venv}", "test"], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    assert (done.returncode == 0) == (types == 0 and suite == 0), done.stdout + done.stderr
    assert done.stdout.index("the stand-in suite") < done.stdout.index("the stand-in types"), done.stdout
    lines = dry_run("test", venv)
    ruff = max(i for i, line in enumerate(lines) if "/ruff " in line)
    assert [i for i, line in enumerate(lines) if "-m mypy" in line] == [ruff + 1]
    assert [line for line in dry_run("typecheck", venv) if "-m mypy" in line]
