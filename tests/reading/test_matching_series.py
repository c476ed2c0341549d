"""References for series: a pool of photos (each target coloured from those that match it), a
chain (coloured photos colour the rest of a series), and a clip coloured from stills."""

import json
from pathlib import Path

import numpy as np
import pytest
from skimage import data, transform

import varcolor
from varcolor.app.chain import CONFIDENCE_FOLDER
from varcolor.color import rgb_to_lab, same_lightness_gray
from varcolor.reading.matching import match_pool, signature

from ..conftest import run

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)


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


@pytest.mark.slow
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


@pytest.mark.slow  # 7-9 s in make test, where the pools' other tests stay; make test-slow runs it
def test_a_pool_through_the_api_says_which_reference_gave_which_share(photos):
    """``Cues.from_references``: the pool's cues, with the references used and their shares (as
    match_pool counts them); a colorization's ``info["references"]`` reports them, strokes merged
    in or not; one reference (``Cues.from_reference``) is its whole share."""
    photo = photos["astronaut"]
    truth = photo[:, 40:-40]
    left = np.clip(transform.rotate(photo[:, : photo.shape[1] // 2 + 20], 3.0, mode="reflect"), 0, 1)
    right = np.clip(transform.rotate(photo[:, photo.shape[1] // 2 - 20 :], -3.0, mode="reflect"), 0, 1) ** 0.9
    gray = same_lightness_gray(truth)
    pool = [photos["rocket"], left, right]
    _, _, _, shares = match_pool(gray, pool)
    counted = {["rocket", "left", "right"][index]: count / sum(c for _, c in shares) for index, count in shares}
    cues = varcolor.Cues.from_references(gray, pool, names=["rocket", "left", "right"])
    assert dict(cues.references) == pytest.approx(counted) and set(counted) == {"left", "right"}
    assert sum(share for _, share in cues.references) == pytest.approx(1.0)
    result = varcolor.colorize(gray, cues)
    assert result.info["references"] == [{"reference": name, "share": share} for name, share in cues.references]
    stroke = varcolor.Cues.from_points([{"y": 5, "x": 5, "a": 10, "b": 10}], shape=gray.shape)
    with_strokes = varcolor.Cues.from_references(gray, pool, strokes=stroke, names=["rocket", "left", "right"])
    assert with_strokes.mask[5, 5] and with_strokes.references == cues.references
    assert varcolor.colorize(gray, with_strokes).info["references"] == result.info["references"]
    one = varcolor.Cues.from_reference(gray, left, name="left.png")
    assert varcolor.colorize(gray, one).info["references"] == [{"reference": "left.png", "share": 1.0}]
    assert "references" not in varcolor.colorize(gray, stroke).info  # no reference: no such key


def test_a_folder_of_references_named_otherwise_is_a_pool(tmp_path, capsys, photos):
    (tmp_path / "in").mkdir()
    (tmp_path / "pool").mkdir()
    for name, suffix in (("chelsea", ".png"), ("coffee", ".jpg")):  # a JPEG's signature: from a reduced decode
        truth, reference = _crop_pair(photos[name])
        varcolor.write_image(tmp_path / "in" / f"{name}.png", same_lightness_gray(truth))
        varcolor.write_image(tmp_path / "pool" / f"ref_{name[::-1]}{suffix}", reference)
    varcolor.write_image(tmp_path / "pool" / "other.png", photos["rocket"])
    code, _, err = run(capsys, "colorize", tmp_path / "in", "--reference", tmp_path / "pool", "-o", tmp_path / "out")
    assert code == 0, err
    rows = {json.loads(line)["input"]: json.loads(line) for line in open(tmp_path / "out" / "varcolor-manifest.jsonl")}
    for name in ("chelsea", "coffee"):
        row = rows[str(tmp_path / "in" / f"{name}.png")]
        assert row["status"] == "done"
        assert f"ref_{name[::-1]}" in row["reason"] and "100 %" in row["reason"]
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


@pytest.fixture(scope="module")
def series(tmp_path_factory, photos):
    """A series of three photos of one scene (a pan across ``astronaut``), the first with 60
    strokes of its true colours, and a photo of another scene; the truths kept beside."""
    from varcolor.color import lab_to_rgb
    from varcolor.cues import sample_ideepcolor

    root = tmp_path_factory.mktemp("series")
    (root / "photos").mkdir()
    (root / "marks").mkdir()
    photo = photos["astronaut"]
    width = int(photo.shape[1] * 0.7)
    truths = {}
    for i, offset in enumerate((0, 30, 60)):
        truths[f"p{i}"] = photo[:, offset : offset + width]
        varcolor.write_image(root / "photos" / f"p{i}.png", same_lightness_gray(truths[f"p{i}"]))
    strokes = sample_ideepcolor(truths["p0"], 60, rng=np.random.default_rng(0))
    lab = np.concatenate([np.full(strokes.ab.shape[:2] + (1,), 60.0), strokes.ab], axis=-1)
    marks = np.zeros_like(truths["p0"])
    marks[strokes.mask] = lab_to_rgb(lab)[strokes.mask]
    varcolor.write_image(root / "marks" / "p0_mask.png", marks)
    varcolor.write_image(root / "photos" / "unrelated.png", same_lightness_gray(photos["coffee"]))
    return root, truths


def _chain(capsys, root, out):
    return run(capsys, "colorize", root / "photos", "--mask", root / "marks", "--chain", "-o", out)


@pytest.mark.slow
def test_a_chain_colours_a_series_from_one_marked_photo(series, capsys, tmp_path):
    root, truths = series
    code, _, err = _chain(capsys, root, tmp_path / "out")
    # the unrelated photo is left out and reported: exit status 1, no output for it
    assert code == 1, err
    assert "unrelated.png: no coloured photo of the series matches it" in err
    assert not (tmp_path / "out" / "unrelated.png").exists()
    for name in ("p1", "p2"):
        result = varcolor.read_image(tmp_path / "out" / f"{name}.png")
        gray = np.repeat(same_lightness_gray(truths[name])[..., None], 3, axis=2)
        assert varcolor.metrics.psnr(result, truths[name]) > varcolor.metrics.psnr(gray, truths[name]) + 3, name
    rows = [json.loads(line) for line in open(tmp_path / "out" / "varcolor-manifest.jsonl")]
    by_input = {row["input"]: row for row in rows}
    assert by_input[str(root / "photos" / "p1.png")]["reason"].endswith(
        f"cues from {tmp_path / 'out' / 'p0.png'} 100 %"
    )
    assert by_input[str(root / "photos" / "unrelated.png")]["status"] == "failed"
    assert by_input[str(root / "photos" / "unrelated.png")]["error"] == "Unmatched"  # what the chain reads
    # p0 is coloured first (wave 0), the others after it
    order = [row["input"] for row in rows]
    assert order.index(str(root / "photos" / "p0.png")) < order.index(str(root / "photos" / "p1.png"))


@pytest.mark.slow  # two chain runs / a clip solved: about 20 s on a quiet machine
def test_a_chain_resumes_deterministically_and_overwrites_nothing(series, capsys, tmp_path):
    root, _ = series
    out = tmp_path / "out"
    _chain(capsys, root, out)
    first = {name: (out / f"{name}.png").read_bytes() for name in ("p0", "p1", "p2")}
    kept = (out / "p1.png").stat().st_mtime_ns
    (out / "p2.png").unlink()  # as a run killed before p2 was published leaves it
    code, _, err = _chain(capsys, root, out)
    assert code == 1, err
    assert (out / "p1.png").stat().st_mtime_ns == kept  # kept, not redone
    assert "p1.png: exists; kept" in err
    assert (out / "p2.png").read_bytes() == first["p2"]  # the same photo from the same pool
    assert not (out / "unrelated.png").exists()


def _film(photo: np.ndarray, frames: int = 20, shift: int = 3, height: int = 128, width: int = 176):
    """Frames of a slow pan across ``photo``, and, from frame 12 on, held still (the camera stops)."""
    top = (photo.shape[0] - height) // 2
    return [photo[top : top + height, min(k, 12) * shift : min(k, 12) * shift + width] for k in range(frames)]


@pytest.mark.slow  # 20 frames solved: about 15 s on a quiet machine
def test_a_film_is_coloured_from_a_still(tmp_path, capsys, photos):
    from varcolor.video import open_clip, write_clip

    frames = _film(photos["astronaut"])
    write_clip(tmp_path / "gray.mkv", [np.repeat(same_lightness_gray(f)[..., None], 3, 2) for f in frames], fps=10,
               codec="lossless")  # fmt: skip
    varcolor.write_image(tmp_path / "still.png", frames[0])  # the first frame, in colour
    code, _, err = run(
        capsys, "colorize", tmp_path / "gray.mkv", "--reference", tmp_path / "still.png", "-o", tmp_path / "out.mkv",
        "--codec", "lossless", "-q",
    )  # fmt: skip
    assert code == 0, err
    out = list(open_clip(tmp_path / "out.mkv").frames())
    assert len(out) == len(frames)
    gains = []
    for result, truth in zip(out[1:], frames[1:]):
        gray = np.repeat(same_lightness_gray(truth)[..., None], 3, axis=2)
        gains.append(varcolor.metrics.psnr(result, truth) - varcolor.metrics.psnr(gray, truth))
    assert min(gains) > 3.0, gains
    # where the scene is still (frames 12 on), so is the colour: no flicker
    still = [rgb_to_lab(frame)[..., 1:] for frame in out[12:]]
    assert max(np.hypot(*(b - a).transpose(2, 0, 1)).mean() for a, b in zip(still, still[1:])) < 0.5


def test_a_film_whose_still_matches_nothing_is_refused(tmp_path, capsys, photos):
    from varcolor.video import write_clip

    frames = _film(photos["astronaut"], frames=4)
    write_clip(tmp_path / "gray.mkv", frames, fps=10, codec="lossless")
    varcolor.write_image(tmp_path / "other.png", photos["coffee"])
    code, _, err = run(
        capsys, "colorize", tmp_path / "gray.mkv", "--reference", tmp_path / "other.png", "-o", tmp_path / "o.mkv"
    )
    assert code == 2 and f"match too little of {tmp_path / 'gray.mkv'}" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.mkv").exists()


def test_a_reference_folder_that_would_hold_the_outputs_is_refused(tmp_path, capsys):
    """A pool folder that is the output folder (or holds the output file) would take the run's own
    results for references the next time (each photo coloured from its earlier result, the result
    refused as an input): refused before any work, in one line naming the folder, for a folder
    run, a chain and one image."""
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    (tmp_path / "pool").mkdir()
    varcolor.write_image(tmp_path / "in" / "a.png", rng.random((40, 40)))
    varcolor.write_image(tmp_path / "in" / "a_mask.png", np.zeros((40, 40, 3)))
    varcolor.write_image(tmp_path / "pool" / "ref_x.png", rng.random((40, 40, 3)))
    before = sorted(path.name for path in (tmp_path / "pool").iterdir())
    pool = tmp_path / "pool"
    for args in (
        (tmp_path / "in", "--reference", pool, "-o", pool),
        (tmp_path / "in", "--reference", pool, "-o", pool / "sub"),
        (tmp_path / "in", "--mask", "--chain", "--reference", pool, "-o", pool),
        (tmp_path / "in" / "a.png", "--reference", pool, "-o", pool / "a.png"),
        (tmp_path / "in", "--reference", pool, "-o", tmp_path / "out", "--confidence-map", pool),
        # an input subfolder named as the pool folder puts its outputs in the pool
        (tmp_path / "nest", "--reference", pool, "-o", tmp_path),
        (tmp_path / "nest", "--reference", pool, "-o", tmp_path / "out", "--confidence-map", tmp_path),
        (tmp_path / "nest", "--mask", "--chain", "--reference", pool, "-o", tmp_path),
    ):
        (tmp_path / "nest" / "pool").mkdir(parents=True, exist_ok=True)
        for name in ("a.png", "a_mask.png"):
            (tmp_path / "nest" / "pool" / name).write_bytes((tmp_path / "in" / name).read_bytes())
        code, _, err = run(capsys, "colorize", *args)
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and f"{pool}: " in err and "outputs" in err, err
    assert sorted(path.name for path in (tmp_path / "pool").iterdir()) == before
    assert not (tmp_path / "out").exists()


def test_a_chain_whose_marked_photo_gives_no_colour_reports_the_rest(series, capsys, tmp_path):
    """A photo whose cue file holds no stroke is coloured gray (with its warning); that gray result
    has no colour to give the series: the others are reported as matched by nothing (exit 1), not
    the whole run ended by its own output refused as a gray reference (exit 2, nothing said of them)."""
    root, _ = series
    (tmp_path / "marks").mkdir()
    varcolor.write_image(
        tmp_path / "marks" / "p0_mask.png", np.zeros(varcolor.read_image(root / "photos" / "p0.png").shape + (3,))
    )
    out = tmp_path / "out"
    code, _, err = run(capsys, "colorize", root / "photos", "--mask", tmp_path / "marks", "--chain", "-o", out)
    assert code == 1, err
    for name in ("p1", "p2", "unrelated"):
        assert f"{name}.png: no coloured photo of the series matches it" in err, err
        assert not (out / f"{name}.png").exists()
    assert "the original is gray" not in err


@pytest.mark.slow
def test_a_chain_goes_on_past_a_photo_it_cannot_read(series, capsys, tmp_path):
    """A damaged photo among those waiting for colour fails alone (exit 1), reported; the run went
    on to colour the rest (it ended at once, exit 2, with the first photo's result written)."""
    import shutil

    root, _ = series
    shutil.copytree(root / "photos", tmp_path / "photos")
    (tmp_path / "photos" / "p5.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    out = tmp_path / "out"
    code, _, err = run(capsys, "colorize", tmp_path / "photos", "--mask", root / "marks", "--chain", "-o", out)
    assert code == 1 and "p5.png" in err and "Traceback" not in err, err
    assert (out / "p1.png").is_file() and (out / "p2.png").is_file() and not (out / "p5.png").exists()


def test_a_pool_folder_holding_the_target_itself_colours_it_from_the_others(tmp_path, capsys, photos):
    """One gray photo kept in its pool folder beside the colour photos (``colorize refs/t.png
    --reference refs/``): the target is no member of its own pool (it was refused as a gray
    reference, exit 2); a pool of the target alone is one line."""
    truth, reference = _crop_pair(photos["chelsea"])
    (tmp_path / "refs").mkdir()
    varcolor.write_image(tmp_path / "refs" / "t.png", same_lightness_gray(truth))
    varcolor.write_image(tmp_path / "refs" / "b.png", reference)
    varcolor.write_image(tmp_path / "refs" / "c.png", photos["coffee"])
    code, _, err = run(
        capsys, "colorize", tmp_path / "refs" / "t.png", "--reference", tmp_path / "refs", "-o", tmp_path / "out.png"
    )
    assert code == 0, err
    assert "b.png 100 %" in err and "t.png:" not in err.replace(f"{tmp_path / 'refs' / 't.png'}: cues from", "")
    (tmp_path / "alone").mkdir()
    varcolor.write_image(tmp_path / "alone" / "t.png", same_lightness_gray(truth))
    code, _, err = run(
        capsys, "colorize", tmp_path / "alone" / "t.png", "--reference", tmp_path / "alone", "-o", tmp_path / "o2.png"
    )
    assert code == 2 and err.count("\n") == 1 and f"{tmp_path / 'alone'}: no reference images" in err, err
    assert not (tmp_path / "o2.png").exists()


def test_a_photo_given_twice_is_one_member_of_the_pool(tmp_path):
    """The same file under two names (another spelling, a link, a folder and one of its files) is
    one member: twice, it took two of the best matches' places and was named twice in the report."""
    from varcolor.app.reference import pool_files

    (tmp_path / "refs").mkdir()
    for name in ("a.png", "b.png"):
        varcolor.write_image(tmp_path / "refs" / name, np.full((20, 20, 3), 0.5))
    (tmp_path / "link.png").symlink_to(tmp_path / "refs" / "a.png")
    a, b = tmp_path / "refs" / "a.png", tmp_path / "refs" / "b.png"
    given = [a, tmp_path / "refs" / ".." / "refs" / "a.png", tmp_path / "link.png", tmp_path / "refs", b]
    assert pool_files(given) == (a, b)
    assert pool_files([b, a, tmp_path / "refs"]) == (b, a)  # in the order given, each first seen


def test_a_chain_reads_its_failures_from_the_records_so_a_name_with_a_colon_is_one_name():
    from varcolor.app.chain import still_failed
    from varcolor.app.reference import UNMATCHED

    rows = [
        {"input": "s/x: y.png", "status": "failed", "reason": f"s/x: y.png: {UNMATCHED}"},  # wave 1
        {"input": "s/p: q.png", "status": "failed", "reason": f"s/p: q.png: {UNMATCHED}"},
        {"input": "s/x: y.png", "status": "done", "reason": "s/x: y.png: cues from out/a.png 100 %"},  # wave 2
        {"input": "s/p: q.png", "status": "failed", "reason": "s/p: q.png: unreadable"},
    ]
    failed = still_failed(rows, {"s/x: y.png"}, [Path("s/p: q.png"), Path("s/never.png")])
    # coloured by a later wave: no failure; failed twice: said once, its last reason; never tried: unmatched
    assert [(one.name, one.line, one.error) for one in failed] == [
        ("s/p: q.png", "s/p: q.png: unreadable", None),
        ("s/never.png", f"s/never.png: {UNMATCHED}", "Unmatched"),
    ]


@pytest.mark.slow
def test_a_chain_passes_on_only_the_colour_its_photos_are_confident_of(photos, capsys, tmp_path):
    """Strokes on the left third of the first photo: the rest of it is guessed (neutral). The next
    photos take their cues from it only where its colour is known, so where it was guessed they
    say so too (low confidence), instead of passing its guessed gray on as known colour."""
    photo = photos["astronaut"]
    width = int(photo.shape[1] * 0.7)
    (tmp_path / "photos").mkdir()
    (tmp_path / "marks").mkdir()
    for i, offset in enumerate((0, 30, 60)):
        varcolor.write_image(tmp_path / "photos" / f"p{i}.png", same_lightness_gray(photo[:, offset : offset + width]))
    truth, marks = photo[:, :width], np.zeros(photo[:, :width].shape)
    for y in range(60, photo.shape[0] - 20, 40):
        marks[y : y + 3, 20 : width // 3] = truth[y : y + 3, 20 : width // 3]
    varcolor.write_image(tmp_path / "marks" / "p0_mask.png", marks)
    out, maps = tmp_path / "out", tmp_path / "maps"
    code, _, err = run(
        capsys, "colorize", tmp_path / "photos", "--mask", tmp_path / "marks", "--chain", "-o", out,
        "--confidence-map", maps,
    )  # fmt: skip
    assert code == 0, err
    first = varcolor.read_image(maps / "p1_confidence.png")
    assert first[:, : width // 3 - 30].mean() > 0.8  # coloured from the strokes' reach in p0 (30 px left)
    for name in ("p1", "p2"):
        known = varcolor.read_image(maps / f"{name}_confidence.png")
        assert known[:, width // 2 :].mean() < 0.3, name  # guessed in p0: guessed here too
    # p0's map gone (its result kept): a rerun that colours nothing from it says nothing; one that
    # does passes on all its colour, and says so
    (maps / "p0_confidence.png").unlink()
    code, _, err = run(
        capsys, "colorize", tmp_path / "photos", "--mask", tmp_path / "marks", "--chain", "-o", out,
        "--confidence-map", maps, "--resume",
    )  # fmt: skip
    assert code == 0 and "colorized 0" in err and "passed on as known" not in err, err
    for gone in (maps / "p1_confidence.png", out / "p1.png"):
        gone.unlink()
    code, _, err = run(
        capsys, "colorize", tmp_path / "photos", "--mask", tmp_path / "marks", "--chain", "-o", out,
        "--confidence-map", maps,
    )  # fmt: skip
    assert "p0.png: its confidence map" in err and "is missing" in err and (out / "p1.png").is_file(), err
    assert err.count("is missing") == 1 and "p1.png: its confidence map" not in err  # (p1's made again)
    # p0's map damaged: each photo coloured from it fails, its line naming it, the photo and the map
    (maps / "p0_confidence.png").write_bytes(b"damaged")
    for gone in (maps / "p1_confidence.png", out / "p1.png"):  # (its map alone would stop it, as a folder run's)
        gone.unlink()
    code, _, err = run(
        capsys, "colorize", tmp_path / "photos", "--mask", tmp_path / "marks", "--chain", "-o", out,
        "--confidence-map", maps,
    )  # fmt: skip
    failed = [line for line in err.splitlines() if "error:" in line]
    assert code == 1 and len(failed) == 1 and "photos/p1.png: " in failed[0] and "p0_confidence.png" in failed[0], err
    # Without --confidence-map the chain keeps the maps it passes on in a folder of its own.
    code, _, err = run(
        capsys, "colorize", tmp_path / "photos", "--mask", tmp_path / "marks", "--chain", "-o", tmp_path / "o2"
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "o2" / CONFIDENCE_FOLDER).iterdir()) == [
        "p0_confidence.png",
        "p1_confidence.png",
        "p2_confidence.png",
    ]


def test_a_pool_photos_confidence_map_is_read_as_its_alpha_or_refused_in_one_line(tmp_path, photos):
    from varcolor.app.reference import read_known_reference
    from varcolor.errors import InputError

    photo = photos["astronaut"]
    varcolor.write_image(tmp_path / "p.png", photo)
    known = np.zeros(photo.shape[:2])
    known[:, : photo.shape[1] // 2] = 1.0  # its left half known
    varcolor.write_image(tmp_path / "p_confidence.png", known[::2, ::2], bits=16)  # half the size
    rgba = read_known_reference(tmp_path / "p.png", tmp_path / "p_confidence.png", None)
    assert rgba.shape == photo.shape[:2] + (4,)
    assert rgba[:, : photo.shape[1] // 2 - 2, 3].min() == 1 and rgba[:, photo.shape[1] // 2 + 2 :, 3].max() == 0
    # No map (a given reference, or one a killed run never wrote): its colour known everywhere.
    assert read_known_reference(tmp_path / "p.png", tmp_path / "gone.png", None).shape == photo.shape
    varcolor.write_image(tmp_path / "other_confidence.png", known[::2, ::3], bits=16)  # another shape
    with pytest.raises(InputError, match=r"other_confidence.png is \d+×\d+, not of its shape"):
        read_known_reference(tmp_path / "p.png", tmp_path / "other_confidence.png", None)
    (tmp_path / "bad_confidence.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="p.png: its confidence map cannot be read .*bad_confidence.png"):
        read_known_reference(tmp_path / "p.png", tmp_path / "bad_confidence.png", None)


@pytest.mark.slow  # a chain and a pool run twice; the command's chain and pool stay in make test (tests/app)
def test_run_folder_runs_a_chain_and_a_pool_as_the_command_line_does(series, capsys, tmp_path, photos):
    """One driver: the Python API's run_folder takes chain= and reference= and gives the command
    line's outputs and records (it refused reference= and had no chain before)."""
    from varcolor.app import run_folder

    root, _ = series
    code, _, err = _chain(capsys, root, tmp_path / "cli")
    assert code == 1, err  # the unrelated photo
    rows = run_folder("colorize", root / "photos", tmp_path / "api", mask=root / "marks", chain=True, quiet=True)
    status = {Path(row["input"]).name: row["status"] for row in rows if "input" in row}
    assert status["unrelated.png"] == "failed" and status["p1.png"] == status["p2.png"] == "done"
    for name in ("p0", "p1", "p2"):
        assert np.array_equal(
            varcolor.read_image(tmp_path / "api" / f"{name}.png"), varcolor.read_image(tmp_path / "cli" / f"{name}.png")
        ), name
    # a pool given to the API as to the command line
    truth, reference = _crop_pair(photos["chelsea"])
    (tmp_path / "in").mkdir()
    varcolor.write_image(tmp_path / "in" / "t.png", same_lightness_gray(truth))
    pool = [tmp_path / "a.png", tmp_path / "b.png"]
    varcolor.write_image(pool[0], photos["coffee"])
    varcolor.write_image(pool[1], reference)
    code, _, err = run(
        capsys, "colorize", tmp_path / "in", "--reference", pool[0], "--reference", pool[1], "-o", tmp_path / "pool-cli"
    )
    assert code == 0, err
    rows = run_folder("colorize", tmp_path / "in", tmp_path / "pool-api", reference=pool, quiet=True)
    assert [row["status"] for row in rows] == ["done"] and "b.png 100 %" in rows[0]["reason"]
    assert np.array_equal(
        varcolor.read_image(tmp_path / "pool-api" / "t.png"), varcolor.read_image(tmp_path / "pool-cli" / "t.png")
    )
    with pytest.raises(varcolor.InputError, match="chain"):
        run_folder("colorize", tmp_path / "in" / "t.png", tmp_path / "x.png", reference=pool, chain=True)
    with pytest.raises(varcolor.InputError, match="colorize's"):
        run_folder("encode", tmp_path / "in", tmp_path / "ir", reference=pool)


@pytest.mark.slow
def test_a_chains_unreadable_photo_is_a_failure_saying_why_not_a_skip_for_its_cue_file(series, capsys, tmp_path):
    """A damaged photo waiting for colour is reported as what it is (unreadable: failed, exit 1),
    not as skipped for having no cue file (a photo of a chain needs none): the run exited 0 with
    it left out, its manifest record "skipped: no cue file found"."""
    import shutil

    root, _ = series
    shutil.copytree(root / "photos", tmp_path / "photos", ignore=shutil.ignore_patterns("unrelated.png"))
    (tmp_path / "photos" / "p5.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    out = tmp_path / "out"
    code, _, err = run(capsys, "colorize", tmp_path / "photos", "--mask", root / "marks", "--chain", "-o", out)
    assert code == 1 and "Traceback" not in err, err
    assert "no cue file found" not in err, err
    rows = {row["input"]: row for row in map(json.loads, open(out / "varcolor-manifest.jsonl"))}
    damaged = rows[str(tmp_path / "photos" / "p5.png")]
    assert damaged["status"] == "failed" and "no cue file" not in damaged["reason"], damaged
    assert (out / "p1.png").is_file() and (out / "p2.png").is_file() and not (out / "p5.png").exists()


@pytest.mark.slow
def test_a_chains_photo_too_small_to_match_is_named_by_its_path(series, capsys, tmp_path):
    """A 1×1 photo of a series fails in one line naming its file, in the report and the manifest
    (the manifest said "gray: a 1×1 image is too narrow ...", naming no file)."""
    import shutil

    root, _ = series
    shutil.copytree(root / "photos", tmp_path / "photos", ignore=shutil.ignore_patterns("unrelated.png"))
    tiny = tmp_path / "photos" / "tiny.png"
    varcolor.write_image(tiny, np.full((1, 1), 0.5))
    out = tmp_path / "out"
    code, _, err = run(capsys, "colorize", tmp_path / "photos", "--mask", root / "marks", "--chain", "-o", out)
    assert code == 1 and "Traceback" not in err, err
    assert f"{tiny}: a 1×1 image is too narrow" in err and "gray:" not in err, err
    rows = {row["input"]: row for row in map(json.loads, open(out / "varcolor-manifest.jsonl"))}
    assert rows[str(tiny)]["status"] == "failed" and rows[str(tiny)]["reason"].startswith(f"{tiny}: "), rows[str(tiny)]
