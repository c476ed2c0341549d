"""Issue 70: numbers a paper can quote. Every report says what ran (plug-ins included), every input
says what is wrong, the bench's protocol is reproducible from its manifest, and it reports what
papers report (colourfulness, FID from a weights file the user supplies)."""

import json
import re

import numpy as np
import pytest

import varcolor
from tests.conftest import photo, run
from varcolor import bench, methods, metrics
from varcolor.bench import export as bench_export
from varcolor.bench import fid as bench_fid
from varcolor.bench import plot as bench_plot
from varcolor.energies import levin
from varcolor.errors import InputError, MethodError
from varcolor.methods import Method
from varcolor.solvers.base import relative_norm

# Levin's propagation as the subject (its results compared, its flood shown): unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("unrestrained")


def _gray(shape=(48, 56)):
    return varcolor.color.same_lightness_gray(photo("astronaut", shape))


def _cues(shape, count=6, seed=0):
    rng = np.random.default_rng(seed)
    points = [
        {"y": int(rng.integers(shape[0])), "x": int(rng.integers(shape[1])), "a": float(a), "b": float(b)}
        for a, b in rng.uniform(-40, 40, (count, 2))
    ]
    return varcolor.Cues.from_points(points, shape)


class _Reports(Method):
    name, summary = "reports-test", "the cues' mean, with the report the test gives"
    report: dict = {}

    def solve(self, problem, x0):
        mean = problem.targets[problem.mask].mean(axis=0)
        return np.broadcast_to(mean, problem.targets.shape).copy(), dict(type(self).report)


@pytest.fixture
def reporting():
    methods.register(_Reports)
    yield _Reports
    methods.unregister(_Reports.name)


# Reports


def test_a_plug_in_report_cannot_rewrite_the_library_keys(reporting):
    gray = _gray()
    cues = _cues(gray.shape)
    reporting.report = {"solver": None, "iterations": None, "residual": None, "method": "levin", "cues": 999}
    with pytest.raises(MethodError, match=r"method 'reports-test' \(.*_Reports\).*library's own key\(s\) cues, method"):
        varcolor.colorize(gray, cues, method="reports-test")
    reporting.report = {"solver": "mean", "iterations": 0, "residual": 0.0, "spread": 1.5}
    info = varcolor.colorize(gray, cues, method="reports-test").info
    assert (info["method"], info["cues"], info["spread"]) == ("reports-test", cues.count, 1.5)


@pytest.mark.parametrize(
    "report, says",
    [
        ({"solver": "mean"}, "report has no iterations, residual"),
        ({"solver": "mean", "iterations": 0}, "report has no residual"),
        ({"solver": 3, "iterations": 0, "residual": 0.0}, "solver must be a str or None"),
        ({"solver": "x", "iterations": -1, "residual": 0.0}, "iterations must be a whole number >= 0"),
        ({"solver": "x", "iterations": 1.5, "residual": 0.0}, "iterations must be a whole number >= 0"),
        ({"solver": "x", "iterations": 1, "residual": float("nan")}, "residual must be a finite number >= 0"),
        ({"solver": "x", "iterations": 1, "residual": "small"}, "residual must be a finite number >= 0"),
    ],
)
def test_a_plug_in_report_is_checked(reporting, report, says):
    gray = _gray()
    reporting.report = report
    with pytest.raises(MethodError, match=re.escape(says)) as refused:
        varcolor.colorize(gray, _cues(gray.shape), method="reports-test")
    assert "method 'reports-test'" in str(refused.value) and "\n" not in str(refused.value)


def test_the_network_alone_reports_no_solve_and_no_weight_it_ignores():
    gray = _gray()
    cues = _cues(gray.shape, 2)
    one = varcolor.colorize(gray, cues, method="ideepcolor")
    other = varcolor.colorize(gray, cues, method="ideepcolor", prior_weight=0.3, confidence="entropy")
    assert np.array_equal(one.ab, other.ab)  # the weight changes nothing: it is not reported
    for info in (one.info, other.info):
        assert (info["solver"], info["iterations"], info["residual"]) == (None, None, None)
        assert info["prior"] == "ideepcolor"
        for ignored in ("prior_weight", "confidence", "solver", "tol", "maxiter"):
            assert ignored not in info["options"]
        assert "prior_weight" not in info and "confidence" not in info


