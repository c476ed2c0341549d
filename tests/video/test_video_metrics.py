"""A colorized clip scored against its original (issue 96, item 4): per-frame PSNR and CIEDE2000,
flicker, warp error and CDC in the library and in ``varcolor metrics clip -r original``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import skimage.data

import varcolor
from varcolor.errors import InputError
from varcolor.video.io import write_clip
from varcolor.video.metrics import CDC_INTERVALS, STILL, cdc, score_clip

from ..conftest import run

SHIFT = 2


def pan(frames=6, shape=(48, 64)):
    image = skimage.data.astronaut()[..., :3] / 255.0
    return [image[120 : 120 + shape[0], 80 + SHIFT * k : 80 + SHIFT * k + shape[1]] for k in range(frames)]


def flickering(frames):
    """The frames with their colour pushed one way, then the other, frame by frame."""
    return [np.clip(f + (0.06 if k % 2 else -0.06) * np.array([1.0, -0.5, -0.5]), 0, 1) for k, f in enumerate(frames)]


def test_each_frame_is_scored_as_a_still_and_the_clip_as_a_whole():
    truth = pan()
    result = flickering(truth)
    scores = score_clip(result, truth)
    assert [row["frame"] for row in scores.frames] == list(range(len(truth)))
    for row, r, t in zip(scores.frames, result, truth):
        assert row["psnr"] == varcolor.metrics.psnr(r, t)
        assert row["ciede2000"] == pytest.approx(varcolor.metrics.ciede2000(r, t))
    assert "flicker" not in scores.frames[0] and "warp_error" in scores.frames[1]
    assert scores.psnr == pytest.approx(np.mean([row["psnr"] for row in scores.frames]))
    # The original scored against itself: no flicker, a warp error near 0, its own CDC.
    steady = score_clip(truth, truth)
    assert steady.flicker <= STILL and steady.warp_error < 2e-3 and steady.cdc == steady.cdc_original
    assert scores.flicker > 5 * max(steady.flicker, 0.1) and scores.warp_error > 3 * steady.warp_error
    assert scores.cdc > steady.cdc and scores.cdc_original == steady.cdc_original


def test_flicker_counts_only_where_the_original_is_still():
    # A frame whose original changes everywhere (a flash): no still pixel, no flicker counted.
    truth = [np.full((20, 24, 3), 0.3), np.full((20, 24, 3), 0.7)]
    assert np.isnan(score_clip(truth, truth).flicker)


def test_cdc_is_the_published_jensen_shannon_mean():
    # Two frames of one level each: JS divergence ln 2 between unlike ones, 0 between alike ones.
    levels = [0.2, 0.8, 0.2, 0.2, 0.8, 0.8, 0.2, 0.8, 0.2]
    frames = [np.full((4, 4, 3), level) for level in levels]
    by_interval = [
        np.mean([np.log(2) if levels[t] != levels[t + d] else 0.0 for t in range(len(levels) - d)])
        for d in CDC_INTERVALS
    ]
    assert cdc(frames) == pytest.approx(np.mean(by_interval))


def test_clips_that_do_not_match_are_refused():
    truth = pan(4)
    with pytest.raises(InputError, match="differ in length"):
        score_clip(truth, truth[:3])
    with pytest.raises(InputError, match="frame 0"):
        score_clip([f[:40] for f in truth], truth)


def test_the_command_line_scores_a_clip_against_its_original(tmp_path, capsys):
    truth = pan()
    write_clip(tmp_path / "original.mkv", truth, fps=10, codec="lossless")
    write_clip(tmp_path / "result.mkv", flickering(truth), fps=10, codec="lossless")
    code, out, err = run(
        capsys, "metrics", tmp_path / "result.mkv", "-r", tmp_path / "original.mkv", "--format", "json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [row["frame"] for row in rows] == [*range(len(truth)), "clip"]
    clip = rows[-1]
    expected = score_clip(varcolor.video.io.open_clip(tmp_path / "result.mkv").frames(), truth)
    assert clip["psnr"] == pytest.approx(expected.psnr) and clip["cdc"] == pytest.approx(expected.cdc)
    code, out, err = run(capsys, "metrics", tmp_path / "result.mkv", "-r", tmp_path / "original.mkv")
    assert code == 0 and out.splitlines()[0].startswith("| frame | psnr | ciede2000 | flicker | warp_error | cdc")
    write_clip(tmp_path / "short.mkv", truth[:3], fps=10, codec="lossless")
    code, _, err = run(capsys, "metrics", tmp_path / "result.mkv", "-r", tmp_path / "short.mkv")
    assert code == 2 and "frames" in err and err.count("\n") == 1
