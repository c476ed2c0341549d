"""The top-level ``models/`` folder: each trained model's row points at its weights (package data,
the one copy, shipped in the wheel), its card and its recipe; the recipes run commands the
command line takes."""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from varcolor.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"


def _rows() -> list[list[str]]:
    """The links of each model's row in models/README.md: weights, card, recipe."""
    table = [line for line in (MODELS / "README.md").read_text().splitlines() if line.startswith("| `")]
    return [re.findall(r"\]\(([^)]+)\)", line) for line in table]


def test_every_model_row_points_at_files_that_exist():
    rows = _rows()
    assert rows, "models/README.md lists no model"
    for links in rows:
        assert len(links) == 3, links
        for link in links:
            assert (MODELS / link).resolve().is_file(), link
        weights, card, _ = ((MODELS / link).resolve() for link in links)
        assert weights.is_relative_to(ROOT / "varcolor"), "shipped weights are package data (the wheel carries them)"
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        assert digest in card.read_text(), f"the card of {weights.name} states another SHA-256"


def test_each_recipe_trains_with_a_command_the_command_line_takes():
    for links in _rows():
        recipe = (MODELS / links[2]).resolve()
        commands = [line.strip() for line in recipe.read_text().splitlines() if line.strip().startswith("varcolor ")]
        assert commands, recipe
        for command in commands:
            words = shlex.split(command.replace('"$DATA', '"data').replace('"$OUT"', "run"))[1:]
            build_parser().parse_args(words)  # exits (SystemExit) on a flag the command no longer has


def test_the_repository_holds_each_weights_file_once():
    try:
        tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    names = [Path(line).name for line in tracked.splitlines() if line.endswith(".safetensors")]
    assert len(names) == len(set(names)), names
    assert not (MODELS / "ideepcolor-w025.safetensors").exists()
