"""MkDocs hook: pages made at build time from the repository itself, so they cannot drift.

- ``cli.md``: every ``varcolor`` subcommand's ``--help``, from ``varcolor.cli.build_parser()``;
- ``results/NAME.md`` (and ``.png``): each table and plot in ``benchmarks/results/``;
- ``model-card.md`` and ``changelog.md``: ``models/README.md`` and ``CHANGELOG.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


def _cli_page() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps help text to the terminal's width
    sys.path.insert(0, str(ROOT))  # this checkout's varcolor, not another installed copy
    from varcolor.cli import build_parser

    parser = build_parser()
    parser.prog = "varcolor"
    lines = ["# Command-line reference", "",
             "Generated from the parser at build time (`varcolor --help` and `varcolor COMMAND --help`",
             "print the same text).", "", "```text", parser.format_help().rstrip(), "```", ""]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                lines += [f"## varcolor {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


def _result_page(table: Path) -> str:
    body = table.read_text(encoding="utf-8")
    title, rest = (body.split("\n", 1) if body.startswith("# ") else (f"# {table.stem}", body))
    text = [title, "",
            f"`benchmarks/results/{table.name}`, as committed (the JSON beside it holds the run's",
            "settings and raw numbers). What each benchmark measures: [Benchmarks](../benchmarks.md).", ""]
    if table.with_suffix(".png").exists():
        text += [f"![{table.stem}]({table.stem}.png)", ""]
    text.append(rest)
    return "\n".join(text)


def _site_links(markdown: str, page) -> str:
    """Links written for GitHub (``../benchmarks/results/X``) point at the site's copies."""
    up = "../" * page.file.src_uri.count("/")
    return re.sub(r"\]\((?:\.\./)+benchmarks/results/", f"]({up}results/", markdown)


def on_page_markdown(markdown, page, config, files):
    """Rewrite GitHub-style result links; the benchmarks index lists every committed result."""
    markdown = _site_links(markdown, page)
    if page.file.src_uri != "benchmarks.md":
        return markdown
    missing = [t.stem for t in sorted(RESULTS.glob("*.md")) if f"(results/{t.stem}.md)" not in markdown]
    rows = [f"| [{name}](results/{name}.md) | | (not described here yet) |" for name in missing]
    return markdown.rstrip("\n") + "\n" + "\n".join(rows) + "\n" if rows else markdown


def on_files(files, config):
    def add(uri: str, content: str | None = None, path: Path | None = None) -> None:
        files.append(File.generated(config, uri, content=content,
                                    abs_src_path=None if path is None else str(path)))

    add("cli.md", _cli_page())
    add("model-card.md", (ROOT / "models" / "README.md").read_text(encoding="utf-8"))
    # CHANGELOG.md links into docs/ from the repository root; on the site it sits beside them.
    add("changelog.md", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").replace("](docs/", "]("))
    for table in sorted(RESULTS.glob("*.md")):
        add(f"results/{table.name}", _result_page(table))
    for plot in sorted(RESULTS.glob("*.png")):
        add(f"results/{plot.name}", path=plot)
    return files
