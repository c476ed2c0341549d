"""The bilaplacian-gtv method through the Colorizer: its tolerance and sharpness reach the energy,
previews refined, updates resumed, flat regions kept flat (the energy itself: tests/energies/)."""

import numpy as np
import pytest

import varcolor
from varcolor.energies import bilaplacian_gtv
from varcolor.energies.bilaplacian_gtv import Parameters, solve
from varcolor.errors import InputError

from ..conftest import tiny_problem


def test_colorize_defaults_to_the_energys_own_tolerance():
    gray = tiny_problem()[0]
    assert varcolor.Colorizer(gray, method="bilaplacian-gtv").engine.energy_parameters.tol == Parameters().tol
    # The linear solvers' tolerance is not the ADMM's.
    assert (
        varcolor.Colorizer(gray, method="bilaplacian-gtv", tol=1e-10).engine.energy_parameters.tol == Parameters().tol
    )
    with pytest.raises(InputError, match="admm_tol"):
        varcolor.Colorizer(gray, method="bilaplacian-gtv", admm_tol=-1.0)
    with pytest.raises(InputError, match="mu, admm_tol: options of method bilaplacian-gtv; method 'levin-multiscale'"):
        varcolor.Colorizer(gray, mu=2.0, admm_tol=1e-2)
    with pytest.raises(InputError, match="sharpness: options of method bilaplacian-gtv"):
        varcolor.Colorizer(gray, sharpness=16.0)


def test_sharpness_reaches_the_energy():
    gray, mask, targets = tiny_problem(3, (24, 24))
    cues = varcolor.Cues(mask, targets)
    default, sharp = (
        varcolor.colorize(gray, cues, method="bilaplacian-gtv", admm_tol=1e-5, **kwargs)
        for kwargs in ({}, {"sharpness": 16.0})
    )
    params = Parameters(sharpness=16.0)
    assert sharp.info["energy"] == pytest.approx(bilaplacian_gtv.energy(sharp.ab, gray, mask, targets, params))
    # Each result is the better one under its own weights.
    assert bilaplacian_gtv.energy(sharp.ab, gray, mask, targets, params) < bilaplacian_gtv.energy(
        default.ab, gray, mask, targets, params
    )
    assert bilaplacian_gtv.energy(default.ab, gray, mask, targets, Parameters()) < bilaplacian_gtv.energy(
        sharp.ab, gray, mask, targets, Parameters()
    )


def test_a_looser_admm_tolerance_stops_sooner_at_its_residuals():
    gray, mask, targets = tiny_problem(7, (32, 40))
    cues = varcolor.Cues(mask, targets)
    infos = {tol: varcolor.colorize(gray, cues, method="bilaplacian-gtv", admm_tol=tol).info for tol in (3e-2, 1e-3)}
    assert infos[3e-2]["iterations"] < infos[1e-3]["iterations"]
    for tol, info in infos.items():
        assert max(info["primal_residual"], info["dual_residual"]) <= tol


def test_refining_a_preview_gives_the_fresh_solve_for_the_remaining_iterations():
    gray, mask, targets = tiny_problem(4, (24, 24))
    cues = varcolor.Cues(mask, targets)
    fresh = varcolor.colorize(gray, cues, method="bilaplacian-gtv", admm_tol=1e-5)
    # The case that needs the balancing schedule carried on: the penalty changes after the preview.
    preview_state, fresh_state = bilaplacian_gtv.AdmmState(), bilaplacian_gtv.AdmmState()
    solve(gray, mask, targets, Parameters(tol=3e-2), state=preview_state)
    solve(gray, mask, targets, Parameters(tol=1e-5), state=fresh_state)
    assert fresh_state.rho != preview_state.rho
    cz = varcolor.Colorizer(gray, method="bilaplacian-gtv", admm_tol=3e-2)
    preview = cz.solve(cues)
    final = cz.refine(1e-5)
    assert final.info["residual"] <= 1e-5 < preview.info["residual"]
    # The same iteration carried on: a fresh solve's result, for its iterations in all.
    assert preview.info["iterations"] + final.info["iterations"] == fresh.info["iterations"]
    np.testing.assert_allclose(final.ab, fresh.ab, atol=1e-9)
    assert cz.engine.energy_parameters.tol == 3e-2  # updates stay previews


def test_refine_needs_a_gtv_solve_first():
    gray = tiny_problem()[0]
    with pytest.raises(InputError, match="solve first"):
        varcolor.Colorizer(gray, method="bilaplacian-gtv").refine()
    with pytest.raises(InputError, match="bilaplacian-gtv"):
        varcolor.Colorizer(gray).refine()


def test_colorizer_update_resumes_admm():
    gray, mask, targets = tiny_problem(7, (32, 40))
    cz = varcolor.Colorizer(gray, method="bilaplacian-gtv")
    cz.solve(varcolor.Cues(mask, targets))
    stroke = np.zeros_like(mask)
    stroke[20:22, 5:15] = True
    updated = cz.update(varcolor.Cues(stroke, targets))
    fresh = varcolor.Colorizer(gray, method="bilaplacian-gtv").solve(varcolor.Cues(mask | stroke, targets))
    assert updated.info["iterations"] < fresh.info["iterations"]
    # Both stop at the default tolerance (1e-3), at nearly the same energy.
    assert abs(updated.info["energy"] - fresh.info["energy"]) <= 2e-3 * fresh.info["energy"]


def test_flat_regions_stay_flat_where_levin_bleeds():
    # Two flat regions split by a faint luminance edge, two cues each, far from the edge.
    gray = np.full((40, 40), 0.50)
    gray[:, 20:] = 0.53
    cues = varcolor.Cues.from_points(
        [
            {"y": 5, "x": 3, "a": 40, "b": 20},
            {"y": 34, "x": 5, "a": 40, "b": 20},
            {"y": 5, "x": 36, "a": -30, "b": -30},
            {"y": 30, "x": 34, "a": -30, "b": -30},
        ],
        shape=gray.shape,
    )
    gtv = varcolor.colorize(gray, cues, method="bilaplacian-gtv", admm_tol=1e-4).ab  # the minimiser's shape
    levin = varcolor.colorize(gray, cues).ab
    left, right = (40.0, 20.0), (-30.0, -30.0)
    gtv_error = max(np.abs(gtv[:, :19] - left).max(), np.abs(gtv[:, 21:] - right).max())
    levin_error = max(np.abs(levin[:, :19] - left).max(), np.abs(levin[:, 21:] - right).max())
    assert gtv_error < 2.0  # flat per region, the jump at the boundary
    assert levin_error > 5 * gtv_error  # Levin's quadratic energy leaks across the faint edge


def test_no_cues_gives_gray_with_a_warning():
    gray = np.random.default_rng(0).random((10, 12))
    with pytest.warns(UserWarning, match="no colour cues"):
        result = varcolor.colorize(gray, varcolor.Cues.empty(gray.shape), method="bilaplacian-gtv")
    assert np.abs(result.ab).max() == 0
    with pytest.raises(InputError, match="nothing fixes"):
        solve(gray, np.zeros(gray.shape, bool), np.zeros(gray.shape + (2,)))
