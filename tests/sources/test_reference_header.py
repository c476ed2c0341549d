"""A reference photo's header read when its run is planned (varcolor.sources.reference.
ReferenceHeader), and a chain photo's ranking (Ranking): a job takes them while the file is the
one read then, and reads the file again where it changed."""

import numpy as np
import pytest

import varcolor
from varcolor.io import file_state
from varcolor.reading.matching import signature, target_signature, verified
from varcolor.sources import reference as source


def test_a_planned_header_is_taken_while_the_file_is_unchanged(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    path = tmp_path / "r.png"
    varcolor.write_image(path, rng.random((40, 48, 3)))
    header = source.read_header(path, None)
    assert (header.shape, header.bits, header.whole) == ((40, 48), 8, False)
    opened = []
    for name in ("image_shape", "image_bits"):
        original = getattr(source, name)
        monkeypatch.setattr(source, name, lambda *a, _o=original, _n=name, **k: (opened.append(_n), _o(*a, **k))[1])
    pixels = source.read_reference(path, None, (40, 48), header=header)
    assert pixels.shape == (40, 48, 3) and opened == []  # no header opened again
    # another pixel limit than the one it was checked against: read again
    assert source.read_reference(path, 10**6, (40, 48), header=header).shape == (40, 48, 3)
    assert "image_shape" in opened
    # the file rewritten (another photo): its header read again, the new photo read
    opened.clear()
    varcolor.write_image(path, rng.random((30, 36, 3)), overwrite=True)
    assert not header.holds(path, None)
    assert source.read_reference(path, None, (40, 48), header=header).shape == (30, 36, 3)
    assert "image_shape" in opened


def test_a_ranking_holds_for_its_photo_unchanged_and_its_pool(tmp_path):
    rng = np.random.default_rng(1)
    image = tmp_path / "t.png"
    gray = rng.random((64, 64))
    varcolor.write_image(image, gray)
    ours = target_signature(gray)
    found = (verified(ours, signature(rng.random((64, 64, 3)))),)
    ranking = source.Ranking(file_state(image), ours, found)
    assert ranking.holds(image, 1)
    assert not ranking.holds(image, 2)  # made against another pool
    varcolor.write_image(image, gray[:, :60], overwrite=True)
    assert not ranking.holds(image, 1)  # the photo changed: described again by its job
    assert not source.Ranking(None, ours, found).holds(image, 1)  # a file that could not be looked at


@pytest.mark.slow
def test_a_pool_matched_with_what_its_plan_carries_gives_the_same_cues(tmp_path):
    """The headers, signatures and ranking carried in a plan spare the job's reads and checks,
    and change nothing of its cues."""
    from skimage import data, transform

    from varcolor.app.reference import describe_pool
    from varcolor.color import same_lightness_gray

    cat = np.clip(transform.rescale(data.chelsea() / 255.0, 0.6, channel_axis=2, anti_aliasing=True), 0, 1)
    width = int(cat.shape[1] * 0.75)
    turned = np.clip(transform.rotate(cat[:, -width:], 4.0, mode="reflect"), 0, 1) ** 0.8
    pool = (tmp_path / "rocket.png", tmp_path / "cat.png")
    varcolor.write_image(pool[0], np.clip(data.rocket()[::3, ::3] / 255.0, 0, 1))
    varcolor.write_image(pool[1], turned)
    image = tmp_path / "t.png"
    varcolor.write_image(image, same_lightness_gray(cat[:, :width]))
    gray = varcolor.read_image(image)
    signatures, headers = describe_pool(pool, None)
    assert [header.whole for header in headers] == [True, True]  # PNGs: described decoded whole
    ours = target_signature(gray)
    ranking = source.Ranking(file_state(image), ours, tuple(verified(ours, theirs) for theirs in signatures))
    plain, said = source.pool_cues(image, pool, signatures, gray, None, None, False)
    carried, told = source.pool_cues(image, pool, signatures, gray, None, None, False, headers=headers, ranking=ranking)
    assert plain.count > 100 and said == told and plain.references == carried.references
    assert np.array_equal(plain.mask, carried.mask) and np.array_equal(plain.ab, carried.ab)
