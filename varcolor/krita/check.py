"""The round trip with the real Krita (``varcolor krita check``): a document of a gray photo and a
strokes layer, opened by Krita under a virtual screen (``xvfb-run``) with the plug-in installed in
a throw-away profile, colorized by the plug-in's Colorize action (once cancelled, then twice: the
second replaces the first), then Live switched on and one stroke painted on the strokes layer,
saved; its ``colorized`` layer (Live's, after the stroke) compared with ``varcolor colorize photo
--mask strokes`` on the same layers, its strokes layer with the one painted, and one undo after the
first run seen to remove the layer it made."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import encode_image, read_image
from . import install
from .launch import krita_environment
from .plugin.varcolor_krita import protocol

__all__ = [
    "RoundTrip",
    "sample_document",
    "write_ora",
    "read_ora_layer",
    "krita_programs",
    "krita_failure",
    "round_trip",
]

#: How long Krita may take to open, colorize twice, save and quit.
TIMEOUT = 600
#: How long Krita may take to start and load the plug-in (its first start with a fresh profile
#: took about a minute on a busy two-core machine).
STARTUP_TIMEOUT = 240


@dataclass(frozen=True)
class RoundTrip:
    """What the round trip found: the largest difference between Krita's colorized layer and the
    command line's result (8-bit levels), whether the strokes layer came back unchanged, the layers
    after the runs and after one undo of the first run, each run's seconds in Krita (action to layer placed), the
    whole round trip's (Krita started to Krita ended), whether Cancel left no layer, Live's
    seconds to its first result and from the stroke painted to its result placed, and the largest
    difference between Krita's hidden confidence layer and the command line's ``--confidence-map``
    for the same strokes (8-bit levels; None: no such layer), and the layers the Colorize runs left
    (before Live, whose first result replaces the map with the result it described)."""

    levels: int
    strokes_unchanged: bool
    layers: list[str]
    layers_after_undo: list[str]
    run_seconds: list[float]
    seconds: float
    cancelled: bool = False
    live_seconds: list[float] | None = None
    confidence_levels: int | None = None
    layers_after_runs: list[str] | None = None

    @property
    def passed(self) -> bool:
        made = (protocol.RESULT_LAYER, protocol.CONFIDENCE_LAYER)
        undone = [name for name in self.layers if name not in made]
        return (
            self.levels <= 1
            and self.strokes_unchanged
            and self.layers.count(protocol.RESULT_LAYER) == 1
            and self.layers_after_runs is not None
            and self.layers_after_runs.count(protocol.CONFIDENCE_LAYER) == 1
            and self.confidence_levels is not None
            and self.confidence_levels <= 1
            and self.layers_after_undo == undone
            and self.cancelled
            and self.live_seconds is not None
            and len(self.live_seconds) == 2
        )


def sample_document(shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The bundled example as an 8-bit gray photo and its scribbles as a strokes layer (RGBA on
    transparency), resized to ``shape`` (default: its own size)."""
    from .. import data

    gray, marked = data.chelsea(), data.chelsea_marked()
    painted = np.abs(marked - gray[..., None]).max(axis=2) > 2 / 255
    strokes = np.concatenate([marked * painted[..., None], painted[..., None].astype(np.float64)], axis=2)
    if shape is not None and tuple(shape) != gray.shape:
        from skimage.transform import resize

        gray = resize(gray, shape, order=1, anti_aliasing=False)
        strokes = resize(strokes, shape, order=0, anti_aliasing=False)
    return np.round(gray * 255) / 255, np.round(strokes * 255) / 255


def write_ora(path: Path, layers: list[tuple[str, np.ndarray]]) -> None:
    """An OpenRaster file of whole-canvas 8-bit layers ``(name, RGBA)``, bottom first (the format's
    specification: a stack of PNG layers in a zip whose first entry is its uncompressed mimetype)."""
    height, width = layers[0][1].shape[:2]
    with zipfile.ZipFile(path, "w") as ora:
        ora.writestr(zipfile.ZipInfo("mimetype"), "image/openraster")
        for index, (_, pixels) in enumerate(layers):
            ora.writestr(f"data/{index}.png", encode_image(pixels, ".png"))
        top_first = "".join(
            f'<layer name="{name}" src="data/{i}.png" x="0" y="0"/>'
            for i, (name, _) in reversed(list(enumerate(layers)))
        )
        ora.writestr(
            "stack.xml", f'<?xml version="1.0"?><image w="{width}" h="{height}"><stack>{top_first}</stack></image>'
        )
        ora.writestr("mergedimage.png", encode_image(layers[0][1], ".png"))


