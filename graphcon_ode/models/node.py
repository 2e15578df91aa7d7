"""Models in the paper's setting: encoder → GraphCON ODE block (eq. (4), N steps) → decoder, and baselines.

The default integration time T = N·Δt with step Δt reproduces an N-layer GraphCON exactly: one step of the
``imex`` method is one layer of eq. (4).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv
from torch_geometric.utils import dropout_edge

from solvers import BACKWARD_MODES, METHODS, SolveStats, get_backward_mode

from graphcon_ode.validation import check_sizes
from graphcon_ode.couplings.base import COUPLINGS, Coupling
from graphcon_ode.field import Activation, BoundGraphCONField, GraphCONField
from graphcon_ode.graph_inputs import graph_key
from graphcon_ode.odeint import is_fixed_step, known_methods, odeint
from graphcon_ode.source_term import SourcedGraphCONField


def dropout_features(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout on node features, dense or sparse COO (for sparse ones only the stored entries are drawn).

    Zeroing a zero changes nothing, so dropping the stored entries of a sparse tensor has the distribution of
    dense dropout, at the cost of the stored entries only (bag-of-words features are ~1 % dense).
    """
    if not x.is_sparse:
        return F.dropout(x, p, training)
    if not (training and p):
        return x
    x = x.coalesce()
    return torch.sparse_coo_tensor(x.indices(), F.dropout(x.values(), p, training), x.shape, is_coalesced=True,
                                   check_invariants=False)


def make_coupling(kind: str | Coupling, channels: int, *, heads: int = 1, num_steps: int | None = None,
                  step_size: float | None = None, options: dict[str, Any] | None = None) -> Coupling:
    """A coupling by its name in :data:`~graphcon_ode.couplings.COUPLINGS` ("gcn", "gat", "transformer", …) or the
    given :class:`Coupling` itself.

    ``options`` are further keyword arguments of the coupling class, e.g. ``{"residual": 1}`` for "gcn" or
    ``{"attention": "cosine_sim"}`` for "transformer"; ``heads`` goes to the couplings that take it.
    """
    if isinstance(kind, Coupling):
        return kind
    if kind not in COUPLINGS:
        raise ValueError(f"coupling: unknown coupling {kind!r}; known: {sorted(COUPLINGS)}")
    cls = COUPLINGS[kind]
    options = dict(options or {})
    if "heads" in inspect.signature(cls).parameters:
        options["heads"] = heads
    return cls(channels, num_steps=num_steps, step_size=step_size, **options)


INITIAL_VELOCITIES = ("position", "independent_dropout", "zero")


