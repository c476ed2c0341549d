"""varcolor.common.kernels: small problems run numba's kernels on one thread (a parallel region waits a
scheduler time slice for a busy core: a 40×60 solve took 80 s at load 5), big ones on every thread;
numba's compiles are said on stderr, not waited through in silence."""

import io
import json
import os

import numba
import numpy as np
import pytest

import varcolor
from varcolor.common import kernels
from varcolor.common.kernels import PARALLEL_PIXELS, compile_notice, threads_for
from varcolor.errors import InputError

# Levin's propagation as the subject (its results compared, its flood shown): unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("unrestrained")


def test_threads_for_a_small_problem_is_one_and_restored_after(monkeypatch):
    monkeypatch.setattr(kernels, "busy_cores", lambda: 0)  # an idle machine: a big problem on every thread
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
    monkeypatch.setattr("varcolor.common.kernels.PARALLEL_PIXELS", 0)  # every problem on every thread
    many = varcolor.Colorizer(gray, method="bilaplacian-gtv").solve(cues)
    np.testing.assert_allclose(one.ab, many.ab, atol=1e-6)


def _threads_in_solve(monkeypatch, gray, cues, **options):
    """The numba thread count the method's solve ran with, and the result."""
    seen = []
    colorizer = varcolor.Colorizer(gray, **options)
    solve = colorizer.engine.solve
    monkeypatch.setattr(colorizer.engine, "solve", lambda *a: seen.append(numba.get_num_threads()) or solve(*a))
    result = colorizer.solve(cues)
    return seen[0], result


def test_threads_is_an_option_and_the_default_leaves_busy_cores_alone(monkeypatch):
    monkeypatch.setattr("varcolor.common.kernels.PARALLEL_PIXELS", 0)  # a small image, treated as a big one
    gray = np.tile(np.linspace(0.2, 0.8, 48), (32, 1))
    # Two colours: one alone is given everywhere with no solve (Levin's methods keep within the cues).
    cues = varcolor.Cues.from_points(
        [{"y": 5, "x": 3, "a": 40, "b": 10}, {"y": 25, "x": 40, "a": -20, "b": 30}], gray.shape
    )
    most = numba.config.NUMBA_NUM_THREADS
    cores = len(os.sched_getaffinity(0))
    # Asked for: that many (at most NUMBA_NUM_THREADS), whatever the load.
    monkeypatch.setattr(kernels, "busy_cores", lambda: cores)
    assert _threads_in_solve(monkeypatch, gray, cues, method="levin", threads=2)[0] == min(2, most)
    # Not asked for: every core that no other process keeps busy, at least one.
    for busy in range(cores + 2):
        monkeypatch.setattr(kernels, "busy_cores", lambda busy=busy: busy)
        assert kernels.solve_threads(10**6) == max(1, min(most, cores - busy))
    monkeypatch.setattr(kernels, "busy_cores", lambda: cores - 1)
    one, result = _threads_in_solve(monkeypatch, gray, cues, method="levin")
    assert one == 1
    # The thread count never changes a result, bit for bit (the LU's two halves in turn or at once).
    for method in ("levin", "levin-symmetric"):  # (bilaplacian-gtv too, measured at 300²: slow on a loaded machine)
        ones = varcolor.colorize(gray, cues, method=method, threads=1)
        twos = varcolor.colorize(gray, cues, method=method, threads=2)
        assert np.array_equal(ones.ab, twos.ab), method
        assert ones.info["options"]["threads"] == 1
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InputError, match="threads must be a whole number >= 1"):
            varcolor.Options(threads=bad)


def test_busy_cores_counts_what_else_runs(monkeypatch):
    readings = iter(["0.5 0.4 0.3 4/200 99\n", "0.5 0.4 0.3 2/200 99\n", "0.5 0.4 0.3 3/200 99\n"])
    monkeypatch.setattr("builtins.open", lambda *a, **k: io.StringIO(next(readings)))
    assert kernels.busy_cores() == 1  # the fewest runnable (2), less the thread asking


