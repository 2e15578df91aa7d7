"""Makes every partitioned method a ``torchdiffeq.odeint`` method name.

torchdiffeq flattens a tuple state (q, p) into one tensor and wraps the user's function (tuple unpacking, time
reversal, time perturbation) before a solver sees it. The solver classes made here undo that wrapping once:
they split the flat state by the known shapes and call the method on the user's own function, so a method's
step is the same code, and gives the same numbers, inside torchdiffeq and in the library's own loop.
Decreasing output times are integrated with negative steps, which is what torchdiffeq's reversal amounts to.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .compat import SOLVERS, FixedGridODESolver, _PerturbFunc, _ReverseFunc, _TupleFunc
from .methods import PartitionedMethod
from .registry import METHODS
from .system import as_system


class _FlatStateSystem:
    """A single-tensor state [q; p] whose function returns [q'; p']: the acceleration is the second half."""

    def __init__(self, func):
        self.func = func

    def acceleration(self, t: Tensor, q: Tensor, p: Tensor) -> Tensor:
        return self.func(t, torch.cat([q, p]))[q.numel():]


def _unwrap(func) -> tuple[object, list[torch.Size] | None, bool]:
    """The user's function under torchdiffeq's wrappers, the tuple shapes (or None) and whether time is reversed."""
    shapes, reversed_time = None, False
    while isinstance(func, (_PerturbFunc, _ReverseFunc, _TupleFunc)):
        if isinstance(func, _ReverseFunc):
            reversed_time = not reversed_time
        if isinstance(func, _TupleFunc):
            shapes = list(func.shapes)
        func = func.base_func
    return func, shapes, reversed_time


class PartitionedFixedGridSolver(FixedGridODESolver):
    """torchdiffeq fixed-grid solver running a :class:`~solvers.methods.PartitionedMethod` on the flat state."""

    method_class: type[PartitionedMethod]

    def __init__(self, func, y0, **kwargs):
        if kwargs.get("interp", "linear") != "linear":
            raise ValueError(f"method={self.method_class.name!r} supports interp='linear' only")
        super().__init__(func, y0, **kwargs)
        user_func, shapes, self._reversed = _unwrap(func)
        if shapes is None:
            if y0.numel() % 2:
                raise ValueError(
                    f"method={self.method_class.name!r} needs a state (q, p) of two equal halves; "
                    f"got a flat state of {y0.numel()} entries"
                )
            self._shape = (y0.numel() // 2,)
            self._system = _FlatStateSystem(user_func)
        else:
            if len(shapes) != 2 or shapes[0] != shapes[1]:
                raise ValueError(
                    f"method={self.method_class.name!r} needs a tuple state (q, p) of two tensors of the same "
                    f"shape; got shapes {[tuple(s) for s in shapes]}"
                )
            self._shape = shapes[0]
            self._system = as_system(user_func)
        self._method = self.method_class()
        self._method.check_system(self._system)
        self._step_state = self._method.start()
        self._last_step: tuple[Tensor, Tensor, Tensor] | None = None

    def _step_func(self, func, t0, dt, t1, y0):
        q, p = self._state(y0)
        t, step = t0.to(y0.dtype), float(dt)
        if self._reversed:
            t, step = -t, -step
        q_next, p_next = self._method.step(self._system, t, step, q, p, self._step_state)
        dy = torch.cat([(q_next - q).reshape(-1), (p_next - p).reshape(-1)])
        with torch.no_grad():
            self._last_step = (y0 + dy, q_next, p_next)
        return dy, None

    def _state(self, y0: Tensor) -> tuple[Tensor, Tensor]:
        """(q, p) of the flat state, or the method's own last (q⁺, p⁺) when ``y0`` is torchdiffeq's y0 + dy of the
        last step.

        torchdiffeq's sum y0 + dy rounds the method's result differently. Continuing from the method's own tensors
        keeps the trajectory that of the library's loop, lets a method reuse work tied to them (verlet's last force
        evaluation), and keeps gradients exact: the outputs telescope to y_k = y_0 + Σ (z_{j+1} − z_j) = z_k.
        """
        if self._last_step is not None:
            expected, q_next, p_next = self._last_step
            if torch.equal(y0, expected):
                return q_next, p_next
        half = y0.numel() // 2
        return y0[:half].view(self._shape), y0[half:].view(self._shape)


def register_with_torchdiffeq() -> None:
    """Add every method of :data:`solvers.registry.METHODS` to torchdiffeq's table of method names."""
    for name, method_class in METHODS.items():
        SOLVERS[name] = type(
            f"{method_class.__name__}TorchdiffeqSolver",
            (PartitionedFixedGridSolver,),
            {"method_class": method_class, "order": method_class.order},
        )
