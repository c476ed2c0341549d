"""What a ``--reference`` run reads (varcolor.app.reference, varcolor.sources.reference): each pool
photo's header opened and its signature made once, when the run is planned, and carried in the
jobs' plans; a job decodes the photos its match wants, each once, and describes none of them
again; one photo for one image is decoded once."""

import numpy as np
import pytest
from skimage import data, transform

import varcolor
from varcolor.color import same_lightness_gray

from ..conftest import run

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)


def _small(photo: np.ndarray, height: int = 200) -> np.ndarray:
    scale = height / photo.shape[0]
    return np.clip(transform.rescale(photo / 255.0, scale, channel_axis=2, anti_aliasing=True), 0, 1)


def _pair(photo: np.ndarray):
    """The left 75 % (the truth) and the right 75 %, turned, with another tone curve (its reference)."""
    width = int(photo.shape[1] * 0.75)
    return photo[:, :width], np.clip(transform.rotate(photo[:, -width:], 4.0, mode="reflect"), 0, 1) ** 0.8


NAMES = ("chelsea", "coffee", "astronaut")


@pytest.fixture(scope="module")
def photos():
    return {name: _small(getattr(data, name)()) for name in (*NAMES, "rocket")}


@pytest.mark.slow
def test_a_pool_is_described_once_and_each_job_decodes_only_its_matches(tmp_path, capsys, photos, reads):
    """Three gray photos, a pool of their four references (one a distractor). Before, each pool
    photo's header was opened 4 times at planning and 3 more in each job that read it (7 for a
    matched one), and each job described again the target and every photo it matched (13
    signatures, 15 checks)."""
    for name in NAMES:
        truth, reference = _pair(photos[name])
        varcolor.write_image(tmp_path / "in" / f"{name}.png", same_lightness_gray(truth))
        varcolor.write_image(tmp_path / "pool" / f"ref_{name}.png", reference)
    varcolor.write_image(tmp_path / "pool" / "other.png", photos["rocket"])
    code, _, err = run(capsys, "colorize", tmp_path / "in", "--reference", tmp_path / "pool", "-o", tmp_path / "out")
    assert code == 0, err
    for name in NAMES:
        assert f"ref_{name}.png 100 %" in err
        assert reads.decoded[str(tmp_path / "in" / f"{name}.png")] == 1
        # described at planning, then read by the one job it colours; its header opened once for both
        assert reads.of(tmp_path / "pool" / f"ref_{name}.png") == (2, 2)
    assert reads.of(tmp_path / "pool" / "other.png") == (1, 2)  # described, never matched in full
    # 4 pool photos and 3 targets described, each once; each target checked against each photo once
    assert reads.described == {"signature": 4 + 3, "verified": 3 * 4}


def test_one_reference_photo_is_decoded_once_and_its_header_opened_once(tmp_path, capsys, photos, reads):
    """One photo for one image: checked when the run is planned, the job takes the pixels read
    then. Before, its header was opened 3 times (twice for its size)."""
    truth, reference = _pair(photos["chelsea"])
    varcolor.write_image(tmp_path / "t.png", same_lightness_gray(truth))
    varcolor.write_image(tmp_path / "r.png", reference)
    code, _, err = run(
        capsys, "colorize", tmp_path / "t.png", "--reference", tmp_path / "r.png", "-o", tmp_path / "o.png"
    )
    assert code == 0, err
    assert reads.of(tmp_path / "r.png") == (1, 2)
    assert reads.decoded[str(tmp_path / "t.png")] == 1