def test_the_threads_flag_is_checked_and_does_not_change_what_resume_compares(tmp_path, capsys):
    from varcolor.app.jobs import made_with

    from ..conftest import run

    assert "threads" not in made_with(options=varcolor.Options(threads=1))
    assert made_with(options=varcolor.Options(threads=1)) == made_with(options=varcolor.Options())
    varcolor.write_image(tmp_path / "g.png", np.tile(np.linspace(0.2, 0.8, 48), (32, 1)))
    code, _, err = run(capsys, "colorize", tmp_path / "g.png", "-o", tmp_path / "out.png", "--threads", "0")
    assert code == 2 and err.count("\n") == 1 and "threads must be" in err


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


#: A fresh process compiling (numba's cache an empty folder) the exact system's rows, whole and
#: at some pixels, the symmetric system's weights and a dissection tree: how many versions of each
#: helper kernel it compiled.
_HELPERS_COMPILED = """
import json, numpy as np
import varcolor.common.kernels
varcolor.common.kernels.ARRAY_CODE_PIXELS = 0  # the kernels, as a big image's rows are built
from varcolor.common import affinity
from varcolor.energies import levin
from varcolor.solvers import dissection
guide = np.random.default_rng(0).random((20, 30))
levin.exact_operator(guide, guide > 0.9)
levin.exact_operator(guide, guide > 0.9, rows=np.array([3, 4, 70]))
affinity.edge_weights(guide)
dissection.Dissection(guide.shape, guide > 0.1, 8)
kernels = (levin._exact_row, affinity.fill_levin_weights, affinity._csig_at, dissection._free_pixels,
           dissection._ring, dissection._cheapest_line)
print(json.dumps({k.__name__: len(k.signatures) for k in kernels}))
"""


@pytest.mark.slow  # a fresh process compiling six kernels into an empty cache: tens of seconds
def test_helper_kernels_compile_one_version_whatever_calls_them(tmp_path):
    # A helper called from a parallel loop (an unsigned index), with a literal flag or with None
    # for an array compiled once per kind of call: seconds more on a first run.
    import json
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", _HELPERS_COMPILED], env=env, capture_output=True, text=True, timeout=300, check=True
    )
    versions = json.loads(done.stdout.splitlines()[-1])
    assert versions == dict.fromkeys(versions, 1)


# Array code below ARRAY_CODE_PIXELS: each step the same as its kernel's to rounding, and a small
# image's colorizing compiles no kernel (a first run of a 1 MP photo waited 9 s for 12 of them).

#: What each script below begins with: ``compiled``, the kernels numba compiles in its process
#: (their names, one per compile).
_COUNTING_COMPILES = """
import json, numpy as np
from numba.core import event
import varcolor
compiled = []
class Count(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__)
    def on_end(self, ev):
        pass
event.register("numba:compile", Count())
"""

#: A fresh process (numba's cache an empty folder) colorizing a generated 0.54 MP photo with
#: strokes through the default engine: the kernels numba compiled.
_SMALL_IMAGE_COMPILES = (
    _COUNTING_COMPILES
    + """
y, x = np.mgrid[0:600, 0:900]
gray = 0.5 + 0.3 * np.sin(x / 40.0) * np.cos(y / 55.0)
mask = np.zeros(gray.shape, bool)
mask[100:104, 100:400] = mask[450:454, 300:800] = True
ab = np.zeros(gray.shape + (2,))
ab[100:104] = (40.0, 20.0)
ab[450:454] = (-30.0, 35.0)
result = varcolor.colorize(gray, varcolor.Cues(mask, ab))
assert result.info["engine"]["factor"] == 4 and result.info["engine"]["tiles"] > 0, result.info
print(json.dumps(compiled))
"""
)


def test_a_small_image_colorizes_without_compiling_a_kernel(tmp_path):
    import json
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", _SMALL_IMAGE_COMPILES], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []


