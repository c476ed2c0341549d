import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import varcolor
from varcolor.cli import main
from varcolor.errors import InputError
from varcolor.solvers.device import backend

from ..conftest import make_pair, photo, random_backbone, random_calibration, run, wait_until


@pytest.mark.parametrize(
    "option", [["--window", "3"], ["--codec", "lossless"], ["--fps", "30"], ["--chunk-frames", "4"]]
)
@pytest.mark.parametrize("folder", [False, True])
def test_a_clips_options_given_for_photos_are_refused_not_ignored(tmp_path, capsys, option, folder):
    make_pair(tmp_path / "in")
    source = tmp_path / "in" if folder else tmp_path / "in" / "img.png"
    output = tmp_path / ("out" if folder else "out.png")
    code, _, err = run(capsys, "colorize", source, "--marked", "-o", output, *option)
    assert code == 2 and err.count("\n") == 1 and f"{option[0]}: an option of clips" in err, err
    assert not output.exists()
    # at a clip's default too (--window 1, --codec h264 were taken where --fps 25 was refused)
    for default in (["--window", "1"], ["--codec", "h264"]):
        code, _, err = run(capsys, "colorize", source, "--marked", "-o", output, *default)
        assert code == 2 and f"{default[0]}: an option of clips" in err, err
    code, _, err = run(capsys, "colorize", source, "--marked", "-o", output)
    assert code == 0, err


def test_colorize_single_file(tmp_path, capsys):
    make_pair(tmp_path)
    code, _, _ = run(
        capsys, "colorize", tmp_path / "img.png", "--marked", tmp_path / "img_marked.png", "-o", tmp_path / "out.png"
    )
    assert code == 0
    result = varcolor.read_image(tmp_path / "out.png")
    gray = varcolor.read_image(tmp_path / "img.png")
    expected = varcolor.colorize(
        gray, varcolor.Cues.from_marked(gray, varcolor.read_image(tmp_path / "img_marked.png"))
    )
    assert np.abs(result - expected.rgb).max() <= 0.5 / 255 + 1e-9


@pytest.mark.slow
def test_a_single_gtv_run_shows_its_iterations(tmp_path, capsys):
    make_pair(tmp_path)
    gray = varcolor.read_image(tmp_path / "img.png")
    cues = varcolor.Cues.from_marked(gray, varcolor.read_image(tmp_path / "img_marked.png"))
    iterations = varcolor.colorize(gray, cues, method="bilaplacian-gtv").info["iterations"]
    args = ["colorize", tmp_path / "img.png", "--marked", tmp_path / "img_marked.png", "--method", "bilaplacian-gtv"]
    code, _, err = run(capsys, *args, "-o", tmp_path / "out.png")
    assert code == 0 and "ADMM: " in err and f" {iterations}/{iterations} " in err
    code, _, err = run(capsys, *args, "-o", tmp_path / "quiet.png", "-q")
    assert code == 0 and "ADMM" not in err
    preview = varcolor.colorize(gray, cues, method="bilaplacian-gtv", admm_tol=3e-2).info["iterations"]
    code, _, err = run(capsys, *args, "-o", tmp_path / "preview.png", "--admm-tol", "3e-2")
    assert preview < iterations and code == 0 and f" {preview}/{preview} " in err
    code, _, err = run(capsys, *args, "-o", tmp_path / "bad.png", "--admm-tol", "0")
    assert code != 0 and "--admm-tol must" in err and "Traceback" not in err and not (tmp_path / "bad.png").exists()
    assert "ADMM" not in err  # no empty bar before the error
    # bilaplacian-gtv's options with another method: refused once, before any image.
    code, _, err = run(
        capsys,
        "colorize",
        tmp_path,
        "-o",
        tmp_path / "levin",
        "--lam",
        "0.1",
        "--sharpness",
        "16",
        "--admm-tol",
        "1e-2",
    )
    assert code == 2 and "lam, sharpness, admm_tol" in err and "bilaplacian-gtv" in err
    assert not (tmp_path / "levin").exists()
    # A value the energy does not take: the same, one line naming the option, before any image.
    code, _, err = run(
        capsys, "colorize", tmp_path, "-o", tmp_path / "negative", "--method", "bilaplacian-gtv", "--lam", "-1"
    )
    assert code == 2 and err.strip() == "varcolor: error: --lam must be a finite number >= 0, got -1.0"
    assert not (tmp_path / "negative").exists()
    for option, value in (("--tol", "0"), ("--maxiter", "0"), ("--prior-weight", "-1"), ("--workers", "0")):
        code, _, err = run(capsys, "colorize", tmp_path, "-o", tmp_path / "negative", option, value)
        assert code == 2 and err.count("\n") == 1 and f"error: {option} must" in err
        assert not (tmp_path / "negative").exists()
    try:
        backend("cuda")
    except InputError:  # no GPU here: refused once, before any image
        code, _, err = run(capsys, "colorize", tmp_path, "-o", tmp_path / "gpu", "--device", "cuda", "--solver", "amg")
        assert code == 2 and err.count("\n") == 1 and "CuPy" in err and not (tmp_path / "gpu").exists()
    code, _, err = run(capsys, *args, "-o", tmp_path / "sharp.png", "--sharpness", "16")
    sharp = varcolor.colorize(gray, cues, method="bilaplacian-gtv", sharpness=16.0)
    assert code == 0 and np.abs(varcolor.read_image(tmp_path / "sharp.png") - sharp.rgb).max() <= 1 / 255
    assert np.abs(sharp.rgb - varcolor.colorize(gray, cues, method="bilaplacian-gtv").rgb).max() > 1 / 255


def test_a_jpeg_cue_image_is_refused_with_how_to_fix_it(tmp_path, capsys):
    make_pair(tmp_path)
    marked = varcolor.read_image(tmp_path / "img_marked.png")
    varcolor.write_image(tmp_path / "img_marked.jpg", marked)
    gray = varcolor.read_image(tmp_path / "img.png")
    with pytest.warns(UserWarning) as heard:  # the JPEG's noise, seen
        noisy = varcolor.Cues.from_marked(gray, varcolor.read_image(tmp_path / "img_marked.jpg"))
    said = " ".join(str(w.message) for w in heard)
    assert "taken as noise, not strokes" in said
    # The JPEG's cues are not the marks: its noise and the marks (here single pixels) cannot be told
    # apart, so a JPEG cue file is refused rather than read.
    assert not np.array_equal(noisy.mask, varcolor.Cues.from_marked(gray, marked).mask)
    for kind in ("--marked", "--mask"):
        code, _, err = run(
            capsys, "colorize", tmp_path / "img.png", kind, tmp_path / "img_marked.jpg", "-o", tmp_path / "out.png"
        )
        assert code == 2 and not (tmp_path / "out.png").exists()
        assert "img_marked.jpg: a JPEG" in err and "save it losslessly (PNG)" in err and len(err.splitlines()) == 1
    code, _, err = run(
        capsys,
        "colorize",
        tmp_path / "img.png",
        "--marked",
        tmp_path / "img_marked.png",
        "-o",
        tmp_path / "lossless.png",
    )
    assert code == 0 and "JPEG" not in err


