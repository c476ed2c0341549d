"""docs/layout.md, the contributors' map, names every module of the package, and names none that
is gone: a module is named by its path (`varcolor/x.py`), or by its file name in its package's
row (`varcolor/solvers/` ... `choice.py`)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "varcolor"
LAYOUT = ROOT / "docs" / "layout.md"


def _rows() -> dict[str, str]:
    """The module table's rows: first cell (a path under varcolor/) -> the whole row."""
    rows = {}
    for line in LAYOUT.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `(varcolor/[^`]*)` \|", line)
        if match:
            rows[match.group(1)] = line
    return rows


def _named(module: Path, text: str, rows: dict[str, str]) -> bool:
    path = module.relative_to(ROOT).as_posix()
    if f"`{path}`" in text:
        return True
    folder = module.parent.relative_to(ROOT).as_posix() + "/"
    # A subpackage's __init__ and __main__ are the package itself: named by its row, or by its
    # modules' paths (the top package's __init__ must be named by its own path).
    if module.name in ("__init__.py", "__main__.py") and module.parent != PACKAGE:
        return folder in rows or f"`{folder}" in text
    row = rows.get(folder)
    return row is not None and f"`{module.name}`" in row


def test_every_module_is_named_in_the_layout():
    text, rows = LAYOUT.read_text(encoding="utf-8"), _rows()
    modules = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    assert len(modules) > 50  # the walk found the package
    missing = [m.relative_to(ROOT).as_posix() for m in modules if not _named(m, text, rows)]
    assert missing == [], f"docs/layout.md does not name: {', '.join(missing)}"


def test_the_layout_names_no_module_that_is_gone():
    text, rows = LAYOUT.read_text(encoding="utf-8"), _rows()
    gone = [path for path in re.findall(r"`(varcolor/[\w/]+\.py)`", text) if not (ROOT / path).is_file()]
    for folder, row in rows.items():
        if folder.endswith("/") and (ROOT / folder).is_dir():
            named = re.findall(r"`([\w]+\.py)`", row.split("|")[2])
            gone += [folder + name for name in named if not (ROOT / folder / name).is_file()]
    assert gone == [], f"docs/layout.md names modules that do not exist: {', '.join(gone)}"


def test_the_check_sees_a_module_left_out(tmp_path):
    # The rule itself: a module its package's row does not name is caught, one it names is not.
    rows = {"varcolor/solvers/": "| `varcolor/solvers/` | `choice.py` (which solver) |"}
    assert _named(PACKAGE / "solvers" / "choice.py", "", rows)
    assert not _named(PACKAGE / "solvers" / "blas.py", "", rows)
    assert _named(PACKAGE / "solvers" / "blas.py", "`varcolor/solvers/blas.py`", rows)
    assert not _named(PACKAGE / "batch.py", "`varcolor/batch`", {})
    assert not _named(PACKAGE / "__init__.py", "`varcolor/io/`", {})  # the top package: by its own path
    assert _named(PACKAGE / "energies" / "__init__.py", "`varcolor/energies/levin.py`", {})


def test_every_subpackage_has_its_folder_of_tests():
    """Tests mirror the package: ``varcolor/<package>/`` has ``tests/<package>/`` (``varcolor/data``,
    the bundled example, is tested by tests/test_examples.py: ``tests/data/`` holds test files)."""
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert len(packages) > 10  # the walk found the package
    missing = [name for name in packages if name != "data" and not (ROOT / "tests" / name / "__init__.py").is_file()]
    assert missing == [], f"no tests/<package>/ for: {', '.join(missing)}"
