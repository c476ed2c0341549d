"""The edges of the API (issue 96, item 6): each a clear InputError or ConvergenceError, or an
honest report, the same answer from the API and the command line."""

import numpy as np
import pytest
from skimage import data

import varcolor
from varcolor import Cues
from varcolor.errors import InputError

from .conftest import needs_torch, on_threads, run


@pytest.fixture(scope="module")
def cat():
    """The cat's gray (its left 400 columns), a photo of it and one of another scene."""
    photo = data.chelsea() / 255.0
    return photo[:, :400].mean(axis=2), photo[:, 50:], data.rocket() / 255.0


@pytest.mark.slow
def test_an_unrelated_reference_alone_is_refused_by_colorize_as_by_the_command_line(cat, tmp_path, capsys):
    gray, _, rocket = cat
    cues = Cues.from_reference(gray, rocket, name="rocket.png")
    assert cues.count == 0 and cues.unmatched == ("rocket.png",)
    with pytest.raises(InputError, match=r"^rocket.png: matches too little .*; add strokes or the prior$"):
        varcolor.colorize(gray, cues)
    pool = Cues.from_references(gray, [rocket, data.coffee() / 255.0], names=["rocket.png", "coffee.png"])
    assert pool.count == 0 and pool.unmatched == ("rocket.png", "coffee.png")
    with pytest.raises(InputError, match=r"^no reference of 2 .* matches enough .*; add strokes or the prior$"):
        varcolor.colorize(gray, pool)
    # The command line says the same of the same files: exit 2, nothing written.
    varcolor.write_image(tmp_path / "cat.png", gray)
    varcolor.write_image(tmp_path / "rocket.png", rocket)
    out = tmp_path / "out.png"
    code, _, err = run(capsys, "colorize", tmp_path / "cat.png", "--reference", tmp_path / "rocket.png", "-o", out)
    assert code == 2 and "matches too little" in err and "add strokes or --prior ideepcolor" in err and not out.exists()


def test_an_unrelated_reference_beside_strokes_leaves_the_strokes_and_says_so(cat):
    gray, _, rocket = cat
    strokes = Cues.from_points([{"y": 100, "x": 100, "a": 30, "b": 10}], gray.shape)
    cues = Cues.from_reference(gray, rocket, strokes=strokes, name="rocket.png")
    assert cues.count == 1 and cues.unmatched == ("rocket.png",)
    result = varcolor.colorize(gray, cues)  # the strokes colour it
    assert np.allclose(result.ab[100, 100], (30, 10), atol=1e-6)
    # A plain empty cue set is still the gray image with a warning (nothing was asked of a reference).
    with pytest.warns(UserWarning, match="no colour cues"):
        varcolor.colorize(gray[:32, :32], Cues.empty((32, 32)))


def test_a_pool_is_refused_in_one_line_naming_what_is_wrong(cat):
    gray, photo, rocket = cat
    with pytest.raises(InputError, match=r"^references: no reference photo given"):
        Cues.from_references(gray, [])
    with pytest.raises(InputError, match=r"^names: 1 given for 2 references"):
        Cues.from_references(gray, [rocket, photo], names=["cat"])
    with pytest.raises(InputError, match=r"^gray: a 0×0 image is too narrow"):
        Cues.from_references(np.zeros((0, 0)), [photo])
    with pytest.raises(InputError, match=r"^references: a list of colour photos"):
        Cues.from_references(gray, photo)


def test_a_pools_references_are_listed_largest_share_first(cat, monkeypatch):
    # The pool's best-ranked photo gave fewer cues than the second: the larger share comes first.
    gray, photo, rocket = cat
    mask = np.zeros(gray.shape, bool)
    mask[:40, :100] = True
    shares = [(1, 1000), (0, 3000)]  # (index in the pool, cues it gave), in the pool's rank
    fake = (mask, np.zeros(gray.shape + (2,), np.float32), mask.astype(np.float32), shares)
    monkeypatch.setattr("varcolor.reading.matching.match_pool", lambda *args, **kwargs: fake)
    cues = Cues.from_references(gray, [photo, rocket], names=["big", "small"])
    assert cues.references == (("big", 0.75), ("small", 0.25))
    result = varcolor.colorize(gray, cues)
    assert [entry["reference"] for entry in result.info["references"]] == ["big", "small"]


