"""The options of every command that colorizes (colorize, decode, recolor), built and checked in
one place: :func:`add_solve_options` declares them, :func:`check_solve_options` refuses bad values
once per run, before any image."""

from __future__ import annotations

import argparse
import inspect

import numpy as np

from ..api import CONFIDENCES, METHODS, PRIOR_MODES, PRIOR_WEIGHT, PRIORS, check_options
from ..solvers import DEVICES, SOLVERS, TOL

#: What each colorization method is, for ``--help``.
METHOD_HELP = ("levin: Levin et al. 2004's exact system; levin-symmetric: its symmetric variant, "
               "less memory, solved in linear time (multigrid, cg, the GPU); bilaplacian-gtv: bilaplacian + "
               "edge-weighted total variation by ADMM (slower; flat regions stay flat at faint edges); "
               "ideepcolor: the neural network alone, no optimization")


def _gigabytes(text: str) -> float:
    """``--max-memory``'s value, GB, in bytes."""
    value = float(text)
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number of GB, got {text!r}")
    return value * 1e9


def add_solve_options(p: argparse.ArgumentParser, method_action: type[argparse.Action] | None = None) -> None:
    """Options shared by every command that colorizes (``method_action``: a parse action of
    ``-m/--method`` that also takes other values, which then checks the value itself)."""
    p.set_defaults(colorizes=True)
    method = {"choices": METHODS} if method_action is None else {"action": method_action, "metavar": "METHOD"}
    p.add_argument("-m", "--method", default="levin", **method,
                   help=f"colorization method: {METHOD_HELP} (default: %(default)s)")
    p.add_argument("--lam", type=float, help="bilaplacian-gtv: bilaplacian weight (default 1e-3)")
    p.add_argument("--mu", type=float, help="bilaplacian-gtv: total-variation weight (default 1)")
    p.add_argument("--gamma", type=float, help="bilaplacian-gtv: cue weight; inf = hard cues (default inf)")
    p.add_argument("--sharpness", type=float, help="bilaplacian-gtv: how sharply edge weights fall at luminance "
                                                   "edges (default 8; 4 scores higher with dense scribbles)")
    p.add_argument("--admm-tol", type=float, help="bilaplacian-gtv: relative residual at which ADMM stops "
                                                  "(default 1e-3; 1e-2 is a preview about 2x sooner)")
    p.add_argument("--solver", default="auto", choices=["auto", *SOLVERS],
                   help="linear solver: direct (sparse LU), tiles (levin on overlapping tiles held at a "
                        "half-resolution solve: big scans, linear memory), amg (AIR multigrid + GMRES), multigrid "
                        "(CG + grid multigrid, CPU), cg (CG + Ruge-Stueben multigrid, CPU or GPU); multigrid "
                        "and cg for levin-symmetric only; auto: multigrid (cg on a GPU) for levin-symmetric, "
                        "else direct under 12 MP where it fits in --max-memory, tiles from there (default: %(default)s)")
    p.add_argument("--max-memory", type=_gigabytes, metavar="GB",
                   help="memory budget of a solve in GB; solvers estimated to need more are refused and auto "
                        "picks one within it (default: 80%% of the memory available)")
    p.add_argument("--device", default="cpu", choices=DEVICES, help="where iterative solvers run (default: %(default)s)")
    p.add_argument("--tol", type=float, default=TOL, help="relative residual of iterative solvers (default: %(default)s)")
    p.add_argument("--maxiter", type=int, default=300, help="iteration limit of iterative solvers (default: %(default)s)")
    p.add_argument("--gamut", default="chroma", choices=["chroma", "clip"],
                   help="out-of-gamut colours: shrink chroma (keeps lightness) or clip RGB (default: %(default)s)")
    p.add_argument("--bits", type=int, default=8, choices=[8, 16], help="bits per sample of the output")
    p.add_argument("--prior", choices=PRIORS, help="add the ideepcolor network's prediction as a prior term")
    p.add_argument("--weights", metavar="PATH", help="network weights (.safetensors or .pth; default: the compact model in models/)")
    p.add_argument("--mask-cent", type=float, help="hint-mask encoding of unknown checkpoints (0 or 0.5)")
    p.add_argument("--prior-weight", type=float, default=PRIOR_WEIGHT, help="β of the prior term (default: %(default)s)")
    p.add_argument("--confidence", default="uniform", choices=CONFIDENCES,
                   help="prior confidence: uniform, or from the class head's entropy (default: %(default)s)")
    p.add_argument("--prior-mode", default="anchor", choices=PRIOR_MODES,
                   help="levin: the guess anchors u, or the cues' corrections to it spread (residual) (default: %(default)s)")


def check_solve_options(args: argparse.Namespace) -> None:
    """Refuse bad solve options of parsed arguments, once (not for every image of a folder)."""
    names = inspect.signature(check_options).parameters
    check_options(**{name: getattr(args, name) for name in names if hasattr(args, name)})
    # CuPy and a GPU, where asked for. Until the options value checks it, through the solvers'
    # own device check (not in varcolor.solvers' public names).
    from ..solvers.device import backend

    backend(args.device)


def solve_keywords(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`varcolor.colorize` that the solve options set."""
    return {"method": args.method, "solver": args.solver, "device": args.device, "space": args.space, "gamut": args.gamut,
                "tol": args.tol, "maxiter": args.maxiter, "prior": args.prior, "weights": args.weights, "mask_cent": args.mask_cent,
                "prior_weight": args.prior_weight, "confidence": args.confidence, "prior_mode": args.prior_mode,
                "lam": args.lam, "mu": args.mu, "gamma": args.gamma, "sharpness": args.sharpness, "admm_tol": args.admm_tol,
                "max_memory": args.max_memory}