def _with_kernels(monkeypatch, step):
    """``step()`` by the array code, then by the kernels (as for a big image)."""
    array = step()
    monkeypatch.setattr(kernels, "ARRAY_CODE_PIXELS", 0)
    kernel = step()
    monkeypatch.undo()
    return array, kernel


def test_a_small_image_colorizes_as_the_kernels_do(monkeypatch):
    from ..conftest import photo

    gray = varcolor.color.to_gray(photo("coffee", (300, 450)))
    mask = np.zeros(gray.shape, bool)
    mask[60:63, 40:200] = mask[200:203, 150:420] = True
    ab = np.zeros(gray.shape + (2,))
    ab[60:63] = (35.0, 25.0)
    ab[200:203] = (-20.0, 40.0)
    cues = varcolor.Cues(mask, ab)
    array, kernel = _with_kernels(monkeypatch, lambda: varcolor.colorize(gray, cues))
    assert array.info["engine"]["factor"] == 4
    # The tiles' solves stop at a relative residual of 1e-5 (measured: 1.1e-4 ab apart at most).
    np.testing.assert_allclose(array.ab, kernel.ab, atol=1e-3)
    np.testing.assert_allclose(array.rgb, kernel.rgb, atol=1e-5)


def _a_system(shape):
    """A random generator, then a guide of ``shape`` (half of it flat: csig's floor), cues on a
    tenth of its pixels and a prior's weight on about a third: a system's inputs."""
    rng = np.random.default_rng(sum(shape))
    guide = rng.random(shape)
    guide[: shape[0] // 2] = 0.5
    return rng, guide, rng.random(shape) < 0.1, rng.random(shape) * (rng.random(shape) < 0.3)


@pytest.mark.parametrize("shape", [(2, 2), (3, 7), (41, 60)])
def test_the_exact_systems_rows_and_products_are_the_kernels(monkeypatch, shape):
    from varcolor.energies.levin import exact_operator

    rng, guide, mask, weight = _a_system(shape)
    rows = np.flatnonzero(rng.random(shape) < 0.3)
    x = rng.random(shape + (2,))
    for scaled in (False, True):

        def step(scaled=scaled):
            whole = exact_operator(guide, mask, row_scaled=scaled, prior_weight=weight)
            some = exact_operator(guide, mask, row_scaled=scaled, prior_weight=weight, rows=rows)
            return whole.stencil, some.stencil, whole.apply(x), whole.apply_rows(x, rows)

        for array, kernel in zip(*_with_kernels(monkeypatch, step), strict=True):
            np.testing.assert_allclose(array, kernel, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(2, 2), (2, 3), (41, 60)])
def test_the_symmetric_system_its_matrix_and_symmetry_check_are_the_kernels(monkeypatch, shape):
    from varcolor.energies.levin import symmetric_system
    from varcolor.solvers import stencil

    rng, guide, mask, weight = _a_system(shape)
    values, prior = rng.random(shape + (2,)), rng.random(shape + (2,))

    def step():
        operator, rhs = symmetric_system(guide, mask, values, prior, weight)
        csr = operator.to_csr()
        return operator.stencil, rhs, csr.indptr, csr.indices, csr.data, operator.is_symmetric()

    array, kernel = _with_kernels(monkeypatch, step)
    for a, k in zip(array, kernel, strict=True):
        np.testing.assert_allclose(a, k, rtol=1e-12, atol=1e-14)
    assert array[-1] is kernel[-1] is True
    # Any stencil, symmetric or not: the same matrix entry for entry, and the same answer where a
    # coupling reaches outside the image (the check's second condition) or differs from its mirror.
    tilted = rng.random(shape + (9,)) * (rng.random(shape + (9,)) < 0.7)
    leaking = array[0].copy()
    leaking[-1, -1, 8] = 1.0
    for any_stencil in (tilted, leaking, array[0]):
        for a, k in zip(stencil._csr_array(any_stencil), stencil._csr(any_stencil), strict=True):
            np.testing.assert_array_equal(a, k)
        assert stencil._is_symmetric_array(any_stencil, 1e-12) == stencil._is_symmetric(any_stencil, 1e-12)
        transposed = [np.empty_like(any_stencil), np.empty_like(any_stencil)]
        stencil._transpose_array(any_stencil, transposed[0])
        stencil._transpose(any_stencil, transposed[1])
        np.testing.assert_array_equal(*transposed)
    assert not stencil._is_symmetric_array(leaking, 1e-12)


