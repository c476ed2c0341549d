"""``varcolor krita install``: the plug-in copied into Krita's pykrita folder of a (temporary) home,
enabled in kritarc with the user's other settings kept, and removed again; where it cannot be
written, one line."""

import filecmp
import os
import py_compile

import pytest

from varcolor.krita import install

from ..conftest import run


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path


def test_install_copies_the_plug_in_and_enables_it_keeping_other_settings(home, capsys):
    kritarc = home / ".config" / "kritarc"
    kritarc.parent.mkdir()
    kritarc.write_text("[General]\ntheme=Dark\n\n[python]\nenable_other=true\n")
    code, out, _ = run(capsys, "krita", "install")
    assert code == 0
    package = home / ".local" / "share" / "krita" / "pykrita" / "varcolor_krita"
    assert str(package) in out and str(kritarc) in out
    assert (package.parent / "varcolor_krita.desktop").read_text().count("X-KDE-Library=varcolor_krita") == 1
    assert {"__init__.py", "docker.py", "job.py", "protocol.py"} <= set(os.listdir(package))
    shipped = install.resources.files("varcolor.krita") / "plugin" / "varcolor_krita" / "protocol.py"
    assert filecmp.cmp(package / "protocol.py", shipped)  # the one varcolor reads the exchange with
    assert run(capsys, "krita", "install")[0] == 0  # twice: the same files, one line
    lines = kritarc.read_text().splitlines()
    assert lines.count("enable_varcolor_krita=true") == 1
    assert lines[lines.index("[python]") + 1 :].count("enable_other=true") == 1
    assert lines[:2] == ["[General]", "theme=Dark"]


def test_every_plug_in_file_compiles(home):
    done = install.install()
    for path in done.package.glob("*.py"):
        py_compile.compile(str(path), doraise=True)


def test_xdg_folders_are_respected_and_kritarc_can_be_left_alone(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    done = install.install(enable=False)
    assert done.package == tmp_path / "data" / "krita" / "pykrita" / "varcolor_krita"
    assert done.kritarc is None and not (tmp_path / "config").exists()
    assert install.install().kritarc == tmp_path / "config" / "kritarc"


def test_uninstall_removes_only_what_install_added(home, capsys):
    kritarc = home / ".config" / "kritarc"
    kritarc.parent.mkdir()
    kritarc.write_text("[python]\nenable_other=true\n")
    other = home / ".local" / "share" / "krita" / "pykrita" / "other"
    other.mkdir(parents=True)
    assert run(capsys, "krita", "install")[0] == 0
    code, out, _ = run(capsys, "krita", "install", "--uninstall")
    assert code == 0 and "removed" in out
    assert sorted(os.listdir(other.parent)) == ["other"]
    assert kritarc.read_text() == "[python]\nenable_other=true\n"


def test_an_unwritable_folder_is_one_line(home, capsys):
    (home / ".local").write_text("a file where a folder should be")
    code, out, err = run(capsys, "krita", "install")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "cannot install the Krita plug-in" in err


def test_the_check_without_krita_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run(capsys, "krita", "check")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "needs krita and xvfb-run" in err


def test_the_colorize_step_on_a_missing_folder_is_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "krita", "colorize", tmp_path / "none")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not an exchange folder" in err
    code, _, err = run(capsys, "krita", "colorize", tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot read the request" in err
