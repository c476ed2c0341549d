"""MkDocs hook: pages made at build time from the repository itself, so they cannot drift.

- ``docs/cli.md`` (every command's ``--help``) and ``docs/model-card.md`` are committed, written by
  ``docs/hooks/pages.py``; the build fails while one of them is out of date;
- ``results/NAME.md`` (and ``.png``): each table and plot in ``benchmarks/results/``;
- ``changelog.md``: ``CHANGELOG.md``;
- ``examples/NAME.md`` (and ``.png``): the gallery. Each script in ``examples/`` is run as a user
  runs it, its picture written to a temporary folder, and its page shows the docstring, the code,
  what it printed and the picture. A script that fails or overruns fails the build; one too slow
  for the build is shown, not run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
# Beside this hook: what writes the committed pages (docs/cli.md, docs/model-card.md).
_spec = importlib.util.spec_from_file_location("varcolor_pages", Path(__file__).with_name("pages.py"))
pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pages)

RESULTS = ROOT / "benchmarks" / "results"
EXAMPLES = ROOT / "examples"

# The gallery: each script's arguments ({out}: a temporary folder) and the picture it leaves there,
# or None for a script shown but not run. All read only examples/data/ (from scikit-image's chelsea).
GALLERY = {
    "interactive": (["{out}/stages.png"], "stages.png"),
    "store_as_gray": (["{out}/stages.png"], "stages.png"),
    "plot_demo": (["{out}/demo.png"], "demo.png"),
    "make_example": (["{out}"], "chelsea_marked.png"),  # into the temporary folder, not examples/data/
    "restorer_round_trip": (["{out}/round_trip.png"], "round_trip.png"),
    "reference_photo": (["{out}/reference.png"], "reference.png"),
    # Three GTV solves, 926 ADMM iterations: 15 s of ADMM on an idle 2-core machine (a 2026-11-22 run),
    # 6 minutes on the same machine shared and busy (its parallel steps wait on contended cores).
    "gtv_preview": None,
}
EXAMPLE_TIMEOUT = 300  # seconds a script may take: each needs under 10 on two idle cores; room for a busy machine
_RUNS: dict[str, tuple[str, dict]] = {}  # name -> (source hash, run): `mkdocs serve` reruns only edits


def _result_page(table: Path) -> str:
    body = table.read_text(encoding="utf-8")
    title, rest = body.split("\n", 1) if body.startswith("# ") else (f"# {table.stem}", body)
    text = [
        title,
        "",
        f"`benchmarks/results/{table.name}`, as committed (the JSON beside it holds the run's",
        "settings and raw numbers). What each benchmark measures: [Benchmarks](../benchmarks.md).",
        "",
    ]
    if table.with_suffix(".png").exists():
        text += [f"![{table.stem}]({table.stem}.png)", ""]
    text.append(rest)
    return "\n".join(text)


def _site_links(markdown: str, page) -> str:
    """Links written for GitHub (``../benchmarks/results/X``, ``../examples/NAME.py``) point at
    the site's copies (the results' pages, the gallery's)."""
    up = "../" * page.file.src_uri.count("/")
    markdown = re.sub(r"\]\((?:\.\./)+benchmarks/results/", f"]({up}results/", markdown)
    return re.sub(r"\]\((?:\.\./)+examples/(\w+)\.py([#)])", rf"]({up}examples/\1.md\2", markdown)


def on_page_markdown(markdown, page, config, files):
    """Rewrite GitHub-style result links; the benchmarks index lists every committed result."""
    markdown = _site_links(markdown, page)
    if page.file.src_uri != "benchmarks.md":
        return markdown
    missing = [t.stem for t in sorted(RESULTS.glob("*.md")) if f"(results/{t.stem}.md)" not in markdown]
    rows = [f"| [{name}](results/{name}.md) | | (not described here yet) |" for name in missing]
    return markdown.rstrip("\n") + "\n" + "\n".join(rows) + "\n" if rows else markdown


