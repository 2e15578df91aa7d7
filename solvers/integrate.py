"""The fixed-step loop on a (q, p) state, shared by every partitioned method and every backward mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .grid import MAX_STEPS, fixed_grid, interpolate, output_plan
from .methods import PartitionedMethod
from .system import PartitionedSystem

StepHook = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


class DivergedError(ValueError):
    """The state of a solve became non-finite; the message names the step, its time and the method's stability
    bound. A ``ValueError`` about ``step_size`` (or the field's α, γ): the solve left the method's stable range."""


class FiniteCheck:
    """The divergence check of a run of steps, queued on the state's device and decided by one host read.

    :meth:`add` queues the min and max of a tensor (one pass, no copy): both are finite exactly when every entry
    is, since a nan entry makes both nan and an infinite one makes one of them infinite. Every ``CHUNK`` entries
    the queue is folded into one boolean tensor on the device, so a long solve keeps a few bytes per step.
    """

    CHUNK = 512

    def __init__(self) -> None:
        self.pending: list[Tensor] = []
        self.folded: list[Tensor] = []

    def add(self, x: Tensor) -> None:
        self.pending.extend(torch.aminmax(x.detach()))
        if len(self.pending) >= self.CHUNK:
            self._fold()

    def _fold(self) -> None:
        if self.pending:
            self.folded.append(torch.isfinite(torch.stack(self.pending)).view(-1, 2).all(1))
            self.pending = []

    def first_failure(self) -> int | None:
        """The index (in :meth:`add` order) of the first tensor with a non-finite entry, or None: one host read."""
        self._fold()
        if not self.folded:
            return None
        finite = torch.cat(self.folded)
        if bool(finite.all()):
            return None
        return int(finite.logical_not().nonzero()[0])


def check_finite(method: PartitionedMethod, system: PartitionedSystem, grid: StepGrid, first: int, last: int,
                 check: FiniteCheck) -> None:
    """Raise :class:`DivergedError` naming the first of steps ``first`` … ``last − 1`` that left the state
    non-finite, as :func:`advance` queued them in ``check``: q after every step of non-zero length, then p after
    the last one."""
    failed = check.first_failure()
    if failed is None:
        return
    steps = [k for k in range(first, last) if grid.dt(k) != 0]
    k = (steps + steps[-1:])[failed]
    t, dt = float(grid.times[k]), grid.dt(k)
    raise DivergedError(
        f"step_size: the state of method={method.name!r} became non-finite (nan or inf) in step {k} "
        f"(from t = {t:.6g} to t = {t + dt:.6g}, step_size = {abs(dt):.6g}); the method is stable "
        f"for {method.stability(system, abs(dt))}. Take a smaller step_size, or a method stable at this one."
    )


class StepGrid:
    """The grid of a fixed-step solve (:func:`solvers.grid.fixed_grid`) and the outputs each step completes.

    Step k goes from ``points[k]`` to ``points[k + 1]`` (float64); ``plan[k]`` lists the outputs it completes as
    (index into t, slope) pairs (:func:`solvers.grid.output_plan`). ``times`` holds the points cast to the state's
    dtype and device, so that a method sees the same ``t`` whichever mode runs it; the step lengths stay float64.
    More than ``max_steps`` steps is a ``ValueError`` naming ``step_size``.
    """

    def __init__(self, t: Tensor, step_size: float | None, like: Tensor, max_steps: int | None = MAX_STEPS):
        self.points = fixed_grid(t, step_size, max_steps)
        self.plan = output_plan(t.tolist(), self.points, t.dtype)
        self.times = torch.tensor(self.points, dtype=like.dtype, device=like.device)
        self.num_outputs = len(t)

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    def completed(self, first: int, last: int) -> list[int]:
        """The outputs (indices into t) that steps ``first`` … ``last − 1`` complete."""
        return [j for k in range(first, last) for j, _ in self.plan[k]]

    def dt(self, k: int) -> float:
        """The length of step k (0 for the degenerate last step a rounded grid may have)."""
        return self.points[k + 1] - self.points[k]


def advance(
    method: PartitionedMethod,
    system: PartitionedSystem,
    grid: StepGrid,
    first: int,
    last: int,
    q: Tensor,
    p: Tensor,
    qs: list[Tensor],
    ps: list[Tensor],
    after_step: StepHook | None = None,
    state: Any = None,
) -> tuple[Tensor, Tensor]:
    """Run steps ``first`` … ``last − 1`` from (q, p) at ``grid.points[first]`` and return the state at ``last``.

    Outputs completed on the way are written into ``qs``/``ps`` (linear interpolants between grid points).
    ``after_step``, when given, maps each new (q, p) before the next step; it is not part of the ODE. ``state`` is
    the method's step state (:meth:`~solvers.methods.PartitionedMethod.start`); a fresh one when not given. A
    non-finite state raises :class:`DivergedError` naming the first step that made it so.

    The loop reads nothing back to the host: each step only queues the reduction of its finiteness check, and
    one read after the last step decides (a diverged solve runs to its end before it raises). Under
    ``torch.compile`` the check is left out, since its decision is a host read that would split the graph; a
    compiled solve that diverges returns its non-finite state.
    """
    if state is None:
        state = method.start()
    check = FiniteCheck()
    watch = q.numel() > 0 and not torch.compiler.is_compiling()
    stepped_p = None
    for k in range(first, last):
        dt = grid.dt(k)
        q_next, p_next = q, p
        if dt != 0:
            q_next, p_next = method.step(system, grid.times[k], dt, q, p, state)
            # One reduction a step: a non-finite p reaches q in the same step (q⁺ = q + Δt p⁺) or, for any
            # method, in the next (the force is evaluated at q); p itself is checked once, after the last step of
            # non-zero length (a rounded grid may end on one of length 0).
            if watch:
                check.add(q_next)
                stepped_p = p_next
            if after_step is not None:
                q_next, p_next = after_step(q_next, p_next)
        for j, slope in grid.plan[k]:
            qs[j] = interpolate(q, q_next, slope)
            ps[j] = interpolate(p, p_next, slope)
        q, p = q_next, p_next
    if stepped_p is not None:
        check.add(stepped_p)
    check_finite(method, system, grid, first, last, check)
    return q, p


def integrate(
    method: PartitionedMethod,
    system: PartitionedSystem,
    q0: Tensor,
    p0: Tensor,
    t: Tensor,
    step_size: float | None = None,
    after_step: StepHook | None = None,
    max_steps: int | None = MAX_STEPS,
) -> tuple[Tensor, Tensor]:
    """Solve q' = p, p' = a(t, q, p) from (q0, p0) and return (q, p) stacked over the output times ``t``.

    Steps run on the grid of :func:`solvers.grid.fixed_grid`; outputs between grid points are linear
    interpolants. ``after_step``, when given, maps each new (q, p) before the next step (used by models that
    regularise the hidden state, e.g. dropout after every layer); it is not part of the ODE. More than
    ``max_steps`` steps (default :data:`solvers.grid.MAX_STEPS`) is a ``ValueError`` naming ``step_size``.
    """
    grid = StepGrid(t, step_size, q0, max_steps)
    qs: list[Tensor] = [q0] * len(t)
    ps: list[Tensor] = [p0] * len(t)
    advance(method, system, grid, 0, grid.steps, q0, p0, qs, ps, after_step)
    return torch.stack(qs), torch.stack(ps)
