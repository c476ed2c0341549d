"""``bilaplacian-gtv``: bilaplacian smoothness + luminance-weighted graph total variation,
minimised by ADMM (:mod:`varcolor.energies.bilaplacian_gtv`, :mod:`varcolor.solvers.admm`).
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..common.fields import option, positive
from ..energies import bilaplacian_gtv as energy
from ..errors import ConvergenceError, ConvergenceWarning, InputError, tell
from ..options import Options
from .base import Method, Problem

_DEFAULTS = energy.Parameters()
#: ADMM stopped at admm_maxiter with a residual more than this many times admm_tol away is no
#: result (ConvergenceError); nearer, its last iterate is, with a ConvergenceWarning.
STOPPED_FAR = 10.0


@dataclass(frozen=True)
class Parameters:
    """bilaplacian-gtv's own options (defaults: :class:`varcolor.energies.bilaplacian_gtv.Parameters`)."""

    lam: float = option(_DEFAULTS.lam, "bilaplacian-gtv: bilaplacian weight (default %(default)s)")
    mu: float = option(_DEFAULTS.mu, "bilaplacian-gtv: total-variation weight (default %(default)s)")
    gamma: float = option(_DEFAULTS.gamma, "bilaplacian-gtv: cue weight; inf = hard cues (default %(default)s)")
    sharpness: float = option(
        _DEFAULTS.sharpness,
        "bilaplacian-gtv: how sharply edge weights fall at luminance "
        "edges (default %(default)s; 4 scores higher with dense scribbles)",
    )
    admm_tol: float = option(
        _DEFAULTS.tol,
        "bilaplacian-gtv: relative residual at which ADMM stops "
        "(default %(default)s; 1e-2 is a preview about 2x sooner)",
    )
    admm_maxiter: int = option(
        _DEFAULTS.maxiter,
        "bilaplacian-gtv: most ADMM iterations "
        "(default %(default)s; the shared tol and maxiter are the linear solvers')",
    )

    def __post_init__(self) -> None:
        positive("admm_tol", self.admm_tol)
        self.energy()  # the energy's own checks, one line naming the option

    def energy(self, tol: float | None = None) -> energy.Parameters:
        """The energy's parameters (ADMM runs at most ``admm_maxiter`` iterations, to ``tol``:
        default ``admm_tol``).

        Parameters
        ----------
        tol : float, optional
            The relative residual at which ADMM stops; None: ``admm_tol``.
        """
        if (
            isinstance(self.admm_maxiter, bool)
            or not isinstance(self.admm_maxiter, (int, np.integer))
            or self.admm_maxiter < 1
        ):
            raise InputError(f"admm_maxiter must be a whole number >= 1, got {self.admm_maxiter!r}")
        return energy.Parameters(
            lam=self.lam,
            mu=self.mu,
            gamma=self.gamma,
            sharpness=self.sharpness,
            tol=self.admm_tol if tol is None else tol,
            maxiter=int(self.admm_maxiter),
        )


class BilaplacianGtv(Method):
    name = "bilaplacian-gtv"
    summary = "bilaplacian + graph total variation by ADMM: piecewise-smooth, slower, a documented alternative"
    Parameters = Parameters
    bytes_per_pixel = 250  # ADMM's peak per pixel (benchmarks/results/speed_gtv.md)

    def __init__(self, guide, options, progress=None, *, plan=None):
        super().__init__(guide, options, progress, plan=plan)
        # At most admm_maxiter ADMM iterations, to admm_tol: its own, not the linear solvers'
        # tol and maxiter (a report names only the options that acted: Method.ignored_options).
        self.energy_parameters = self.options.parameters.energy()
        self.state = energy.AdmmState()

    @classmethod
    def check_options(cls, options):
        """:meth:`Method.check_options`, and a linear solver or iteration limit given for it
        refused: ADMM has its own (``admm_maxiter``, ``admm_tol``).
        """
        options = super().check_options(options)
        # The linear solvers' options: ADMM has its own (admm_maxiter, admm_tol), and a solver or
        # limit given for it would be ignored unsaid. (tol is left: the studio gives every preset one.)
        if options.maxiter != Options.maxiter:
            raise InputError(
                f"maxiter {options.maxiter}: the linear solvers' iteration limit; bilaplacian-gtv's ADMM "
                "has its own: admm_maxiter"
            )
        if options.solver != "auto":
            raise InputError(
                f"solver {options.solver!r}: bilaplacian-gtv is minimised by ADMM, not by a linear solver; "
                "leave solver out"
            )
        return options

    @classmethod
    def prior_for(cls, options):
        """``options.prior``: ADMM's data term holds its guess."""
        return options.prior  # ADMM's data term holds the guess (anchor)

    @classmethod
    def refines(cls) -> bool:
        return True

    @classmethod
    def shows_progress(cls) -> bool:
        return True

    def reset(self) -> None:
        self.state = energy.AdmmState()

    def changed(self) -> None:
        self.state.iterations = 0  # a changed problem: the penalty's balancing starts over

    def solve(self, problem: Problem, x0):
        """The chroma by ADMM (:func:`varcolor.energies.bilaplacian_gtv.solve`) from ``x0``, else from the
        prior's guess, carrying on the ADMM state kept since :meth:`reset`.
        """
        chroma, report = energy.solve(
            self.guide,
            problem.mask,
            problem.targets,
            self.energy_parameters,
            problem.prior,
            problem.weight,
            problem.prior if x0 is None else x0,
            self.options.device,
            self.progress,
            self.state,
            warn=False,  # said below, or refused
        )
        residual = max(report["primal_residual"], report["dual_residual"])
        if not report.pop("converged"):
            tol = self.energy_parameters.tol
            stopped = (
                f"bilaplacian-gtv: ADMM stopped after {report['iterations']} iterations (admm_maxiter) at "
                f"relative residuals {report['primal_residual']:.1e} (primal), {report['dual_residual']:.1e} "
                f"(dual), above admm_tol {tol:g}"
            )
            if residual > STOPPED_FAR * tol:
                raise ConvergenceError(f"{stopped}, over {STOPPED_FAR:g} times it: no result; raise admm_maxiter")
            tell(stopped, ConvergenceWarning, stacklevel=2)
        # What it ran to: the iteration limit and tolerance it used (a refine's own).
        used = {"admm_maxiter": self.energy_parameters.maxiter, "admm_tol": self.energy_parameters.tol}
        return chroma, {"solver": "admm", "residual": residual, **report, **used}

    @contextmanager
    def tolerance(self, tol: float | None):
        """Within this, ADMM runs to ``tol`` (the energy's default tolerance where None), then to
        the method's own again.

        Parameters
        ----------
        tol : float or None
            The relative residual at which ADMM stops; None: the default of
            :class:`varcolor.energies.bilaplacian_gtv.Parameters`.
        """
        tol = _DEFAULTS.tol if tol is None else tol
        positive("admm_tol", tol)
        own = self.energy_parameters
        self.energy_parameters = dataclasses.replace(own, tol=tol)
        try:
            yield
        finally:
            self.energy_parameters = own
