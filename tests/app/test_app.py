"""The application layer (varcolor.app): a folder run from Python with typed options returns the
manifest records; the command line only parses, builds typed values, plans, runs and prints; the
library never imports the command line; one renderer from option values to flags."""

import ast
import copy
import dataclasses
import functools
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import varcolor
from varcolor import app
from varcolor.app import RunOptions, plan_colorize, run_folder, run_jobs
from varcolor.app.cues import CUE_KINDS, cue_path, find_cue, is_cue_file, kind_of
from varcolor.batch import MANIFEST, read_manifest
from varcolor.cli import build_parser
from varcolor.cli.common import flag_words
from varcolor.cli.ir import encode_options_of
from varcolor.cli.solve_options import options_of
from varcolor.common.fields import OptionValues
from varcolor.errors import InputError
from varcolor.ir.encode import EncodeOptions
from varcolor.methods import build_options
from varcolor.options import Options
from varcolor.ui.saving import command_line

from ..conftest import make_pair, photo, run

PACKAGE = Path(varcolor.__file__).parent


def folder_of_pairs(folder, count=3):
    for index in range(count):
        make_pair(folder, f"img{index}", seed=index)
    varcolor.write_image(folder / "colour.png", photo("astronaut", (24, 32)))  # no cue file: skipped
    return folder


def test_a_folder_run_from_python_takes_typed_options_and_returns_the_manifest_records(tmp_path):
    source = folder_of_pairs(tmp_path / "in")
    options = Options(method="levin-symmetric", solver="direct")
    rows = run_folder("colorize", source, tmp_path / "out", options=options, run=RunOptions(quiet=True), cues="marked")
    assert sorted((Path(r["input"]).name, r["status"]) for r in rows) == [
        ("colour.png", "skipped"),
        ("img0.png", "done"),
        ("img1.png", "done"),
        ("img2.png", "done"),
    ]
    assert rows == read_manifest(tmp_path / "out" / MANIFEST)  # the records are the manifest's
    # Each output is what the library makes of the same files, directly.
    gray = varcolor.read_image(source / "img1.png")
    cues = varcolor.Cues.from_marked(gray, varcolor.read_image(source / "img1_marked.png"))
    expected = varcolor.colorize(gray, cues, options).rgb
    written = varcolor.read_image(tmp_path / "out" / "img1.png")
    assert np.max(np.abs(written - expected)) <= 0.5 / 255 + 1e-9  # 8-bit rounding only