class GraphCONNodeModel(nn.Module):
    """Node-level GraphCON: X0 = Y0 = act(W_enc x), N steps of eq. (4), logits = W_dec X^N.

    The authors' published node-level models are this class with ``encoder_activation=relu``, ``input_dropout``,
    ``dropout`` and ``step_dropout`` all set to their dropout rate, and a residual coupling
    (``coupling_options={"residual": 1 or 2}`` for GCN, ``{"residual": True}`` for GAT).

    Args:
        in_channels, hidden_channels, out_channels: feature, hidden and class dimensions.
        coupling: "gcn", "gat", "transformer" or a :class:`Coupling` on ``hidden_channels``.
        coupling_options: further keyword arguments of the named coupling (see :func:`make_coupling`).
        num_layers: N, the number of steps (layers).
        step_size: Δt; the ODE is solved on [0, NΔt].
        alpha, gamma: damping and frequency control (γ = 0 is accepted here, as in the authors' runs).
        activation: σ inside the force (default ReLU).
        heads: attention heads of the "gat" and "transformer" couplings.
        per_step_weights: one weight set W^n per layer instead of one shared over time.
        dropout: dropout on the encoder output.
        input_dropout: dropout on the raw features.
        step_dropout: dropout on X and Y after every step (the authors' models); needs a backward mode that applies
            a map between steps (backprop or checkpoint, by name or as an object).
        encoder_activation: nonlinearity after the encoder (ReLU as in the authors' models; None for linear).
        uniform_init: draw every weight matrix (encoder, coupling, decoder; biases kept) from U(−1/√m, 1/√m),
            m = ``hidden_channels``, as the authors' heterophilic GraphCON-GCN does, instead of the layers' own
            initialisation.
        initial_velocity: Y⁰ from the encoded features H (before the encoder-output dropout): "position" for
            Y⁰ = X⁰ (one dropout mask), "independent_dropout" for Y⁰ = dropout(H) with a mask of its own (the
            authors' heterophilic script), "zero" for Y⁰ = 0.
        source: None, or the initial value of a trained κ that adds the source κ X̄⁰ (X⁰ detached) to the force
            (:mod:`graphcon_ode.source_term`; the authors' GRAND-based ``add_source``).
        method, adjoint, options, rtol, atol: passed to :func:`graphcon_ode.odeint`. A fixed-step method steps
            by ``step_size`` (``options`` may override it); an adaptive one ("dopri5", …) picks its own steps to
            the tolerances ``rtol``, ``atol``.

    Attributes:
        last_stats: the :class:`solvers.SolveStats` of the latest solve (its ``nfe_backward`` fills in when
            that solve's backward pass runs).
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        coupling: str | Coupling = "gcn",
        num_layers: int = 10,
        step_size: float = 1.0,
        alpha: float = 1.0,
        gamma: float = 1.0,
        activation: Activation | None = None,
        heads: int = 1,
        per_step_weights: bool = False,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        step_dropout: float = 0.0,
        encoder_activation: Activation | None = torch.relu,
        method: str = "imex",
        adjoint: bool | str = False,
        options: dict | None = None,
        coupling_options: dict[str, Any] | None = None,
        uniform_init: bool = False,
        rtol: float = 1e-7,
        atol: float = 1e-9,
        initial_velocity: str = "position",
        source: float | None = None,
    ):
        super().__init__()
        if initial_velocity not in INITIAL_VELOCITIES:
            raise ValueError(f"initial_velocity: expected one of {INITIAL_VELOCITIES}, got {initial_velocity!r}")
        check_sizes(in_channels=in_channels, hidden_channels=hidden_channels, out_channels=out_channels,
                    num_layers=num_layers, heads=heads)
        if not step_size > 0:
            raise ValueError(f"step_size: must be > 0, got {step_size}")
        if method not in known_methods():
            raise ValueError(f"method: unknown method {method!r}; known methods: {', '.join(known_methods())}")
        if step_dropout and not get_backward_mode(adjoint).supports_after_step:
            supporting = sorted(name for name, mode in BACKWARD_MODES.items() if mode.supports_after_step)
            raise ValueError(f"step_dropout: dropout after every step needs a backward mode that applies a map "
                             f"between steps ({', '.join(supporting)}), got adjoint={adjoint!r}")
        if step_dropout and method not in METHODS:
            raise ValueError(f"step_dropout: dropout after every step needs a partitioned method "
                             f"({', '.join(sorted(METHODS))}), got method={method!r}")
        self.encoder = nn.Linear(in_channels, hidden_channels)
        self.field = GraphCONField(
            make_coupling(coupling, hidden_channels, heads=heads,
                          num_steps=num_layers if per_step_weights else None, step_size=step_size,
                          options=coupling_options),
            alpha=alpha, gamma=gamma, activation=activation, allow_zero_gamma=True,
        )
        if source is not None:
            self.field = SourcedGraphCONField(self.field.coupling, alpha, gamma, activation, allow_zero_gamma=True,
                                              source_weight=source)
        self.initial_velocity = initial_velocity
        self.decoder = nn.Linear(hidden_channels, out_channels)
        self.num_layers = num_layers
        self.step_size = step_size
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.step_dropout = step_dropout
        self.encoder_activation = encoder_activation
        self.method = method
        self.adjoint = adjoint
        self.options = {"step_size": step_size, **(options or {})} if is_fixed_step(method) else dict(options or {})
        self.rtol = rtol
        self.atol = atol
        self.last_stats: SolveStats | None = None
        self._bound: tuple[tuple, BoundGraphCONField, Tensor] | None = None
        if uniform_init:
            bound = hidden_channels ** -0.5
            for name, parameter in self.named_parameters():
                if name.endswith("weight") and parameter.dim() == 2:
                    nn.init.uniform_(parameter, -bound, bound)

    @property
    def end_time(self) -> float:
        """T = NΔt, the end of the solve."""
        return self.num_layers * self.step_size

    def features(self, x: Tensor) -> Tensor:
        """H: the encoded features, with the input dropout (before the encoder-output dropout)."""
        x = dropout_features(x, self.input_dropout, self.training)
        x = self.encoder(x)
        if self.encoder_activation is not None:
            x = self.encoder_activation(x)
        return x

    def encode(self, x: Tensor) -> Tensor:
        """X0: the encoded features, with the input and encoder-output dropouts."""
        return F.dropout(self.features(x), self.dropout, self.training)

    def initial_state(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(X0, Y0) as ``initial_velocity`` says."""
        if self.initial_velocity == "position":
            x0 = self.encode(x)
            return x0, x0
        h = self.features(x)
        x0 = F.dropout(h, self.dropout, self.training)
        if self.initial_velocity == "zero":
            return x0, torch.zeros_like(x0)
        return x0, F.dropout(h, self.dropout, self.training)

    def solve(self, x0: Tensor, edge_index: Tensor, y0: Tensor | None = None,
              **graph: Tensor) -> tuple[Tensor, Tensor]:
        """(X(T), Y(T)) from X0 = ``x0``, Y0 = ``y0`` (default ``x0``) by the model's method; the solve's counts
        go to ``last_stats``. ``graph``: further graph tensors for the coupling (``edge_attr``)."""
        t = torch.tensor([0.0, self.end_time], dtype=x0.dtype, device=x0.device)
        after_step = self._drop_state if self.step_dropout and self.training else None
        (xs, ys), self.last_stats = odeint(
            self.bound_field(edge_index, x0, **graph), (x0, x0 if y0 is None else y0), t, method=self.method,
            options=self.options,
            rtol=self.rtol, atol=self.atol, adjoint=self.adjoint, after_step=after_step, return_stats=True)
        return xs[-1], ys[-1]

    def bound_field(self, edge_index: Tensor, x0: Tensor, **graph: Tensor) -> BoundGraphCONField:
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

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles leave the bound field behind (its sparse operators cannot be deep-copied)."""
        return {**self.__dict__, "_bound": None}

    def hidden(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """X^N, the node features after the ODE block (before the decoder)."""
        x0, y0 = self.initial_state(x)
        return self.solve(x0, edge_index, y0)[0]

    def _drop_state(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return F.dropout(x, self.step_dropout, True), F.dropout(y, self.step_dropout, True)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.decoder(self.hidden(x, edge_index))


class GCNNodeModel(nn.Module):
    """The baseline: a stack of ``num_layers`` GCN layers (eq. (5)) with ReLU and dropout between them.

    ``drop_edge`` > 0 is DropEdge (Rong et al., 2020): in training, every forward pass removes that fraction of
    the undirected edges at random (both directions together) and all layers use the thinned graph.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, *, num_layers: int = 2,
                 dropout: float = 0.5, drop_edge: float = 0.0):
        super().__init__()
        check_sizes(in_channels=in_channels, hidden_channels=hidden_channels, out_channels=out_channels,
                    num_layers=num_layers)
        if not 0 <= drop_edge < 1:
            raise ValueError(f"drop_edge: must be in [0, 1), got {drop_edge}")
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = dropout
        self.drop_edge = drop_edge

    def _graph(self, edge_index: Tensor) -> Tensor:
        if self.drop_edge and self.training:
            edge_index, _ = dropout_edge(edge_index, self.drop_edge, force_undirected=True)
        return edge_index

    def _hidden(self, x: Tensor, edge_index: Tensor) -> Tensor:
        for conv in self.convs[:-1]:
            x = torch.relu(conv(dropout_features(x, self.dropout, self.training), edge_index))
        return x

    def hidden(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """The input of the last layer (the features the classifier reads)."""
        return self._hidden(x, self._graph(edge_index))

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        edge_index = self._graph(edge_index)
        x = dropout_features(self._hidden(x, edge_index), self.dropout, self.training)
        return self.convs[-1](x, edge_index)


class GATNodeModel(nn.Module):
    """The GAT baseline of Veličković et al. (2018): ``num_layers`` GAT layers, the hidden ones with ``heads``
    concatenated heads and ELU, the output layer with ``output_heads`` averaged heads; dropout on every layer's
    input and on the attention coefficients.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, *, num_layers: int = 2,
                 heads: int = 8, output_heads: int = 1, dropout: float = 0.6):
        super().__init__()
        check_sizes(in_channels=in_channels, hidden_channels=hidden_channels, out_channels=out_channels,
                    num_layers=num_layers, heads=heads, output_heads=output_heads)
        sizes = [in_channels] + [hidden_channels * heads] * (num_layers - 1)
        self.convs = nn.ModuleList(GATConv(size, hidden_channels, heads=heads, dropout=dropout)
                                   for size in sizes[:-1])
        self.convs.append(GATConv(sizes[-1], out_channels, heads=output_heads, concat=False, dropout=dropout))
        self.dropout = dropout

    def hidden(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """The input of the last layer (the features the classifier reads)."""
        for conv in self.convs[:-1]:
            x = F.elu(conv(dropout_features(x, self.dropout, self.training), edge_index))
        return x

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        x = dropout_features(self.hidden(x, edge_index), self.dropout, self.training)
        return self.convs[-1](x, edge_index)

