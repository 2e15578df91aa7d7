"""The front door: ``odeint(field, (x0, y0), t, method=..., options=...)``, validated once, like torchdiffeq.

Every input is checked here and errors name the argument; inner code trusts its inputs. Partitioned methods
(``imex`` — the paper's eq. (4) — and the other names in :data:`solvers.METHODS`) run in the library's own loop on
the (X, Y) pair; every other name is a torchdiffeq method. The backward mode is a name too (``backward``):
``False``/"backprop" (autograd through the steps), ``True``/"adjoint" (torchdiffeq's continuous adjoint), and
the further modes of :data:`solvers.BACKWARD_MODES`. ``adjoint=`` is the former spelling of ``backward=``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from graphcon_ode.field import GraphCONField
from solvers import BACKWARD_MODES, METHODS, BackwardMode, Problem, SolveStats, compat, get_backward_mode
from solvers.compat import SOLVERS
from solvers.integrate import DivergedError, StepHook
from solvers.options import check_keys

State = tuple[Tensor, Tensor]
BackwardSpec = bool | str | BackwardMode
"""A backward mode as ``odeint`` and the models take it: False/True, a name, or a mode object."""


def backward_argument(backward: BackwardSpec | None, adjoint: BackwardSpec | None) -> BackwardSpec:
    """The backward mode given as ``backward`` or, with a ``DeprecationWarning``, by its former name ``adjoint``;
    neither given is False ("backprop")."""
    if adjoint is None:
        return False if backward is None else backward
    if backward is not None:
        raise TypeError("adjoint: pass the backward mode once, as backward= (adjoint= is its former name)")
    warnings.warn("adjoint= is deprecated; pass the backward mode as backward= (same values)", DeprecationWarning,
                  stacklevel=3)
    return adjoint


def backward_mode(backward: BackwardSpec) -> BackwardMode:
    """The :class:`solvers.BackwardMode` that ``backward`` names (False, True, a name or a mode object)."""
    try:
        return get_backward_mode(backward)
    except ValueError:
        raise ValueError(f"backward: expected False, True, one of {sorted(BACKWARD_MODES)} or a backward mode "
                         f"object such as Checkpoint(every=8), got {backward!r}") from None


def known_methods() -> list[str]:
    """Every method name ``odeint`` accepts: the partitioned ones first, then torchdiffeq's."""
    return sorted(METHODS) + sorted(name for name in SOLVERS if name not in METHODS)


def is_fixed_step(method: str) -> bool:
    """Whether ``method`` steps on a fixed grid (``options={"step_size": Δt}``) rather than adapting its steps."""
    if method not in METHODS and method not in SOLVERS:
        raise ValueError(f"method: unknown method {method!r}; known methods: {', '.join(known_methods())}")
    return compat.is_fixed_step(method, method in METHODS)


