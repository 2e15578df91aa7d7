"""Graph-level models: one prediction per graph of a mini-batch (ZINC, MNIST superpixels; Tables 4–7).

    h_i = act(W_enc x_i)  or  act(E[x_i])            encoder (float features, or integer atom types)
    X^N = N steps of eq. (4) from X0 = Y0 = h         GraphCON block on the batch's graph
    z_G = Σ_{i ∈ G} X^N_i  (or the mean)             global pooling (PyG's global_add_pool / global_mean_pool)
    ŷ_G = MLP(z_G)                                    readout

A mini-batch from PyG's ``DataLoader`` is one disconnected graph (``batch`` maps nodes to graphs), so the field is
bound to the batch's ``edge_index`` and no message crosses from one graph to another: with a fixed-step method a
graph's output is the same alone and inside any batch, for every backward mode. An adaptive method ("dopri5", …)
picks its steps for the whole batch, so there a graph's output depends on its batch within the tolerances.

The head is ``out_channels`` plus the loss the caller picks: regression (``out_channels=1``, L1 loss for ZINC's
MAE), classification (``out_channels`` = number of classes, cross-entropy) or multi-label (``out_channels`` =
number of labels, ``BCEWithLogitsLoss``).

Inductive node-level multi-label tasks such as PPI need no graph-level model: :class:`GraphCONNodeModel` applied
to each graph (or to a ``DataLoader`` batch of graphs, ``model(batch.x, batch.edge_index)``) gives one row of
``out_channels`` = 121 logits per node; train with ``BCEWithLogitsLoss`` on the training graphs and score the
micro-averaged F1 of ``logits > 0`` on the test graphs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MLP, GATConv, GCNConv, global_add_pool, global_mean_pool

from graphcon_ode.couplings.base import Coupling
from graphcon_ode.field import Activation
from graphcon_ode.graph_inputs import check_atom_types, check_batch, check_device, check_features
from graphcon_ode.models.block import BlockAttributes, GraphCONBlock, check_block
from graphcon_ode.models.node import dropout_features, make_field
from graphcon_ode.odeint import BackwardSpec, backward_argument
from graphcon_ode.validation import check_dropout, check_sizes

POOLS: dict[str, Callable[[Tensor, Tensor | None, int | None], Tensor]] = {
    "add": global_add_pool, "mean": global_mean_pool}
"""Global pooling by name: ``pool(h, batch, num_graphs)``, one row per graph (PyG's global pooling)."""


class TypeEmbedding(nn.Embedding):
    """A learned vector per integer type (atom type): accepts types of shape [N] or [N, 1]."""

    def forward(self, types: Tensor) -> Tensor:
        return super().forward(types.reshape(-1))


def make_encoder(in_channels: int, hidden_channels: int, atom_vocabulary: int | None) -> nn.Module:
    """Linear(in_channels, hidden) for float features, or a :class:`TypeEmbedding` of ``atom_vocabulary`` types
    (then the features are one integer column, ``in_channels == 1``)."""
    if atom_vocabulary is None:
        return nn.Linear(in_channels, hidden_channels)
    if atom_vocabulary < 1:
        raise ValueError(f"atom_vocabulary: must be >= 1, got {atom_vocabulary}")
    if in_channels != 1:
        raise ValueError(f"in_channels: integer atom types are one column (in_channels=1), got {in_channels}")
    return TypeEmbedding(atom_vocabulary, hidden_channels)


def encode_graph_features(encoder: nn.Module, x: Tensor, *, input_dropout: float, activation: Activation | None,
                          dropout: float, training: bool) -> Tensor:
    """act(encoder(x)) with dropout on its output and, for float features, on the raw features."""
    if isinstance(encoder, TypeEmbedding):
        check_atom_types(x, encoder.num_embeddings, encoder.weight)
    else:
        check_features(x, encoder.in_features, encoder.weight)
        x = dropout_features(x, input_dropout, training)
    x = encoder(x)
    if activation is not None:
        x = activation(x)
    return F.dropout(x, dropout, training)


class PoolReadout(nn.Module):
    """ŷ_G = MLP(pool_{i ∈ G} h_i): PyG's global pooling then an MLP of ``readout_layers`` linear layers
    (hidden width ``channels``, ReLU between them).

    Every graph of the batch gets its row, also one without nodes when ``num_graphs`` is given: pooling over no
    nodes gives the zero vector for "add" (an empty sum) and for "mean" (PyG's mean of no nodes), so such a
    graph's output is MLP(0).
    """

    def __init__(self, channels: int, out_channels: int, pool: str = "add", readout_layers: int = 2):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool: unknown pooling {pool!r}; known: {sorted(POOLS)}")
        if readout_layers < 1:
            raise ValueError(f"readout_layers: must be >= 1, got {readout_layers}")
        self.pool = pool
        self.mlp = MLP([channels] * readout_layers + [out_channels], norm=None)

    def forward(self, h: Tensor, batch: Tensor | None, num_graphs: int | None = None) -> Tensor:
        """One row per graph: ``num_graphs`` rows (default: ``batch.max() + 1``, or 1 without ``batch``)."""
        if batch is not None:
            check_device("batch", batch, h)
            check_batch(batch, h.shape[0], num_graphs)
        return self.mlp(POOLS[self.pool](h, batch, num_graphs))

    def extra_repr(self) -> str:
        return f"pool={self.pool!r}"


class GraphCONGraphModel(BlockAttributes, nn.Module):
    """Graph-level GraphCON: encoder → N steps of eq. (4) on the batch's graph → global pooling → MLP readout.

    Composed of a graph encoder (:func:`make_encoder`), the same :class:`~graphcon_ode.models.block.GraphCONBlock`
    as :class:`GraphCONNodeModel` (methods, backward modes, per-step weights, step dropout) and a
    :class:`PoolReadout`.

    Args:
        in_channels: node feature size (1 with ``atom_vocabulary``).
        hidden_channels: m, the width of the ODE block and of the readout.
        out_channels: outputs per graph (1 for regression, classes, or labels; see the module docstring).
        coupling: "gcn", "gat", "transformer", "gin", "gatedgcn", "sage" or a :class:`Coupling`.
        coupling_options: further keyword arguments of the named coupling.
        pool: "add" (sum over a graph's nodes, ZINC in the paper) or "mean".
        readout_layers: linear layers of the readout MLP.
        atom_vocabulary: embed integer node types (ZINC's 28 atom types) instead of a Linear encoder.
        edge_dim: give the coupling edge features of this size (needs ``coupling="gatedgcn"``, or a
            :class:`Coupling` that takes ``edge_attr``); the model then binds ``edge_attr`` of :meth:`forward` with
            the graph (otherwise it is ignored, as in the paper's ZINC runs, which use no edge features).
        edge_vocabulary: the number of integer edge types (bond types), embedded into R^edge_dim by the coupling.
        num_layers, step_size, alpha, gamma, activation, heads, per_step_weights, dropout, input_dropout,
        step_dropout, encoder_activation, method, backward, options, rtol, atol, adjoint: as in
        :class:`GraphCONNodeModel`.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        coupling: str | Coupling = "gcn",
        coupling_options: dict[str, Any] | None = None,
        num_layers: int = 22,
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
        pool: str = "add",
        readout_layers: int = 2,
        atom_vocabulary: int | None = None,
        edge_dim: int | None = None,
        edge_vocabulary: int | None = None,
        method: str = "imex",
        backward: BackwardSpec | None = None,
        options: dict | None = None,
        rtol: float = 1e-7,
        atol: float = 1e-9,
        adjoint: BackwardSpec | None = None,
    ):
        super().__init__()
        backward = backward_argument(backward, adjoint)
        if edge_vocabulary is not None and edge_dim is None:
            raise ValueError("edge_vocabulary: embedding integer edge types needs edge_dim, the embedding size")
        if edge_dim is not None and isinstance(coupling, str):
            if coupling != "gatedgcn":
                raise ValueError(f"edge_dim: edge features need coupling='gatedgcn', got coupling={coupling!r}")
            coupling_options = {"edge_dim": edge_dim, "edge_vocabulary": edge_vocabulary, **(coupling_options or {})}
        check_sizes(in_channels=in_channels, hidden_channels=hidden_channels, out_channels=out_channels,
                    num_layers=num_layers, heads=heads)
        check_dropout(dropout=dropout, input_dropout=input_dropout)
        check_block(step_size=step_size, method=method, backward=backward, step_dropout=step_dropout)
        # Earlier versions initialised a linear encoder before and a decoder after the field and then discarded
        # both; their random draws are made here too, so that a seed still gives the recorded runs' weights.
        nn.Linear(in_channels, hidden_channels)
        field = make_field(coupling, hidden_channels, num_layers=num_layers, step_size=step_size, alpha=alpha,
                           gamma=gamma, activation=activation, heads=heads, per_step_weights=per_step_weights,
                           coupling_options=coupling_options)
        nn.Linear(hidden_channels, out_channels)
        self.encoder = make_encoder(in_channels, hidden_channels, atom_vocabulary)
        self.field = field
        self.readout = PoolReadout(hidden_channels, out_channels, pool, readout_layers)
        self.block = GraphCONBlock(field, num_layers=num_layers, step_size=step_size, method=method,
                                   backward=backward, options=options, rtol=rtol, atol=atol,
                                   step_dropout=step_dropout)
        self.edge_dim = edge_dim
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.encoder_activation = encoder_activation

    def encode(self, x: Tensor) -> Tensor:
        """X0 (= Y0): the encoded node features (embedded atom types or a Linear), with the dropouts."""
        return encode_graph_features(self.encoder, x, input_dropout=self.input_dropout,
                                     activation=self.encoder_activation, dropout=self.dropout, training=self.training)

    def solve(self, x0: Tensor, edge_index: Tensor, y0: Tensor | None = None,
              **graph: Tensor) -> tuple[Tensor, Tensor]:
        """(X(T), Y(T)) from X0 = ``x0``, Y0 = ``y0`` (default ``x0``): :meth:`GraphCONBlock.solve`."""
        return self.block.solve(x0, edge_index, y0, **graph)

    def node_states(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(X^N, Y^N), every node's state after the ODE block."""
        graph = {} if self.edge_dim is None else {"edge_attr": edge_attr}
        return self.solve(self.encode(x), edge_index, **graph)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor | None = None,
                edge_attr: Tensor | None = None, num_graphs: int | None = None) -> Tensor:
        """One row of ``out_channels`` per graph; ``batch`` maps nodes to graphs (None: one graph), ``num_graphs``
        is the number of graphs (default: ``batch.max() + 1``; give it when the last graphs may have no nodes)."""
        return self.readout(self.node_states(x, edge_index, edge_attr)[0], batch, num_graphs)