def test_a_folder_encode_and_recolor_from_python_warn_nothing(tmp_path):
    # The library's own calls use today's names only: no deprecation warning reaches a script.
    source = tmp_path / "in"
    varcolor.write_image(source / "a.png", photo("astronaut", (24, 32)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoded = run_folder("encode", source, tmp_path / "ir", quiet=True)
        recolored = run_folder("recolor", source, tmp_path / "rec", ir=tmp_path / "rec-ir", budget=128, quiet=True)
    assert [r["status"] for r in encoded] == ["done"] and {r["status"] for r in recolored} == {"done"}
    assert varcolor.ir.files.read_ir(tmp_path / "ir" / "a.png").encoder == "adaptive"


def test_the_keyword_form_maps_onto_the_same_typed_values(tmp_path):
    source = folder_of_pairs(tmp_path / "in", count=1)
    typed = run_folder(
        "colorize", source, tmp_path / "typed", options=Options(tol=1e-6), run=RunOptions(quiet=True), cues="marked"
    )
    named = run_folder("colorize", source, tmp_path / "named", tol=1e-6, quiet=True, marked=True)
    other = run_folder("colorize", source, tmp_path / "other", quiet=True, marked=True)
    fingerprint = {Path(r["input"]).name: r.get("options") for r in typed}
    assert fingerprint == {Path(r["input"]).name: r.get("options") for r in named}
    assert fingerprint["img0.png"] != {Path(r["input"]).name: r.get("options") for r in other}["img0.png"]
    with pytest.raises(InputError, match="unknown option 'tolerance'"):
        run_folder("colorize", source, tmp_path / "bad", tolerance=1e-6)
    with pytest.raises(InputError, match="workers must be at least 1"):
        run_folder("colorize", source, tmp_path / "bad", workers=0)
    assert not (tmp_path / "bad").exists()


def test_planning_and_running_are_separate_steps(tmp_path):
    source = folder_of_pairs(tmp_path / "in", count=2)
    settings = RunOptions(quiet=True, ext=".tif", bits=16)
    jobs = plan_colorize(source, tmp_path / "out", Options(), settings, cues="marked")
    assert sorted(job.outputs[-1].name for job in jobs if not job.skip) == ["img0.tif", "img1.tif"]
    assert not (tmp_path / "out").exists()  # planning writes nothing
    made = app.made_with(options=Options(), run=settings, cues="marked")
    report = run_jobs(
        jobs, verb="colorized", run=settings, source=source, output=tmp_path / "out", single=False, made=made
    )
    assert len(report.done) == 2 and report.exit_code == 0
    assert varcolor.read_image(tmp_path / "out" / "img0.tif").shape == (24, 32, 3)


def test_a_single_image_without_cues_says_which_flags_give_them(tmp_path, capsys):
    make_pair(tmp_path)
    code, _, err = run(capsys, "colorize", tmp_path / "img.png", "-o", tmp_path / "out.png")
    assert code == 2 and err.count("\n") == 1
    assert "give --marked, --mask, --points or --reference PHOTO, or --prior ideepcolor" in err
    assert "give --marked to use it" in err
    with pytest.raises(InputError, match="give marked cues, mask cues, points cues or a reference photo, or the prior"):
        plan_colorize(tmp_path / "img.png", tmp_path / "out.png", Options(), RunOptions())


def test_run_parsed_leaves_the_parsed_arguments_as_they_were(tmp_path):
    from varcolor.cli import run_parsed

    folder_of_pairs(tmp_path / "in", count=1)
    args = build_parser().parse_args(["colorize", str(tmp_path / "in"), "--marked", "-o", str(tmp_path / "out"), "-q"])
    before = copy.copy(vars(args))
    assert run_parsed(args) == 0
    assert vars(args) == before


def test_a_folder_run_validates_its_options_once(tmp_path, capsys, monkeypatch):
    """Options are checked when made, and the run passes the one value down (was 8 for 3 images)."""
    folder_of_pairs(tmp_path / "in", count=3)
    made = []
    check = Options.__post_init__
    monkeypatch.setattr(Options, "__post_init__", lambda self: (made.append(1), check(self))[1])
    code, _, _ = run(capsys, "colorize", tmp_path / "in", "--marked", "-o", tmp_path / "out", "-q")
    assert code == 0 and len(list((tmp_path / "out").glob("img*.png"))) == 3
    assert len(made) == 1


def test_a_folder_run_plans_each_image_s_solve_once(tmp_path, capsys, monkeypatch):
    """The plan made when the header is checked is the one the solve uses (was 3 per image)."""
    from varcolor.methods import base

    folder_of_pairs(tmp_path / "in", count=3)
    planned = []
    plan = base.plan_solver
    monkeypatch.setattr(base, "plan_solver", lambda *a, **k: (planned.append(1), plan(*a, **k))[1])
    code, _, _ = run(capsys, "colorize", tmp_path / "in", "--marked", "-o", tmp_path / "out", "-q")
    assert code == 0 and len(list((tmp_path / "out").glob("img*.png"))) == 3
    assert len(planned) == 3


# ---------------------------------------------------------------- one base, one renderer


def test_every_options_value_shares_one_base():
    for kind in (Options, EncodeOptions, RunOptions):
        assert issubclass(kind, OptionValues)
    assert EncodeOptions.build(segments=50).fingerprint() == EncodeOptions(segments=50).fingerprint()
    assert EncodeOptions(segments=50).fingerprint() != EncodeOptions().fingerprint()
    with pytest.raises(InputError, match="^unknown encoder option 'spacings'"):
        EncodeOptions.build(spacings=8)
    with pytest.raises(InputError, match="^max_pixels must be >= 0"):
        RunOptions(max_pixels=-1)
    with pytest.raises(InputError, match="^ext must be .png"):
        RunOptions(ext=".gif")


@pytest.mark.parametrize(
    "options",
    [
        build_options(),
        build_options(method="bilaplacian-gtv", sharpness=4.0, admm_tol=3e-3),
        build_options(tol=1e-6, maxiter=50, max_memory=2.5e9, gamut="clip", space="yiq"),
        build_options(prior="ideepcolor", prior_weight=2e-5, confidence="entropy", automatic="vivid"),
    ],
)
def test_the_flags_rendered_from_options_parse_back_to_the_same_options(options):
    argv = ["colorize", "in.png", "-o", "out.png", *options.flags()]
    assert options_of(build_parser().parse_args(argv)) == options


def test_encoder_flags_parse_back_to_the_same_encoder_options():
    options = EncodeOptions(encoder="selective", segments=30, quantize=16, target_psnr=31.5)
    flags = options.flags()
    assert flags[:2] == ["--encoder", "selective"]
    argv = ["encode", "in.png", "-o", "ir", *flags]
    assert encode_options_of(build_parser().parse_args(argv)) == options


def test_the_studio_prints_its_save_command_with_the_one_renderer():
    argv = command_line(
        Path("a.png"), Path("a_mask.png"), Path("o.png"), {"method": "levin", "prior": "ideepcolor"}, "direct", 8
    )
    # The studio's mask is read as its live view reads it: each stroke pixel in its own colour.
    assert argv[:8] == ["colorize", "a.png", "--mask", "a_mask.png", "--edges", "exact", "-o", "o.png"]
    assert argv[8:] == build_options(method="levin", prior="ideepcolor", solver="direct").flags(always=("method",))
    parsed = build_parser().parse_args(argv)
    assert options_of(parsed) == build_options(method="levin", prior="ideepcolor", solver="direct")
    assert parsed.edges == "exact"


def test_cue_files_are_written_where_they_are_found(tmp_path):
    for kind in CUE_KINDS:
        path = cue_path(tmp_path / kind, "scan.v2", kind)
        path.parent.mkdir()
        path.write_bytes(b"")
        assert is_cue_file(path) and kind_of(path) == kind
        assert find_cue(tmp_path / "x" / "scan.v2.png", tmp_path / kind) == (kind, path)


def test_a_cue_file_named_in_another_unicode_normalisation_is_found(tmp_path, capsys):
    import unicodedata

    composed, decomposed = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    assert composed != decomposed  # two names to Linux
    make_pair(tmp_path, name=composed)
    (tmp_path / f"{composed}_marked.png").rename(tmp_path / f"{decomposed}_marked.png")  # copied from a Mac
    kind, path = find_cue(tmp_path / f"{composed}.png", tmp_path)
    assert (kind, path) == ("marked", tmp_path / f"{decomposed}_marked.png")
    code, _, err = run(capsys, "colorize", tmp_path, "-o", tmp_path / "out", "-q")
    assert code == 0, err
    assert (tmp_path / "out" / f"{composed}.png").is_file()


def test_flag_words_names_flags_only_where_a_message_begins_with_an_option():
    assert flag_words("quantize takes 1..256 colours (0: no palette), got 300").startswith("--quantize takes")
    assert flag_words("a.png: max_pixels must be >= 0") == "a.png: --max-pixels must be >= 0"
    assert flag_words("a.png: the image must be in colour") == "a.png: the image must be in colour"


# ---------------------------------------------------------------- the wall between library and command line


@functools.cache
def _modules(root: Path) -> tuple[tuple[Path, ast.Module], ...]:
    """Each module under ``root`` and its syntax tree, parsed once for the checks that read them."""
    return tuple(
        (path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))) for path in sorted(root.rglob("*.py"))
    )


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names (``from ..cli import x`` in varcolor/batch.py: varcolor.cli)."""
    if not node.level:
        return node.module or ""
    parts = ["varcolor", *path.relative_to(PACKAGE).with_suffix("").parts][:-1]  # the package it is in
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def test_no_library_module_imports_the_command_line_or_argparse_or_reads_argv():
    offences = []
    for path, tree in _modules(PACKAGE):
        if path.relative_to(PACKAGE).parts[0] == "cli":
            continue
        # A module's own ``if __name__ == "__main__":`` block is a process's entry point (the
        # studio's save child, the background compile), not the library: its argv is its own.
        entry = {
            id(inner)
            for node in tree.body
            if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in entry:
                continue
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(path, node)
                names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            for name in names:
                if name == "argparse" or name == "varcolor.cli" or name.startswith("varcolor.cli."):
                    offences.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports {name}")
            if isinstance(node, ast.Attribute) and node.attr == "argv":
                if isinstance(node.value, ast.Name) and node.value.id == "sys":
                    offences.append(f"{path.relative_to(PACKAGE)}:{node.lineno} reads sys.argv")
    assert offences == []


def _runs_the_command_line(node: ast.AST) -> bool:
    """Whether ``node`` is code for another process that runs varcolor's command line: Python
    source in a string that imports ``varcolor.cli``, or an argument list ``-m varcolor[.cli]``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "import" in node.value:
        try:
            code = ast.parse(node.value)
        except SyntaxError:
            return False
        for inner in ast.walk(code):
            names = [alias.name for alias in getattr(inner, "names", [])] if isinstance(inner, ast.Import) else []
            if isinstance(inner, ast.ImportFrom) and inner.module:
                names = [inner.module] + [f"{inner.module}.{alias.name}" for alias in inner.names]
            if any(name == "varcolor.cli" or name.startswith("varcolor.cli.") for name in names):
                return True
    if isinstance(node, (ast.List, ast.Tuple)):
        words = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
        return any(a == "-m" and b in ("varcolor", "varcolor.cli") for a, b in zip(words, words[1:]))
    return False


