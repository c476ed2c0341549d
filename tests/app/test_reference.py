"""``--reference`` told apart once (varcolor.app.reference.References): a photo, a folder named as
the images, or a pool, recognised from what a user gives; picklable; and a pool's members are
never the inputs of the folder run it colours."""

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import varcolor
from varcolor.app import RunOptions, plan_colorize
from varcolor.app.reference import References, given_references
from varcolor.app.tasks import ColorizeTask
from varcolor.io import identity
from varcolor.sources.reference import ReferencePlan

from ..conftest import FUZZ


def _colour(path: Path, seed: int = 0) -> Path:
    """A small colour photo that can be a reference (random colours, 32 pixels a side)."""
    varcolor.write_image(path, np.random.default_rng(seed).random((32, 32, 3)))
    return path


def _gray(path: Path, level: float = 0.5) -> Path:
    varcolor.write_image(path, np.full((32, 32), level))
    return path


@pytest.fixture
def run_folder(tmp_path):
    """An input folder of two gray photos and a colour photo outside it."""
    source = tmp_path / "in"
    _gray(source / "a.png")
    _gray(source / "sub" / "b.png", 0.4)
    return source, _colour(tmp_path / "sea.png")


def test_one_photo_is_a_photo_however_it_is_given(run_folder):
    source, sea = run_folder
    for value in (sea, str(sea), [sea], (str(sea),)):
        refs = References.of(value, source, None)
        assert refs is not None and refs.kind == "photo" and refs.paths == (sea,)
        assert not refs.pooled and not refs.searched and refs.members == (sea,)
        assert refs.for_image(source / "a.png", Path("a.png")) is refs  # every image takes it
    assert References.of(str(sea), source, None).given == (str(sea),)  # as given, for the manifest


def test_nothing_given_is_no_reference(run_folder):
    source, _ = run_folder
    assert References.of(None, source, None) is None and References.of([], source, None) is None
    assert References.pool_of(None) is None and given_references(None) is None


def test_a_folder_named_as_the_images_is_a_folder(run_folder, tmp_path):
    source, _ = run_folder
    refs_folder = tmp_path / "refs"
    _colour(refs_folder / "a.jpg")
    _colour(refs_folder / "sub" / "b.png", 1)
    refs = References.of(refs_folder, source, None)
    assert refs is not None and refs.kind == "folder" and refs.paths == (refs_folder,)
    assert refs.searched and not refs.pooled and refs.members == ()
    # each image its own, found by its name at its place under the folder
    its = refs.for_image(source / "sub" / "b.png", Path("sub/b.png"))
    assert its is not None and its.kind == "photo" and its.paths == (refs_folder / "sub" / "b.png",)
    assert refs.for_image(source / "c.png", Path("c.png")) is None
    assert refs.walked_past(source) == [refs_folder]
    with pytest.raises(ValueError, match="for_image"):
        refs.plan(source / "a.png")  # a folder plans nothing itself


def test_several_paths_or_a_folder_named_otherwise_are_a_pool(run_folder, tmp_path):
    source, sea = run_folder
    other = _colour(tmp_path / "other" / "zzz.png", 2)
    for value, members in (([sea, other], (sea, other)), (tmp_path / "other", (other,)), ([sea, sea], (sea,))):
        refs = References.of(value, source, None)
        assert refs is not None and refs.kind == "pool" and refs.pooled and refs.searched
        assert refs.members == members and refs.signatures is not None and len(refs.signatures) == len(members)
        assert refs.for_image(source / "a.png", Path("a.png")) is refs  # every image the whole pool
    # a single photo's run: a folder is a pool (no images to be named after)
    single = References.of(tmp_path / "other", source / "a.png", None)
    assert single is not None and single.kind == "pool"


def test_a_pool_with_bad_photos_is_refused_naming_each_of_them(run_folder, tmp_path):
    """Every bad photo of a pool in the one line, not the first alone (a fix and a rerun each)."""
    from varcolor.errors import InputError

    source, _ = run_folder
    pool = tmp_path / "pool"
    _colour(pool / "good.png", 2)
    varcolor.write_image(pool / "gray.png", np.tile(np.linspace(0, 1, 64), (48, 1)))
    (pool / "cut.png").write_bytes((pool / "good.png").read_bytes()[:100])
    with pytest.raises(InputError) as refused:
        References.of(pool, source, None)
    said = str(refused.value)
    assert "\n" not in said and said.startswith("2 of the pool's 3 references cannot be used")
    assert "gray.png" in said and "cut.png" in said and "good.png" not in said, said


