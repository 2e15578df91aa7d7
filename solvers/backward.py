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
from .integrate import integrate
from .problem import BackwardMode
from .registry import METHODS, get_method
from .reversible import Reversible


class Backprop(BackwardMode):
    """Plain autograd through every step: exact gradients of the discrete solve, memory O(N)."""

    name = "backprop"
    supports_after_step = True

    def run(self, problem, system, stats):
        if problem.partitioned:
            return integrate(get_method(problem.method), system, problem.q0, problem.p0, problem.t,
                             problem.step_size, problem.after_step)
        return torchdiffeq.odeint(
            system, (problem.q0, problem.p0), problem.t,
            rtol=problem.rtol, atol=problem.atol, method=problem.method, options=problem.options,
        )


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

    def run(self, problem, system, stats):
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


BACKWARD_MODES: dict[str, type[BackwardMode]] = {
    Backprop.name: Backprop,
    ContinuousAdjoint.name: ContinuousAdjoint,
    Checkpoint.name: Checkpoint,
    Reversible.name: Reversible,
    ExactReversal.name: ExactReversal,
}


def get_backward_mode(mode: str | bool | BackwardMode) -> BackwardMode:
    """The backward mode ``mode`` names: a name of :data:`BACKWARD_MODES` (with its default options),
    False ("backprop"), True ("adjoint"), or a :class:`BackwardMode` object itself."""
    if isinstance(mode, BackwardMode):
        return mode
    name = {False: "backprop", True: "adjoint"}.get(mode, mode) if isinstance(mode, bool) else mode
    if not isinstance(name, str) or name not in BACKWARD_MODES:
        raise ValueError(f"adjoint: expected False, True, one of {sorted(BACKWARD_MODES)} or a backward mode "
                         f"object such as Checkpoint(every=8), got {mode!r}")
    return BACKWARD_MODES[name]()
