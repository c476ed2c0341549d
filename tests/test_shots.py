"""A clip's shots and the frame each is keyed on for a film coloured from stills
(:mod:`varcolor.video.shots`, :func:`varcolor.app.reference.film_score`)."""

import numpy as np
import pytest
from skimage import data, transform

import varcolor
from varcolor.color import rgb_to_lab, same_lightness_gray, to_gray
from varcolor.reading.matching import signature
from varcolor.video.shots import Shot, find_shots

from .conftest import run


def _small(photo: np.ndarray, height: int = 240) -> np.ndarray:
    scale = height / photo.shape[0]
    return np.clip(transform.rescale(photo / 255.0, scale, channel_axis=2, anti_aliasing=True), 0, 1)


def _pan(photo: np.ndarray, frames: int, shift: int = 4, height: int = 128, width: int = 176, hold: int = 99):
    """Frames of a pan across ``photo``, the camera held still from frame ``hold`` on."""
    top = (photo.shape[0] - height) // 2
    return [photo[top : top + height, min(k, hold) * shift : min(k, hold) * shift + width] for k in range(frames)]


@pytest.fixture(scope="module")
def film():
    """Two shots: a pan across the astronaut (frames 0-11), then one across the coffee (12-23)."""
    return _pan(_small(data.astronaut()), 12) + _pan(_small(data.coffee()), 12, hold=6)


def test_shots_are_cut_where_the_scene_changes_and_keyed_on_the_frames_scored():
    film = _pan(_small(data.astronaut()), 12) + _pan(_small(data.coffee()), 12)  # every frame its own
    grays = [to_gray(frame) for frame in film]
    scored = []

    def score(gray):  # the frames scored are each shot's first and every 5th after it
        index = next(k for k, g in enumerate(grays) if np.array_equal(g, gray))
        scored.append(index)
        return {5: 3.0, 10: 7.0, 17: 1.0}.get(index, 0.0)

    shots = find_shots(film, score, step=5)
    assert shots == [Shot(0, 12, (5, 10), 7.0), Shot(12, 24, (17,), 1.0)]
    assert scored == [0, 5, 10, 12, 17, 22]
    # nothing scored above 0: the shot's first frame; no score at all: the same
    assert [s.keys for s in find_shots(film, lambda gray: 0.0)] == [(0,), (12,)]
    assert [(s.start, s.stop, s.keys) for s in find_shots(iter(film))] == [(0, 12, (0,)), (12, 24, (12,))]
    assert find_shots([]) == []


def test_a_shot_is_keyed_on_the_frames_its_still_verifies(film):
    """A still of the second shot's frame 20 (in colour): that shot is keyed where it verifies
    (candidates every 4 frames: 12, 16, 20; the pan moves 4 pixels a frame), the first shot, which
    no still matches, on its first frame alone."""
    from varcolor.app.reference import film_score

    shots = find_shots(film, film_score((signature(film[20]),)), step=4)
    assert shots[0].keys == (0,) and shots[0].score == 0
    assert 20 in shots[1].keys and set(shots[1].keys) <= {12, 16, 20} and shots[1].score >= 10


@pytest.mark.slow  # 24 frames solved: about 20 s on a quiet machine
def test_a_film_of_two_shots_takes_each_shots_colour_from_its_still(tmp_path, capsys, film):
    """Stills of the middle of each shot, under names that say nothing: each shot is coloured
    (> 3 dB over the gray image on every frame but the stills' own), and where the camera holds
    still (frames 18-23) so does the colour."""
    from varcolor.video import open_clip, write_clip

    write_clip(tmp_path / "gray.mkv", [np.repeat(same_lightness_gray(f)[..., None], 3, 2) for f in film], fps=10,
               codec="lossless")  # fmt: skip
    (tmp_path / "stills").mkdir()
    varcolor.write_image(tmp_path / "stills" / "b.png", film[6])
    varcolor.write_image(tmp_path / "stills" / "a.png", film[18])
    code, _, err = run(
        capsys, "colorize", tmp_path / "gray.mkv", "--reference", tmp_path / "stills", "-o", tmp_path / "out.mkv",
        "--codec", "lossless", "-q",
    )  # fmt: skip
    assert code == 0, err
    out = list(open_clip(tmp_path / "out.mkv").frames())
    gains = {
        k: varcolor.metrics.psnr(out[k], film[k])
        - varcolor.metrics.psnr(np.repeat(same_lightness_gray(film[k])[..., None], 3, axis=2), film[k])
        for k in range(len(film))
        if k not in (6, 18)
    }
    assert min(gains.values()) > 3.0, gains
    held = [rgb_to_lab(frame)[..., 1:] for frame in out[18:]]
    assert max(np.hypot(*(b - a).transpose(2, 0, 1)).mean() for a, b in zip(held, held[1:])) < 1.0