def odeint(
    func: Callable[[Tensor, State], State],
    y0: State,
    t: Tensor,
    *,
    method: str = "imex",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    options: dict[str, Any] | None = None,
    backward: BackwardSpec | None = None,
    adjoint: BackwardSpec | None = None,
    adjoint_method: str | None = None,
    adjoint_rtol: float | None = None,
    adjoint_atol: float | None = None,
    adjoint_options: dict[str, Any] | None = None,
    adjoint_params: tuple[Tensor, ...] | None = None,
    after_step: StepHook | None = None,
    return_stats: bool = False,
) -> State | tuple[State, SolveStats]:
    """Solve X' = Y, Y' = a(t, X, Y) (eq. (3)) from ``y0 = (X0, Y0)`` and return (X, Y) stacked over ``t``.

    Args:
        func: a bound field (``GraphCONField.bind(edge_index)``) or any ``f(t, (X, Y)) -> (X', Y')``.
        y0: the initial state (X0, Y0), two floating tensors of the same shape.
        t: 1-D strictly monotonic output times; t[0] is the initial time. Cast to the state's dtype.
        method: "imex" (eq. (4)), another partitioned method, or any torchdiffeq method ("dopri5", "rk4", …).
        rtol, atol: tolerances of adaptive methods.
        options: method options. A partitioned method needs ``{"step_size": Δt}`` with Δt no longer than the
            output interval, and accepts only its declared options plus those of the backward mode (e.g.
            ``"checkpoint_every"``); an unknown key is an error. torchdiffeq methods get the dict as it is.
        backward: the backward mode: False/"backprop" (default), True/"adjoint" (continuous adjoint), another name in
            :data:`solvers.BACKWARD_MODES` ("checkpoint", "reversible", "exact_reversal"; see
            docs/reference/backward_modes.md), or a mode object with its options, e.g. ``Checkpoint(every=8)``,
            ``Reversible(anchor_every=26)``, ``ExactReversal(fraction_bits=40)``.
        adjoint: the former name of ``backward`` (same values; a ``DeprecationWarning``).
        adjoint_method, adjoint_rtol, adjoint_atol, adjoint_options, adjoint_params: passed to
            ``torchdiffeq.odeint_adjoint`` in the continuous adjoint mode.
        after_step: optional map applied to (X, Y) after every step of a partitioned method (e.g. dropout);
            it makes the solve a layer stack rather than an ODE solve, so it needs the "backprop" mode.
        return_stats: also return a :class:`solvers.SolveStats` (steps and evaluations; ``nfe_backward`` is
            filled in by the backward pass).

    Returns:
        (xs, ys) with a leading time dimension of len(t); with ``return_stats``, ((xs, ys), stats).

    Raises:
        solvers.integrate.DivergedError: (a ``ValueError``) when the state of a partitioned method becomes
            non-finite from a finite start; the message names the step, its time and the method's stability bound.
        ValueError: naming ``y0`` when the initial state is non-finite, and ``func`` with the parameters'
            names when the solve went non-finite because the field's parameters already were.
    """
    if isinstance(func, GraphCONField):
        raise ValueError("func: this GraphCONField is not bound to a graph; pass field.bind(edge_index)")
    if not callable(func):
        raise TypeError(f"func: expected a callable f(t, (X, Y)), got {type(func).__name__}")
    x0, v0 = _check_state(y0)
    if hasattr(func, "check_state"):
        func.check_state(x0)
    t = _check_times(t, x0)
    mode = backward_mode(backward_argument(backward, adjoint))
    options, mode = _check_options(method, options, mode, t)
    if after_step is not None and not (method in METHODS and mode.supports_after_step):
        raise ValueError(f"after_step: needs a partitioned method and a backward mode that supports it "
                         f"(got method={method!r}, backward={mode.name!r})")

    adjoint_kwargs = {
        name: value for name, value in {
            "adjoint_method": adjoint_method,
            "adjoint_rtol": adjoint_rtol,
            "adjoint_atol": adjoint_atol,
            "adjoint_options": adjoint_options,
            "adjoint_params": adjoint_params,
        }.items() if value is not None
    }
    problem = Problem(func, x0, v0, t, method, options, rtol, atol, adjoint_kwargs, after_step)
    stats = SolveStats(method=method, backward=mode.name)
    try:
        solution = mode.solve(problem, stats)
    except DivergedError as error:
        bad = non_finite_parameters(func)
        if bad:  # no step size cures a field that was non-finite before the first step
            raise ValueError(f"func: parameters {', '.join(bad)} of the field are non-finite (nan or inf) before "
                             f"the solve; the step size is not the cause") from error
        raise
    return (solution, stats) if return_stats else solution


def non_finite_parameters(func: object) -> list[str]:
    """The names of ``func``'s parameters with a nan or inf entry (none where ``func`` is not an ``nn.Module``);
    read only after a solve went non-finite, so a finite solve pays nothing for it."""
    if not isinstance(func, torch.nn.Module):
        return []
    return [name for name, value in func.named_parameters() if not all_finite(value)]


