"""The documentation is for users: no tracker issue numbers or machine paths in docs/, README or the
changelog; each guide page short enough to read (tables live in benchmarks/results/); the README
under 10 KB."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md", ROOT / "CHANGELOG.md"]
#: "issue 37", "issues 36–38", "#12", and paths of a machine (a user's home, this project's work folders).
TRACKER_OR_MACHINE = re.compile(r"\bissues? \d+|(?:^|[\s(])#\d+\b|/work/|/home/\w|/Users/\w", re.IGNORECASE)
GUIDE_WORDS = 1600  # "about 1,500": what a page is, when to use it, one example, one picture


def offences(text: str) -> list[str]:
    """The lines of ``text`` that name a tracker issue or a machine path, outside code blocks."""
    found, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced and TRACKER_OR_MACHINE.search(line):
            found.append(f"{number}: {line.strip()[:100]}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_issue_numbers_or_machine_paths(page):
    assert offences(page.read_text(encoding="utf-8")) == []


#: User guides outside docs/guide/ held to the same length (their lab notes live in benchmarks/results/).
LONG_GUIDES = [ROOT / "docs" / "studio.md", ROOT / "docs" / "video.md"]


@pytest.mark.parametrize("page", sorted((ROOT / "docs" / "guide").glob("*.md")) + LONG_GUIDES, ids=lambda p: p.name)
def test_guide_pages_are_short(page):
    assert len(page.read_text(encoding="utf-8").split()) <= GUIDE_WORDS


def test_readme_is_under_10_kb():
    assert (ROOT / "README.md").stat().st_size <= 10_000


def test_the_check_finds_what_it_should():
    text = "see issue 37 and #12\n```\n# 3 comment in code: #4 is fine here\n```\nfile /work/x, fine: PR-12, C#9"
    assert [line.split(":")[0] for line in offences(text)] == ["1", "5"]


def _links(page: Path) -> list[str]:
    """The relative link targets of a Markdown page, outside code blocks (no scheme, no bare anchor)."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:|#", t)]


def test_no_dead_links_for_a_reader_of_the_repository_or_of_the_site():
    """Every link in README and docs/ opens a file of the repository (pages the docs build makes —
    the command-line reference, the model card — have stubs in docs/ that point to their
    sources); and the docs hook's rewriting of them points at a page the site has."""
    import importlib.util
    from types import SimpleNamespace

    pytest.importorskip("mkdocs")
    spec = importlib.util.spec_from_file_location("varcolor_docs", ROOT / "docs" / "hooks" / "varcolor_docs.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    generated = {"changelog.md"}
    generated |= {f"results/{p.name}" for p in (ROOT / "benchmarks" / "results").glob("*.*")}
    generated |= {f"examples/{p.stem}.md" for p in (ROOT / "examples").glob("*.py")}
    dead = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        dead += [f"{page.relative_to(ROOT)}: {t}" for t in _links(page) if not (page.parent / t.split("#")[0]).exists()]
        uri = page.relative_to(ROOT).as_posix().removeprefix("docs/")
        if page.parent == ROOT or uri in generated:  # the README; a stub the site replaces
            continue
        site = hook._site_links(page.read_text(encoding="utf-8"), SimpleNamespace(file=SimpleNamespace(src_uri=uri)))
        for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"```.*?```", "", site, flags=re.S)):
            if re.match(r"[a-z]+:|#", target):
                continue
            resolved = os.path.normpath(os.path.join(os.path.dirname(uri), target.split("#")[0]))
            if not ((ROOT / "docs" / resolved).exists() or resolved in generated) or resolved.startswith(".."):
                dead.append(f"{uri} on the site: {target}")
    assert not dead, dead


def test_every_page_of_the_site_is_in_its_menu_or_said_to_be_outside_it():
    # A page neither in the menu nor under `not_in_nav` is one INFO line of every `make docs`
    # (about 95 of them for the benchmark tables, which benchmarks.md links instead).
    pytest.importorskip("mkdocs")
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))

    def listed(entries):
        for entry in entries:
            values = entry.values() if isinstance(entry, dict) else [entry]
            for value in values:
                yield from listed(value) if isinstance(value, list) else [value]

    menu = set(listed(config["nav"]))
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    pages += [f"results/{p.name}" for p in (ROOT / "benchmarks" / "results").glob("*.md")]
    outside = [page for page in pages if page not in menu and not config["not_in_nav"].match_file(page)]
    assert outside == []
    assert not config["not_in_nav"].match_file("guide/cues.md")  # the check can fail
