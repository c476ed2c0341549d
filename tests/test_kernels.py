"""varcolor.kernels: small problems run numba's kernels on one thread (a parallel region waits a
scheduler time slice for a busy core: a 40×60 solve took 80 s at load 5), big ones on every thread;
numba's compiles are said on stderr, not waited through in silence."""

import io

import numba
import numpy as np

import varcolor
from varcolor.kernels import PARALLEL_PIXELS, compile_notice, threads_for


def test_threads_for_a_small_problem_is_one_and_restored_after():
    before = numba.get_num_threads()
    with threads_for(PARALLEL_PIXELS - 1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with threads_for(PARALLEL_PIXELS):
        assert numba.get_num_threads() == before


def test_a_colorizer_solves_a_small_image_on_one_thread_with_the_same_result(monkeypatch):
    gray = np.tile(np.linspace(0.2, 0.8, 48), (32, 1))
    cues = varcolor.Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 10}], gray.shape)
    seen = []
    colorizer = varcolor.Colorizer(gray, method="bilaplacian-gtv")
    solve = colorizer.engine.solve
    monkeypatch.setattr(colorizer.engine, "solve", lambda *a: seen.append(numba.get_num_threads()) or solve(*a))
    one = colorizer.solve(cues)
    assert seen == [1] and numba.get_num_threads() >= 1
    monkeypatch.setattr("varcolor.kernels.PARALLEL_PIXELS", 0)  # every problem on every thread
    many = varcolor.Colorizer(gray, method="bilaplacian-gtv").solve(cues)
    np.testing.assert_allclose(one.ab, many.ab, atol=1e-6)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def fresh_kernel():
    """A numba function not compiled yet (uncached: each test compiles its own)."""

    @numba.njit
    def twice(x):
        return 2 * x

    return twice


def test_a_compile_is_one_line_in_a_log_and_a_compiled_kernel_says_nothing():
    kernel, log = fresh_kernel(), io.StringIO()
    with compile_notice(log):
        assert kernel(2.0) == 4.0
        assert kernel(3.0) == 6.0  # compiled already
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and "compiling numba kernels" in lines[0] and "once" in lines[0]
    assert "varcolor warm" in lines[0]  # says how to do it ahead
    log = io.StringIO()
    with compile_notice(log):
        kernel(5.0)
    assert log.getvalue() == ""


def test_quiet_says_nothing_and_the_notice_is_gone_after_its_block():
    log = io.StringIO()
    with compile_notice(log, quiet=True):
        fresh_kernel()(1)
    with compile_notice(log):
        pass
    fresh_kernel()(1)  # after the block: nobody listening
    assert log.getvalue() == ""


def test_on_a_terminal_the_line_shows_progress_and_ends_with_the_total():
    terminal = Terminal()
    with compile_notice(terminal) as notice:
        notice.interval = notice.pause = 0.01
        fresh_kernel()(1)
        fresh_kernel()(1)
    text = terminal.getvalue()
    assert text.startswith("\r") and text.endswith("\n")
    assert "now test_kernels.twice" in text  # which kernel is compiling
    assert text.rsplit("\r", 1)[-1].startswith("\x1b[Kvarcolor: compiled 2 numba kernels in")


def test_a_closed_stream_does_not_fail_the_run():
    log = io.StringIO()
    log.close()
    with compile_notice(log):
        assert fresh_kernel()(2) == 4
