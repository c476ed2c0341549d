"""The kernels arrive by themselves (issue 72): a process that ran array code for want of them
starts, as it ends, one detached low-priority process that compiles them and marks them warm; and
`varcolor warm` with a cache it cannot write is one line (issue 71)."""

import errno
import fcntl
import json
import os
import subprocess
import sys
import time

import pytest

import varcolor
from varcolor.app import warm
from varcolor.common import kernels

from .conftest import run, wait_until


@pytest.fixture
def cold(monkeypatch, tmp_path):
    """A process as a user's is: kernels ``auto``, none compiled yet (no mark in ``tmp_path``),
    the background compile allowed; what ``atexit`` would run, recorded."""
    monkeypatch.delenv(kernels.KERNELS_VARIABLE)
    monkeypatch.setenv(kernels.BACKGROUND_WARM_VARIABLE, "1")
    monkeypatch.setattr(kernels, "_mark_folder", lambda: tmp_path)
    registered = []
    monkeypatch.setattr("atexit.register", registered.append)
    monkeypatch.setattr(kernels, "_PENDING", [])
    kernels.kernels_warm.cache_clear()
    kernels._warm_later.cache_clear()
    yield registered
    kernels.kernels_warm.cache_clear()
    kernels._warm_later.cache_clear()


def test_a_one_shot_command_leaves_nothing_running_unless_asked(cold, monkeypatch):
    """Issue 94: `make demo` returned while the background compile ran on for minutes beside the
    user's next command. Unasked, array code for want of the kernels starts nothing."""
    started = []
    monkeypatch.setattr(kernels, "_start_warming", started.append)
    monkeypatch.delenv(kernels.BACKGROUND_WARM_VARIABLE, raising=False)
    assert kernels.array_code(1000 * 1000) and kernels.array_code(300 * 400, "bilaplacian-gtv")
    assert cold == [] and started == []


def test_array_code_for_want_of_the_kernels_has_them_compiled_as_the_process_ends(cold, monkeypatch):
    started = []
    monkeypatch.setattr(kernels, "_start_warming", started.append)
    monkeypatch.setenv(kernels.BACKGROUND_WARM_VARIABLE, "yes")  # asked for
    assert kernels.array_code(1000 * 1000) and kernels.array_code(10)
    assert len(cold) == 1  # once a process
    # A small bilaplacian-gtv photo ran array code too: one compile, of both kinds, at the end.
    assert kernels.array_code(300 * 400, "bilaplacian-gtv") and len(cold) == 1
    cold[0]()
    assert started == [("cues", "edits", "bilaplacian-gtv")]
    kernels._warm_later.cache_clear()
    monkeypatch.setenv(kernels.BACKGROUND_WARM_VARIABLE, "0")  # the opt-out
    assert kernels.array_code(10) and len(cold) == 1


def test_each_kind_is_warm_once_its_own_kernels_are_compiled(cold):
    # `varcolor warm --runs cues` leaves bilaplacian-gtv's small photos on array code, and a warm
    # of bilaplacian-gtv afterwards keeps the kinds marked before it.
    kernels.mark_kernels_warm(("cues",))
    assert kernels.kernels_warm() and not kernels.kernels_warm("bilaplacian-gtv")
    assert not kernels.array_code(10) and kernels.array_code(10, "bilaplacian-gtv")
    kernels.mark_kernels_warm(("bilaplacian-gtv",))
    assert kernels.kernels_warm("cues") and kernels.kernels_warm("bilaplacian-gtv")
    assert not kernels.array_code(10, "bilaplacian-gtv")
    # Without the mark, past its own limit a bilaplacian-gtv photo runs the kernels all the same.
    (kernels._mark_folder() / kernels.WARM_MARK).unlink()
    kernels.kernels_warm.cache_clear()
    assert not kernels.array_code(kernels.GTV_ARRAY_CODE_PIXELS + 1, "bilaplacian-gtv")
    assert kernels.array_code(kernels.GTV_ARRAY_CODE_PIXELS, "bilaplacian-gtv")


def test_a_long_lived_process_starts_the_compile_at_once_and_takes_the_kernels_once_marked(cold, monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(kernels, "_start_warming", started.append)
    monkeypatch.setattr(kernels, "_LONG_LIVED", kernels._LongLived())
    kernels.warm_while_running()  # the studio's server, Krita's Live worker
    assert kernels.array_code(1000 * 1000)  # not warm yet: array code
    assert started == [("cues", "edits")] and cold == []  # the compile started now, not at the process's end
    # The background compile marks the kernels warm, from another process (this one's read is cached).
    (tmp_path / kernels.WARM_MARK).write_text(json.dumps({**kernels._warm_key(), "kinds": ["cues", "edits"]}))
    assert kernels.array_code(1000 * 1000)  # within EVERY seconds of the last look: as it was
    kernels._LONG_LIVED.looked -= kernels._LongLived.EVERY + 1
    assert not kernels.array_code(1000 * 1000)  # looked again: the kernels from here on
    assert not kernels.array_code(10) and started == [("cues", "edits")]  # and no second compile


def test_an_interactive_session_is_long_lived_a_script_is_not(cold, monkeypatch, tmp_path):
    """Issue 108, 0b: a notebook's or a prompt's later calls take the kernels once compiled (a
    script, one-shot, still leaves nothing running)."""
    started = []
    monkeypatch.setattr(kernels, "_start_warming", started.append)
    monkeypatch.setattr(kernels, "_LONG_LIVED", kernels._LongLived())
    monkeypatch.delenv(kernels.BACKGROUND_WARM_VARIABLE, raising=False)
    assert not kernels.interactive()  # pytest: a script
    assert kernels.array_code(1000 * 1000) and started == [] and cold == []
    kernels._warm_later.cache_clear()
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)  # what a prompt sets
    assert kernels.interactive()
    assert kernels.array_code(1000 * 1000) and started == [("cues", "edits")] and cold == []
    (tmp_path / kernels.WARM_MARK).write_text(json.dumps({**kernels._warm_key(), "kinds": ["cues", "edits"]}))
    kernels._LONG_LIVED.looked -= kernels._LongLived.EVERY + 1
    assert not kernels.array_code(1000 * 1000)  # the kernels, once marked


