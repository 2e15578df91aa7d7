"""Backward modes: how gradients of a solve are computed, chosen by name like a method.

| mode | gradient | memory | evaluations in the backward pass |
|---|---|---|---|
| ``backprop`` | exact for the discrete solve | every step's activations, O(N) | none (autograd replays the graph) |
| ``adjoint`` | the continuous adjoint, solved backwards by torchdiffeq | O(1) in N | one adjoint solve |
| ``checkpoint`` | exact for the discrete solve (backprop replayed) | O(N/b + b) states, b ≈ √N | one forward solve |
| ``reversible`` | exact up to the checked reconstruction error | O(N/k + 1) states | one per step (inverse) |
| ``exact_reversal`` | exact; eq. (4) in fixed point, undone bit for bit | O(1) + log₂(1/|c|) bits/step | one per step |

(c = 1 − αΔt.) Each mode is one small class in its own module (``backprop.py``, ``adjoint.py``, ``checkpoint.py``,
``reversible.py``, ``exact_reversal.py``) on the contract of :class:`~solvers.backward.base.BackwardMode`, which
implements ``solve(problem, stats)`` once; adding a mode is one class plus one line in :data:`BACKWARD_MODES`, the
registry this module dispatches on.
"""

from __future__ import annotations

from ..registry import Registry
from .adjoint import ContinuousAdjoint
from .backprop import Backprop
from .base import BackwardMode
from .checkpoint import Checkpoint
from .exact_reversal import ExactReversal
from .reversible import Reversible

BACKWARD_MODES: Registry[type[BackwardMode]] = Registry("backward mode", {
    Backprop.name: Backprop,
    ContinuousAdjoint.name: ContinuousAdjoint,
    Checkpoint.name: Checkpoint,
    Reversible.name: Reversible,
    ExactReversal.name: ExactReversal,
})


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
