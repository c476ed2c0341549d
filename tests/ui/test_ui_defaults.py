"""The studio's page holds its own copies of the library's names (it runs in a browser, with no
Python): its default method and its method menu, held equal to the library's here."""

import re
from pathlib import Path

import varcolor
from varcolor.ui.document import DEFAULT_PRESET, PRESETS

STATIC = Path(varcolor.__file__).parent / "ui" / "static"


def test_the_pages_default_method_and_menu_are_the_librarys():
    state = (STATIC / "state.js").read_text(encoding="utf-8")
    assert re.search(r'settings: \{ method: "([^"]+)" \}', state).group(1) == varcolor.Options.method == DEFAULT_PRESET
    menu = re.search(r'<select id="method">(.*?)</select>', (STATIC / "index.html").read_text(encoding="utf-8"), re.S)
    offered = re.findall(r'<option value="([^"]+)"', menu.group(1))
    assert offered[0] == DEFAULT_PRESET and set(offered) == set(PRESETS)
