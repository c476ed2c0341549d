"""Pages of docs/ made from the repository itself and committed, so that a reader of the repository
finds them whole (not only the built site): ``docs/cli.md`` (every ``varcolor`` command's
``--help``) and ``docs/model-card.md`` (the shipped network's model card,
``varcolor/neural/models/README.md``). ``python docs/hooks/pages.py`` writes them again;
tests/test_docs_pages.py fails while one is out of date, and so does ``make docs``.

Standard library and varcolor only (no MkDocs): the tests import it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The width the help is wrapped to (argparse wraps to the terminal's).
COLUMNS = 100
#: The Python the committed pages are written with: argparse's layout of the help changes
#: between versions (3.13 writes ``-o, --output OUTPUT`` where 3.11 writes ``-o OUTPUT, --output
#: OUTPUT``), so the pages are compared word for word only under this one.
PYTHON = (3, 11)
_MARK = "<!-- Written by docs/hooks/pages.py from {source}: edit that, then run python docs/hooks/pages.py -->"


def cli_page() -> str:
    """``docs/cli.md``: the help of ``varcolor`` and of each of its commands."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(COLUMNS)
    sys.path.insert(0, str(ROOT))  # this checkout's varcolor, not another installed copy
    try:
        from varcolor.cli import build_parser

        parser = build_parser()
        parser.prog = "varcolor"
        lines = [
            "# Command-line reference",
            "",
            _MARK.format(source="the command line's own parser"),
            "",
            "Every `varcolor` command's options, as `varcolor --help` and `varcolor COMMAND --help` print",
            "them; [the cues guide](guide/cues.md#command-line-in-full) walks through the commands with",
            "examples.",
            "",
            "```text",
            parser.format_help().rstrip(),
            "```",
            "",
        ]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    lines += [f"## varcolor {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
                    lines += _actions(sub, f"varcolor {name}")
    finally:
        sys.path.remove(str(ROOT))
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(lines).rstrip() + "\n"


def _actions(parser: argparse.ArgumentParser, prog: str) -> list[str]:
    """The help of a command's actions (``varcolor krita install``, …), one section each."""
    lines = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                lines += [f"### {prog} {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
    return lines


def model_card_page() -> str:
    """``docs/model-card.md``: the model card beside the weights, as it is."""
    card = (ROOT / "varcolor" / "neural" / "models" / "README.md").read_text(encoding="utf-8")
    title, _, rest = card.partition("\n")
    return f"{title}\n{_MARK.format(source='varcolor/neural/models/README.md')}\n{rest}"


#: Each committed page (under docs/) and what makes it.
PAGES: dict[str, Callable[[], str]] = {"cli.md": cli_page, "model-card.md": model_card_page}


def stale() -> list[str]:
    """The pages whose committed text is not what would be written now."""
    found = []
    for name, make in PAGES.items():
        path = ROOT / "docs" / name
        if not path.exists() or path.read_text(encoding="utf-8") != make():
            found.append(f"docs/{name}")
    return found


def main() -> int:
    for name, make in PAGES.items():
        (ROOT / "docs" / name).write_text(make(), encoding="utf-8")
        print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