def read_ora_layer(path: Path, name: str) -> np.ndarray:
    """The layer called ``name`` of an OpenRaster file (a top-level one) as RGBA on the canvas."""
    with zipfile.ZipFile(path) as ora, tempfile.TemporaryDirectory() as folder:
        root = ET.fromstring(ora.read("stack.xml"))
        height, width = root.get("h"), root.get("w")
        if height is None or width is None:
            raise InputError(f"{path}: its stack.xml gives no canvas size")
        canvas = np.zeros((int(height), int(width), 4))
        found = [layer for layer in root.iter("layer") if layer.get("name") == name]
        if len(found) != 1:
            raise InputError(f"{path}: {len(found)} layers named {name!r}, not one")
        source = found[0].get("src")
        if source is None:
            raise InputError(f"{path}: its layer {name!r} names no file")
        png = Path(folder) / "layer.png"
        png.write_bytes(ora.read(source))
        pixels = read_image(png)
    if pixels.ndim == 2:
        pixels = np.dstack([pixels] * 3 + [np.ones_like(pixels)])
    elif pixels.shape[2] == 3:
        pixels = np.concatenate([pixels, np.ones(pixels.shape[:2] + (1,))], axis=2)
    top, left = int(found[0].get("y", 0)), int(found[0].get("x", 0))
    rows, cols = pixels.shape[:2]
    canvas[top : top + rows, left : left + cols] = pixels[: canvas.shape[0] - top, : canvas.shape[1] - left]
    return canvas


def krita_programs(screenshot: bool = False) -> tuple[str, str]:
    """``krita`` and ``xvfb-run`` (and ImageMagick's ``import`` for a screenshot), found on the
    PATH Krita gets (:func:`~varcolor.krita.launch.krita_environment`); one line naming what is
    missing."""
    path = krita_environment().get("PATH")
    names = ("krita", "xvfb-run", "import") if screenshot else ("krita", "xvfb-run")
    found = {name: shutil.which(name, path=path) for name in names}
    missing = [name for name, where in found.items() if where is None]
    if missing:
        packages = {"krita": "krita", "xvfb-run": "xvfb", "import": "imagemagick"}
        needs = " and ".join("ImageMagick's import (for --screenshot)" if m == "import" else m for m in missing)
        raise InputError(
            f"the Krita check needs {needs} on PATH (Debian: apt install {' '.join(packages[m] for m in missing)})"
        )
    krita, xvfb_run = found["krita"], found["xvfb-run"]
    assert krita is not None and xvfb_run is not None  # none missing
    return krita, xvfb_run


def _profile_environment(folder: Path) -> dict:
    """An environment whose Krita profile (settings, resources, plug-ins) lives in ``folder``, and
    whose Python is Krita's own (:func:`~varcolor.krita.launch.krita_environment`)."""
    environ = krita_environment()
    for variable, name in (("HOME", "home"), ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):
        environ[variable] = str(folder / name)
    environ["XDG_CACHE_HOME"] = str(folder / "cache")
    return environ


def _varcolor_command() -> list[str]:
    """How the plug-in runs this varcolor in the check: this Python, with this process's
    ``PYTHONPATH`` (Krita's own environment has none)."""
    command = [sys.executable, "-m", "varcolor.cli"]
    if os.environ.get("PYTHONPATH"):
        return ["env", f"PYTHONPATH={os.environ['PYTHONPATH']}", *command]
    return command


def krita_failure(log: str) -> str | None:
    """The line of Krita's log that says its Python or the plug-in failed to load (a Python error
    of ``krita.scripting``), in plain words; None where there is none."""
    for line in log.splitlines():
        if "krita.scripting" not in line:
            continue
        found = re.search(r"\b(\w+(?:Error|Exception)): (.*?)\\?\"?\s*$", line)
        if found:
            said = f"{found.group(1)}: {found.group(2)}".replace('\\"', '"').replace("\\'", "'")
            if "PyQt5" in said:
                said += " (Krita's Python took another Python's packages: is a virtual environment on PATH?)"
            return said
    return None


def _last_words(log: str) -> str:
    """The last line of Krita's log worth showing (Qt's chatter about its runtime folder left out)."""
    lines = [line.strip() for line in log.splitlines() if line.strip() and "XDG_RUNTIME_DIR" not in line]
    return lines[-1][:300] if lines else "nothing in its log"


