"""Backward modes: how gradients of a solve are computed, chosen by name like a method.

| mode | gradient | memory | evaluations in the backward pass |
|---|---|---|---|
| ``backprop`` | exact for the discrete solve | every step's activations, O(N) | none (autograd replays the graph) |
| ``adjoint`` | the continuous adjoint, solved backwards by torchdiffeq | O(1) in N | one adjoint solve |
| ``checkpoint`` | exact for the discrete solve (backprop replayed) | O(N/b + b) states, b ≈ √N | one forward solve |
| ``reversible`` | exact up to the checked reconstruction error | O(N/k + 1) states | one per step (inverse) |
| ``exact_reversal`` | exact; eq. (4) in fixed point, undone bit for bit | O(1) + log₂(1/|c|) bits/step | one per step |

(c = 1 − αΔt.) Each mode is one small class with ``solve(problem, stats)``; adding a mode is one class plus one line in
:data:`BACKWARD_MODES`.
"""

from __future__ import annotations

import torchdiffeq

from .checkpoint import Checkpoint
from .exact_reversal import ExactReversal
from .grid import fixed_grid
from .integrate import integrate
from .problem import BackwardMode, Problem
from .registry import METHODS, get_method
from .reversible import Reversible
from .system import CountedFunction


class Backprop(BackwardMode):
    """Plain autograd through every step: exact gradients of the discrete solve, memory O(N)."""

    name = "backprop"
    supports_after_step = True

    def solve(self, problem, stats):
        counted = CountedFunction(problem.func, stats)
        if problem.partitioned:
            method = get_method(problem.method)
            method.check_system(counted)
            qs, ps = integrate(
                method, counted, problem.q0, problem.p0, problem.t, problem.step_size, problem.after_step
            )
        else:
            qs, ps = torchdiffeq.odeint(
                counted, (problem.q0, problem.p0), problem.t,
                rtol=problem.rtol, atol=problem.atol, method=problem.method, options=problem.options,
            )
        stats.steps = _fixed_steps(problem)
        return qs, ps


class ContinuousAdjoint(BackwardMode):
    """The continuous adjoint (Chen et al., 2018) through ``torchdiffeq.odeint_adjoint``: memory O(1) in N.

    The adjoint state is not a (q, p) pair, so a partitioned method cannot solve it; the default
    ``adjoint_method`` is then "rk4" on the forward step size (or the forward grid), and torchdiffeq's default
    (the forward method) otherwise. The gradient is that of the continuous ODE, not of the discrete solve:
    it differs from ``backprop`` by the discretisation error, and on damped systems integrated backwards over
    long times it amplifies round-off like e^{αT}.
    """

    name = "adjoint"

    def solve(self, problem, stats):
        counted = CountedFunction(problem.func, stats)
        adjoint = dict(problem.adjoint_options)
        if problem.partitioned and "adjoint_method" not in adjoint:
            adjoint["adjoint_method"] = "rk4"
            adjoint.setdefault("adjoint_options", {k: v for k, v in problem.options.items() if k == "step_size"})
        if adjoint.get("adjoint_method") in METHODS:
            raise ValueError(
                f"adjoint_method={adjoint['adjoint_method']!r} is a partitioned method, but the adjoint state is "
                f"not a (q, p) pair; use a general method such as 'rk4' or 'dopri5'"
            )
        qs, ps = torchdiffeq.odeint_adjoint(
            counted, (problem.q0, problem.p0), problem.t,
            rtol=problem.rtol, atol=problem.atol, method=problem.method, options=problem.options, **adjoint,
        )
        stats.steps = _fixed_steps(problem)
        counted.phase = "backward"
        return qs, ps


def _fixed_steps(problem: Problem) -> int | None:
    """Steps of a fixed-grid solve; None for an adaptive method, whose steps torchdiffeq does not report."""
    if not problem.partitioned and problem.step_size is None and problem.method not in _FIXED_GRID_METHODS:
        return None
    grid = fixed_grid(problem.t, problem.step_size)
    return sum(1 for a, b in zip(grid[:-1], grid[1:]) if a != b)


_FIXED_GRID_METHODS = {"euler", "midpoint", "heun2", "heun3", "rk4", "explicit_adams", "implicit_adams", "fixed_adams"}


BACKWARD_MODES: dict[str, type[BackwardMode]] = {
    Backprop.name: Backprop,
    ContinuousAdjoint.name: ContinuousAdjoint,
    Checkpoint.name: Checkpoint,
    Reversible.name: Reversible,
    ExactReversal.name: ExactReversal,
}


def get_backward_mode(name: str) -> BackwardMode:
    """A fresh instance of the backward mode called ``name``."""
    try:
        return BACKWARD_MODES[name]()
    except KeyError:
        raise ValueError(f"unknown backward mode {name!r}; known: {sorted(BACKWARD_MODES)}") from None


