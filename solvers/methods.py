"""Fixed-step methods for partitioned second-order systems q' = p, p' = a(t, q, p).

Each method is one small class with a ``step`` that maps (q, p) at time t to (q, p) at t + Δt; adding a method
is one class here plus one line in :data:`solvers.registry.METHODS`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import Tensor

from .grid import MAX_STEPS
from .imex_update import imex_update
from .options import Option
from .system import PartitionedSystem, SplitSystem, as_number, is_split, scaled_sub

STEP_SIZE = Option("step_size", float, "a finite number > 0", lambda v: v > 0,
                   doc="Δt, the length of every step (the last one ends on the final output time)")
STEP_LIMIT = Option("max_steps", int, "an integer number of steps >= 1", lambda v: v >= 1, default=MAX_STEPS,
                    doc=f"the most steps one solve may take (default {MAX_STEPS:.0e}; ~100 bytes of grid a step)")


def _half_step_decay(alpha: float | Tensor, dt: float) -> float | Tensor:
    """e^{−αΔt/2}, as a tensor with its graph when α is a trained 0-dim tensor (never shortcut as 1: its gradient
    dc/dα = −(Δt/2)c stays, however small αΔt is)."""
    if isinstance(alpha, Tensor):
        return torch.exp(-0.5 * dt * alpha)
    return math.exp(-0.5 * alpha * dt)


def _is_one(c: float | Tensor) -> bool:
    """Whether the decay factor ``c`` is the float 1 (α = 0): multiplying by it can be left out. A tensor ``c`` is
    never left out, since it carries the gradient of a trained α."""
    return not isinstance(c, Tensor) and c == 1.0


class PartitionedMethod:
    """Base class and contract of a fixed-step method for q' = p, p' = a(t, q, p).

    The contract every method keeps (the generic tests in tests/solvers/test_registry_contract.py check it for
    every entry of :data:`solvers.registry.METHODS`):

    - ``step(system, t, dt, q, p, state)`` returns new tensors (q⁺, p⁺) at t + Δt and never changes ``q``, ``p``
      or ``t`` in place: the loop keeps them as outputs and autograd needs them.
    - ``dt`` is signed: a negative step integrates backwards in time (decreasing output times), and the same
      formula applies.
    - ``state`` is the method's step state for one solve, made by :meth:`start` and handed to every step and
      inverse of that solve; a method keeps in it what it carries from step to step (``verlet``: the force at
      the end of the last step). ``None`` means "no state": the step recomputes what it needs. Nothing is kept
      on the instance, so one instance may serve many solves.
    - With ``invertible = True``, ``inverse(system, t, dt, *step(system, t, dt, q, p))`` returns (q, p) up to
      round-off, where ``t`` is the start of the step; it may need the split protocol.
    - ``order`` is the observed global order of convergence on a smooth problem.
    - The options it reads are declared in ``options`` (an unknown key is an error at the front door).

    Class attributes:
        name: the method name accepted by ``odeint(..., method=name)``.
        order: the global order of convergence.
        requires_split: whether the method needs ``force``, ``alpha`` and ``gamma`` (:class:`SplitSystem`).
        invertible: whether :meth:`inverse` undoes :meth:`step` (reversible backprop needs it).
        options: the options the method reads from ``odeint(..., options=...)``.
    """

    name: ClassVar[str]
    order: ClassVar[int]
    requires_split: ClassVar[bool] = False
    invertible: ClassVar[bool] = False
    options: ClassVar[tuple[Option, ...]] = (STEP_SIZE, STEP_LIMIT)

    def check_system(self, system: object) -> None:
        """Raise ``TypeError`` when the method needs the split protocol and ``system`` lacks it."""
        if self.requires_split and not is_split(system):
            raise TypeError(
                f"method={self.name!r} needs a field that exposes force(t, q), alpha and gamma separately "
                f"(the solvers.SplitSystem protocol, which a bound GraphCONField implements); "
                f"got {type(system).__name__}. Use method='imex' for a plain function."
            )

    def start(self) -> Any:
        """A fresh step state for one solve (``None`` for methods that carry nothing from step to step)."""
        return None

    def step(self, system: PartitionedSystem, t: Tensor, dt: float, q: Tensor, p: Tensor,
             state: Any = None) -> tuple[Tensor, Tensor]:
        """(q, p) at t + Δt from (q, p) at t."""
        raise NotImplementedError

    def inverse(self, system: SplitSystem, t: Tensor, dt: float, q: Tensor, p: Tensor,
                state: Any = None) -> tuple[Tensor, Tensor]:
        """(q, p) at t from (q, p) at t + Δt, for invertible methods; ``t`` is the start of the step."""
        raise NotImplementedError(f"method {self.name!r} is not invertible")

    def replay(self, system: PartitionedSystem, t: Tensor, dt: float, q: Tensor, p: Tensor,
               state: Any = None) -> tuple[Tensor, Tensor]:
        """The step again, for its vector-Jacobian product only: outputs whose graph is that of :meth:`step`,
        whose values nobody reads (they may be left uncomputed). By default the step itself."""
        return self.step(system, t, dt, q, p, state)

    def stability(self, system: object, dt: float) -> str:
        """Where the method is stable, in words with the numbers of ``system`` and ``dt`` (for error messages)."""
        return "no stability bound is known for this method"


def linear_numbers(system: object, dt: float) -> str:
    """"alpha*dt = …, dt**2*gamma = …" for a split system, "" for a plain function (no α, γ to quote)."""
    if not is_split(system):
        return ""
    alpha, gamma = as_number(system.alpha), as_number(system.gamma)
    return f" (here alpha*dt = {alpha * dt:.3g}, dt**2*gamma = {dt * dt * gamma:.3g})"


class Imex(PartitionedMethod):
    """The IMEX / symplectic-Euler scheme of Rusch et al. (2022), eq. (4); first order, one evaluation a step.

        p⁺ = p + Δt · a(t, q, p)
        q⁺ = q + Δt · p⁺

    With a = σ(F_θ(X, t)) − γX − αY this is exactly one GraphCON layer: Y^n from the force at (t_{n−1}, X^{n−1}),
    then X^n from the new Y^n. On a split system (force, α, γ) the update after the force is one autograd node,
    p⁺ = (1 − αΔt) p + Δt (g(t, q) − γq), q⁺ = q + Δt p⁺ (:func:`solvers.imex_update.imex_update`); on any other
    system it is written with the acceleration.
    """

    name = "imex"
    order = 1

    invertible = True

    def step(self, system, t, dt, q, p, state=None):
        if is_split(system):
            return imex_update(system.force(t, q), q, p, dt, system.alpha, system.gamma)
        p_next = p.add(system.acceleration(t, q, p), alpha=dt)
        return q.add(p_next, alpha=dt), p_next

    def replay(self, system, t, dt, q, p, state=None):
        """On a split system the update's graph without its values (its backward does not read them)."""
        if is_split(system):
            return imex_update(system.force(t, q), q, p, dt, system.alpha, system.gamma, values=False)
        return self.step(system, t, dt, q, p, state)

    def stability(self, system, dt):
        """On q'' = −ω²q − αq' the step matrix has determinant 1 − αΔt and trace 2 − αΔt − Δt²ω²: stable for
        0 ≤ αΔt ≤ 2 and Δt²ω² ≤ 4 − 2αΔt (ω² ≥ γ; the force's own Lipschitz constant adds to it)."""
        return "alpha*dt <= 2 and dt**2*gamma <= 4 - 2*alpha*dt on the linear part" + linear_numbers(system, dt)

    def inverse(self, system, t, dt, q, p, state=None):
        """q = q⁺ − Δt p⁺, then p = (p⁺ − Δt(g(t, q) − γq)) / (1 − αΔt); needs the split protocol, αΔt ≠ 1."""
        q_prev = q.sub(p, alpha=dt)
        force, alpha, gamma = system.force(t, q_prev), system.alpha, system.gamma
        if isinstance(alpha, Tensor) or isinstance(gamma, Tensor):
            return q_prev, p.sub(scaled_sub(force, q_prev, gamma), alpha=dt).div(1.0 - alpha * dt)
        return q_prev, p.sub(force, alpha=dt).add_(q_prev, alpha=gamma * dt).div_(1.0 - alpha * dt)


