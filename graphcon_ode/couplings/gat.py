"""Graph attention couplings: Section 2's GAT and the authors' GraphCON-GAT force.

:class:`GAT` is F(X) = A(X) X W of Veličković et al. with the heads averaged, optionally with the authors' learnable
linear residual term inside σ (``GAT(residual=True)``, :class:`ResidualGATConv`).

:class:`ChannelMeanGAT` is the force of the authors' heterophilic GraphCON-GAT (their ``models.py``): attention
heads concatenated, σ applied, then groups of channels averaged. It drives eq. (4) with

    g(X) = mean over the last axis of reshape(ELU(GATConv_k(X) + R X), (n, m, k)),

GATConv_k a PyG GATConv(m, m, heads=k) with concatenated heads (output n × km, bias included), R a learnable
Linear(m, km). The reshape groups k adjacent channels of the km outputs, so a channel of g averages k consecutive
features of one head (or of two neighbouring heads), not the same feature across the k heads as
``GATConv(concat=False)`` does; and σ = ELU is applied before the average. Since σ sits inside the force, a
model using this coupling sets its own activation to the identity.

Both keep PyG ``GATConv`` modules as their parameters (the state-dict keys of PyG's layer) and compute the
attention on the graph's CSR pattern, built once per bound graph by :meth:`GAT.prepare`
(:mod:`graphcon_ode.couplings.csr_attention`): the same numbers as ``GATConv`` without its per-edge
[E, heads, m] messages.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv

from graphcon_ode.couplings.base import Coupling, GraphArgs, _replicate
from graphcon_ode.couplings.csr_attention import AttentionPattern, attention_pattern, gat_conv


def prepare_pattern(conv: GATConv, edge_index: Tensor, num_nodes: int) -> GraphArgs:
    """The graph arguments of a GAT coupling: the CSR attention pattern for ``conv``'s heads and self-loops."""
    return {"pattern": attention_pattern(edge_index, num_nodes, conv.heads, conv.add_self_loops)}


class ResidualGATConv(nn.Module):
    """A multi-head GAT layer (heads averaged) plus the authors' learnable residual: F(X) = A(X) X W + b + R(X)."""

    def __init__(self, channels: int, heads: int = 1, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        self.conv = GATConv(channels, channels, heads=heads, concat=False, bias=bias, dropout=dropout)
        self.residual = nn.Linear(channels, channels)

    def forward(self, x: Tensor, pattern: AttentionPattern) -> Tensor:
        return gat_conv(self.conv, pattern, x) + self.residual(x)

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()
        self.residual.reset_parameters()


class GAT(Coupling):
    """Graph attention of Veličković et al. as in Section 2: F(X) = A(X) X W with

        A_ij = softmax_{j ∈ N_i ∪ {i}} LeakyReLU(aᵀ[W X_i ‖ W X_j]),

    with ``heads`` independent attention heads averaged (PyG's GATConv with ``concat=False``; self-loops added).
    ``residual=True`` adds the authors' learnable linear term R(X) (:class:`ResidualGATConv`); ``dropout`` drops
    attention coefficients in training (as in Veličković et al.).
    """

    def __init__(self, channels: int, heads: int = 1, num_steps: int | None = None,
                 step_size: float | None = None, bias: bool = True, residual: bool = False, dropout: float = 0.0):
        def make() -> nn.Module:
            if residual:
                return ResidualGATConv(channels, heads=heads, bias=bias, dropout=dropout)
            return GATConv(channels, channels, heads=heads, concat=False, bias=bias, dropout=dropout)

        super().__init__(_replicate(make, num_steps), step_size)

    def prepare(self, edge_index, num_nodes, **graph) -> GraphArgs:
        layer = self.layers[0]
        return prepare_pattern(getattr(layer, "conv", layer), edge_index, num_nodes)

    def forward(self, x: Tensor, graph: GraphArgs, t: Tensor | float = 0.0) -> Tensor:
        layer = self.layer_at(t)
        if isinstance(layer, GATConv):
            return gat_conv(layer, graph["pattern"], x)
        return layer(x, graph["pattern"])


class ChannelMeanGATConv(nn.Module):
    """g(X) = mean_k reshape(ELU(GATConv_k(X) + R X), (n, m, k)) (see the module docstring)."""

    def __init__(self, channels: int, heads: int = 4, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        self.heads = heads
        self.conv = GATConv(channels, channels, heads=heads, concat=True, bias=bias, dropout=dropout)
        self.residual = nn.Linear(channels, heads * channels)

    def forward(self, x: Tensor, pattern: AttentionPattern) -> Tensor:
        z = F.elu(gat_conv(self.conv, pattern, x) + self.residual(x))
        return z.view(x.shape[0], -1, self.heads).mean(dim=-1)

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()
        self.residual.reset_parameters()


class ChannelMeanGAT(Coupling):
    """The authors' GraphCON-GAT force as a coupling (ELU included: use it with the identity as σ).

    Args:
        channels: m.
        heads: k, the concatenated attention heads (4 in the authors' runs).
        num_steps, step_size: per-step weights, as for every coupling.
        bias: the GATConv bias.
        dropout: dropout on the attention coefficients in training.
    """

    def __init__(self, channels: int, *, heads: int = 4, num_steps: int | None = None,
                 step_size: float | None = None, bias: bool = True, dropout: float = 0.0):
        if heads < 1:
            raise ValueError(f"heads: must be >= 1, got {heads}")
        super().__init__(_replicate(lambda: ChannelMeanGATConv(channels, heads, bias, dropout), num_steps),
                         step_size)

    @property
    def channels(self) -> int:
        return self.layers[0].conv.out_channels

    def prepare(self, edge_index, num_nodes, **graph) -> GraphArgs:
        return prepare_pattern(self.layers[0].conv, edge_index, num_nodes)
