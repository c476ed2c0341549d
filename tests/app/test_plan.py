"""Planning a folder run (varcolor.app.plan): never an output over an input, nor one written
twice; a rerun into its own folder takes no output for a photo."""

import string

from hypothesis import given
from hypothesis import strategies as st

import varcolor
from varcolor import batch
from varcolor.app import RunOptions, plan_colorize

from ..conftest import FUZZ, make_pair, run

names = st.text(string.ascii_letters + string.digits + "_-. é", min_size=1, max_size=12).filter(
    lambda n: n.strip(".") and "/" not in n
)


@FUZZ
@given(
    tree=st.lists(
        st.tuples(
            st.sampled_from(["", "sub/", "sub/deeper/", ".hidden/"]),
            names,
            st.sampled_from([".png", ".jpg", ".JPG", ".tif", "_marked.png", ".points.json", ".txt"]),
        ),
        min_size=1,
        max_size=12,
    ),
    out_inside=st.booleans(),
    ext=st.sampled_from([".png", ".jpg"]),
)
def test_folder_planner_never_writes_over_an_input_or_twice(tmp_path_factory, tree, out_inside, ext):
    root = tmp_path_factory.mktemp("tree")
    source = root / "in"
    for folder, name, suffix in tree:
        path = source / folder / f"{name}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    output = source if out_inside else root / "out"
    jobs = plan_colorize(source, output, varcolor.Options(), RunOptions(ext=ext, quiet=True), cues="marked")
    ready, skipped, failed = batch.check(jobs, overwrite=True)
    assert len(ready) + len(skipped) + len(failed) == len(jobs)
    inputs = {batch.identity(p) for job in jobs for p in job.inputs}
    written = [batch.identity(o) for job in ready for o in job.outputs]
    assert not inputs & set(written)
    assert len(written) == len(set(written))


def test_a_rerun_into_its_own_input_folder_takes_no_output_for_a_photo(tmp_path, capsys):

    make_pair(tmp_path, "a")
    make_pair(tmp_path, "b")
    code, _, err = run(capsys, "colorize", tmp_path, "-o", tmp_path, "--ext", ".jpg")
    assert code == 0 and "colorized 2, skipped 0, failed 0" in err, err
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.suffix != ".jsonl"}
    code, _, err = run(capsys, "colorize", tmp_path, "-o", tmp_path, "--ext", ".jpg")
    assert code == 0 and "colorized 0, skipped 2, failed 0" in err, err  # a.jpg and b.jpg exist: kept
    assert "a.jpg: exists; kept" in err and "refusing" not in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.suffix != ".jsonl"} == before
