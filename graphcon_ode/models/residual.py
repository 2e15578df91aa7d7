"""The baselines of Platonov et al. (ICLR 2023, "A critical look at the evaluation of GNNs under heterophily"),
re-stated from the paper's description: a linear encoder, L residual blocks with layer norm, a linear decoder.

    H⁰ = GELU(Dropout(X W_in))
    Hˡ = Hˡ⁻¹ + FF(MIX(LayerNorm(Hˡ⁻¹)))                         l = 1, …, L
    out = LayerNorm(Hᴸ) W_out

with the feed-forward part FF(Z) = Dropout(Dropout(GELU(Z W_a)) W_b) (biases omitted here; hidden width d,
W_a: in × d, W_b: d × d) and the block's message passing MIX(Z) one of

    "resnet"   Z                                  (no graph: an MLP with skip connections)
    "gcn"      D^{−1/2} A D^{−1/2} Z               (symmetric normalisation, no self-loops)
    "sage"     [Z ‖ mean_{j ∈ N(i)} Z_j]          (ego and neighbours kept apart)
    "gat"      multi-head GAT attention over N(i) ∪ {i} (heads concatenated, d/H channels each)
    "gat-sep"  [Z ‖ GAT attention over N(i)]      (ego kept apart, no self-loop)

The residual connection around every block and the layer norm inside it are what Platonov et al. found to make
plain GNNs strong on heterophilous graphs; the "-sep" variants separate ego and neighbour embeddings.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_remaining_self_loops, remove_self_loops

from graphcon_ode.couplings.sep import mean_operator
from graphcon_ode.sparse import SparseOperator

BLOCKS = ("resnet", "gcn", "sage", "gat", "gat-sep")


class FeedForward(nn.Module):
    """FF(Z) = Dropout(Dropout(GELU(Z W_a + b_a)) W_b + b_b)."""

    def __init__(self, in_channels: int, channels: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_channels, channels), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(channels, channels), nn.Dropout(dropout))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class ResidualBlock(nn.Module):
    """H + FF(MIX(LayerNorm(H))) for one ``kind`` ∈ :data:`BLOCKS`; ``graph`` holds what MIX needs."""

    def __init__(self, kind: str, channels: int, heads: int, dropout: float):
        super().__init__()
        if kind not in BLOCKS:
            raise ValueError(f"block: unknown block {kind!r}; known: {', '.join(BLOCKS)}")
        if kind in ("gat", "gat-sep") and channels % heads:
            raise ValueError(f"heads: hidden_channels={channels} does not split evenly over {heads} heads")
        self.kind = kind
        self.norm = nn.LayerNorm(channels)
        self.attention = (GATConv(channels, channels // heads, heads=heads, add_self_loops=False)
                          if kind in ("gat", "gat-sep") else None)
        separate = kind in ("sage", "gat-sep")
        self.feed_forward = FeedForward(2 * channels if separate else channels, channels, dropout)

    def mix(self, z: Tensor, graph: dict[str, object]) -> Tensor:
        if self.kind == "resnet":
            return z
        if self.kind == "gcn":
            return graph["gcn"] @ z
        if self.kind == "sage":
            return torch.cat([z, graph["mean"] @ z], dim=-1)
        if self.kind == "gat":
            return self.attention(z, graph["with_self_loops"])
        return torch.cat([z, self.attention(z, graph["without_self_loops"])], dim=-1)

    def forward(self, h: Tensor, graph: dict[str, object]) -> Tensor:
        return h + self.feed_forward(self.mix(self.norm(h), graph))


class HeterophilyBaseline(nn.Module):
    """Encoder → ``num_layers`` residual blocks of one kind → layer norm → decoder (see the module docstring).

    Args:
        in_channels, hidden_channels, out_channels: feature, hidden and output sizes (1 output for a binary task).
        block: "resnet", "gcn", "sage", "gat" or "gat-sep".
        num_layers: L, the number of residual blocks.
        heads: attention heads of "gat" and "gat-sep" (``hidden_channels`` must split evenly over them).
        dropout: rate after the encoder and inside every feed-forward part.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, *, block: str = "gcn",
                 num_layers: int = 2, heads: int = 8, dropout: float = 0.2):
        super().__init__()
        if num_layers < 0:
            raise ValueError(f"num_layers: must be >= 0, got {num_layers}")
        self.encoder = nn.Linear(in_channels, hidden_channels)
        self.dropout = nn.Dropout(dropout)
        self.activation = nn.GELU()
        self.blocks = nn.ModuleList(ResidualBlock(block, hidden_channels, heads, dropout) for _ in range(num_layers))
        self.output_norm = nn.LayerNorm(hidden_channels)
        self.decoder = nn.Linear(hidden_channels, out_channels)
        self.block = block
        self._graph: tuple[tuple, dict[str, object]] | None = None

    def graph(self, edge_index: Tensor, x: Tensor) -> dict[str, object]:
        """The normalised operators (in the dtype of ``x``) and edge lists the blocks use, built once per graph."""
        key = (edge_index.data_ptr(), tuple(edge_index.shape), edge_index._version, x.shape[0], x.dtype)
        if self._graph is None or self._graph[0] != key:
            prepared = self._prepare(edge_index, x.shape[0])
            self._graph = (key, {name: value.to(dtype=x.dtype) if isinstance(value, SparseOperator) else value
                                 for name, value in prepared.items()})
        return self._graph[1]

    def _prepare(self, edge_index: Tensor, num_nodes: int) -> dict[str, object]:
        if self.block == "gcn":
            edges, weight = gcn_norm(remove_self_loops(edge_index)[0], None, num_nodes, add_self_loops=False)
            return {"gcn": SparseOperator(edges, weight, num_nodes)}
        if self.block == "sage":
            return {"mean": mean_operator(edge_index, num_nodes)}
        if self.block == "gat":
            return {"with_self_loops": add_remaining_self_loops(edge_index, num_nodes=num_nodes)[0]}
        if self.block == "gat-sep":
            return {"without_self_loops": remove_self_loops(edge_index)[0]}
        return {}

    def __getstate__(self) -> dict[str, object]:
        """Copies and pickles leave the cached graph behind (its sparse operators cannot be deep-copied)."""
        return {**self.__dict__, "_graph": None}

    def hidden(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Hᴸ, the node features after the last block (before the output norm and decoder)."""
        graph = self.graph(edge_index, x)
        h = self.activation(self.dropout(self.encoder(x)))
        for block in self.blocks:
            h = block(h, graph)
        return h

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.decoder(self.output_norm(self.hidden(x, edge_index)))
