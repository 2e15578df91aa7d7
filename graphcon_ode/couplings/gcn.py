"""The GCN coupling of Kipf & Welling, eq. (5), with the authors' optional learnable residual term.

Besides eq. (5)'s F(X) = D̂^{−1/2} Â D̂^{−1/2} X W, the authors' published node-level models put a learnable linear
residual term inside σ (``GCN(residual=1|2)``, :class:`ResidualGCNConv`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from graphcon_ode.couplings.base import Coupling, GraphArgs, _replicate
from graphcon_ode.sparse import SparseOperator


def gcn_product(conv: GCNConv, operator: SparseOperator, x: Tensor) -> tuple[Tensor, Tensor]:
    """(S X W + b, X W) with the layer's own W (``lin``) and b (``bias``), S the cached normalised operator."""
    projected = conv.lin(x)
    out = operator(projected)  # a new tensor that no backward reads: the bias goes in place
    return (out if conv.bias is None else out.add_(conv.bias)), projected


def normalised_adjacency(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None) -> SparseOperator:
    """S = D̂^{−1/2} Â D̂^{−1/2} (Â = A + I, eq. (5)) as a sparse CSR operator with its transpose cached: its product
    is several times faster on CPU, forward and backward, than PyG's scatter over an edge list, and it is
    deterministic (benchmarks/profile_step.py)."""
    edge_index, edge_weight = gcn_norm(edge_index, edge_weight, num_nodes, add_self_loops=True, dtype=torch.float64)
    return SparseOperator(edge_index, edge_weight, num_nodes)


class ResidualGCNConv(nn.Module):
    """A GCN layer with the authors' learnable residual term, to sit inside σ (eq. (5) plus a Linear R):

        version 1:  F(X) = SXW + b − R(XW)
        version 2:  F(X) = SXW + b − XW + R(X)

    with S the normalised adjacency of eq. (5), W the layer's own weight and R = Linear(m, m). Version 2 removes
    the self-feature term XW and lets R choose it freely.
    """

    def __init__(self, channels: int, version: int, bias: bool = True):
        super().__init__()
        if version not in (1, 2):
            raise ValueError(f"residual: the residual version must be 1 or 2, got {version!r}")
        self.conv = GCNConv(channels, channels, normalize=False, bias=bias)
        self.residual = nn.Linear(channels, channels)
        self.version = version

    def forward(self, x: Tensor, operator: SparseOperator) -> Tensor:
        out, projected = gcn_product(self.conv, operator, x)
        if self.version == 1:
            return out - self.residual(projected)
        return out - projected + self.residual(x)

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()
        self.residual.reset_parameters()

    def extra_repr(self) -> str:
        return f"version={self.version}"


class GCN(Coupling):
    """Graph convolution of Kipf & Welling, eq. (5): F(X) = D̂^{−1/2} Â D̂^{−1/2} X W (+ b), Â = A + I.

    Args:
        channels: m, the number of node features (input and output).
        num_steps: None for weights shared over time, else one W^n per step.
        step_size: Δt of the per-step schedule.
        bias: add a learnable bias b (PyG's default; eq. (5) has none).
        residual: None for eq. (5); 1 or 2 adds the authors' residual term (:class:`ResidualGCNConv`).
    """

    def __init__(self, channels: int, num_steps: int | None = None, step_size: float | None = None,
                 bias: bool = True, residual: int | None = None):
        def make() -> nn.Module:
            if residual is None:
                return GCNConv(channels, channels, normalize=False, bias=bias)
            return ResidualGCNConv(channels, residual, bias=bias)

        super().__init__(_replicate(make, num_steps), step_size)

    def prepare(self, edge_index, num_nodes, **graph):
        """S once per graph (:func:`normalised_adjacency`)."""
        return {"operator": normalised_adjacency(edge_index, num_nodes, graph.get("edge_weight"))}

    def forward(self, x: Tensor, graph: GraphArgs, t: Tensor | float = 0.0) -> Tensor:
        layer = self.layer_at(t)
        if isinstance(layer, ResidualGCNConv):
            return layer(x, graph["operator"])
        return gcn_product(layer, graph["operator"], x)[0]
