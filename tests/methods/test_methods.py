"""The method protocol: a method registered from outside the package works everywhere a built-in
one does (colorize, Colorizer, the command line, bench), and the options value refuses what no
method can honour."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import varcolor
import varcolor.cli
import varcolor.registry
from varcolor import methods
from varcolor.common.fields import option, positive
from varcolor.errors import InputError, MethodError
from varcolor.methods import Method, Problem, build_options

from ..conftest import colorize_a_pair_in_a_child, install_plug_ins, make_pair, run


@dataclass(frozen=True)
class FlatParameters:
    level: float = option(1.0, "flat: how much of the cues' mean colour every pixel gets (default %(default)s)")

    def __post_init__(self) -> None:
        positive("level", self.level)


class Flat(Method):
    """Every pixel gets ``level`` times the mean of the cue colours: an answer known in closed form."""

    name = "flat-test"
    summary = "every pixel the cues' mean colour times --level (a test method)"
    Parameters = FlatParameters
    bytes_per_pixel = 64

    def solve(self, problem: Problem, x0):
        mean = problem.targets[problem.mask].mean(axis=0) * self.options.parameters.level
        return np.broadcast_to(mean, problem.targets.shape).copy(), {"solver": "mean", "iterations": 0, "residual": 0.0}


@pytest.fixture
def flat():
    methods.register(Flat)
    yield Flat
    methods.unregister(Flat.name)


def _points(shape):
    return [{"y": 2, "x": 3, "a": 30, "b": -10}, {"y": shape[0] - 3, "x": shape[1] - 4, "a": 10, "b": 30}]


def test_a_registered_method_colorizes_through_the_public_api(flat):
    gray = np.tile(np.linspace(0.3, 0.7, 40), (30, 1))
    cues = varcolor.Cues.from_points(_points(gray.shape), gray.shape)
    result = varcolor.colorize(gray, cues, method="flat-test", level=0.5)
    expected = 0.5 * cues.ab[cues.mask].mean(axis=0)
    np.testing.assert_allclose(result.ab[15, 20], expected)
    assert result.info["method"] == "flat-test" and result.info["solver"] == "mean"
    # Its parameter belongs to it alone: another method refuses it, naming its owner.
    with pytest.raises(InputError, match="level: options of method flat-test"):
        varcolor.colorize(gray, cues, method="levin", level=0.5)
    with pytest.raises(InputError, match="level must be a positive number"):
        build_options(method="flat-test", level=-1.0)
    # Not interactive: an update re-solves the whole image, with the merged cues.
    cz = varcolor.Colorizer(gray, method="flat-test")
    cz.solve(cues)
    more = varcolor.Cues.from_points([{"y": 10, "x": 10, "a": -40, "b": 0}], gray.shape)
    updated = cz.update(more)
    merged = cues.merged(more)
    np.testing.assert_allclose(updated.ab[0, 0], merged.ab[merged.mask].mean(axis=0))


def test_a_registered_method_runs_from_the_command_line(flat, tmp_path):
    gray = np.tile(np.linspace(0.3, 0.7, 40), (30, 1))
    varcolor.write_image(tmp_path / "g.png", gray)
    (tmp_path / "g.points.json").write_text(json.dumps(_points(gray.shape)))
    out = tmp_path / "c.png"
    code = varcolor.cli.main(
        [
            "colorize",
            str(tmp_path / "g.png"),
            "--points",
            str(tmp_path / "g.points.json"),
            "-o",
            str(out),
            "--method",
            "flat-test",
            "--level",
            "0.5",
            "-q",
        ]
    )
    assert code == 0
    ab = varcolor.color.rgb_to_lab(varcolor.read_image(out))[..., 1:]
    cues = varcolor.Cues.from_points(_points(gray.shape), gray.shape)
    assert np.abs(ab[15, 20] - 0.5 * cues.ab[cues.mask].mean(axis=0)).max() < 1.5  # 8-bit rounding
    help_text = _subcommand_help("colorize")
    assert "flat-test" in help_text and "--level" in help_text


def _subcommand_help(command: str) -> str:
    parser = varcolor.cli.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices[command].format_help()


def test_a_registered_method_is_benchmarked(flat, tmp_path):
    rgb = np.zeros((48, 48, 3))
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 0.8, 0.4, 0.2  # one flat colour: the mean of any cues is exact
    rows = varcolor.bench.evaluate(rgb, ["flat-test", "levin"], [5], resolution="48")
    scores = {row["method"]: row["psnr"] for row in rows}
    assert scores["flat-test"] > 40 and scores["levin"] > 40  # both exact, up to 8-bit rounding
    varcolor.write_image(tmp_path / "photo.png", rgb)
    out = tmp_path / "table.json"
    code = varcolor.cli.main(
        [
            "bench",
            "-i",
            str(tmp_path / "photo.png"),
            "--methods",
            "flat-test",
            "--hints",
            "5",
            "--resolution",
            "48",
            "--format",
            "json",
            "-o",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    assert "flat-test" in out.read_text()


def test_the_registry_refuses_what_is_not_a_method_and_name_clashes():
    with pytest.raises(TypeError):
        methods.register(object)
    with pytest.raises(ValueError, match="registered already"):
        methods.register(type("Other", (Method,), {"name": "levin", "summary": "a clash"}))
    with pytest.raises(InputError, match="unknown method 'nope'; available: levin"):
        build_options(method="nope")


def test_plug_ins_register_through_entry_points(monkeypatch):
    class Entry:
        name = "plugged"

        def load(self):
            return type("Plugged", (Flat,), {"name": "plugged-test"})

    monkeypatch.setattr(methods.REGISTRY, "plugins_loaded", False)
    found = lambda group: [Entry()] if group == "varcolor.methods" else []  # noqa: E731
    monkeypatch.setattr(varcolor.registry, "entry_points", found)
    try:
        assert "plugged-test" in methods.names()
    finally:
        methods.unregister("plugged-test")


def test_options_are_one_frozen_value_built_from_keywords():
    options = build_options(method="bilaplacian-gtv", sharpness=4.0, solver="auto")
    assert options.parameters.sharpness == 4.0 and options.parameters.lam == 1e-3
    with pytest.raises(AttributeError):
        options.method = "levin"  # frozen
    # Built again from its own keywords, it is the same value; changing the method drops the
    # other method's parameters.
    assert build_options(**options.keywords()) == options
    assert build_options(options, method="levin").parameters is None
    with pytest.raises(InputError, match="unknown option 'sharpnes'"):
        build_options(method="bilaplacian-gtv", sharpnes=4.0)
    with pytest.raises(InputError, match="propagates Lab chroma"):
        build_options(method="bilaplacian-gtv", space="yiq")
    # Options after the gray image are keywords: a positional method name is a clear error.
    with pytest.raises(TypeError, match="give the others as keywords"):
        varcolor.Colorizer(np.zeros((4, 4)), "levin")


def test_a_broken_or_clashing_plug_in_is_skipped_with_a_warning(monkeypatch):
    class Broken:
        name = "broken"

        def load(self):
            raise ImportError("No module named 'missing_dependency'")

    class Clashing:
        name = "clashing"

        def load(self):
            return type("Clash", (Flat,), {"name": "levin"})

    monkeypatch.setattr(methods.REGISTRY, "plugins_loaded", False)
    monkeypatch.setattr(varcolor.registry, "entry_points", lambda group: [Broken(), Clashing()])
    with pytest.warns(UserWarning) as caught:
        names = methods.names()
    messages = " | ".join(str(w.message) for w in caught)
    assert "'broken' not loaded: No module named 'missing_dependency'" in messages
    assert "'clashing' not loaded" in messages and "registered already" in messages
    assert methods.get("levin").__name__ == "Levin" and names[: len(varcolor.api.METHODS)] == varcolor.api.METHODS


def test_importing_varcolor_loads_no_plug_in():
    # Entry points are read the first time a method is looked up, not when varcolor is imported.
    code = (
        "import varcolor, varcolor.methods as m, varcolor.instances as i;"
        "print(m.plugins_loaded(), i.detectors.REGISTRY.plugins_loaded)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


@pytest.mark.slow  # 8 s of plug-ins hanging; the registry's other checks stay in make test
def test_a_plug_in_that_hangs_exits_or_interrupts_at_import_is_skipped_in_one_line(tmp_path):
    environment = install_plug_ins(
        tmp_path / "site",
        {
            "hangs": "import time\ntime.sleep(600)\n",
            "exits": "import sys\nsys.exit(3)\n",
            "interrupts": "raise KeyboardInterrupt\n",
        },
    )
    command = [sys.executable, "-m", "varcolor.cli"]
    # --version and --help load no plug-in at all: no wait, no warning.
    for asked in (["--version"], ["colorize", "--help"]):
        done = subprocess.run(command + asked, env=environment, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and done.stderr == "", asked
    listed = " ".join(done.stdout.split()).partition("not loaded for --help: ")[2].partition(")")[0]
    assert sorted(listed.split(", ")) == ["exits", "hangs", "interrupts"]
    # A command goes on without them, one line each, within the time limit.
    done, seconds = colorize_a_pair_in_a_child(tmp_path, environment)
    lines = done.stderr.splitlines()
    assert len(lines) == 3 and all(line.startswith("varcolor: warning: varcolor method plug-in") for line in lines)
    assert "'hangs' not loaded: its import did not finish within 2 s" in done.stderr
    assert "'exits' not loaded: its import raised SystemExit(3)" in done.stderr
    assert "'interrupts' not loaded: its import raised KeyboardInterrupt" in done.stderr
    assert seconds < 60


class _Returns(Method):
    summary = "returns what the test says (a test method)"
    answer = None

    def solve(self, problem, x0):
        return type(self).answer


@pytest.mark.parametrize(
    "answer, problem",
    [
        (None, "solve() returned None"),
        ((np.zeros((3, 3, 2)), {}), "returned chroma of shape (3, 3, 2)"),
        ((np.full((8, 8, 2), np.nan), {}), "non-finite chroma"),
        ((np.zeros((8, 8, 2), complex), {}), "dtype complex128"),
        ([np.zeros((8, 8, 2)), {}], "returned a list"),
    ],
)
def test_a_method_whose_solve_returns_no_result_is_one_line_naming_it(tmp_path, capsys, answer, problem):
    method = methods.register(type("Wrong", (_Returns,), {"name": "wrong-test"}))
    method.answer = answer
    try:
        gray = np.full((8, 8), 0.5)
        cues = varcolor.Cues.from_points(_points(gray.shape), gray.shape)
        with pytest.raises(MethodError, match=r"method 'wrong-test' \(tests\.methods\.test_methods\.Wrong\)") as caught:
            varcolor.colorize(gray, cues, method="wrong-test")
        assert problem in str(caught.value)
        make_pair(tmp_path, "a", shape=(8, 8))
        code, _, err = run(
            capsys, "colorize", tmp_path / "a.png", "--marked", "-m", "wrong-test", "-o", tmp_path / "o.png"
        )
        assert code == 2 and err.count("\n") == 1 and "wrong-test" in err and problem in err
        assert not (tmp_path / "o.png").exists()
    finally:
        methods.unregister("wrong-test")


MINE = """
from dataclasses import dataclass