def test_options_list_only_what_had_an_effect_and_the_prior_mode_that_ran():
    gray = _gray()
    cues = _cues(gray.shape)
    plain = varcolor.colorize(gray, cues, method="levin", prior_weight=0.5, confidence="entropy").info
    for prior_option in ("prior", "prior_weight", "confidence", "prior_mode", "network_file", "automatic"):
        assert prior_option not in plain["options"]
    assert plain["options"]["tol"] == 1e-8 and plain["options"]["solver"] == "auto"
    # They rebuild options that colorize the same.
    again = varcolor.colorize(gray, cues, **plain["options"])
    assert np.array_equal(again.ab, varcolor.colorize(gray, cues, method="levin").ab)
    # levin-symmetric has one prior mode: asked for residual, it ran anchor, and says so everywhere.
    symmetric = varcolor.colorize(gray, cues, method="levin-symmetric", prior="ideepcolor", prior_mode="residual")
    anchor = varcolor.colorize(gray, cues, method="levin-symmetric", prior="ideepcolor", prior_mode="anchor")
    assert np.array_equal(symmetric.ab, anchor.ab)
    assert symmetric.info["prior_mode"] == symmetric.info["options"]["prior_mode"] == "anchor"


def test_bilaplacian_gtv_honours_its_iteration_limit_and_names_only_what_it_used():
    gray = _gray((20, 24))
    cues = _cues(gray.shape, 3)
    # Stopped at the limit before its tolerance: no result (a linear solver's limit is as much).
    with pytest.raises(varcolor.ConvergenceError, match=r"stopped after 20 iterations \(admm_maxiter\)"):
        varcolor.colorize(gray, cues, method="bilaplacian-gtv", admm_maxiter=20)
    full = varcolor.colorize(gray, cues, method="bilaplacian-gtv")
    assert 20 < full.info["iterations"] <= 1000 and full.info["residual"] <= full.info["admm_tol"] == 1e-3
    for unused in ("tol", "maxiter", "solver"):  # the linear solvers': ADMM has its own
        assert unused not in full.info["options"]
    assert full.info["options"]["admm_maxiter"] == 1000


def test_levin_multiscale_reports_its_stages_and_its_residual_on_levins_full_system():
    rgb = photo("coffee", (96, 112))
    gray = varcolor.color.same_lightness_gray(rgb)
    cues = varcolor.cues.sample_random(rgb, 40, rng=3)
    cz = varcolor.Colorizer(gray, method="levin-multiscale", factor=4)
    result = cz.solve(cues)
    info = result.info
    engine = info["engine"]
    assert info["solver"] == "multiscale" and engine["coarse_solver"] == "direct"
    assert engine["correction_solver"] == "direct" and engine["coarse_residual"] < 1e-8
    # Levin's system at full resolution, built whole here: the result's residual on it.
    targets = cz.painter.targets(cues)
    operator = levin.exact_operator(cz.gray, cues.mask)
    rhs = levin.exact_rhs(cues.mask, targets)
    expected = relative_norm((operator.apply(np.asarray(cz._chroma, float)) - rhs).reshape(-1, 2), rhs.reshape(-1, 2))
    assert info["residual"] == pytest.approx(expected, rel=1e-9) and info["residual"] > 1e-3
    # After an edit: no error bound that its result does not keep to.
    more = varcolor.Cues.from_points([{"y": 50, "x": 60, "a": 35, "b": -20, "radius": 2}], gray.shape)
    edited = cz.update(more)
    fresh = varcolor.colorize(gray, cues.merged(more), method="levin-multiscale", factor=4)
    deviation = float(np.abs(edited.ab - fresh.ab).max())
    assert "bound" not in edited.info or edited.info["bound"] >= deviation
    assert edited.info["residual"] is None or edited.info["residual"] > 0


def test_every_solve_reports_its_threads_and_a_gtv_undo_its_update():
    gray = _gray((20, 24))
    one, two = _cues(gray.shape, 2, seed=1), _cues(gray.shape, 3, seed=2)
    cz = varcolor.Colorizer(gray, method="levin", threads=1)
    assert cz.solve(one).info["threads"] == 1
    assert cz.update(two).info["threads"] == 1  # a low-rank correction
    gtv = varcolor.Colorizer(gray, method="bilaplacian-gtv", admm_tol=3e-2)
    gtv.solve(one)
    gtv.solve(two)
    undone = gtv.undo()
    assert undone.info["update"] == "full" and "makes no local updates" in undone.info["full_solve"]
    assert isinstance(undone.info["threads"], int) and undone.info["threads"] >= 1


