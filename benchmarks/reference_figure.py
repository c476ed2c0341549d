"""The guide's figure of a series and a film strip (``docs/images/reference_series.png``).

Top: a chain. Frames 0, 40, 80 and 119 of the carphone clip as gray photos, the first with 100
strokes (6×6 hints) of its true colours; ``varcolor colorize photos/ --mask marks/ --chain``
colours the others from it. Middle: the truth. Bottom: a film from a still: the gray clip
coloured by ``varcolor colorize clip.mp4 --reference first.png`` (its first frame in colour), the
same frames.

Run: ``python benchmarks/reference_figure.py [--out docs/images/reference_series.png]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from shared_data import SHARED

FRAMES = (0, 40, 80, 119)
HINTS = 100


def main(argv=None) -> int:
    import varcolor
    from varcolor.color import lab_to_rgb, same_lightness_gray
    from varcolor.cues import sample_ideepcolor
    from varcolor.video.io import open_clip

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--out", default=str(root / "docs" / "images" / "reference_series.png"))
    args = parser.parse_args(argv)
    clip = SHARED / "video" / "carphone_pristine.mp4"
    truth = list(open_clip(clip).frames())
    cli = [sys.executable, "-m", "varcolor.cli", "colorize"]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        photos, marks = scratch / "photos", scratch / "marks"
        photos.mkdir()
        marks.mkdir()
        for k in FRAMES:
            varcolor.write_image(photos / f"f{k:03d}.png", same_lightness_gray(truth[k]))
        hints = sample_ideepcolor(truth[0], HINTS, rng=np.random.default_rng(0))
        lab = np.concatenate([np.full(hints.ab.shape[:2] + (1,), 60.0), hints.ab], axis=-1)
        painted = np.zeros_like(truth[0])
        painted[hints.mask] = lab_to_rgb(lab)[hints.mask]
        varcolor.write_image(marks / "f000_mask.png", painted)
        subprocess.run([*cli, photos, "--mask", marks, "--chain", "-o", scratch / "chain", "-q"], check=False)
        varcolor.write_image(scratch / "first.png", truth[0])
        subprocess.run(
            [*cli, clip, "--reference", scratch / "first.png", "-o", scratch / "film.mkv", "--codec", "lossless", "-q"],
            check=True,
        )
        film = list(open_clip(scratch / "film.mkv").frames())
        chain = []
        for k in FRAMES:
            gray = np.repeat(same_lightness_gray(truth[k])[..., None], 3, axis=2)
            if k == 0:  # the stroked photo: its strokes over the gray
                gray = np.where(hints.mask[..., None], painted, gray)
            path = scratch / "chain" / f"f{k:03d}.png"
            chain.append((gray, varcolor.read_image(path) if path.is_file() else gray))
    gap = np.ones((truth[0].shape[0], 4, 3))
    rows = [
        [chain[0][0], *(result for _, result in chain[1:])],  # the stroked photo, then the chain's
        [truth[k] for k in FRAMES],
        [film[k] for k in FRAMES],
    ]
    lines = [np.concatenate(sum(([image, gap] for image in row), [])[:-1], axis=1) for row in rows]
    between = np.ones((4, lines[0].shape[1], 3))
    picture = np.concatenate(sum(([line, between] for line in lines), [])[:-1], axis=0)
    varcolor.write_image(args.out, np.clip(picture, 0, 1), overwrite=True)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
