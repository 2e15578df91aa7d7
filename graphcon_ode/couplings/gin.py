"""The GIN coupling of Xu et al. (2019), PyG's ``GINConv`` inside GraphCON's force σ(F_θ(X, t)) of eq. (3).

A layer of the graph-level benchmarks; it adds no self-loops, the root term (1 + ε) X_i is its own.
"""

from __future__ import annotations

from torch import nn
from torch_geometric.nn import GINConv

from graphcon_ode.couplings.base import Coupling, _replicate


class GIN(Coupling):
    """Graph isomorphism network layer of Xu et al. (2019):

        F(X)_i = MLP((1 + ε) X_i + Σ_{j ∈ N(i)} X_j),    MLP(h) = W_2 ReLU(W_1 h + b_1) + b_2,

    with W_1, W_2 ∈ R^{m×m} (PyG's ``GINConv`` around a two-layer MLP).

    Args:
        channels: m, the number of node features (input and output).
        num_steps: None for weights shared over time, else one layer per step.
        step_size: Δt of the per-step schedule.
        eps: the initial ε (0 as in GIN-0).
        train_eps: learn ε.
    """

    def __init__(self, channels: int, *, num_steps: int | None = None, step_size: float | None = None,
                 eps: float = 0.0, train_eps: bool = False):
        def make() -> nn.Module:
            mlp = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(), nn.Linear(channels, channels))
            return GINConv(mlp, eps=eps, train_eps=train_eps)

        super().__init__(_replicate(make, num_steps), step_size)

    @property
    def channels(self) -> int:
        return self.layers[0].nn[-1].out_features
