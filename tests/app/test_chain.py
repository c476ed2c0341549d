"""What a chain reads (varcolor.app.chain): each waiting photo is decoded once, to rank it, and its
job takes those pixels, the signature and the checks made for the ranking; each photo that joins the pool is
described once (its header opened once), only while a photo still waits for it, and the jobs of a
wave share its decode and its confidence map's."""

import pickle
from pathlib import Path

import numpy as np
import pytest
from skimage import data, transform

import varcolor
from varcolor.app import chain
from varcolor.app.chain import CONFIDENCE_FOLDER
from varcolor.color import lab_to_rgb, same_lightness_gray
from varcolor.cues import sample_ideepcolor
from varcolor.sources.reference import Ranking, ReferencePlan

from ..conftest import run

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)


@pytest.fixture
def series(tmp_path):
    """Four photos of a pan across ``astronaut``, the first with 60 strokes of its true colours."""
    photo = np.clip(transform.rescale(data.astronaut() / 255.0, 200 / 512, channel_axis=2, anti_aliasing=True), 0, 1)
    width = int(photo.shape[1] * 0.7)
    truths = [photo[:, offset : offset + width] for offset in (0, 20, 40, 60)]
    for i, truth in enumerate(truths):
        varcolor.write_image(tmp_path / "photos" / f"p{i}.png", same_lightness_gray(truth))
    strokes = sample_ideepcolor(truths[0], 60, rng=np.random.default_rng(0))
    lab = np.concatenate([np.full(strokes.ab.shape[:2] + (1,), 60.0), strokes.ab], axis=-1)
    marks = np.zeros_like(truths[0])
    marks[strokes.mask] = lab_to_rgb(lab)[strokes.mask]
    varcolor.write_image(tmp_path / "marks" / "p0_mask.png", marks)
    return tmp_path


@pytest.mark.slow
def test_a_chain_ranks_each_photo_once_and_describes_each_pool_photo_once(series, capsys, reads, monkeypatch):
    """p0 is coloured from its strokes and colours p1, p2 and p3 (one wave). Before, each job
    described its photo again and checked it against the pool again (16 signatures, 9 checks),
    opened p0's header 3 more times (7), decoded p0's confidence map once a job (3), and the
    wave's results were described though no photo waited for them (a decode and 4 header reads
    each)."""
    plans: list[ReferencePlan] = []
    planned = chain._from_pool

    def kept(*args, **kwargs):
        job = planned(*args, **kwargs)
        plans.append(job.run.cues)
        return job

    monkeypatch.setattr(chain, "_from_pool", kept)
    out = series / "out"
    code, _, err = run(capsys, "colorize", series / "photos", "--mask", series / "marks", "--chain", "-o", out)
    assert code == 0, err
    for i in (1, 2, 3):
        assert f"p{i}.png: cues from {out / 'p0.png'} 100 %" in err
        # decoded once, to rank it: its job takes those pixels (issue 109)
        assert reads.of(series / "photos" / f"p{i}.png") == (1, 2)
        assert reads.of(out / f"p{i}.png") == (0, 0)  # nothing waits for them: never described
    assert reads.of(out / "p0.png") == (1, 2)  # decoded when it joined the pool; the wave's jobs take that decode
    assert reads.of(out / CONFIDENCE_FOLDER / "p0_confidence.png") == (1, 0)
    # the 3 waiting photos and p0 described once each; each photo checked against p0 once
    assert reads.described == {"signature": 3 + 1, "verified": 3}
    # each job's plan carries its photo's ranking, and stays small (the descriptors' bits packed)
    assert len(plans) == 3 and all(isinstance(plan.ranking, Ranking) for plan in plans)
    assert all(len(pickle.dumps(plan)) < 64_000 for plan in plans)


@pytest.mark.slow
def test_maps_kept_in_the_series_folder_are_no_photos_of_the_next_chain(series, capsys):
    """``--confidence-map photos/maps``, then a chain of ``photos/`` without it: the maps were read
    as photos of the series ("no coloured photo of the series matches it", exit 1)."""
    photos = series / "photos"
    argv = ("colorize", photos, "--mask", series / "marks", "--chain", "-q")
    code, _, err = run(capsys, *argv, "-o", series / "one", "--confidence-map", photos / "maps")
    assert code == 0, err
    assert len(list((photos / "maps").glob("*_confidence.png"))) == 4
    code, _, err = run(capsys, *argv, "-o", series / "two")
    assert code == 0 and "confidence" not in err, err
    assert sorted(p.name for p in (series / "two").glob("*.png")) == [f"p{i}.png" for i in range(4)]
    rows = varcolor.batch.read_manifest(series / "two" / varcolor.batch.MANIFEST)
    assert sorted(Path(row["input"]).relative_to(photos).as_posix() for row in rows) == [f"p{i}.png" for i in range(4)]


