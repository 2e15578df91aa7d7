"""Backward mode "reversible": gradients of the discrete solve from states rebuilt backwards, in O(N/k + 1) memory.

The forward pass runs without a graph and keeps only anchor states, every k steps, and the final state. The
backward pass takes the blocks from last to first; inside a block it starts from the exact state at the
block's end, undoes one step at a time with the method's ``inverse`` (for eq. (4): q = q⁺ − Δt p⁺, then
p = (p⁺ − Δt(g(t, q) − γq)) / (1 − αΔt)) and replays that step with a graph to take its vector-Jacobian
product for the state and for every parameter (the force evaluated by the inverse is reused, so a step costs
one evaluation and one backward pass of the force).

Undoing a damped step expands round-off by about |1 − αΔt|⁻¹, so plain reversal over N steps is wrong at
depth. The anchor spacing k is therefore chosen from the a-priori bound of :mod:`solvers.amplification`: the
largest k whose estimated reconstruction error ε Σ_{j≤k} A(j) stays below a quarter of the tolerance (default
ε^{2/3} of the dtype: 2.4e-5 in float32, 3.7e-11 in float64). Each block is then checked a posteriori: its
rebuilt first state is compared with the stored anchor, and when they differ by more than the tolerance
(relative, max-norm) the block's gradient is discarded, the block is recomputed forward from its anchor with
its k states kept, and backpropagated from those. A wrong state is never used silently.

Options (``Reversible(anchor_every=..., reconstruction_tol=...)``, or the same keys in ``odeint``'s ``options``):
``anchor_every`` (k, overriding the automatic choice) and ``reconstruction_tol``. ``SolveStats.extra`` reports
``anchor_every``, ``anchors`` (states stored),
``amplification_bound`` (A(k)), ``force_lipschitz``, ``max_reconstruction_error`` and ``recomputed_blocks`` (0 on a
well-conditioned solve; a recomputation the a-priori estimate did not foresee also raises a ``RuntimeWarning``).
The a-priori estimate costs six evaluations of the force and four of its backward in the forward pass (three and
one from the warm start a field's earlier solve leaves, :func:`estimated_lipschitz`), a second power iteration
where the force depends on time.
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ..amplification import amplification, inverse_step_matrices, power_iteration
from ..integrate import StepGrid, advance
from ..methods import PartitionedMethod
from ..options import Option
from ..problem import Problem
from ..registry import get_method
from ..stats import SolveStats
from ..system import CountedFunction, as_number
from .base import BackwardMode

SAFETY = 4.0

State = tuple[Tensor, Tensor]


@dataclass
class AnchorSpacing:
    """The anchor spacing k and the figures it was chosen from."""

    every: int
    bound: float
    estimated_error: float
    tolerance: float
    lipschitz: float


def _distinct_steps(grid: StepGrid) -> list[float]:
    """The step lengths the bound must cover: the first, the shortest and the longest non-zero one."""
    steps = [grid.dt(k) for k in range(grid.steps) if grid.dt(k) != 0]
    if not steps:
        return []
    return sorted({steps[0], min(steps, key=abs), max(steps, key=abs)})


WARM_ITERATIONS = 1
"""Power iterations from a warm start (the last vector of the same field's previous estimate); 4 from a cold one."""

_last_vectors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def estimated_lipschitz(system: CountedFunction, grid: StepGrid, q0: Tensor) -> float:
    """L of the a-priori bound: the power-iteration estimate of ‖∂g/∂q‖₂ at q0 at the solve's first time, and at
    its last step's time too where the force differs there on q0 (per-step weights, a time input).

    The iteration starts from the vector the same field's previous estimate ended on, when there is one of that
    shape (a training loop solves the same field, slightly changed, at every step), and then runs
    :data:`WARM_ITERATIONS` steps instead of four: the estimate of a field that does not depend on time then
    costs three evaluations of the force and one backward pass, against ten and eight for two cold estimates.
    A low estimate cannot make a gradient wrong, only a block's reconstruction fail its check and be recomputed.
    The vector is kept in bfloat16 (half a float32 state) while the field lives.
    """
    owner = getattr(system, "func", system)
    try:
        kept = _last_vectors.get(owner)
    except TypeError:  # an object that cannot be weakly referenced keeps no warm start
        owner, kept = None, None
    start = None
    if kept is not None and kept.shape == q0.shape and kept.device == q0.device:
        start = kept.to(q0.dtype)
    iterations = 4 if start is None else WARM_ITERATIONS
    lipschitz, vector, g0 = power_iteration(system, grid.times[0], q0, iterations, start)
    last = max(0, grid.steps - 1)
    if last:
        with torch.no_grad():
            moved = not torch.equal(system.force(grid.times[last], q0.detach()), g0)
        if moved:
            lipschitz = max(lipschitz, power_iteration(system, grid.times[last], q0, iterations, start)[0])
    if owner is not None:  # a direction only: kept in bfloat16, a quarter of a float64 state
        _last_vectors[owner] = vector.detach().to(torch.bfloat16)
    return lipschitz


def choose_spacing(method: PartitionedMethod, system: CountedFunction, grid: StepGrid, q0: Tensor,
                   options: dict) -> AnchorSpacing:
    """k from the a-priori bound, or ``options["anchor_every"]`` (checked options of :class:`Reversible`); raises
    where a step cannot be undone at all."""
    eps = torch.finfo(q0.dtype).eps
    tolerance = options.get("reconstruction_tol") or eps ** (2 / 3)
    given = options.get("anchor_every")
    steps = _distinct_steps(grid)
    if not steps:
        return AnchorSpacing(max(1, grid.steps), 1.0, 0.0, tolerance, 0.0)
    lipschitz = estimated_lipschitz(system, grid, q0)
    alpha, gamma = as_number(system.alpha), as_number(system.gamma)  # constant during the solve
    matrices = []
    for dt in steps:
        m = inverse_step_matrices(method, alpha, gamma, lipschitz, dt)
        one_step = float(torch.linalg.matrix_norm(m, ord=2).max()) if torch.isfinite(m).all() else math.inf
        if one_step > 1 / eps:
            raise ValueError(
                f"adjoint='reversible': a step of method {method.name!r} cannot be undone at alpha={alpha:g} "
                f"and step_size={dt:g} (alpha * step_size = {alpha * dt:g}; undoing one step multiplies "
                f"errors by {one_step:.3g}); use adjoint='checkpoint', which needs no inverse"
            )
        matrices.append(m)
    stacked = torch.cat(matrices)
    if given is None:
        growth = amplification(stacked, grid.steps, tolerance / (SAFETY * eps))
        sums = torch.tensor(growth, dtype=torch.float64).cumsum(0)
        every = max(1, int((sums * eps <= tolerance / SAFETY).sum()))
    else:
        every = min(given, grid.steps)
        growth = amplification(stacked, every, math.inf)
    estimated = eps * sum(growth[:every])
    spacing = AnchorSpacing(every, growth[min(every, len(growth)) - 1], estimated, tolerance, lipschitz)
    if not estimated <= tolerance:
        warnings.warn(
            f"adjoint='reversible': undoing a block of {every} steps amplifies round-off by up to "
            f"{spacing.bound:.3g} in {q0.dtype} (estimated reconstruction error {estimated:.3g}, tolerance "
            f"{tolerance:.3g}); blocks that fail the check are recomputed from their anchors, which costs one more "
            f"forward solve of the block and memory of its {every} states. adjoint='checkpoint' avoids the inverse.",
            RuntimeWarning, stacklevel=5,
        )
    return spacing


def accumulate(totals: list[Tensor | None], grads: Sequence[Tensor | None]) -> None:
    """totals[i] += grads[i], where None stands for a tensor that no step has touched yet."""
    for i, g in enumerate(grads):
        if g is not None:
            totals[i] = g if totals[i] is None else totals[i] + g


def _relative_error(state: State, anchor: State) -> float:
    scale = max(float(anchor[0].abs().max()), float(anchor[1].abs().max()), torch.finfo(anchor[0].dtype).tiny)
    error = max(float((state[0] - anchor[0]).abs().max()), float((state[1] - anchor[1]).abs().max()))
    return error / scale if math.isfinite(error) else math.inf


class ForceReuse:
    """The split system as the backward pass sees it: a force evaluated while undoing a step is kept with its graph.

    An inverse step evaluates g(t, q) at the state it restores, and replaying that step for its vector-Jacobian
    product needs g at the same q with a graph. Outside autograd the force is therefore evaluated on a leaf copy
    of q with a graph and its value returned; :meth:`leaf` hands that leaf to the replayed step, whose call of
    ``force`` on it gets the kept result. One evaluation per step instead of two; any other call is evaluated
    normally.
    """

    def __init__(self, system: CountedFunction):
        self.system = system
        self._source: Tensor | None = None
        self._leaf: Tensor | None = None
        self._force: Tensor | None = None

    def force(self, t: Tensor, q: Tensor) -> Tensor:
        if q is self._leaf:
            return self._force
        if torch.is_grad_enabled():
            return self.system.force(t, q)
        with torch.enable_grad():
            leaf = q.detach().requires_grad_(True)
            force = self.system.force(t, leaf)
        self._source, self._leaf, self._force = q, leaf, force
        return force.detach()

    @property
    def alpha(self) -> float | Tensor:
        return self.system.alpha

    @property
    def gamma(self) -> float | Tensor:
        return self.system.gamma

    def acceleration(self, t: Tensor, q: Tensor, p: Tensor) -> Tensor:
        return self.force(t, q) - self.gamma * q - self.alpha * p

    def forget(self) -> None:
        """Drop the kept force and its graph."""
        self._source = self._leaf = self._force = None

    def leaf(self, q: Tensor) -> Tensor:
        """The leaf the kept force was evaluated on when ``q`` is the state it was evaluated at, else a new leaf."""
        if q is self._source:
            return self._leaf
        return q.detach().requires_grad_(True)


class BlockReversal:
    """The forward solve with anchors and its block-by-block backward pass (see the module docstring)."""

    def __init__(self, method: PartitionedMethod, system: CountedFunction, grid: StepGrid, spacing: AnchorSpacing,
                 stats: SolveStats):
        self.method, self.system, self.grid, self.spacing, self.stats = method, system, grid, spacing, stats
        self.reuse = ForceReuse(system)
        self.state = method.start()
        self.anchors: dict[int, State] = {}

    def blocks(self) -> list[tuple[int, int]]:
        k = self.spacing.every
        return [(first, min(first + k, self.grid.steps)) for first in range(0, self.grid.steps, k)]

    def forward(self, q0: Tensor, p0: Tensor) -> State:
        qs: list[Tensor] = [q0] * self.grid.num_outputs
        ps: list[Tensor] = [p0] * self.grid.num_outputs
        self.anchors = {0: (q0, p0)}
        q, p = q0, p0
        for first, last in self.blocks():
            q, p = advance(self.method, self.system, self.grid, first, last, q, p, qs, ps, state=self.state)
            self.anchors[last] = (q, p)
        self.stats.extra.update(anchors=len(self.anchors), max_reconstruction_error=0.0, recomputed_blocks=0)
        return torch.stack(qs), torch.stack(ps)

    def _undone(self, first: int, last: int) -> Iterator[tuple[int, Tensor, Tensor]]:
        """(k, q_k, p_k) for k = last − 1 … first, rebuilt with the method's inverse from the anchor at ``last``."""
        q, p = self.anchors[last]
        for k in range(last - 1, first - 1, -1):
            if self.grid.dt(k) != 0:
                with torch.no_grad():
                    q, p = self.method.inverse(self.reuse, self.grid.times[k], self.grid.dt(k), q, p, self.state)
            yield k, q, p

    def _recomputed(self, first: int, last: int) -> Iterator[tuple[int, Tensor, Tensor]]:
        """The same states, recomputed forward from the anchor at ``first`` and kept."""
        states = [self.anchors[first]]
        for k in range(first, last - 1):
            q, p = states[-1]
            if self.grid.dt(k) != 0:
                with torch.no_grad():
                    q, p = self.method.step(self.system, self.grid.times[k], self.grid.dt(k), q, p, self.state)
            states.append((q, p))
        for k in range(last - 1, first - 1, -1):
            yield k, *states.pop()

    def _backprop(self, states: Iterator[tuple[int, Tensor, Tensor]], adjoint: State, grad_qs: Tensor,
                  grad_ps: Tensor, params: Sequence[Tensor]) -> tuple[State, list[Tensor | None], State]:
        """Vector-Jacobian products of the steps whose start states ``states`` yields, last step first."""
        aq, ap = adjoint
        grads: list[Tensor | None] = [None] * len(params)
        q = p = None
        for k, q, p in states:
            outputs = self.grid.plan[k]
            for j, slope in outputs:
                if slope != 0.0:
                    aq, ap = aq + slope * grad_qs[j], ap + slope * grad_ps[j]
            if self.grid.dt(k) != 0:
                with torch.enable_grad():
                    qv, pv = self.reuse.leaf(q), p.detach().requires_grad_(True)
                    q_next, p_next = self.method.replay(self.reuse, self.grid.times[k], self.grid.dt(k), qv, pv,
                                                        self.state)
                    aq, ap, *step_grads = torch.autograd.grad(
                        (q_next, p_next), (qv, pv, *params), (aq, ap), allow_unused=True
                    )
                aq = torch.zeros_like(q) if aq is None else aq
                ap = torch.zeros_like(p) if ap is None else ap
                accumulate(grads, step_grads)
            for j, slope in outputs:
                if slope != 1.0:
                    aq, ap = aq + (1.0 - slope) * grad_qs[j], ap + (1.0 - slope) * grad_ps[j]
        return (aq, ap), grads, (q, p)

    def backward(self, grad_qs: Tensor, grad_ps: Tensor, params: Sequence[Tensor]) -> tuple[State, list]:
        self.system.phase = "backward"
        adjoint = (torch.zeros_like(grad_qs[0]), torch.zeros_like(grad_ps[0]))
        totals: list[Tensor | None] = [None] * len(params)
        extra = self.stats.extra
        for first, last in reversed(self.blocks()):
            block_adjoint, grads, start = self._backprop(self._undone(first, last), adjoint, grad_qs, grad_ps, params)
            error = _relative_error(start, self.anchors[first])
            extra["max_reconstruction_error"] = max(extra["max_reconstruction_error"], error)
            if not error <= self.spacing.tolerance:
                extra["recomputed_blocks"] += 1
                if extra["recomputed_blocks"] == 1 and self.spacing.estimated_error <= self.spacing.tolerance:
                    warnings.warn(
                        f"adjoint='reversible': block {first}–{last} was rebuilt with relative error {error:.3g}, "
                        f"above the tolerance {self.spacing.tolerance:.3g} that the a-priori estimate "
                        f"({self.spacing.estimated_error:.3g}) promised; it is recomputed (gradients stay exact), "
                        f"but method {self.method.name!r}'s inverse may not undo its step",
                        RuntimeWarning, stacklevel=2,
                    )
                block_adjoint, grads, _ = self._backprop(self._recomputed(first, last), adjoint, grad_qs, grad_ps,
                                                         params)
            adjoint = block_adjoint
            accumulate(totals, grads)
        self.reuse.forget()
        aq, ap = adjoint
        return (aq + grad_qs[0], ap + grad_ps[0]), totals


class StateRebuildingSolve(torch.autograd.Function):
    """Autograd's view of a solve that rebuilds its own states on the way back (:class:`BlockReversal`, or the
    bit-exact reversal): inputs q0, p0 and the parameters, outputs (qs, ps). The solve object supplies
    ``forward(q0, p0)`` and ``backward(grad_qs, grad_ps, params) -> ((∂q0, ∂p0), parameter gradients)``."""

    @staticmethod
    def forward(ctx, solve, q0: Tensor, p0: Tensor, *params: Tensor) -> State:
        ctx.solve = solve
        ctx.save_for_backward(*params)
        return solve.forward(q0, p0)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_qs: Tensor, grad_ps: Tensor):
        (aq, ap), grads = ctx.solve.backward(grad_qs, grad_ps, ctx.saved_tensors)
        return (None, aq, ap, *grads)


