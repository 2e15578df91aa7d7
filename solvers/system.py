"""Partitioned second-order systems, the only thing the solvers know about a model.

A partitioned second-order system has a position q and a velocity p of the same shape and evolves as

    q' = p,    p' = a(t, q, p).

Every method in this package needs only ``acceleration(t, q, p)``. Methods that treat the damping on its own
(``imex_implicit``, ``verlet``) need the split form

    a(t, q, p) = g(t, q) − γ q − α p,

exposed as ``force(t, q)`` together with ``alpha`` and ``gamma`` (the :class:`SplitSystem` protocol): Python
floats, or 0-dim tensors when they are trained. Either way they are constant during a solve; code that needs a
number (a fixed-point ratio, an a-priori bound) takes ``float()`` of them, and code on the gradient path reads them
afresh at every step, so that their graph is rebuilt wherever a step is replayed.
A GraphCON field (eq. (3) of Rusch et al., 2022) is one such system with g = σ(F_θ(X, t)).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from torch import Tensor, nn

from .stats import SolveStats

TupleFunc = Callable[[Tensor, tuple[Tensor, Tensor]], tuple[Tensor, Tensor]]


def as_number(value: float | Tensor) -> float:
    """A coefficient as a Python float (a trained 0-dim tensor's current value, outside autograd)."""
    return float(value.detach()) if isinstance(value, Tensor) else float(value)


def scaled_sub(a: Tensor, b: Tensor, scale: float | Tensor) -> Tensor:
    """a − scale·b, fused for a float ``scale``; for a 0-dim tensor ``scale`` (a trained α or γ) its graph is kept."""
    if isinstance(scale, Tensor):
        return a - scale * b
    return a.sub(b, alpha=scale)


@runtime_checkable
class PartitionedSystem(Protocol):
    """q' = p, p' = acceleration(t, q, p)."""

    def acceleration(self, t: Tensor, q: Tensor, p: Tensor) -> Tensor: ...


@runtime_checkable
class SplitSystem(PartitionedSystem, Protocol):
    """p' = force(t, q) − gamma·q − alpha·p, with the damping α and the frequency γ exposed as floats or 0-dim
    tensors."""

    alpha: float | Tensor
    gamma: float | Tensor

    def force(self, t: Tensor, q: Tensor) -> Tensor: ...


def is_split(system: object) -> bool:
    """Whether ``system`` exposes ``force``, ``alpha`` and ``gamma`` (the :class:`SplitSystem` protocol)."""
    return isinstance(system, SplitSystem)


class WrappedCoefficients:
    """α and γ of a wrapper, read from the function it wraps (``self.func``), so the split protocol passes through."""

    func: object

    @property
    def alpha(self) -> float | Tensor:
        return self.func.alpha

    @property
    def gamma(self) -> float | Tensor:
        return self.func.gamma


class TupleFunctionSystem(WrappedCoefficients):
    """Any ``f(t, (q, p)) -> (q', p')`` seen as a partitioned system; ``q' = p`` is taken on trust.

    The split protocol is forwarded when ``f`` has it, so a bound GraphCON field keeps its force and damping.
    """

    def __init__(self, func: TupleFunc):
        self.func = func
        if is_split(func):
            self.force = func.force

    def acceleration(self, t: Tensor, q: Tensor, p: Tensor) -> Tensor:
        accel = getattr(self.func, "acceleration", None)
        if accel is not None:
            return accel(t, q, p)
        return self.func(t, (q, p))[1]


def as_system(func: object) -> PartitionedSystem:
    """The partitioned view of ``func``: itself when it has ``acceleration``, else a :class:`TupleFunctionSystem`."""
    if isinstance(func, PartitionedSystem):
        return func
    return TupleFunctionSystem(func)


class CountedFunction(WrappedCoefficients, nn.Module):
    """Wraps a tuple function or system and counts its evaluations into a :class:`~solvers.stats.SolveStats`.

    Calls of ``forward``, ``acceleration`` and ``force`` each count one evaluation, into ``nfe_forward`` while
    ``phase`` is "forward" and into ``nfe_backward`` after the backward pass sets it to "backward". The split
    protocol of the wrapped function is kept.
    """

    def __init__(self, func: object, stats: SolveStats):
        super().__init__()
        self.func = func
        self.stats = stats
        self.phase = "forward"
        self._system = as_system(func)
        if is_split(func):
            self.force = self._counted_force

    def _count(self) -> None:
        if self.phase == "forward":
            self.stats.nfe_forward += 1
        else:
            self.stats.nfe_backward += 1

    def forward(self, t: Tensor, y):
        self._count()
        return self.func(t, y)

    def acceleration(self, t: Tensor, q: Tensor, p: Tensor) -> Tensor:
        self._count()
        return self._system.acceleration(t, q, p)

    def _counted_force(self, t: Tensor, q: Tensor) -> Tensor:
        self._count()
        return self.func.force(t, q)