@pytest.mark.parametrize("solver", ["multigrid", "cg"])
def test_colorize_symmetric_method_and_refused_solver(tmp_path, capsys, solver):
    make_pair(tmp_path)
    args = ["colorize", tmp_path / "img.png", "--marked", tmp_path / "img_marked.png", "-o", tmp_path / "out.png"]
    code, _, _ = run(capsys, *args, "--method", "levin-symmetric", "--solver", solver)
    gray = varcolor.read_image(tmp_path / "img.png")
    cues = varcolor.Cues.from_marked(gray, varcolor.read_image(tmp_path / "img_marked.png"))
    expected = varcolor.colorize(gray, cues, method="levin-symmetric", solver="direct")
    assert code == 0 and np.abs(varcolor.read_image(tmp_path / "out.png") - expected.rgb).max() <= 0.5 / 255 + 1e-6
    code, _, err = run(capsys, *args, "--overwrite", "--solver", solver)  # method levin: not symmetric
    assert code != 0 and "img.png" in err and "symmetric" in err and "Traceback" not in err


def test_existing_output_is_kept_unless_overwrite(tmp_path, capsys):
    make_pair(tmp_path)
    (tmp_path / "out.png").write_bytes(b"precious")
    args = ["colorize", tmp_path / "img.png", "--marked", tmp_path / "img_marked.png", "-o", tmp_path / "out.png"]
    code, _, err = run(capsys, *args)
    assert code == 2 and "exists" in err and (tmp_path / "out.png").read_bytes() == b"precious"
    code, _, _ = run(capsys, *args, "--overwrite")
    assert code == 0 and varcolor.read_image(tmp_path / "out.png").shape == (24, 32, 3)


def test_never_overwrites_an_input(tmp_path, capsys):
    make_pair(tmp_path)
    before = (tmp_path / "img.png").read_bytes()
    code, _, err = run(
        capsys,
        "colorize",
        tmp_path / "img.png",
        "--marked",
        tmp_path / "img_marked.png",
        "-o",
        tmp_path / "img.png",
        "--overwrite",
    )
    assert code == 2 and "input" in err
    assert (tmp_path / "img.png").read_bytes() == before


