"""Studio latency in a real browser: from the mouse-up of a 40-pixel stroke to the new result
drawn on the page (``varcolor ui``, headless Chromium driven by Playwright).

For each size, a Kodak photo (``kodim05``, else the bundled chelsea) upscaled to ``--megapixels``
is written as a PNG and a fresh ``varcolor ui`` process started, in two ways (``--hints``):

- *fresh*: the photo is opened through the page's file picker right after the server starts (the
  kernels warm meanwhile); the first picture is the gray photo, the first stroke's solve builds
  the LU. Every stroke then recolours most of the photo (few cues: colour spreads far).
- *N hints*: ``varcolor ui --session`` with a session of N point hints of the photo's own colours
  (a photo part-way through colorizing); the first picture is their result, and a stroke then
  changes its neighbourhood mostly.

Then ``--strokes`` strokes, 40 working-copy pixels long (the page's default 4-px brush) at random
places and palette colours (seed 0), each waited for, with ``--pause`` seconds before each (a
user choosing the next colour and place; the server re-solves in the background when idle).
Every result's timing is split into
network (the edit request and the result transfer, less the server's time), queue, cues
(rasterizing the strokes), solve, colour (chroma to RGB in the engine), encode (to 8-bit RGBA and
the changed box) and draw (putImageData and the next frame). The page's longest frame gap while
the strokes were solved is recorded too (the page must stay responsive).

``--restorer``: the restorer's real size, one fresh 40 MP session (a few strokes; the server
needs a few GB and the run minutes), viewed at 1:1 and saved, its rows against the targets: first
colours after opening ≤ 3 s, a stroke settled ≤ 0.5 s, the 1:1 view after the last stroke (every
visible result tile drawn at full resolution) ≤ 1 s, Ctrl+S ≤ 10 s, the server's peak memory
≤ 1.5 GB; written to ``studio_latency_40mp`` unless ``--name`` says otherwise.

Writes ``benchmarks/results/studio_latency.json`` and ``.md`` (``--name`` changes the stem).
Run it with ``nice`` (the machine is shared): ``nice python benchmarks/studio_latency.py``.
Needs ``chromium`` and ``pip install playwright``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from shared_data import SHARED

from varcolor.common.fields import path_word

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PARTS = ("network", "queue", "cues", "solve", "colour", "encode", "draw")
PALETTE = [[200, 100, 50], [60, 150, 64], [70, 110, 200], [210, 180, 60], [160, 60, 150], [90, 170, 190]]


def photo(megapixels: float, folder: Path) -> Path:
    """The test photo at ``megapixels`` (bilinear upscale), as a PNG in ``folder``."""
    from skimage.transform import resize

    import varcolor

    source = SHARED / "kodak" / "kodim05.png"
    if not source.is_file():
        source = ROOT / "examples" / "data" / "chelsea_original.png"
    image = varcolor.read_image(source)
    factor = np.sqrt(megapixels * 1e6 / (image.shape[0] * image.shape[1]))
    shape = (round(image.shape[0] * factor), round(image.shape[1] * factor))
    path = folder / f"{source.stem}_{megapixels:g}mp.png"
    varcolor.write_image(path, np.clip(resize(image, shape + image.shape[2:], order=1), 0, 1))
    return path


def hints_session(image: Path, count: int, folder: Path) -> Path:
    """A session file with ``count`` point hints (3 px) of the photo's own colours at random places
    (seed 1): a photo part-way through colorizing."""
    import hashlib

    import varcolor
    from varcolor.ui.document import Document, session_dict

    pixels = varcolor.read_image(image)
    height, width = pixels.shape[:2]
    rng = np.random.default_rng(1)
    doc = Document()
    for y, x in zip(rng.integers(2, height - 2, count), rng.integers(2, width - 2, count)):
        rgb = [int(round(v * 255)) for v in pixels[y, x, :3]]
        doc = doc.with_point({"x": int(x), "y": int(y), "rgb": rgb, "size": 3})
    record = {
        "path": str(image),
        "sha256": hashlib.sha256(image.read_bytes()).hexdigest(),
        "width": width,
        "height": height,
        "name": image.name,
    }
    path = folder / f"{image.stem}.studio.json"
    path.write_text(json.dumps(session_dict(doc, record)))
    return path


#: ``--unrestrained``: the server's Colorizers run unrestrained (this folder's sitecustomize on its path).
UNRESTRAINED_SITE = HERE / "unrestrained_site"
UNRESTRAINED = False


def start_server(folder: Path, preview: float | None, *extra: str) -> tuple[subprocess.Popen, str]:
    paths = ([str(UNRESTRAINED_SITE)] if UNRESTRAINED else []) + [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    extra = list(extra) + ([] if preview is None else ["--preview-megapixels", str(preview)])
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "varcolor.cli",
            "ui",
            "--no-browser",
            "--data-dir",
            path_word(folder / "data"),
            "--out-dir",
            path_word(folder),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=open(folder / "server.log", "a"),
        text=True,
        env=env,
        # In this tree's folder: `python -m` puts the folder it starts in before PYTHONPATH, so a
        # run of another commit's worktree started from here ran this tree's code.
        cwd=ROOT,
    )
    line = process.stdout.readline()
    if not line.startswith("varcolor studio: http"):
        process.kill()
        raise SystemExit(f"the studio did not start: {line!r}")
    return process, line.split()[-1]


def finals(page) -> list[dict]:
    return page.evaluate("() => window.studioTimings.filter(t => t.final)")


def wait_final(page, count: int, timeout: float = 300_000) -> dict:
    """Wait for the ``count``-th final result; stop at an error on the page."""
    page.wait_for_function(
        f"() => (window.studioTimings.filter(t => t.final).length >= {count} && "
        "document.getElementById('busy').hidden) || "
        "(window.studioState.lastError && document.getElementById('busy').hidden)",
        timeout=timeout,
    )
    if len(finals(page)) < count:
        raise RuntimeError(f"the page says: {page.evaluate('() => window.studioState.lastError')}")
    return finals(page)[-1]


#: ``--stroke-length``'s mouse events: one every this many screen pixels (a hand's stroke at 60 Hz).
EVENT_PIXELS = 6


def stroke(page, rng, shape, length: float | None = None, new_colour: bool = False) -> None:
    """A 40-pixel stroke (working-copy pixels) at a random place, in a random palette colour;
    ``length``: that many screen pixels instead (a restorer's longer stroke, a mouse event every
    :data:`EVENT_PIXELS`); ``new_colour``: a random colour of its own, not the palette's."""
    height, width = shape
    colour = [int(v) for v in rng.integers(40, 216, 3)] if new_colour else PALETTE[int(rng.integers(len(PALETTE)))]
    page.evaluate(
        "(hex) => { const el = document.getElementById('hex'); el.value = hex; el.dispatchEvent(new Event('input')); }",
        "#" + "".join(f"{v:02x}" for v in colour),
    )
    angle = rng.uniform(0, np.pi)
    box = page.locator("#stage").bounding_box()
    zoom = page.evaluate("() => window.studioState.zoom")
    pixels = 40.0 if length is None else length / zoom  # working-copy pixels
    steps = 10 if length is None else max(10, int(length / EVENT_PIXELS))
    dx, dy = pixels * np.cos(angle), pixels * np.sin(angle)
    x0 = rng.uniform(10 + max(-dx, 0), width - 10 - max(dx, 0))
    y0 = rng.uniform(10 + max(-dy, 0), height - 10 - max(dy, 0))
    page.mouse.move(box["x"] + x0 * zoom, box["y"] + y0 * zoom)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(box["x"] + (x0 + dx * k / steps) * zoom, box["y"] + (y0 + dy * k / steps) * zoom)
    page.mouse.up()


