"""Comparing with a method run elsewhere: ``varcolor bench --export-hints``, ``--results`` and ``--plot``.

The round trip stands in for an outside method with varcolor's own command line: it colorizes the
exported gray images from the exported points files, and its results, brought back, must score
exactly as the built-in rows of the same method.
"""

import hashlib
import json
import shutil
import sys
import zlib

import numpy as np
import pytest

import varcolor
from tests.cli.test_cli import hint_seed
from tests.conftest import photo, png_declaring, run

HINTS = "0,5,50"
SIDE = "48"


def _photos(folder):
    for name, image in (("a", "astronaut"), ("sub/b", "coffee")):
        varcolor.write_image(folder / f"{name}.png", photo(image, (40, 48)))
    return folder


def _bench(capsys, photos, *flags):
    return run(capsys, "bench", photos, "--hints", HINTS, "--resolution", SIDE, "-q", *flags)


def _outside(capsys, export, results, method):
    """An outside method: every exported gray colorized from its points file, the manifest copied."""
    code, _, err = run(capsys, "colorize", export, "-o", results, "--method", method, "-q")
    assert code == 0, err
    shutil.copy(export / "manifest.json", results / "manifest.json")
    return results


@pytest.mark.slow
def test_a_round_trip_through_files_scores_as_the_built_in_rows(tmp_path, capsys):
    photos = _photos(tmp_path / "photos")
    export = tmp_path / "export"
    code, built_in, err = _bench(
        capsys, photos, "-m", "levin,levin-multiscale", "--export-hints", export, "--format", "json"
    )
    assert code == 0, err
    # What was exported: by the protocol, computed here independently.
    manifest = json.loads((export / "manifest.json").read_text())
    assert (manifest["seed"], manifest["resolution"], manifest["patch"], manifest["hints"]) == (
        varcolor.bench.SEED,
        SIDE,
        6,
        [0, 5, 50],
    )
    assert [entry["photo"] for entry in manifest["photos"]] == ["a.png", "sub/b.png"]
    for index, entry in enumerate(manifest["photos"]):
        path = photos / entry["photo"]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() and entry["index"] == index
        rgb = varcolor.bench.original(varcolor.read_image(path), SIDE)
        key = entry["photo"][: -len(".png")]
        gray_file = export / f"{key}/50.png"
        assert entry["gray_sha256"] == hashlib.sha256(gray_file.read_bytes()).hexdigest()
        expected_gray = np.round(varcolor.color.same_lightness_gray(rgb) * 255) / 255
        assert np.array_equal(varcolor.read_image(gray_file), expected_gray)
        for n in (0, 5, 50):
            cues = varcolor.cues.sample_ideepcolor(rgb, n=n, patch=6, rng=[varcolor.bench.SEED, hint_seed(rgb), n])
            read = varcolor.Cues.from_points(export / f"{key}/{n}.points.json", shape=rgb.shape[:2])
            assert np.array_equal(read.mask, cues.mask) and np.array_equal(read.ab[cues.mask], cues.ab[cues.mask])
            assert (read.count > 0) == (n > 0)
    # The outside runs, brought back.
    levin = _outside(capsys, export, tmp_path / "levin", "levin")
    multiscale = _outside(capsys, export, tmp_path / "multiscale", "levin-multiscale")
    code, out, err = _bench(
        capsys,
        photos,
        "-m",
        "levin,levin-multiscale",
        "--results",
        f"levin-files={levin}",
        "--results",
        f"multiscale-files={multiscale}",
        "--format",
        "json",
    )
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["incomplete"] == []
    means = {(m["method"], m["hints"]): m for m in report["summary"]}
    rows = {(r["image"], r["method"], r["hints"]): r for r in report["rows"]}
    for method, files in (("levin", "levin-files"), ("levin-multiscale", "multiscale-files")):
        for n in (0, 5, 50):
            for score in varcolor.bench.SCORES:
                built, outside = means[method, n][score], means[files, n][score]
                assert built is not None and outside == pytest.approx(built, rel=1e-12)
            assert means[files, n]["images"] == 2 and means[files, n]["seconds"] is None
            for image in ("a.png", "sub/b.png"):
                assert rows[image, files, n]["psnr"] == pytest.approx(rows[image, method, n]["psnr"], rel=1e-12)
    # ... and the built-in rows are the same with or without the export.
    for mean in json.loads(built_in)["summary"]:
        assert [mean[s] for s in varcolor.bench.SCORES] == [
            means[mean["method"], mean["hints"]][s] for s in varcolor.bench.SCORES
        ]
    assert means["levin", 50]["psnr"] > means["levin", 0]["psnr"] + 3  # hints bring the colours back


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Photos, their export and levin's results made from it (shared: each test copies what it changes)."""
    from varcolor.cli import main

    root = tmp_path_factory.mktemp("made")
    photos = _photos(root / "photos")
    argv = ["bench", photos, "--hints", HINTS, "--resolution", SIDE, "-q", "-m", "", "--export-hints", root / "export"]
    assert main([str(a) for a in argv]) == 0
    assert main(["colorize", str(root / "export"), "-o", str(root / "levin"), "--method", "levin", "-q"]) == 0
    shutil.copy(root / "export" / "manifest.json", root / "levin" / "manifest.json")
    return photos, root / "export", root / "levin"