class ImexImplicit(PartitionedMethod):
    """Eq. (4) with the damping taken implicitly; first order, one force evaluation a step.

        p⁺ = (p + Δt · (g(t, q) − γq)) / (1 + αΔt)
        q⁺ = q + Δt · p⁺

    The damping factor 1/(1 + αΔt) lies in (0, 1] for every αΔt ≥ 0, where eq. (4)'s 1 − αΔt leaves [−1, 1] once
    αΔt > 2 and the solve blows up. Needs the split protocol (force, α, γ); 1 + αΔt ≠ 0 (only a reversed-time
    step can reach it).
    """

    name = "imex_implicit"
    order = 1
    requires_split = True
    invertible = True

    def step(self, system, t, dt, q, p, state=None):
        damping = 1.0 + system.alpha * dt
        if damping == 0.0:
            raise ValueError(f"dt: method='imex_implicit' needs 1 + alpha*dt != 0, got alpha={system.alpha}, dt={dt}")
        drive = scaled_sub(system.force(t, q), q, system.gamma)
        p_next = p.add(drive, alpha=dt).div_(damping)
        return q.add(p_next, alpha=dt), p_next

    def stability(self, system, dt):
        """Determinant 1/(1 + αΔt), trace 1 + (1 − Δt²ω²)/(1 + αΔt): stable for Δt²ω² ≤ 4 + 2αΔt, any αΔt ≥ 0."""
        return "dt**2*gamma <= 4 + 2*alpha*dt on the linear part" + linear_numbers(system, dt)

    def inverse(self, system, t, dt, q, p, state=None):
        """q = q⁺ − Δt p⁺, then p = (1 + αΔt) p⁺ − Δt (g(t, q) − γq): no division, any αΔt."""
        q_prev = q.sub(p, alpha=dt)
        drive = scaled_sub(system.force(t, q_prev), q_prev, system.gamma)
        return q_prev, p.mul(1.0 + system.alpha * dt).sub_(drive, alpha=dt)