@pytest.mark.parametrize(
    "spoil, words",
    [
        (lambda rgb: rgb * 255, r"must hold values in \[0, 1\], got .*8-bit levels\? divide by 255"),
        (lambda rgb: np.where(rgb > 0.9, np.nan, rgb), "non-finite"),
        (lambda rgb: rgb[0, :, 0], r"got shape \(48,\)"),
        (lambda rgb: rgb[..., :2], r"got shape \(32, 48, 2\)"),
    ],
)
def test_the_bench_refuses_what_is_no_photo_naming_it(spoil, words):
    from varcolor import bench

    rgb = np.random.default_rng(0).random((32, 48, 3))
    bad = spoil(rgb)
    for call in (lambda: bench.original(bad), lambda: bench.original(bad, "full"), lambda: bench.protocol_gray(bad)):
        with pytest.raises(InputError, match=f"^rgb {'has' if words == 'non-finite' else ''}.*{words}"):
            call()
    # evaluate names the photo's own shape, not that of its copy resized to the protocol's 256².
    with pytest.raises(InputError, match=f"^rgb .*{words}"):
        bench.evaluate(bad, ["levin"], [0])


def test_bench_score_refuses_a_result_in_levels_and_reads_a_nested_list_as_an_array():
    from varcolor import bench

    rgb = np.random.default_rng(0).random((48, 48, 3))
    result = np.clip(rgb + 0.05, 0, 1)
    with pytest.raises(InputError, match=r"^result must hold values in \[0, 1\].*divide by 255"):
        bench.score(result * 255, rgb)
    # A nested list is an array, as everywhere in varcolor: the same scores as the array's.
    assert bench.score(result.tolist(), rgb.tolist()) == bench.score(result, rgb)
    assert np.array_equal(bench.protocol_gray(rgb.tolist()), bench.protocol_gray(rgb))
    with pytest.raises(InputError, match=r"^rgb: a 48×4 photo is smaller than a hint's 6×6 patch"):
        bench.evaluate(rgb[:4], ["levin"], [0], "full")


def test_colorize_reads_a_nested_list_as_its_array_and_a_boolean_gray_as_0_and_1():
    gray = np.tile(np.linspace(0.2, 0.8, 16), (12, 1))
    cues = Cues.from_points([{"y": 5, "x": 3, "a": 30, "b": 10}], gray.shape)
    assert np.array_equal(varcolor.colorize(gray.tolist(), cues).ab, varcolor.colorize(gray, cues).ab)
    mask = gray > 0.5
    assert np.array_equal(varcolor.colorize(mask, cues).ab, varcolor.colorize(mask.astype(float), cues).ab)


def test_bilaplacian_gtv_stopped_above_its_tolerance_is_no_result_from_the_api_or_the_command_line(tmp_path, capsys):
    gray = np.tile(np.linspace(0.2, 0.8, 24), (20, 1))
    cues = Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 0}, {"y": 15, "x": 20, "a": 0, "b": 40}], gray.shape)
    with pytest.raises(varcolor.ConvergenceError, match=r"^bilaplacian-gtv: ADMM stopped after 3 iterations.*result"):
        varcolor.colorize(gray, cues, method="bilaplacian-gtv", admm_maxiter=3)
    varcolor.write_image(tmp_path / "g.png", gray)
    points = tmp_path / "p.json"
    points.write_text('[{"y": 5, "x": 3, "a": 40, "b": 0}, {"y": 15, "x": 20, "a": 0, "b": 40}]')
    out = tmp_path / "o.png"
    argv = ("colorize", tmp_path / "g.png", "--points", points, "-o", out, "--method", "bilaplacian-gtv")
    code, _, err = run(capsys, *argv, "--admm-maxiter", "3")
    assert code == 2 and "ADMM stopped after 3 iterations" in err and not out.exists()
    # Stopped near its tolerance (the default 1000 iterations end at 1.1e-3 here), a result said
    # as such; the energy's own solve still hands back its last iterate whatever its residual.
    with pytest.warns(varcolor.errors.ConvergenceWarning, match="stopped after 1000 iterations"):
        near = varcolor.colorize(gray, cues, method="bilaplacian-gtv")
    assert 1e-3 < near.info["residual"] <= 1e-2 and near.info["iterations"] == 1000
    from varcolor.energies.bilaplacian_gtv import Parameters, solve

    with pytest.warns(varcolor.errors.ConvergenceWarning):
        _, report = solve(gray, cues.mask, cues.ab, Parameters(maxiter=3))
    assert report["iterations"] == 3 and not report["converged"]