def session(
    megapixels: float,
    strokes: int,
    folder: Path,
    chromium: str,
    screenshot: Path | None,
    preview: float | None = None,
    hints: int = 0,
    pause: float = 1.0,
    save: bool = False,
    viewport: bool = False,
    length: float | None = None,
    new_colour: bool = False,
) -> dict:
    """One studio session: open the photo (fresh: through the page's picker; with ``hints``: a
    session file of that many point hints, given to ``varcolor ui --session``), then strokes."""
    from playwright.sync_api import sync_playwright

    image = photo(megapixels, folder)
    extra = ["--session", path_word(hints_session(image, hints, folder))] if hints else []
    load_before = os.getloadavg()[0]
    opened = time.perf_counter()
    process, url = start_server(folder, preview, *extra)
    memory = Memory(process.pid)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True).new_page()
            page.goto(url)
            page.wait_for_function("() => window.studioReady === true", timeout=120_000)
            if not hints:
                opened = time.perf_counter()
                page.locator("#file").set_input_files(str(image))
            shown = wait_final(page, 1)
            gray_shown = time.perf_counter() - opened
            memory.stage("strokes")
            image_info = page.evaluate("() => window.studioState.image")
            shape = (image_info["work_height"], image_info["work_width"])
            rng = np.random.default_rng(0)
            stroke(page, rng, shape, length, new_colour)
            first = wait_final(page, 2)
            # The first stroke's first picture: a preview where the studio shows one, else its result.
            first_glimpse = min(
                t["total"] for t in page.evaluate("() => window.studioTimings") if t["version"] == first["version"]
            )
            # The page's longest gap between animation frames while the next strokes are solved.
            page.evaluate(
                "() => { window.frameGap = 0; let last = performance.now(); const tick = (t) => { "
                "window.frameGap = Math.max(window.frameGap, t - last); last = t; "
                "if (!window.stopFrames) requestAnimationFrame(tick); }; requestAnimationFrame(tick); }"
            )
            for k in range(strokes):
                page.wait_for_timeout(1000 * pause)  # a user picks a colour and a place
                stroke(page, rng, shape, length, new_colour)
                wait_final(page, 3 + k)
            frame_gap = page.evaluate("() => { window.stopFrames = true; return window.frameGap / 1000; }")
            every = page.evaluate("() => window.studioTimings")
            records = finals(page)[2:]
            extra = {}
            if viewport:
                memory.stage("1:1")
                extra.update(one_to_one(page))
            if save:
                memory.stage("save")
                extra.update(save_now(page, process.pid))
            extra["server_peak_by_stage_bytes"] = memory.stop()
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    median = {part: statistics.median(r[part] for r in records) for part in ("total",) + PARTS}
    # Per stroke: the first result drawn for its version (a preview, for a refinable method) and the final one.
    versions = sorted({r["version"] for r in records})
    first_seen = [min(r["total"] for r in every if r["version"] == v) for v in versions]
    updates = {}
    for r in records:
        kind = r["info"].get("update") or r["info"].get("solver", "?")
        updates[kind] = updates.get(kind, 0) + 1
    return {
        "megapixels": megapixels,
        "image": image.name,
        "hints": hints,
        "size": [image_info["width"], image_info["height"]],
        "working_size": [shape[1], shape[0]],
        "open_to_gray_s": gray_shown,
        "first_stroke_s": first["total"],
        "first_stroke_solve_s": first["solve"],
        "first_result_after_open_s": gray_shown if hints else gray_shown + first["total"],
        "first_stroke_visible_s": first_glimpse,
        "first_colours_after_open_s": gray_shown if hints else gray_shown + first_glimpse,
        "strokes": len(records),
        "median_s": median["total"],
        "p90_s": float(np.percentile([r["total"] for r in records], 90)),
        "median_split_s": {part: median[part] for part in PARTS},
        "update_kinds": updates,
        "longest_frame_gap_s": frame_gap,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "first_visible_median_s": statistics.median(first_seen),
        "records": records,
        "gray_record": shown,
        **extra,
    }


