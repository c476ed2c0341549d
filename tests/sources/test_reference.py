"""The ``reference`` cue source (varcolor.sources.reference): a pool's photos are read here, only
those its match wants, and handed down as plain arrays (varcolor.reading.matching.PoolMatch,
Cues.from_pool): the cues are those Cues.from_references gives from the same photos."""

import numpy as np
import pytest
from skimage import data, transform

import varcolor
from varcolor import Cues
from varcolor.color import same_lightness_gray
from varcolor.sources import reference as source


def _small(photo: np.ndarray, height: int = 200) -> np.ndarray:
    scale = height / photo.shape[0]
    return np.clip(transform.rescale(photo / 255.0, scale, channel_axis=2, anti_aliasing=True), 0, 1)


@pytest.mark.slow
def test_a_pool_is_read_by_the_source_only_where_matched_and_gives_the_apis_cues(tmp_path, monkeypatch):
    cat = _small(data.chelsea())
    width = int(cat.shape[1] * 0.75)
    truth = cat[:, :width]
    turned = np.clip(transform.rotate(cat[:, -width:], 4.0, mode="reflect"), 0, 1) ** 0.8
    photos = {"coffee.png": _small(data.coffee()), "cat.png": turned, "rocket.png": _small(data.rocket())}
    pool = []
    for name, photo in photos.items():
        varcolor.write_image(tmp_path / name, photo)
        pool.append(tmp_path / name)
    read = [source.read_reference(path, None) for path in pool]  # as the files hold them
    gray = same_lightness_gray(truth)
    signatures = tuple(varcolor.reading.matching.signature(photo) for photo in read)
    asked = []
    reads = source.read_known_reference

    def counted(path, *args, **kwargs):
        asked.append(path.name)
        return reads(path, *args, **kwargs)

    monkeypatch.setattr(source, "read_known_reference", counted)
    cues, shares = source.pool_cues(tmp_path / "t.png", tuple(pool), signatures, gray, None, None, False)
    assert asked == ["cat.png"]  # the distractors, ranked below by their signatures, never read
    assert shares.startswith(f"{tmp_path / 't.png'}: cues from {tmp_path / 'cat.png'}")
    api = Cues.from_references(gray, read, signatures=signatures, names=[str(path) for path in pool])
    assert cues.count > 100 and cues.references == api.references
    assert np.array_equal(cues.mask, api.mask) and np.array_equal(cues.ab, api.ab)
    # without signatures: made from every photo, read here too
    asked.clear()
    again, _ = source.pool_cues(tmp_path / "t.png", tuple(pool), None, gray, None, None, False)
    assert asked == [*photos, "cat.png"] and np.array_equal(again.mask, cues.mask)


@pytest.mark.parametrize("hidden", ["half", "all"])
def test_a_reference_file_partly_transparent_is_refused_not_its_hidden_colour_taken(tmp_path, capsys, hidden):
    """A transparent pixel's colour is hidden, no photo's: on the command line it was taken as the
    reference's colour (the hidden green over half a cat, exit 0). One line instead; an opaque
    alpha channel is no matter."""
    from PIL import Image

    from ..conftest import run

    photo = _small(data.chelsea())
    varcolor.write_image(tmp_path / "gray.png", same_lightness_gray(photo))
    rgba = np.dstack([np.round(photo * 255), np.full(photo.shape[:2], 255.0)]).astype(np.uint8)
    Image.fromarray(rgba).save(tmp_path / "opaque.png")
    hide = slice(None) if hidden == "all" else slice(0, photo.shape[1] // 2)
    rgba[:, hide] = (0, 255, 0, 0)
    Image.fromarray(rgba).save(tmp_path / "hidden.png")
    code, _, err = run(
        capsys, "colorize", tmp_path / "gray.png", "--reference", tmp_path / "hidden.png", "-o", tmp_path / "o.png"
    )
    assert code == 2 and err.count("\n") == 1 and "hidden.png" in err and "transparent" in err, err
    assert not (tmp_path / "o.png").exists()
    code, _, err = run(
        capsys, "colorize", tmp_path / "gray.png", "--reference", tmp_path / "opaque.png", "-o", tmp_path / "o.png"
    )
    assert code == 0, err
