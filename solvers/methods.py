"""Fixed-step methods for partitioned second-order systems q' = p, p' = a(t, q, p).

Each method is one small class with a ``step`` that maps (q, p) at time t to (q, p) at t + Δt; adding a method
is one class here plus one line in :data:`solvers.registry.METHODS`.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from .system import PartitionedSystem, SplitSystem, is_split


class PartitionedMethod:
    """Base class: one step of a fixed-step method for q' = p, p' = a(t, q, p).

    Class attributes:
        name: the method name accepted by ``odeint(..., method=name)``.
        order: the global order of convergence.
        requires_split: whether the method needs ``force``, ``alpha`` and ``gamma`` (:class:`SplitSystem`).
        invertible: whether :meth:`inverse` undoes :meth:`step` (reversible backprop needs it).
    """

    name: ClassVar[str]
    order: ClassVar[int]
    requires_split: ClassVar[bool] = False
    invertible: ClassVar[bool] = False

    def check_system(self, system: object) -> None:
        """Raise ``TypeError`` when the method needs the split protocol and ``system`` lacks it."""
        if self.requires_split and not is_split(system):
            raise TypeError(
                f"method={self.name!r} needs a field that exposes force(t, q), alpha and gamma separately "
                f"(the solvers.SplitSystem protocol, which a bound GraphCONField implements); "
                f"got {type(system).__name__}. Use method='imex' for a plain function."
            )

    def step(self, system: PartitionedSystem, t: Tensor, dt: float, q: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
        """(q, p) at t + Δt from (q, p) at t."""
        raise NotImplementedError

    def inverse(self, system: SplitSystem, t: Tensor, dt: float, q: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
        """(q, p) at t from (q, p) at t + Δt, for invertible methods; ``t`` is the start of the step."""
        raise NotImplementedError(f"method {self.name!r} is not invertible")


class Imex(PartitionedMethod):
    """The IMEX / symplectic-Euler scheme of Rusch et al. (2022), eq. (4); first order, one evaluation a step.

        p⁺ = p + Δt · a(t, q, p)
        q⁺ = q + Δt · p⁺

    With a = σ(F_θ(X, t)) − γX − αY this is exactly one GraphCON layer: Y^n from the force at (t_{n−1}, X^{n−1}),
    then X^n from the new Y^n.
    """

    name = "imex"
    order = 1

    invertible = True

    def step(self, system, t, dt, q, p):
        p_next = p.add(system.acceleration(t, q, p), alpha=dt)
        return q.add(p_next, alpha=dt), p_next

    def inverse(self, system, t, dt, q, p):
        """q = q⁺ − Δt p⁺, then p = (p⁺ − Δt(g(t, q) − γq)) / (1 − αΔt); needs the split protocol, αΔt ≠ 1."""
        q_prev = q.sub(p, alpha=dt)
        drive = system.force(t, q_prev).sub(q_prev, alpha=system.gamma)
        return q_prev, p.sub(drive, alpha=dt).div(1.0 - system.alpha * dt)
