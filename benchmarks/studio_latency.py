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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from shared_data import SHARED  # noqa: E402

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


def start_server(folder: Path, preview: float | None, *extra: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    extra = list(extra) + ([] if preview is None else ["--preview-megapixels", str(preview)])
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "varcolor.cli",
            "ui",
            "--no-browser",
            "--data-dir",
            str(folder / "data"),
            "--out-dir",
            str(folder),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=open(folder / "server.log", "a"),
        text=True,
        env=env,
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


def stroke(page, rng, shape) -> None:
    """A 40-pixel stroke (working-copy pixels) at a random place, in a random palette colour."""
    height, width = shape
    colour = PALETTE[int(rng.integers(len(PALETTE)))]
    page.evaluate(
        "(hex) => { const el = document.getElementById('hex'); el.value = hex; el.dispatchEvent(new Event('input')); }",
        "#" + "".join(f"{v:02x}" for v in colour),
    )
    angle = rng.uniform(0, np.pi)
    dx, dy = 40 * np.cos(angle), 40 * np.sin(angle)
    x0, y0 = rng.uniform(10, width - 50), rng.uniform(10, height - 50)
    box = page.locator("#stage").bounding_box()
    zoom = page.evaluate("() => window.studioState.zoom")
    page.mouse.move(box["x"] + x0 * zoom, box["y"] + y0 * zoom)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(box["x"] + (x0 + dx * k / 10) * zoom, box["y"] + (y0 + dy * k / 10) * zoom)
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
) -> dict:
    """One studio session: open the photo (fresh: through the page's picker; with ``hints``: a
    session file of that many point hints, given to ``varcolor ui --session``), then strokes."""
    from playwright.sync_api import sync_playwright

    image = photo(megapixels, folder)
    extra = ["--session", str(hints_session(image, hints, folder))] if hints else []
    load_before = os.getloadavg()[0]
    opened = time.perf_counter()
    process, url = start_server(folder, preview, *extra)
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
            image_info = page.evaluate("() => window.studioState.image")
            shape = (image_info["work_height"], image_info["work_width"])
            rng = np.random.default_rng(0)
            stroke(page, rng, shape)
            first = wait_final(page, 2)
            # The page's longest gap between animation frames while the next strokes are solved.
            page.evaluate(
                "() => { window.frameGap = 0; let last = performance.now(); const tick = (t) => { "
                "window.frameGap = Math.max(window.frameGap, t - last); last = t; "
                "if (!window.stopFrames) requestAnimationFrame(tick); }; requestAnimationFrame(tick); }"
            )
            for k in range(strokes):
                page.wait_for_timeout(1000 * pause)  # a user picks a colour and a place
                stroke(page, rng, shape)
                wait_final(page, 3 + k)
            frame_gap = page.evaluate("() => { window.stopFrames = true; return window.frameGap / 1000; }")
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))
            records = finals(page)[2:]
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    median = {part: statistics.median(r[part] for r in records) for part in ("total",) + PARTS}
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
        "strokes": len(records),
        "median_s": median["total"],
        "p90_s": float(np.percentile([r["total"] for r in records], 90)),
        "median_split_s": {part: median[part] for part in PARTS},
        "update_kinds": updates,
        "longest_frame_gap_s": frame_gap,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "records": records,
        "gray_record": shown,
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, nargs="+", default=[1.0, 12.0])
    parser.add_argument("--strokes", type=int, default=15, help="strokes after the first (default: %(default)s)")
    parser.add_argument("--name", default="studio_latency")
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
    parser.add_argument("--preview-megapixels", type=float, help="the server's live working copy (default: its own)")
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of the first session's page here")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
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
                )
            )
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = table(rows)
    print(text)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "load_average_at_end": os.getloadavg(),
        "strokes_after_first": args.strokes,
        "pause_s": args.pause,
        "brush_width_px": 4,
        "preview_megapixels": args.preview_megapixels,
        "targets": {"median_1mp_s": 0.3, "median_12mp_s": 1.0, "first_result_1mp_s": 3.0},
    }
    (out / f"{args.name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (out / f"{args.name}.md").write_text(
        "# Studio latency (mouse-up of a 40-px stroke → result drawn, headless Chromium)\n\n"
        f"`benchmarks/studio_latency.py`; {meta['machine']}, shared (load average at the end "
        f"{meta['load_average_at_end'][0]:.1f}). Median over {args.strokes} strokes after the first "
        f"(4-px brush, {args.pause:g} s between a result and the next stroke); "
        "the split columns are medians of each part (they need not add up to the median total); load: the "
        "machine's 1-minute load average when the session started (2 cores; other work shares them).\n\n" + text + "\n"
    )


if __name__ == "__main__":
    main()