def _copy(folder, tmp_path):
    return shutil.copytree(folder, tmp_path / folder.name)


@pytest.mark.slow
def test_each_bad_result_is_one_line_and_its_cells_stay_empty(made, tmp_path, capsys):
    photos, _, levin = made
    results = _copy(levin, tmp_path)
    (results / "a" / "5.png").unlink()  # missing
    varcolor.write_image(results / "sub" / "b" / "5.png", photo("coffee", (40, 40)))  # another size
    (results / "notes.txt").write_text("how we ran it")  # extra files
    shutil.copy(results / "a" / "50.png", results / "a" / "7.png")
    shutil.copy(results / "a" / "0.png", results / "sub" / "b" / "0.png")  # a file of another photo
    varcolor.write_image(results / "a" / "0.jpg", varcolor.read_image(results / "a" / "0.png"))  # two results
    code, out, err = _bench(capsys, photos, "-m", "levin", "--results", f"mine={results}", "--format", "json")
    lines = err.splitlines()
    expected = {
        "a/5.png: missing",
        "sub/b/5.png: 40×40, but its photo is scored at 48×48",
        "notes.txt: an extra file",
        "a/7.png: an extra file",
        "sub/b/0.png: not a colorization of sub/b.png",
        "two results of a.png with 0 hints",
    }
    assert code == 1 and len(lines) == len(expected)
    for part in expected:
        assert sum(part in line for line in lines) == 1, part
    assert all(line.startswith("varcolor: error: mine: ") for line in lines)
    report = json.loads(out)
    mine = {m["hints"]: m for m in report["summary"] if m["method"] == "mine"}
    assert report["incomplete"] == ["mine"]
    assert [mine[n]["images"] for n in (0, 5, 50)] == [0, 0, 2]  # a cell over fewer photos has no mean
    assert mine[0]["psnr"] is None and mine[5]["psnr"] is None and mine[50]["psnr"] is not None
    levin = {m["hints"]: m for m in report["summary"] if m["method"] == "levin"}
    assert mine[50]["psnr"] == pytest.approx(levin[50]["psnr"], rel=1e-12)
    # The Markdown table marks the method and leaves the cells empty.
    code, out, _ = _bench(capsys, photos, "-m", "levin", "--results", f"mine={results}")
    row = next(line for line in out.splitlines() if line.startswith(f"| {SIDE} | mine (incomplete) | psnr |"))
    mean = f"{levin[50]['psnr']:.2f} ± {mine[50]['psnr_se']:.2f}"  # and its standard error over the 2
    assert [cell.strip() for cell in row.split("|")[4:7]] == ["", "", mean]
    # One photo's results alone, the other's missing: still no mean over the one.
    shutil.rmtree(results / "sub")
    code, out, err = _bench(capsys, photos, "-m", "", "--results", f"mine={results}", "--format", "csv")
    assert code == 1 and all(line.split(",")[2:7] == [SIDE, "", "", "", ""] for line in out.splitlines()[1:])