#: Modules that run the command as a user would, on purpose: the Krita check drives Krita, whose
#: plug-in runs the user's ``varcolor`` program (Krita's own Python cannot import varcolor), and
#: compares its layer with what ``varcolor colorize`` writes; the Krita install writes down that
#: program's command for the plug-in.
RUNS_THE_COMMAND_AS_A_USER = {"krita/check.py", "krita/install.py"}


def test_no_library_module_runs_the_command_line_in_a_child():
    """The studio's save child calls the application layer, not ``varcolor.cli``'s ``main``."""
    offences = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path, tree in _modules(PACKAGE)
        if path.relative_to(PACKAGE).parts[0] != "cli"
        and path.relative_to(PACKAGE).as_posix() not in RUNS_THE_COMMAND_AS_A_USER
        for node in ast.walk(tree)
        if _runs_the_command_line(node)
    ]
    assert offences == []
    assert _runs_the_command_line(ast.parse(repr("import sys\nfrom varcolor.cli import main\n")).body[0].value)
    assert _runs_the_command_line(ast.parse('[sys.executable, "-m", "varcolor", "colorize"]').body[0].value)


def test_the_command_line_imports_no_private_name_of_the_library():
    offences = []
    for path, tree in _modules(PACKAGE / "cli"):
        library_modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = _absolute(path, node)
                inside = module == "varcolor.cli" or module.startswith("varcolor.cli.")
                if not inside and module.startswith("varcolor"):
                    for alias in node.names:
                        if alias.name.startswith("_") and not alias.name.startswith("__"):
                            offences.append(f"{path.name}:{node.lineno} imports {module}.{alias.name}")
                        library_modules.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in library_modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                offences.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert offences == []


