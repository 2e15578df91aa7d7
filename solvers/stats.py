"""What a solve cost: evaluations of the field forward and backward, steps, and mode-specific figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SolveStats:
    """Counters of one ``odeint`` call; ``nfe_backward`` is filled in when the backward pass has run.

    Attributes:
        method: the method name.
        backward: the backward mode ("backprop", "adjoint", …).
        steps: steps of a fixed-grid forward solve (None for adaptive methods).
        nfe_forward: evaluations of the field (acceleration or force) in the forward solve.
        nfe_backward: evaluations in the backward pass (recomputation, reversal or adjoint solve).
        extra: mode-specific figures, e.g. anchors stored by reversible backprop.
    """

    method: str
    backward: str
    steps: int | None = 0
    nfe_forward: int = 0
    nfe_backward: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "backward": self.backward,
            "steps": self.steps,
            "nfe_forward": self.nfe_forward,
            "nfe_backward": self.nfe_backward,
            **self.extra,
        }
