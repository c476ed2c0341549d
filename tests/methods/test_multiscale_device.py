"""The default engine's device path (:mod:`varcolor.methods.multiscale_device`): its array code
run with NumPy standing in for CuPy agrees with the CPU engine; on a GPU (CuPy), the same checks
with ``device="cuda"``; without CuPy, ``device="cuda"`` is refused in one line.

Agreement: both solve the same systems (the coarse grid, reach and lift the same; the band and
the closed regions past it in the CPU's sweep of 256-pixel tiles, in waves of tiles that do not
touch on the device: :mod:`varcolor.solvers.schwarz`), by the device path's BiCGSTAB to a
relative residual of 1e-10 and the CPU's LU refined to 1e-5: held to :data:`CLOSE` (1e-3 ab)
everywhere, strokes across the tiles' seams and a grainy photo of nine tiles included.
"""

import numpy as np
import pytest

import varcolor
from varcolor.color import rgb_to_lab, same_lightness_gray
from varcolor.errors import InputError
from varcolor.methods import multiscale_device
from varcolor.methods.base import Problem
from varcolor.solvers.device import backend

from ..conftest import photo, run

#: Colours within this (ab) of the CPU engine's where both solve the same systems.
CLOSE = 1e-3
SHAPE = (300, 450)
#: Strokes inside the CPU engine's first correction tile (rows and columns below 256 less its overlap).
ONE_TILE = [(50, 54, 40, 200), (150, 153, 60, 180), (200, 230, 200, 204)]
#: Strokes across the tiles, and a small square whose lifted colour is off (a closed region's cue).
ACROSS = [(50, 54, 40, 400), (200, 203, 60, 380), (270, 280, 300, 310)]
#: A photo of one tile (at factor 4), its strokes and squares whose corrections span closed regions past the band.
WHOLE_TILE = [(30, 34, 20, 230), (150, 153, 30, 200), (200, 210, 180, 190), (100, 110, 100, 110), (60, 70, 200, 210)]


def _gpu() -> bool:
    try:
        backend("cuda")
    except InputError:
        return False
    return True


def scene(strokes, shape=SHAPE):
    rgb = photo("coffee", shape)
    mask = np.zeros(shape, bool)
    for top, bottom, left, right in strokes:
        mask[top:bottom, left:right] = True
    ab = np.zeros(shape + (2,), np.float32)
    ab[mask] = rgb_to_lab(rgb)[mask][:, 1:]
    return same_lightness_gray(rgb), varcolor.Cues(mask, ab)


def on_numpy(gray, **options) -> varcolor.Colorizer:
    """A colorizer whose engine runs the device path with NumPy in CuPy's place."""
    colorizer = varcolor.Colorizer(gray, method="levin-multiscale", **options)
    colorizer.engine.device = multiscale_device.numpy_device()
    return colorizer


@pytest.mark.parametrize("restraint,space", [("on", "lab"), ("off", "lab"), ("on", "yiq"), ("off", "yiq")])
def test_the_device_path_on_numpy_agrees_with_the_cpu_engine(restraint, space):
    gray, cues = scene(ONE_TILE)
    cpu = varcolor.Colorizer(gray, method="levin-multiscale", restraint=restraint, space=space).solve(cues)
    device = on_numpy(gray, restraint=restraint, space=space).solve(cues)
    engine = device.info["engine"]
    assert engine["device"] == "numpy-device" and engine["factor"] == 4 and engine["coarse_solver"] == "direct"
    assert engine["corrected_pixels"] == cpu.info["engine"]["corrected_pixels"]
    assert engine["correction_residual"] <= multiscale_device.BAND_TOL
    assert np.abs(device.ab - cpu.ab).max() <= CLOSE
    assert "full_solve" not in device.info and device.info["residual"] is None


