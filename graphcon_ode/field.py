"""The GraphCON vector field, eq. (3) of Rusch et al. (2022):

    X' = Y,    Y' = σ(F_θ(X, t)) − γ X − α Y,

the first-order form of the damped, driven oscillator network X'' = σ(F_θ(X, t)) − γX − αX' (eq. (1)).

A :class:`GraphCONField` holds the parameters (coupling θ, α, γ, σ) and knows no graph; ``field.bind(edge_index)``
returns a :class:`BoundGraphCONField`, the ``f(t, (X, Y))`` that ``odeint`` solves on that graph. One field can be
bound to many graphs (subgraphs, mini-batches of molecules) and shares its parameters between the bindings.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn.conv import MessagePassing

from graphcon_ode.couplings.base import Coupling, from_pyg
from graphcon_ode.graph_inputs import edge_list
from graphcon_ode.sparse import SparseOperator
from graphcon_ode.validation import boolean
from solvers.system import as_number, scaled_sub

Activation = Callable[[Tensor], Tensor]


def check_edge_index(edge_index: object, num_nodes: int | None = None) -> None:
    """Raise ``TypeError``/``ValueError`` naming ``edge_index`` unless it is a 2×E integer tensor within range."""
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"edge_index: expected a torch.Tensor of shape [2, E], got {type(edge_index).__name__}")
    if edge_index.dtype.is_floating_point or edge_index.dtype.is_complex or edge_index.dtype == torch.bool:
        raise TypeError(f"edge_index: expected an integer tensor (torch.long), got dtype {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index: expected shape [2, E], got {list(edge_index.shape)}")
    if edge_index.numel() == 0:
        return
    low, high = int(edge_index.min()), int(edge_index.max())
    if low < 0:
        raise ValueError(f"edge_index: node indices must be non-negative, found {low}")
    if num_nodes is not None and high >= num_nodes:
        raise ValueError(f"edge_index: node index {high} is out of range for num_nodes={num_nodes}")


def real_number(name: str, value: object) -> float:
    """``value`` as a float; ``TypeError`` naming ``name`` unless it is a real number (a Python number or a
    one-element real tensor; no bool, no string), ``ValueError`` unless it is finite."""
    if isinstance(value, Tensor) and value.numel() == 1 and not value.dtype.is_complex and value.dtype != torch.bool:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}: must be finite, got {value}")
    return value


class GraphCONField(nn.Module):
    """Parameters of the GraphCON ODE (eq. (3)); bind it to a graph to get the vector field.

    Args:
        coupling: F_θ, a :class:`~graphcon_ode.couplings.Coupling` or any PyG ``MessagePassing`` layer.
        alpha: damping α ≥ 0.
        gamma: frequency control γ > 0.
        activation: σ, any callable (default ReLU).
        allow_zero_gamma: accept γ = 0 (no restoring force), the setting of the authors' heterophilic runs.
        learn_alpha, learn_gamma: make α (γ) a trained parameter, initialised at ``alpha`` (``gamma``). It is
            stored as an unconstrained raw number ρ and read through a map that keeps it in its domain:
            α = softplus(ρ) > 0 and γ = softplus(ρ) > 0 by default, or lo + (hi − lo)·sigmoid(ρ) ∈ (lo, hi) when
            ``alpha_range`` (``gamma_range``) = (lo, hi) is given, 0 ≤ lo < hi (the bounded ranges of the authors'
            GRAND-based code, e.g. (0, 1)). The initial value must lie strictly inside that domain.
        alpha_range, gamma_range: the (lo, hi) of the sigmoid map, for learnable α (γ) only.

    ``field.alpha`` and ``field.gamma`` are Python floats when fixed and 0-dim tensors (carrying the graph to ρ)
    when learnable; every method and backward mode of :mod:`solvers` reads them as such.

    Example:
        >>> field = GraphCONField(GCN(16), alpha=0.5, gamma=1.0)
        >>> f = field.bind(edge_index)              # f(t, (X, Y)) -> (Y, σ(F(X, t)) − γX − αY)
    """

    def __init__(self, coupling: Coupling | MessagePassing, alpha: float = 1.0, gamma: float = 1.0,
                 activation: Activation | None = None, *, allow_zero_gamma: bool = False, learn_alpha: bool = False,
                 learn_gamma: bool = False, alpha_range: tuple[float, float] | None = None,
                 gamma_range: tuple[float, float] | None = None):
        super().__init__()
        if isinstance(coupling, MessagePassing):
            coupling = from_pyg(coupling)
        if not isinstance(coupling, Coupling):
            raise TypeError(f"coupling: expected a Coupling or a PyG MessagePassing layer, "
                            f"got {type(coupling).__name__}")
        alpha, gamma = real_number("alpha", alpha), real_number("gamma", gamma)
        allow_zero_gamma = boolean("allow_zero_gamma", allow_zero_gamma)
        learn_alpha, learn_gamma = boolean("learn_alpha", learn_alpha), boolean("learn_gamma", learn_gamma)
        if not alpha >= 0:
            raise ValueError(f"alpha: the damping must be >= 0, got {alpha}")
        if not (gamma > 0 or (allow_zero_gamma and gamma == 0)):
            raise ValueError(f"gamma: the frequency control must be > 0 (or 0 with allow_zero_gamma=True), "
                             f"got {gamma}")
        if activation is not None and not callable(activation):
            raise TypeError(f"activation: expected a callable, got {type(activation).__name__}")
        self.coupling = coupling
        self.damping = Coefficient("alpha", alpha, learn_alpha, alpha_range)
        self.frequency = Coefficient("gamma", gamma, learn_gamma, gamma_range)
        self.activation = torch.relu if activation is None else activation

    @property
    def alpha(self) -> float | Tensor:
        """The damping α: a float, or a 0-dim tensor when learnable."""
        return self.damping()

    @property
    def gamma(self) -> float | Tensor:
        """The frequency control γ: a float, or a 0-dim tensor when learnable."""
        return self.frequency()

    def bind(self, edge_index: Tensor, num_nodes: int | None = None, **graph: Any) -> BoundGraphCONField:
        """The vector field on the graph ``edge_index`` (extra tensors such as ``edge_attr`` go to the layers).

        ``edge_index`` is a [2, E] edge list, a ``torch_geometric.EdgeIndex`` or a ``torch.sparse`` adjacency
        ``adj_t`` (rows are targets, as PyG's layers take it); see :mod:`graphcon_ode.graph_inputs`."""
        edge_index, num_nodes, graph = edge_list(edge_index, num_nodes, graph)
        return BoundGraphCONField(self, edge_index, num_nodes, graph)

    def forward(self, t: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        raise ValueError("edge_index: this GraphCONField is not bound to a graph; "
                         "call field.bind(edge_index) and solve the returned field")

    def extra_repr(self) -> str:
        return f"alpha={as_number(self.alpha):g}, gamma={as_number(self.gamma):g}"


class Coefficient(nn.Module):
    """A scalar coefficient of eq. (3), fixed or learnable; calling it returns its current value.

    Fixed: the float itself. Learnable: ``map(ρ)`` of a raw parameter ρ, with map = softplus (values in (0, ∞))
    or, for ``bounds = (lo, hi)``, lo + (hi − lo)·sigmoid (values in (lo, hi)); ρ starts at map⁻¹(``value``).
    """

    def __init__(self, name: str, value: float, learn: bool, bounds: tuple[float, float] | None):
        super().__init__()
        self.name, self.value, self.bounds = name, value, bounds
        if bounds is not None and not learn:
            raise ValueError(f"{name}_range: a range applies to a learnable {name}; pass learn_{name}=True")
        if not learn:
            self.raw = None
            return
        if bounds is None:
            if not value > 0:
                raise ValueError(f"{name}: a learnable {name} = softplus(raw) starts > 0, got {value}")
            raw = value + math.log(-math.expm1(-value))
        else:
            low, high = (float(b) for b in bounds)
            if not 0 <= low < high:
                raise ValueError(f"{name}_range: expected (lo, hi) with 0 <= lo < hi, got {bounds}")
            if not low < value < high:
                raise ValueError(f"{name}: a learnable {name} in {name}_range=({low:g}, {high:g}) must start "
                                 f"strictly inside it, got {value}")
            self.bounds = (low, high)
            raw = math.log((value - low) / (high - value))
        self.raw = nn.Parameter(torch.tensor(raw))

    def forward(self) -> float | Tensor:
        if self.raw is None:
            return self.value
        if self.bounds is None:
            return F.softplus(self.raw)
        low, high = self.bounds
        return low + (high - low) * torch.sigmoid(self.raw)

    def extra_repr(self) -> str:
        if self.raw is None:
            return f"{self.name}={self.value:g}"
        kind = "softplus" if self.bounds is None else f"sigmoid in {self.bounds}"
        return f"{self.name}={as_number(self()):g}, learnable ({kind})"


class BoundGraphCONField(nn.Module):
    """f(t, (X, Y)) = (Y, σ(F_θ(X, t)) − γX − αY) on one graph (eq. (3)); X and Y are [num_nodes, channels].

    Implements the split protocol of :mod:`solvers.system` (``force``, ``alpha``, ``gamma``, ``acceleration``), so
    methods that treat the damping separately (``imex_implicit``, ``verlet``) can solve it.
    """

    def __init__(self, field: GraphCONField, edge_index: Tensor, num_nodes: int | None, graph: dict[str, Any]):
        super().__init__()
        check_edge_index(edge_index, num_nodes)
        self.field = field
        self.edge_index = edge_index
        self.num_nodes = num_nodes
        self.graph = graph
        self._max_index = int(edge_index.max()) if edge_index.numel() else -1
        self._prepared: dict[tuple, dict[str, Any]] = {}

    @property
    def alpha(self) -> float | Tensor:
        return self.field.alpha

    @property
    def gamma(self) -> float | Tensor:
        return self.field.gamma

    def check_state(self, x: Tensor, name: str = "y0") -> None:
        """Raise ``ValueError`` when the node features ``x`` do not fit the bound graph."""
        if x.dim() != 2:
            raise ValueError(f"{name}: node features must have shape [num_nodes, channels], got {list(x.shape)}")
        rows = x.shape[0]
        if self.num_nodes is not None and rows != self.num_nodes:
            raise ValueError(f"{name}: the field is bound to num_nodes={self.num_nodes}, got {rows} rows")
        if self._max_index >= rows:
            raise ValueError(f"edge_index: node index {self._max_index} is out of range for {rows} nodes in {name}")
        channels = getattr(self.field.coupling.layers[0], "in_channels", None)
        if isinstance(channels, int) and channels > 0 and x.shape[1] != channels:
            raise ValueError(f"{name}: the coupling works on {channels} channels, got node features with "
                             f"{x.shape[1]}")
        weight = next((w for w in self.field.parameters() if w.is_floating_point()), None)
        if weight is not None and weight.dtype != x.dtype:
            raise ValueError(f"{name}: the state is {x.dtype} but the field's parameters are {weight.dtype}; "
                             f"convert one of them (e.g. field.to({x.dtype}))")

    def _graph_args(self, x: Tensor) -> dict[str, Any]:
        key = (x.shape[0], x.dtype, x.device)
        args = self._prepared.get(key)
        if args is None:
            edge_index = self.edge_index.to(x.device)
            prepared = self.field.coupling.prepare(edge_index, x.shape[0], **self.graph)
            args = {name: _cast(value, x) for name, value in prepared.items()}
            self._prepared[key] = args
        return args

    def force(self, t: Tensor, x: Tensor) -> Tensor:
        """g(t, X) = σ(F_θ(X, t)), the driving force of eq. (3)."""
        return self.field.activation(self.field.coupling(x, self._graph_args(x), t))

    def acceleration(self, t: Tensor, x: Tensor, y: Tensor) -> Tensor:
        """Y' = σ(F_θ(X, t)) − γX − αY."""
        accel = scaled_sub(self.force(t, x), x, self.gamma)
        alpha = self.alpha
        if isinstance(alpha, Tensor) or alpha:
            accel = scaled_sub(accel, y, alpha)
        return accel

    def forward(self, t: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        x, y = state
        return y, self.acceleration(t, x, y)

    def extra_repr(self) -> str:
        return f"num_edges={self.edge_index.shape[1]}"


def _cast(value: Any, like: Tensor) -> Any:
    """Real tensors and operators in the working dtype and device of ``like``; index tensors on its device."""
    if isinstance(value, SparseOperator) or isinstance(value, Tensor) and value.is_floating_point():
        return value.to(device=like.device, dtype=like.dtype)
    if isinstance(value, Tensor):
        return value.to(like.device)
    return value
