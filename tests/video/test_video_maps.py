"""A clip's confidence maps (``varcolor colorize CLIP --confidence-map DIR``, varcolor.video.maps):
one 8-bit gray PNG per frame, named by its index in the clip, each the frame's
``VideoFrame.confidence``; a chunked run interrupted and resumed (a chunk redone) gives the
streamed run's maps; what cannot be written is refused before any work, one line, exit 2."""

import os
import time

import numpy as np
import pytest
from PIL import Image

from varcolor.io import read_image, write_image
from varcolor.io.atomic import _temporary_beside
from varcolor.video import colorize_video, open_clip, read_cue_folder
from varcolor.video.chunks import map_file, work_folder
from varcolor.video.io import frame_name

from ..conftest import run
from .test_video import write_panning_clip
from .test_video_chunks import interrupt_after

FRAMES = 8
#: A map against the frame's confidence: 8 bits, rounded to the nearest level.
LEVEL = 0.5 / 255 + 1e-6  # (half a level, and the float32 confidence's own rounding)


@pytest.fixture
def scene(tmp_path):
    """A mid-gray thing beside a light one, panning; a red stroke along the first on frame 0 (a
    cue file): a lossless gray clip and its cue folder."""
    write_panning_clip(tmp_path, FRAMES)
    return tmp_path


def argv(folder, output="out.mkv"):
    return ("colorize", folder / "gray.mkv", "--cues", folder / "cues", "-o", folder / output, "--codec", "lossless")


def maps_of(folder):
    names = sorted(p.name for p in folder.iterdir())
    return names, np.array([read_image(folder / name) for name in names])


def test_a_clips_maps_are_its_frames_confidence(scene, capsys):
    code, _, err = run(capsys, *argv(scene), "--confidence-map", scene / "maps", "-q")
    assert code == 0, err
    names, maps = maps_of(scene / "maps")
    assert names == [frame_name(k) for k in range(FRAMES)]  # frame_000000.png…, one per frame, nothing else
    with Image.open(scene / "maps" / names[0]) as image:
        assert image.mode == "L"  # 8-bit gray
    clip = open_clip(scene / "gray.mkv")
    cues = read_cue_folder(scene / "cues", clip.frame_count, clip.shape)
    known = np.array([frame.confidence for frame in colorize_video(clip.frames(), cues)])
    assert maps.shape == known.shape and np.abs(maps - known).max() <= LEVEL
    for k, frame in enumerate(maps):
        edge = 70 - 2 * k  # the light thing's first column in frame k
        assert frame[:, : edge - 12].mean() > frame[:, edge + 12 :].mean() + 0.5, k  # the stroked thing's known


@pytest.mark.slow
def test_chunked_interrupted_and_resumed_gives_the_streamed_maps(scene, capsys, monkeypatch):
    code, _, err = run(capsys, *argv(scene, "streamed.mkv"), "--confidence-map", scene / "streamed", "-q")
    assert code == 0, err
    streamed = maps_of(scene / "streamed")
    chunked = (*argv(scene), "--confidence-map", scene / "maps", "--chunk-frames", "2")
    interrupt_after(monkeypatch, 2)
    code, _, err = run(capsys, *chunked)
    assert code == 130, err
    monkeypatch.undo()
    assert not (scene / "maps").exists()  # nothing is published before the join
    work = work_folder(scene / "out.mkv")
    assert sorted(p.name for p in work.glob("confidence-*.png")) == [map_file(k) for k in range(4)]
    (work / map_file(3)).unlink()  # its chunk (frames 2 and 3) is redone, and its maps with it
    code, _, err = run(capsys, *chunked, "--resume")
    assert code == 0, err
    assert "(1 kept from an earlier run)" in err and f"{map_file(3)} is missing; redone" in err
    names, maps = maps_of(scene / "maps")
    assert names == streamed[0] and np.abs(maps - streamed[1]).max() <= 1 / 255 + 1e-9
    assert not work.exists() and (scene / "out.mkv").exists()


@pytest.mark.slow
def test_a_rerun_replaces_the_maps_and_a_failed_run_leaves_none(scene, capsys, monkeypatch):
    from varcolor.app import clip as app_clip

    maps = scene / "maps"
    maps.mkdir()
    (maps / "notes.txt").write_text("mine")
    write_image(maps / frame_name(2), np.zeros((4, 4)))  # an earlier run's, or anyone's
    write_image(maps / frame_name(99), np.zeros((4, 4)))  # past this clip's last frame
    tmp, fd = _temporary_beside(maps / frame_name(0))  # a killed run's temporary file
    os.close(fd)
    os.utime(tmp, (time.time() - 3600,) * 2)
    # A map past the clip's last frame is never this run's to delete, whatever the flags (it was).
    for flags in ([], ["--overwrite"]):
        code, _, err = run(capsys, *argv(scene), "--confidence-map", maps, "-q", *flags)
        assert code == 2 and "past this clip's last frame" in err and frame_name(99) in err, err
        assert err.count("\n") == 1 and (maps / frame_name(99)).exists() and not (scene / "out.mkv").exists()
    (maps / frame_name(99)).rename(scene / frame_name(99))
    code, _, err = run(capsys, *argv(scene), "--confidence-map", maps, "-q")
    assert code == 2 and "--confidence-map another folder" in err and "--overwrite" in err, err
    assert err.count("\n") == 1 and not (scene / "out.mkv").exists()
    real = app_clip._colorize_video

    def failing(*args, **keywords):
        for k, frame in enumerate(real(*args, **keywords)):
            if k == 4:
                raise KeyboardInterrupt
            yield frame

    monkeypatch.setattr(app_clip, "_colorize_video", failing)
    code, _, err = run(capsys, *argv(scene), "--confidence-map", maps, "--overwrite", "-q")
    assert code == 130
    # the maps it added went with its output; the one it replaced is its own now; the rest as they were
    assert sorted(p.name for p in maps.iterdir()) == [frame_name(2), "notes.txt"]
    assert read_image(maps / frame_name(2)).shape == (72, 96)
    monkeypatch.undo()
    write_image(maps / "frame_1.png", np.zeros((4, 4)))  # no name varcolor writes: not an earlier map
    code, _, err = run(capsys, *argv(scene), "--confidence-map", maps, "--overwrite", "-q")
    assert code == 0, err
    kept = [frame_name(k) for k in range(FRAMES)] + ["frame_1.png", "notes.txt"]
    assert sorted(p.name for p in maps.iterdir()) == kept