@pytest.mark.parametrize(
    "spec, message",
    [
        ("nothing", "--results must be NAME=DIR"),
        ("levin={levin}", "'levin' names two rows"),
        ("a/b={levin}", "a name of letters, digits"),
        ("x={root}/nope", "no such folder"),
        ("x={root}/photos", "no manifest.json"),
    ],
)
def test_a_results_folder_that_cannot_be_used_is_refused_before_any_work(made, capsys, spec, message):
    photos, _, levin = made
    spec = spec.format(levin=levin, root=photos.parent)
    code, out, err = _bench(capsys, photos, "-m", "levin", "--results", spec)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_results_made_from_other_inputs_are_refused(made, tmp_path, capsys):
    photos, _, levin = made
    code, out, err = _bench(capsys, photos, "--results", f"x={levin}", "--seed", "1")
    assert code == 2 and out == "" and "exported with seed 2017, this run uses 1" in err
    # A manifest edited by hand: a hint count without its files, or no manifest at all.
    edited = _copy(levin, tmp_path)
    manifest = json.loads((edited / "manifest.json").read_text())
    del manifest["photos"][1]["files"]["50"]
    (edited / "manifest.json").write_text(json.dumps(manifest))
    code, out, err = _bench(capsys, photos, "--results", f"x={edited}")
    assert code == 2 and out == "" and err.count("\n") == 1 and "malformed fields" in err
    (edited / "manifest.json").write_text("[1, 2")
    code, out, err = _bench(capsys, photos, "--results", f"x={edited}")
    assert code == 2 and out == "" and err.count("\n") == 1 and "not valid JSON" in err
    # A photo changed since the export: its results are not scored, one line.
    changed = _copy(photos, tmp_path)
    varcolor.write_image(changed / "a.png", photo("rocket", (40, 48)))
    code, out, err = _bench(capsys, changed, "-m", "", "--results", f"x={levin}", "--format", "json")
    assert code == 1 and err.count("\n") == 1 and "a.png is not the photo the results were made from" in err
    assert {m["hints"]: m["images"] for m in json.loads(out)["summary"]} == {0: 1, 5: 1, 50: 1}


def test_the_export_folder_holds_exports_only(made, tmp_path, capsys):
    photos, export, _ = made
    again = _copy(export, tmp_path)
    code, _, err = _bench(capsys, photos, "-m", "", "--export-hints", again)
    assert code == 2 and "holds an export" in err and "--overwrite" in err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("keep me")
    code, _, err = _bench(capsys, photos, "-m", "", "--export-hints", tmp_path / "busy")
    assert code == 2 and "not empty" in err and (tmp_path / "busy" / "mine.txt").read_text() == "keep me"
    code, _, err = _bench(capsys, photos, "-m", "", "--export-hints", photos / "export")
    assert code == 2 and "apart from the photos" in err and not (photos / "export").exists()
    # --overwrite: the earlier export's files go (results kept beside them stay), the new ones come;
    # a manifest edited to list other files removes none of them.
    varcolor.write_image(again / "results" / "x.png", np.zeros((4, 4)))
    varcolor.write_image(tmp_path / "outside.png", np.zeros((4, 4)))
    manifest = json.loads((again / "manifest.json").read_text())
    manifest["photos"][0]["files"]["0"]["gray"] = "../outside.png"
    manifest["photos"][0]["files"]["5"]["points"] = "results/x.png"
    (again / "manifest.json").write_text(json.dumps(manifest))
    code, out, err = run(capsys, "bench", photos, "--hints", "0,5", "--resolution", SIDE, "-q", "-m", "",
                         "--export-hints", again, "--overwrite")  # fmt: skip
    assert code == 0 and out == "" and err == ""
    assert not (again / "a" / "50.png").exists() and not (again / "sub" / "b" / "50.points.json").exists()
    assert (again / "a" / "5.png").is_file() and (again / "results" / "x.png").is_file()
    assert (tmp_path / "outside.png").is_file()
    assert json.loads((again / "manifest.json").read_text())["hints"] == [0, 5]


def test_two_photos_whose_files_would_be_one_are_refused(tmp_path, capsys):
    photos = _photos(tmp_path / "photos")
    varcolor.write_image(photos / "a.jpg", photo("rocket", (40, 48)))
    code, out, err = _bench(capsys, photos, "--export-hints", tmp_path / "export")
    assert code == 2 and out == "" and "a.jpg and a.png would share the files a/" in err
    assert not (tmp_path / "export").exists()