@pytest.mark.parametrize("restraint,space", [("on", "lab"), ("off", "yiq")])
def test_with_closed_regions_spanned_the_two_agree(restraint, space):
    gray, cues = scene(WHOLE_TILE, shape=(250, 250))
    options = {"factor": 4, "restraint": restraint, "space": space}
    cpu = varcolor.Colorizer(gray, method="levin-multiscale", **options).solve(cues)
    device = on_numpy(gray, **options).solve(cues)
    engine = device.info["engine"]
    assert engine["region_pixels"] > 0 and engine["corrected_pixels"] < cpu.info["engine"]["corrected_pixels"]
    assert np.abs(device.ab - cpu.ab).max() <= CLOSE


def test_the_device_path_holds_the_cues_exactly():
    gray, cues = scene(ONE_TILE)
    colorizer = on_numpy(gray)
    chroma, _ = colorizer.engine.solve(Problem(cues.mask, cues.ab), None)
    assert chroma.dtype == np.float32 and np.array_equal(chroma[cues.mask], cues.ab[cues.mask])


def test_across_tiles_the_two_agree():
    gray, cues = scene(ACROSS)
    cpu = varcolor.Colorizer(gray, method="levin-multiscale").solve(cues)
    device = on_numpy(gray).solve(cues)
    engine = device.info["engine"]
    assert engine["region_pixels"] > 0 and cpu.info["engine"]["tiles"] == 4
    assert engine["corrected_pixels"] + engine["region_pixels"] == cpu.info["engine"]["corrected_pixels"]
    assert engine["correction_systems"] < 4  # (tiles whose bands do not touch: one wave)
    assert np.abs(device.ab - cpu.ab).max() <= CLOSE


def grainy_scene(shape=(620, 700), strokes=30, seed=1):
    """A grainy photo of nine correction tiles, strokes and dabs scattered over it (across seams)."""
    rng = np.random.default_rng(seed)
    rgb = np.clip(photo("astronaut", shape) + rng.normal(0, 0.03, shape + (3,)), 0, 1)
    mask = np.zeros(shape, bool)
    for _ in range(strokes):
        top, left = rng.integers(0, shape[0] - 12), rng.integers(0, shape[1] - 200)
        if rng.random() < 0.5:
            mask[top : top + 3, left : left + rng.integers(20, 200)] = True
        else:
            mask[top : top + rng.integers(3, 12), left : left + rng.integers(3, 12)] = True
    ab = np.zeros(shape + (2,), np.float32)
    ab[mask] = rgb_to_lab(rgb)[mask][:, 1:]
    return same_lightness_gray(rgb), varcolor.Cues(mask, ab)


@pytest.mark.slow
@pytest.mark.parametrize("restraint", ["on", "off"])
def test_on_a_grainy_photo_of_nine_tiles_the_two_agree(restraint):
    gray, cues = grainy_scene()
    cpu = varcolor.Colorizer(gray, method="levin-multiscale", restraint=restraint).solve(cues)
    device = on_numpy(gray, restraint=restraint).solve(cues)
    assert cpu.info["engine"]["tiles"] >= 9 and device.info["engine"]["correction_systems"] <= 3 + 2 * 2
    assert np.abs(device.ab - cpu.ab).max() <= CLOSE