import numpy as np

from varcolor.common.fields import option
from varcolor.methods import Method


@dataclass(frozen=True)
class Parameters:
    strength: float = option(1.0, "mine: how strongly the mean colour is spread (default %(default)s)")


class Method(Method):
    name, summary = "mine", "every pixel the mean of the cues (a plug-in)"
    Parameters = Parameters

    def solve(self, problem, x0):
        mean = problem.targets[problem.mask].mean(axis=0) * self.options.parameters.strength
        chroma = np.broadcast_to(mean, problem.targets.shape).copy()
        return chroma, {"solver": "mean", "iterations": None, "residual": None}
"""


@pytest.mark.slow  # command-line processes with plug-ins installed; plug-in methods run in make test
def test_help_for_a_plug_in_method_shows_its_options(tmp_path):
    environment = install_plug_ins(tmp_path / "site", {"mine": MINE})
    command = [sys.executable, "-m", "varcolor.cli"]
    for asked in (
        ["colorize", "--method", "mine", "--help"],
        ["colorize", "-m", "mine", "-h"],
        ["colorize", "--method=mine", "--help"],
    ):
        done = subprocess.run(command + asked, env=environment, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stderr == "", (asked, done.stderr)
        words = " ".join(done.stdout.split())
        assert "--strength" in words and "mine: every pixel the mean of the cues" in words
    # A built-in method's help still loads no plug-in (whatever a plug-in does, --help works).
    done = subprocess.run(
        command + ["colorize", "--method", "levin", "--help"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        done.returncode == 0
        and "--strength" not in done.stdout
        and "not loaded for --help: mine" in " ".join(done.stdout.split())
    )


class _Answers(Method):
    name, summary = "answers-attack", "returns what the attack gives it (a test method)"
    answer = None

    def solve(self, problem, x0):
        return type(self).answer


solve_answers = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=4),
    st.tuples(
        hnp.arrays(
            st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex64, np.float16]),
            st.sampled_from([(8, 8, 2), (8, 8), (2, 8, 8), (8, 8, 3), (0,), (8, 8, 2, 1)]),
            elements=None,
        ),
        st.sampled_from([{}, None, {"solver": "x"}, ["not", "a", "dict"]]),
    ),
)


@given(answer=solve_answers)
@settings(max_examples=120, deadline=None)
def test_a_method_returning_anything_gives_a_result_or_one_method_error(answer):
    methods.register(_Answers)
    _Answers.answer = answer
    try:
        gray = np.linspace(0.2, 0.8, 64).reshape(8, 8)
        cues = varcolor.Cues.from_points([{"y": 1, "x": 1, "a": 20, "b": -10}], gray.shape)
        try:
            result = varcolor.colorize(gray, cues, method="answers-attack")
        except MethodError as exc:
            assert "method 'answers-attack'" in str(exc) and "\n" not in str(exc)
        else:
            assert np.all(np.isfinite(result.ab)) and result.rgb.shape == (8, 8, 3)
    finally:
        methods.unregister("answers-attack")