def one_to_one(page) -> dict:
    """At 1:1 (key 1), a 40-screen-pixel stroke in the middle of the view: seconds from its
    mouse-up to the live result, to the first of the view's full tiles (full resolution, as a
    save makes them) drawn, and to all of them drawn."""
    page.keyboard.press("1")
    page.wait_for_timeout(1500)  # the tiles of the view load
    before = page.evaluate("() => window.studioState.detailKey")
    count = len(finals(page))
    box = page.locator("#viewport").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 20, y)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x - 20 + 4 * k, y)
    start = time.perf_counter()
    page.mouse.up()
    stroke_record = wait_final(page, count + 1)  # the 1:1 stroke's live result, split as the page has it
    live = time.perf_counter() - start
    page.wait_for_function(
        # (a page of before full tiles has no fullPass: its one solve of the view, then all its tiles)
        f"() => window.studioState.detailKey > {before} && "
        "(!window.studioState.fullPass || window.studioState.fullPass.first !== null)",
        timeout=300_000,
    )
    full = time.perf_counter() - start
    # Every result tile in view drawn with the full-resolution colours (the page's own stamp).
    page.wait_for_function(TILES_DRAWN, timeout=300_000)
    drawn = time.perf_counter() - start
    solved = page.evaluate("() => window.studioState.lastViewport")
    return {
        "one_to_one_live_s": live,
        "one_to_one_full_s": full,
        "one_to_one_drawn_s": drawn,
        "one_to_one_box": solved["box"],
        "one_to_one_tiles": solved.get("tiles", page.evaluate("() => window.studioState.tiles.size")),
        "one_to_one_server_s": solved["seconds"],
        "one_to_one_record": stroke_record,
    }


