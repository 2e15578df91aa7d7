"""Backward mode "checkpoint": autograd through blocks of about √N steps, each recomputed in the backward pass.

The forward pass keeps only the state at the start of each block (``torch.utils.checkpoint``); the backward
pass reruns one block at a time with its graph and backpropagates through it. The gradient is that of plain
backprop (the same operations, replayed; random draws in ``after_step`` are replayed too), memory is
O(N/b + b) states and one block's activations for blocks of b steps, and the backward pass costs one more
forward solve. It needs no inverse, so it works at any α, Δt and for every partitioned method.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from ..integrate import StepGrid, advance
from ..options import Option
from ..problem import Problem
from ..registry import get_method
from ..stats import SolveStats
from ..system import CountedFunction
from .base import BackwardMode


class Checkpoint(BackwardMode):
    """Gradient checkpointing over blocks of ``every`` steps (default ⌈√N⌉); ``Checkpoint(every=8)``."""

    name = "checkpoint"
    supports_after_step = True
    partitioned_only = True
    options = (Option("every", int, "an integer number of steps >= 1", lambda v: v >= 1, key="checkpoint_every",
                      doc="steps per checkpointed block (default ⌈√N⌉)"),)

    def run(self, problem: Problem, system: CountedFunction, stats: SolveStats) -> tuple[Tensor, Tensor]:
        method = get_method(problem.method)
        grid = StepGrid(problem.t, problem.step_size, problem.q0, problem.max_steps)
        block = self.config["every"] or max(1, math.ceil(math.sqrt(grid.steps)))

        def run_block(first: int, last: int, q: Tensor, p: Tensor) -> tuple[Tensor, ...]:
            qs: list[Tensor] = [q] * grid.num_outputs
            ps: list[Tensor] = [p] * grid.num_outputs
            q, p = advance(method, system, grid, first, last, q, p, qs, ps, problem.after_step)
            done = grid.completed(first, last)
            return (q, p, *(qs[j] for j in done), *(ps[j] for j in done))

        qs: list[Tensor] = [problem.q0] * grid.num_outputs
        ps: list[Tensor] = [problem.p0] * grid.num_outputs
        q, p = problem.q0, problem.p0
        for first in range(0, grid.steps, block):
            last = min(first + block, grid.steps)
            q, p, *outputs = checkpoint(run_block, first, last, q, p, use_reentrant=False)
            done = grid.completed(first, last)
            for i, j in enumerate(done):
                qs[j], ps[j] = outputs[i], outputs[len(done) + i]
        stats.extra["checkpoint_every"] = block
        return torch.stack(qs), torch.stack(ps)
