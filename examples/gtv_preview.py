"""Bilaplacian-GTV: a quick preview, then the final result from where the preview stopped.

The GTV energy is solved by ADMM, hundreds of iterations on a photo. A looser ADMM tolerance
(``admm_tol=1e-2``) gives a preview in about half of them, at nearly the same PSNR;
:meth:`varcolor.Colorizer.refine` then carries the same iteration on to the default tolerance
(1e-3), so the final result costs no more than solving for it at once, and is the same result.
Levin's method on the same scribbles is shown beside them.

Run: ``python examples/gtv_preview.py [OUT.png]`` (writes Levin | preview | final side by side).
"""

import sys
from pathlib import Path

import numpy as np

import varcolor

DATA = Path(__file__).parent / "data"


def main(out_path: str | None = None) -> dict:
    gray = varcolor.read_image(DATA / "chelsea.png")
    original = varcolor.read_image(DATA / "chelsea_original.png")
    cues = varcolor.Cues.from_marked(gray, varcolor.read_image(DATA / "chelsea_marked.png"))
    levin = varcolor.colorize(gray, cues)
    colorizer = varcolor.Colorizer(gray, method="bilaplacian-gtv", admm_tol=1e-2)
    preview = colorizer.solve(cues)
    final = colorizer.refine()
    fresh = varcolor.colorize(gray, cues, method="bilaplacian-gtv")
    report = {"levin_psnr": varcolor.metrics.psnr(levin.rgb, original)}
    for name, result in (("preview", preview), ("final", final)):
        report[f"{name}_psnr"] = varcolor.metrics.psnr(result.rgb, original)
        report[f"{name}_iterations"] = result.info["iterations"]
        report[f"{name}_seconds"] = result.info["seconds"]
    report.update(
        fresh_iterations=fresh.info["iterations"],
        fresh_seconds=fresh.info["seconds"],
        final_vs_fresh_max_ab=float(np.abs(final.ab - fresh.ab).max()),
    )
    print(f"levin: {report['levin_psnr']:.2f} dB in {levin.info['seconds']:.2f} s")
    for name in ("preview", "final"):
        print(
            f"bilaplacian-gtv {name}: {report[f'{name}_psnr']:.2f} dB, {report[f'{name}_iterations']} ADMM "
            f"iterations in {report[f'{name}_seconds']:.2f} s"
        )
    print(
        f"solved at once: {report['fresh_iterations']} iterations in {report['fresh_seconds']:.2f} s, "
        f"{report['final_vs_fresh_max_ab']:.1e} ab from the final result"
    )
    if out_path:
        gap = np.ones((gray.shape[0], 6, 3))
        varcolor.write_image(out_path, np.concatenate([levin.rgb, gap, preview.rgb, gap, final.rgb], axis=1))
        print(f"{out_path}: levin | bilaplacian-gtv preview | final")
    return report


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