#: A fresh process (numba's cache an empty folder, the kernels' choice left to varcolor) colorizing
#: generated photos with ``levin-symmetric``, a small one and a 0.12 MP one: the solvers its plan
#: took and the kernels numba compiled.
_SYMMETRIC_FIRST_RUN = (
    _COUNTING_COMPILES
    + """
solvers = []
for height, width in ((30, 40), (300, 400)):
    y, x = np.mgrid[0:height, 0:width]
    gray = 0.5 + 0.3 * np.sin(x / 9.0) * np.cos(y / 13.0)
    mask = np.zeros(gray.shape, bool)
    mask[5:7, 5:30] = mask[20:22, 10:35] = True
    ab = np.zeros(gray.shape + (2,))
    ab[5:7] = (40.0, 20.0)
    ab[20:22] = (-30.0, 35.0)
    solvers.append(varcolor.colorize(gray, varcolor.Cues(mask, ab), method="levin-symmetric").info["solver"])
print(json.dumps([solvers, compiled]))
"""
)


#: A fresh process running ``varcolor encode`` on a small colour photo (argv[1]) into a folder
#: (argv[2]), then ``varcolor decode`` of it: the kernels numba compiled.
_ENCODE_FIRST_RUN = (
    _COUNTING_COMPILES
    + """
import sys
from varcolor.cli import main
assert main(["encode", sys.argv[1], "-o", sys.argv[2]]) == 0
assert main(["decode", sys.argv[2], "-o", sys.argv[2] + "-decoded"]) == 0
print(json.dumps(compiled))
"""
)


