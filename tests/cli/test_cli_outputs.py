"""Where a single file's result goes (issue 52): ``-o out/`` names a folder, made if missing (the
README shows it), and an output that can never be written is refused before any work."""

import itertools

import numpy as np
import pytest

import varcolor
from varcolor import cli


def folder_names():
    """Folder outputs as a user types them: new or nested, with spaces or non-ASCII letters,
    one trailing slash or two."""
    for name, slash in itertools.product(("out", "new/deeper", "with space", "ünï"), ("/", "//")):
        yield name + slash


def _pair(tmp_path):
    varcolor.write_image(tmp_path / "p.png", np.linspace(0.2, 0.8, 16 * 16).reshape(16, 16))
    strokes = np.zeros((16, 16, 3), np.uint8)
    strokes[2:5, 2:5] = (200, 60, 50)
    varcolor.write_image(tmp_path / "s.png", strokes)


@pytest.mark.parametrize("folder", list(folder_names()))
def test_colorize_into_a_folder_named_with_a_trailing_slash_makes_it(tmp_path, folder):
    _pair(tmp_path)
    argv = ["colorize", str(tmp_path / "p.png"), "--mask", str(tmp_path / "s.png"), "-o", f"{tmp_path}/{folder}", "-q"]
    assert cli.main(argv) == 0
    assert (tmp_path / folder.rstrip("/") / "p.png").is_file()


def _photo(tmp_path):
    from skimage import data, transform

    varcolor.write_image(tmp_path / "c.png", transform.resize(data.astronaut(), (32, 32)))


def test_recolor_into_a_new_folder_with_a_trailing_slash(tmp_path):
    _photo(tmp_path)
    assert cli.main(["recolor", str(tmp_path / "c.png"), "-o", f"{tmp_path}/new/", "-q"]) == 0
    assert (tmp_path / "new" / "c.png").is_file()


@pytest.mark.parametrize("output", ["noextension", "x.bmp", "x.gif"])
def test_recolor_refuses_an_output_it_cannot_write_before_encoding(tmp_path, capsys, output):
    _photo(tmp_path)
    ir = tmp_path / "ir"
    assert cli.main(["recolor", str(tmp_path / "c.png"), "-o", str(tmp_path / output), "--ir", str(ir)]) == 2
    err = capsys.readouterr().err
    assert "encoded" not in err and err.strip().count("\n") == 0, err
    assert not ir.exists() or not any(ir.iterdir())  # nothing encoded


@pytest.mark.parametrize("spelling", ["same", "trailing slash", "dot", "symlink"])
def test_a_folder_run_into_its_own_folder_under_the_same_names_is_refused_up_front(tmp_path, capsys, spelling):
    """``-o`` the input folder, each output named as its photo: nothing could be written, so the
    run is refused in one line, exit 2, before any work: no manifest left among the photos."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a", "b"):
        varcolor.write_image(photos / f"{name}.png", np.linspace(0.2, 0.8, 16 * 16).reshape(16, 16))
        strokes = np.zeros((16, 16, 3), np.uint8)
        strokes[2:5, 2:5] = (200, 60, 50)
        varcolor.write_image(photos / f"{name}_mask.png", strokes)
    before = {path.name: path.read_bytes() for path in photos.iterdir()}
    (tmp_path / "link").symlink_to(photos)
    output = {"same": str(photos), "trailing slash": f"{photos}/", "dot": f"{photos}/./", "symlink": f"{tmp_path}/link"}
    output = output[spelling]
    assert cli.main(["colorize", str(photos), "--mask", "-o", output]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "refusing to overwrite an input" in err
    assert {path.name: path.read_bytes() for path in photos.iterdir()} == before  # nothing written, nothing lost
    # Into its own folder under other names (another extension), the run goes on as ever.
    assert cli.main(["colorize", str(photos), "--mask", "-o", str(photos), "--ext", ".tif", "-q"]) == 0
    assert (photos / "a.tif").is_file() and (photos / "b.tif").is_file()


def test_a_photo_given_as_its_own_output_and_a_jpeg_map_are_said_as_they_are(tmp_path, capsys):
    """One photo with ``-o`` its own path was told of "the output folder is the input folder";
    a ``.jpg`` confidence map of JPEG's 8 bits, not of what a map may be."""
    _pair(tmp_path)
    before = (tmp_path / "p.png").read_bytes()
    assert (
        cli.main(
            ["colorize", str(tmp_path / "p.png"), "--mask", str(tmp_path / "s.png"), "-o", str(tmp_path / "p.png")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the output is the input itself" in err and "folder" not in err, err
    assert (tmp_path / "p.png").read_bytes() == before
    argv = ["colorize", str(tmp_path / "p.png"), "--mask", str(tmp_path / "s.png"), "-o", str(tmp_path / "o.png")]
    assert cli.main([*argv, "--confidence-map", str(tmp_path / "map.jpg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give .png, .tif" in err and not (tmp_path / "o.png").exists(), err
