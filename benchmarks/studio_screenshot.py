"""The studio's screenshots for the docs, in headless Chromium:

- ``docs/images/studio.png``: the bundled example opened in ``varcolor ui``, its point hints
  (``examples/data/chelsea.points.json``) clicked in with the Point tool, the before/after split at
  a third, and a point clicked at the end: the suggestion panel shows the network's colours there;
- ``docs/images/studio_one_to_one.png``: a "scan" (scikit-image's chelsea, upscaled 4×, 2.2 MP,
  live copy 0.3 MP) with a few brush strokes, viewed at 1:1: the photo's own pixels and the
  result solved at full resolution for the view;
- ``docs/images/studio_first_screen.png`` and ``studio_first_stroke.png``: what someone new to
  the studio sees in a 1400×900 window on the bundled example: the empty canvas with its hint,
  then after one brush stroke (one colour everywhere, and the hint to add more);
- ``docs/images/studio_reference.png``: the bundled example with a reference photo beside it (its
  colour original, cropped: a colour photo of the same scene), the reference's suggestions as dots,
  a neutral stroke on the white chin, and the swatches the reference suggests at a place.

Run: ``python benchmarks/studio_screenshot.py [FOLDER [points|one-to-one|first-screen|reference]]``
(default ``docs/images``, all four). Needs ``chromium`` and playwright.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from studio_latency import BROWSER_ARGS, start_server, wait_final

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@contextmanager
def studio_page(folder: Path, live_mp: float | None, photo: str | None, viewport: tuple[int, int], ready_s: int):
    """A studio serving ``folder`` (``photo`` opened; a live copy of ``live_mp`` MP) and a page on it in
    headless Chromium, ready; the studio stopped after."""
    from playwright.sync_api import sync_playwright

    process, url = start_server(folder, live_mp, *([photo] if photo else []))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=BROWSER_ARGS
            )
            width, height = viewport
            page = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True).new_page()
            page.goto(url)  # not "networkidle": the page keeps a long poll open on purpose
            page.wait_for_function("() => window.studioReady === true", timeout=ready_s * 1000)
            yield page
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=60)


def main(folder: Path, which: str = "both") -> None:
    if which in ("both", "points"):
        points_view(folder / "studio.png")
    if which in ("both", "one-to-one"):
        one_to_one(folder / "studio_one_to_one.png")
    if which in ("both", "first-screen"):
        first_screen(folder / "studio_first_screen.png", folder / "studio_first_stroke.png")
    if which in ("both", "reference"):
        reference_view(folder / "studio_reference.png")


def reference_view(out: Path) -> None:
    import varcolor

    data = ROOT / "examples" / "data"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(data / "chelsea.png", folder / "chelsea.png")
        reference = folder / "chelsea_in_colour.jpg"
        varcolor.write_image(reference, varcolor.read_image(data / "chelsea_original.png")[20:, 60:])
        with studio_page(folder, None, str(folder / "chelsea.png"), (1280, 760), 300) as page:
            wait_final(page, 1)
            page.set_input_files("#ref-file", str(reference))
            page.wait_for_function("() => (window.studioSuggestions || 0) > 0", timeout=300_000)
            wait_final(page, 2)
            box = page.locator("#stage").bounding_box()
            zoom = page.evaluate("() => window.studioState.zoom")
            page.keyboard.press("n")  # the neutral brush on the white chin
            page.mouse.move(box["x"] + 170.5 * zoom, box["y"] + 290.5 * zoom)
            page.mouse.down()
            page.mouse.move(box["x"] + 240.5 * zoom, box["y"] + 292.5 * zoom, steps=6)
            page.mouse.up()
            wait_final(page, 3)
            page.keyboard.press("b")  # a place chosen: the reference's colours there
            page.mouse.click(box["x"] + 300.5 * zoom, box["y"] + 120.5 * zoom)
            wait_final(page, 4)
            page.wait_for_function("() => document.getElementById('suggest-note').textContent.includes('reference')")
            page.keyboard.press("Control+z")  # the click's dot of paint taken back; the swatches stay
            wait_final(page, 5)
            page.mouse.move(box["x"] + 5, box["y"] + 5)
            page.wait_for_timeout(500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
    print(f"wrote {out}")


def first_screen(out: Path, stroked: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(ROOT / "examples" / "data" / "chelsea.png", folder / "chelsea.png")
        with studio_page(folder, None, str(folder / "chelsea.png"), (1400, 900), 300) as page:
            wait_final(page, 1)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            box = page.locator("#stage").bounding_box()
            zoom = page.evaluate("() => window.studioState.zoom")
            page.mouse.move(box["x"] + 100.5 * zoom, box["y"] + 250.5 * zoom)  # the cat's cheek
            page.mouse.down()
            page.mouse.move(box["x"] + 160.5 * zoom, box["y"] + 270.5 * zoom, steps=6)
            page.mouse.up()
            wait_final(page, 2)
            page.mouse.move(box["x"] + 5, box["y"] + 5)
            page.wait_for_timeout(500)
            page.screenshot(path=str(stroked))
    print(f"wrote {out} and {stroked}")


def points_view(out: Path) -> None:
    import varcolor
    from varcolor.color import lab_to_rgb, lightness_of_gray

    data = ROOT / "examples" / "data"
    points = json.loads((data / "chelsea.points.json").read_text())
    gray = varcolor.read_image(data / "chelsea.png")
    gray = gray if gray.ndim == 2 else gray[..., 0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(data / "chelsea.png", folder / "chelsea.png")
        with studio_page(folder, None, None, (1280, 760), 60) as page:
            page.locator("#file").set_input_files(str(folder / "chelsea.png"))
            count = wait_final(page, 1)
            page.locator('[data-tool="point"]').click()
            box = page.locator("#stage").bounding_box()
            zoom = page.evaluate("() => window.studioState.zoom")
            # Points 5 photo pixels across (the size is set in screen pixels).
            page.evaluate(
                "(n) => { const s = document.getElementById('size'); s.value = n; "
                "s.dispatchEvent(new Event('input')); }",
                round(5 * zoom),
            )
            done = 1
            for p in points:
                lightness = float(lightness_of_gray(gray[p["y"], p["x"]]))
                rgb = lab_to_rgb(np.array([[[lightness, p["a"], p["b"]]]]))[0, 0]
                colour = "#" + "".join(f"{round(v * 255):02x}" for v in rgb)
                page.evaluate(
                    "(hex) => { const el = document.getElementById('hex'); el.value = hex; "
                    "el.dispatchEvent(new Event('input')); }",
                    colour,
                )
                page.mouse.click(box["x"] + (p["x"] + 0.5) * zoom, box["y"] + (p["y"] + 0.5) * zoom)
                done += 1
                wait_final(page, done)
            page.evaluate(
                "() => { const s = document.getElementById('split'); s.value = 33; "
                "s.dispatchEvent(new Event('input')); }"
            )
            # A point clicked (selected): its suggestions and the gamut at its lightness.
            p = points[len(points) // 2]
            page.mouse.click(box["x"] + (p["x"] + 0.5) * zoom, box["y"] + (p["y"] + 0.5) * zoom)
            page.wait_for_function(
                "() => document.querySelectorAll('#suggested .swatch').length > 0 && "
                "document.getElementById('suggest-note').textContent === ''",
                timeout=60_000,
            )
            page.mouse.move(box["x"] + 20 * zoom, box["y"] + 250 * zoom)  # away: they stay
            page.wait_for_timeout(500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
    print(f"wrote {out} ({count['version']} → {done} results)")


def one_to_one(out: Path) -> None:
    from skimage import data
    from skimage.transform import resize

    import varcolor

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scan = folder / "chelsea_scan.png"
        gray = data.chelsea().mean(axis=2) / 255.0
        varcolor.write_image(scan, np.clip(resize(gray, (1200, 1804), order=3), 0, 1))
        with studio_page(folder, 0.3, str(scan), (1280, 760), 60) as page:
            count = wait_final(page, 1)
            box = page.locator("#stage").bounding_box()
            zoom = page.evaluate("() => window.studioState.zoom")
            scale = page.evaluate("() => window.studioState.scaleX")
            done = 1
            # Strokes in the photo's pixels: fur, eyes, background, the nose.
            for colour, path in (
                ("#b4783c", [(700, 520), (900, 560), (1100, 600)]),
                ("#6e9a3c", [(560, 400), (590, 430)]),
                ("#6e9a3c", [(1160, 410), (1190, 440)]),
                ("#5a6e8c", [(200, 200), (220, 900)]),
                ("#d28c8c", [(880, 700), (930, 720)]),
                ("#c8a064", [(900, 1000), (1300, 1050)]),
            ):
                page.evaluate(
                    "(hex) => { const el = document.getElementById('hex'); el.value = hex; "
                    "el.dispatchEvent(new Event('input')); }",
                    colour,
                )
                at = [(box["x"] + (x + 0.5) * scale * zoom, box["y"] + (y + 0.5) * scale * zoom) for x, y in path]
                page.mouse.move(*at[0])
                page.mouse.down()
                for x, y in at[1:]:
                    page.mouse.move(x, y, steps=8)
                page.mouse.up()
                done += 1
                wait_final(page, done)
            # 1:1 about the left eye and the green stroke in it.
            before = page.evaluate("() => window.studioState.detailKey")
            page.keyboard.press("1")
            box = page.locator("#stage").bounding_box()
            zoom = page.evaluate("() => window.studioState.zoom")
            eye = (box["x"] + 600 * scale * zoom, box["y"] + 440 * scale * zoom)
            view = page.locator("#viewport").bounding_box()
            page.evaluate(
                "([x, y]) => { const S = window.studioState; S.panX += x; S.panY += y; }",
                [view["x"] + view["width"] / 2 - eye[0], view["y"] + view["height"] / 2 - eye[1]],
            )
            page.keyboard.press("+")  # nudges the transform: the tiles follow the pan
            page.keyboard.press("-")
            page.wait_for_function(f"() => window.studioState.detailKey > {before}", timeout=300_000)
            page.wait_for_timeout(1500)  # the result tiles swap in
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
    print(f"wrote {out} ({count['version']} → {done} results, then 1:1)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images", *sys.argv[2:3])
