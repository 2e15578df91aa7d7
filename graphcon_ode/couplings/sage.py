"""The GraphSAGE coupling of Hamilton et al. (2017), PyG's ``SAGEConv`` inside GraphCON's force σ(F_θ(X, t)) of
eq. (3).

A layer of the graph-level benchmarks; it adds no self-loops, the root weight W_1 X_i is its own.
"""

from __future__ import annotations

from torch_geometric.nn import SAGEConv

from graphcon_ode.couplings.base import Coupling, _replicate


class SAGE(Coupling):
    """GraphSAGE layer of Hamilton et al. (2017) with mean aggregation:

        F(X)_i = W_1 X_i + W_2 mean_{j ∈ N(i)} X_j + b,

    W_1 (no bias) the root weight and W_2 (with bias b) the neighbour weight (PyG's ``SAGEConv``, whose ``lin_r``
    and ``lin_l`` they are). A node without neighbours gets W_1 X_i + b.

    Args:
        channels: m, the number of node features (input and output).
        num_steps: None for weights shared over time, else one layer per step.
        step_size: Δt of the per-step schedule.
        aggr: the neighbourhood aggregation ("mean" as above; "max", "sum", … as PyG allows).
    """

    def __init__(self, channels: int, *, num_steps: int | None = None, step_size: float | None = None,
                 aggr: str = "mean"):
        super().__init__(_replicate(lambda: SAGEConv(channels, channels, aggr=aggr), num_steps), step_size)