@pytest.mark.parametrize("choice", ["array", "numba"])
def test_array_code_by_choice_or_the_kernels_start_nothing(cold, monkeypatch, choice):
    monkeypatch.setenv(kernels.KERNELS_VARIABLE, choice)
    kernels.array_code(10)
    assert cold == []


def test_the_compile_is_started_detached_and_never_twice_nor_where_the_kernels_are_warm(cold, monkeypatch):
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append((a, k)) or "process")
    assert warm.start_background_warm() == "process"
    (argv,), options = started[0]
    assert argv == [sys.executable, "-m", "varcolor.app.warm", "cues", "edits"]  # a module, no program in a string
    assert options.get("process_group") == 0 or options.get("preexec_fn") is os.setpgrp
    assert options["stdin"] == options["stdout"] == options["stderr"] == subprocess.DEVNULL
    assert options["env"][kernels.BACKGROUND_WARM_VARIABLE] == "0"  # its own runs start none
    assert kernels.KERNELS_VARIABLE not in options["env"]  # the kernels it compiles are auto's
    monkeypatch.setenv(kernels.BACKGROUND_WARM_VARIABLE, "0")
    assert warm.start_background_warm() is None
    monkeypatch.setenv(kernels.BACKGROUND_WARM_VARIABLE, "1")
    kernels.mark_kernels_warm(("cues",))
    assert warm.start_background_warm() == "process"  # the edits' kernels are not compiled yet
    kernels.mark_kernels_warm(("edits",))
    assert warm.start_background_warm() is None and len(started) == 2


def test_the_background_compile_runs_at_the_lowest_priority_one_at_a_time_and_marks(cold, monkeypatch, tmp_path):
    priority, compiled = [], []
    monkeypatch.setattr(os, "nice", priority.append)  # this test's own process stays as it is
    monkeypatch.setattr(os, "sched_setscheduler", lambda pid, policy, _: priority.append((pid, policy)))
    monkeypatch.setitem(warm.WARM_RUNS, "cues", ("x", lambda: compiled.append(1), lambda: True))
    with open(tmp_path / warm.WARMING_LOCK, "a") as held:  # another background compile under way
        fcntl.flock(held, fcntl.LOCK_EX)
        assert not warm.warm_in_background() and compiled == []
    assert priority[:2] == [19, (0, os.SCHED_IDLE)]
    assert warm.warm_in_background() and compiled == [1] and kernels.kernels_warm()
    assert not warm.warm_in_background() and compiled == [1]  # warm: nothing more to do


def test_warm_with_a_full_cache_folder_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    # What numba raises when its cache file cannot be written (the disk full), from the warm run.
    def full():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "cache" / "kernels.nbi"))

    monkeypatch.setitem(warm.WARM_RUNS, "cues", ("x", full, lambda: True))
    code, _, err = run(capsys, "warm", "--runs", "cues", "-q")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "kernels.nbi" in lines[0], err
    assert "NUMBA_CACHE_DIR" in lines[0] and "Traceback" not in err


@pytest.mark.slow
def test_a_first_run_compiles_nothing_and_leaves_the_kernels_compiled_behind_it(tmp_path):
    # A new user: numba's cache empty, no `varcolor warm`. The run itself compiles nothing (it
    # says nothing about compiling); the kernels arrive in the background and are marked warm.
    cache = tmp_path / "cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), kernels.BACKGROUND_WARM_VARIABLE: "1"}
    env.pop(kernels.KERNELS_VARIABLE)
    gray, marked = varcolor.data.path("chelsea.png"), varcolor.data.path("chelsea_marked.png")
    done = subprocess.run(
        [sys.executable, "-m", "varcolor.cli", "colorize", gray, "--marked", marked, "-o", tmp_path / "out.png"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "compil" not in done.stderr, done.stderr
    start = time.monotonic()
    assert wait_until(lambda: (cache / kernels.WARM_MARK).is_file(), 900, 1.0), list(cache.rglob("*"))[:5]
    assert time.monotonic() - start < 900


@pytest.mark.parametrize("off", ["false", "no", "off", "OFF", " 0 "])
def test_the_background_compile_is_off_however_the_user_says_no(cold, monkeypatch, off):
    """VARCOLOR_BACKGROUND_WARM=false (or no, off, any case, spaces around) is the opt-out as 0 is:
    such a value started the compile all the same, the opposite of what it says."""
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append((a, k)) or "process")
    monkeypatch.setenv(kernels.BACKGROUND_WARM_VARIABLE, off)
    assert warm.start_background_warm() is None and started == []
    assert kernels.array_code(10) and cold == []