def test_a_chain_or_a_clip_takes_what_is_given_as_a_pool(run_folder, tmp_path):
    _, sea = run_folder
    refs = References.pool_of(str(sea))
    assert refs is not None and refs.kind == "pool" and refs.paths == (sea,) and refs.signatures is None
    described = refs.described(None)
    assert described.signatures is not None and len(described.signatures) == 1 and described.paths == (sea,)


def test_a_job_plans_the_photo_or_the_pool_through_the_source(run_folder, tmp_path):
    source, sea = run_folder
    other = _colour(tmp_path / "zzz.png", 3)
    photo = References.of(sea, source, None)
    pool = References.of([sea, other], source, None)
    assert photo is not None and pool is not None
    planned = photo.plan(source / "a.png", max_pixels=100)
    assert isinstance(planned, ReferencePlan) and planned.references == (sea,) and not planned.pooled
    pooled = pool.plan(source / "a.png", known=(None, None), chained=True)
    assert isinstance(pooled, ReferencePlan) and pooled.pooled and pooled.chained
    assert pooled.references == (sea, other) and pooled.signatures == pool.signatures


def test_it_pickles_each_kind(run_folder, tmp_path):
    source, sea = run_folder
    _colour(tmp_path / "refs" / "a.jpg")
    kinds = [
        References.of(sea, source, None),
        References.of(tmp_path / "refs", source, None),
        References.of([sea, tmp_path / "refs" / "a.jpg"], source, None),
    ]
    assert [refs.kind for refs in kinds if refs is not None] == ["photo", "folder", "pool"]
    for refs in kinds:
        assert refs is not None
        refs.is_input(source / "a.png")  # its files' identities, made on this machine...
        copy = pickle.loads(pickle.dumps(refs))
        assert copy == refs and copy.kind == refs.kind and copy.given == refs.given
        assert "_identities" not in vars(copy)  # ...are not carried with it
    with pytest.raises(ValueError):
        References("photos", (sea,))
    with pytest.raises(ValueError):
        References("photo", (sea, sea))


@settings(FUZZ, max_examples=20)
@given(
    photos=st.lists(
        st.tuples(st.sampled_from(["", "sub/"]), st.booleans(), st.sampled_from(["plain", "dotted", "link", "no"])),
        min_size=1,
        max_size=5,
    ),
    outside=st.booleans(),
    whole_folder=st.booleans(),
)
def test_a_pools_members_are_never_inputs_of_the_folder_run(tmp_path_factory, photos, outside, whole_folder):
    """Whatever the pool holds and however its photos are named (another spelling, a link, the
    input folder itself given as the pool, its colour photos lent), no member is an input: each
    image under the input folder is either a member or an input, never both."""
    root = tmp_path_factory.mktemp("pool")
    source = root / "in"
    (source / "sub").mkdir(parents=True)
    given: list[Path] = []
    members, images = set(), set()
    for number, (folder, colour, spelling) in enumerate(photos):
        path = source / folder / f"p{number}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        _colour(path, number) if colour else _gray(path, 0.2 + 0.1 * number)
        images.add(identity(path))
        if colour and (whole_folder or spelling != "no"):
            members.add(identity(path))
        if not colour or whole_folder or spelling == "no":
            continue
        if spelling == "link":
            (root / f"link{number}.png").symlink_to(path)
            given.append(root / f"link{number}.png")
        else:
            given.append(path if spelling == "plain" else source / "sub" / ".." / path.relative_to(source))
    if outside:
        given.append(_colour(root / "outside.png", 99))
    if whole_folder:
        given = [source, *given]
    if not members and not outside:
        return  # no colour photo to give: nothing is a pool
    jobs = plan_colorize(source, root / "out", varcolor.Options(), RunOptions(quiet=True), reference=given)
    inputs = {identity(job.inputs[0]) for job in jobs if isinstance(job.run, ColorizeTask)}
    assert not inputs & members
    assert inputs == images - members  # and every other image is an input