@pytest.mark.slow
def test_the_plot_has_a_line_per_method_and_the_published_curve(made, tmp_path, capsys):
    photos, _, levin = made
    curve = tmp_path / "paper.csv"
    curve.write_text("num_points,mean_psnr_db,sem_db\n0,24.4,0.1\n5,27.4,0.1\n50,30.4,0.1\n")
    svg = tmp_path / "curve.svg"
    code, _, err = _bench(
        capsys, photos, "-m", "levin", "--results", f"mine={levin}", "--plot", svg, "--plot-published", curve
    )
    assert code == 0, err
    text = svg.read_text()
    assert text.count('id="curve-') == 2 and 'id="curve-levin"' in text and 'id="curve-mine"' in text
    assert text.count('id="published"') == 1
    png = tmp_path / "curve.png"
    code, _, _ = _bench(capsys, photos, "-m", "levin", "--plot", png, "--plot-metric", "ciede2000")
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and varcolor.read_image(png).shape[0] > 100


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--plot", "{tmp}/curve.pdf"], "a plot is written as .png or .svg"),
        (["--plot-metric", "ssim"], "go with --plot"),
        (["-m", "", "--export-hints", "{tmp}/e", "--plot", "{tmp}/c.png"], "no method and no --results to draw"),
        (["--plot", "{tmp}/t.png", "-o", "{tmp}/t.png"], "the plot and the table (-o) would be one file"),
        (["--plot", "{tmp}/c.png", "--plot-published", "{tmp}/bad.csv"], "bad.csv: line 2: needs a number of hints"),
        (["--plot", "{tmp}/c.png", "--plot-published", "{tmp}/none.csv"], "none.csv: cannot read"),
    ],
)
def test_a_plot_that_cannot_be_made_is_refused_before_any_work(tmp_path, capsys, flags, message):
    photos = _photos(tmp_path / "photos")
    (tmp_path / "bad.csv").write_text("hints,psnr\nten,20\n")
    code, out, err = _bench(capsys, photos, *(flag.format(tmp=tmp_path) for flag in flags))
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_without_matplotlib_the_plot_names_the_extra_to_install(tmp_path, capsys, monkeypatch):
    photos = _photos(tmp_path / "photos")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib: ImportError
    code, out, err = _bench(capsys, photos, "--plot", tmp_path / "c.png")
    assert code == 2 and out == "" and err.count("\n") == 1 and "pip install 'varcolor[plot]'" in err


def test_a_result_declaring_gigapixels_is_one_line_from_its_header(made, tmp_path, capsys):
    photos, _, levin = made
    results = _copy(levin, tmp_path)
    bomb = results / "sub" / "b" / "50.png"
    bomb.write_bytes(png_declaring(200_000, 200_000, color=2, data=zlib.compress(b"\0" * 1000)))
    code, out, err = _bench(capsys, photos, "-m", "", "--results", f"x={results}", "--format", "json")
    assert code == 1 and err.count("\n") == 1 and str(bomb) in err
    assert {m["hints"]: m["images"] for m in json.loads(out)["summary"]} == {0: 2, 5: 2, 50: 1}


def test_a_result_of_clipped_samples_is_said_in_a_warning_line_and_scored(made, tmp_path, capsys):
    """A float TIFF result past [0, 1] was said by Python's warning machinery (a file and code line
    of varcolor's own): one "varcolor: warning:" line naming the result, and it is scored."""
    import tifffile

    photos, _, levin = made
    results = _copy(levin, tmp_path)
    result = varcolor.read_image(results / "a" / "50.png").astype(np.float32)
    (results / "a" / "50.png").unlink()
    tifffile.imwrite(results / "a" / "50.tif", result * 1.2 - 0.1, photometric="rgb")
    code, out, err = _bench(capsys, photos, "-m", "", "--results", f"x={results}", "--format", "json")
    assert code == 0 and err.count("\n") == 1, err
    assert err.startswith("varcolor: warning: ") and "50.tif" in err and "are clipped" in err
    assert {m["hints"]: m["images"] for m in json.loads(out)["summary"]} == {0: 2, 5: 2, 50: 2}
