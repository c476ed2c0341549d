"""Every ``varcolor.module.name`` a benchmark script calls or cites exists: a function moved to
another module (``copy_noise``, from ``cues`` to ``marks``) left two benchmarks crashing with an
AttributeError, unnoticed because no test runs them."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: A dotted name under the package, as code or a docstring's role writes it.
DOTTED = re.compile(r"(?<![\w.])varcolor(?:\.[A-Za-z_]\w*)+")
#: ... but not a module a script makes itself (``spec_from_file_location("varcolor._x", path)``).
MADE = re.compile(r"spec_from_file_location\(\s*[\"'](varcolor[\w.]*)")


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` names something: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def test_the_benchmarks_name_only_what_the_package_has():
    missing = sorted(
        f"{script.name}: {dotted}"
        for script in sorted((ROOT / "benchmarks").glob("*.py"))
        for text in [script.read_text(encoding="utf-8")]
        for dotted in set(DOTTED.findall(text)) - set(MADE.findall(text))
        if not _resolves(dotted)
    )
    assert missing == []


def test_a_moved_name_is_caught():
    assert _resolves("varcolor.reading.marks.copy_noise")
    assert not _resolves("varcolor.cues.copy_noise")
