"""A clip through the public entry (``varcolor.app.run_folder`` / ``colorize_clip``, issue 109's one
driver): the same pixels and confidence maps as ``varcolor colorize CLIP``, streamed and in
chunks, and the same refusals, one line, before any work."""

import numpy as np
import pytest

from varcolor.app import ClipOptions, RunOptions, run_folder
from varcolor.errors import InputError
from varcolor.io import read_image, write_image
from varcolor.video import open_clip

from ..conftest import run
from ..video.test_video import write_panning_clip

FRAMES = 6


@pytest.fixture
def scene(tmp_path):
    """A lossless gray clip of two things panning, and its cue folder (a stroke on frame 0)."""
    write_panning_clip(tmp_path, FRAMES)
    return tmp_path


def frames_of(path):
    return np.array(list(open_clip(path).frames()))


def maps_of(folder):
    names = sorted(p.name for p in folder.iterdir())
    return names, np.array([read_image(folder / name) for name in names])


@pytest.mark.parametrize("flags, keywords", [((), {}), (("--chunk-frames", "4"), {"chunk_frames": 4})])
def test_the_entry_colours_a_clip_as_the_command_line_does(scene, capsys, flags, keywords):
    code, _, err = run(
        capsys, "colorize", scene / "gray.mkv", "--cues", scene / "cues", "-o", scene / "cli.mkv",
        "--codec", "lossless", "--confidence-map", scene / "cli_maps", "-q", *flags,
    )  # fmt: skip
    assert code == 0, err
    # the cue folder as cues= and cue_path=, or by name (keyframes=, as run_request's JSON gives it)
    cued = {"keyframes": scene / "cues"} if keywords else {"cues": "keyframes", "cue_path": scene / "cues"}
    rows = run_folder(
        "colorize", scene / "gray.mkv", scene / "api.mkv", clip=ClipOptions(codec="lossless"),
        run=RunOptions(confidence_map=str(scene / "api_maps"), quiet=True), **cued, **keywords,
    )  # fmt: skip
    assert [(row["status"], row["frames"]) for row in rows] == [("done", FRAMES)]
    cli, api = frames_of(scene / "cli.mkv"), frames_of(scene / "api.mkv")
    assert cli.shape == (FRAMES, 72, 96, 3) and np.array_equal(cli, api)
    assert np.abs(cli[..., 0] - cli[..., 1]).max() > 0.05  # coloured, not gray
    (cli_names, cli_maps), (api_names, api_maps) = maps_of(scene / "cli_maps"), maps_of(scene / "api_maps")
    assert cli_names == api_names and len(cli_names) == FRAMES and np.array_equal(cli_maps, api_maps)


@pytest.mark.parametrize(
    "flags, keywords, message",
    [
        (("--window", "0"), {"window": 0}, "--window must be at least 1, got 0"),
        (("--bits", "16"), {"bits": 16}, "--bits: an option of photos"),
        (("--marked", "m.png"), {"marked": "m.png"}, "--marked: a clip takes its cues as a folder"),
    ],
)
def test_the_entry_refuses_what_the_command_line_refuses(scene, capsys, flags, keywords, message):
    code, _, err = run(capsys, "colorize", scene / "gray.mkv", "-o", scene / "cli.mkv", *flags)
    assert code == 2 and message in err and err.count("\n") <= 1, err
    with pytest.raises(InputError, match=message):
        run_folder("colorize", scene / "gray.mkv", scene / "api.mkv", **keywords)
    assert sorted(p.name for p in scene.iterdir()) == ["cues", "gray.mkv"]  # nothing written


def test_a_photo_refuses_the_clip_options(tmp_path):
    write_image(tmp_path / "a.png", np.full((8, 8), 0.5))
    for given in ({"clip": ClipOptions()}, {"window": 2}):
        with pytest.raises(InputError, match="an option of clips"):
            run_folder("colorize", tmp_path / "a.png", tmp_path / "b.png", **given)


def test_a_clip_given_cues_of_no_kind_is_refused(tmp_path):
    clip = tmp_path / "c.mkv"
    clip.write_bytes(b"")  # refused before the clip is opened
    with pytest.raises(InputError, match="unknown cues 'stroke'"):
        run_folder("colorize", clip, tmp_path / "o.mkv", cues="stroke")
    assert not (tmp_path / "o.mkv").exists()


def test_a_clip_written_to_an_image_name_is_refused_before_any_frame(scene, capsys):
    """``-o out.png`` made a folder named out.png holding the frames: refused in one line, as
    from Python, nothing written."""
    code, _, err = run(capsys, "colorize", scene / "gray.mkv", "--cues", scene / "cues", "-o", scene / "out.png")
    assert code == 2 and "a clip is written as a video file" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(InputError, match="not a .tif image"):
        run_folder("colorize", scene / "gray.mkv", scene / "out.tif", cues="keyframes", cue_path=scene / "cues")
    assert not (scene / "out.png").exists() and not (scene / "out.tif").exists()


@pytest.mark.parametrize("kind", ["pipe", "link to a pipe", "folder", "exists", "frames holding the cues"])
def test_an_output_that_cannot_be_published_is_refused_before_any_cue_is_read(scene, capsys, monkeypatch, kind):
    """A pipe named as the clip, a clip that exists without --overwrite, a frame folder holding
    the run's cues: refused in one line before the keyframes' cues are read (with a reference,
    before its matching: half a minute on a real clip)."""
    import os

    import varcolor.video

    def reading(*args, **kwargs):
        raise AssertionError("the cues were read before the output was checked")

    monkeypatch.setattr(varcolor.video, "read_cue_folder", reading)
    out, flags = scene / "out.mkv", ["--codec", "lossless"]
    if kind in ("pipe", "link to a pipe"):
        os.mkfifo(scene / "pipe")
        os.symlink(scene / "pipe", out) if kind == "link to a pipe" else os.replace(scene / "pipe", out)
        flags.append("--overwrite")
    elif kind == "folder":
        out.mkdir()
        flags.append("--overwrite")
    elif kind == "exists":
        out.write_bytes(b"an earlier clip")
    else:
        out, flags = scene / "cues", ["--overwrite"]  # an earlier run's frames beside the cues
        write_image(out / "frame_000000.png", np.full((72, 96), 0.5))
    code, _, err = run(capsys, "colorize", scene / "gray.mkv", "--cues", scene / "cues", "-o", out, *flags)
    pipe = "a device, pipe or socket"
    expected = {"pipe": pipe, "link to a pipe": pipe, "folder": "a folder is in the way", "exists": "exists; kept"}
    expected["frames holding the cues"] = "holds"
    assert code == 2 and expected[kind] in err and len(err.strip().splitlines()) == 1, err
    if kind == "exists":
        assert out.read_bytes() == b"an earlier clip"
