"""The gallery's examples run, and what they claim of their results holds."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import varcolor

# Levin's propagation as the subject (its results compared, its flood shown): unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("unrestrained")


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name, folder=EXAMPLES):
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_interactive_updates_match_fresh_solves(tmp_path):
    report = load("interactive").main(str(tmp_path / "stages.png"))
    assert len(report) == 3 and all(stage["max_ab_difference"] <= 0.05 for stage in report)
    gray = varcolor.read_image(EXAMPLES / "data" / "chelsea.png")
    assert varcolor.read_image(tmp_path / "stages.png").shape == (gray.shape[0], 4 * gray.shape[1] + 18, 3)


@pytest.mark.slow
def test_gtv_preview_then_refine_gives_the_fresh_solve(tmp_path):
    report = load("gtv_preview").main(str(tmp_path / "gtv.png"))
    assert report["preview_iterations"] + report["final_iterations"] == report["fresh_iterations"]
    assert report["final_vs_fresh_max_ab"] <= 1e-9
    assert abs(report["preview_psnr"] - report["final_psnr"]) < 0.5
    assert (tmp_path / "gtv.png").is_file() and np.isfinite(report["levin_psnr"])


@pytest.mark.slow  # 5-7 s: tests/ir keeps the codec in make test; make test-slow runs it
def test_a_photo_stored_as_one_gray_png_decodes_to_colour(tmp_path):
    module = load("store_as_gray")
    report = module.main(str(tmp_path / "stages.png"))
    assert report["payload_bytes"] <= module.BUDGET and report["gray_unchanged"]
    assert report["stored_bytes"] < report["colour_png_bytes"]
    assert report["decoded_psnr"] > report["gray_psnr"] + 10  # the cues bring the colours back
    assert varcolor.read_image(tmp_path / "stages.png").ndim == 3


def test_the_demo_picture_is_gray_scribbles_result_original(tmp_path):
    module = load("plot_demo")
    report = module.main(None, str(tmp_path / "demo.png"))  # colorizes the example itself
    gray = varcolor.read_image(EXAMPLES / "data" / "chelsea.png")
    marked = varcolor.read_image(EXAMPLES / "data" / "chelsea_marked.png")
    original = varcolor.read_image(EXAMPLES / "data" / "chelsea_original.png")
    result = varcolor.colorize(gray, varcolor.Cues.from_marked(gray, marked)).rgb
    picture = varcolor.read_image(tmp_path / "demo.png")
    width = gray.shape[1]
    panels = [picture[:, i * (width + 6) : i * (width + 6) + width] for i in range(4)]
    assert picture.shape == (gray.shape[0], 4 * width + 18, 3)
    for panel, expected in zip(panels, (np.dstack([gray] * 3), marked, result, original), strict=True):
        assert np.abs(panel - expected).max() <= 0.5 / 255 + 1e-9
    assert report["psnr"] == varcolor.metrics.psnr(result, original)
    varcolor.write_image(tmp_path / "result.png", result)  # as `make demo` passes the CLI's result
    module.main(str(tmp_path / "result.png"), str(tmp_path / "again.png"))
    assert np.array_equal(varcolor.read_image(tmp_path / "again.png"), picture)


def test_make_example_rebuilds_the_bundled_data(tmp_path):
    load("make_example").main(tmp_path)
    bundled = EXAMPLES / "data"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in bundled.iterdir())
    for name in ("chelsea.png", "chelsea_marked.png", "chelsea_original.png"):
        assert np.array_equal(varcolor.read_image(tmp_path / name), varcolor.read_image(bundled / name)), name
    points = "chelsea.points.json"
    assert json.loads((tmp_path / points).read_text()) == json.loads((bundled / points).read_text())


def test_every_example_is_in_the_documentation_gallery():
    pytest.importorskip("mkdocs")  # the docs extra: the hook that runs the gallery imports it
    hook = load("varcolor_docs", EXAMPLES.parent / "docs" / "hooks")
    scripts = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    assert sorted(hook.GALLERY) == scripts
    nav = (EXAMPLES.parent / "mkdocs.yml").read_text(encoding="utf-8")
    index = (EXAMPLES.parent / "docs" / "examples.md").read_text(encoding="utf-8")
    for name in scripts:
        # the index links the script in the repository; the docs hook points it at the gallery page
        assert f"- examples/{name}.md" in nav and f"(../examples/{name}.py)" in index, name


@pytest.mark.slow
def test_a_16_bit_scan_round_trips_through_a_layered_file(tmp_path):
    # The example reads its profiled scan back, and varcolor says so (the notice a user sees).
    with pytest.warns(UserWarning, match="converted to sRGB from its embedded ICC profile"):
        report = load("restorer_round_trip").main(str(tmp_path / "round_trip.png"))
    assert report["result_dtype"] == "uint16" and report["lightness_drift_in_levels"] <= 1
    assert report["layers"] == [
        ("photo", "visible"),
        ("colorized", "visible"),
        ("strokes", "hidden"),
        ("confidence", "hidden"),
    ]
    assert report["layered_bits"] == 16 and report["composite_vs_flat_max"] <= 1 / 255
    assert varcolor.read_image(tmp_path / "round_trip.png").ndim == 3


def test_the_package_ships_the_bundled_example_as_examples_data_has_it(tmp_path, monkeypatch):
    # varcolor/data is what an installed varcolor has; examples/data, what the scripts and docs name,
    # links to its files (make_example.py rebuilds them, test above): one copy, reachable from any folder.
    import varcolor.data

    monkeypatch.chdir(tmp_path)
    assert sorted(varcolor.data.FILES) == sorted(p.name for p in (EXAMPLES / "data").iterdir())
    for name in varcolor.data.FILES:
        assert varcolor.data.path(name).read_bytes() == (EXAMPLES / "data" / name).read_bytes()
    gray, marked = varcolor.data.chelsea(), varcolor.data.chelsea_marked()
    assert gray.shape == marked.shape[:2] == varcolor.data.chelsea_original().shape[:2]
    with pytest.raises(varcolor.InputError, match="no bundled file 'cat.png'; available: chelsea.png"):
        varcolor.data.path("cat.png")


def test_a_reference_photo_colours_the_gray_one(tmp_path):
    report = load("reference_photo").main(str(tmp_path / "reference.png"))
    assert report["cues"] > 50
    assert report["psnr"] > report["gray_psnr"] + 3  # the truth's colours, from another photo of it
    picture = varcolor.read_image(tmp_path / "reference.png")
    original = varcolor.read_image(EXAMPLES / "data" / "chelsea_original.png")
    width = int(original.shape[1] * 0.7)
    assert picture.shape == (original.shape[0], 4 * width + 18, 3)
    truth = picture[:, 3 * (width + 6) :]
    assert np.abs(truth - original[:, :width]).max() <= 0.5 / 255 + 1e-9
