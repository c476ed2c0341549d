import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import varcolor
from varcolor.color import lightness_of_gray, rgb_to_lab, same_lightness_gray
from varcolor.cues import Cues, sample_random
from varcolor.errors import InputError

from .conftest import gray_and_cues, photo, strokes


@pytest.mark.parametrize("method", ["levin", "bilaplacian-gtv"])
def test_white_and_black_pixels_stay_white_and_black(method):
    # A blown highlight (gray 1.0) near a coloured cue: chroma there cannot be shown, and the gamut
    # mapping must return white, not fail (it once divided by zero where the chroma was about 0).
    gray = np.tile(np.linspace(0.0, 1.0, 24), (16, 1))
    gray[:, -6:], gray[:, :3] = 1.0, 0.0
    cues = varcolor.Cues.from_points(
        [{"y": 8, "x": 12, "a": 60, "b": -40}, {"y": 8, "x": 21, "a": 0, "b": 0}], shape=gray.shape
    )  # a neutral cue on the highlight: (almost) no chroma there
    # GTV: 1474 ADMM iterations here (its own limit, admm_maxiter; the linear solvers' maxiter it
    # refuses). Levin's system this small is solved directly, which has no maxiter.
    limit = {"admm_maxiter": 3000} if method == "bilaplacian-gtv" else {}
    rgb = varcolor.colorize(gray, cues, method=method, **limit).rgb
    assert np.abs(rgb[:, -6:] - 1.0).max() < 1e-4 and np.abs(rgb[:, :3]).max() < 1e-4  # 1/40 of an 8-bit step
    assert np.ptp(rgb[8, 12]) > 0.1  # and colour where it can be shown


def test_output_lightness_is_the_input_lightness():
    rgb = photo("coffee", (48, 64))
    gray = same_lightness_gray(rgb)
    result = varcolor.colorize(gray, sample_random(rgb, n=60, rng=0))
    assert np.abs(rgb_to_lab(result.rgb)[..., 0] - lightness_of_gray(gray)).max() < 1e-3


def test_colour_input_uses_its_lightness():
    rgb = photo("coffee", (32, 40))
    cues = sample_random(rgb, n=30, rng=1)
    from_rgb = varcolor.colorize(rgb, cues)
    from_gray = varcolor.colorize(same_lightness_gray(rgb), cues)
    assert np.allclose(from_rgb.rgb, from_gray.rgb)


def test_one_cue_on_a_flat_image_colours_it_all():
    gray = np.full((10, 12), 0.6)
    cues = varcolor.Cues.from_points([{"y": 3, "x": 4, "a": -20, "b": 35}], shape=gray.shape)
    result = varcolor.colorize(gray, cues, restraint="off")  # Levin's propagation: the one colour everywhere
    assert np.allclose(result.ab, (-20, 35))
    # restrained (the default): nothing on a flat image stops it, it fades only with distance
    restrained = varcolor.colorize(gray, cues).ab
    assert np.all(np.hypot(*restrained.transpose(2, 0, 1)) > 0.9 * np.hypot(-20, 35))


def test_colour_stays_on_its_side_of_a_strong_edge():
    gray = np.full((20, 20), 0.2)
    gray[:, 10:] = 0.8
    cues = varcolor.Cues.from_points(
        [{"y": 10, "x": 2, "a": 40, "b": 0}, {"y": 10, "x": 17, "a": -40, "b": 0}], shape=gray.shape
    )
    ab = varcolor.colorize(gray, cues, restraint="off").ab
    assert ab[:, :10, 0].min() > 35 and ab[:, 10:, 0].max() < -35
    ab = varcolor.colorize(gray, cues).ab  # restrained: fading towards the edge, never across it
    assert ab[:, :10, 0].min() > 25 and ab[:, 10:, 0].max() < -25


