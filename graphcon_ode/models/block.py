"""The GraphCON block that node-level and graph-level models compose: N steps of eq. (4) on one graph,

    Yⁿ = Yⁿ⁻¹ + Δt [σ(F_θ(Xⁿ⁻¹, tⁿ⁻¹)) − γXⁿ⁻¹ − αYⁿ⁻¹],    Xⁿ = Xⁿ⁻¹ + Δt Yⁿ,    n = 1, …, N,

i.e. the ODE X' = Y, Y' = σ(F_θ(X, t)) − γX − αY (eq. (3)) solved on [0, T], T = NΔt, by the ``imex`` method (one
step is one layer) or any other method of :func:`graphcon_ode.odeint`.

The block is the single holder of the solve's settings: N, Δt, the method, the backward mode, the solver options,
the tolerances and the dropout after every step. It references the model's field without registering it, so
the field's parameters keep their names on the model (``field.…``) and the block adds no state-dict entries.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphcon_ode.couplings.base import Coupling
from graphcon_ode.field import BoundGraphCONField, GraphCONField
from graphcon_ode.graph_inputs import graph_key
from graphcon_ode.odeint import BackwardSpec, backward_mode, is_fixed_step, known_methods, odeint
from graphcon_ode.source_term import SourcedGraphCONField
from graphcon_ode.validation import dropout_rate
from solvers import BACKWARD_MODES, METHODS, ExactReversal, SolveStats


class GraphCONBlock(nn.Module):
    """N steps of eq. (4) of ``field`` with step Δt = ``step_size``, from (X⁰, Y⁰) to (X(T), Y(T)), T = NΔt.

    Args:
        field: the :class:`GraphCONField` (or :class:`SourcedGraphCONField`) of the model; referenced, not
            registered (the model registers it).
        num_layers: N, the number of steps.
        step_size: Δt (> 0). A fixed-step method steps by it unless ``options`` gives its own ``"step_size"``.
        method: "imex" (eq. (4)), another partitioned method, or a torchdiffeq method ("dopri5", "rk4", …).
        backward: the backward mode, by name or as a :class:`solvers.BackwardMode` (see :func:`odeint`).
        options: further solver options (e.g. ``{"checkpoint_every": 4}``).
        rtol, atol: tolerances of adaptive methods.
        step_dropout: dropout on X and Y after every step (in training); needs a partitioned method and a backward
            mode that applies a map between steps.

    Attributes:
        last_stats: the :class:`solvers.SolveStats` of the latest solve (its ``nfe_backward`` fills in when that
            solve's backward pass runs).
    """

    def __init__(self, field: GraphCONField, *, num_layers: int, step_size: float = 1.0, method: str = "imex",
                 backward: BackwardSpec = False, options: dict[str, Any] | None = None, rtol: float = 1e-7,
                 atol: float = 1e-9, step_dropout: float = 0.0):
        super().__init__()
        check_block(step_size=step_size, method=method, backward=backward, step_dropout=step_dropout)
        object.__setattr__(self, "field", field)  # the model registers the field; its names stay "field.…"
        self.num_layers = num_layers
        self.step_size = step_size
        self.method = method
        self.backward = backward
        self.options = dict(options or {})
        self.rtol = rtol
        self.atol = atol
        self.step_dropout = step_dropout
        self.last_stats: SolveStats | None = None
        self._bound: tuple[tuple, BoundGraphCONField, Tensor] | None = None

    @property
    def end_time(self) -> float:
        """T = NΔt, the end of the solve."""
        return self.num_layers * self.step_size

    @property
    def solver_options(self) -> dict[str, Any]:
        """The options ``odeint`` gets: ``{"step_size": Δt}`` for a fixed-step method, then ``options``."""
        if is_fixed_step(self.method):
            return {"step_size": self.step_size, **self.options}
        return dict(self.options)

    def solve(self, x0: Tensor, edge_index: Tensor, y0: Tensor | None = None,
              **graph: Tensor) -> tuple[Tensor, Tensor]:
        """(X(T), Y(T)) from X⁰ = ``x0``, Y⁰ = ``y0`` (default ``x0``); the solve's counts go to ``last_stats``.
        ``graph``: further graph tensors for the coupling (``edge_attr``)."""
        check_reversal_device(self.field.coupling, self.backward, x0.device)
        t = torch.tensor([0.0, self.end_time], dtype=x0.dtype, device=x0.device)
        after_step = self._drop_state if self.step_dropout and self.training else None
        (xs, ys), self.last_stats = odeint(
            self.bind(edge_index, x0, **graph), (x0, x0 if y0 is None else y0), t, method=self.method,
            options=self.solver_options, rtol=self.rtol, atol=self.atol, backward=self.backward,
            after_step=after_step, return_stats=True)
        return xs[-1], ys[-1]

    def bind(self, edge_index: Tensor, x0: Tensor, **graph: Tensor) -> BoundGraphCONField:
        """The field bound to ``edge_index``, kept while the same, unchanged graph tensor comes back: the graph's
        preprocessing (validation, normalisation, sparse layout) then runs once per graph instead of once per
        forward pass (13 % of a Cora GraphCON-GCN epoch as measured by benchmarks/profile_step.py)."""
        if isinstance(self.field, SourcedGraphCONField):
            return self.field.bind(edge_index, source=x0, **graph)
        if self.field.coupling.uses_initial_state:
            return self.field.bind(edge_index, initial_state=x0, **graph)
        if graph:
            return self.field.bind(edge_index, **graph)
        key = graph_key(edge_index)
        if self._bound is None or self._bound[0] != key:
            self._bound = (key, self.field.bind(edge_index), edge_index)  # holding edge_index keeps its address
        return self._bound[1]

    def _drop_state(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return F.dropout(x, self.step_dropout, True), F.dropout(y, self.step_dropout, True)

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles leave the bound field behind (its sparse operators cannot be deep-copied)."""
        return {**self.__dict__, "_bound": None}

    def extra_repr(self) -> str:
        return (f"num_layers={self.num_layers}, step_size={self.step_size}, method={self.method!r}, "
                f"backward={backward_mode(self.backward).name!r}")


class BlockAttributes:
    """The settings of a model's :class:`GraphCONBlock` (``self.block``), read-only on the model."""

    block: GraphCONBlock

    num_layers = property(lambda self: self.block.num_layers, doc="N, the number of steps.")
    step_size = property(lambda self: self.block.step_size, doc="Δt, the step.")
    method = property(lambda self: self.block.method, doc="The solver method.")
    backward = property(lambda self: self.block.backward, doc="The backward mode.")
    options = property(lambda self: self.block.solver_options, doc="The options ``odeint`` gets.")
    rtol = property(lambda self: self.block.rtol, doc="The relative tolerance of adaptive methods.")
    atol = property(lambda self: self.block.atol, doc="The absolute tolerance of adaptive methods.")
    step_dropout = property(lambda self: self.block.step_dropout, doc="The dropout after every step.")
    last_stats = property(lambda self: self.block.last_stats, doc="The latest solve's :class:`solvers.SolveStats`.")
    end_time = property(lambda self: self.block.end_time, doc="T = NΔt, the end of the solve.")


def check_block(*, step_size: float, method: str, backward: BackwardSpec, step_dropout: float) -> None:
    """The block's arguments, checked at the boundary (errors name the argument)."""
    dropout_rate("step_dropout", step_dropout)
    if not step_size > 0:
        raise ValueError(f"step_size: must be > 0, got {step_size}")
    if method not in known_methods():
        raise ValueError(f"method: unknown method {method!r}; known methods: {', '.join(known_methods())}")
    mode = backward_mode(backward)
    if step_dropout and not mode.supports_after_step:
        supporting = sorted(name for name, known in BACKWARD_MODES.items() if known.supports_after_step)
        raise ValueError(f"step_dropout: dropout after every step needs a backward mode that applies a map "
                         f"between steps ({', '.join(supporting)}), got backward={mode.name!r}")
    if step_dropout and method not in METHODS:
        raise ValueError(f"step_dropout: dropout after every step needs a partitioned method "
                         f"({', '.join(sorted(METHODS))}), got method={method!r}")


def check_reversal_device(coupling: Coupling, backward: BackwardSpec, device: torch.device) -> None:
    """Refuse ``backward="exact_reversal"`` before the solve where ``coupling`` is not deterministic on ``device``
    (:meth:`Coupling.deterministic`): the mode rebuilds every state from a force recomputed bit for bit, and would
    otherwise find the mismatch only at the end of a whole backward pass."""
    if isinstance(backward_mode(backward), ExactReversal) and not coupling.deterministic(device):
        raise ValueError(f"backward: 'exact_reversal' needs a force recomputed bit for bit, but the coupling "
                         f"{type(coupling).__name__} sums messages with atomic scatter-adds on {device}; use "
                         f"backward='reversible' or 'checkpoint', or torch.use_deterministic_algorithms(True)")
