"""Node-level models in the paper's setting: encoder → GraphCON block (eq. (4), N steps) → decoder, and baselines.

The default integration time T = N·Δt with step Δt reproduces an N-layer GraphCON exactly: one step of the
``imex`` method is one layer of eq. (4).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv
from torch_geometric.utils import dropout_edge

from graphcon_ode.couplings import Coupling, make_coupling
from graphcon_ode.field import Activation, BoundGraphCONField, GraphCONField
from graphcon_ode.graph_inputs import check_device, check_features
from graphcon_ode.models.block import BlockAttributes, GraphCONBlock, check_block
from graphcon_ode.odeint import BackwardSpec, backward_argument
from graphcon_ode.source_term import SourcedGraphCONField
from graphcon_ode.validation import check_dropout, check_sizes


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


INITIAL_VELOCITIES = ("position", "independent_dropout", "zero")


class GraphCONNodeModel(BlockAttributes, nn.Module):
    """Node-level GraphCON: X0 = Y0 = act(W_enc x), N steps of eq. (4), logits = W_dec X^N.

    Composed of an encoder, the :class:`~graphcon_ode.models.block.GraphCONBlock` (which holds the solve's
    settings: N, Δt, method, backward mode, options, tolerances, step dropout) and a decoder.

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
        method, backward, options, rtol, atol: passed to :func:`graphcon_ode.odeint`. A fixed-step method steps
            by ``step_size`` (``options`` may override it); an adaptive one ("dopri5", …) picks its own steps to
            the tolerances ``rtol``, ``atol``. ``backward`` is a name or a :class:`solvers.BackwardMode`.
        adjoint: the former name of ``backward`` (a ``DeprecationWarning``).

    Attributes:
        block: the :class:`GraphCONBlock`; ``num_layers``, ``step_size``, ``method``, ``backward``, ``options``,
            ``rtol``, ``atol``, ``step_dropout`` and ``last_stats`` are read from it.
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
        backward: BackwardSpec | None = None,
        options: dict | None = None,
        coupling_options: dict[str, Any] | None = None,
        uniform_init: bool = False,
        rtol: float = 1e-7,
        atol: float = 1e-9,
        initial_velocity: str = "position",
        source: float | None = None,
        adjoint: BackwardSpec | None = None,
    ):
        super().__init__()
        backward = backward_argument(backward, adjoint)
        if initial_velocity not in INITIAL_VELOCITIES:
            raise ValueError(f"initial_velocity: expected one of {INITIAL_VELOCITIES}, got {initial_velocity!r}")
        check_sizes(in_channels=in_channels, hidden_channels=hidden_channels, out_channels=out_channels,
                    num_layers=num_layers, heads=heads)
        check_dropout(dropout=dropout, input_dropout=input_dropout)
        check_block(step_size=step_size, method=method, backward=backward, step_dropout=step_dropout)
        self.encoder = nn.Linear(in_channels, hidden_channels)
        self.field = make_field(coupling, hidden_channels, num_layers=num_layers, step_size=step_size, alpha=alpha,
                                gamma=gamma, activation=activation, heads=heads,
                                per_step_weights=per_step_weights, coupling_options=coupling_options,
                                source=source)
        self.initial_velocity = initial_velocity
        self.decoder = nn.Linear(hidden_channels, out_channels)
        self.block = GraphCONBlock(self.field, num_layers=num_layers, step_size=step_size, method=method,
                                   backward=backward, options=options, rtol=rtol, atol=atol,
                                   step_dropout=step_dropout)
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.encoder_activation = encoder_activation
        if uniform_init:
            bound = hidden_channels ** -0.5
            for name, parameter in self.named_parameters():
                if name.endswith("weight") and parameter.dim() == 2:
                    nn.init.uniform_(parameter, -bound, bound)

    def features(self, x: Tensor) -> Tensor:
        """H: the encoded features, with the input dropout (before the encoder-output dropout)."""
        check_features(x, self.encoder.in_features, self.encoder.weight)
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
        """(X(T), Y(T)) from X0 = ``x0``, Y0 = ``y0`` (default ``x0``): :meth:`GraphCONBlock.solve`."""
        return self.block.solve(x0, edge_index, y0, **graph)

    def bound_field(self, edge_index: Tensor, x0: Tensor, **graph: Tensor) -> BoundGraphCONField:
        """The field bound to ``edge_index`` (cached while the graph is unchanged): :meth:`GraphCONBlock.bind`."""
        return self.block.bind(edge_index, x0, **graph)

    def hidden(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """X^N, the node features after the ODE block (before the decoder)."""
        check_device("edge_index", edge_index, self.encoder.weight)
        x0, y0 = self.initial_state(x)
        return self.solve(x0, edge_index, y0)[0]

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.decoder(self.hidden(x, edge_index))


def make_field(coupling: str | Coupling, channels: int, *, num_layers: int, step_size: float, alpha: float,
               gamma: float, activation: Activation | None, heads: int = 1, per_step_weights: bool = False,
               coupling_options: dict[str, Any] | None = None, source: float | None = None) -> GraphCONField:
    """The field of eq. (3), σ(F_θ(X, t)) − γX − αY, around the coupling F_θ (γ = 0 accepted); with ``source``, the
    :class:`SourcedGraphCONField` whose force adds κ X̄⁰, κ starting at ``source``.

    The coupling's per-step schedule takes Δt = ``step_size``, the block's step; a given :class:`Coupling` with
    per-step weights on another Δt is an error (its weights would switch at the wrong times).
    """
    made = make_coupling(coupling, channels, heads=heads, num_steps=num_layers if per_step_weights else None,
                         step_size=step_size, options=coupling_options)
    if made.per_step and made.step_size != step_size:
        raise ValueError(f"step_size: the coupling's per-step weights switch every {made.step_size}, the model "
                         f"steps by {step_size}; build the coupling with step_size={step_size}")
    field = GraphCONField(made, alpha=alpha, gamma=gamma, activation=activation, allow_zero_gamma=True)
    if source is None:
        return field
    return SourcedGraphCONField(field.coupling, alpha, gamma, activation, allow_zero_gamma=True,
                                source_weight=source)


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
        check_dropout(dropout=dropout)
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
        check_features(x, self.convs[0].in_channels, self.convs[0].lin.weight, edge_index)
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
        check_dropout(dropout=dropout)
        sizes = [in_channels] + [hidden_channels * heads] * (num_layers - 1)
        self.convs = nn.ModuleList(GATConv(size, hidden_channels, heads=heads, dropout=dropout)
                                   for size in sizes[:-1])
        self.convs.append(GATConv(sizes[-1], out_channels, heads=output_heads, concat=False, dropout=dropout))
        self.dropout = dropout

    def hidden(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """The input of the last layer (the features the classifier reads)."""
        check_features(x, self.convs[0].in_channels, next(self.parameters()), edge_index)
        for conv in self.convs[:-1]:
            x = F.elu(conv(dropout_features(x, self.dropout, self.training), edge_index))
        return x

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        x = dropout_features(self.hidden(x, edge_index), self.dropout, self.training)
        return self.convs[-1](x, edge_index)