class Reversible(BackwardMode):
    """Reversible backprop with anchors every k steps: exact gradients of the discrete solve, O(N/k + 1) states.

    ``Reversible(anchor_every=26)`` fixes k; ``reconstruction_tol`` is the relative error a rebuilt block may have
    before it is recomputed (default ε^{2/3} of the dtype).
    """

    name = "reversible"
    partitioned_only = True
    needs_split = True
    needs_inverse = True
    options = (
        Option("anchor_every", int, "an integer number of steps >= 1", lambda v: v >= 1,
               doc="steps between stored anchor states (default: the largest the a-priori bound allows)"),
        Option("reconstruction_tol", float, "a finite number > 0", lambda v: v > 0,
               doc="relative error of a rebuilt block above which it is recomputed (default ε^(2/3))"),
    )

    def run(self, problem: Problem, system: CountedFunction, stats: SolveStats) -> State:
        method = get_method(problem.method)
        grid = StepGrid(problem.t, problem.step_size, problem.q0, problem.max_steps)
        spacing = choose_spacing(method, system, grid, problem.q0, self.config)
        stats.extra.update(anchor_every=spacing.every, amplification_bound=spacing.bound,
                           force_lipschitz=spacing.lipschitz)
        reversal = BlockReversal(method, system, grid, spacing, stats)
        return StateRebuildingSolve.apply(reversal, problem.q0, problem.p0, *problem.parameters())