@pytest.mark.parametrize("option, words", [({"maxiter": 3}, "admm_maxiter"), ({"solver": "amg"}, "leave solver out")])
def test_bilaplacian_gtv_refuses_the_linear_solvers_options_it_would_ignore(option, words, tmp_path, capsys):
    gray = np.tile(np.linspace(0.2, 0.8, 24), (20, 1))
    cues = Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 0}], gray.shape)
    name = next(iter(option))
    with pytest.raises(InputError, match=f"^{name} .*{words}"):
        varcolor.colorize(gray, cues, method="bilaplacian-gtv", **option)
    varcolor.write_image(tmp_path / "g.png", gray)
    points = tmp_path / "p.json"
    points.write_text('[{"y": 5, "x": 3, "a": 40, "b": 0}]')
    argv = ("colorize", tmp_path / "g.png", "--points", points, "-o", tmp_path / "o.png", "-m", "bilaplacian-gtv")
    code, _, err = run(capsys, *argv, f"--{name}", str(option[name]))
    assert code == 2 and words in err


def test_a_loose_tolerance_is_blamed_for_a_solve_that_left_its_cues_range_not_the_image():
    # A 96×96 crop, five hints: amg stops at its residual under tol=1e-2, its colours past the cues'.
    from varcolor.color import same_lightness_gray
    from varcolor.cues import sample_ideepcolor

    rgb = data.coffee()[100:196, 100:196] / 255.0
    gray, cues = same_lightness_gray(rgb), sample_ideepcolor(rgb, 5, rng=0)
    with pytest.raises(varcolor.ConvergenceError) as caught:
        varcolor.colorize(gray, cues, method="levin", solver="amg", tol=1e-2)
    said = str(caught.value)
    assert said.startswith("the amg solver stopped at relative residual ") and "(tol 0.01), short of the answer" in said
    assert "give a smaller tol" in said and "long thin" not in said
    # At the default tolerance the same solve stays within its cues' range.
    exact = varcolor.colorize(gray, cues, method="levin", solver="amg")
    assert exact.info["residual"] <= 1e-8


def test_info_options_name_only_what_acted_on_the_solve_that_ran():
    gray = np.tile(np.linspace(0.2, 0.8, 24), (20, 1))
    cues = Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 0}, {"y": 15, "x": 20, "a": 0, "b": 40}], gray.shape)
    # The direct LU does not iterate: no iteration limit (its tol is the edits' it refines to).
    direct = varcolor.colorize(gray, cues, method="levin", solver="direct").info["options"]
    assert "maxiter" not in direct and direct["tol"] == 1e-8
    amg = varcolor.colorize(gray, cues, method="levin", solver="amg").info["options"]
    assert amg["maxiter"] == 300 and amg["tol"] == 1e-8
    # Up to 65,536 pixels levin-multiscale is Levin's exact solve: no coarse grid's parameters.
    exact = varcolor.colorize(gray, cues, restraint="off")
    assert exact.info["engine"]["factor"] == 1
    assert {"factor", "restraint"} <= set(exact.info["options"]) and not {"margin", "radius", "eps"} & set(
        exact.info["options"]
    )
    assert np.array_equal(varcolor.colorize(gray, cues, **exact.info["options"]).ab, exact.ab)
    # On a coarse grid (factor 4) they act, and the direct coarse solve's edits keep their own tolerance.
    coarse = varcolor.colorize(gray, cues, factor=4).info["options"]
    assert {"margin", "radius", "eps"} <= set(coarse) and "tol" not in coarse and "maxiter" not in coarse


@needs_torch
@pytest.mark.parametrize("prior", [None, "ideepcolor"])
def test_the_network_alone_names_its_prior_in_its_options_as_in_its_report(prior):
    gray = np.tile(np.linspace(0.2, 0.8, 32), (24, 1))
    cues = Cues.from_points([{"y": 5, "x": 3, "a": 40, "b": 0}], gray.shape)
    info = varcolor.colorize(gray, cues, method="ideepcolor", prior=prior).info
    assert info["prior"] == info["options"]["prior"] == "ideepcolor"


def test_every_result_has_infos_required_keys():
    from varcolor.color import same_lightness_gray

    from .conftest import photo, strokes

    required = {"method", "space", "device", "cues", "options", "solver", "iterations", "residual", "seconds"}
    assert varcolor.Info.__required_keys__ == required | {"paint_seconds"}
    gray = same_lightness_gray(photo("astronaut", (48, 56)))
    first, second = strokes(gray.shape)
    cz = varcolor.Colorizer(gray, method="levin")
    results = [cz.solve(first), cz.update(second), cz.undo()]
    with pytest.warns(UserWarning, match="no colour cues"):
        results.append(varcolor.colorize(gray, Cues.empty(gray.shape)))
    results.append(varcolor.colorize(gray, first, method="bilaplacian-gtv", admm_maxiter=3000))
    for result in results:
        assert varcolor.Info.__required_keys__ <= set(result.info), set(result.info)


