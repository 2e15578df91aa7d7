"""What every backward mode receives: one validated initial value problem, and its number of fixed-grid steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from .compat import is_fixed_step
from .grid import fixed_grid, step_count
from .integrate import StepHook
from .methods import STEP_LIMIT
from .registry import METHODS


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

    @property
    def max_steps(self) -> int:
        """The ``max_steps`` option of a partitioned method, checked (default :data:`solvers.grid.MAX_STEPS`)."""
        return STEP_LIMIT.check(self.options.get("max_steps"), f"method={self.method!r}")

    def parameters(self) -> tuple[Tensor, ...]:
        """The tensors gradients are taken for besides the state: ``adjoint_params`` when given, else the
        trainable parameters of ``func`` when it is an ``nn.Module`` (a plain function has none)."""
        given = self.adjoint_options.get("adjoint_params")
        if given is not None:
            return tuple(given)
        if isinstance(self.func, nn.Module):
            return tuple(p for p in self.func.parameters() if p.requires_grad)
        return ()


def fixed_steps(problem: Problem) -> int | None:
    """Steps of a fixed-grid solve (a zero-length last step of a rounded grid not counted); None for an adaptive
    method, whose steps torchdiffeq does not report. A partitioned method's grid beyond ``max_steps`` is a
    ``ValueError`` naming ``step_size``; a torchdiffeq method builds its own grid, and only its steps are counted."""
    if problem.step_size is None and not is_fixed_step(problem.method, problem.partitioned):
        return None
    if problem.step_size is None:
        return len(problem.t) - 1
    if not problem.partitioned:
        return _nonzero_steps(problem.t, problem.step_size)
    grid = fixed_grid(problem.t, problem.step_size, problem.max_steps)
    return sum(1 for a, b in zip(grid[:-1], grid[1:]) if a != b)


def _nonzero_steps(t: Tensor, step_size: float) -> int:
    """The steps of :func:`solvers.grid.fixed_grid` without building it: its last one has length 0 when the point
    before the end falls on the end already."""
    steps = step_count(t, step_size)
    sign = -1.0 if len(t) > 1 and t[0] > t[1] else 1.0
    before_end = (steps - 1) * step_size + sign * float(t[0])
    return steps - (steps > 0 and before_end == sign * float(t[-1]))
