"""References for series: a pool of photos (each target coloured from those that match it), a
chain (coloured photos colour the rest of a series), and a clip coloured from stills."""

import json

import numpy as np
import pytest
from skimage import data, transform

import varcolor
from varcolor.color import rgb_to_lab, same_lightness_gray
from varcolor.reference import match_pool, signature

from .conftest import run


def _small(photo: np.ndarray, height: int = 240) -> np.ndarray:
    """``photo`` (uint8) in [0, 1], ``height`` rows high: the tests stay fast."""
    scale = height / photo.shape[0]
    return np.clip(transform.rescale(photo / 255.0, scale, channel_axis=2, anti_aliasing=True), 0, 1)


def _crop_pair(photo: np.ndarray, angle: float = 4.0):
    """The left 75 % (the truth) and the right 75 %, turned, with another tone curve (the reference)."""
    width = int(photo.shape[1] * 0.75)
    reference = np.clip(transform.rotate(photo[:, -width:], angle, mode="reflect"), 0, 1) ** 0.8
    return photo[:, :width], reference


@pytest.fixture(scope="module")
def photos():
    return {name: _small(getattr(data, name)()) for name in ("chelsea", "coffee", "astronaut", "rocket", "retina")}


def test_a_pool_uses_the_true_reference_over_distractors(photos):
    truth, reference = _crop_pair(photos["coffee"])
    pool = [photos["chelsea"], photos["astronaut"], reference, photos["rocket"], photos["retina"]]
    gray = same_lightness_gray(truth)
    mask, ab, confidence, shares = match_pool(gray, pool)
    assert shares and shares[0][0] == 2  # the true reference, first
    assert {index for index, _ in shares} == {2}  # no distractor gave a cue
    assert shares[0][1] == mask.sum()
    error = np.hypot(*(ab[mask] - rgb_to_lab(truth)[..., 1:][mask]).T)
    assert np.median(error) < 6.0
    # the same as the true reference alone (the pool adds nothing wrong, takes nothing away)
    alone = varcolor.Cues.from_reference(gray, reference)
    assert np.array_equal(alone.mask, mask)


def test_a_pool_reads_only_the_references_it_matches(photos):
    # Ranked by signatures: the distractors are never read in full.
    truth, reference = _crop_pair(photos["chelsea"])
    pool = [photos["coffee"], reference, photos["rocket"]]
    read = []

    def loader(i):
        def load():
            read.append(i)
            return pool[i]

        return load

    signatures = [signature(photo) for photo in pool]
    _, _, _, shares = match_pool(same_lightness_gray(truth), [loader(i) for i in range(3)], signatures=signatures)
    assert [index for index, _ in shares] == [1]
    assert read == [1]


def test_two_references_of_one_target_combine_where_they_agree(photos):
    # The left half of the target in one reference, the right half in the other: together they
    # cover it, each giving its share.
    photo = photos["astronaut"]
    truth = photo[:, 40:-40]
    left = np.clip(transform.rotate(photo[:, : photo.shape[1] // 2 + 20], 3.0, mode="reflect"), 0, 1)
    right = np.clip(transform.rotate(photo[:, photo.shape[1] // 2 - 20 :], -3.0, mode="reflect"), 0, 1) ** 0.9
    gray = same_lightness_gray(truth)
    mask, ab, _, shares = match_pool(gray, [photos["rocket"], left, right])
    assert sorted(index for index, _ in shares) == [1, 2]
    assert sum(count for _, count in shares) == mask.sum()
    columns = np.nonzero(mask)[1]
    assert np.mean(columns < truth.shape[1] / 2) > 0.25 and np.mean(columns > truth.shape[1] / 2) > 0.25
    error = np.hypot(*(ab[mask] - rgb_to_lab(truth)[..., 1:][mask]).T)
    assert np.median(error) < 6.0


def test_a_folder_of_references_named_otherwise_is_a_pool(tmp_path, capsys, photos):
    (tmp_path / "in").mkdir()
    (tmp_path / "pool").mkdir()
    for name in ("chelsea", "coffee"):
        truth, reference = _crop_pair(photos[name])
        varcolor.write_image(tmp_path / "in" / f"{name}.png", same_lightness_gray(truth))
        varcolor.write_image(tmp_path / "pool" / f"ref_{name[::-1]}.png", reference)
    varcolor.write_image(tmp_path / "pool" / "other.png", photos["rocket"])
    code, _, err = run(capsys, "colorize", tmp_path / "in", "--reference", tmp_path / "pool", "-o", tmp_path / "out")
    assert code == 0, err
    rows = {json.loads(line)["input"]: json.loads(line) for line in open(tmp_path / "out" / "varcolor-manifest.jsonl")}
    for name in ("chelsea", "coffee"):
        row = rows[str(tmp_path / "in" / f"{name}.png")]
        assert row["status"] == "done"
        assert f"ref_{name[::-1]}.png 100 %" in row["reason"]
        assert "other.png" not in row["reason"]
        assert (tmp_path / "out" / f"{name}.png").is_file()


def test_references_given_twice_are_a_pool_for_one_image(tmp_path, capsys, photos):
    truth, reference = _crop_pair(photos["chelsea"])
    varcolor.write_image(tmp_path / "t.png", same_lightness_gray(truth))
    varcolor.write_image(tmp_path / "a.png", photos["coffee"])
    varcolor.write_image(tmp_path / "b.png", reference)
    code, _, err = run(
        capsys, "colorize", tmp_path / "t.png", "--reference", tmp_path / "a.png", "--reference", tmp_path / "b.png",
        "-o", tmp_path / "out.png",
    )  # fmt: skip
    assert code == 0, err
    assert "b.png 100 %" in err
    result = varcolor.read_image(tmp_path / "out.png")
    gray = same_lightness_gray(truth)
    assert varcolor.metrics.psnr(result, truth) > varcolor.metrics.psnr(np.repeat(gray[..., None], 3, 2), truth) + 3
