"""``varcolor colorize --reference``: a colour photo of the same scene as the cues, alone, with
strokes, for a folder; a file that can be no reference refused in one line before any solve."""

import zlib

import numpy as np
import pytest
from skimage import data, transform

import varcolor
from varcolor.color import rgb_to_lab, same_lightness_gray
from varcolor.metrics import psnr

from ..conftest import icc_profile, png_declaring, run

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A gray crop of chelsea, its truth, and the photo's other end turned 3° with another tone
    curve as the reference; and an unrelated photo."""
    folder = tmp_path_factory.mktemp("scene")
    photo = data.chelsea() / 255.0
    width = int(photo.shape[1] * 0.7)
    truth = photo[:, :width]
    reference = np.clip(transform.rotate(photo[:, -width:], 3, mode="reflect"), 0, 1) ** 0.8
    varcolor.write_image(folder / "cat.png", same_lightness_gray(truth))
    varcolor.write_image(folder / "ref.png", reference)
    varcolor.write_image(folder / "other.png", data.astronaut() / 255.0)
    return folder, truth


def _gain(path, truth) -> float:
    result = varcolor.read_image(path)
    gray = same_lightness_gray(truth)
    return psnr(result, truth) - psnr(np.repeat(gray[..., None], 3, axis=2), truth)


def test_a_reference_alone_colours_the_photo(scene, tmp_path, capsys):
    folder, truth = scene
    code, _, err = run(
        capsys, "colorize", folder / "cat.png", "--reference", folder / "ref.png", "-o", tmp_path / "o.png"
    )
    assert code == 0, err
    assert _gain(tmp_path / "o.png", truth) > 3.0


def test_strokes_win_beside_a_reference(scene, tmp_path, capsys):
    folder, truth = scene
    points = tmp_path / "p.csv"
    points.write_text("y,x,r,g,b,radius\n150,150,0,0,255,4\n")
    code, _, err = run(
        capsys,
        "colorize",
        folder / "cat.png",
        "--points",
        points,
        "--reference",
        folder / "ref.png",
        "-o",
        tmp_path / "o.png",
    )
    assert code == 0, err
    ab = rgb_to_lab(varcolor.read_image(tmp_path / "o.png"))[150, 150, 1:]
    blue = rgb_to_lab(np.array([[[0.0, 0.0, 1.0]]]))[0, 0, 1:]
    assert np.degrees(abs(np.angle(complex(*ab) / complex(*blue)))) < 15  # the stroke's hue, not the cat's
    assert _gain(tmp_path / "o.png", truth) > 1.0  # and the reference coloured the rest


def test_an_unrelated_reference_alone_is_an_error_not_a_gray_result(scene, tmp_path, capsys):
    folder, _ = scene
    code, _, err = run(
        capsys, "colorize", folder / "cat.png", "--reference", folder / "other.png", "-o", tmp_path / "o.png"
    )
    assert code == 2
    assert "matches too little" in err and len(err.strip().splitlines()) <= 2
    assert not (tmp_path / "o.png").exists()


def _bad_references(folder):
    unreadable = folder / "bad.png"
    unreadable.write_bytes(b"not an image at all")
    gray = folder / "gray.png"
    varcolor.write_image(gray, data.camera() / 255.0)
    gray_rgb = folder / "gray_rgb.png"
    varcolor.write_image(gray_rgb, np.repeat(data.camera()[..., None] / 255.0, 3, axis=2))
    tiny = folder / "tiny.png"
    varcolor.write_image(tiny, np.array([[[1.0, 0.0, 0.0]]]))
    bomb = folder / "bomb.png"
    bomb.write_bytes(png_declaring(20000, 20000, color=2, data=zlib.compress(b"\0" * 1000)))
    clip = folder / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    return {
        unreadable: "cannot read",
        gray: "gray",
        gray_rgb: "gray",
        tiny: "at least",
        bomb: "pixels",
        clip: "clip",
        folder / "missing.png": "no such file",
        # a folder given for one image is a pool: its first photo that can be no reference is named
        folder: "bad.png: cannot read",
    }


def test_a_bad_reference_is_one_line_before_any_solve(scene, tmp_path, capsys, monkeypatch):
    folder, _ = scene
    import varcolor.app.solve

    def no_solve(*args, **kwargs):
        raise AssertionError("solved")

    monkeypatch.setattr(varcolor.app.solve, "colorize", no_solve)
    for reference, words in _bad_references(tmp_path).items():
        # one image, and a folder with one reference (a folder of references is a pool or named as the images)
        for target in (folder / "cat.png", folder) if reference != tmp_path else (folder / "cat.png",):
            code, out, err = run(capsys, "colorize", target, "--reference", reference, "-o", tmp_path / "out" / "o.png")
            assert code == 2, (reference, err)
            assert len(err.strip().splitlines()) == 1 and str(reference) in err and words in err, err
            assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_broken_clip_with_a_reference_is_one_line(tmp_path, capsys):
    # a clip takes --reference (colour stills for its keyframes: tests/reading/test_matching_series.py);
    # one that is no clip is refused before any reference is matched
    clip = tmp_path / "film.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    ref = tmp_path / "r.png"
    varcolor.write_image(ref, data.astronaut() / 255.0)
    code, _, err = run(capsys, "colorize", clip, "--reference", ref, "-o", tmp_path / "o.mp4")
    assert code == 2 and "film.mp4" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_folder_with_one_reference_or_a_folder_of_them(scene, tmp_path, capsys):
    folder, truth = scene
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a", "b"):
        (photos / f"{name}.png").write_bytes((folder / "cat.png").read_bytes())
    code, _, err = run(capsys, "colorize", photos, "--reference", folder / "ref.png", "-o", tmp_path / "one")
    assert code == 0, err
    for name in ("a", "b"):
        assert _gain(tmp_path / "one" / f"{name}.png", truth) > 3.0
    refs = tmp_path / "refs"
    refs.mkdir()
    varcolor.write_image(refs / "a.tif", varcolor.read_image(folder / "ref.png"), bits=16)  # any image suffix, 16 bits
    code, out, err = run(capsys, "colorize", photos, "--reference", refs, "-o", tmp_path / "many")
    assert code == 0, err
    assert _gain(tmp_path / "many" / "a.png", truth) > 3.0
    assert not (tmp_path / "many" / "b.png").exists()  # no reference, no cues: skipped, said so
    assert "b.png" in out + err and "no reference" in out + err


def test_a_reference_inside_the_input_folder_is_no_input(scene, tmp_path, capsys):
    folder, _ = scene
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.png").write_bytes((folder / "cat.png").read_bytes())
    (photos / "ref.png").write_bytes((folder / "ref.png").read_bytes())
    code, _, err = run(capsys, "colorize", photos, "--reference", photos / "ref.png", "-o", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["a.png"]


@pytest.mark.slow
def test_resume_redoes_what_another_reference_would_change(scene, tmp_path, capsys):
    folder, _ = scene
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.png").write_bytes((folder / "cat.png").read_bytes())
    reference = tmp_path / "ref.png"
    reference.write_bytes((folder / "ref.png").read_bytes())
    out = tmp_path / "out"
    argv = ["colorize", photos, "--reference", reference, "-o", out, "--resume", "--overwrite", "-q"]
    assert run(capsys, *argv)[0] == 0
    first = (out / "a.png").stat().st_mtime_ns
    assert run(capsys, *argv)[0] == 0
    assert (out / "a.png").stat().st_mtime_ns == first  # the same reference: not redone, --overwrite or not
    turned = transform.rotate(varcolor.read_image(folder / "ref.png"), 1.0, mode="reflect")
    varcolor.write_image(reference, turned, overwrite=True)  # the reference changed in place
    assert run(capsys, *argv)[0] == 0
    assert (out / "a.png").stat().st_mtime_ns != first


def test_a_16_bit_profiled_reference_is_read_through_its_profile(scene, tmp_path, capsys):
    from varcolor.app.reference import read_reference
    from varcolor.io.profiles import srgb_to_profile

    folder, truth = scene
    reference = varcolor.read_image(folder / "ref.png")
    adobe = icc_profile()
    profiled = tmp_path / "ref.tif"
    varcolor.write_image(profiled, srgb_to_profile(reference, adobe, profiled), bits=16, profile=adobe)
    with pytest.warns(UserWarning, match="converted to sRGB"):
        read = read_reference(profiled, None)
    assert np.abs(read - reference).max() < 2e-3  # the sRGB colours, not the file's Adobe RGB numbers
    code, _, err = run(capsys, "colorize", folder / "cat.png", "--reference", profiled, "-o", tmp_path / "o.png")
    assert code == 0, err
    assert err.count("converted to sRGB") == 1 and "UserWarning" not in err  # said once, as a line of the run
    assert _gain(tmp_path / "o.png", truth) > 3.0


def test_an_output_over_the_reference_is_refused_and_the_reference_kept(scene, tmp_path, capsys):
    folder, _ = scene
    (tmp_path / "refs").mkdir()
    reference = tmp_path / "refs" / "cat.png"  # named as the result a folder output would write
    reference.write_bytes((folder / "ref.png").read_bytes())
    before = reference.read_bytes()
    for output in (reference, tmp_path / "refs"):  # the file itself; the folder the result would go into
        code, _, err = run(
            capsys, "colorize", folder / "cat.png", "--reference", reference, "-o", output, "--overwrite"
        )
        assert code == 2 and err.count("\n") == 1 and "input" in err, err
    assert reference.read_bytes() == before
