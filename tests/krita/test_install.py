"""``varcolor krita install``: the plug-in copied into Krita's pykrita folder of a (temporary) home,
enabled in kritarc with the user's other settings kept, and removed again; where it cannot be
written, one line."""

import filecmp
import os
import py_compile
import subprocess
import sys

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


def test_a_linked_kritarc_is_written_through_its_link(home, capsys):
    """A kritarc linked from a dotfiles folder: the dotfiles copy changes, the link stays a link
    (it was replaced by a file, and the dotfiles copy never changed)."""
    dotfiles = home / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "kritarc").write_text("[General]\ntheme=Dark\n")
    os.chmod(dotfiles / "kritarc", 0o640)
    kritarc = home / ".config" / "kritarc"
    kritarc.parent.mkdir()
    kritarc.symlink_to(dotfiles / "kritarc")
    assert run(capsys, "krita", "install")[0] == 0
    assert kritarc.is_symlink() and kritarc.resolve() == dotfiles / "kritarc"
    assert (dotfiles / "kritarc").read_text() == "[General]\ntheme=Dark\n\n[python]\nenable_varcolor_krita=true\n"
    assert oct(os.stat(dotfiles / "kritarc").st_mode & 0o777) == oct(0o640)
    assert run(capsys, "krita", "install", "--uninstall")[0] == 0
    assert kritarc.is_symlink() and "varcolor" not in (dotfiles / "kritarc").read_text()


def test_a_kritarc_not_in_utf8_is_kept_byte_for_byte(home, capsys):
    """Krita writes kritarc in the locale's encoding: a Latin-1 one crashed the install."""
    kritarc = home / ".config" / "kritarc"
    kritarc.parent.mkdir()
    before = "[General]\r\nlastFile=/home/andré/café.kra\r\n[python]\r\nenable_other=true".encode("latin-1")
    kritarc.write_bytes(before)
    code, out, err = run(capsys, "krita", "install")
    assert code == 0, err
    after = kritarc.read_bytes()
    assert after.startswith(b"[General]\r\nlastFile=/home/andr\xe9/caf\xe9.kra\r\n[python]\r\n")
    assert after.count(b"enable_varcolor_krita=true") == 1 and b"enable_other=true" in after
    assert run(capsys, "krita", "install", "--uninstall")[0] == 0
    assert kritarc.read_bytes() == before + b"\n"  # only a last line's end added


def test_uninstall_leaves_a_file_the_user_put_in_the_plug_ins_folder(home, capsys):
    assert run(capsys, "krita", "install")[0] == 0
    package = home / ".local" / "share" / "krita" / "pykrita" / "varcolor_krita"
    (package / "my_notes.txt").write_text("mine")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "docker.cpython-310.pyc").write_bytes(b"compiled by Krita")
    code, out, _ = run(capsys, "krita", "install", "--uninstall")
    assert code == 0 and f"left {package} in place" in out
    assert sorted(os.listdir(package)) == ["my_notes.txt"] and (package / "my_notes.txt").read_text() == "mine"
    assert not (package.parent / "varcolor_krita.desktop").exists()
    (package / "my_notes.txt").unlink()
    assert run(capsys, "krita", "install")[0] == 0 and run(capsys, "krita", "install", "--uninstall")[0] == 0
    assert not package.exists()  # nothing else in it: the folder goes too


def _linked_checkout(home, tmp_path):
    """A developer's checkout of the plug-in, linked as the plug-in's folder in pykrita."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "docker.py").write_text("# a developer's copy, edited")
    pykrita = home / ".local" / "share" / "krita" / "pykrita"
    pykrita.mkdir(parents=True)
    (pykrita / "varcolor_krita").symlink_to(checkout)
    return checkout, pykrita / "varcolor_krita"


def test_uninstall_of_a_linked_plug_in_folder_removes_the_link_not_its_files(home, capsys, tmp_path):
    checkout, link = _linked_checkout(home, tmp_path)
    assert run(capsys, "krita", "install", "--uninstall")[0] == 0
    assert not link.exists() and (checkout / "docker.py").read_text() == "# a developer's copy, edited"


def test_install_over_a_linked_plug_in_folder_is_refused_and_writes_nothing_through_it(home, capsys, tmp_path):
    checkout, link = _linked_checkout(home, tmp_path)
    code, out, err = run(capsys, "krita", "install")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is a link to" in err
    assert [p.name for p in checkout.iterdir()] == ["docker.py"] and link.is_symlink()
    assert (checkout / "docker.py").read_text() == "# a developer's copy, edited"
    assert not (home / ".config" / "kritarc").exists()  # not enabled either


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


def test_the_plug_in_runs_the_varcolor_that_installed_it_whatever_started_krita(home, monkeypatch):
    """Krita started from a desktop menu, or without the virtual environment on PATH, has no
    ``varcolor`` on its PATH: the plug-in runs the varcolor that installed it."""
    from varcolor.krita.plugin.varcolor_krita import protocol

    done = install.install()
    monkeypatch.setenv("PATH", "")
    command = protocol.varcolor_command("", str(done.package))
    assert command == [sys.executable, "-m", "varcolor.cli"]
    ran = subprocess.run([*command, "--version"], capture_output=True, text=True, env={})
    assert ran.returncode == 0 and ran.stdout.startswith("varcolor")
    assert protocol.varcolor_command("/bin/true", str(done.package)) == ["/bin/true"]  # the docker's choice first
    (done.package / protocol.PROGRAM).write_text('{"command": ["/nowhere/python", "-m", "varcolor.cli"]}')
    with pytest.raises(protocol.ProtocolError, match="varcolor not found"):
        protocol.varcolor_command("", str(done.package))  # gone: PATH's, here none


def test_a_read_only_configuration_folder_installs_nothing_and_says_so(home, capsys, monkeypatch):
    """Issue 94, item 8: into a read-only configuration folder, install exited 2 naming a temporary
    file (".kritarc.t66eok…") and left the plug-in copied but not enabled, without saying so."""
    config = home / ".config"
    config.mkdir()
    real = os.access
    monkeypatch.setattr(
        install.os, "access", lambda path, mode: False if str(path) == str(config) else real(path, mode)
    )
    code, out, err = run(capsys, "krita", "install")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert f"{config} is not writable; nothing was installed" in err and ".kritarc." not in err
    assert not (home / ".local" / "share" / "krita" / "pykrita" / install.NAME).exists()
    monkeypatch.undo()
    monkeypatch.setenv("HOME", str(home))
    assert run(capsys, "krita", "install", "--no-enable")[0] == 0  # the way out it names


def test_uninstall_leaves_no_python_section_that_install_made(home, capsys):
    """Issue 94: `krita install --uninstall` left a `[python]` line in a kritarc install itself made."""
    kritarc = home / ".config" / "kritarc"
    kritarc.parent.mkdir()
    kritarc.write_text("[General]\ntheme=Dark\n")
    assert run(capsys, "krita", "install")[0] == 0
    assert run(capsys, "krita", "install", "--uninstall")[0] == 0
    assert kritarc.read_text() == "[General]\ntheme=Dark\n"
    kritarc.unlink()
    assert run(capsys, "krita", "install")[0] == 0
    assert run(capsys, "krita", "install", "--uninstall")[0] == 0
    assert kritarc.read_text() == ""