class Verlet(PartitionedMethod):
    """Störmer–Verlet (leapfrog) with the damping split off exactly; second order, one force evaluation a step.

    With f(t, q) = g(t, q) − γq the undamped part q'' = f(t, q) is advanced by kick–drift–kick and the damping
    p' = −αp by its exact flow p ← e^{−αΔt/2} p on either side (Strang splitting), c = e^{−αΔt/2}:

        p½ = c · p + (Δt/2) · f(t, q)
        q⁺ = q + Δt · p½
        p⁺ = c · (p½ + (Δt/2) · f(t + Δt, q⁺))

    Why this way: a symmetric composition of a second-order symmetric step (kick–drift–kick, symplectic in the
    phase space extended by t, so a time-dependent force stays second order) with exact half-flows is again
    second order and symmetric, Φ_{−Δt} = Φ_{Δt}^{−1}. Putting −αp into both kicks explicitly damps p by
    (1 − αΔt/2)² = e^{−αΔt} + O(Δt²) and drops the order to one; the trapezoidal variant (implicit in the second
    kick) keeps order two but damps by (1 − αΔt/2)/(1 + αΔt/2), which turns negative for αΔt > 2. The exact flow
    damps by e^{−αΔt} at any αΔt: on q'' = −ω²q − αq' the step is stable for Δt²ω² ≤ 4 whatever α, and it is
    conformal symplectic like the damped system's own flow, contracting phase-space area by exactly e^{−αΔt}
    (McLachlan & Perlmutter, 2001). For α = 0 it is the plain leapfrog, whose energy error stays O(Δt²) over long
    times.

    The force at the end of a step is the force at the start of the next (first same as last): the step state
    (:class:`KeptForce`, made by :meth:`start` for one solve) keeps it, and the next step reuses it when it starts
    at that time from that very q tensor, unchanged (same object, no in-place change since), with the same system
    and autograd mode. A solve of N steps then costs N + 1 force evaluations; an ``after_step`` that replaces q
    costs a fresh evaluation at every step. A step called without a state evaluates both forces.
    """

    name = "verlet"
    order = 2
    requires_split = True
    invertible = True

    def start(self) -> KeptForce:
        return KeptForce()

    def _conservative_force(self, system: SplitSystem, t: Tensor, dt: float, q: Tensor,
                            state: KeptForce | None) -> Tensor:
        """f(t, q) = g(t, q) − γq, reused from ``state`` when its evaluation was at this unchanged q and this time.

        Times match up to round-off (a few ulps of max(|t|, |Δt|)): the end of one step, t + Δt, and the start of
        the next, read from a grid, are the same point computed two ways.
        """
        if state is None:
            return scaled_sub(system.force(t, q), q, system.gamma)
        time, grad_mode = float(t), torch.is_grad_enabled()
        if state.kept is not None:
            kept_system, kept_time, kept_q, kept_version, kept_grad_mode, value = state.kept
            same_time = abs(time - kept_time) <= 16 * torch.finfo(t.dtype).eps * max(abs(time), abs(dt))
            if (kept_system is system and kept_q is q and kept_version == q._version and same_time
                    and kept_grad_mode == grad_mode):
                return value
        value = scaled_sub(system.force(t, q), q, system.gamma)
        state.kept = (system, time, q, q._version, grad_mode, value)
        return value

    def stability(self, system, dt):
        """Kick–drift–kick on q'' = −ω²q is stable for Δt²ω² ≤ 4; the exact damping flows keep it so for any α."""
        return "dt**2*gamma <= 4 on the linear part, any alpha" + linear_numbers(system, dt)

    def step(self, system, t, dt, q, p, state=None):
        c = _half_step_decay(system.alpha, dt)
        undamped = _is_one(c)
        force = self._conservative_force(system, t, dt, q, state)
        p_half = p.add(force, alpha=0.5 * dt) if undamped else p.mul(c).add_(force, alpha=0.5 * dt)
        q_next = q.add(p_half, alpha=dt)
        p_next = p_half.add(self._conservative_force(system, t + dt, dt, q_next, state), alpha=0.5 * dt)
        return q_next, p_next if undamped else p_next.mul_(c)

    def inverse(self, system, t, dt, q, p, state=None):
        """The step backwards: p½ = p⁺/c − (Δt/2) f(t + Δt, q⁺), q = q⁺ − Δt p½, p = (p½ − (Δt/2) f(t, q)) / c."""
        c = _half_step_decay(system.alpha, dt)
        undamped = _is_one(c)
        force = self._conservative_force(system, t + dt, dt, q, state)
        p_half = p.sub(force, alpha=0.5 * dt) if undamped else p.div(c).sub_(force, alpha=0.5 * dt)
        q_prev = q.sub(p_half, alpha=dt)
        p_prev = p_half.sub(self._conservative_force(system, t, dt, q_prev, state), alpha=0.5 * dt)
        return q_prev, p_prev if undamped else p_prev.div_(c)


class KeptForce:
    """Verlet's step state: the last conservative force f(t, q) with what it was evaluated at (system, time, the
    q tensor and its version, autograd mode), or None before the first evaluation."""

    def __init__(self) -> None:
        self.kept: tuple[object, float, Tensor, int, bool, Tensor] | None = None
