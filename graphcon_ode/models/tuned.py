"""The tuned classic GNNs GCN*, SAGE* and GAT* of Luo, Shi & Wu (NeurIPS 2024, "Classic GNNs are strong baselines:
reassessing GNNs for node classification"), re-stated from the paper's description: a stack of classic message
passing layers, each with a learned linear residual, a normalisation, ReLU and dropout, and a linear head.

    H⁰ = X                                  (or Dropout(X W_in) with ``input_linear``)
    Hˡ = Dropout(ReLU(Norm(CONV(Hˡ⁻¹) + Hˡ⁻¹ W_resˡ)))        l = 1, …, L
    out = Hᴸ W_out + b_out

CONV is one of (the graph gets a self-loop at every node first, as the authors' pipeline adds them)

    "gcn"   D̂^{−1/2} Â D̂^{−1/2} H W                          (Kipf & Welling's GCN, Â = A + I)
    "sage"  H W_1 + mean_{j ∈ N(i) ∪ {i}} H_j W_2            (GraphSAGE, mean aggregation)
    "gat"   attention over N(i) ∪ {i}, heads concatenated     (GAT, d/heads channels per head)

Norm is BatchNorm ("batch"), LayerNorm ("layer") or none; ``residual=False`` drops the ``Hˡ⁻¹ W_resˡ`` term.
GCN's operator is built once per forward pass and applied as a sparse matrix (:class:`~graphcon_ode.sparse.
SparseOperator`): the same product as PyG's ``GCNConv``, without a gather and scatter over the edges per layer.
The residual, the normalisation and the depth (12 layers on minesweeper) are what the authors found to lift the
classic GNNs to the level of graph transformers on heterophilous graphs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATConv, SAGEConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, remove_self_loops

from graphcon_ode.couplings.tuned_gcn import NORMALISATIONS, normalisation_layer
from graphcon_ode.sparse import SparseOperator

CONVS = ("gcn", "sage", "gat")


class GCNLayer(nn.Module):
    """S H W + b with S = D̂^{−1/2} Â D̂^{−1/2} (Kipf & Welling's GCN layer; S is given, built from the graph)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()
        nn.init.zeros_(self.bias)

    def forward(self, h: Tensor, operator: SparseOperator) -> Tensor:
        return operator @ self.lin(h) + self.bias


def gcn_operator(edge_index: Tensor, num_nodes: int, dtype: torch.dtype) -> SparseOperator:
    """D̂^{−1/2} Â D̂^{−1/2} of ``edge_index`` with one self-loop at every node (Â = A + I)."""
    edges = add_self_loops(remove_self_loops(edge_index)[0], num_nodes=num_nodes)[0]
    edges, weight = gcn_norm(edges, None, num_nodes, add_self_loops=False, dtype=dtype)
    return SparseOperator(edges, weight, num_nodes)


def _conv(kind: str, in_channels: int, out_channels: int, heads: int) -> nn.Module:
    if kind == "gcn":
        return GCNLayer(in_channels, out_channels)
    if kind == "sage":
        return SAGEConv(in_channels, out_channels)
    return GATConv(in_channels, out_channels // heads, heads=heads, add_self_loops=False, bias=False)


class TunedGNN(nn.Module):
    """GCN*, SAGE* or GAT* (see the module docstring).

    Args:
        in_channels, hidden_channels, out_channels: feature, hidden and output sizes (1 output for a binary task).
        conv: "gcn", "sage" or "gat".
        num_layers: L, the number of message-passing layers (at least 1).
        dropout: the rate after every layer (and after the input linear layer).
        normalisation: "batch", "layer" or "none".
        residual: add the learned linear residual ``Hˡ⁻¹ W_resˡ`` in every layer.
        input_linear: map X to the hidden width by ``Dropout(X W_in)`` before the first layer (else the first
            layer maps ``in_channels`` to ``hidden_channels`` itself).
        heads: attention heads of "gat" (``hidden_channels`` must split evenly over them).
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, *, conv: str = "gcn",
                 num_layers: int = 2, dropout: float = 0.2, normalisation: str = "batch", residual: bool = True,
                 input_linear: bool = False, heads: int = 1):
        super().__init__()
        if conv not in CONVS:
            raise ValueError(f"conv: unknown conv {conv!r}; known: {', '.join(CONVS)}")
        if normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation: unknown {normalisation!r}; known: {', '.join(NORMALISATIONS)}")
        if num_layers < 1:
            raise ValueError(f"num_layers: must be >= 1, got {num_layers}")
        if conv == "gat" and hidden_channels % heads:
            raise ValueError(f"heads: hidden_channels={hidden_channels} does not split evenly over {heads} heads")
        self.conv = conv
        self.input = nn.Linear(in_channels, hidden_channels) if input_linear else None
        widths = [hidden_channels if input_linear else in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(_conv(conv, a, b, heads) for a, b in zip(widths, widths[1:]))
        self.residuals = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:])) if residual else None
        self.norms = nn.ModuleList(normalisation_layer(normalisation, hidden_channels) for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)
        self.activation = nn.ReLU()
        self.head = nn.Linear(hidden_channels, out_channels)

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def hidden(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Hᴸ, the node features after the last layer (before the head)."""
        num_nodes = x.shape[0]
        graph = (gcn_operator(edge_index, num_nodes, x.dtype) if self.conv == "gcn"
                 else add_self_loops(remove_self_loops(edge_index)[0], num_nodes=num_nodes)[0])
        h = x if self.input is None else self.dropout(self.input(x))
        for layer, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            mixed = conv(h, graph)
            if self.residuals is not None:
                mixed = mixed + self.residuals[layer](h)
            h = self.dropout(self.activation(norm(mixed)))
        return h

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.head(self.hidden(x, edge_index))

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.conv}, layers={len(self.convs)}, "
                f"hidden={self.head.in_features}, out={self.head.out_features})")
