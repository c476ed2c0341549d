"""The gallery's examples run, and what they claim of their results holds."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import varcolor

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_a_photo_stored_as_one_gray_png_decodes_to_colour(tmp_path):
    module = load("store_as_gray")
    report = module.main(str(tmp_path / "stages.png"))
    assert report["payload_bytes"] <= module.BUDGET and report["gray_unchanged"]
    assert report["stored_bytes"] < report["colour_png_bytes"]
    assert report["decoded_psnr"] > report["gray_psnr"] + 10  # the cues bring the colours back
    assert varcolor.read_image(tmp_path / "stages.png").ndim == 3
