"""Backward mode "adjoint": the continuous adjoint of the ODE, solved backwards in time by torchdiffeq."""

from __future__ import annotations

import torchdiffeq
from torch import Tensor

from ..problem import Problem
from ..registry import METHODS
from ..stats import SolveStats
from ..system import CountedFunction
from .base import BackwardMode


class ContinuousAdjoint(BackwardMode):
    """The continuous adjoint (Chen et al., 2018) through ``torchdiffeq.odeint_adjoint``: memory O(1) in N.

    The adjoint state is not a (q, p) pair, so a partitioned method cannot solve it; the default
    ``adjoint_method`` is then "rk4" on the forward step size (or the forward grid), and torchdiffeq's default
    (the forward method) otherwise. The gradient is that of the continuous ODE, not of the discrete solve:
    it differs from ``backprop`` by the discretisation error, and on damped systems integrated backwards over
    long times it amplifies round-off like e^{αT}. Its settings are ``odeint``'s ``adjoint_*`` arguments.
    """

    name = "adjoint"
    exact = False

    def run(self, problem: Problem, system: CountedFunction, stats: SolveStats) -> tuple[Tensor, Tensor]:
        adjoint = dict(problem.adjoint_options)
        if problem.partitioned and "adjoint_method" not in adjoint:
            adjoint["adjoint_method"] = "rk4"
            adjoint.setdefault("adjoint_options", {k: v for k, v in problem.options.items() if k == "step_size"})
        if adjoint.get("adjoint_method") in METHODS:
            raise ValueError(
                f"adjoint_method={adjoint['adjoint_method']!r} is a partitioned method, but the adjoint state is "
                f"not a (q, p) pair; use a general method such as 'rk4' or 'dopri5'"
            )
        return torchdiffeq.odeint_adjoint(
            system, (problem.q0, problem.p0), problem.t,
            rtol=problem.rtol, atol=problem.atol, method=problem.method, options=problem.options, **adjoint,
        )
