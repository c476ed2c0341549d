"""docs/cli.md and docs/model-card.md are whole pages in the repository (they were stubs filled only
by ``make docs``), and current: what docs/hooks/pages.py writes from the parser and the model card."""

import argparse
import importlib.util
import sys

import pytest

from varcolor.cli import build_parser

from .test_docs_text import ROOT

spec = importlib.util.spec_from_file_location("pages", ROOT / "docs" / "hooks" / "pages.py")
pages = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pages)


@pytest.mark.skipif(sys.version_info[:2] != pages.PYTHON, reason="argparse lays out help differently")
def test_the_committed_pages_are_what_the_generator_writes_now():
    assert pages.stale() == [], "run: python docs/hooks/pages.py"


def _commands(parser: argparse.ArgumentParser, prog: str):
    """Each command (``varcolor krita check``, …) with its option strings (a hidden one's aside:
    ``metrics --reference``, which only refuses its former meaning)."""
    shown = [action for action in parser._actions if action.help != argparse.SUPPRESS]
    yield prog, [option for action in shown for option in action.option_strings]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{prog} {name}")


def test_every_command_and_option_is_on_the_cli_page():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = []
    for command, options in _commands(build_parser(), "varcolor"):
        heading = next((h for h in (f"## {command}\n", f"### {command}\n") if h in text), None)
        if command != "varcolor" and heading is None:
            missing.append(command)
            continue
        section = text.split(heading, 1)[1].split("\n#", 1)[0] if heading else text
        missing += [f"{command} {option}" for option in options if option not in section]
    assert missing == []


def test_the_model_card_page_is_the_card_beside_the_weights():
    card = (ROOT / "varcolor" / "neural" / "models" / "README.md").read_text(encoding="utf-8")
    page = (ROOT / "docs" / "model-card.md").read_text(encoding="utf-8")
    assert page.splitlines()[0] == card.splitlines()[0]
    assert [line for line in page.splitlines() if not line.startswith("<!--")] == card.splitlines()