def _stop(process: subprocess.Popen) -> None:
    """End ``process`` and everything it started (Xvfb, Krita, varcolor's workers: its process
    group), politely first."""
    for signal_number, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, signal_number)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone; anything left in its group goes too
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        break


def _run_krita(command: list[str], folder: Path, environ: dict, started: Path, report: Path) -> None:
    """Run Krita's part of the check and wait for it: until it has ended, or its log says its
    Python failed, or the plug-in has not started within :data:`STARTUP_TIMEOUT` seconds, or the
    whole within :data:`TIMEOUT`; each failure one line (:class:`InputError`). Nothing it started
    is left running."""
    log_path = folder / "krita.log"
    start = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=folder, env=environ, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    try:
        while True:
            ended = process.poll() is not None
            said = log_path.read_text("utf-8", "replace")
            if ended:
                if report.exists():
                    return
                failure = krita_failure(said) or _last_words(said)
                raise InputError(f"Krita ended (exit {process.returncode}) without running the check: {failure}")
            if not report.exists():
                unloaded = krita_failure(said)
                if unloaded is not None:
                    raise InputError(f"Krita could not load the plug-in: {unloaded}")
            waited = time.monotonic() - start
            if not started.exists() and waited > STARTUP_TIMEOUT:
                raise InputError(
                    f"the plug-in did not start in Krita within {STARTUP_TIMEOUT:.0f} s; Krita's last words: "
                    f"{_last_words(said)}"
                )
            if waited > TIMEOUT:
                raise InputError(f"Krita did not finish the check within {TIMEOUT:.0f} s: {_last_words(said)}")
            time.sleep(0.2)
    finally:
        _stop(process)


def round_trip(
    folder: Path,
    shape: tuple[int, int] | None = None,
    method: str = protocol.METHODS[0],
    screenshot: Path | None = None,
) -> RoundTrip:
    """Run the round trip in ``folder`` (it keeps the document, Krita's saved result and log, and
    the command line's result): see the module's docstring."""
    krita, xvfb_run = krita_programs(screenshot is not None)
    strokes, stroke = _write_documents(folder, shape)
    environ = _profile_environment(folder / "profile")
    install.install(environ)
    for name in ("report.json", "started.json"):
        (folder / name).unlink(missing_ok=True)
    (folder / "plan.json").write_text(json.dumps(_plan(folder, method, screenshot, stroke)))
    environ["VARCOLOR_KRITA_CHECK"] = str(folder / "plan.json")
    script = f"{shlex.quote(krita)} --nosplash document.ora & krita=$!; "
    if screenshot:  # once the report is written the plug-in waits, showing the result and the docker
        script += (
            "while [ ! -e report.json ]; do sleep 0.2; done; sleep 2; "
            f"import -window root {shlex.quote(str(screenshot))}; "
        )
    # The command line's results, made while Krita starts (its own start is most of the check).
    referee, known_referee = _referees(folder, method)
    try:
        start = time.perf_counter()
        _run_krita(
            [
                xvfb_run,
                "-a",
                "-s",
                "-screen 0 1440x900x24",
                "sh",
                "-c",
                script + 'wait "$krita"',
            ],  # Krita's exit status
            folder,
            environ,
            folder / "started.json",
            folder / "report.json",
        )
        seconds = time.perf_counter() - start
        _, said = referee.communicate(timeout=TIMEOUT)
        _, said_known = known_referee.communicate(timeout=TIMEOUT)
    finally:
        for process in (referee, known_referee):
            if process.poll() is None:
                process.kill()
                process.wait()
    if referee.returncode != 0 or known_referee.returncode != 0:
        said = said if referee.returncode != 0 else said_known
        lines = said.decode("utf-8", "replace").strip().splitlines()
        raise InputError(
            f"varcolor colorize failed on the check's document: {lines[-1] if lines else referee.returncode}"
        )
    return _outcome(folder, strokes, seconds)


