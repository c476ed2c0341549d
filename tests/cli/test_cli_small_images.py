"""Images smaller than SSIM's 11×11 window (issue 52): SSIM is n/a for that file, in one place,
and the folder's run (``metrics``, ``recolor``) goes on; the sizes are generated."""

import csv
import io

import numpy as np
import pytest

import varcolor
from varcolor import cli, metrics

from ..conftest import run

# Levin's propagation as the subject (its results compared, its flood shown): unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("unrestrained")


SIDES = list(range(2, 14, 2))


def _pairs(folder):
    rng = np.random.default_rng(0)
    (folder / "ref").mkdir()
    (folder / "res").mkdir()
    for side in SIDES:
        photo = rng.uniform(0.1, 0.9, (side, side + 1, 3))
        varcolor.write_image(folder / "ref" / f"s{side}.png", photo)
        varcolor.write_image(folder / "res" / f"s{side}.png", np.clip(photo + 0.04, 0, 1))


def test_metrics_of_a_folder_with_images_under_the_window_goes_on(tmp_path, capsys):
    _pairs(tmp_path)
    argv = ["metrics", str(tmp_path / "res"), "-r", str(tmp_path / "ref"), "--format", "csv"]
    assert cli.main(argv) == 0
    rows = {row["image"]: row for row in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    for side in SIDES:
        row = rows[f"s{side}.png"]
        if side < 11:
            assert row["ssim"] in ("", "n/a", "nan"), row
        else:
            assert 0.5 < float(row["ssim"]) <= 1.0
        assert float(row["psnr"]) > 20  # every other score is still given


@pytest.mark.parametrize("side", [s for s in SIDES if s < 11])
def test_ssim_under_its_window_is_one_line(side):
    image = np.full((side, side + 1, 3), 0.5)
    with pytest.raises(varcolor.InputError, match="11×11"):
        metrics.ssim(image, image)
    assert np.isnan(metrics.score(image, image)["ssim"])


def test_recolor_of_a_photo_under_the_window_is_scored(tmp_path):
    photo = np.random.default_rng(1).uniform(0.1, 0.9, (6, 6, 3))
    varcolor.write_image(tmp_path / "six.png", photo)
    assert cli.main(["recolor", str(tmp_path / "six.png"), "-o", str(tmp_path / "out.png"), "-q"]) == 0
    assert (tmp_path / "out.png").is_file()


@pytest.mark.parametrize("rows", [4, 6])
def test_a_thin_wide_photo_with_a_mask_colorizes_from_the_command_line(tmp_path, capsys, rows):
    shape = (rows, 20000)
    gray = 0.5 + 0.2 * np.sin(np.arange(shape[1]) / 50.0)[None].repeat(shape[0], 0)
    mask = np.zeros(shape + (3,))
    mask[:, 100:140] = (0.9, 0.2, 0.1)
    varcolor.write_image(tmp_path / "thin.png", gray)
    varcolor.write_image(tmp_path / "thin_mask.png", mask)
    code, _, err = run(
        capsys, "colorize", tmp_path / "thin.png", "--mask", tmp_path / "thin_mask.png", "-o", tmp_path / "out.png"
    )
    assert code == 0, err
    exact = tmp_path / "exact.png"
    argv = ["colorize", tmp_path / "thin.png", "--mask", tmp_path / "thin_mask.png", "-o", exact, "--method", "levin"]
    assert run(capsys, *argv)[0] == 0
    assert np.abs(varcolor.read_image(tmp_path / "out.png") - varcolor.read_image(exact)).mean() < 2 / 255
