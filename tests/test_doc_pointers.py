"""Every page and heading the code cites exists: a comment or docstring that sends a reader to
``docs/PAGE.md#anchor``, or to ``PAGE.md, "Heading"``, points at something there, and not at a
stub that only says where the text moved."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: A cited page, its anchor, and the heading quoted after it (``page.md, "Heading"``).
CITATION = re.compile(r"((?:docs|benchmarks/results)/[\w/.-]+?\.md)(#[\w-]+)?(?:[,;]\s*[\"“]([^\"”]+)[\"”])?")


def _flat(text: str) -> str:
    """The source with line breaks and comment markers joined away, so that a citation wrapped
    over two comment lines reads as one."""
    return re.sub(r"\s*\n\s*(?:#:?\s*)?", " ", text)


def _slug(heading: str) -> str:
    """The anchor MkDocs gives a heading (its toc extension's default slug)."""
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"[\s]+", "-", text).strip("-")


def _sections(page: Path) -> dict[str, str]:
    """Each heading of ``page`` and the text under it, up to the next heading."""
    parts = re.split(r"^#+\s+(.+?)\s*#*$", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {heading.strip(): body for heading, body in zip(parts[1::2], parts[2::2])}


def _moved(body: str) -> bool:
    """A stub: a few words saying the text moved elsewhere (cite where it went instead)."""
    return len(body.split()) < 15 and "moved to" in body.lower()


def _named(cited: str, heading: str) -> bool:
    """The heading a citation names: the same words, or those words and a parenthesised aside."""
    return heading == cited or heading.startswith(cited + " (")


def citations(text: str) -> list[tuple[str, str | None, str | None]]:
    return [(m.group(1), m.group(2), m.group(3)) for m in CITATION.finditer(_flat(text))]


def broken(root: Path = ROOT) -> list[str]:
    found = []
    for source in sorted((root / "varcolor").rglob("*.py")):
        for page, anchor, heading in citations(source.read_text(encoding="utf-8")):
            where = f"{source.relative_to(root)}: {page}{anchor or ''}{', ' + repr(heading) if heading else ''}"
            path = root / page
            if not path.is_file():
                if not (page.startswith("docs/") and page[len("docs/") :] in GENERATED):
                    found.append(where + " (no such page)")
                continue
            sections = _sections(path)
            slugs = {_slug(h): h for h in sections}
            if anchor and anchor[1:] not in slugs:
                found.append(where + " (no such anchor)")
            elif anchor and _moved(sections[slugs[anchor[1:]]]):
                found.append(where + " (a stub: the text moved)")
            named = [h for h in sections if heading and _named(heading.rstrip("."), h)]
            if heading and not named:
                found.append(where + " (no such heading)")
            elif named and _moved(sections[named[0]]):
                found.append(where + " (a stub: the text moved)")
    return found


#: Pages the docs' build makes (docs/hooks/varcolor_docs.py), absent from the source tree (the
#: command-line reference and the model card are committed: docs/hooks/pages.py).
GENERATED: set[str] = set()


def test_every_page_and_heading_the_code_cites_exists():
    assert broken() == []


def test_the_check_finds_a_missing_page_anchor_and_heading(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text(
        "# Title\n\n## Where the time goes (at 4 MP)\n\nMeasured.\n\n## Settings\n\nMoved to [notes](notes.md).\n"
    )
    (tmp_path / "varcolor").mkdir()
    (tmp_path / "varcolor" / "a.py").write_text(
        '# fine: docs/page.md#where-the-time-goes-at-4-mp and docs/page.md, "Where the time\n'
        '# goes"\n'
        "# broken: docs/gone.md, docs/page.md#nowhere, docs/page.md#settings\n"
        '"""and docs/page.md, "Measurements behind the settings"."""\n'
    )
    assert broken(tmp_path) == [
        "varcolor/a.py: docs/gone.md (no such page)",
        "varcolor/a.py: docs/page.md#nowhere (no such anchor)",
        "varcolor/a.py: docs/page.md#settings (a stub: the text moved)",
        "varcolor/a.py: docs/page.md, 'Measurements behind the settings' (no such heading)",
    ]