@pytest.mark.slow
def test_the_krylov_coarse_solve_from_the_cues_and_from_the_last_solve(monkeypatch):
    # What runs on a GPU: BiCGSTAB to tol, preconditioned by the aggregation multigrid, on NumPy.
    monkeypatch.setattr(multiscale_device, "COARSE_METHOD", "krylov")
    gray, cues = scene(ONE_TILE)
    cpu = varcolor.Colorizer(gray, method="levin-multiscale", restraint="off", tol=1e-11)
    device = on_numpy(gray, restraint="off", tol=1e-11)
    first = device.solve(cues)
    engine = first.info["engine"]
    assert engine["coarse_solver"] == "bicgstab" and engine["coarse_start"] == "cues"
    assert engine["coarse_levels"] >= 3 and engine["coarse_iterations"] <= 100
    assert engine["coarse_residual"] <= 1e-11 and "coarse_fallback" not in engine
    assert np.abs(first.ab - cpu.solve(cues).ab).max() <= CLOSE
    # An edit: its coarse grid from the last solve's, the tiles it reaches corrected again.
    stroke = np.zeros(SHAPE, bool)
    stroke[100:103, 30:150] = True
    more = varcolor.Cues(stroke, np.where(stroke[..., None], np.float32([20, -30]), np.float32(0)))
    edited = device.update(more)
    assert edited.info["update"] == "window" and "full_solve" not in edited.info
    assert edited.info["engine"]["coarse_start"] == "guess"
    # The last solve's grid starts nearer the edit's solution than the cues do (its iterations
    # may tie with a fresh solve's: whole numbers, machine by machine).
    report = edited.info["engine"]
    assert report["coarse_start_error"] < report["coarse_cues_start_error"]
    assert edited.info["engine"]["coarse_iterations"] <= engine["coarse_iterations"]
    assert np.abs(edited.ab - cpu.update(more).ab).max() <= CLOSE


def test_a_small_photo_is_levin_exact_on_the_device_path():
    gray, cues = scene([(20, 23, 10, 100), (80, 83, 30, 140)], shape=(120, 160))
    cpu = varcolor.Colorizer(gray, method="levin-multiscale", restraint="off").solve(cues)
    device = on_numpy(gray, restraint="off").solve(cues)
    assert device.info["engine"]["factor"] == 1 and "lift_seconds" not in device.info["engine"]
    assert np.abs(device.ab - cpu.ab).max() <= CLOSE


def test_the_host_lu_coarse_solve_agrees(monkeypatch):
    monkeypatch.setattr(multiscale_device, "COARSE_METHOD", "host")
    gray, cues = scene(ONE_TILE)
    cpu = varcolor.Colorizer(gray, method="levin-multiscale").solve(cues)
    device = on_numpy(gray).solve(cues)
    assert device.info["engine"]["coarse_solver"] == "host LU"
    assert np.abs(device.ab - cpu.ab).max() <= CLOSE


@pytest.mark.skipif(_gpu(), reason="CuPy and a CUDA GPU are here")
def test_device_cuda_is_refused_in_one_line_without_cupy(tmp_path, capsys):
    gray, cues = scene(ONE_TILE, shape=(40, 60))
    with pytest.raises(InputError) as refused:
        varcolor.Colorizer(gray, method="levin-multiscale", device="cuda")
    assert "CuPy" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(InputError):
        varcolor.colorize(gray, cues, device="cuda")  # the default engine
    rgb = photo("coffee", (40, 60))
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[cues.mask] = rgb[cues.mask]
    varcolor.write_image(tmp_path / "img.png", gray)
    varcolor.write_image(tmp_path / "img_marked.png", marked)
    code, _, err = run(capsys, "colorize", tmp_path, "-o", tmp_path / "out", "--device", "cuda")
    assert code == 2 and err.count("\n") == 1 and "CuPy" in err and not (tmp_path / "out").exists()
    # and its kernels cannot be compiled ahead here: one line too
    code, _, err = run(capsys, "warm", "--device", "cuda")
    assert code == 2 and err.count("\n") == 1 and "CuPy" in err


@pytest.mark.skipif(not _gpu(), reason="needs CuPy and a CUDA GPU")
@pytest.mark.parametrize("restraint", ["on", "off"])
def test_on_a_gpu_the_default_engine_agrees_with_the_cpu(restraint):
    gray, cues = scene(ONE_TILE)
    cpu = varcolor.Colorizer(gray, method="levin-multiscale", restraint=restraint, tol=1e-11).solve(cues)
    gpu = varcolor.Colorizer(gray, method="levin-multiscale", restraint=restraint, device="cuda", tol=1e-11)
    result = gpu.solve(cues)
    assert result.info["device"] == "cuda" and result.info["engine"]["device"] == "cuda"
    assert np.abs(result.ab - cpu.ab).max() <= CLOSE
    assert np.array_equal(result.ab[cues.mask], cpu.ab[cues.mask])