# Inputs


def test_marked_images_on_another_scale_or_with_nan_are_refused_naming_them():
    gray = np.full((8, 8), 0.5)
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[1, 1] = (0.8, 0.3, 0.3)
    with_nan = marked.copy()
    with_nan[2, 2, 0] = np.nan
    for bad, says in (
        (marked * 255, r"marked must hold values in \[0, 1\], got \[76.5, 204\] \(8-bit levels\? divide by 255\)"),
        ((marked * 255).astype(np.uint8), r"marked must hold values in \[0, 1\], got \[76, 204\]"),
        (marked * 2, r"marked must hold values in \[0, 1\], got \[0.6, 1.6\]$"),
        (with_nan, r"marked has non-finite values"),
    ):
        with pytest.raises(InputError, match=says):
            varcolor.Cues.from_marked(gray, bad)
    assert varcolor.Cues.from_marked(gray, marked).count == 1


def test_an_8_bit_stroke_mask_is_refused_naming_it_and_the_range():
    strokes = np.zeros((8, 8, 3), np.uint8)
    strokes[2, 2] = (200, 10, 10)
    with pytest.raises(InputError, match=r"^strokes must hold values in \[0, 1\], got \[0, 200\]"):
        varcolor.Cues.from_mask(strokes)
    assert varcolor.Cues.from_mask(strokes / 255.0).count == 1


def test_points_on_the_wrong_scale_are_refused():
    with pytest.raises(InputError, match=r"point 1: r, g, b are 8-bit levels \(0–255\), got \(0.8, 0.2, 0.1\)"):
        varcolor.Cues.from_points([{"y": 1, "x": 1, "r": 0.8, "g": 0.2, "b": 0.1}], (4, 4))
    with pytest.raises(InputError, match=r"point 2: a=300 is beyond Lab's ±128"):
        varcolor.Cues.from_points([{"y": 1, "x": 1, "a": 3, "b": 0}, {"y": 1, "x": 1, "a": 300, "b": 0}], (4, 4))
    with pytest.raises(InputError, match=r"b=-140 is beyond"):
        varcolor.Cues.from_points([{"y": 1, "x": 1, "a": 0, "b": -140}], (4, 4))
    # 8-bit levels that happen to be 0 or 1, and the gamut's own extremes, are taken.
    near_black = varcolor.Cues.from_points([{"y": 1, "x": 1, "r": 0, "g": 0, "b": 1}], (4, 4))
    blue = varcolor.color.rgb_to_lab(np.array([[[0.0, 0.0, 1.0]]]))[0, 0]
    extreme = varcolor.Cues.from_points([{"y": 1, "x": 1, "a": blue[1], "b": blue[2]}], (4, 4))
    assert near_black.count == extreme.count == 1


def test_metrics_refuse_masks_and_a_colour_result_against_a_gray_reference():
    rgb = photo("coffee", (64, 64))
    gray = rgb.mean(axis=2)
    for name in ("psnr", "ciede2000", "ab_rmse", "ssim"):
        function = getattr(metrics, name)
        with pytest.raises(InputError, match="^result is a bool array"):
            function(rgb > 0.5, rgb)
        with pytest.raises(InputError, match="^the original is gray .* but the result is in colour"):
            function(rgb, gray)
        assert np.isfinite(function(gray, rgb))  # a gray result against the colour original: scored
    with pytest.raises(InputError, match="^image is a bool array"):
        metrics.colorfulness(rgb > 0.5)


# The protocol


def test_hints_depend_on_the_photo_and_n_alone():
    first, second = photo("coffee", (40, 48)), photo("astronaut", (40, 48))
    alone = bench.evaluate(first, ["levin"], [5, 20], "32", index=0)
    fifth = bench.evaluate(first, ["levin"], [5, 20], "32", index=4)
    assert [row["psnr"] for row in alone] == [row["psnr"] for row in fifth]
    rgb = bench.original(first, "32")
    assert (
        bench.hint_points(rgb, 5)
        == bench.hint_points(rgb.copy(), 5)
        != bench.hint_points(rgb, 6)[: len(bench.hint_points(rgb, 5))]
    )
    assert bench.hint_points(rgb, 5) != bench.hint_points(bench.original(second, "32"), 5)


