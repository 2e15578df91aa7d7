"""Time grids and output sampling for fixed-step methods, written once for every method.

The grid follows torchdiffeq's fixed-grid convention so that a method gives the same numbers through
``torchdiffeq.odeint`` and through the library's own loop: points t₀ + kΔt for k = 0, 1, …, ⌈(T − t₀)/Δt⌉,
with the last point replaced by T. Requested times between two grid points are interpolated linearly.
Decreasing output times give a decreasing grid (negative steps), as torchdiffeq's time reversal does.

The points are computed in float64 from the integer step index k, whatever the dtype of the output times, and
only compared with the output times in their own dtype: in float32 two neighbouring points t₀ + kΔt closer than
float32's resolution would round to one value (2·10⁷ steps to T = 10⁶ would be millions of zero-length steps),
while in float64 every step keeps its length Δt. A solve takes at most :data:`MAX_STEPS` steps unless the
``max_steps`` option raises the limit: the grid and its bookkeeping cost about 100 bytes a step, so 10⁸ steps
would be ~10 GB before the first step is taken.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

MAX_STEPS = 10**7


def step_count(t: Tensor, step_size: float) -> int:
    """⌈(T − t₀)/Δt⌉: the steps of the grid of ``t`` with steps of ``step_size`` (its last may have length 0).

    The quotient is taken in the dtype of ``t``, as torchdiffeq takes it: float32 t = [0, 0.05] with Δt = 0.05 is
    one step (in float64 the quotient is 1 + 1.5·10⁻⁸, since float32(0.05) = 0.05 + 7.5·10⁻¹⁰, and would add a
    second step of 7.5·10⁻¹⁰ costing a whole evaluation). Where the dtype cannot count that far exactly (more than
    2^mantissa steps: 1.7·10⁷ in float32) the quotient is taken in float64."""
    span = abs(float(t[-1]) - float(t[0]))
    exact = math.ceil(span / step_size + 1) - 1
    digits = round(-math.log2(torch.finfo(t.dtype).eps)) + 1
    if exact >= 2**digits or t.dtype == torch.float64:
        return exact
    quotient = (t[-1] - t[0]).abs() / torch.tensor(step_size, dtype=t.dtype, device=t.device)
    return int(torch.ceil(quotient + 1)) - 1


def fixed_grid(t: Tensor, step_size: float | None, max_steps: int | None = MAX_STEPS) -> list[float]:
    """The integration grid for strictly monotonic output times ``t``: ``t`` itself, or steps of ``step_size``
    (float64 points, see the module docstring). More than ``max_steps`` steps is a ``ValueError`` naming
    ``step_size`` and the count; ``max_steps=None`` sets no limit."""
    if step_size is None:
        return t.tolist()
    sign = -1.0 if len(t) > 1 and t[0] > t[1] else 1.0
    start, end = sign * float(t[0]), sign * float(t[-1])
    steps = step_count(t, step_size)
    if max_steps is not None and steps > max_steps:
        raise ValueError(
            f"step_size: {step_size:g} over [{float(t[0]):g}, {float(t[-1]):g}] is {steps} steps, more than the "
            f"limit of {max_steps} per solve (about 100 bytes of grid a step); take a longer step_size, or raise "
            f"the limit with options={{'max_steps': {steps}}}"
        )
    grid = torch.arange(0, steps + 1, dtype=torch.float64) * step_size + start
    grid[-1] = end
    return (sign * grid).tolist()


def output_plan(times: list[float], grid: list[float], dtype: torch.dtype = torch.float64,
                ) -> list[tuple[tuple[int, float], ...]]:
    """For each step k (grid[k] → grid[k+1]) the outputs it completes, as (index into ``times``, slope).

    The output equals y_k + slope·(y_{k+1} − y_k); slope 1 (0) means the step's end (start) exactly. ``times``
    are values of ``dtype``: a grid point is compared with them rounded to ``dtype``, so that an output time
    lies on the grid point it rounds to (0.1 in float32 is the point 0.1 of a float64 grid). ``times[0]`` is the
    initial state and belongs to no step. Steps that complete no output share the empty tuple.
    """
    rounded = grid if dtype == torch.float64 else torch.tensor(grid, dtype=torch.float64).to(dtype).tolist()
    sign = -1.0 if len(grid) > 1 and grid[0] > grid[1] else 1.0
    plan: list[tuple[tuple[int, float], ...]] = []
    j = 1
    for k in range(len(grid) - 1):
        step_outputs = []
        while j < len(times) and sign * rounded[k + 1] >= sign * times[j]:
            tj, t0, t1 = times[j], grid[k], grid[k + 1]
            if tj == rounded[k]:
                slope = 0.0
            elif tj == rounded[k + 1]:
                slope = 1.0
            else:
                slope = min(max((tj - t0) / (t1 - t0), 0.0), 1.0)
            step_outputs.append((j, slope))
            j += 1
        plan.append(tuple(step_outputs))
    return plan


def interpolate(y0: Tensor, y1: Tensor, slope: float) -> Tensor:
    """y0 + slope·(y1 − y0), returning the end points themselves at slope 0 and 1."""
    if slope == 0.0:
        return y0
    if slope == 1.0:
        return y1
    return y0 + slope * (y1 - y0)