def test_the_wall_checks_see_an_offence(tmp_path):
    """The checks above find what they look for (a relative import of the CLI; a private name)."""
    fake = PACKAGE / "io.py"
    node = ast.parse("from .cli import build_parser").body[0]
    assert _absolute(fake, node) == "varcolor.cli"
    node = ast.parse("from ..batch import _attempt").body[0]
    assert _absolute(PACKAGE / "cli" / "ir.py", node) == "varcolor.batch"
    assert dataclasses.is_dataclass(RunOptions)


def test_a_gray_scan_saved_as_rgb_is_solved_as_its_gray_channel(tmp_path, monkeypatch, capsys):
    # A scanner's gray print saved as 16-bit RGB (three equal channels): the command reads it as
    # gray (its RGB in float64 was 0.96 GB of a 40 MP run's 2.4 GB peak) and writes what the gray
    # file gives, bit for bit.
    import tifffile
    from skimage import data
    from skimage.transform import resize

    from varcolor.app import solve

    from ..conftest import run

    gray = (resize(data.camera(), (96, 128), anti_aliasing=True) * 65535).astype(np.uint16)
    tifffile.imwrite(tmp_path / "gray.tif", gray)
    tifffile.imwrite(tmp_path / "rgb.tif", np.repeat(gray[..., None], 3, axis=2), photometric="rgb")
    marked = np.repeat(gray[..., None], 3, axis=2)
    marked[20:24, 20:60] = (50000, 20000, 20000)
    marked[70:74, 60:110] = (15000, 30000, 52000)
    tifffile.imwrite(tmp_path / "marked.tif", marked, photometric="rgb")
    read = []
    reader = solve.read_image
    monkeypatch.setattr(solve, "read_image", lambda *a, **k: read.append(reader(*a, **k)) or read[-1])
    for name in ("gray", "rgb"):
        code, _, err = run(
            capsys,
            "colorize",
            tmp_path / f"{name}.tif",
            "--marked",
            tmp_path / "marked.tif",
            "-o",
            tmp_path / f"{name}_out.tif",
        )
        assert code == 0, err
    assert [image.ndim for image in read] == [2, 2]
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "rgb_out.tif"), tifffile.imread(tmp_path / "gray_out.tif"))