def test_the_manifest_and_the_tables_say_how_to_reproduce_a_row(tmp_path, capsys):
    run_ = bench_export.protocol(bench.SEED, "256", [0, 5])
    assert run_["numpy"] == np.__version__ and "order=1, anti_aliasing=True" in run_["resize"]
    assert "8-bit" in run_["scored"] and "unquantised" in run_["scored"]
    for name, image in (("a", "astronaut"), ("b", "coffee"), ("c", "chelsea")):
        varcolor.write_image(tmp_path / "photos" / f"{name}.png", photo(image, (40, 48)))
    code, out, err = run(
        capsys, "bench", tmp_path / "photos", "-m", "levin", "--hints", "0,5", "--resolution", "32", "-q"
    )
    assert code == 0, err
    # Every mean with its standard error, computed here from the rows.
    code, raw, _ = run(
        capsys,
        "bench",
        tmp_path / "photos",
        "-m",
        "levin",
        "--hints",
        "0,5",
        "--resolution",
        "32",
        "-q",
        "--format",
        "json",
    )
    table = json.loads(raw)
    rows = [row for row in table["rows"] if row["hints"] == 5]
    values = np.array([row["psnr"] for row in rows])
    cell = next(mean for mean in table["summary"] if mean["hints"] == 5)
    assert cell["psnr_se"] == pytest.approx(values.std(ddof=1) / np.sqrt(3))
    assert f"| 32 | levin | psnr | {np.mean([r['psnr'] for r in table['rows'] if r['hints'] == 0]):.2f} ± " in out
    assert f"{cell['psnr']:.2f} ± {cell['psnr_se']:.2f}" in out
    assert f"NumPy {np.__version__}" in out and table["protocol"]["numpy"] == np.__version__
    # Colourfulness, the result's as scored (8-bit), is a column of its own.
    assert "| 32 | levin | colorfulness | " in out
    assert cell["colorfulness"] == pytest.approx(np.mean([row["colorfulness"] for row in rows]))


def test_the_plot_says_which_curves_are_hidden_under_another(tmp_path):
    import matplotlib

    lines = {"levin": {0: 22.5, 5: 27.0}, "levin-multiscale": {0: 22.5, 5: 27.0}, "gtv": {0: 22.5, 5: 26.0}}
    assert bench_plot.identical(lines) == {"levin-multiscale": "levin"}
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as text, to be read back
        bench_plot.plot(tmp_path / "curve.svg", lines, "psnr", "test")
    svg = (tmp_path / "curve.svg").read_text()
    assert "levin-multiscale (identical to levin: drawn over it)" in svg and "gtv (identical" not in svg


# What papers report


def test_the_frechet_distance_of_two_gaussians_is_the_analytic_one():
    # 1-D: (μ₁ − μ₂)² + (σ₁ − σ₂)².
    assert bench_fid.frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4 + 1)
    # Diagonal covariances: ‖Δμ‖² + Σ (√a − √b)².
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 16.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert bench_fid.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)
    # General covariances: Tr (Σ₁Σ₂)^½ = Tr (Σ₁^½ Σ₂ Σ₁^½)^½, from eigendecompositions.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = x @ x.T + np.eye(5), y @ y.T + 0.5 * np.eye(5)
    w, v = np.linalg.eigh(s1)
    half = v @ np.diag(np.sqrt(w)) @ v.T
    inner = np.linalg.eigvalsh(half @ s2 @ half)
    expected = 1.0 + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(inner))
    assert bench_fid.frechet_distance(np.ones(5), s1, np.r_[0.0, np.ones(4)], s2) == pytest.approx(expected)
    # One Gaussian against itself: 0.
    assert bench_fid.frechet_distance(mu1, s1[:3, :3], mu1, s1[:3, :3]) == pytest.approx(0, abs=1e-6)


