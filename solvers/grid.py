"""Time grids and output sampling for fixed-step methods, written once for every method.

The grid follows torchdiffeq's fixed-grid convention so that a method gives the same numbers through
``torchdiffeq.odeint`` and through the library's own loop: points t₀ + kΔt for k = 0, 1, …, ⌈(T − t₀)/Δt⌉,
with the last point replaced by T. Requested times between two grid points are interpolated linearly.
Decreasing output times give a decreasing grid (negative steps), as torchdiffeq's time reversal does.
"""

from __future__ import annotations

import torch
from torch import Tensor


def fixed_grid(t: Tensor, step_size: float | None) -> list[float]:
    """The integration grid for strictly monotonic output times ``t``: ``t`` itself, or steps of ``step_size``."""
    if step_size is None:
        return t.tolist()
    sign = -1.0 if len(t) > 1 and t[0] > t[1] else 1.0
    start, end = sign * t[0].cpu(), sign * t[-1].cpu()
    points = int(torch.ceil((end - start) / step_size + 1).item())
    grid = torch.arange(0, points, dtype=t.dtype) * step_size + start
    grid[-1] = end
    return (sign * grid).tolist()


def output_plan(times: list[float], grid: list[float]) -> list[list[tuple[int, float]]]:
    """For each step k (grid[k] → grid[k+1]) the outputs it completes, as (index into ``times``, slope).

    The output equals y_k + slope·(y_{k+1} − y_k); slope 1 (0) means the step's end (start) exactly.
    ``times[0]`` is the initial state and belongs to no step.
    """
    sign = -1.0 if len(grid) > 1 and grid[0] > grid[1] else 1.0
    plan: list[list[tuple[int, float]]] = []
    j = 1
    for t0, t1 in zip(grid[:-1], grid[1:]):
        step_outputs = []
        while j < len(times) and sign * t1 >= sign * times[j]:
            tj = times[j]
            slope = 0.0 if tj == t0 else 1.0 if tj == t1 else (tj - t0) / (t1 - t0)
            step_outputs.append((j, slope))
            j += 1
        plan.append(step_outputs)
    return plan


def interpolate(y0: Tensor, y1: Tensor, slope: float) -> Tensor:
    """y0 + slope·(y1 − y0), returning the end points themselves at slope 0 and 1."""
    if slope == 0.0:
        return y0
    if slope == 1.0:
        return y1
    return y0 + slope * (y1 - y0)