@pytest.mark.slow  # 6 s of traced allocations in make test; make test-slow runs it
def test_a_16_bit_rgb_scan_is_colorized_within_its_memory_bound(tmp_path, capsys):
    # The whole command on a 2 MP 16-bit RGB TIFF of a gray scan with a few strokes, NumPy's
    # allocations traced (deterministic, unlike the resident size): 91 bytes a pixel at once, where
    # the RGB held as float64 through the solve and the marks scaled through two float64 copies
    # came to 123. (Below 16 MP the colorizer also keeps what its edits reuse: the lightness, the
    # lift; a 40 MP scan's own peak is benchmarks/engine.py --targets'.)
    import tracemalloc

    import tifffile

    from ..conftest import run

    rng = np.random.default_rng(0)
    height, width = 1200, 1700
    gray = (np.linspace(0.2, 0.8, width)[None, :] * np.linspace(0.7, 1.0, height)[:, None] * 65535).astype(np.uint16)
    gray += rng.integers(0, 200, gray.shape, dtype=np.uint16)
    tifffile.imwrite(tmp_path / "scan.tif", np.repeat(gray[..., None], 3, axis=2), photometric="rgb")
    marked = np.repeat(gray[..., None], 3, axis=2)
    for k in range(8):
        top, left = 100 + 130 * k, 150 + 170 * k
        marked[top : top + 6, left : left + 300] = rng.integers(10000, 60000, 3)
    tifffile.imwrite(tmp_path / "marked.tif", marked, photometric="rgb")
    argv = ["colorize", tmp_path / "scan.tif", "--marked", tmp_path / "marked.tif", "-o", tmp_path / "out.tif"]
    run(capsys, *argv, "-o", tmp_path / "warm.tif")  # the kernels loaded before tracing
    tracemalloc.start()
    try:
        code, _, err = run(capsys, *argv)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0, err
    assert tifffile.imread(tmp_path / "out.tif").shape == (height, width, 3)
    assert peak / gray.size <= 105, f"{peak / gray.size:.0f} bytes a pixel"


def test_a_folder_run_reports_a_folder_it_cannot_list_and_a_linked_folder(tmp_path, capsys, monkeypatch):
    from ..conftest import run

    make_pair(tmp_path / "in", "a")
    make_pair(tmp_path / "in" / "locked", "b")
    make_pair(tmp_path / "elsewhere", "c")
    (tmp_path / "in" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    locked = tmp_path / "in" / "locked"
    scandir = os.scandir

    def refusing(path="."):  # as a folder without read permission (the tests may run as root)
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out")
    assert code == 1, err
    assert f"error: {locked}: cannot list the folder (Permission denied); its images were not read" in err
    assert f"skipped: {tmp_path / 'in' / 'linked'}: a link to a folder, not followed" in err
    assert "colorized 1, skipped 1, failed 1" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".png") == ["a.png"]


def test_the_report_says_which_job_failed_and_how_typed_not_as_text(tmp_path):
    """Report.failed / skipped are typed (batch.Outcome): the job's name, its line, the error's
    class, so a caller never parses a message (a name holding ": " stays one name)."""
    from varcolor.app import colorize_folder
    from varcolor.batch import Outcome

    source = folder_of_pairs(tmp_path / "in", count=2)
    (source / "bad: one.png").write_bytes(b"not a PNG")  # a file named with ": ", unreadable
    varcolor.write_image(source / "bad: one_marked.png", np.zeros((8, 8, 3)))
    (tmp_path / "out").mkdir()
    varcolor.write_image(tmp_path / "out" / "img1.png", np.zeros((8, 8)))  # kept: not overwritten
    report = colorize_folder(source, tmp_path / "out", Options(), RunOptions(quiet=True), cues="marked", warn=None)
    assert all(isinstance(one, Outcome) for one in report.failed + report.skipped)
    assert [(one.name, one.error) for one in report.failed] == [(str(source / "bad: one.png"), "InputError")]
    assert str(report.failed[0]) == report.failed[0].line and report.failed[0].line.startswith(str(source / "bad: one"))
    skipped = {Path(one.name).name: one for one in report.skipped}
    assert set(skipped) == {"colour.png", "img1.png"} and all(one.error is None for one in skipped.values())
    records = {row["input"]: row for row in report.rows}
    for one in report.failed + report.skipped:  # the same names and lines as the manifest's records
        assert records[one.name]["reason"] == one.line
    assert report.exit_code == 1


