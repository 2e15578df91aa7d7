"""Couplings that keep a node's own message apart from its neighbours' ("-sep", Platonov et al., 2023):

    F(X) = X̃ W₁ + AGG(X̃) W₂ + b,     X̃ = LayerNorm(X) with ``norm=True``, else X̃ = X,

inside GraphCON's force σ(F(X)) of eq. (3). Unlike eq. (5)'s GCN, where a node's own features enter the same
average as its neighbours' (Â = A + I), the ego term has its own weight W₁, so on a heterophilous graph the node
can keep what its neighbours do not share; Platonov et al. found this separation decisive for GNNs on their sets.

AGG is the mean over the in-neighbours (:class:`SepMean`, GraphSAGE's mean aggregator) or graph attention over
them (:class:`SepAttention`). Self-loops are removed from the graph: the ego term is W₁'s alone. They are known in
:data:`~graphcon_ode.couplings.COUPLINGS` as "sep-mean" and "sep-gat".
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATConv
from torch_geometric.utils import remove_self_loops

from graphcon_ode.couplings.base import Coupling, GraphArgs, _replicate
from graphcon_ode.couplings.csr_attention import AttentionPattern, attention_pattern, gat_conv
from graphcon_ode.sparse import SparseOperator


def mean_operator(edge_index: Tensor, num_nodes: int) -> SparseOperator:
    """M with M[i, j] = 1/|N(i)| for every edge j → i (self-loops removed), so (M X)_i is the mean of X over the
    in-neighbours of i (0 for a node without any)."""
    edge_index, _ = remove_self_loops(edge_index)
    degree = torch.bincount(edge_index[1], minlength=num_nodes).to(torch.float64)
    return SparseOperator(edge_index, 1.0 / degree[edge_index[1]], num_nodes)


class SepMeanConv(nn.Module):
    """F(X) = X̃ W₁ + (M X̃) W₂ + b, M the neighbour mean of :func:`mean_operator`."""

    def __init__(self, channels: int, norm: bool = False, bias: bool = True):
        super().__init__()
        self.norm = nn.LayerNorm(channels) if norm else None
        self.ego = nn.Linear(channels, channels, bias=bias)
        self.neighbours = nn.Linear(channels, channels, bias=False)

    def forward(self, x: Tensor, operator: SparseOperator) -> Tensor:
        if self.norm is not None:
            x = self.norm(x)
        return self.ego(x) + operator @ self.neighbours(x)

    def reset_parameters(self) -> None:
        for module in (self.norm, self.ego, self.neighbours):
            if module is not None:
                module.reset_parameters()


class SepMean(Coupling):
    """F(X) = X̃ W₁ + mean_{j ∈ N(i)} X̃_j W₂ + b (ego and mean neighbour messages with separate weights).

    Args:
        channels: m, the number of node features (input and output).
        num_steps: None for weights shared over time, else one (W₁ⁿ, W₂ⁿ) per step.
        step_size: Δt of the per-step schedule.
        norm: X̃ = LayerNorm(X) (learnable scale and shift) instead of X.
        bias: the learnable b.
    """

    def __init__(self, channels: int, *, num_steps: int | None = None, step_size: float | None = None,
                 norm: bool = False, bias: bool = True):
        super().__init__(_replicate(lambda: SepMeanConv(channels, norm, bias), num_steps), step_size)
        self._channels = channels

    @property
    def channels(self) -> int:
        return self._channels

    def prepare(self, edge_index, num_nodes, **graph):
        return {"operator": mean_operator(edge_index, num_nodes)}


class SepAttentionConv(nn.Module):
    """F(X) = X̃ W₁ + (1/H) Σ_h Σ_{j ∈ N(i)} a^h_ij X̃_j W₂^h + b, with GAT's attention over the neighbours only:

        a^h_ij = softmax_{j ∈ N(i)} LeakyReLU_{0.2}(s^hᵀ W₂^h X̃_j + d^hᵀ W₂^h X̃_i)

    (PyG's GATConv without self-loops and without bias, heads averaged), computed on the graph's cached attention
    pattern (:mod:`graphcon_ode.couplings.csr_attention`).
    """

    def __init__(self, channels: int, heads: int = 1, norm: bool = False, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        if heads < 1:
            raise ValueError(f"heads: must be >= 1, got {heads}")
        self.norm = nn.LayerNorm(channels) if norm else None
        self.ego = nn.Linear(channels, channels, bias=bias)
        self.neighbours = GATConv(channels, channels, heads=heads, concat=False, add_self_loops=False, bias=False,
                                  dropout=dropout)

    def forward(self, x: Tensor, pattern: AttentionPattern) -> Tensor:
        if self.norm is not None:
            x = self.norm(x)
        return self.ego(x) + gat_conv(self.neighbours, pattern, x)

    def reset_parameters(self) -> None:
        for module in (self.norm, self.ego, self.neighbours):
            if module is not None:
                module.reset_parameters()


class SepAttention(Coupling):
    """F(X) = X̃ W₁ + Σ_{j ∈ N(i)} a_ij X̃_j W₂ + b, a_ij GAT's attention over the neighbours (heads averaged).

    Args:
        channels: m, the number of node features (input and output).
        heads: H attention heads, each with its own W₂^h, averaged.
        num_steps, step_size: per-step weights, as for every coupling.
        norm: X̃ = LayerNorm(X) instead of X.
        bias: the learnable b.
        dropout: dropout on the attention coefficients in training.
    """

    def __init__(self, channels: int, *, heads: int = 1, num_steps: int | None = None,
                 step_size: float | None = None, norm: bool = False, bias: bool = True, dropout: float = 0.0):
        super().__init__(_replicate(lambda: SepAttentionConv(channels, heads, norm, bias, dropout), num_steps),
                         step_size)
        self._channels = channels

    @property
    def channels(self) -> int:
        return self._channels

    def prepare(self, edge_index, num_nodes, **graph) -> GraphArgs:
        """The in-neighbour attention pattern, self-loops removed (the ego term is W₁'s alone)."""
        heads = self.layers[0].neighbours.heads
        return {"pattern": attention_pattern(remove_self_loops(edge_index)[0], num_nodes, heads, self_loops=False)}

