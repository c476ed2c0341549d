"""The studio's screenshot for the docs (``docs/images/studio.png``): the bundled example opened
in ``varcolor ui``, its point hints (``examples/data/chelsea.points.json``) clicked in with the
Point tool in headless Chromium, the before/after split at a third.

Run: ``python benchmarks/studio_screenshot.py [OUT.png]``. Needs ``chromium`` and playwright.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from studio_latency import BROWSER_ARGS, start_server, wait_final  # noqa: E402


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    import varcolor
    from varcolor.color import lab_to_rgb, lightness_of_gray

    data = ROOT / "examples" / "data"
    points = json.loads((data / "chelsea.points.json").read_text())
    gray = varcolor.read_image(data / "chelsea.png")
    gray = gray if gray.ndim == 2 else gray[..., 0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(data / "chelsea.png", folder / "chelsea.png")
        process, url = start_server(folder, None)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=BROWSER_ARGS
                )
                page = browser.new_context(viewport={"width": 1280, "height": 760}, bypass_csp=True).new_page()
                page.goto(url)
                page.wait_for_function("() => window.studioReady === true", timeout=60_000)
                page.locator("#file").set_input_files(str(folder / "chelsea.png"))
                count = wait_final(page, 1)
                page.locator('[data-tool="point"]').click()
                page.evaluate(
                    "() => { const s = document.getElementById('size'); s.value = 5; "
                    "s.dispatchEvent(new Event('input')); }"
                )
                box = page.locator("#stage").bounding_box()
                zoom = page.evaluate("() => window.studioState.zoom")
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
                page.mouse.move(box["x"] + 200 * zoom, box["y"] + 150 * zoom)
                page.wait_for_timeout(800)  # the suggested colours under the pointer
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"wrote {out} ({count['version']} → {done} results)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images" / "studio.png")