def test_no_cues_gives_gray_with_a_warning():
    gray = np.random.default_rng(0).random((8, 8))
    with pytest.warns(UserWarning, match="no colour cues"):
        result = varcolor.colorize(gray, varcolor.Cues.empty(gray.shape))
    # scikit-image's D65 white and its sRGB matrix disagree by ~3e-5, so Lab a = b = 0 is
    # neutral only to that precision (0.01 of an 8-bit step); the lightness is exact.
    assert np.abs(result.rgb - gray[..., None]).max() < 1e-4
    assert np.abs(rgb_to_lab(result.rgb)[..., 0] - lightness_of_gray(gray)).max() < 1e-9


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"method": "magic"}, "unknown method"),
        ({"solver": "magic"}, "unknown solver"),
        ({"space": "hsv"}, "unknown space"),
        ({"gamut": "wrap"}, "unknown gamut"),
    ],
)
def test_bad_options(kwargs, message):
    gray = np.zeros((4, 4))
    cues = varcolor.Cues.from_points([{"y": 1, "x": 1, "a": 1, "b": 1}], shape=(4, 4))
    with pytest.raises(InputError, match=message):
        varcolor.colorize(gray, cues, **kwargs)


def test_bad_images():
    cues = varcolor.Cues.empty((4, 4))
    with pytest.raises(InputError, match="5×4"):
        varcolor.colorize(np.zeros((4, 5)), cues)
    with pytest.raises(InputError, match="non-finite"):
        varcolor.colorize(np.full((4, 4), np.nan), cues)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        varcolor.colorize(np.full((4, 4), 255.0), cues)


