"""The CuPy paths on a real GPU: the same answers as the CPU's. Skipped without CuPy and a GPU
(the array code itself is also run with NumPy standing in for CuPy, in the other test files)."""

import numpy as np
import pytest

import varcolor
from varcolor.color import same_lightness_gray
from varcolor.cues import sample_random
from varcolor.energies import bilaplacian_gtv
from varcolor.errors import InputError
from varcolor.solvers.device import backend

from ..conftest import photo

MAX_AB, RMS_AB = 0.05, 0.005  # "exact" per the speed issue


def _gpu_available() -> bool:
    try:
        backend("cuda")
    except InputError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _gpu_available(), reason="needs CuPy and a CUDA GPU")


@pytest.fixture(scope="module")
def scene():
    rgb = photo("astronaut", (192, 256))
    return same_lightness_gray(rgb), sample_random(rgb, int(0.01 * 192 * 256), rng=3)


@pytest.mark.parametrize(
    "method,solver",
    [("levin", "amg"), ("levin-symmetric", "cg"), ("levin", "aggregation"), ("levin-symmetric", "aggregation")],
)
def test_gpu_solvers_match_the_direct_solve(scene, method, solver):
    gray, cues = scene
    reference = varcolor.colorize(gray, cues, method=method, solver="direct")
    result = varcolor.colorize(gray, cues, method=method, solver=solver, device="cuda")
    error = np.abs(result.ab - reference.ab)
    assert error.max() <= MAX_AB and np.sqrt(np.mean(error**2)) <= RMS_AB
    assert result.info["device"] == "cuda" and result.info["solver"] == solver


@pytest.mark.parametrize("method", ["levin", "levin-symmetric"])
def test_auto_picks_the_hierarchy_built_on_the_gpu(scene, method):
    gray, cues = scene
    assert varcolor.Colorizer(gray, method=method, device="cuda").solver_name == "aggregation"


def test_gtv_on_the_gpu_reaches_the_cpu_minimum(scene):
    gray, cues = scene
    params = bilaplacian_gtv.Parameters(tol=1e-5, maxiter=3000)
    cpu, cpu_info = bilaplacian_gtv.solve(gray, cues.mask, cues.ab, params)
    gpu, gpu_info = bilaplacian_gtv.solve(gray, cues.mask, cues.ab, params, device="cuda")
    assert isinstance(gpu, np.ndarray)
    assert abs(gpu_info["energy"] - cpu_info["energy"]) <= 1e-4 * cpu_info["energy"]
    assert np.abs(gpu - cpu).max() < 0.5 and np.array_equal(gpu[cues.mask], cues.ab[cues.mask])
