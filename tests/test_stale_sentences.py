"""Sentences of the docs that state a default or a figure, held to where it comes from: the
studio's default method and first brush (its page and scripts), the demo's PSNR and ΔE2000 (as
``make demo`` prints them, recomputed), a 12 MP save's time and the kernels' warm-up (the
benchmark results). Each was stale once: "Levin (exact), the default", "ΔE2000 3.6" (the demo
prints 3.52), "tens of seconds", "about 10 s"."""

import json
import re

import pytest

import varcolor

from .test_docs_text import ROOT

STATIC = ROOT / "varcolor" / "ui" / "static"


def _text(name: str) -> str:
    return " ".join((ROOT / name).read_text(encoding="utf-8").split())  # lines joined: sentences wrap


def test_the_studio_page_names_the_method_the_page_starts_with():
    select = re.search(r'<select id="method">(.*?)</select>', (STATIC / "index.html").read_text(), re.S).group(1)
    options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]+)</option>', select)
    default = next((label for _, chosen, label in options if chosen), options[0][2])
    studio = _text("docs/studio.md")
    assert f"*{default}*, the default" in studio
    assert [label for _, _, label in options if f"*{label}*, the default" in studio] == [default]


def test_the_studio_page_gives_the_first_brush_the_script_gives():
    divisor = int(
        re.search(
            r"Math\.min\(S\.image\.work_width, S\.image\.work_height\) / (\d+)", (STATIC / "controls.js").read_text()
        ).group(1)
    )
    height, width = varcolor.read_image(ROOT / "examples" / "data" / "chelsea.png").shape
    words = {60: "a 60th"}
    studio = _text("docs/studio.md")
    assert f"First: {words[divisor]} of the live copy's shorter side" in studio
    assert f"({round(min(height, width) / divisor)} photo px on the bundled {width}×{height} example)" in studio


def test_the_studio_page_gives_the_12_mp_save_time_measured():
    rows = json.loads((ROOT / "benchmarks" / "results" / "studio_latency_multiscale_12mp.json").read_text())["rows"]
    busy = next(row["save_s"] for row in rows if row["megapixels"] == 12)
    studio = _text("docs/studio.md")
    assert "tens of seconds" not in studio
    assert f"12 MP scan's full-resolution save takes 9–12 s ({busy:.0f} s at load 5)" in studio


def test_the_getting_started_page_gives_the_warm_up_measured():
    quiet = json.loads((ROOT / "benchmarks" / "results" / "first_run.json").read_text())["warm_command_seconds"]
    index = _text("docs/index.md")
    assert "about 10 s" not in index
    assert f"for {quiet:.0f} s on a quiet 2-core machine and up to about 40 s on a busy one" in index


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_the_demo_figures_are_those_make_demo_prints(tmp_path, page):
    """``make demo``: ``varcolor colorize --marked`` writes a PNG, ``examples/plot_demo.py`` reads it
    back and prints its PSNR and ΔE2000 against the original."""
    data = ROOT / "examples" / "data"
    gray, marked = varcolor.read_image(data / "chelsea.png"), varcolor.read_image(data / "chelsea_marked.png")
    varcolor.write_image(tmp_path / "result.png", varcolor.colorize(gray, varcolor.Cues.from_marked(gray, marked)).rgb)
    result, original = varcolor.read_image(tmp_path / "result.png"), varcolor.read_image(data / "chelsea_original.png")
    psnr, delta = varcolor.metrics.psnr(result, original), varcolor.metrics.ciede2000(result, original)
    assert f"PSNR {psnr:.2f} dB, ΔE2000 {delta:.2f}, as `make demo` prints them" in _text(page)


def test_where_next_names_reference_photos_krita_and_the_restorers_page():
    where_next = (ROOT / "docs" / "index.md").read_text(encoding="utf-8").split("## Where next", 1)[1].split("\n## ")[0]
    for page in ("guide/reference.md", "krita.md", "restorers.md"):
        assert f"]({page})" in where_next, page


def test_the_krita_page_installs_from_the_clone_and_says_what_the_screenshot_needs():
    """varcolor is not on PyPI: ``pip install varcolor`` was a dead end; ``--screenshot`` needs
    ImageMagick's ``import``."""
    krita = _text("docs/krita.md")
    assert not re.search(r"pip install '?varcolor\b", krita)
    assert "pip install -e '.[neural]'" in krita and "pip install dist/varcolor-*.whl" in krita
    assert "needs ImageMagick's `import`" in krita
    assert "varcolor krita launch" in krita