@pytest.mark.slow
def test_a_first_encode_of_a_small_photo_compiles_no_kernel(tmp_path):
    import subprocess
    import sys

    from skimage import data
    from skimage.transform import resize

    varcolor.write_image(tmp_path / "photo.png", resize(data.astronaut(), (240, 320)))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    env.pop(kernels.KERNELS_VARIABLE)  # auto, as a user has it
    command = [sys.executable, "-c", _ENCODE_FIRST_RUN, str(tmp_path / "photo.png"), str(tmp_path / "ir")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # The adaptive encoder's refinement solved with Aᵀ, whose stencil was transposed by a kernel
    # (1.9 s of compiling) before.
    assert json.loads(done.stdout.splitlines()[-1]) == []
    assert (tmp_path / "ir-decoded" / "photo.png").exists()


@pytest.mark.slow
def test_a_first_symmetric_run_compiles_no_kernel(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    env.pop(kernels.KERNELS_VARIABLE)  # auto, as a user has it
    done = subprocess.run(
        [sys.executable, "-c", _SYMMETRIC_FIRST_RUN], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    # 13 kernels (17 s) for the small one before; SciPy's LU, then the Ruge–Stüben cycle, now.
    assert json.loads(done.stdout.splitlines()[-1]) == [["direct", "cg"], []]


@pytest.mark.parametrize("gamut", ["chroma", "clip"])
def test_lab_to_srgb_by_array_code_is_the_kernels_far_out_of_gamut_too(monkeypatch, gamut):
    rng = np.random.default_rng(7)
    lightness = rng.uniform(0, 100, (30, 40))
    lightness[0, :3] = (0.0, 100.0, 50.0)
    ab = rng.normal(0, 60, (30, 40, 2))  # most of them outside sRGB
    array, kernel = _with_kernels(monkeypatch, lambda: varcolor.color.chroma_to_rgb(lightness, ab, gamut))
    # the chroma scale found to 1e-9; the ICC lightness by four Newton steps each way, whose
    # rounding differs between the two by up to 3e-7 far out of gamut
    np.testing.assert_allclose(array, kernel, atol=1e-6)
    levels = _with_kernels(
        monkeypatch,
        lambda: varcolor.color.chroma_to_rgb_of_gray(
            lightness / 100, ab, gamut, np.empty(ab.shape[:2] + (3,), np.uint16)
        ),
    )
    assert np.abs(levels[0].astype(int) - levels[1]).max() <= 1


# Once `varcolor warm` compiled the kernels, small images run them too: its mark is read against
# the sources and numba it was written for, and VARCOLOR_KERNELS chooses either way.


def test_small_images_run_the_kernels_once_warm_marked_them_and_only_then(monkeypatch, tmp_path):
    monkeypatch.setattr(kernels, "_mark_folder", lambda: tmp_path)
    monkeypatch.delenv(kernels.KERNELS_VARIABLE)
    kernels.kernels_warm.cache_clear()
    try:
        assert kernels.array_code(1000 * 1000) and not kernels.kernels_warm()
        kernels.mark_kernels_warm()
        assert kernels.kernels_warm() and not kernels.array_code(1000 * 1000)
        assert [path.name for path in tmp_path.iterdir()] == [kernels.WARM_MARK]  # no temporary left
        monkeypatch.setenv(kernels.KERNELS_VARIABLE, "array")
        assert kernels.array_code(1000 * 1000)
        monkeypatch.setenv(kernels.KERNELS_VARIABLE, "auto")
        assert not kernels.array_code(1000 * 1000)
        # A mark written for other sources (a file changed since: numba compiles it again), a
        # torn one, or one of another shape (no list of kinds, not an object) is no mark.
        mark = tmp_path / kernels.WARM_MARK
        key = json.loads(mark.read_text())
        odd = [json.dumps({**key, "kinds": "cues"}), json.dumps({k: v for k, v in key.items() if k != "kinds"})]
        key["sources"][0][2] += 1
        for text in (json.dumps(key), mark.read_text()[:20], "", "[]", "null", *odd):
            mark.write_text(text)
            kernels.kernels_warm.cache_clear()
            assert not kernels.kernels_warm() and kernels.array_code(1000 * 1000)
        monkeypatch.setenv(kernels.KERNELS_VARIABLE, "numba")
        assert not kernels.array_code(1)
        assert kernels.array_code(kernels.ARRAY_CODE_PIXELS + 1) is False
    finally:
        kernels.kernels_warm.cache_clear()


def test_warm_marks_each_kind_it_ran_and_the_default_engines_kernels_after_its_own_run(monkeypatch, tmp_path):
    from varcolor.app import warm

    monkeypatch.setattr(kernels, "_mark_folder", lambda: tmp_path / "cache")
    monkeypatch.setitem(warm.WARM_RUNS, "cues", ("x", lambda: None, lambda: True))
    monkeypatch.setitem(warm.WARM_RUNS, "edits", ("x", lambda: None, lambda: True))
    monkeypatch.setitem(warm.WARM_RUNS, "automatic", ("x", lambda: None, lambda: False))  # its extra missing
    kernels.kernels_warm.cache_clear()
    try:
        warm.warm(("edits", "automatic"))
        assert kernels.kernels_warm("edits") and not kernels.kernels_warm() and not kernels.kernels_warm("automatic")
        warm.warm(("cues",))
        assert (tmp_path / "cache" / kernels.WARM_MARK).is_file() and kernels.kernels_warm()
        assert kernels.kernels_warm("edits")  # kept
    finally:
        kernels.kernels_warm.cache_clear()


def test_an_unwritable_cache_folder_leaves_the_array_code(monkeypatch, tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o500)
    monkeypatch.setattr(kernels, "_mark_folder", lambda: folder)
    monkeypatch.delenv(kernels.KERNELS_VARIABLE)
    kernels.kernels_warm.cache_clear()
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this user writes anywhere (root)")
        kernels.mark_kernels_warm()
        assert list(folder.iterdir()) == [] and kernels.array_code(1)
    finally:
        folder.chmod(0o700)
        kernels.kernels_warm.cache_clear()


def test_a_mistyped_kernels_variable_is_one_line_naming_it(monkeypatch, tmp_path, capsys):
    from varcolor.cli import main

    monkeypatch.setenv(kernels.KERNELS_VARIABLE, "yes")
    with pytest.raises(InputError, match=r"VARCOLOR_KERNELS='yes': say array, numba or auto"):
        kernels.array_code(1)
    assert kernels.array_code(kernels.ARRAY_CODE_PIXELS + 1) is False  # big photos: no choice to make
    photo, marked = tmp_path / "photo.png", tmp_path / "marked.png"
    varcolor.write_image(photo, varcolor.data.chelsea())
    varcolor.write_image(marked, varcolor.data.chelsea_marked())
    code = main(["colorize", str(photo), "--marked", str(marked), "-o", str(tmp_path / "out.png")])
    err = capsys.readouterr().err
    said = "varcolor: error: VARCOLOR_KERNELS='yes': say array, numba or auto (or leave it unset)"
    assert code == 2 and err.strip().splitlines() == [said]
    assert not (tmp_path / "out.png").exists()


def test_two_threads_first_using_a_kernel_at_once_both_run_it():
    """``compile_once`` from two threads at once (a server's two sessions' first strokes): the
    second waited for the first's compile, where it compiled a kernel the first had just closed
    to compiling ("compilation disabled")."""
    import threading

    from varcolor.common.kernels import compile_once

    @numba.njit(cache=False)
    def kernel(x):
        return x * 2.0

    barrier, errors = threading.Barrier(2), []

    def first_use():
        try:
            barrier.wait(5)
            compile_once(kernel, numba.float64)
            assert kernel(1.5) == 3.0
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=first_use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(kernel.signatures) == 1


# A script that colorizes, then forks workers (multiprocessing's fork, Linux's default before
# Python 3.14): GNU OpenMP's threads are not in a forked child, and numba ended the child at its
# first parallel kernel ("fork() called from a process already using GNU OpenMP").

_FORKED_AFTER_OPENMP = """
import json, multiprocessing as mp, numba, numpy as np, varcolor, varcolor.common.kernels
from concurrent.futures import ProcessPoolExecutor
@numba.njit(parallel=True)
def spin(n):
    total = 0.0
    for i in numba.prange(n):
        total += i
    return total
spin(100_000)  # the parent's OpenMP threads started, as a colorizing that ran kernels starts them
if numba.threading_layer() != "omp":
    raise SystemExit("no-omp")
def work(seed):
    gray = np.random.default_rng(seed).random((300, 320))
    mask = np.zeros(gray.shape, bool); mask[10:13, 5:300] = True
    ab = np.zeros(gray.shape + (2,)); ab[mask] = (30, 10)
    return float(varcolor.colorize(gray, varcolor.Cues(mask, ab)).ab[11, 200, 0])
with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
    print(json.dumps(list(pool.map(work, [0, 1]))))
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_workers_forked_after_openmp_kernels_ran_colorize_by_array_code():
    import subprocess
    import sys

    # Kernels asked for: without the fork's own choice the children would run them, and die.
    env = dict(os.environ, VARCOLOR_KERNELS="numba")
    env.pop("NUMBA_THREADING_LAYER", None)
    done = subprocess.run(
        [sys.executable, "-c", _FORKED_AFTER_OPENMP], env=env, capture_output=True, text=True, timeout=300
    )
    if "no-omp" in done.stderr:
        pytest.skip("numba has no OpenMP layer here")
    assert done.returncode == 0, done.stderr[-800:]
    assert [round(v) for v in json.loads(done.stdout)] == [30, 30]  # the cues keep their colour
