"""``--reference`` at its limits (issue 71): a huge JPEG decoded reduced and counted in the memory
budget, a huge file of another format refused from its header, a target too narrow to match, a
reference's samples outside [0, 1], references paired with their images by name as inputs are told
(case and Unicode normal form)."""

import json
import tracemalloc
import unicodedata
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image
from skimage import data, transform

import varcolor
from varcolor.app.reference import read_reference
from varcolor.color import same_lightness_gray

from ..conftest import png_declaring, run


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A gray crop of chelsea and, as its reference, the photo's other end turned 3°."""
    folder = tmp_path_factory.mktemp("scene")
    photo = data.chelsea() / 255.0
    width = int(photo.shape[1] * 0.7)
    reference = np.clip(transform.rotate(photo[:, -width:], 3, mode="reflect"), 0, 1)
    varcolor.write_image(folder / "cat.png", same_lightness_gray(photo[:, :width]))
    varcolor.write_image(folder / "ref.png", reference)
    return folder


@pytest.fixture(scope="module")
def huge_jpeg(tmp_path_factory):
    """A 6000×5000 JPEG of one colour: 30 MP declared, 0.5 MB on disk."""
    path = tmp_path_factory.mktemp("huge") / "huge.jpg"
    Image.new("RGB", (6000, 5000), (200, 60, 40)).save(path, quality=90)
    return path


