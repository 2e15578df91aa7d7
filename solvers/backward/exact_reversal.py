"""Backward mode "exact_reversal": eq. (4) in fixed point, undone bit for bit (Maclaurin, Duvenaud & Adams, 2015).

Reversible backprop in floating point loses the bits that the damping factor c = 1 − αΔt destroys, and undoing
the step has to guess them back. Here the state is kept as integers Q = q·2^R, P = p·2^R (R =
``ExactReversal(fraction_bits=R)``, default 44, so entries up to 2^17 in size) and one step of eq. (4) is

    D = round(2^R · Δt (g(t, Q/2^R) − γ Q/2^R))        the force, evaluated in the model's dtype
    P ← c ⊗ P + D                                      c = n/d, multiplied exactly (below)
    Q ← Q + round(Δt P),

whose inverse is Q ← Q − round(Δt P), D from the restored Q as above, P ← (P − D) ⊘ c. The exact product
x ⊗ n/d of "reversible learning" pushes the remainder x mod d into a per-entry information buffer B, then pops
B mod n back into x: B ← B·d + (x mod d), x ← ⌊x/d⌋·n + (B mod n), B ← ⌊B/n⌋. The product is off the true
x·n/d by less than n units of 2^−R, and c is the nearest fraction n/d with d ≤ 2^16 (within about 1/d² ≈ 2^−32
of c, exact for decimal settings: 1 − 0.5·0.05 = 39/40), so the forward solve is eq. (4) to within
n·2^−R ≤ 2^−28 per step. The buffer grows by log₂(d/n) ≈ log₂(1/|c|) bits per entry and step (α = 0.5,
Δt = 0.05: 0.037 bits) and is moved to a stack of int64 words whenever an entry could overflow.

Nothing is approximated on the way back, provided the force is recomputed bit-identically (deterministic
kernels: CPU scatter is, CUDA's atomic scatter is not). This mode cannot tell a deterministic force from its
call, so the code that knows the force refuses the mode before the solve where it is not (a model checks its
coupling's declaration); here, the rebuilt initial state is compared bit for bit with the stored one and a
mismatch raises ``RuntimeError`` after the backward pass, the last guard. The gradient is that of the
floating-point step at the states of this fixed-point solve; the backward pass evaluates the force once per
step, since the evaluation that restores P also gives the step's vector-Jacobian product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import torch
from torch import Tensor

from ..grid import interpolate
from ..imex_update import imex_update
from ..integrate import StepGrid
from ..methods import Imex
from ..options import Option
from ..problem import Problem
from ..stats import SolveStats
from ..system import CountedFunction, as_number
from .base import BackwardMode
from .reversible import StateRebuildingSolve, accumulate

RATIO_BITS = 16
BUFFER_LIMIT = 1 << 62
STATE_LIMIT = 2.0**61

State = tuple[Tensor, Tensor]


class InformationBuffer:
    """Exact multiplication of integer tensors by n/d, with the discarded remainders kept (Maclaurin et al., 2015)."""

    def __init__(self, like: Tensor):
        self.bits = torch.zeros_like(like)
        self.stack: list[Tensor] = []
        self.spilled_at: list[int] = []

    def multiply(self, step: int, x: Tensor, n: int, d: int) -> Tensor:
        """x·n/d, rounded so that :meth:`divide` undoes it exactly (two integer divisions per entry)."""
        if n == d:
            return x
        if bool((self.bits >= BUFFER_LIMIT // d).any()):
            self.stack.append(self.bits)
            self.spilled_at.append(step)
            self.bits = torch.zeros_like(x)
        quotient = torch.div(x, d, rounding_mode="floor")
        bits = self.bits * d + (x - quotient * d)
        self.bits = torch.div(bits, n, rounding_mode="floor")
        return quotient * n + (bits - self.bits * n)

    def divide(self, step: int, x: Tensor, n: int, d: int) -> Tensor:
        """The inverse of :meth:`multiply` at the same ``step``."""
        if n == d:
            return x
        quotient = torch.div(x, n, rounding_mode="floor")
        bits = self.bits * n + (x - quotient * n)
        self.bits = torch.div(bits, d, rounding_mode="floor")
        x = quotient * d + (bits - self.bits * d)
        if self.spilled_at and self.spilled_at[-1] == step:
            self.spilled_at.pop()
            self.bits = self.stack.pop()
        return x

    def copy(self) -> InformationBuffer:
        """A buffer holding the same bits, to be emptied by a backward pass while this one stays intact."""
        twin = InformationBuffer(self.bits)
        twin.bits, twin.stack, twin.spilled_at = self.bits, list(self.stack), list(self.spilled_at)
        return twin

    @property
    def empty(self) -> bool:
        return not self.stack and not bool(self.bits.any())


class FixedPointImex:
    """Eq. (4) on integer states (see the module docstring), forward and undone."""

    def __init__(self, system: CountedFunction, grid: StepGrid, dtype: torch.dtype, fraction_bits: int):
        self.system, self.grid, self.dtype = system, grid, dtype
        self.scale = 2.0 ** fraction_bits
        self.limit = STATE_LIMIT / self.scale
        self.ratios: dict[float, tuple[int, int]] = {}

    def ratio(self, dt: float) -> tuple[int, int]:
        """c = 1 − αΔt as the nearest fraction ±n/d with d ≤ 2^16 (exact for decimal settings: 0.975 = 39/40)."""
        if dt not in self.ratios:
            alpha = as_number(self.system.alpha)  # constant during the solve
            c = 1.0 - alpha * dt
            fraction = Fraction(abs(c)).limit_denominator(1 << RATIO_BITS)
            n, d = fraction.numerator, fraction.denominator
            if n == 0:
                raise ValueError(
                    f"adjoint='exact_reversal': the step multiplies the velocity by 1 - alpha * step_size = {c:g} "
                    f"(alpha={alpha:g}, step_size={dt:g}), which cannot be undone; "
                    f"use adjoint='checkpoint'"
                )
            self.ratios[dt] = (n if c > 0 else -n, d)
        return self.ratios[dt]

    def to_float(self, x: Tensor) -> Tensor:
        return x.to(self.dtype).div_(self.scale)

    def to_fixed(self, x: Tensor, k: int = 0) -> Tensor:
        """round(x·2^R) as int64, refused (``OverflowError``) where it would not fit or is not finite."""
        units = x.double() * self.scale
        if not bool(units.abs().max() < STATE_LIMIT):
            raise OverflowError(f"adjoint='exact_reversal': a value left the fixed-point range ±{self.limit:g} of "
                                f"fraction_bits={round(math.log2(self.scale))} (or is not finite) at step {k}; "
                                f"lower fraction_bits")
        return units.round_().long()

    def drive(self, k: int, q: Tensor, force: Tensor) -> Tensor:
        """D = round(2^R Δt (g − γq)), with γ as a float (constant during the solve) so that both passes agree."""
        return self.to_fixed(force.sub(q, alpha=as_number(self.system.gamma)).mul_(self.grid.dt(k)), k)

    def position_shift(self, k: int, p: Tensor) -> Tensor:
        """round(Δt P), computed in float64: any deterministic function of P can be subtracted back."""
        return (p.double() * self.grid.dt(k)).round_().long()

    def step(self, k: int, q: Tensor, p: Tensor, buffer: InformationBuffer) -> State:
        x = self.to_float(q)
        n, d = self.ratio(self.grid.dt(k))
        p = buffer.multiply(k, p, abs(n), d) * (1 if n > 0 else -1)
        p = p + self.drive(k, x, self.system.force(self.grid.times[k], x))
        q = q + self.position_shift(k, p)
        if not bool(torch.maximum(q.abs().max(), p.abs().max()) < STATE_LIMIT):
            raise OverflowError(f"adjoint='exact_reversal': the state left the fixed-point range ±{self.limit:g} "
                                f"at step {k}; lower fraction_bits")
        return q, p


class ExactReversalSolve:
    """The fixed-point forward solve and its bit-exact backward pass with fused vector-Jacobian products."""

    def __init__(self, scheme: FixedPointImex, stats: SolveStats):
        self.scheme, self.stats = scheme, stats

    def forward(self, q0: Tensor, p0: Tensor) -> State:
        scheme, grid = self.scheme, self.scheme.grid
        self.start = (scheme.to_fixed(q0), scheme.to_fixed(p0))
        self.buffer = InformationBuffer(self.start[1])
        q, p = self.start
        qs: list[Tensor] = [scheme.to_float(q)] * grid.num_outputs
        ps: list[Tensor] = [scheme.to_float(p)] * grid.num_outputs
        for k in range(grid.steps):
            q_next, p_next = (q, p) if grid.dt(k) == 0 else scheme.step(k, q, p, self.buffer)
            if grid.plan[k]:
                x, y, x_next, y_next = (scheme.to_float(v) for v in (q, p, q_next, p_next))
                for j, slope in grid.plan[k]:
                    qs[j], ps[j] = interpolate(x, x_next, slope), interpolate(y, y_next, slope)
            q, p = q_next, p_next
        self.end = (q, p)
        words = len(self.buffer.stack) + 1
        self.stats.extra.update(buffer_words=words, buffer_mib=words * p.numel() * 8 / 2**20)
        return torch.stack(qs), torch.stack(ps)

    def backward(self, grad_qs: Tensor, grad_ps: Tensor, params: Sequence[Tensor]) -> tuple[State, list]:
        scheme, grid, system = self.scheme, self.scheme.grid, self.scheme.system
        system.phase = "backward"
        buffer = self.buffer.copy()
        aq, ap = torch.zeros_like(grad_qs[0]), torch.zeros_like(grad_ps[0])
        totals: list[Tensor | None] = [None] * len(params)
        q, p = self.end
        for k in range(grid.steps - 1, -1, -1):
            dt = grid.dt(k)
            for j, slope in grid.plan[k]:
                if slope != 0.0:
                    aq, ap = aq + slope * grad_qs[j], ap + slope * grad_ps[j]
            if dt != 0:
                q = q - scheme.position_shift(k, p)
                with torch.enable_grad():
                    x = scheme.to_float(q).requires_grad_(True)
                    force = system.force(grid.times[k], x)
                    n, d = scheme.ratio(dt)
                    p = buffer.divide(k, (p - scheme.drive(k, x.detach(), force.detach())) * (1 if n > 0 else -1),
                                      abs(n), d)
                    y = scheme.to_float(p).requires_grad_(True)
                    q_next, p_next = imex_update(force, x, y, dt, system.alpha, system.gamma, values=False)
                    aq, ap, *step_grads = torch.autograd.grad(
                        (q_next, p_next), (x, y, *params), (aq, ap), allow_unused=True
                    )
                accumulate(totals, step_grads)
            for j, slope in grid.plan[k]:
                if slope != 1.0:
                    aq, ap = aq + (1.0 - slope) * grad_qs[j], ap + (1.0 - slope) * grad_ps[j]
        if not (torch.equal(q, self.start[0]) and torch.equal(p, self.start[1]) and buffer.empty):
            raise RuntimeError("adjoint='exact_reversal': the reversed solve did not return bit for bit to the "
                               "initial state; the force is not deterministic (e.g. atomic scatter on CUDA)")
        return (aq + grad_qs[0], ap + grad_ps[0]), totals


class ExactReversal(BackwardMode):
    """Bit-exact reversal of eq. (4) in fixed point: O(1) float states plus log₂(1/|1 − αΔt|) bits per entry
    and step, no anchors and no recomputation. ``ExactReversal(fraction_bits=40)`` sets R (default 44)."""

    name = "exact_reversal"
    partitioned_only = True
    needs_split = True
    methods = (Imex.name,)
    options = (Option("fraction_bits", int, "an integer in [8, 52]", lambda v: 8 <= v <= 52, default=44,
                      doc="R: the state is kept as integers q·2^R"),)

    def run(self, problem: Problem, system: CountedFunction, stats: SolveStats) -> State:
        bits = self.config["fraction_bits"]
        # A grid of float32 times makes each Δt differ in its last bits, and c = 1 − αΔt then needs a large n;
        # the grid is laid out in float64 so that equal steps stay equal and c keeps its small fraction.
        grid = StepGrid(problem.t.double(), problem.step_size, problem.q0, problem.max_steps)
        scheme = FixedPointImex(system, grid, problem.q0.dtype, bits)
        for k in range(grid.steps):
            if grid.dt(k) != 0:
                scheme.ratio(grid.dt(k))
        limit = max(float(problem.q0.detach().abs().max()), float(problem.p0.detach().abs().max()))
        if not limit < scheme.limit:
            raise ValueError(f"y0: entries up to {limit:g} do not fit the fixed-point range ±{scheme.limit:g} of "
                             f"fraction_bits={bits}")
        return StateRebuildingSolve.apply(ExactReversalSolve(scheme, stats), problem.q0, problem.p0,
                                          *problem.parameters())
