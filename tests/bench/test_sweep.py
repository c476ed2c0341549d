"""The quality sweep (varcolor.bench, `varcolor bench`): hostile inputs refused in one line before heavy work."""

import os
import zlib

import pytest

from ..conftest import png_declaring, run, time_limit


def test_bench_refuses_more_hints_than_pixels_in_one_line(tmp_path, capsys):
    from ..conftest import colour_photos

    colour_photos(tmp_path / "photos", names=("a",))
    photo = tmp_path / "photos" / "a.png"
    with time_limit(20):  # was: minutes of drawing, memory growing
        code, _, err = run(capsys, "bench", photo, "--hints", "0,99999999999999999999", "-q")
        assert code == 2 and err.count("\n") == 1 and "--hints must be between 0 and 65536" in err, err
        code, _, err = run(capsys, "bench", photo, "--hints", "1281", "--resolution", "full", "-q")
    assert code == 2 and err.count("\n") == 1 and f"{photo}: hints must be between 0 and 1280" in err, err


def test_bench_checks_a_photo_s_memory_from_its_header_before_decoding(tmp_path, capsys, monkeypatch):
    from varcolor.cli import bench as command
    from varcolor.common import memory

    bomb = tmp_path / "bomb.png"  # 225 MP declared in a few bytes, under the 250 MP limit
    bomb.write_bytes(png_declaring(15000, 15000, color=2, data=zlib.compress(b"\0" * 1000)))
    monkeypatch.setattr(memory, "available_bytes", lambda: 8 * 10**9)
    monkeypatch.setattr(command, "read_image", lambda *a, **k: pytest.fail("the bomb was decoded"))
    code, _, err = run(capsys, "bench", bomb, "-q", "-m", "levin")  # the figure below is levin's estimate
    assert code == 2 and err.count("\n") == 1, err
    assert f"{bomb}: scoring a 15000×15000 photo needs about 14.4 GB of memory, more than the budget of 6.4 GB" in err


def test_bench_and_metrics_report_a_folder_they_cannot_list_and_a_linked_folder(tmp_path, capsys, monkeypatch):
    from ..conftest import colour_photos

    colour_photos(tmp_path / "photos", names=("a",))
    colour_photos(tmp_path / "photos" / "locked", names=("b",))
    colour_photos(tmp_path / "elsewhere", names=("c",))
    (tmp_path / "photos" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    locked = tmp_path / "photos" / "locked"
    scandir = os.scandir

    def refusing(path="."):
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    for argv in (
        ["bench", tmp_path / "photos", "--hints", "0"],
        ["metrics", tmp_path / "photos", "-r", tmp_path / "photos"],
    ):
        code, out, err = run(capsys, *argv, "-q")
        assert code == 1, err
        assert f"error: {locked}: cannot list the folder (Permission denied)" in err, err
        assert f"skipped: {tmp_path / 'photos' / 'linked'}: a link to a folder, not followed" in err, err
        assert "a.png" in out or "1 images" in out, out


def test_the_protocols_ground_truth_is_its_original_and_reference_means_no_such_thing():
    """``bench.original`` is the protocol's ground truth; ``reference`` (the cue photo's word) is
    no name of it."""
    import numpy as np

    from varcolor import bench

    rgb = np.random.default_rng(0).random((20, 30, 3))
    square = bench.original(rgb, "16")
    assert square.shape == (16, 16, 3) and bench.original(rgb, "full") is not None
    assert not hasattr(bench, "reference") and "reference" not in bench.__all__


def test_two_methods_are_compared_on_the_same_photos_with_an_interval(tmp_path, capsys):
    """Issue 96, item 3: the table carries, for each method against the first, the mean of the
    per-photo differences with its 95 % interval and a paired test; the plot has error bars and
    the published curve is named as given."""
    import json

    import numpy as np
    from scipy import stats

    import varcolor

    from ..conftest import photo

    for name, image in (("a", "astronaut"), ("b", "coffee"), ("c", "chelsea")):
        varcolor.write_image(tmp_path / "photos" / f"{name}.png", photo(image, (40, 48)))
    args = ("bench", "-i", tmp_path / "photos", "--hints", "5,20", "--resolution", "32", "-q")
    code, out, err = run(capsys, *args, "--methods", "levin,levin-symmetric", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    for n in (5, 20):
        cell = report["paired"][f"32/levin-symmetric/{n}"]
        by = {(r["image"], r["method"]): r["psnr"] for r in report["rows"] if r["hints"] == n}
        differences = [by[image, "levin-symmetric"] - by[image, "levin"] for image in ("a.png", "b.png", "c.png")]
        assert cell["images"] == 3 and cell["difference"] == pytest.approx(np.mean(differences))
        half = stats.t.ppf(0.975, 2) * np.std(differences, ddof=1) / np.sqrt(3)
        assert cell["low"] == pytest.approx(np.mean(differences) - half) and cell["high"] == pytest.approx(
            np.mean(differences) + half
        )
        assert cell["p"] == pytest.approx(
            stats.ttest_rel(
                [by[i, "levin-symmetric"] for i in ("a.png", "b.png", "c.png")],
                [by[i, "levin"] for i in ("a.png", "b.png", "c.png")],
            ).pvalue
        )
    curve = tmp_path / "curve.csv"
    curve.write_text("num_points,psnr\n5,25.0\n20,27.0\n")
    code, out, err = run(
        capsys,
        *args,
        "--methods",
        "levin,levin-symmetric",
        "--plot",
        tmp_path / "plot.svg",
        "--plot-published",
        curve,
        "--plot-published-label",
        "SIGGRAPH17 (published)",
    )
    assert code == 0 and "Paired against levin on the same photos" in out, err
    svg = (tmp_path / "plot.svg").read_text()
    assert "SIGGRAPH17 (published)" in svg and "curve.csv" not in svg
