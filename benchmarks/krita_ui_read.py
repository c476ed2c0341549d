"""What Live costs Krita's UI thread: reading a strokes layer as the plug-in reads it at each tick
(``bytes(node.pixelData(0, 0, w, h))``, then comparing it with the last tick's), in the real Krita
(``kritarunner`` under ``xvfb-run``, a throw-away profile), at a few document sizes.

The plug-in reads the whole layer every :data:`~varcolor.krita.plugin.varcolor_krita.watch.TICK_MS`
milliseconds while Live is on (Krita 5.1 tells Python of no finished stroke): the share of the UI
thread those reads take is what a user feels as the cursor stuttering while painting.

    python benchmarks/krita_ui_read.py [--sizes 1155x866,4243x2828] [--reads 6]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from reports import write_report

from varcolor.krita.plugin.varcolor_krita.watch import TICK_MS, interval_after

#: The script Krita runs (``kritarunner -s``): a document of the size asked, a strokes layer with
#: 20 strokes 300×8 px, then the reads timed; the seconds written as JSON.
SCRIPT = """
import json, random, time
from krita import Krita

def __main__(args):
    width, height, reads, out = int(args[0]), int(args[1]), int(args[2]), args[3]
    doc = Krita.instance().createDocument(width, height, "live", "RGBA", "U8", "", 300.0)
    node = doc.createNode("strokes", "paintlayer")
    doc.rootNode().addChildNode(node, None)
    random.seed(0)
    band = bytes([60, 120, 200, 255]) * (300 * 8)
    for _ in range(20):
        node.setPixelData(band, random.randrange(0, width - 300), random.randrange(0, height - 8), 300, 8)
    read, compare, last = [], [], None
    for _ in range(reads):
        start = time.perf_counter()
        pixels = bytes(node.pixelData(0, 0, width, height))
        read.append(time.perf_counter() - start)
        start = time.perf_counter()
        _ = pixels == last
        compare.append(time.perf_counter() - start)
        last = pixels
    with open(out, "w") as f:
        json.dump({"read": read, "compare": compare}, f)
    doc.close()
"""


def measure(width: int, height: int, reads: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="varcolor-krita-read-") as folder:
        scripts = Path(folder) / "data" / "krita" / "pykrita"
        scripts.mkdir(parents=True)
        (scripts / "live_read.py").write_text(SCRIPT)
        out = Path(folder) / "read.json"
        environ = {
            **os.environ,
            "XDG_DATA_HOME": str(Path(folder) / "data"),
            "XDG_CONFIG_HOME": str(Path(folder) / "config"),
            "PYTHONPATH": str(scripts),
        }
        load = os.getloadavg()[0]
        command = ["xvfb-run", "-a", "kritarunner", "-s", "live_read", "-f", "__main__"]
        command += [str(width), str(height), str(reads), str(out)]
        subprocess.run(command, env=environ, cwd=folder, capture_output=True, timeout=600)
        if not out.is_file():
            return {"size": f"{width}x{height}", "error": "Krita wrote no timings"}
        found = json.loads(out.read_text())
    steady = found["read"][1:] or found["read"]  # the first read also maps the layer's tiles
    per_tick = statistics.median(steady) + statistics.median(found["compare"][1:] or found["compare"])
    return {
        "size": f"{width}x{height}",
        "megapixels": round(width * height / 1e6, 2),
        "first_read_seconds": found["read"][0],
        "read_seconds": statistics.median(steady),
        "compare_seconds": statistics.median(found["compare"][1:] or found["compare"]),
        "ui_share": per_tick / (TICK_MS / 1000 + per_tick),
        # The plug-in's tick after such a read (it spaces out where reads are slow), and the share then.
        "tick_ms": interval_after(statistics.median(steady)),
        "ui_share_adaptive": per_tick / (interval_after(statistics.median(steady)) / 1000 + per_tick),
        "load": [round(load, 1), round(os.getloadavg()[0], 1)],
        **found,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1155x866,4243x2828")
    parser.add_argument("--reads", type=int, default=6)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    rows = [measure(*map(int, size.split("x")), args.reads) for size in args.sizes.split(",")]
    lines = [
        "# Live's reads of the strokes layer on Krita's UI thread",
        "",
        "`benchmarks/krita_ui_read.py`: the real Krita (`kritarunner` under `xvfb-run`), an 8-bit RGBA "
        f"document with 20 strokes; the plug-in's read at each {TICK_MS} ms tick, "
        "`bytes(node.pixelData(0, 0, w, h))`, and its comparison with the last tick's (medians of the reads "
        "after the first); the UI thread's share is the read and comparison over the tick and them, at a "
        f"fixed {TICK_MS} ms tick (before) and at the plug-in's tick, which spaces out where the reads are slow "
        "(`watch.interval_after`: reads at most a quarter of the UI thread). "
        "2 shared cores: load is the 1-minute load average before and after.",
        "",
        f"| document | MP | first read (s) | read (s) | compare (s) | share at {TICK_MS} ms | tick (ms) "
        "| share at that tick | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['size']} | | {row['error']} | | | | | | |")
            continue
        lines.append(
            f"| {row['size']} | {row['megapixels']} | {row['first_read_seconds']:.3f} | {row['read_seconds']:.3f} "
            f"| {row['compare_seconds']:.3f} | {100 * row['ui_share']:.0f} % | {row['tick_ms']} "
            f"| {100 * row['ui_share_adaptive']:.0f} % | {row['load'][0]}–{row['load'][1]} |"
        )
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    write_report(args.out, "krita_ui_read", {"sizes": rows}, markdown)


if __name__ == "__main__":
    main()