def test_a_local_update_reports_the_residual_its_docstring_says():
    from varcolor.color import same_lightness_gray

    from .conftest import photo, stroke, strokes

    gray = same_lightness_gray(photo("astronaut", (96, 112)))
    first, second = strokes(gray.shape)
    # Two colours first (one colour's coarse answer is taken unsolved: nothing to correct then).
    first = first.merged(stroke(gray.shape, slice(80, 83), slice(10, 30), (-30.0, -20.0)))
    # A low-rank correction of Levin's exact system: the corrected system's residual, to tol.
    exact = varcolor.Colorizer(gray, method="levin-multiscale")
    exact.solve(first)
    corrected = exact.update(second)
    assert corrected.info["update"] == "low-rank" and corrected.info["residual"] <= 1e-8
    # levin-symmetric's and a coarse grid's have none: their bound says how near they are.
    for options in ({"method": "levin-symmetric"}, {"method": "levin-multiscale", "factor": 4}):
        cz = varcolor.Colorizer(gray, **options)
        cz.solve(first)
        edited = cz.update(second)
        assert edited.info["update"] == "low-rank" and edited.info["residual"] is None, options


def test_one_colorizer_called_from_two_threads_at_once_serves_them_in_turn():
    """Two threads updating and undoing one colorizer at once (two requests of one session): the
    calls wait for each other; racing, the low-rank updater's state was corrupted (IndexErrors, and
    results with chroma in the millions returned without error)."""
    rng = np.random.default_rng(0)
    gray = np.clip(np.tile(np.linspace(0.2, 0.8, 160), (120, 1)) + rng.normal(0, 0.02, (120, 160)), 0, 1)

    def stroke(seed: int) -> varcolor.Cues:
        pick = np.random.default_rng(seed)
        mask = np.zeros(gray.shape, bool)
        y, x = int(pick.integers(0, 115)), int(pick.integers(0, 110))
        mask[y : y + 3, x : x + 50] = True
        ab = np.zeros(gray.shape + (2,))
        ab[mask] = pick.uniform(-50, 50, 2)
        return varcolor.Cues(mask, ab)

    colorizer = varcolor.Colorizer(gray, method="levin")
    colorizer.solve(stroke(1000))
    errors, largest = [], []

    def work(k: int) -> None:
        for i in range(6):
            try:
                largest.append(float(np.abs(colorizer.update(stroke(100 * k + i)).ab).max()))
                if i % 3 == 2:
                    colorizer.undo()
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(error)

    on_threads(work, (1, 2))
    assert not errors and max(largest) <= 50.0 + 1e-6, (errors, max(largest))
    fresh = varcolor.colorize(gray, colorizer.cues, method="levin")
    assert np.abs(colorizer.result.ab - fresh.ab).max() <= 0.05


@pytest.mark.parametrize("shape", [(2, 12000), (3, 50000), (12000, 2)])
def test_a_strip_two_or_three_pixels_wide_is_colorized_with_its_confidence(shape):
    gray = np.linspace(0.3, 0.7, shape[0] * shape[1]).reshape(shape)
    mask = np.zeros(shape, bool)
    mask[0, 0] = mask[-1, -1] = True
    ab = np.zeros(shape + (2,))
    ab[0, 0], ab[-1, -1] = (30.0, 20.0), (-30.0, 10.0)
    result = varcolor.colorize(gray, varcolor.Cues(mask, ab))
    assert result.confidence.shape == shape and result.confidence[mask].min() == 1.0
    assert np.isfinite(result.ab).all()


def test_cues_keep_their_own_mask_when_the_callers_is_reused():
    """A caller reusing its mask array for the next stroke does not rewrite cues made from it (a
    colorizer's undo then restored the wrong strokes)."""
    mask = np.zeros((20, 30), bool)
    ab = np.zeros((20, 30, 2))
    mask[5, 5:25], ab[5, 5:25] = True, (40.0, 30.0)
    cues = varcolor.Cues(mask, ab)
    mask[:] = False
    assert cues.count == 20 and cues.mask[5, 10]


def test_a_guess_with_nan_is_refused_as_input():
    gray = np.tile(np.linspace(0.2, 0.8, 40), (30, 1))
    mask = np.zeros(gray.shape, bool)
    mask[10, 5:30] = True
    cues = varcolor.Cues(mask, np.where(mask[..., None], np.array([20.0, 10.0]), 0.0))
    with pytest.raises(InputError, match="x0 must be finite"):
        varcolor.Colorizer(gray, method="levin-symmetric", solver="cg").solve(cues, np.full(gray.shape + (2,), np.nan))
