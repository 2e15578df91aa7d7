"""What every backward mode receives: one validated initial value problem, and the base class of the modes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from torch import Tensor, nn

from .integrate import StepHook
from .registry import METHODS
from .stats import SolveStats


@dataclass
class Problem:
    """One validated initial value problem q' = p, p' = a(t, q, p) on the output times ``t``.

    ``func`` maps (t, (q, p)) to (q', p'); it may also implement the partitioned or split protocol
    (:mod:`solvers.system`). ``options`` are the method's options (``step_size`` among them).
    """

    func: Any
    q0: Tensor
    p0: Tensor
    t: Tensor
    method: str
    options: dict[str, Any] = field(default_factory=dict)
    rtol: float = 1e-7
    atol: float = 1e-9
    adjoint_options: dict[str, Any] = field(default_factory=dict)
    after_step: StepHook | None = None

    @property
    def partitioned(self) -> bool:
        return self.method in METHODS

    @property
    def step_size(self) -> float | None:
        return self.options.get("step_size")

    def parameters(self) -> tuple[Tensor, ...]:
        """The tensors gradients are taken for besides the state: ``adjoint_params`` when given, else the
        trainable parameters of ``func`` when it is an ``nn.Module`` (a plain function has none)."""
        given = self.adjoint_options.get("adjoint_params")
        if given is not None:
            return tuple(given)
        if isinstance(self.func, nn.Module):
            return tuple(p for p in self.func.parameters() if p.requires_grad)
        return ()


class BackwardMode:
    """Base class: solve a :class:`Problem` so that autograd produces gradients in this mode's way."""

    name: ClassVar[str]
    supports_after_step: ClassVar[bool] = False

    def solve(self, problem: Problem, stats: SolveStats) -> tuple[Tensor, Tensor]:
        raise NotImplementedError
