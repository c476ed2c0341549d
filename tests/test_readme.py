"""Every code block of the README works as written: Python blocks run (in an empty scratch folder:
nothing is read from or written into the checkout), and every ``varcolor`` command line parses with today's
options."""

import re
import shlex
from pathlib import Path

import pytest

from varcolor.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


def command_lines() -> list[str]:
    lines = []
    for block in blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            for command in line.split(";"):
                command = command.split(" #")[0].strip()
                if command.startswith("varcolor "):
                    lines.append(command)
    return lines


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_blocks_run(tmp_path, index, monkeypatch):
    # From an empty folder, not the checkout: the bundled example comes with the package (varcolor.data).
    before = sorted(
        p.relative_to(ROOT).as_posix()
        for p in ROOT.rglob("*")
        if ".git" not in p.parts
        and ".venv" not in p.parts
        and "__pycache__" not in p.parts
        and ".pytest_cache" not in p.parts
    )
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks("python")[index], f"README.md python block {index + 1}", "exec"), {})
    after = sorted(
        p.relative_to(ROOT).as_posix()
        for p in ROOT.rglob("*")
        if ".git" not in p.parts
        and ".venv" not in p.parts
        and "__pycache__" not in p.parts
        and ".pytest_cache" not in p.parts
    )
    assert after == before  # nothing written into the checkout


def test_there_are_command_lines_to_check():
    assert len(command_lines()) >= 10


@pytest.mark.parametrize("line", command_lines())
def test_command_lines_parse(line):
    argv = shlex.split(line)[1:]
    if "--help" in argv or "--version" in argv:
        return
    build_parser().parse_args(argv)  # argparse exits (SystemExit) on an unknown option or value


def test_each_half_of_the_python_example_prints_what_it_did(tmp_path, monkeypatch, capsys):
    # Run as a newcomer pastes it: the one-shot half prints its info and scores, and the
    # interactive half (Colorizer.solve, then update) says how the stroke was added.
    monkeypatch.chdir(tmp_path)
    code = blocks("python")[0]
    interactive = code.index("cz = varcolor.Colorizer")
    exec(compile(code[:interactive], "README.md, one-shot half", "exec"), namespace := {})
    assert capsys.readouterr().out.strip()
    exec(compile(code[interactive:], "README.md, interactive half", "exec"), namespace)
    printed = capsys.readouterr().out.strip()
    assert printed == str(namespace["second"].info["update"])