def _check_state(y0: object) -> State:
    if not isinstance(y0, (tuple, list)) or len(y0) != 2:
        raise TypeError(f"y0: expected a tuple (X0, Y0) of two tensors, got {type(y0).__name__}")
    x0, v0 = y0
    for name, value in (("X0", x0), ("Y0", v0)):
        if not isinstance(value, Tensor):
            raise TypeError(f"y0: {name} must be a torch.Tensor, got {type(value).__name__}")
        if not value.is_floating_point():
            raise TypeError(f"y0: {name} must be a floating tensor, got dtype {value.dtype}")
    if x0.shape != v0.shape:
        raise ValueError(f"y0: X0 and Y0 must have the same shape, got {list(x0.shape)} and {list(v0.shape)}")
    if x0.device.type == "meta":
        raise ValueError("y0: tensors on the 'meta' device hold no values to integrate; use a cpu or cuda device")
    if x0.dtype != v0.dtype or x0.device != v0.device:
        raise ValueError(f"y0: X0 and Y0 must share dtype and device, got {x0.dtype}/{x0.device} "
                         f"and {v0.dtype}/{v0.device}")
    for name, value in (("X0", x0), ("Y0", v0)):
        if not all_finite(value):
            raise ValueError(f"y0: {name} has non-finite entries (nan or inf)")
    return x0, v0


def all_finite(x: Tensor) -> bool:
    """Whether every entry of ``x`` is finite. A finite sum proves it (a nan or ±inf entry makes the sum nan or
    ±inf) in one reduction, ~50x cheaper than the elementwise test, which decides only when the sum is not finite."""
    return bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all())


def _check_times(t: object, like: Tensor) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"t: expected a 1-D torch.Tensor of times, got {type(t).__name__}")
    if t.dim() != 1 or t.numel() < 1:
        raise ValueError(f"t: expected a non-empty 1-D tensor, got shape {list(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError("t: times must be finite")
    t = t.to(device=like.device, dtype=like.dtype)
    if t.numel() > 1:
        steps = t[1:] - t[:-1]
        if not ((steps > 0).all() or (steps < 0).all()):
            raise ValueError("t: times must be strictly increasing or strictly decreasing")
    return t


def _check_options(method: object, options: dict[str, Any] | None, mode: BackwardMode,
                   t: Tensor) -> tuple[dict[str, Any], BackwardMode]:
    """The method's options, checked, and the backward mode with the options given for it in ``options``."""
    if not isinstance(method, str) or method not in METHODS and method not in SOLVERS:
        raise ValueError(f"method: unknown method {method!r}; known methods: {', '.join(known_methods())}")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise TypeError(f"options: expected a dict, got {type(options).__name__}")
    options = dict(options)
    if "step_size" in options:
        step = options["step_size"]
        if isinstance(step, Tensor) and step.numel() == 1:
            step = step.item()
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not (math.isfinite(step) and step > 0):
            raise ValueError(f"step_size: must be a finite number > 0, got {options['step_size']!r}")
        options["step_size"] = float(step)
    if method not in METHODS:
        return options, mode
    mode_keys = type(mode).option_keys()
    method_keys = {o.name for o in METHODS[method].options}
    check_keys(options, method_keys | set(mode_keys), f"method={method!r} with backward={mode.name!r}")
    mode = mode.with_options({key: options.pop(key) for key in list(options) if key in mode_keys})
    step = options.get("step_size")
    if step is None and len(t) > 1:
        raise ValueError(f"step_size: method={method!r} is a fixed-step method and needs options={{'step_size': dt}} "
                         f"(one step is one layer of eq. (4)); without it the solve would step on the output times")
    span = abs(float(t[-1] - t[0]))
    if step is not None and len(t) > 1 and step > span * (1 + 4 * torch.finfo(t.dtype).eps):
        raise ValueError(f"step_size: {step:g} is longer than the output interval [{float(t[0]):g}, {float(t[-1]):g}] "
                         f"(length {span:g}); the one step would be cut to {span:g}")
    return options, mode
