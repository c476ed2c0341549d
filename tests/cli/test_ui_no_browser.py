"""``varcolor ui`` without a display printed the studio's address and nothing else: no word that no
browser had opened. Now one line says so (and on Linux without a display no text browser is started
in the terminal)."""

import sys
import time

import pytest

pytest.importorskip("uvicorn")  # the ui extra

from varcolor import ui  # noqa: E402


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a display is an X or Wayland one on Linux")
def test_without_a_display_no_browser_is_tried_and_it_says_so(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    tried = []
    monkeypatch.setattr(ui.webbrowser, "open", tried.append)
    ui.open_in_browser("http://127.0.0.1:1/?token=x", delay=0)
    time.sleep(0.2)
    assert tried == []
    err = capsys.readouterr().err
    assert err == "varcolor studio: no browser opened (no display); open the address above in a browser\n"


def test_with_a_display_and_no_browser_found_it_says_so(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":0")
    tried = []
    monkeypatch.setattr(ui.webbrowser, "open", lambda url: tried.append(url) or False)
    ui.open_in_browser("http://127.0.0.1:1/?token=x", delay=0)
    time.sleep(0.3)  # the browser is opened from a timer's thread
    assert tried == ["http://127.0.0.1:1/?token=x"]
    assert "no browser opened (none found)" in capsys.readouterr().err


def test_a_browser_that_opens_says_nothing(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":0")
    tried = []
    monkeypatch.setattr(ui.webbrowser, "open", lambda url: tried.append(url) or True)
    ui.open_in_browser("http://127.0.0.1:1/?token=x", delay=0)
    time.sleep(0.3)
    assert tried and capsys.readouterr().err == ""