#: Whether every result tile in view shows the latest full-resolution solve of the view.
TILES_DRAWN = (
    "() => { const S = window.studioState, stamp = `${S.serial}.${S.detailKey}`; "
    "return S.tiles.size > 0 && [...S.tiles.values()].every((pair) => pair[1].dataset.stamp === stamp); }"
)


class Memory:
    """The server's resident memory sampled every 20 ms in a thread: its peak in each stage of
    the session (opening, strokes, 1:1, save), to say where the peak comes from."""

    def __init__(self, pid: int):
        import threading

        self.pid, self.name, self.peaks = pid, "open", {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                now, _ = rss(self.pid)
            except (OSError, KeyError):
                return
            self.peaks[self.name] = max(self.peaks.get(self.name, 0.0), now)
            time.sleep(0.02)

    def stage(self, name: str) -> None:
        self.name = name

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return dict(self.peaks)


def rss(pid: int) -> tuple[float, float]:
    """A process's resident memory now and at its peak, in bytes (Linux)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return float(fields["VmRSS"].split()[0]) * 1024, float(fields["VmHWM"].split()[0]) * 1024


def save_now(page, pid: int) -> dict:
    """Ctrl+S: seconds until the page lists the saved files, whether it showed progress meanwhile,
    and the server's memory after it."""
    start = time.perf_counter()
    page.keyboard.press("Control+s")
    progress_seen = False
    while True:
        if page.evaluate("() => !document.getElementById('save-progress').hidden"):
            progress_seen = True
        if "Same result from the shell" in page.locator("#save-out").text_content():
            break
        if page.evaluate("() => window.studioState.lastError") and not page.evaluate("() => window.studioState.saving"):
            raise RuntimeError(page.evaluate("() => window.studioState.lastError"))
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    now, peak = rss(pid)
    return {
        "save_s": seconds,
        "save_progress_shown": progress_seen,
        "server_rss_after_save_bytes": now,
        "server_peak_rss_bytes": peak,
        "save_command": page.locator("#save-out code").text_content(),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| photo | start | live copy | load | open → first picture | first stroke | first result after open "
        "| median stroke (p90) | network | queue | cues | solve | colour | encode | draw | longest frame gap |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["median_split_s"]
        ms = lambda v: f"{1000 * v:.0f} ms"  # noqa: E731
        start = f"{r['hints']} hints (session)" if r["hints"] else "fresh"
        lines.append(
            f"| {r['size'][0]}×{r['size'][1]} ({r['megapixels']:g} MP) | {start} | {r['working_size'][0]}×"
            f"{r['working_size'][1]} | {r['load_average_before']:.1f} | {r['open_to_gray_s']:.2f} s | "
            f"{r['first_stroke_s']:.2f} s | "
            f"{r['first_result_after_open_s']:.2f} s | {ms(r['median_s'])} ({ms(r['p90_s'])}) | "
            + " | ".join(ms(s[p]) for p in PARTS)
            + f" | {ms(r['longest_frame_gap_s'])} |"
        )
    return "\n".join(lines)


def targets(rows: list[dict]) -> str:
    """The issue's target table from the sessions run (a row says "not run" where none measured it)."""

    def find(mp: float, hints: int | None = 0, key: str | None = None):
        for r in rows:
            if abs(r["megapixels"] - mp) < 0.5 and (hints is None or r["hints"] == hints) and (key is None or key in r):
                return r
        return None

    lines = ["| | measured | goal |", "|---|---|---|"]
    one = find(1.0)
    lines.append(
        "| 1 MP: stroke → pixels, median / p90 | "
        + (
            f"{one['median_s']:.2f} s / {one['p90_s']:.2f} s (load {one['load_average_before']:.1f})"
            if one
            else "not run"
        )
        + " | ≤ 0.3 s / ≤ 0.5 s |"
    )
    big = find(12.0)
    lines.append(
        "| 12 MP: first coloured result after opening | "
        + (f"{big['first_result_after_open_s']:.1f} s (load {big['load_average_before']:.1f})" if big else "not run")
        + " | ≤ 3 s |"
    )
    lines.append(
        "| 12 MP: stroke → first visible change / settled live result | "
        + (f"{big['first_visible_median_s']:.2f} s / {big['median_s']:.2f} s (medians)" if big else "not run")
        + " | ≤ 0.5 s / ≤ 1.5 s |"
    )
    saves = [find(mp, key="save_s") for mp in (12.0, 40.0)]
    lines.append(
        "| 12 / 40 MP: full-resolution save | "
        + " / ".join(
            f"{r['save_s']:.0f} s" + (" (progress shown)" if r["save_progress_shown"] else "") if r else "not run"
            for r in saves
        )
        + " | ≤ 15 s / ≤ 30 s, with progress |"
    )
    saved = next((r for r in saves[::-1] if r), None)
    lines.append(
        "| server memory after a save | "
        + (
            f"{saved['server_rss_after_save_bytes'] / 1e9:.2f} GB after the {saved['megapixels']:g} MP save "
            f"(peak {saved['server_peak_rss_bytes'] / 1e9:.2f} GB; the solve is the child's)"
            if saved
            else "not run"
        )
        + " | ≤ 4 GB (40 MP) |"
    )
    view = next((r for r in rows[::-1] if "one_to_one_full_s" in r), None)
    lines.append(
        "| viewport at 1:1 | "
        + (
            f"the photo's own pixels (tiles); after a stroke, live result {view['one_to_one_live_s']:.2f} s, "
            f"the view at full resolution {view['one_to_one_full_s']:.2f} s ({view['megapixels']:g} MP photo; "
            f"{view['one_to_one_box'][3]}×{view['one_to_one_box'][2]} px solved in {view['one_to_one_server_s']:.2f} s)"
            if view
            else "not run"
        )
        + " | the photo's own pixels, the result at full resolution within 2 s (40 MP) |"
    )
    return "\n".join(lines)


def engine_targets(rows: list[dict]) -> str:
    """The multi-scale engine's studio targets (first result, settled stroke, save, server memory,
    the 1:1 view) from the fresh sessions run, each with its load and whether it is met."""

    def find(mp: float, key: str):
        return next((r for r in rows if abs(r["megapixels"] - mp) < 0.5 and not r["hints"] and key in r), None)

    def met(ok: bool) -> str:
        return "yes" if ok else "no"

    def load(r: dict) -> str:
        return f"load {r['load_average_before']:.1f}"

    lines = ["| | measured | goal | met |", "|---|---|---|---|"]
    big = find(12.0, "first_result_after_open_s")
    if big:
        lines.append(
            f"| 12 MP: first colours after opening (a preview) / the first stroke's final result | "
            f"{big['first_colours_after_open_s']:.1f} s / {big['first_result_after_open_s']:.1f} s "
            f"({big['open_to_gray_s']:.1f} s to the photo shown, then {big['first_stroke_visible_s']:.2f} s / "
            f"{big['first_stroke_s']:.2f} s after the first stroke; {load(big)}) | ≤ 3 s "
            f"| {met(big['first_colours_after_open_s'] <= 3)} / {met(big['first_result_after_open_s'] <= 3)} |"
        )
        lines.append(
            f"| 12 MP: stroke → settled live result, median (p90) | {big['median_s']:.2f} s ({big['p90_s']:.2f} s) "
            f"| ≤ 1 s | median {met(big['median_s'] <= 1)}, p90 {met(big['p90_s'] <= 1)} |"
        )
    view = find(12.0, "one_to_one_full_s")
    if view:
        lines.append(
            f"| 12 MP at 1:1: stroke → the view's colour at full resolution | {view['one_to_one_full_s']:.2f} s "
            f"(live result {view['one_to_one_live_s']:.2f} s; {view['one_to_one_box'][3]}×"
            f"{view['one_to_one_box'][2]} px solved in {view['one_to_one_server_s']:.2f} s) | ≤ 1 s "
            f"| {met(view['one_to_one_full_s'] <= 1)} |"
        )
    for mp, goal in ((12.0, 10), (40.0, 30)):
        saved = find(mp, "save_s")
        measured = f"{saved['save_s']:.1f} s ({load(saved)})" if saved else "not run"
        verdict = met(saved["save_s"] <= goal) if saved else ""
        lines.append(f"| {mp:g} MP: full-resolution save (Ctrl+S → listed) | {measured} | ≤ {goal} s | {verdict} |")
        if saved and mp == 12.0:
            after, peak = saved["server_rss_after_save_bytes"], saved["server_peak_rss_bytes"]
            lines.append(
                f"| server memory after the 12 MP save (peak) | {after / 1e9:.2f} GB ({peak / 1e9:.2f} GB) | ≤ 2 GB "
                f"| after {met(after <= 2e9)}, peak {met(peak <= 2e9)} |"
            )
    return "\n".join(lines)


#: The restorer's real size (``--restorer``): each row's key in a session's record, its target and unit.
RESTORER_ROWS = (
    ("first colours after opening (the 12 MP target)", "first_colours_after_open_s", 3.0, "s"),
    ("stroke → settled live result, median", "median_s", 0.5, "s"),
    ("1:1 view after the last stroke: every visible tile at full resolution", "one_to_one_drawn_s", 1.0, "s"),
    ("Ctrl+S → saved files listed", "save_s", 10.0, "s"),
    ("server peak memory (resident)", "server_peak_rss_bytes", 1.5e9, "GB"),
)


def _split(record: dict | None) -> str:
    """A stroke's live result split as the page has it (solve, cues, network), or "" without one."""
    if not record:
        return ""
    update = (record.get("info") or {}).get("update") or (record.get("info") or {}).get("solver") or "?"
    return (
        f": solve {record['solve']:.2f} s ({update}), cues {record['cues']:.2f} s, "
        f"network {record['network']:.2f} s, queue {record['queue']:.2f} s"
    )


def restorer_targets(row: dict) -> str:
    """The 40 MP session's rows against their targets, with the load it ran under; a miss says by how much."""
    lines = [
        f"| {row['size'][0]}×{row['size'][1]} ({row['megapixels']:g} MP), load {row['load_average_before']:.1f} "
        "| measured | target | met |",
        "|---|---|---|---|",
    ]
    for label, key, goal, unit in RESTORER_ROWS:
        value = row.get(key)
        if value is None:
            lines.append(f"| {label} | not run | ≤ {goal:g} {unit} | |")
            continue
        scale = 1e9 if unit == "GB" else 1.0
        shown = f"{value / scale:.2f} {unit}"
        verdict = "yes" if value <= goal else f"no ({value / goal:.1f}× the target)"
        if key == "one_to_one_drawn_s":
            shown += (
                f" (live result {row['one_to_one_live_s']:.2f} s{_split(row.get('one_to_one_record'))}, "
                f"first tile {row['one_to_one_full_s']:.2f} s; "
                f"{row['one_to_one_box'][3]}×{row['one_to_one_box'][2]} px"
                + (f", {row['one_to_one_tiles']} tiles" if "one_to_one_tiles" in row else "")
                + ")"
            )
        if key == "server_peak_rss_bytes" and "server_peak_by_stage_bytes" in row:
            shown += " (" + ", ".join(f"{k} {v / 1e9:.2f}" for k, v in row["server_peak_by_stage_bytes"].items()) + ")"
        if key == "median_s":
            shown += f" (p90 {row['p90_s']:.2f} s, {row['strokes']} strokes)"
        lines.append(f"| {label} | {shown} | ≤ {goal * (1 if unit != 'GB' else 1e-9):g} {unit} | {verdict} |")
    return "\n".join(lines)


def restorer(args) -> None:
    """``--restorer``: one fresh 40 MP session, viewed at 1:1 and saved; its target table."""
    name = args.name or "studio_latency_40mp"
    with tempfile.TemporaryDirectory() as tmp:
        row = session(
            (args.megapixels or [40.0])[0],
            4 if args.strokes is None else args.strokes,
            Path(tmp),
            args.chromium,
            args.screenshot,
            args.preview_megapixels,
            0,
            args.pause,
            save=True,
            viewport=True,
            length=args.stroke_length,
            new_colour=args.new_colours,
        )
    text, goals = table([row]), restorer_targets(row)
    print(text)
    print(goals)
    from reports import kernels_note, write_report

    warm, cold = kernels_note()
    meta = {
        "kernels_warm": warm,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "load_average_at_end": os.getloadavg(),
        "strokes_after_first": row["strokes"],
        "pause_s": args.pause,
        "stroke_length_screen_px": args.stroke_length,
        "new_colours": args.new_colours,
        "targets": {key: goal for _, key, goal, _ in RESTORER_ROWS},
    }
    strokes = (
        f"{args.stroke_length:g} screen pixels long at fit-to-window"
        if args.stroke_length
        else "40 working-copy pixels long"
    ) + (", each a new colour" if args.new_colours else ", palette colours")
    write_report(
        HERE / "results",
        name,
        {"meta": meta, "rows": [row]},
        "# The studio at a restorer's size (40 MP scan, headless Chromium)\n\n"
        f"`benchmarks/studio_latency.py --restorer`; {meta['machine']}, shared (load average at the start "
        f"{row['load_average_before']:.1f}, at the end {meta['load_average_at_end'][0]:.1f}). A fresh photo opened "
        f"through the page, then {row['strokes']} strokes after the first (4-px brush, {strokes}, {args.pause:g} s "
        "apart), "
        "a stroke at 1:1 in the middle of the view, and Ctrl+S."
        + (f" {cold}" if cold else "")
        + "\n\n## Against the targets\n\n"
        + goals
        + "\n\n## The session\n\n"
        + text
        + "\n",
    )


def save_ahead(args) -> None:
    """``--save-ahead``: a studio save's work (its child's :func:`varcolor.app.run_request`) on a
    40 MP photo with five strokes, with and without the photo's gray made ahead (as a spare save
    child makes it while the user edits), taking turns (``--rounds``), in this process."""
    import varcolor.app.solve as solve
    from varcolor.app import run_request
    from varcolor.io import encode_image
    from varcolor.ui.document import DEFAULT_PRESET, PRESETS, Document, rasterize
    from varcolor.ui.saving import save_request

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        image = photo((args.megapixels or [40.0])[0], folder)
        height, width = varcolor_shape(image)
        doc, rng = Document(), np.random.default_rng(0)
        for k in range(5):
            x, y, angle = rng.uniform(100, width - 300), rng.uniform(100, height - 300), rng.uniform(0, np.pi)
            path = [[x + 200 * np.cos(angle) * t / 10, y + 200 * np.sin(angle) * t / 10] for t in range(11)]
            doc = doc.with_stroke({"tool": "brush", "width": 20, "rgb": PALETTE[k], "path": path}, (height, width))
        (folder / "mask.png").write_bytes(encode_image(rasterize(doc, (height, width)), ".png"))
        request = save_request(image, folder / "mask.png", folder / "out.png", dict(PRESETS[DEFAULT_PRESET]), None, 8)
        request["overwrite"] = True
        for _ in range(args.rounds):
            for ahead in (False, True):
                load = os.getloadavg()[0]
                start = time.perf_counter()
                if ahead:
                    solve.prepare(image)
                made = time.perf_counter() - start
                start = time.perf_counter()
                assert run_request(request) is None
                rows.append({"ahead": ahead, "prepare_s": made, "save_s": time.perf_counter() - start, "load": load})
                print(rows[-1], flush=True)
    fresh = [r["save_s"] for r in rows if not r["ahead"]]
    ahead = [r["save_s"] for r in rows if r["ahead"]]
    lines = [
        "| round | load (1 min) | save, reading the photo | save, its gray made ahead (made in) | ratio |",
        "|---|---|---|---|---|",
    ]
    for k in range(args.rounds):
        a, b = rows[2 * k], rows[2 * k + 1]
        lines.append(
            f"| {k + 1} | {a['load']:.1f} / {b['load']:.1f} | {a['save_s']:.1f} s | {b['save_s']:.1f} s "
            f"({b['prepare_s']:.1f} s) | {b['save_s'] / a['save_s']:.2f} |"
        )
    text = "\n".join(lines)
    print(text)
    from reports import write_report

    write_report(
        HERE / "results",
        args.name or "studio_save_ahead",
        {"rows": rows, "median_ratio": statistics.median(ahead) / statistics.median(fresh)},
        f"# A studio save at {(args.megapixels or [40.0])[0]:g} MP, its photo's gray made ahead or not\n\n"
        "`benchmarks/studio_latency.py --save-ahead`: the save's child's work (`varcolor.app.run_request`, the "
        "printed command's), five strokes, the two ways taking turns in one process on a shared 2-core machine; "
        "the gray made ahead is what a spare save child makes while the user edits.\n\n" + text + "\n",
    )


def varcolor_shape(image: Path) -> tuple[int, int]:
    from varcolor.io import image_shape

    return tuple(image_shape(image)[:2])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, nargs="+", help="sizes (default: 1 and 12; 40 with --restorer)")
    parser.add_argument("--strokes", type=int, help="strokes after the first (default: 15; 4 with --restorer)")
    parser.add_argument(
        "--name", help="the results' stem (default: studio_latency; with --restorer: studio_latency_40mp)"
    )
    parser.add_argument(
        "--hints",
        type=int,
        nargs="+",
        default=[0, 300],
        help="sessions to run per size: 0 = a fresh photo, N = a session of N point hints",
    )
    parser.add_argument(
        "--pause", type=float, default=1.0, help="seconds between a result and the next stroke (default: %(default)s)"
    )
    parser.add_argument(
        "--stroke-length",
        type=float,
        help="strokes this many screen pixels long at fit-to-window (a restorer's: 120), not 40 working-copy pixels",
    )
    parser.add_argument("--new-colours", action="store_true", help="each stroke a random colour of its own")
    parser.add_argument("--preview-megapixels", type=float, help="the server's live working copy (default: its own)")
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of the first session's page here")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument(
        "--save-megapixels",
        type=float,
        nargs="*",
        default=[12.0],
        help="sizes whose fresh session also saves (Ctrl+S) and is viewed at 1:1 (default: %(default)s)",
    )
    parser.add_argument(
        "--restorer",
        action="store_true",
        help="the restorer's size: one fresh 40 MP session (4 strokes unless --strokes), at 1:1 and saved",
    )
    parser.add_argument(
        "--save-ahead",
        action="store_true",
        help="a 40 MP save's work with and without the photo's gray made ahead, taking turns",
    )
    parser.add_argument("--rounds", type=int, default=2, help="--save-ahead's turns (default: %(default)s)")
    parser.add_argument(
        "--unrestrained",
        action="store_true",
        help="the server's engine unrestrained (restraint='off'): restraint's cost, in turns with a run without it",
    )
    args = parser.parse_args(argv)
    global UNRESTRAINED
    UNRESTRAINED = args.unrestrained
    from reports import kernels_note

    if not kernels_note()[0]:  # said before minutes of browsing, and in the report
        print(f"studio_latency: {kernels_note()[1]}", file=sys.stderr)
    if args.save_ahead:
        save_ahead(args)
        return
    if args.restorer:
        restorer(args)
        return
    args.megapixels = args.megapixels or [1.0, 12.0]
    args.strokes = 15 if args.strokes is None else args.strokes
    args.name = args.name or "studio_latency"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [(m, h) for m in args.megapixels for h in args.hints]
        for k, (megapixels, hints) in enumerate(runs):
            folder = Path(tmp) / f"run{k}"
            folder.mkdir()
            rows.append(
                session(
                    megapixels,
                    args.strokes,
                    folder,
                    args.chromium,
                    args.screenshot if k == 0 else None,
                    args.preview_megapixels,
                    hints,
                    args.pause,
                    save=not hints and megapixels in args.save_megapixels,
                    viewport=not hints and megapixels in args.save_megapixels,
                    length=args.stroke_length,
                    new_colour=args.new_colours,
                )
            )
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = table(rows)
    print(text)
    goals = targets(rows)
    print(goals)
    engine = engine_targets(rows)
    print(engine)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    from reports import kernels_note

    warm, cold = kernels_note()
    meta = {
        "kernels_warm": warm,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "load_average_at_end": os.getloadavg(),
        "strokes_after_first": args.strokes,
        "pause_s": args.pause,
        "brush_width_px": 4,
        "preview_megapixels": args.preview_megapixels,
        "targets": {
            "median_1mp_s": 0.3,
            "p90_1mp_s": 0.5,
            "first_result_12mp_s": 3.0,
            "first_visible_12mp_s": 0.5,
            "settled_12mp_s": 1.5,
            "save_12mp_s": 15.0,
            "save_40mp_s": 30.0,
            "server_memory_after_40mp_save_bytes": 4e9,
            "one_to_one_full_resolution_s": 2.0,
        },
    }
    (out / f"{args.name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (out / f"{args.name}.md").write_text(
        "# Studio latency (mouse-up of a 40-px stroke → result drawn, headless Chromium)\n\n"
        f"`benchmarks/studio_latency.py`; {meta['machine']}, shared (load average at the end "
        f"{meta['load_average_at_end'][0]:.1f}). Median over {args.strokes} strokes after the first "
        f"(4-px brush, {args.pause:g} s between a result and the next stroke); "
        "the split columns are medians of each part (they need not add up to the median total); load: the "
        "machine's 1-minute load average when the session started (2 cores; other work shares them)."
        + (f" {cold}" if cold else "")
        + "\n\n"
        "## Against the targets (issue 39)\n\n"
        + goals
        + "\n\n## Every session\n\n"
        + text
        + "\n\n## Against the multi-scale engine's targets (default method `levin-multiscale`)\n\n"
        + engine
        + "\n"
    )


if __name__ == "__main__":
    main()
