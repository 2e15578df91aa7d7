"""Backward mode "backprop": plain autograd through every step of the solve."""

from __future__ import annotations

import torchdiffeq
from torch import Tensor

from ..integrate import integrate
from ..problem import Problem
from ..registry import get_method
from ..stats import SolveStats
from ..system import CountedFunction
from .base import BackwardMode


class Backprop(BackwardMode):
    """Plain autograd through every step: exact gradients of the discrete solve, memory O(N)."""

    name = "backprop"
    supports_after_step = True

    def run(self, problem: Problem, system: CountedFunction, stats: SolveStats) -> tuple[Tensor, Tensor]:
        if problem.partitioned:
            return integrate(get_method(problem.method), system, problem.q0, problem.p0, problem.t,
                             problem.step_size, problem.after_step, problem.max_steps)
        return torchdiffeq.odeint(
            system, (problem.q0, problem.p0), problem.t,
            rtol=problem.rtol, atol=problem.atol, method=problem.method, options=problem.options,
        )
