"""The residual gated GCN coupling of Bresson & Laurent (2017), PyG's ``ResGatedGraphConv`` inside GraphCON's
force σ(F_θ(X, t)) of eq. (3), with optional edge features.

A layer of the graph-level benchmarks; it adds no self-loops, the skip term W_s X_i is its own. Edge features
reach the coupling through the bound field: ``field.bind(edge_index, edge_attr=e)``.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torch_geometric.nn import ResGatedGraphConv

from graphcon_ode.couplings.base import Coupling, GraphArgs, _replicate


class GatedGCN(Coupling):
    """Residual gated graph convolution of Bresson & Laurent (2017), PyG's ``ResGatedGraphConv``:

        F(X)_i = W_s X_i + Σ_{j ∈ N(i)} η_ij ⊙ v_ij + b,    η_ij = sigmoid(k_ij + q_ij),

    with, without edge features, k_ij = W_k X_i + b_k, q_ij = W_q X_j + b_q, v_ij = W_v X_j + b_v, and with
    edge features e_ij ∈ R^d each concatenated to the node features first: k_ij = W_k [X_i ‖ e_ij] + b_k,
    q_ij = W_q [X_j ‖ e_ij] + b_q, v_ij = W_v [X_j ‖ e_ij] + b_v.

    Edge features are bound with the graph, ``field.bind(edge_index, edge_attr=e)``: float features of shape
    [E, d] with ``edge_dim=d``, or integer edge types (bond types) of shape [E] with ``edge_vocabulary`` as well,
    embedded into R^d by a learned table shared by all steps (e_ij = T[type_ij]).

    Args:
        channels: m, the number of node features (input and output).
        num_steps: None for weights shared over time, else one layer per step.
        step_size: Δt of the per-step schedule.
        edge_dim: d, the size of the edge features (None: no edge features).
        edge_vocabulary: the number of integer edge types, embedded into R^d (needs ``edge_dim``).
    """

    def __init__(self, channels: int, *, num_steps: int | None = None, step_size: float | None = None,
                 edge_dim: int | None = None, edge_vocabulary: int | None = None):
        if edge_vocabulary is not None and edge_dim is None:
            raise ValueError("edge_vocabulary: embedding integer edge types needs edge_dim, the embedding size")
        if edge_dim is not None and edge_dim < 1:
            raise ValueError(f"edge_dim: must be >= 1, got {edge_dim}")
        super().__init__(_replicate(lambda: ResGatedGraphConv(channels, channels, edge_dim=edge_dim), num_steps),
                         step_size)
        self.edge_dim = edge_dim
        self.edge_embedding = None if edge_vocabulary is None else nn.Embedding(edge_vocabulary, edge_dim)

    def prepare(self, edge_index: Tensor, num_nodes: int, edge_attr: Tensor | None = None, **graph: Any) -> GraphArgs:
        if self.edge_dim is None:
            return {"edge_index": edge_index}
        if edge_attr is None:
            raise ValueError(f"edge_attr: this gatedgcn coupling takes edge features (edge_dim={self.edge_dim}); "
                             f"bind the field with field.bind(edge_index, edge_attr=...)")
        if len(edge_attr) != edge_index.shape[1]:
            raise ValueError(f"edge_attr: expected one row per edge ({edge_index.shape[1]}), got {len(edge_attr)}")
        if self.edge_embedding is not None:
            if edge_attr.is_floating_point():
                raise ValueError(f"edge_attr: expected integer edge types for edge_vocabulary="
                                 f"{self.edge_embedding.num_embeddings}, got dtype {edge_attr.dtype}")
            return {"edge_index": edge_index, "edge_types": edge_attr.reshape(-1)}
        if edge_attr.dim() != 2 or edge_attr.shape[1] != self.edge_dim:
            raise ValueError(f"edge_attr: expected float features of shape [E, {self.edge_dim}], "
                             f"got {list(edge_attr.shape)}")
        return {"edge_index": edge_index, "edge_attr": edge_attr}

    def forward(self, x: Tensor, graph: GraphArgs, t: Tensor | float = 0.0) -> Tensor:
        edge_attr = graph.get("edge_attr")
        if self.edge_embedding is not None:
            # embedded at every call, inside the field, so that every backward mode reaches the table's weights
            edge_attr = self.edge_embedding(graph["edge_types"])
        return self.layer_at(t)(x, graph["edge_index"], edge_attr=edge_attr)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.edge_embedding is not None:
            self.edge_embedding.reset_parameters()