def _write_documents(folder: Path, shape: tuple[int, int] | None) -> tuple[np.ndarray, list[int]]:
    """The check's document and the command line's inputs in ``folder``: the strokes (Live's
    included) and Live's stroke."""
    gray, painted_first = sample_document(shape)
    # Live's stroke, painted in Krita after the Colorize runs: the command line's result holds it too.
    stroke = _live_stroke(gray.shape)
    strokes = painted_first.copy()
    top, left, height, width = stroke[:4]
    strokes[top : top + height, left : left + width] = [*(np.array(stroke[4:]) / 255), 1]
    photo = np.dstack([gray] * 3 + [np.ones_like(gray)])
    write_ora(folder / "document.ora", [("photo", photo), ("strokes", painted_first)])
    (folder / "photo.png").write_bytes(encode_image(gray, ".png"))
    (folder / "strokes.png").write_bytes(encode_image(strokes, ".png"))
    (folder / "strokes_first.png").write_bytes(encode_image(painted_first, ".png"))
    return strokes, stroke


def _plan(folder: Path, method: str, screenshot: Path | None, stroke: list[int]) -> dict:
    """What the plug-in does in Krita (``VARCOLOR_KRITA_CHECK``'s file)."""
    return {
        "settings": {
            "varcolor": shlex.join(_varcolor_command()),
            "method": method,
            "strokes": "",
            "photo": "",
            "confidence": "1",
        },
        "select": "strokes",
        "runs": 2,
        "cancel_first": True,
        "output": str(folder / "result.ora"),
        "runs_output": str(folder / "runs.ora"),
        "report": str(folder / "report.json"),
        "started": str(folder / "started.json"),
        "linger": 4 if screenshot else 0,
        "live_stroke": stroke,
    }


def _referees(folder: Path, method: str) -> tuple[subprocess.Popen, subprocess.Popen]:
    """The command line's result for all the strokes, and for the Colorize runs' (with their confidence)."""
    command = [sys.executable, "-m", "varcolor.cli"]
    expected_run = [*command, "colorize", "photo.png", "--mask", "strokes.png", "-o", "expected.png", "--overwrite"]
    referee = subprocess.Popen(
        [*expected_run, "--method", method],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    known_run = [*command, "colorize", "photo.png", "--mask", "strokes_first.png", "-o", "expected_first.png"]
    known_run += ["--confidence-map", "expected_confidence.png", "--overwrite", "--method", method]
    known_referee = subprocess.Popen(
        known_run, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    return referee, known_referee


def _outcome(folder: Path, strokes: np.ndarray, seconds: float) -> RoundTrip:
    """The round trip read from the plug-in's report and Krita's saved documents."""
    report = json.loads((folder / "report.json").read_text())
    failed = [run["message"] for run in report["runs"] if not run["ok"]]
    if report["error"] or failed or not report.get("saved"):
        raise InputError(f"the plug-in failed in Krita: {report['error'] or (failed or ['not saved'])[0]}")
    colorized = read_ora_layer(folder / "result.ora", protocol.RESULT_LAYER)
    expected = read_image(folder / "expected.png")
    levels = int(np.abs(np.round(colorized[..., :3] * 255) - np.round(expected[..., :3] * 255)).max())
    kept = read_ora_layer(folder / "result.ora", "strokes")
    painted = strokes[..., 3] > 0
    strokes_unchanged = bool(
        np.array_equal(kept[..., 3], strokes[..., 3]) and np.allclose(kept[painted], strokes[painted], atol=0.5 / 255)
    )
    confidence_levels = None
    if (folder / "expected_confidence.png").is_file() and report.get("saved_after_runs"):
        try:
            known = read_ora_layer(folder / "runs.ora", protocol.CONFIDENCE_LAYER)
        except InputError:  # no such layer: None
            pass
        else:
            expected_known = read_image(folder / "expected_confidence.png")
            confidence_levels = int(np.abs(np.round(known[..., 0] * 255) - np.round(expected_known * 255)).max())
    return RoundTrip(
        levels,
        strokes_unchanged,
        report["layers"],
        report["layers_after_undo"],
        [run["seconds"] for run in report["runs"]],
        round(seconds, 2),
        report.get("cancelled", {}).get("message") == "cancelled"
        and protocol.RESULT_LAYER not in report["cancelled"]["layers"],
        [run["seconds"] for run in report.get("live", [])],
        confidence_levels,
        report.get("layers_after_runs"),
    )


def _live_stroke(shape: tuple[int, int]) -> list[int]:
    """The stroke Live colours in the check: a short green bar (top, left, height, width, 8-bit
    RGB) in the photo's lower third, 1/40 of its height thick."""
    height, width = shape
    thick = max(height // 40, 2)
    return [2 * height // 3, width // 4, thick, width // 3, 60, 170, 70]