@pytest.mark.parametrize(
    "problem,message",
    [
        ("missing", "no such file"),
        ("size", "marked image is"),
        ("truncated", "cannot read image"),
        ("points", "outside"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, problem, message):
    make_pair(tmp_path)
    cue = ["--marked", tmp_path / "img_marked.png"]
    if problem == "missing":
        cue = ["--marked", tmp_path / "nope.png"]
    elif problem == "size":
        varcolor.write_image(tmp_path / "img_marked.png", np.zeros((10, 10, 3)))
    elif problem == "truncated":
        data = (tmp_path / "img_marked.png").read_bytes()
        (tmp_path / "img_marked.png").write_bytes(data[:200])
    elif problem == "points":
        (tmp_path / "p.json").write_text(json.dumps([{"y": 100, "x": 1, "a": 1, "b": 1}]))
        cue = ["--points", tmp_path / "p.json"]
    code, _, err = run(capsys, "colorize", tmp_path / "img.png", *cue, "-o", tmp_path / "out.png")
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out.png").exists()


def test_console_script_reports_without_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "varcolor.cli", "colorize", str(tmp_path / "x.png"), "-o", str(tmp_path / "y.png")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"varcolor: error: {tmp_path / 'x.png'}: no such file or folder"


def test_no_cues_warns_and_writes_gray(tmp_path, capsys):
    make_pair(tmp_path)
    (tmp_path / "empty.json").write_text("[]")
    code, _, err = run(
        capsys, "colorize", tmp_path / "img.png", "--points", tmp_path / "empty.json", "-o", tmp_path / "out.png"
    )
    assert code == 0 and "no colour cues" in err
    out = varcolor.read_image(tmp_path / "out.png")
    assert np.abs(out - varcolor.read_image(tmp_path / "img.png")[..., None]).max() <= 1 / 255


def test_folder_run_keeps_relative_paths_and_goes_past_failures(tmp_path, capsys):
    source = tmp_path / "in"
    make_pair(source, "a")
    make_pair(source / "sub", "b", seed=1)
    make_pair(source / "sub", "broken", seed=2)
    (source / "sub" / "broken_marked.png").write_bytes(b"garbage")
    varcolor.write_image(source / "lonely.png", np.zeros((8, 8)))  # no cues: skipped, not failed
    code, _, err = run(capsys, "colorize", source, "-o", tmp_path / "out")
    assert code == 1
    assert (tmp_path / "out" / "a.png").is_file() and (tmp_path / "out" / "sub" / "b.png").is_file()
    assert not (tmp_path / "out" / "sub" / "broken.png").exists()
    assert "broken_marked.png" in err and "lonely.png" in err
    assert "colorized 2, skipped 1, failed 1" in err
    # A second run keeps what exists and does not fail on it.
    (source / "sub" / "broken_marked.png").unlink()
    (source / "sub" / "broken.png").unlink()
    code, _, err = run(capsys, "colorize", source, "-o", tmp_path / "out")
    assert code == 0 and "colorized 0, skipped 3" in err


def test_unwritable_outputs_are_one_line_and_a_batch_goes_on(tmp_path, capsys):
    make_pair(tmp_path / "in", "a")
    make_pair(tmp_path / "in", "b", seed=1)
    (tmp_path / "afile").write_bytes(b"")
    code, _, err = run(capsys, "colorize", tmp_path / "in" / "a.png", "--marked", "-o", tmp_path / "afile" / "a.png")
    assert code == 2 and err.count("\n") == 1 and "afile/a.png: cannot write" in err
    (tmp_path / "out" / "b.png").mkdir(parents=True)  # an output that cannot replace what is there
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out", "--overwrite")
    assert code == 1 and "out/b.png: cannot write" in err and "Traceback" not in err
    assert "colorized 1, skipped 0, failed 1" in err and (tmp_path / "out" / "a.png").is_file()


def test_points_and_mask_pairs_in_folders(tmp_path, capsys):
    source = tmp_path / "in"
    source.mkdir()
    varcolor.write_image(source / "p.png", np.full((10, 10), 0.5))
    (source / "p.points.json").write_text(json.dumps([{"y": 5, "x": 5, "r": 200, "g": 40, "b": 40}]))
    varcolor.write_image(source / "m.png", np.full((10, 10), 0.5))
    strokes = np.zeros((10, 10, 3))
    strokes[2, 2] = (0.1, 0.2, 0.8)
    varcolor.write_image(source / "m_mask.png", strokes)
    code, _, _ = run(capsys, "colorize", source, "-o", tmp_path / "out", "-q")
    assert code == 0
    red = varcolor.read_image(tmp_path / "out" / "p.png")
    blue = varcolor.read_image(tmp_path / "out" / "m.png")
    assert red[..., 0].mean() > red[..., 2].mean() + 0.1 and blue[..., 2].mean() > blue[..., 0].mean() + 0.1


def test_metrics_table(tmp_path, capsys):
    results, originals = tmp_path / "res", tmp_path / "orig"
    for name, shift in [("x", 0.02), ("sub/y", 0.05)]:
        rgb = photo("astronaut", (40, 40))
        varcolor.write_image(originals / f"{name}.png", rgb)
        varcolor.write_image(results / f"{name}.jpg", np.clip(rgb + shift, 0, 1))
    code, out, _ = run(capsys, "metrics", "-i", results, "-r", originals, "--format", "json", "-q")
    assert code == 0
    rows = json.loads(out)
    assert [r["image"] for r in rows] == ["sub/y.jpg", "x.jpg", "mean (2)"]
    assert rows[2]["psnr"] == pytest.approx((rows[0]["psnr"] + rows[1]["psnr"]) / 2)
    expected = varcolor.metrics.psnr(varcolor.read_image(results / "x.jpg"), varcolor.read_image(originals / "x.png"))
    assert rows[1]["psnr"] == pytest.approx(expected)
    code, out, err = run(capsys, "metrics", "-i", results, "-r", originals, "-q")
    assert out.splitlines()[0].startswith("| image | psnr | ssim | ms_ssim") and err == ""
    # An original without its result (a photo the method failed on) is said: the mean is not all of them.
    varcolor.write_image(originals / "z.png", photo("astronaut", (40, 40)))
    code, out, err = run(capsys, "metrics", "-i", results, "-r", originals, "-q")
    assert code == 0 and "mean (2)" in out and err.count("\n") == 1 and "1 original without a result" in err, err
    assert "z.png" in err, err
    (originals / "z.png").unlink()
    code, out, _ = run(capsys, "metrics", "-i", results, "-r", originals, "--format", "csv", "--ab", "-q")
    assert out.splitlines()[0] == "image," + ",".join(varcolor.metrics.METRICS)
    (results / "orphan.png").write_bytes(b"")
    code, _, err = run(capsys, "metrics", "-i", results, "-r", originals, "-q", "-o", tmp_path / "t.md")
    assert code == 1 and "orphan.png" in err and (tmp_path / "t.md").is_file()
    # "-" is stdout, as without -o (it wrote a file named "-").
    code, out, _ = run(capsys, "metrics", "-i", results, "-r", originals, "-q", "-o", "-", "--format", "csv")
    assert out.splitlines()[0] == "image," + ",".join(varcolor.metrics.METRICS) and not os.path.exists("-")
    # A folder as the table: "exists; use --overwrite", then "a folder is in the way". One line, at once.
    for flags in ([], ["--overwrite"]):
        code, _, err = run(capsys, "metrics", "-i", results, "-r", originals, "-q", "-o", tmp_path, *flags)
        assert code == 2 and err.count("\n") == 1 and "a folder; name the table's file" in err, err


def test_metrics_says_a_clip_it_does_not_score(tmp_path, capsys):
    """Folders holding a photo and a clip scored the photo and never mentioned the clip; a still
    scored against a clip failed with "cannot identify image file"."""
    results, originals = tmp_path / "res", tmp_path / "orig"
    rgb = photo("astronaut", (40, 40))
    varcolor.write_image(originals / "x.png", rgb)
    varcolor.write_image(results / "x.png", rgb)
    for folder in (results, originals):
        (folder / "film.mp4").write_bytes(b"not decoded: a clip is said by its name")
    code, out, err = run(capsys, "metrics", "-i", results, "-r", originals, "-q", "--format", "json")
    assert code == 1 and "film.mp4: a clip" in err
    assert [row["image"] for row in json.loads(out)] == ["x.png", "mean (1)"]
    code, _, err = run(capsys, "metrics", "-i", results / "x.png", "-r", originals / "film.mp4")
    assert code == 2 and "film.mp4: a clip" in err and len(err.strip().splitlines()) == 1


def test_metrics_refuses_reference_for_the_originals_in_one_line(tmp_path, capsys):
    """``--reference`` means a cue photo: for the ground truth it is refused, naming ``--original``."""
    varcolor.write_image(tmp_path / "x.png", photo("astronaut", (16, 16)))
    with pytest.raises(SystemExit) as info:  # argparse's exit, as for any bad argument
        run(capsys, "metrics", "-i", tmp_path / "x.png", "--reference", tmp_path / "x.png")
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "--reference is now -r/--original" in err


def test_metrics_never_writes_its_table_over_an_image(tmp_path, capsys):
    varcolor.write_image(tmp_path / "res" / "x.png", photo("astronaut", (16, 16)))
    varcolor.write_image(tmp_path / "orig" / "x.png", photo("astronaut", (16, 16)))
    before = (tmp_path / "res" / "x.png").read_bytes()
    code, _, err = run(
        capsys,
        "metrics",
        "-i",
        tmp_path / "res",
        "-r",
        tmp_path / "orig",
        "-o",
        tmp_path / "res" / "x.png",
        "--overwrite",
        "-q",
    )
    assert code == 2 and "refusing to overwrite an input" in err and (tmp_path / "res" / "x.png").read_bytes() == before


def _metrics_folders(tmp_path, shape=(64, 72)):
    results, originals = tmp_path / "res", tmp_path / "orig"
    for name, image, sigma in [("a", "astronaut", 1.0), ("sub/b", "coffee", 2.0)]:
        rgb = photo(image, shape)
        varcolor.write_image(originals / f"{name}.png", rgb)
        varcolor.write_image(
            results / f"{name}.png", np.clip(rgb + np.random.default_rng(0).normal(0, 0.02, rgb.shape) * sigma, 0, 1)
        )
    return results, originals


def _md_rows(out):
    lines = out.splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")))) for line in lines[2:]]


def test_metrics_md_reports_vif_for_every_image_and_the_mean(tmp_path, capsys):
    results, originals = _metrics_folders(tmp_path)
    code, out, _ = run(capsys, "metrics", "-i", results, "-r", originals, "--format", "md", "-q")
    rows = _md_rows(out)
    assert code == 0 and [r["image"] for r in rows] == ["a.png", "sub/b.png", "mean (2)"]
    expected = [
        varcolor.metrics.vif(varcolor.read_image(results / name), varcolor.read_image(originals / name))
        for name in ("a.png", "sub/b.png")
    ]
    assert [float(r["vif"]) for r in rows] == pytest.approx([*expected, np.mean(expected)], abs=6e-5)
    assert 0 < expected[1] < expected[0] < 1  # more noise, less information kept


def test_metrics_lpips_without_weights_names_the_files(tmp_path, capsys, monkeypatch):
    results, originals = _metrics_folders(tmp_path)
    monkeypatch.setenv("VARCOLOR_MODELS", str(tmp_path / "empty"))
    code, out, err = run(capsys, "metrics", "-i", results, "-r", originals, "--lpips", "-q")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    if importlib.util.find_spec("torch"):
        assert "alexnet-owt-7be5be79.pth" in err and "alex.pth" in err and "docs/metrics.md" in err
    else:
        assert "varcolor[neural]" in err
    code, _, err = run(capsys, "metrics", "-i", results, "-r", originals, "--lpips-weights", tmp_path, "-q")
    assert code == 2 and "without --lpips" in err


def test_metrics_lpips_with_weights(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from varcolor.neural.lpips import LPIPS

    results, originals = _metrics_folders(tmp_path)
    weights = tmp_path / "weights"
    weights.mkdir()
    torch.save(random_backbone(), weights / "alexnet-owt-7be5be79.pth")
    torch.save(random_calibration(), weights / "alex.pth")
    code, out, _ = run(
        capsys,
        "metrics",
        "-i",
        results,
        "-r",
        originals,
        "--lpips",
        "--lpips-weights",
        weights,
        "--format",
        "json",
        "-q",
    )
    rows = json.loads(out)
    net = LPIPS().load_weights(random_backbone(), random_calibration())
    expected = [
        net.distance(varcolor.read_image(results / name), varcolor.read_image(originals / name))
        for name in ("a.png", "sub/b.png")
    ]
    assert code == 0 and [r["lpips"] for r in rows] == pytest.approx([*expected, np.mean(expected)], rel=1e-6)
    assert 0 < expected[0] < expected[1]
    code, out, _ = run(capsys, "metrics", "-i", results, "-r", originals, "--lpips", "--lpips-weights", weights, "-q")
    assert out.splitlines()[0].endswith("| colorfulness | lpips |")


def test_bench_reports_vif(tmp_path, capsys):
    _bench_photos(tmp_path / "photos")
    photo_path = tmp_path / "photos" / "a.png"
    code, out, _ = run(
        capsys, "bench", "-i", photo_path, "--hints", "0,50", "--resolution", "48", "--format", "json", "-q"
    )
    rgb = varcolor.bench.original(varcolor.read_image(photo_path), "48")
    expected = varcolor.metrics.vif(_protocol_result(rgb, 50), rgb)
    rows = json.loads(out)["rows"]
    assert code == 0 and rows[1]["hints"] == 50 and rows[1]["vif"] == pytest.approx(expected)
    code, out, _ = run(capsys, "bench", "-i", photo_path, "--hints", "0,50", "--resolution", "48", "-q")
    assert "| 48 | levin-multiscale | vif |" in out  # the default method, restrained: a solve of its own


def hint_seed(rgb):
    """The photo's part of the hints' seed, by hand: BLAKE2b of its 8-bit protocol gray and shape."""
    import hashlib

    levels = np.round(varcolor.color.same_lightness_gray(rgb) * 255).astype(np.uint8)
    digest = hashlib.blake2b(levels.tobytes(), digest_size=8, person=b"varcolor-hints")
    digest.update(repr(levels.shape).encode())
    return int.from_bytes(digest.digest(), "little")


def _protocol_result(rgb, n, **options):
    """The protocol by hand: the photo's gray at 8 bits (as its exported PNG), its hints drawn by the
    sampler (seeded by the photo's content), the result as the 8-bit image a file would hold."""
    gray = np.round(varcolor.color.same_lightness_gray(rgb) * 255) / 255
    cues = varcolor.cues.sample_ideepcolor(rgb, n=n, patch=6, rng=[varcolor.bench.SEED, hint_seed(rgb), n])
    return np.round(np.clip(varcolor.colorize(gray, cues, **options).rgb, 0, 1) * 255) / 255


def _bench_photos(folder):
    for name, image in (("a", "astronaut"), ("sub/b", "coffee")):
        varcolor.write_image(folder / f"{name}.png", photo(image, (40, 48)))


def test_bench_scores_methods_against_hints(tmp_path, capsys):
    _bench_photos(tmp_path / "photos")
    (tmp_path / "photos" / "broken.png").write_bytes(b"garbage")
    code, out, err = run(
        capsys,
        "bench",
        "-i",
        tmp_path / "photos",
        "--methods",
        "levin,bilaplacian-gtv",
        "--hints",
        "0,50",
        "--resolution",
        "32",
        "--format",
        "json",
        "-q",
    )
    assert code == 1 and "broken.png" in err  # the folder goes on past a bad file, and reports it
    report = json.loads(out)
    assert sorted({row["image"] for row in report["rows"]}) == ["a.png", "sub/b.png"]
    for mean in report["summary"]:
        rows = [r for r in report["rows"] if (r["method"], r["hints"]) == (mean["method"], mean["hints"])]
        assert mean["images"] == 2 and mean["psnr"] == pytest.approx(np.mean([r["psnr"] for r in rows]))
    psnr = {(m["method"], m["hints"]): m["psnr"] for m in report["summary"]}
    assert psnr["levin", 50] > psnr["levin", 0] + 3  # hints bring the colours back
    # Image 0 (a.png, in walk order) with 50 hints, by the protocol through the library directly.
    rgb = varcolor.bench.original(varcolor.read_image(tmp_path / "photos" / "a.png"), "32")
    expected = varcolor.metrics.psnr(_protocol_result(rgb, 50, method="levin"), rgb)
    row = next(r for r in report["rows"] if (r["image"], r["method"], r["hints"]) == ("a.png", "levin", 50))
    assert row["psnr"] == pytest.approx(expected)
    code, out, _ = run(
        capsys,
        "bench",
        "-i",
        tmp_path / "photos" / "a.png",
        "--hints",
        "0,5",
        "--resolution",
        "32",
        "-o",
        tmp_path / "t.md",
        "-q",
    )
    table = (tmp_path / "t.md").read_text()
    assert code == 0 and out == "" and "| 32 | levin-multiscale |" in table and "| 0 | 5 |" in table


def test_bench_defaults_to_the_library_default_and_marks_one_solve_under_two_names(tmp_path, capsys):
    _bench_photos(tmp_path / "photos")
    photo_path = tmp_path / "photos" / "a.png"
    args = ("bench", "-i", photo_path, "--hints", "0,20", "--resolution", "48", "-q", "--methods")
    # Unrestrained, at 48² (up to 65,536 pixels) levin-multiscale is levin's exact solve: equal scores, one solve.
    code, out, _ = run(capsys, *args, "levin-multiscale,levin", "--restraint", "off", "--format", "json")
    by = {(row["method"], row["hints"]): row for row in json.loads(out)["rows"]}
    for n in (0, 20):
        for score in varcolor.bench.SCORES:
            assert by["levin-multiscale", n][score] == pytest.approx(by["levin", n][score], nan_ok=True)
    code, out, _ = run(capsys, *args, "levin-multiscale,levin", "--restraint", "off")
    assert code == 0 and "| 48 | levin-multiscale (= levin: the same solve at this size) | psnr |" in out
    assert "| 48 | levin | psnr |" in out
    code, default, _ = run(capsys, *args[:-1])  # no --methods: the library's default method, restrained
    assert varcolor.Options().method == "levin-multiscale" and "| 48 | levin-multiscale | psnr |" in default
    assert varcolor.bench.same_solves(["levin-multiscale", "levin"], "48") == {}
    # Where levin-multiscale solves on a coarse grid (beyond 65,536 pixels, or a factor given), no mark.
    assert varcolor.bench.same_solves(["levin-multiscale", "levin"], "320", restraint="off") == {}
    assert varcolor.bench.same_solves(["levin-multiscale"], "48", factor=4, restraint="off") == {}
    # LPIPS is not scored by bench, and its help says why and where it is.
    with pytest.raises(SystemExit):
        run(capsys, "bench", "--help")
    out = capsys.readouterr().out
    assert "LPIPS" in out and "offline" in out and "varcolor metrics --lpips" in " ".join(out.split())


def test_bench_gives_bilaplacian_gtv_its_options(tmp_path, capsys):
    _bench_photos(tmp_path / "photos")
    photo_path = tmp_path / "photos" / "a.png"
    rgb = varcolor.bench.original(varcolor.read_image(photo_path), "32")
    for options in ({"lam": 0.5}, {"sharpness": 2.0}):
        flags = [f"--{key}={value}" for key, value in options.items()]
        code, out, _ = run(
            capsys,
            "bench",
            "-i",
            photo_path,
            "--methods",
            "bilaplacian-gtv",
            "--hints",
            "20",
            "--resolution",
            "32",
            "--format",
            "json",
            "-q",
            *flags,
        )
        expected = _protocol_result(rgb, 20, method="bilaplacian-gtv", **options)
        assert code == 0 and json.loads(out)["rows"][0]["psnr"] == pytest.approx(varcolor.metrics.psnr(expected, rgb))
        # ... and the option changed the result (else the comparison above could not fail).
        assert np.abs(expected - _protocol_result(rgb, 20, method="bilaplacian-gtv")).max() > 1 / 255


@pytest.mark.parametrize(
    "options, message",
    [
        (["--methods", "levin,nope"], "unknown method 'nope'"),
        (["--methods", "ideepcolor+ideepcolor"], "unknown method"),
        (["--hints", "5,x"], "--hints must be comma-separated whole numbers"),
        (["--resolution", "4"], "resolution must be 'full' or a side length"),
        (["--sharpness", "4"], "--sharpness: an option of bilaplacian-gtv"),
        (["--methods", "levin", "--lam", "0.1"], "--lam: an option of bilaplacian-gtv"),
        (["--methods", "bilaplacian-gtv", "--lam", "-1"], "lam must be a finite number >= 0"),
        (["--methods", "bilaplacian-gtv", "--sharpness", "0"], "sharpness must be a finite number > 0"),
        (
            ["--methods", "levin+ideepcolor", "--network-file", "missing.safetensors"],
            "missing.safetensors: no such network file",
        ),
        (["--seed", "-1"], "--seed must be >= 0"),  # (was "a bug in varcolor" a photo)
        (["--hints", "5,0,5"], "--hints names 5 more than once"),  # (two columns of one name)
    ],
)
def test_bench_refuses_bad_options_before_any_image(tmp_path, capsys, options, message):
    _bench_photos(tmp_path / "photos")
    code, out, err = run(capsys, "bench", "-i", tmp_path / "photos", "-q", *options)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_bench_never_writes_its_table_over_a_photo(tmp_path, capsys):
    _bench_photos(tmp_path / "photos")
    before = (tmp_path / "photos" / "a.png").read_bytes()
    code, _, err = run(capsys, "bench", "-i", tmp_path / "photos", "-o", tmp_path / "photos" / "a.png", "--overwrite")
    assert code == 2 and "refusing to overwrite an input" in err
    assert (tmp_path / "photos" / "a.png").read_bytes() == before


def test_bench_never_writes_its_plot_among_the_photos_it_scores(tmp_path, capsys):
    """A plot written into the photos' folder was scored as a photo by the next run."""
    _bench_photos(tmp_path / "photos")
    before = sorted(p.name for p in (tmp_path / "photos").iterdir())
    plot = tmp_path / "photos" / "plot.png"
    code, out, err = run(capsys, "bench", "-i", tmp_path / "photos", "--hints", "5", "--plot", plot, "-q")
    assert code == 2 and err.count("\n") == 1 and "where the next run would score the plot" in err
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == before


def test_bench_refuses_a_gray_photo_by_name_and_scores_the_rest(tmp_path, capsys):
    """A gray photo scored PSNR inf (every result is the photo itself) and a NumPy warning."""
    _bench_photos(tmp_path / "photos")
    gray = tmp_path / "photos" / "gray.png"
    varcolor.write_image(gray, photo("camera", (48, 64)))
    code, out, err = run(capsys, "bench", "-i", tmp_path / "photos", "--hints", "5", "--resolution", "64", "-q")
    assert code == 1 and "inf" not in out and "RuntimeWarning" not in err
    assert [line for line in err.splitlines() if "gray.png" in line] == [
        line for line in err.splitlines() if "a gray photo" in line
    ] and "gray.png" in err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"varcolor {varcolor.__version__}"
    for command in ([], ["colorize"], ["metrics"], ["bench"]):
        with pytest.raises(SystemExit) as info:
            main([*command, "--help"])
        assert info.value.code == 0 and "usage: varcolor" in capsys.readouterr().out


def test_encode_decode_round_trip_folder(tmp_path, capsys):
    source = tmp_path / "in"
    varcolor.write_image(source / "a.png", photo("coffee", (48, 64)))
    varcolor.write_image(source / "sub" / "b.png", photo("astronaut", (40, 40)))
    code, _, _ = run(capsys, "encode", "-i", source, "-o", tmp_path / "ir", "-s", 32, "-g", 4, "--plot", "-q")
    assert code == 0
    for rel in ("a", "sub/b"):
        assert (tmp_path / "ir" / f"{rel}.png").is_file() and (tmp_path / "ir" / f"{rel}.vcir").is_file()
        assert (tmp_path / "ir" / f"{rel}.cues.png").is_file()
    gray = varcolor.read_image(tmp_path / "ir" / "a.png")
    assert gray.ndim == 2  # a plain gray image, same lightness as the original
    original = varcolor.read_image(source / "a.png")
    assert np.abs(gray - varcolor.color.same_lightness_gray(original)).max() <= 0.5 / 255 + 1e-9
    code, _, _ = run(capsys, "decode", "-i", tmp_path / "ir", "-o", tmp_path / "out", "-q")
    assert code == 0 and not (tmp_path / "out" / "a.cues.png").exists()
    decoded = varcolor.read_image(tmp_path / "out" / "a.png")
    stock = varcolor.metrics.psnr(np.repeat(gray[..., None], 3, axis=2), original)
    assert varcolor.metrics.psnr(decoded, original) > stock + 5


def test_embedded_ir_is_one_file(tmp_path, capsys):
    varcolor.write_image(tmp_path / "c.png", photo("chelsea", (40, 60)))
    code, _, _ = run(
        capsys, "encode", "-i", tmp_path / "c.png", "-o", tmp_path / "ir", "--embed", "-s", 20, "-g", 4, "--quantize", 8
    )
    assert code == 0 and sorted(p.name for p in (tmp_path / "ir").iterdir()) == ["c.png"]
    code, _, _ = run(capsys, "decode", "-i", tmp_path / "ir" / "c.png", "-o", tmp_path / "c_out.png")
    assert code == 0 and varcolor.read_image(tmp_path / "c_out.png").shape == (40, 60, 3)


def test_global_ir_is_a_few_bytes_and_decodes_with_a_warning(tmp_path, capsys):
    varcolor.write_image(tmp_path / "c.png", photo("chelsea", (40, 60)))
    code, _, _ = run(capsys, "encode", "-i", tmp_path / "c.png", "-o", tmp_path / "ir", "-e", "global")
    payload = varcolor.ir.format.read_payload((tmp_path / "ir" / "c.vcir").read_bytes())
    assert code == 0 and payload.count == 0 and payload.global_hints() is not None
    assert (tmp_path / "ir" / "c.vcir").stat().st_size < 150
    code, _, err = run(capsys, "decode", "-i", tmp_path / "ir" / "c.png", "-o", tmp_path / "c_out.png")
    assert code == 0 and "global hints ignored" in err  # the Levin decoder has no use for them
    assert varcolor.read_image(tmp_path / "c_out.png").shape == (40, 60, 3)


def test_decode_rejects_a_corrupt_payload_in_one_line(tmp_path, capsys):
    varcolor.write_image(tmp_path / "c.png", photo("chelsea", (40, 60)))
    run(capsys, "encode", "-i", tmp_path / "c.png", "-o", tmp_path / "ir", "-s", 20, "-g", 4)
    sidecar = tmp_path / "ir" / "c.vcir"
    data = bytearray(sidecar.read_bytes())
    data[30] ^= 0xFF
    sidecar.write_bytes(bytes(data))
    gray_before = (tmp_path / "ir" / "c.png").read_bytes()
    code, _, err = run(
        capsys, "decode", "-i", tmp_path / "ir" / "c.png", "-o", tmp_path / "ir" / "c.png", "--overwrite"
    )
    assert code == 2 and "input" in err  # never writes over the gray image
    code, _, err = run(capsys, "decode", "-i", tmp_path / "ir" / "c.png", "-o", tmp_path / "out.png")
    assert code == 2 and "CRC" in err and len(err.strip().splitlines()) == 1
    assert err.startswith(f"varcolor: error: {sidecar}:")  # names the file that is corrupt
    assert (tmp_path / "ir" / "c.png").read_bytes() == gray_before and not (tmp_path / "out.png").exists()


def test_encode_refuses_gray_input(tmp_path, capsys):
    varcolor.write_image(tmp_path / "g.png", np.full((10, 10), 0.5))
    code, _, err = run(capsys, "encode", "-i", tmp_path / "g.png", "-o", tmp_path / "ir")
    assert code == 2 and "colour image" in err


@pytest.mark.parametrize(
    "command,options,message",
    [
        ("encode", ["-e", "selective", "--segments", "0"], "--segments must be at least 1"),  # was a ZeroDivisionError
        ("encode", ["-e", "adaptive", "--budget", "10"], "--budget must be at least 64"),
        ("encode", ["-g", "0"], "--spacing must be at least 1"),
        ("recolor", ["--quantize", "300"], "--quantize takes 1..256"),
    ],
)
def test_encoder_options_refused_before_any_image(tmp_path, capsys, command, options, message):
    varcolor.write_image(tmp_path / "in" / "a.png", photo("coffee", (24, 32)))
    varcolor.write_image(tmp_path / "in" / "b.png", photo("coffee", (24, 32)))
    code, _, err = run(capsys, command, "-i", tmp_path / "in", "-o", tmp_path / "out", *options)
    assert code == 2 and err.count("\n") == 1 and message in err and not (tmp_path / "out").exists()


def test_recolor_scores_and_deletes_gray_only_after_output(tmp_path, capsys):
    source = tmp_path / "in"
    varcolor.write_image(source / "a.png", photo("coffee", (48, 64)))
    varcolor.write_image(source / "b.png", photo("astronaut", (40, 40)))
    code, out, _ = run(
        capsys,
        "recolor",
        "-i",
        source,
        "-o",
        tmp_path / "out",
        "--ir",
        tmp_path / "ir",
        "--delete-gray",
        "--budget",
        200,
        "-q",
    )
    assert code == 0 and "| mean (2) |" in out
    assert sorted(p.name for p in (tmp_path / "ir").iterdir()) == ["a.vcir", "b.vcir", varcolor.batch.MANIFEST]
    assert (tmp_path / "out" / "a.png").is_file() and (tmp_path / "out" / "b.png").is_file()


@pytest.mark.slow
def test_workers_give_the_same_outputs(tmp_path, capsys):
    source = tmp_path / "in"
    for k in range(3):
        make_pair(source, f"img{k}", seed=k)
    make_pair(source, "bad", seed=9)
    (source / "bad_marked.png").write_bytes(b"garbage")
    code, _, err = run(capsys, "colorize", source, "-o", tmp_path / "serial", "-q")
    assert code == 1
    code, _, err = run(capsys, "colorize", source, "-o", tmp_path / "parallel", "--workers", 2)
    assert code == 1 and "colorized 3, skipped 0, failed 1" in err and "bad_marked.png" in err
    for k in range(3):
        assert (tmp_path / "serial" / f"img{k}.png").read_bytes() == (
            tmp_path / "parallel" / f"img{k}.png"
        ).read_bytes()


@pytest.mark.slow
def test_watch_encodes_new_images_until_interrupted(tmp_path):
    import signal

    source = tmp_path / "in"
    source.mkdir()
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "varcolor.cli",
            "encode",
            "-i",
            str(source),
            "-o",
            str(tmp_path / "ir"),
            "--watch",
            "--watch-interval",
            "0.2",
            "-s",
            "16",
            "-g",
            "4",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        varcolor.write_image(source / "late.png", photo("coffee", (32, 40)))
        wait_until(lambda: (tmp_path / "ir" / "late.vcir").exists(), 60, 0.2)
        assert (tmp_path / "ir" / "late.vcir").exists()
    finally:
        watcher.send_signal(signal.SIGINT)
        _, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 130 and "stopped watching (1 encoded, 0 failed)" in err  # interrupted


def test_marks_drawn_at_another_size_are_scaled_and_said_so(tmp_path, capsys):
    """A stroke painted with an antialiased brush on a half-size copy colours the full-size photo,
    with one line saying what was done; marks of another aspect ratio are refused in one line."""
    from PIL import Image, ImageDraw

    gray = np.round(varcolor.color.to_gray(photo("coffee", (96, 128))) * 255) / 255
    varcolor.write_image(tmp_path / "img.png", gray)
    small = Image.fromarray(np.round(np.repeat(gray[::2, ::2, None], 3, axis=2) * 255).astype(np.uint8))
    ImageDraw.Draw(small).line((8, 20, 56, 24), fill=(220, 60, 50), width=4)
    big = small.resize((256, 192))  # supersampled: its edges antialiased once shrunk
    ImageDraw.Draw(big).line((32, 80, 224, 96), fill=(220, 60, 50), width=16)
    big.resize((64, 48), Image.Resampling.BOX).save(tmp_path / "small_marked.png")
    args = ["colorize", tmp_path / "img.png", "--marked", tmp_path / "small_marked.png", "-o", tmp_path / "out.png"]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    assert "drawn at 64×48, scaled to 128×96" in err and "blended edge pixels read as partial paint" in err
    assert "varcolor: note: " in err and "warning" not in err  # what was done, not a warning (issue 94)
    out = varcolor.color.rgb_to_lab(varcolor.read_image(tmp_path / "out.png"))
    assert out.shape == (96, 128, 3) and np.median(out[42:46, 30:90, 1]) > 25  # red along the stroke
    varcolor.write_image(tmp_path / "wide_mask.png", np.zeros((48, 80, 3)))
    code, _, err = run(
        capsys, "colorize", tmp_path / "img.png", "--mask", tmp_path / "wide_mask.png", "-o", tmp_path / "o2.png"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "80×48" in err and "128×96" in err and not (tmp_path / "o2.png").exists()


def test_after_ctrl_c_only_a_dask_destructor_s_failure_at_exit_is_dropped(capsys, monkeypatch):
    # A Dask client collected at exit after a Ctrl-C may fail to close (its loop is gone): that page
    # of traceback is dropped; any other exception at exit is printed as Python prints it.
    from varcolor.cli import _quiet_dask_destructors

    def unraisable(module: str):
        class Client:
            def __del__(self):
                raise RuntimeError("loop closed")

        Client.__del__.__module__ = module
        seen = []
        monkeypatch.setattr(sys, "unraisablehook", seen.append)
        Client()  # collected at once: its __del__ raises, as Dask's did
        monkeypatch.undo()
        return seen[0]

    _quiet_dask_destructors(unraisable("distributed.client"))
    assert capsys.readouterr().err == ""
    _quiet_dask_destructors(unraisable("varcolor.batch.cluster"))
    assert "RuntimeError: loop closed" in capsys.readouterr().err


def test_edges_chooses_how_antialiased_marks_are_read_as_the_library_does(tmp_path, capsys):
    """``--edges`` reads a marked file's blended stroke edges as :meth:`Cues.from_marked` does
    with the same rule: each result equals the library's (to 8-bit rounding), and the two differ."""
    from tests.test_cues import _gray, _painted

    from ..conftest import run

    gray = _gray()
    varcolor.write_image(tmp_path / "g.png", gray)
    varcolor.write_image(tmp_path / "g_marked.png", _painted(gray, "antialiased"))
    gray, marked = varcolor.read_image(tmp_path / "g.png"), varcolor.read_image(tmp_path / "g_marked.png")
    results = {}
    for edges in ("unmix", "exact"):
        out = tmp_path / f"{edges}.png"
        code, _, err = run(capsys, "colorize", tmp_path / "g.png", "--marked", "--edges", edges, "-o", out)
        assert code == 0, err
        expected = varcolor.colorize(gray, varcolor.Cues.from_marked(gray, marked, edges=edges)).rgb
        results[edges] = varcolor.read_image(out)
        assert np.abs(results[edges] - expected).max() <= 0.5 / 255 + 1e-6, edges
    assert np.abs(results["unmix"] - results["exact"]).max() > 10 / 255  # the rule changes the result
    with pytest.raises(SystemExit) as info:
        main(["colorize", str(tmp_path / "g.png"), "--marked", "--edges", "soft", "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "--edges" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_edges_with_points_is_refused_in_one_line_before_any_work(tmp_path, capsys):
    """Points have no stroke edges: ``--edges exact --points`` was silently ignored (and recorded in
    the manifest, so a ``--resume`` with the other rule redid every point-cued output)."""
    from ..conftest import run

    varcolor.write_image(tmp_path / "g.png", np.full((16, 16), 0.5))
    (tmp_path / "g.points.json").write_text('[{"y": 4, "x": 4, "a": 30, "b": 10}]')
    code, _, err = run(capsys, "colorize", tmp_path / "g.png", "--points", "--edges", "exact", "-o", tmp_path / "o.png")
    assert code == 2 and "--edges" in err and "points" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and not (tmp_path / "o.png").exists()
    code, _, err = run(capsys, "colorize", tmp_path / "g.png", "--points", "-o", tmp_path / "o.png", "-q")
    assert code == 0, err  # the default rule is no refusal


def test_a_name_longer_than_the_file_system_allows_is_one_line(tmp_path, capsys):
    """A 5,000-character name as the input, a reference or the output: one line (exit 2) naming
    its start, not an OSError's traceback (ENAMETOOLONG escaped Path.is_dir and is_file)."""
    varcolor.write_image(tmp_path / "g.png", np.full((20, 20), 0.5))
    varcolor.write_image(tmp_path / "r.png", np.random.default_rng(0).random((20, 20, 3)))
    long = tmp_path / ("x" * 5000 + ".png")
    for args in (
        (long, "--reference", tmp_path / "r.png", "-o", tmp_path / "o.png"),
        (tmp_path / "g.png", "--reference", long, "-o", tmp_path / "o.png"),
        (tmp_path / "g.png", "--reference", tmp_path / "r.png", "--reference", long, "-o", tmp_path / "o.png"),
        (tmp_path / "g.png", "--reference", tmp_path / "r.png", "-o", long),
    ):
        code, _, err = run(capsys, "colorize", *args)
        assert code == 2 and err.count("\n") == 1 and "name too long" in err and "xxxxxxxxxx" in err, err[:300]
        assert len(err) < 400


def test_colorize_refuses_an_empty_path(tmp_path, capsys, monkeypatch):
    """An empty argument (an unset shell variable: ``-o "$OUT"``) is no path: ``-o ''`` wrote the
    result into the current folder, ``--reference ''`` made a pool of every image under it, an
    empty input colourized the current folder. One line naming the argument, exit 2, nothing
    written."""
    varcolor.write_image(tmp_path / "g.png", np.full((20, 20), 0.5))
    varcolor.write_image(tmp_path / "r.png", np.random.default_rng(0).random((20, 20, 3)))
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    for args, named in (
        (("g.png", "--reference", "r.png", "-o", ""), "-o"),
        (("g.png", "--reference", "", "-o", "o.png"), "--reference"),
        (("g.png", "--reference", "r.png", "--reference", " ", "-o", "o.png"), "--reference"),
        (("", "--reference", "r.png", "-o", "out"), "INPUT"),
        (("g.png", "--marked", "", "-o", "o.png"), "--marked"),
    ):
        code, _, err = run(capsys, "colorize", *args)
        assert code == 2 and err.count("\n") == 1 and named in err and "empty" in err, (args, err)
    assert sorted(os.listdir(tmp_path)) == before


def test_a_bug_met_on_one_file_fails_that_file_and_the_batch_goes_on(tmp_path, capsys, monkeypatch):
    """Whatever a file sets off, even what varcolor never raises on purpose, that file fails in
    one line naming it and the rest of the folder is coloured."""
    from varcolor import cues

    make_pair(tmp_path / "in", "a")
    make_pair(tmp_path / "in", "b", seed=1)
    calls, reading = [], cues.marked_cues

    def first_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("operands could not be broadcast together")
        return reading(*args, **kwargs)

    monkeypatch.setattr(cues, "marked_cues", first_fails)
    code, _, err = run(capsys, "colorize", tmp_path / "in", "--marked", "-o", tmp_path / "out")
    assert code == 1 and "colorized 1, skipped 0, failed 1" in err and "Traceback" not in err, err
    failed = [line for line in err.splitlines() if "a bug in varcolor" in line]
    assert len(failed) == 1 and "a.png" in failed[0] and "ValueError: operands" in failed[0], err
    assert (tmp_path / "out" / "b.png").is_file() and not (tmp_path / "out" / "a.png").exists()


@pytest.mark.parametrize("mode", ["L", "LA"])
def test_a_marked_copy_saved_gray_is_refused_with_or_without_alpha(tmp_path, capsys, mode):
    """Saved as gray, the strokes' colour is gone: refused in one line, alpha or none (gray and
    alpha was read as a colour image whose colour was all gray, and gave a gray result)."""
    from PIL import Image

    make_pair(tmp_path)
    Image.open(tmp_path / "img_marked.png").convert(mode).save(tmp_path / "gray_marked.png")
    code, _, err = run(
        capsys, "colorize", tmp_path / "img.png", "--marked", tmp_path / "gray_marked.png", "-o", tmp_path / "o.png"
    )
    assert code == 2 and err.count("\n") == 1 and "gray_marked.png: the marked image is gray" in err, err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("mode", ["LA", "RGBA"])
def test_a_photo_of_transparent_pixels_is_refused_and_one_partly_so_said(tmp_path, capsys, mode):
    """A photo whose pixels are all transparent (a cleared layer's black under alpha 0) gave a black
    result, exit 0. Refused in one line; a photo partly transparent is coloured, and that is said."""
    from PIL import Image

    make_pair(tmp_path)
    photo_file = Image.open(tmp_path / "img.png").convert(mode)
    cleared = Image.new(mode, photo_file.size, 0)
    cleared.save(tmp_path / "cleared.png")
    code, _, err = run(capsys, "colorize", tmp_path / "cleared.png", "--marked", tmp_path / "img_marked.png", "-o",
                       tmp_path / "o.png")  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "cleared.png: every pixel is transparent" in err, err
    assert not (tmp_path / "o.png").exists()
    half = np.array(photo_file)
    half[:, : half.shape[1] // 2, -1] = 0
    Image.fromarray(half, mode).save(tmp_path / "half.png")
    code, _, err = run(capsys, "colorize", tmp_path / "half.png", "--marked", tmp_path / "img_marked.png", "-o",
                       tmp_path / "o.png")  # fmt: skip
    assert code == 0 and "half.png" in err and "(50 %) are transparent" in err, err


def test_a_malformed_tiff_is_one_line_not_tifffiles_log_lines_too(tmp_path):
    """A TIFF declaring 60000×60000 pixels over an 8×8 strip: tifffile logged two lines of its own
    ("incorrect StripByteCounts count") before varcolor's, in a run and a folder run alike."""
    import struct
    import subprocess
    import sys

    import tifffile

    tifffile.imwrite(tmp_path / "huge.tif", np.zeros((8, 8), np.uint8))
    data = bytearray((tmp_path / "huge.tif").read_bytes())
    first = struct.unpack("<I", data[4:8])[0]
    for k in range(struct.unpack("<H", data[first : first + 2])[0]):
        entry = first + 2 + 12 * k
        tag, kind = struct.unpack("<HH", data[entry : entry + 4])
        if tag in (256, 257):  # the width and the length
            data[entry + 8 : entry + (10 if kind == 3 else 12)] = struct.pack("<H" if kind == 3 else "<I", 60000)
    (tmp_path / "huge.tif").write_bytes(bytes(data))
    make_pair(tmp_path)
    # A process of its own: pytest takes log records in, where a command's go to stderr.
    argv = ["colorize", tmp_path / "huge.tif", "--marked", tmp_path / "img_marked.png", "-o", tmp_path / "o.png"]
    done = subprocess.run([sys.executable, "-m", "varcolor.cli", *map(str, argv)], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "huge.tif: 60000×60000 pixels" in done.stderr