def test_the_api_driver_never_touches_an_input_whatever_its_output_or_reference(tmp_path):
    """run_folder's chain and reference routes with the output at the input folder or file, or
    the inputs given as the reference: refused in one line or failed per photo, never overwritten."""
    import hashlib

    source = tmp_path / "in"
    make_pair(source, "a", seed=0)
    make_pair(source, "b", seed=1)

    def digests():
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(source.iterdir())}

    before = digests()
    tries = [
        {"chain": True, "marked": True},
        {"reference": source},
        {"reference": [source / "a.png"], "chain": True, "marked": True},
        {"reference": source / "a.png"},
    ]
    for keywords in tries:
        for output in (source, source / "a.png"):
            try:
                rows = run_folder("colorize", source, output, quiet=True, warn=None, **keywords)
            except InputError:
                continue
            assert all(row["status"] != "done" for row in rows), (keywords, output)
    after = digests()
    assert {name: after[name] for name in before} == before  # the inputs, byte for byte


@pytest.mark.parametrize(
    "given, named",
    [
        ({"confidence_map": ""}, "confidence_map"),  # wrote a_confidence.png into the working folder
        ({"confidence_map": 3}, "confidence_map"),
        ({"reference": {"r.png": 1}}, "reference="),  # a dict's keys read as paths
        ({"reference": []}, "reference="),  # ran with no reference
        ({"reference": ""}, "reference="),
        ({"reference": 123}, "reference="),
        ({"reference": [1, 2]}, "reference="),
        ({"reference": b"ref.png"}, "reference="),
        ({"chain": "no"}, "chain="),  # ran a chain
        ({"marked": 3}, "marked="),
    ],
)
def test_run_folder_refuses_arguments_of_the_wrong_kind_naming_them(tmp_path, monkeypatch, given, named):
    from varcolor.app.run import run_folder

    monkeypatch.chdir(tmp_path)
    varcolor.write_image(tmp_path / "in" / "a.png", np.random.default_rng(0).random((16, 16)))
    with pytest.raises(InputError) as refused:
        run_folder("colorize", tmp_path / "in", tmp_path / "out", **given)
    assert named in str(refused.value) and "\n" not in str(refused.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # nothing written anywhere


def test_outputs_written_into_the_input_folder_are_no_inputs_of_a_later_run_elsewhere(tmp_path, capsys):
    """``-o in --ext .tif`` left in/a.tif beside in/a.png: every later run of ``in`` into another
    folder then failed each photo ("its output out2/a.png would also be written for in/a.tif")."""
    from tests.conftest import run

    source = tmp_path / "in"
    varcolor.write_image(source / "a.png", np.full((20, 20), 0.5))
    strokes = np.zeros((20, 20, 3))
    strokes[5:8, 5:15] = (0.8, 0.2, 0.2)
    varcolor.write_image(source / "a_mask.png", strokes)
    assert run(capsys, "colorize", source, "-o", source, "--ext", ".tif", "-q")[0] == 0
    assert (source / "a.tif").is_file()
    code, _, err = run(capsys, "colorize", source, "-o", tmp_path / "out", "-q")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", MANIFEST]


def test_a_map_folder_holding_photos_is_refused_not_marked(tmp_path, capsys):
    """A --confidence-map folder is marked so that no later run reads its maps as photos: marked,
    a folder of the user's own photos (here one the run itself walks) would be passed over by
    every later run. Refused in one line, nothing written."""
    from tests.conftest import run

    source = tmp_path / "in"
    for name in ("a", "sub/b"):
        varcolor.write_image(source / f"{name}.png", np.full((20, 20), 0.5))
        strokes = np.zeros((20, 20, 3))
        strokes[5:8, 5:15] = (0.8, 0.2, 0.2)
        varcolor.write_image(source / f"{name}_mask.png", strokes)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, _, err = run(capsys, "colorize", source, "-o", tmp_path / "out", "--confidence-map", source / "sub")
    assert code == 2 and "holds photos" in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    code, _, err = run(capsys, "colorize", source, "-o", tmp_path / "out", "--confidence-map", tmp_path / "maps", "-q")
    assert code == 0, err
    argv = ("colorize", source, "-o", tmp_path / "out2", "--confidence-map", tmp_path / "maps", "--overwrite", "-q")
    code, _, err = run(capsys, *argv)  # a rerun into the folder it marked
    assert code == 0 and len(list((tmp_path / "maps").rglob("*_confidence.png"))) == 2, err
