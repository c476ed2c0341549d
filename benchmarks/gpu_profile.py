"""Where a GPU row's time goes: the ``amg`` solver (Levin's exact system) and bilaplacian-gtv's
ADMM with ``device="cuda"`` at one size, after a warm-up at 0.01 MP as ``speed.py`` does, timed in
steps (set-up on the CPU, solve on the GPU) and under cProfile.

Writes ``profile_amg.txt`` and ``profile_gtv.txt`` (cumulative and own time, the top functions) to
``--out`` and prints the steps. Run on a lent GPU machine by ``gpu_session.sh``; needs CuPy."""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path

import speed  # noqa: E402  (which sets the timing environment: one BLAS thread, no huge pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megapixels", type=float, default=4.0)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()

    import cupy

    from varcolor.energies import bilaplacian_gtv
    from varcolor.energies.levin import exact_operator, exact_rhs
    from varcolor.solvers import make_solver

    def wait() -> float:
        cupy.cuda.Device().synchronize()
        return time.perf_counter()

    small_gray, small_cues = speed.scene(0.01, "random1")
    make_solver("amg", exact_operator(small_gray, small_cues.mask), device="cuda").solve(
        exact_rhs(small_cues.mask, small_cues.ab)
    )
    bilaplacian_gtv.solve(small_gray, small_cues.mask, small_cues.ab, bilaplacian_gtv.Parameters(), device="cuda")
    gray, cues = speed.scene(args.megapixels, "random1")

    def amg() -> None:
        operator, rhs = exact_operator(gray, cues.mask), exact_rhs(cues.mask, cues.ab)
        start = wait()
        solver = make_solver("amg", operator, device="cuda")
        built = wait()
        _, info = solver.solve(rhs)
        print(f"amg: set-up {built - start:.2f} s, solve {wait() - built:.2f} s, {info.iterations} iterations")

    def gtv() -> None:
        start = wait()
        _, info = bilaplacian_gtv.solve(gray, cues.mask, cues.ab, bilaplacian_gtv.Parameters(), device="cuda")
        print(f"bilaplacian-gtv: {wait() - start:.2f} s, {info['iterations']} iterations")

    for name, step in (("amg", amg), ("gtv", gtv)):
        profile = cProfile.Profile()
        profile.enable()
        step()
        profile.disable()
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(25)
        (Path(args.out) / f"profile_{name}.txt").write_text(text.getvalue())


if __name__ == "__main__":
    main()