GNN_LAYERS = ("gcn", "gat")


class GNNGraphModel(nn.Module):
    """The baseline of the depth studies (Tables 6, 7): the same encoder, pooling and readout as
    :class:`GraphCONGraphModel` around a plain stack of ``num_layers`` PyG layers instead of the ODE block:

        "gcn":  H^{n+1} = ReLU(D̂^{−1/2} Â D̂^{−1/2} H^n W^n)        (GCNConv, eq. (5))
        "gat":  H^{n+1} = ELU(A^n(H^n) H^n W^n), heads averaged     (GATConv, concat=False)

    with dropout ``dropout`` on every layer's input.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, *, conv: str = "gcn",
                 num_layers: int = 22, heads: int = 1, dropout: float = 0.0, input_dropout: float = 0.0,
                 encoder_activation: Activation | None = torch.relu, pool: str = "add", readout_layers: int = 2,
                 atom_vocabulary: int | None = None):
        super().__init__()
        if conv not in GNN_LAYERS:
            raise ValueError(f"conv: unknown layer {conv!r}; known: {list(GNN_LAYERS)}")
        if num_layers < 1:
            raise ValueError(f"num_layers: must be >= 1, got {num_layers}")
        check_dropout(dropout=dropout, input_dropout=input_dropout)
        self.encoder = make_encoder(in_channels, hidden_channels, atom_vocabulary)
        if conv == "gcn":
            self.convs = nn.ModuleList(GCNConv(hidden_channels, hidden_channels) for _ in range(num_layers))
        else:
            self.convs = nn.ModuleList(GATConv(hidden_channels, hidden_channels, heads=heads, concat=False)
                                       for _ in range(num_layers))
        self.activation = torch.relu if conv == "gcn" else F.elu
        self.readout = PoolReadout(hidden_channels, out_channels, pool, readout_layers)
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.encoder_activation = encoder_activation

    def node_states(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """H^N, every node's features after the layer stack."""
        h = encode_graph_features(self.encoder, x, input_dropout=self.input_dropout,
                                  activation=self.encoder_activation, dropout=0.0, training=self.training)
        for conv in self.convs:
            h = self.activation(conv(F.dropout(h, self.dropout, self.training), edge_index))
        return h

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor | None = None,
                edge_attr: Tensor | None = None, num_graphs: int | None = None) -> Tensor:
        """One row of ``out_channels`` per graph (``num_graphs`` rows when given); ``edge_attr`` is accepted for a
        common signature and unused."""
        return self.readout(self.node_states(x, edge_index), batch, num_graphs)