@pytest.mark.slow
def test_importing_varcolor_leaves_forked_workers_able_to_colorize():
    # A parallel kernel set up at import started OpenMP in the parent, and workers forked from it
    # aborted on their first parallel kernel ("fork() called from a process already using GNU
    # OpenMP"). A fresh interpreter, as a user's script would be.
    script = (
        "import json, multiprocessing as mp, numpy as np, varcolor\n"
        "def work(seed):\n"
        "    gray = np.random.default_rng(seed).random((24, 32))\n"
        "    cues = varcolor.Cues.from_points([{'y': 3, 'x': 4, 'a': 30, 'b': 10}], gray.shape)\n"
        "    return float(varcolor.colorize(gray, cues, restraint='off').ab[20, 30, 0])\n"
        "with mp.get_context('fork').Pool(2) as pool:\n"
        "    print(json.dumps(pool.map(work, [0, 1])))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert [round(v) for v in json.loads(done.stdout)] == [30, 30]  # one cue colours the whole image


@pytest.mark.slow
def test_a_process_that_solved_a_reach_forks_workers_that_solve_theirs():
    """A script colorizes one photo, then forks workers that colorize theirs (a multiprocessing
    pool): each worker starts its own thread for the reach (the parent's is not in the child; the
    pool waited for ever on it). The workqueue layer: GNU OpenMP's own fork limit is not this test's."""
    script = (
        "import json, multiprocessing as mp, numpy as np, varcolor\n"
        "def work(seed):\n"
        "    gray = np.random.default_rng(seed).random((40, 48))\n"
        "    mask = np.zeros(gray.shape, bool); mask[10:13, 5:30] = True\n"
        "    ab = np.zeros(gray.shape + (2,)); ab[mask] = (30, 10)\n"
        "    return float(varcolor.colorize(gray, varcolor.Cues(mask, ab)).ab[11, 20, 0])\n"
        "work(9)\n"
        "with mp.get_context('fork').Pool(2) as pool:\n"
        "    print(json.dumps(pool.map(work, [0, 1])))\n"
    )
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("the forked workers never finished their reach")
    assert done.returncode == 0, done.stderr[-500:]
    assert [round(v) for v in json.loads(done.stdout)] == [30, 30]  # the cues themselves keep their colour


# --- arrays of the wrong type at the API boundary (issue 36) ---


@pytest.mark.parametrize(
    "spoil",
    [
        lambda a: a.astype(object),
        lambda a: a.astype(complex),
        lambda a: a.astype(str),
        lambda a: [list(row) for row in a[:-1]] + [[0.5]],  # ragged
    ],
)
def test_arrays_that_are_not_real_numbers_are_refused_naming_the_argument(spoil):
    gray = np.full((16, 16), 0.5)
    cues = varcolor.Cues.from_points([{"y": 8, "x": 8, "a": 30, "b": 10}], shape=gray.shape)
    with pytest.raises(InputError, match=r"^gray: "):
        varcolor.colorize(spoil(gray), cues)
    with pytest.raises(InputError, match=r"^x0: "):
        varcolor.colorize(gray, cues, x0=spoil(np.zeros((16, 16, 2))))
    with pytest.raises(InputError, match=r"^cue ab: "):
        varcolor.Cues(cues.mask, spoil(cues.ab))
    with pytest.raises(InputError, match=r"^marked: "):
        varcolor.Cues.from_marked(gray, spoil(np.zeros((16, 16, 3))))
    # Numbers of any real type still work: a boolean or integer gray is read as values in [0, 1].
    assert varcolor.colorize(gray.astype(np.float32), cues).rgb.shape == (16, 16, 3)
    flat = varcolor.colorize((gray > 0).astype(np.uint8), cues, restraint="off")
    assert np.allclose(flat.ab[0, 0], (30, 10), atol=1e-6)


@pytest.mark.parametrize("space", ["lab", "yiq"])
def test_colorize_bits_gives_the_levels_of_the_float_result(rng, space):
    # bits=8/16: rgb as the levels the writer would make of the float result, exactly.
    from varcolor.io.formats import _quantize

    gray, cues = gray_and_cues("coffee", (40, 56), 30, rng)
    floats = varcolor.colorize(gray, cues, space=space)
    for bits, dtype in ((8, np.uint8), (16, np.uint16)):
        levels = varcolor.colorize(gray, cues, space=space, bits=bits)
        assert levels.rgb.dtype == dtype
        assert np.array_equal(levels.rgb, _quantize(floats.rgb, bits))
        assert np.array_equal(levels.ab, floats.ab)
    with pytest.raises(InputError, match="bits must be 8 or 16"):
        varcolor.Colorizer(gray, bits=12)


def test_colorizer_bits_repaints_an_edit_as_levels():
    # An edit repaints only its window: into the levels as the float result's are quantized.
    from varcolor.io.formats import _quantize

    gray = same_lightness_gray(photo("astronaut", (64, 64)))
    first, second = strokes(gray.shape)
    floats, levels = varcolor.Colorizer(gray), varcolor.Colorizer(gray, bits=8)
    floats.solve(first), levels.solve(first)
    expected, result = floats.update(second), levels.update(second)
    assert result.rgb.dtype == np.uint8
    assert np.array_equal(result.rgb, _quantize(expected.rgb, 8))


def test_colorizer_says_each_chroma_before_painting_it():
    # on_chroma gets each result's chroma once, before the paint: in Lab, the result's ab itself.
    gray = same_lightness_gray(photo("astronaut", (64, 64)))
    first, second = strokes(gray.shape)
    colorizer, said = varcolor.Colorizer(gray), []
    painted = colorizer.painter.paint
    colorizer.painter.paint = lambda *args: said.append("painted") or painted(*args)
    colorizer.on_chroma = lambda chroma: said.append(chroma.copy())
    results = [colorizer.solve(first), colorizer.update(second)]
    assert [type(x) for x in said] == [np.ndarray, str, np.ndarray, str]
    for chroma, result in zip(said[::2], results):
        assert np.array_equal(chroma, result.ab)
    yiq = varcolor.Colorizer(gray, method="levin", space="yiq")
    yiq.on_chroma = lambda chroma: said.append(chroma)
    result = yiq.solve(first)
    assert said[-1].shape == result.ab.shape and not np.allclose(said[-1], result.ab)  # I and Q, not ab


@pytest.mark.parametrize("method", ["levin-multiscale", "levin"])
@pytest.mark.parametrize("shape", [(64, 64), (96, 160)])
def test_results_painted_later_are_those_painted_at_once(method, shape):
    # paint_later: a Lab result after the first keeps the last picture until paint_now, which paints
    # where every result since changed; a result painted at once after some left unpainted paints
    # theirs too. Each picture is the one a colorizer painting every result makes.
    gray = same_lightness_gray(photo("astronaut", shape))
    first, second = strokes(gray.shape)
    third = Cues.from_points([{"y": shape[0] - 5, "x": shape[1] - 9, "a": 10.0, "b": 50.0}], gray.shape)
    fourth = Cues.from_points([{"y": 7, "x": shape[1] // 2, "a": -30.0, "b": -20.0}], gray.shape)
    at_once, later = varcolor.Colorizer(gray, method=method), varcolor.Colorizer(gray, method=method)
    expected = [at_once.solve(first).rgb.copy()] + [at_once.update(c).rgb.copy() for c in (second, third, fourth)]
    shown = later.solve(first).rgb.copy()
    later.paint_later = True
    for cues, picture in ((second, expected[1]), (third, expected[2])):
        result = later.update(cues)
        assert later.unpainted and np.array_equal(result.rgb, shown)  # the picture as it was
        assert not np.array_equal(picture, shown)  # (which is not this result's)
    assert np.array_equal(later.paint_now().rgb, expected[2]) and not later.unpainted
    assert later.paint_now().rgb is later.paint_now().rgb  # nothing waits: the last result
    later.update(fourth)  # left unpainted, then painted with the next result painted at once
    later.paint_later = False
    assert later.unpainted
    again = Cues.from_points([{"y": shape[0] // 2, "x": 5, "a": 25.0, "b": 25.0}], gray.shape)
    assert np.array_equal(later.update(again).rgb, at_once.update(again).rgb) and not later.unpainted
    with pytest.raises(RuntimeError, match="nothing solved"):
        varcolor.Colorizer(gray).paint_now()


def test_paint_later_paints_a_first_result_and_yiq_at_once():
    gray = same_lightness_gray(photo("astronaut", (64, 64)))
    first, second = strokes(gray.shape)
    for colorizer in (varcolor.Colorizer(gray), varcolor.Colorizer(gray, method="levin", space="yiq")):
        colorizer.paint_later = True
        before = colorizer.solve(first).rgb.copy()  # nothing painted before: painted now
        assert not colorizer.unpainted and before.std() > 0
        colorizer.update(second)
        assert colorizer.unpainted is (colorizer.options.space == "lab")


@pytest.mark.parametrize("method", ["levin-multiscale", "levin-symmetric", "bilaplacian-gtv"])
def test_check_fits_refuses_a_gpu_that_is_not_there_as_colorize_does(method):
    from varcolor.solvers.device import backend

    try:
        backend("cuda")
        pytest.skip("a CUDA GPU and CuPy are here")
    except InputError as missing:
        expected = str(missing)
    with pytest.raises(InputError) as planned:
        varcolor.check_fits((64, 64), method=method, device="cuda")
    assert str(planned.value) == expected
    gray, cues = gray_and_cues("coffee", (32, 32), 20, rng=0)
    with pytest.raises(InputError) as solved:
        varcolor.colorize(gray, cues, method=method, device="cuda")
    assert str(solved.value) == expected


def test_every_error_a_solve_raises_is_a_public_name():
    from varcolor import errors

    assert varcolor.ConvergenceError is errors.ConvergenceError and "ConvergenceError" in varcolor.__all__
    assert issubclass(varcolor.ConvergenceError, varcolor.VarcolorError)


def test_undo_goes_back_one_cue_set_at_a_time_by_a_correction(monkeypatch):
    # A correction is priced against a fresh solve's measured seconds: on so small an image a busy
    # core can make the fresh solve look cheaper (then 'full'); the price is not what is tested here.
    monkeypatch.setattr("varcolor.methods.interactive.Updates.compare_with_fresh", False)
    gray, first = gray_and_cues("coffee", (48, 64), 20, rng=2)
    second, third = strokes(gray.shape)[:2]
    cz = varcolor.Colorizer(gray, method="levin", solver="direct")
    with pytest.raises(InputError, match="nothing to undo"):
        cz.undo()
    cz.solve(first)
    cz.update(second)
    cz.update(third)
    assert cz.cues.count == first.merged(second).merged(third).count
    back = cz.undo()  # to first + second: the same colours as colorizing that set afresh
    assert cz.cues.count == first.merged(second).count and back.info["update"] == "low-rank"
    fresh = varcolor.colorize(gray, first.merged(second), method="levin", solver="direct")
    assert np.abs(back.ab - fresh.ab).max() <= 0.05
    back = cz.undo()
    assert cz.cues is first
    assert np.abs(back.ab - varcolor.colorize(gray, first, method="levin").ab).max() <= 0.05
    with pytest.raises(InputError, match="nothing to undo"):
        cz.undo()
    # Earlier cue sets are kept within UNDO_BYTES: the oldest go first, the last one always stays.
    monkeypatch.setattr(varcolor.api, "UNDO_BYTES", 1)
    cz.update(second)
    cz.update(third)
    cz.undo()
    with pytest.raises(InputError, match="nothing to undo"):
        cz.undo()


def test_size_messages_write_width_by_height_and_say_so():
    gray = np.full((128, 160), 0.5)  # 128 rows, 160 columns: a 160×128 image
    cues = varcolor.Cues.empty((160, 128))
    for call in (lambda: varcolor.colorize(gray, cues), lambda: varcolor.metrics.psnr(np.zeros((160, 128, 3)), gray)):
        with pytest.raises(InputError) as refused:
            call()
        message = str(refused.value)
        assert "128×160" in message and "160×128" in message and "width×height" in message, message


def _conforms(value, hint) -> bool:
    """Whether ``value`` is of the (simple) type ``hint``: str, int, float, None, their unions,
    and list[…] or dict[str, …] of them."""
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is typing.Any:
        return True
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        return isinstance(value, list) and all(_conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) and _conforms(v, args[1]) for k, v in value.items())
    if origin is tuple:
        return isinstance(value, tuple) and len(value) == len(args)
    return isinstance(value, hint)


@pytest.mark.parametrize("method", ["levin", "levin-multiscale", "levin-symmetric", "bilaplacian-gtv"])
def test_the_report_holds_its_guaranteed_keys_each_of_the_type_report_says(method):
    """``Result.info`` is a :class:`varcolor.Info`: every built-in method's has the keys the
    type's docstring guarantees, and each key the type names holds a value of its type."""
    import typing
    import warnings

    hints = typing.get_type_hints(varcolor.Info)
    gray, cues = gray_and_cues("astronaut", (24, 32), 20, np.random.default_rng(4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bilaplacian-gtv's iteration limit on a small image
        info = varcolor.colorize(gray, cues, method=method).info
    guaranteed = ("method", "space", "device", "cues", "options", "threads", "solver", "iterations", "residual")
    assert set(guaranteed) | {"seconds", "paint_seconds"} <= set(info)
    typed = [key for key in info if key in hints]
    assert typed and all(_conforms(info[key], hints[key]) for key in typed), {k: info[k] for k in typed}
    assert varcolor.Info.__doc__ and "Result.info" in varcolor.Info.__doc__


@pytest.mark.parametrize(
    "keywords, said",
    [
        ({"maxiter": "abc"}, "maxiter must be a whole number, at least 1, got 'abc'"),
        ({"maxiter": 2.5}, "maxiter must be a whole number"),
        ({"maxiter": True}, "maxiter must be a whole number"),
        ({"maxiter": float("inf")}, "maxiter must be a whole number"),
        ({"method": "bilaplacian-gtv", "admm_maxiter": 0}, "admm_maxiter must be a whole number >= 1, got 0"),
        ({"max_memory": "1"}, "max_memory must be a positive number of bytes"),
        ({"max_memory": [1]}, "max_memory must be a positive number of bytes"),
        ({"prior": "ideepcolor", "network_file": 3}, "network_file must be a file's path, got 3"),
        ({"method": "ideepcolor", "global_hints": "x"}, "global_hints must be a varcolor.gamut.GlobalHints, not str"),
        ({"method": "bilaplacian-gtv", "progress": 1}, "progress must be a function of one dict, not int"),
        ({"method": "levin-multiscale", "solver": "cg"}, "only method 'levin-symmetric' has; leave solver out"),
    ],
)
def test_keywords_of_the_wrong_kind_are_one_line_naming_them(keywords, said):
    """Each raised a bare TypeError, ValueError or AttributeError from deep inside (some only once a
    solve had started), named another option, or was taken in silence (maxiter 2.5 ran 2 iterations)."""
    gray = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
    cues = varcolor.Cues.from_points([{"y": 12, "x": 8, "a": 30, "b": 10}], shape=gray.shape)
    with pytest.raises(InputError, match=re.escape(said)):
        varcolor.colorize(gray, cues, **keywords)


def test_a_references_odd_arguments_are_one_line():
    gray = np.tile(np.linspace(0.2, 0.8, 64), (48, 1))
    with pytest.raises(InputError, match="reference"):
        varcolor.Cues.from_reference(gray, "x")
    with pytest.raises(InputError, match=r"min_confidence must lie in \[0, 1\], got '0.5'"):
        varcolor.Cues.from_reference(gray, np.dstack([gray, gray * 0.5, gray]), min_confidence="0.5")
