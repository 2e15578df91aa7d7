"""The fixed-step loop on a (q, p) state, shared by every partitioned method."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .grid import fixed_grid, interpolate, output_plan
from .methods import PartitionedMethod
from .system import PartitionedSystem

StepHook = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def integrate(
    method: PartitionedMethod,
    system: PartitionedSystem,
    q0: Tensor,
    p0: Tensor,
    t: Tensor,
    step_size: float | None = None,
    after_step: StepHook | None = None,
) -> tuple[Tensor, Tensor]:
    """Solve q' = p, p' = a(t, q, p) from (q0, p0) and return (q, p) stacked over the output times ``t``.

    Steps run on the grid of :func:`solvers.grid.fixed_grid`; outputs between grid points are linear
    interpolants. ``after_step``, when given, maps each new (q, p) before the next step (used by models that
    regularise the hidden state, e.g. dropout after every layer); it is not part of the ODE.
    """
    grid = fixed_grid(t, step_size)
    plan = output_plan(t.tolist(), grid)
    grid_times = torch.tensor(grid, dtype=q0.dtype)
    qs: list[Tensor] = [q0] * len(t)
    ps: list[Tensor] = [p0] * len(t)
    q, p = q0, p0
    for k, (t_start, t_end) in enumerate(zip(grid[:-1], grid[1:])):
        q_next, p_next = q, p
        if t_end != t_start:
            q_next, p_next = method.step(system, grid_times[k], t_end - t_start, q, p)
            if after_step is not None:
                q_next, p_next = after_step(q_next, p_next)
        for j, slope in plan[k]:
            qs[j] = interpolate(q, q_next, slope)
            ps[j] = interpolate(p, p_next, slope)
        q, p = q_next, p_next
    return torch.stack(qs), torch.stack(ps)
