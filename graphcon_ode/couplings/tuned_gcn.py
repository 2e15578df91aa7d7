"""The layer of the tuned GCN* of Luo, Shi & Wu (NeurIPS 2024) as a GraphCON coupling:

    F(X) = Norm(S X W + b + X W_res + b_res),     S = D̂^{−1/2} Â D̂^{−1/2}, Â = A + I (eq. (5)'s operator),

inside GraphCON's force σ(F(X)) of eq. (3). Norm is BatchNorm ("batch"), LayerNorm ("layer") or none; with
``residual=False`` the learned linear residual X W_res + b_res is left out.

With α = γ = Δt = 1, eq. (4) gives Y^{n+1} = σ(F(X^n)) − X^n and X^{n+1} = σ(F(X^n)): the steps of GraphCON around
this coupling, one weight set per step, are GCN*'s layers Hˡ = ReLU(Norm(CONV(Hˡ⁻¹) + Hˡ⁻¹ W_resˡ)) (with the
step dropout as GCN*'s dropout, :class:`~graphcon_ode.models.tuned.TunedGNN`). Other α, γ, Δt keep a velocity that
carries over the steps, so the tuned GCN* is one point of the oscillator family around its own layer.

BatchNorm uses the statistics of the nodes of each call in training and its running estimates in evaluation, as in
GCN*; with weights shared over time one BatchNorm sees every step, so per-step weights are its natural pairing.
"""

from __future__ import annotations

from torch import Tensor, nn

from graphcon_ode.couplings.base import Coupling, GraphArgs, _replicate
from graphcon_ode.couplings.gcn import normalised_adjacency
from graphcon_ode.sparse import SparseOperator

NORMALISATIONS = ("batch", "layer", "none")


def normalisation_layer(kind: str, channels: int) -> nn.Module:
    """BatchNorm ("batch"), LayerNorm ("layer") or the identity ("none") over ``channels`` (GCN*'s Norm)."""
    if kind == "batch":
        return nn.BatchNorm1d(channels)
    if kind == "layer":
        return nn.LayerNorm(channels)
    return nn.Identity()


class TunedGCNConv(nn.Module):
    """F(X) = Norm(S X W + b + X W_res + b_res) for a given operator S."""

    def __init__(self, channels: int, normalisation: str = "batch", residual: bool = True):
        super().__init__()
        self.lin = nn.Linear(channels, channels)
        self.residual = nn.Linear(channels, channels) if residual else None
        self.norm = normalisation_layer(normalisation, channels)

    def forward(self, x: Tensor, operator: SparseOperator) -> Tensor:
        out = operator(x @ self.lin.weight.T) + self.lin.bias
        if self.residual is not None:
            out = out + self.residual(x)
        return self.norm(out)

    def reset_parameters(self) -> None:
        for module in (self.lin, self.residual, self.norm):
            if module is not None and hasattr(module, "reset_parameters"):
                module.reset_parameters()


class TunedGCN(Coupling):
    """GCN*'s layer Norm(S X W + b + X W_res + b_res) as F_θ (see the module docstring).

    Args:
        channels: m, the number of node features (input and output).
        num_steps: None for weights shared over time, else one layer per step.
        step_size: Δt of the per-step schedule.
        normalisation: "batch", "layer" or "none".
        residual: the learned linear residual X W_res + b_res.
    """

    def __init__(self, channels: int, *, num_steps: int | None = None, step_size: float | None = None,
                 normalisation: str = "batch", residual: bool = True):
        if normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation: unknown {normalisation!r}; known: {', '.join(NORMALISATIONS)}")
        super().__init__(_replicate(lambda: TunedGCNConv(channels, normalisation, residual), num_steps), step_size)
        self._channels = channels

    @property
    def channels(self) -> int:
        return self._channels

    def prepare(self, edge_index: Tensor, num_nodes: int, **graph) -> GraphArgs:
        """S = D̂^{−1/2} Â D̂^{−1/2} once per graph (:func:`~graphcon_ode.couplings.gcn.normalised_adjacency`)."""
        return {"operator": normalised_adjacency(edge_index, num_nodes, graph.get("edge_weight"))}

    def forward(self, x: Tensor, graph: GraphArgs, t=0.0) -> Tensor:
        return self.layer_at(t)(x, graph["operator"])
