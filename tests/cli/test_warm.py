"""``varcolor warm``: an unknown kind of run is one line and exit code 2, before anything compiles;
a known one is said as it starts and as it ends (tests/test_first_run.py checks, in fresh
processes, that it leaves nothing for a first run to compile)."""

from varcolor.app import warm

from ..conftest import run


def test_an_unknown_kind_of_run_is_one_line_before_any_work(capsys):
    code, out, err = run(capsys, "warm", "--runs", "cues,nope")
    assert code == 2 and out == ""
    known = "cues, automatic, edits, levin, bilaplacian-gtv, levin-symmetric, cuda, studio"
    assert err.splitlines() == [f"varcolor: error: --runs: unknown kind of run nope; known: {known}"]


def test_a_kind_of_run_is_said_as_it_starts_and_ends(capsys, monkeypatch):
    ran = []
    monkeypatch.setitem(warm.WARM_RUNS, "cues", ("the default engine", lambda: ran.append(1), lambda: True))
    code, _, err = run(capsys, "warm", "--runs", "cues")
    assert code == 0 and ran == [1]
    lines = err.splitlines()
    assert lines[0] == "varcolor: warming cues: the default engine"
    assert lines[1].startswith("varcolor: cues: ready in ")
    assert run(capsys, "warm", "--runs", "cues", "--quiet")[2] == ""
    monkeypatch.setitem(warm.WARM_RUNS, "cues", ("the default engine", lambda: ran.append(2), lambda: False))
    assert run(capsys, "warm", "--runs", "cues")[2].splitlines()[-1] == (
        "varcolor: cues: skipped (its extra is not installed)"
    )
    assert ran == [1, 1]


def test_the_studio_kind_runs_the_studios_own_warm_up_and_is_warmed_by_default(capsys, monkeypatch):
    # The studio's live view compiles more than a Colorizer's edits (its update path, the page's
    # pixels): `varcolor warm` compiles those too, with the warm-up the studio runs as it starts.
    from varcolor.ui import live

    ran = []
    monkeypatch.setattr(live, "warm_up", lambda: ran.append("studio"))
    for kind in warm.WARM_RUNS:
        monkeypatch.setitem(warm.WARM_RUNS, kind, (kind, lambda kind=kind: ran.append(kind), lambda: True))
    code, _, err = run(capsys, "warm")
    # Every kind but the GPU's, which --device cuda asks for.
    assert code == 0 and ran == [*(kind for kind in warm.WARM_RUNS if kind != "cuda"), "studio"]
    assert "varcolor: studio: ready in " in err


def test_warm_runs_the_kernels_a_larger_photo_needs_on_its_small_example(capsys, monkeypatch):
    # The bundled example is small enough for array code, which compiles nothing: warmed that way,
    # a first 12 MP run would compile everything.
    from varcolor.common import kernels

    seen = []
    monkeypatch.setitem(warm.WARM_RUNS, "cues", ("x", lambda: seen.append(kernels.array_code(1)), lambda: True))
    assert run(capsys, "warm", "--runs", "cues")[0] == 0
    assert seen == [False] and kernels.array_code(1)