@pytest.mark.slow
def test_an_unrestrained_chain_without_a_map_runs(series, capsys):
    """The chain's own maps (what it passes colour on by) are not the user's ``--confidence-map``:
    ``--method levin`` without one runs, with one it is refused in one line."""
    argv = ("colorize", series / "photos", "--mask", series / "marks", "--chain", "--method", "levin", "-q")
    code, _, err = run(capsys, *argv, "-o", series / "one")
    assert code == 0, err
    code, _, err = run(capsys, *argv, "-o", series / "two", "--confidence-map", series / "maps")
    assert code == 2 and "unrestrained (--method levin)" in err and not (series / "two").exists(), err


@pytest.mark.slow
def test_a_resumed_chain_says_which_output_was_lost_not_that_its_map_is_missing(series, capsys):
    """Issue 108: a chain's result lost, then ``--resume``: the chain drops that result's orphaned
    confidence map (its own, made again with it) and the rerun said the photo was redone because
    its confidence map was missing; a later photo's, because the first photo's result had changed.
    Each now names the output that was lost, and the map is made again."""
    out = series / "out"
    argv = ("colorize", series / "photos", "--mask", series / "marks", "--chain", "-o", out)
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    for lost in ("p0.png", "p2.png"):
        (out / lost).unlink()
        code, _, err = run(capsys, *argv, "--resume")
        assert code == 0, err
        assert f"redone: {series / 'photos' / lost}: {out / lost} is missing" in err, err
        assert "confidence" not in err, err
        assert (out / lost).is_file() and (out / CONFIDENCE_FOLDER / lost.replace(".png", "_confidence.png")).is_file()


@pytest.mark.slow
def test_a_resumed_chain_fails_a_lost_output_whose_map_in_the_users_folder_is_kept(series, capsys):
    """A chain with ``--confidence-map maps``, a later photo's result lost, then ``--resume``: the
    photo's map (the user's folder: kept unless --overwrite) stopped its job as an output that
    exists, and the run said the photo was redone, exit 0, its result still missing. The chain now
    checks its outputs as a folder run does: the photo fails, its line naming the map."""
    out, maps = series / "out", series / "maps"
    argv = ("colorize", series / "photos", "--mask", series / "marks", "--chain", "-o", out, "--confidence-map", maps)
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    (out / "p2.png").unlink()
    code, _, err = run(capsys, *argv, "--resume")
    assert code == 1 and f"{maps / 'p2_confidence.png'}: exists; kept (use --overwrite" in err, err
    assert "redone" not in err and not (out / "p2.png").exists(), err
    code, _, err = run(capsys, *argv, "--resume", "--overwrite")
    assert code == 0 and (out / "p2.png").is_file(), err


@pytest.mark.slow
def test_a_chain_whose_first_photo_fails_says_the_rest_wait_for_it_and_keep_their_outputs(series, capsys):
    """The seeded photo's result lost, its map kept in the user's folder: it fails, naming the map.
    The photos it colours were said to match no coloured photo of the series, "left out (not
    coloured)", though nothing was there to match and their earlier outputs stay. Their lines now
    name the failed photo and the output kept."""
    out, maps = series / "out", series / "maps"
    argv = ("colorize", series / "photos", "--mask", series / "marks", "--chain", "-o", out, "--confidence-map", maps)
    assert run(capsys, *argv)[0] == 0
    (out / "p0.png").unlink()
    before = {name: (out / name).read_bytes() for name in ("p1.png", "p2.png", "p3.png")}
    code, _, err = run(capsys, *argv, "--resume")
    assert code == 1 and f"{maps / 'p0_confidence.png'}: exists; kept" in err, err
    assert "matches it" not in err, err
    for name in before:
        line = next(line for line in err.splitlines() if f"{series / 'photos' / name}: " in line)
        assert f"could colour it failed ({series / 'photos' / 'p0.png'})" in line, line
        assert f"its output {out / name} is kept as it was" in line, line
        assert (out / name).read_bytes() == before[name]
