"""Video on the multi-scale engine (varcolor.video.coarse): the space-time system on the still
engine's block grid, each frame lifted and corrected as a still is. A static clip gives the still
engine's frames, a moving object's colour follows it, a run split in two (as chunks are) gives the
frames of one run, and ``levin`` is still the exact full-resolution solve."""

import numpy as np
import pytest
import skimage.data

import varcolor
from varcolor.color import to_gray
from varcolor.methods import build_options
from varcolor.video import colorize_video
from varcolor.video.chunks import colorize_chunked
from varcolor.video.coarse import coarse_motion, coarse_rows
from varcolor.video.flow import Motion

from ..conftest import run
from .test_video import pan, strokes, write_cues
from .test_video_chunks import LEVEL, frames_of, gray_clip

# not a first run's array code; Levin's propagation, unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("kernels", "unrestrained")


FACTOR = 4  # the frames here are small: auto would pick 1 (the exact solve) below 256×256 pixels


def static_clip():
    rgb = pan(frames=1)[0]
    return [rgb] * 8, strokes(rgb)


def test_a_static_clip_is_the_still_engine_frame_by_frame():
    frames, cues = static_clip()
    still = varcolor.colorize(to_gray(frames[0]), cues, factor=FACTOR)
    # Carried as hard cues, the keyframe's cues are every frame's: the still engine's result is
    # then a solution of each frame's space-time rows (its temporal neighbours are its own pixels).
    out = list(colorize_video(frames, {0: cues}, factor=FACTOR, carry_weight=np.inf))
    assert len(out) == 8
    for frame in out:
        assert frame.info["engine"] == "levin-multiscale" and frame.info["factor"] == FACTOR
        assert frame.state.shape == (16, 24, 2)  # the grid of 4×4 blocks of the 64×96 frames
        assert np.abs(frame.ab - still.ab).max() < 1e-6
        assert np.abs(frame.rgb - still.rgb).max() < 1e-6
    assert out[0].info["tiles"] > 0 and out[5].info["tiles"] > 0  # every frame corrected near its cues


def moving_square(frames=8, step=3):
    """A bright textured 32×28 block moving ``step`` pixels right a frame over a darker textured
    background, 64×96 gray frames; and its left column in each frame."""
    texture = skimage.data.camera()[100:164, 100:196] / 255.0
    patch = skimage.data.coffee()[200:228, 250:282, 1] / 255.0
    clip, lefts = [], []
    for k in range(frames):
        gray = 0.15 + 0.25 * texture
        left = 8 + step * k
        gray[18:46, left : left + 32] = 0.65 + 0.3 * patch
        clip.append(gray)
        lefts.append(left)
    return clip, lefts


def test_a_moving_objects_colour_follows_it():
    clip, lefts = moving_square()
    mask = np.zeros(clip[0].shape, bool)
    ab = np.zeros(clip[0].shape + (2,))
    centre = lefts[0] + 16
    mask[22:42, centre - 1 : centre + 2] = True  # a red stroke down the square's middle
    ab[mask] = (60.0, 40.0)
    background = np.zeros_like(mask)
    background[4:7, 50:90] = background[54:57, 10:90] = background[10:50, 80:83] = True
    mask |= background
    ab[background] = (-10.0, -50.0)  # blue strokes on the background
    out = list(colorize_video(clip, {0: varcolor.Cues(mask, ab)}, factor=FACTOR))
    assert out[-1].info["factor"] == FACTOR and out[-1].state.shape == (16, 24, 2)  # on the block grid
    last, left = out[-1].ab, lefts[-1]
    # More than the engine's margin (8 px) from where the stroke was carried: coloured by the
    # coarse space-time solve and the lift alone.
    carried = left + 16
    far = np.concatenate([last[22:42, left + 2 : carried - 9], last[22:42, carried + 10 : left + 30]], axis=1)
    assert far.shape[1] == 9
    assert np.all(far[..., 0] > 30) and np.all(far[..., 1] > 15)  # the stroke: (60, 40)
    # Where the square was at the keyframe, the background now shows: blue.
    behind = last[22:42, lefts[0] + 2 : left - 2]
    assert np.all(behind[..., 1] < -25)