def _run_example(name: str) -> dict:
    """Run ``examples/NAME.py`` in a fresh interpreter on this checkout; its output and picture."""
    arguments, picture = GALLERY[name]
    with tempfile.TemporaryDirectory(prefix=f"varcolor-docs-{name}-") as out:
        path = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}  # this checkout's varcolor first
        command = [sys.executable, str(EXAMPLES / f"{name}.py"), *(a.format(out=out) for a in arguments)]
        start = time.perf_counter()
        try:
            run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise PluginError(f"examples/{name}.py: still running after {EXAMPLE_TIMEOUT} s") from None
        seconds = time.perf_counter() - start
        if run.returncode != 0:
            raise PluginError(f"examples/{name}.py failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        image = Path(out) / picture
        if not image.is_file():
            raise PluginError(f"examples/{name}.py did not write {picture}")
        # The temporary folder's name is not what a reader would see.
        stdout = run.stdout.replace(out, "OUT").rstrip()
        return {"stdout": stdout, "seconds": seconds, "png": image.read_bytes()}


def _run_gallery() -> dict[str, dict]:
    """Every gallery script, two at a time (the docs build's budget is 2 cores)."""
    ran = [name for name in GALLERY if GALLERY[name] is not None]
    sources = {name: hashlib.sha256((EXAMPLES / f"{name}.py").read_bytes()).hexdigest() for name in ran}
    stale = [name for name in ran if _RUNS.get(name, ("", None))[0] != sources[name]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, run in zip(stale, pool.map(_run_example, stale), strict=True):
            _RUNS[name] = (sources[name], run)
    return {name: _RUNS[name][1] if name in ran else None for name in GALLERY}


def _rst_to_markdown(text: str) -> str:
    """The reStructuredText the examples' docstrings use beyond Markdown: ``code`` and :meth:`x`."""
    text = re.sub(r":(?:meth|func|class|mod|attr):`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def _example_page(name: str, run: dict | None) -> str:
    source = (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")
    match = re.match(r'\s*"""(.*?)"""\n', source, re.S)
    docstring, code = (match.group(1), source[match.end() :]) if match else ("", source)
    title, _, intro = docstring.strip().partition("\n")
    page = [f"# {title.strip().rstrip('.')}", "", _rst_to_markdown(intro.strip()), ""]
    if run is None:
        page += [
            f"Source: `examples/{name}.py`. Too slow to run in the documentation build: "
            "`make test-slow` runs it (`tests/test_examples.py`).",
            "",
        ]
    else:
        arguments, picture = GALLERY[name]
        shown = " ".join(a.format(out="OUT").replace("OUT/", "") for a in arguments)
        page += [
            f"Source: `examples/{name}.py`. The documentation build ran `python examples/{name}.py {shown}` "
            f"({run['seconds']:.1f} s) and shows what it printed and drew.",
            "",
        ]
    page += ["```python", code.strip("\n"), "```", ""]
    if run is not None:
        page += ["Output:", "", "```text", run["stdout"], "```", "", f"![{picture}]({name}.png)", ""]
    return "\n".join(page)


def on_files(files, config):
    def add(uri: str, content: str | None = None, path: Path | None = None) -> None:
        stub = files.get_file_from_path(uri)
        if stub is not None:
            files.remove(stub)
        files.append(File.generated(config, uri, content=content, abs_src_path=None if path is None else str(path)))

    stale = pages.stale()
    if stale:
        raise PluginError(f"{', '.join(stale)} out of date: run python docs/hooks/pages.py")
    # CHANGELOG.md links into docs/ from the repository root; on the site it sits beside them.
    add("changelog.md", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").replace("](docs/", "]("))
    for table in sorted(RESULTS.glob("*.md")):
        add(f"results/{table.name}", _result_page(table))
    for plot in sorted(RESULTS.glob("*.png")):
        add(f"results/{plot.name}", path=plot)
    for name, run in _run_gallery().items():
        add(f"examples/{name}.md", _example_page(name, run))
        if run is not None:
            files.append(File.generated(config, f"examples/{name}.png", content=run["png"]))
    return files