def test_a_huge_jpeg_reference_is_decoded_reduced(huge_jpeg):
    tracemalloc.start()
    try:
        pixels = read_reference(huge_jpeg, None, (300, 315))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 1/4 a side (libjpeg's scaled decode): matched at about 60,000 pixels, in blocks of 6, not
    # 23 of the whole file's; at 1/8 the copy would also be tried at the photo's own scale.
    assert pixels.shape == (1250, 1500, 3)
    assert np.allclose(pixels[300, 300], np.array([200, 60, 40]) / 255, atol=2 / 255)
    # Decoded whole it held 0.45 GB (levels and float32 copies); 1/16 of that is 28 MB (30 traced).
    assert peak < 60e6, peak


@pytest.mark.slow
def test_a_huge_jpeg_reference_runs_within_the_memory_budget(scene, huge_jpeg, tmp_path, capsys):
    points = tmp_path / "p.csv"
    points.write_text("y,x,r,g,b,radius\n150,150,0,0,255,4\n")
    tracemalloc.start()
    try:
        code, _, err = run(
            capsys,
            "colorize",
            scene / "cat.png",
            "--points",
            points,
            "--reference",
            huge_jpeg,
            "--max-memory",
            "0.5",
            "-o",
            tmp_path / "o.png",
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 0, err  # one colour matches nothing: a warning, the strokes colour it
    assert "matches too little" in err
    assert peak < 0.25e9, peak  # the reference decoded whole (30 MP) was 0.45 GB alone


@pytest.mark.parametrize("single", [True, False])
def test_a_reference_that_cannot_be_read_within_the_budget_is_refused_from_its_header(scene, tmp_path, capsys, single):
    big = tmp_path / "big.png"  # 200 MP declared in 80 bytes: no JPEG, so no reduced decode
    big.write_bytes(png_declaring(20000, 10000, color=2, data=zlib.compress(b"\0" * 1000)))
    target = scene / "cat.png" if single else scene
    code, _, err = run(
        capsys, "colorize", target, "--reference", big, "--max-memory", "0.5", "-o", tmp_path / "out" / "o.png"
    )
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and str(big) in err
    assert "reading and matching a 20000×10000 reference needs about 4.9 GB" in err and "budget of 0.5 GB" in err


@pytest.mark.parametrize("shape", [(3, 3), (3, 400), (400, 3), (4, 300)])
def test_a_target_too_narrow_to_match_is_one_line(scene, tmp_path, capsys, shape):
    gray = tmp_path / "narrow.png"
    varcolor.write_image(gray, np.full(shape, 0.5))
    code, _, err = run(capsys, "colorize", gray, "--reference", scene / "ref.png", "-o", tmp_path / "o.png")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert str(gray) in err and "too narrow to match against a reference" in err


def test_a_float_reference_of_8_bit_levels_is_refused_as_out_of_range(scene, tmp_path, capsys):
    levels = tmp_path / "levels.tif"
    tifffile.imwrite(levels, (varcolor.read_image(scene / "ref.png") * 255).astype(np.float32), photometric="rgb")
    code, _, err = run(capsys, "colorize", scene / "cat.png", "--reference", levels, "-o", tmp_path / "o.png")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and str(levels) in err
    assert "[0, 1]" in err and "gray (" not in err  # out of range, not "gray (no colour to take)"


@pytest.mark.slow
def test_references_pair_with_images_as_inputs_are_told(scene, tmp_path, capsys):
    photos, refs = tmp_path / "in", tmp_path / "refs"
    photos.mkdir()
    refs.mkdir()
    cafe = "café"
    nfc, nfd = unicodedata.normalize("NFC", cafe), unicodedata.normalize("NFD", cafe)
    assert nfc != nfd
    for name in ("b", nfc):
        (photos / f"{name}.png").write_bytes((scene / "cat.png").read_bytes())
    reference = varcolor.read_image(scene / "ref.png")
    varcolor.write_image(refs / "b.JPG", reference)  # a camera's name
    varcolor.write_image(refs / f"{nfd}.png", reference)  # copied from macOS: decomposed
    code, out, err = run(capsys, "colorize", photos, "--reference", refs, "-o", tmp_path / "out")
    assert code == 0, err
    assert "no reference" not in out + err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == sorted(["b.png", f"{nfc}.png"])


def test_two_references_of_one_name_in_two_cases_are_ambiguous(scene, tmp_path, capsys):
    photos, refs = tmp_path / "in", tmp_path / "refs"
    photos.mkdir()
    refs.mkdir()
    (photos / "b.png").write_bytes((scene / "cat.png").read_bytes())
    for name in ("b.jpg", "B.JPG"):
        (refs / name).write_bytes(b"")
    if len(list(refs.iterdir())) < 2:  # a file system that ignores case: nothing to tell apart
        pytest.skip("this file system does not tell b.jpg from B.JPG")
    code, _, err = run(capsys, "colorize", photos, "--reference", refs, "-o", tmp_path / "out")
    assert code == 2 and "ambiguous references" in err, err


@pytest.mark.parametrize("single", [True, False])
@pytest.mark.parametrize("kind", ["declared", "real"])
def test_a_pool_photo_that_cannot_be_read_within_the_budget_is_refused_from_its_header(
    scene, tmp_path, capsys, single, kind
):
    # issue 94, item 3: a pool's photos were decoded whole whatever --max-memory said
    pool = tmp_path / "pool"
    pool.mkdir()
    (pool / "ref.png").write_bytes((scene / "ref.png").read_bytes())
    big = pool / "big.png"
    if kind == "declared":  # 200 MP declared in 80 bytes
        big.write_bytes(png_declaring(20000, 10000, color=2, data=zlib.compress(b"\0" * 1000)))
        budget, needs = "0.5", "reading and matching a 20000×10000 reference needs about 4.9 GB"
    else:  # 3 MP of real pixels: 139 MB to read and match, over a 0.1 GB budget
        Image.new("RGB", (2000, 1500), (200, 60, 40)).save(big)
        budget, needs = "0.1", "reading and matching a 2000×1500 reference needs about 0.1 GB"
    photos = tmp_path / "in"
    photos.mkdir()
    (photos / "cat.png").write_bytes((scene / "cat.png").read_bytes())
    target = photos / "cat.png" if single else photos
    code, _, err = run(
        capsys, "colorize", target, "--reference", pool, "--max-memory", budget, "-o", tmp_path / "out" / "o.png"
    )
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and str(big) in err and "Traceback" not in err
    assert needs in err and f"budget of {budget} GB" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_input_folder_as_its_own_pool_colours_its_gray_photos_from_its_colour_ones(scene, tmp_path, capsys):
    # issue 94, item 4: each photo was paired with itself by name (the gray ones refused, the colour one recoloured)
    series = tmp_path / "series"
    series.mkdir()
    for name in ("a.png", "b.png"):
        (series / name).write_bytes((scene / "cat.png").read_bytes())
    (series / "c.png").write_bytes((scene / "ref.png").read_bytes())
    code, _, err = run(capsys, "colorize", series, "--reference", series, "-o", tmp_path / "out")
    assert code == 0, err
    assert "is gray" not in err and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["a.png", "b.png"]  # the colour one lends
    assert f"{series / 'a.png'}: cues from {series / 'c.png'} 100 %" in err


def test_an_input_folder_of_gray_photos_as_its_own_pool_is_one_line(scene, tmp_path, capsys):
    series = tmp_path / "series"
    series.mkdir()
    for name in ("a.png", "b.png"):
        (series / name).write_bytes((scene / "cat.png").read_bytes())
    code, _, err = run(capsys, "colorize", series, "--reference", series, "-o", tmp_path / "out")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{series}: every image in it is gray" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_pools_shares_are_a_note_and_real_warnings_stay_warnings(scene, tmp_path, capsys):
    # issue 94, first hour: "varcolor: warning: gray/x.png: cues from postcards/a.jpg 62 %", once per photo
    pool, photos = tmp_path / "pool", tmp_path / "in"
    pool.mkdir()
    photos.mkdir()
    (pool / "ref.png").write_bytes((scene / "ref.png").read_bytes())
    (photos / "cat.png").write_bytes((scene / "cat.png").read_bytes())
    height, width = varcolor.read_image(photos / "cat.png").shape
    strokes = np.zeros((height, width, 3))
    strokes[:, : int(0.6 * width)] = [0.8, 0.25, 0.15]  # 60 % of the photo: a real warning
    varcolor.write_image(photos / "cat_mask.png", strokes)
    argv = ["colorize", photos, "--mask", "--reference", pool, "-o", tmp_path / "out", "--overwrite"]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    lines = err.splitlines()
    assert f"varcolor: note: {photos / 'cat.png'}: cues from {pool / 'ref.png'} 100 %" in lines, err
    warned = [line for line in lines if line.startswith("varcolor: warning:")]
    assert len(warned) == 1 and "% of the pixels are cues" in warned[0] and "cues from" not in warned[0], err
    code, _, err = run(capsys, *argv, "-q")  # -q: the notes go, the warning stays
    assert code == 0, err
    assert "note:" not in err and "cues from" not in err
    assert "varcolor: warning:" in err and "% of the pixels are cues" in err
    rows = [json.loads(line) for line in open(tmp_path / "out" / "varcolor-manifest.jsonl")]
    assert all("cues from" in row["reason"] for row in rows if row["status"] == "done")  # the manifest keeps both