def test_a_run_split_in_two_is_the_run_in_one():
    frames = pan(frames=8)
    cues = {0: strokes(frames[0], seed=1), 6: strokes(frames[6], seed=2)}
    whole = list(colorize_video(frames, cues, factor=FACTOR))
    first = list(colorize_video(frames, cues, factor=FACTOR, solve=(0, 3)))
    second = list(colorize_video(frames, cues, factor=FACTOR, solve=(3, 8), before=first[-1].state))
    assert [f.index for f in first + second] == list(range(8))
    for one, split in zip(whole, first + second):
        assert np.abs(one.ab - split.ab).max() < 1e-9


def test_chunked_equals_streamed_on_the_block_grid(tmp_path):
    frames = pan(frames=9)
    clip = gray_clip(tmp_path, frames)
    cues = {0: strokes(frames[0], seed=1), 7: strokes(frames[7], seed=2)}
    options = build_options(factor=FACTOR)
    made = list(colorize_video(clip.frames(), cues, options))
    assert all(f.info["factor"] == FACTOR for f in made)
    streamed = [f.rgb for f in made]
    colorize_chunked(clip, cues, options, tmp_path / "chunked.mkv", chunk_frames=3, codec="lossless")
    assert np.abs(frames_of(tmp_path / "chunked.mkv") - np.array(streamed)).max() <= LEVEL


def test_levin_is_the_exact_full_resolution_solve():
    frames, cues = static_clip()
    still = varcolor.colorize(to_gray(frames[0]), cues, method="levin", solver="direct")
    out = list(colorize_video(frames, {0: cues}, method="levin", carry_weight=np.inf))
    for frame in out:
        assert frame.info["engine"] == "levin" and frame.state.shape == frame.ab.shape
        assert np.abs(frame.ab - still.ab).max() < 1e-6
    # The block grid's result differs from it (the choice is real).
    coarse = next(iter(colorize_video(frames[:1], {0: cues}, factor=FACTOR)))
    assert np.abs(coarse.ab - still.ab).max() > 1


def test_coarse_motion_and_rows_average_their_blocks():
    # Every pixel moves 5 right and 2 down: blocks of 4 move by about one block to the right.
    height, width = 8, 16
    y, x = np.mgrid[0:height, 0:width]
    target = np.where((y + 2 < height) & (x + 5 < width), (y + 2) * width + x + 5, -1)
    found = coarse_motion(Motion(target, target), 4).forward
    assert found[0, 0] == 0 * 4 + 1  # block (0, 0): mean move (2, 5) px = (0.5, 1.25) blocks → (0, 1)
    assert found[1, 3] == -1  # its pixels leave the frame
    hard = np.zeros((height, width), bool)
    hard[0, 0] = True
    rhs = np.zeros((height, width, 2))
    rhs[0, 0] = (8.0, 4.0)
    weight = np.zeros((height, width))
    weight[:, 4:8] = 0.5
    rhs[:, 4:8] = 0.5 * np.array([10.0, -6.0])
    held, values, beta = coarse_rows(hard, rhs, weight, 4)
    assert held.tolist() == [[True, False, False, False], [False] * 4]
    assert values[0, 0].tolist() == [8.0, 4.0] and beta[0, 0] == 0
    assert beta[0, 1] == 0.5 and values[0, 1].tolist() == [5.0, -3.0]  # β c p over β c: the guess


def test_the_command_says_which_engine_ran(tmp_path, capsys):
    frames = pan(frames=4)
    gray_clip(tmp_path, frames)
    write_cues(tmp_path / "cues", frames)
    said = {}
    for flags in (["--factor", "4"], ["--method", "levin"]):
        argv = ["colorize", tmp_path / "gray.mkv", "--cues", tmp_path / "cues", "-o", tmp_path / "out.mkv"]
        code, _, err = run(capsys, *argv, "--codec", "lossless", "--overwrite", *flags)
        assert code == 0, err
        said[flags[1]] = err.strip().splitlines()[-1]
    assert said["4"].endswith("(levin-multiscale on 4×4 blocks)")
    assert said["levin"].endswith("(levin at full resolution)")