@pytest.mark.skipif(not _gpu(), reason="needs CuPy and a CUDA GPU")
def test_on_a_gpu_across_tiles_the_two_agree():
    gray, cues = grainy_scene()
    cpu = varcolor.Colorizer(gray, method="levin-multiscale", tol=1e-11).solve(cues)
    result = varcolor.Colorizer(gray, method="levin-multiscale", device="cuda", tol=1e-11).solve(cues)
    engine = result.info["engine"]
    assert engine["coarse_solver"] == "bicgstab" and engine["coarse_start"] == "cues"
    assert np.abs(result.ab - cpu.ab).max() <= CLOSE


@pytest.mark.slow
def test_warm_runs_the_device_path_once():
    from varcolor.app.warm import warm_device

    assert warm_device(multiscale_device.numpy_device()) > 0


def _strokes(shape, count, seed):
    """``count`` short strokes at random places, alternately reddish and greenish."""
    rng = np.random.default_rng(seed)
    for k in range(count):
        top, left = rng.integers(0, shape[0] - 20), rng.integers(0, shape[1] - 200)
        mask = np.zeros(shape, bool)
        mask[top : top + 3, left : left + 60] = True
        yield varcolor.Cues(mask, np.where(mask[..., None], np.float32([20 * (-1) ** k, -25]), np.float32(0)))


@pytest.mark.slow  # the device path by array code: among the longest checks; make test-slow runs it
def test_an_edit_on_the_device_solves_again_the_tiles_it_touches_and_lands_near_a_fresh_solve():
    """Edits keep the corrections of the tiles no changed cue touches and where the lift moved
    little (a closed region's kept correction added after the bands, as a fresh solve solves it):
    each within 0.05 ab of a fresh solve of the same cues; undo comes back to the first result."""
    gray, cues = grainy_scene()
    device = on_numpy(gray)
    first = device.solve(cues)
    reused = 0
    for more in _strokes(gray.shape, 5, seed=3):
        edited = device.update(more)
        engine = edited.info["engine"]
        assert edited.info["update"] == "window" and engine["correction_update"] == "windowed"
        reused += engine["tiles_reused"]
        fresh = on_numpy(gray).solve(device.cues)
        assert np.abs(edited.ab - fresh.ab).max() <= 0.05
        assert np.array_equal(edited.ab[more.mask], fresh.ab[more.mask])
    assert reused > 0  # (the check saw kept corrections)
    for _ in range(5):
        undone = device.undo()
    assert np.abs(undone.ab - first.ab).max() <= 0.05


def test_an_edit_with_no_correction_kept_on_the_device_is_solved_afresh_and_says_why():
    gray, cues = scene(ONE_TILE)
    device = on_numpy(gray)
    device.solve(cues)
    device.engine.on_device.correction = None  # as a solve with a prior (the CPU's path) leaves it
    edited = device.update(next(_strokes(gray.shape, 1, seed=1)))
    assert edited.info["update"] == "full" and "device path" in edited.info["full_solve"]


def _private_engine_members(source: str) -> list[str]:
    """The attributes ``engine._…`` that ``source`` reads, writes or calls (an ``Attribute`` of the Name ``engine``)."""
    import ast

    return sorted(
        node.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "engine"
        and node.attr.startswith("_")
    )


def test_the_device_path_uses_no_private_member_of_the_engine():
    """The device path is the default engine on a device: it reaches the engine through its public
    stages alone (``restrained``, ``interior``, ``cpu_solve``, ``on_device``), and its NumPy stand-in
    is NumPy itself (the solvers asked for their array code, not a module in disguise)."""
    from pathlib import Path

    assert _private_engine_members("engine._solve(problem)\nengine._on_device = None\n") == ["_on_device", "_solve"]
    source = Path(multiscale_device.__file__).read_text(encoding="utf-8")
    assert _private_engine_members(source) == []
    assert multiscale_device.numpy_device().xp is np