def test_the_kernel_distance_is_the_unbiased_mmd_of_its_definition():
    # By the definition, pair by pair (Bińkowski et al. 2018, eq. 3 with k(x, y) = (x·y / d + 1)³).
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(6, 4)), rng.normal(0.5, 1.2, size=(5, 4))

    def k(a, b):
        return (float(a @ b) / 4 + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / (6 * 5)
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    xy = sum(k(a, b) for a in x for b in y) / (6 * 5)
    assert bench_fid.kernel_distance(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)
    assert bench_fid.kernel_distance(x, y) == pytest.approx(bench_fid.kernel_distance(y, x), rel=1e-12)
    # Unbiased: samples of one distribution average to 0; a shift makes it grow.
    same = [bench_fid.kernel_distance(rng.normal(size=(20, 4)), rng.normal(size=(20, 4))) for _ in range(200)]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same))
    shifted = [bench_fid.kernel_distance(rng.normal(size=(20, 4)), rng.normal(1, 1, size=(20, 4))) for _ in range(20)]
    assert np.mean(shifted) > 10 * np.std(same)
    with pytest.raises(varcolor.errors.InputError, match="at least two images"):
        bench_fid.kernel_distance(x[:1], y)


def test_fid_needs_a_weights_file_and_runs_from_one(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    for name, image in (("a", "astronaut"), ("b", "coffee"), ("c", "chelsea")):
        varcolor.write_image(tmp_path / "photos" / f"{name}.png", photo(image, (40, 48)))
    bench_args = ("bench", tmp_path / "photos", "-m", "levin", "--hints", "0,5", "--resolution", "32", "-q")
    code, out, err = run(capsys, *bench_args, "--fid", tmp_path / "none.pt")
    assert code == 2 and err.count("\n") == 1 and "none.pt: no such weights file" in err and "downloaded" in err
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "other.pt")
    code, out, err = run(capsys, *bench_args, "--fid", tmp_path / "other.pt")
    assert code == 2 and err.count("\n") == 1 and "other.pt: not the FID feature network's weights" in err
    torch.manual_seed(0)
    torch.save(bench_fid.make_network().state_dict(), tmp_path / "fid.pt")
    code, out, err = run(capsys, *bench_args, "--fid", tmp_path / "fid.pt", "--format", "json")
    assert code == 0, err
    table = json.loads(out)
    network = bench_fid.load(tmp_path / "fid.pt")
    for cell in table["summary"]:
        # By hand: the three photos' 8-bit references and 8-bit results through the network.
        references, results = [], []
        for name in ("a", "b", "c"):
            rgb = bench.original(varcolor.read_image(tmp_path / "photos" / f"{name}.png"), "32")
            gray = bench.protocol_gray(rgb)
            cues = varcolor.Cues.from_points(bench.hint_points(rgb, cell["hints"]), gray.shape)
            with pytest.warns(UserWarning) if cell["hints"] == 0 else _nothing():
                result = varcolor.colorize(gray, cues, method="levin").rgb
            results.append(np.round(np.clip(result, 0, 1) * 255).astype(np.uint8))
            references.append(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))  # as a PNG file holds it
        expected = bench_fid.fid(network.features(results), network.features(references))
        assert cell["fid"] == pytest.approx(expected, rel=1e-6) and cell["fid"] > 0
        # (the d×d route of the Gaussians' fits agrees, but for its square roots of rounding errors)
        fits = [bench_fid.statistics(network.features(images)) for images in (results, references)]
        assert bench_fid.frechet_distance(*fits[0], *fits[1]) == pytest.approx(expected, rel=1e-4)
        kid = bench_fid.kernel_distance(network.features(results), network.features(references))
        assert cell["kid"] == pytest.approx(kid, rel=1e-6, abs=1e-12)
    assert all("_features" not in row for row in table["rows"])
    # Three photos, fewer than the features: the Markdown table says to read the KID.
    code, out, err = run(capsys, *bench_args, "--fid", tmp_path / "fid.pt")
    assert code == 0, err
    assert "FID on 3 photos" in out and "read the KID" in out and "| kid |" in out


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Touches:
    """Pickled as a call that would make ``marker`` if unpickled unsafely."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickled_fid_weights_file_is_refused_in_one_line_without_a_warning(tmp_path):
    """A plain pickle (protocol 4, not torch.save's 2) holding a call: refused in one line naming the
    file, no code run, and no PyTorch 'Detected pickle protocol' warning printed above that line."""
    pytest.importorskip("torch")
    import pickle
    import warnings

    marker = tmp_path / "ran"
    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"body.0.weight": _Touches(marker)}, protocol=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InputError, match=r"evil\.pt: cannot read weights"):
            bench_fid.load(tmp_path / "evil.pt")
    assert [str(w.message) for w in caught] == []
    assert not marker.exists()