@pytest.mark.parametrize(
    "make, given, extra, message",
    [
        (lambda f: None, "maps", ["--restraint", "off"], "unrestrained (--restraint off)"),
        (lambda f: None, "maps", ["--method", "levin"], "unrestrained (--method levin)"),
        (lambda f: None, "gray.mkv", [], "is the input clip"),
        (lambda f: None, "out.mkv", [], "is the output"),
        (lambda f: (f / "maps").write_text("x"), "maps", [], "is a file"),
        (lambda f: None, "map.png", [], "not an image"),
        (lambda f: write_image(f / "maps" / frame_name(3), np.zeros((4, 4))), "maps", [], "holds maps already"),
        (lambda f: (f / "maps" / frame_name(3)).mkdir(parents=True), "maps", ["--overwrite"], "a folder where a map"),
        (lambda f: None, ".out.mkv.varcolor-chunks/maps", ["--chunk-frames", "2"], "chunks' work folder"),
        # under a file: refused once the frames were being solved
        (lambda f: (f / "note").write_text("x"), "note/maps", [], "a file, not a folder"),
    ],
)
def test_what_cannot_be_written_is_refused_before_any_work(scene, capsys, monkeypatch, make, given, extra, message):
    from varcolor.app import clip as app_clip
    from varcolor.video import chunks

    def no_work(*args, **keywords):
        raise AssertionError("refused after the work began")

    monkeypatch.setattr(app_clip, "_colorize_video", no_work)
    monkeypatch.setattr(chunks, "scan_cuts", no_work)
    make(scene)
    before = sorted(p.relative_to(scene) for p in scene.rglob("*"))
    code, _, err = run(capsys, *argv(scene), "--confidence-map", scene / given, *extra)
    assert code == 2 and message in err and "--confidence-map" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.relative_to(scene) for p in scene.rglob("*")) == before  # nothing written, nothing removed


def test_an_input_where_a_map_would_go_is_refused_even_with_overwrite(scene, capsys):
    frames = open_clip(scene / "gray.mkv").frames()
    for k, frame in enumerate(frames):
        write_image(scene / "in" / frame_name(k), frame)  # a clip given as a folder of frames
    code, _, err = run(
        capsys, "colorize", scene / "in", "--cues", scene / "cues", "-o", scene / "o.mkv", "--codec", "lossless",
        "--confidence-map", scene / "in", "--overwrite",
    )  # fmt: skip
    assert code == 2 and "--confidence-map is the input clip" in err, err
    (scene / "maps").mkdir()
    os.link(scene / "cues" / "0000_mask.png", scene / "maps" / frame_name(0))  # a cue file under a map's name
    code, _, err = run(capsys, *argv(scene), "--confidence-map", scene / "maps", "--overwrite")
    assert code == 2 and "an input of this run" in err and err.count("\n") == 1, err
    assert read_image(scene / "maps" / frame_name(0)).shape == (72, 96, 3)  # the cue file, untouched


def test_a_rerun_right_after_a_kill_removes_its_temporary_files(scene, capsys):
    """A run killed while writing left its output's and a map's temporary files (0 bytes, hidden);
    a rerun at once kept them, as younger than a minute. No live run holds their locks: they go."""
    maps = scene / "maps"
    maps.mkdir()
    left = []
    for path in (scene / "out.mkv", maps / frame_name(0)):
        tmp, fd = _temporary_beside(path)
        os.close(fd)  # the killed process's lock is gone with it
        left.append(tmp)
    held, fd = _temporary_beside(scene / "other.mkv")  # a live run's, beside: its lock held
    try:
        code, _, err = run(capsys, *argv(scene), "--confidence-map", maps, "-q")
        assert code == 0, err
        assert not any(tmp.exists() for tmp in left) and held.exists()
    finally:
        os.close(fd)


@pytest.mark.parametrize("chunked", [False, True])
def test_files_named_as_maps_past_the_clip_are_never_deleted(scene, capsys, chunked):
    """A folder of the user's own frame_NNNNNN.png files given as the maps folder, with --overwrite:
    those past the clip's last frame were deleted as an earlier run's maps, exit 0. Refused now,
    before any work, and nothing in the folder touched."""
    maps = scene / "maps"
    maps.mkdir()
    for k in range(FRAMES + 3):
        write_image(maps / frame_name(k), np.full((8, 8, 3), 0.2 + 0.02 * k))  # someone's frames
    before = {p.name: p.read_bytes() for p in maps.iterdir()}
    extra = ["--chunk-frames", "4"] if chunked else []
    for flags in (["--overwrite"], []):  # (without it too: not "use --overwrite", which would not help)
        code, _, err = run(capsys, *argv(scene), "--confidence-map", maps, "-q", *extra, *flags)
        assert code == 2 and "past this clip's last frame" in err and err.count("\n") == 1, err
    assert {p.name: p.read_bytes() for p in maps.iterdir()} == before and not (scene / "out.mkv").exists()
