"""GraphCON-GCN with scalar node features, eq. (16), as a library field, and its loss (17) with gradients.

    Cⁿ⁻¹_i = wⁿ_i Xⁿ⁻¹_i / d_i + Σ_{j∈N_i} wⁿ_j Xⁿ⁻¹_j / √(d_i d_j) = (Ŝ (wⁿ ∘ Xⁿ⁻¹))_i,
    Yⁿ = (1 − Δt)Yⁿ⁻¹ + Δt σ(Cⁿ⁻¹) − Δt Xⁿ⁻¹,    Xⁿ = Xⁿ⁻¹ + Δt Yⁿ,

i.e. the scheme (4) with α = γ = 1 and one weight per node and layer. Ŝ = D̂^{−1/2}ÂD̂^{−1/2} with Â = A + I, so
d_i = deg(i) + 1, the degree of eq. (5) (which also keeps isolated nodes well defined).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from graphcon_ode.claims import graphs
from graphcon_ode.couplings import Coupling
from graphcon_ode.field import GraphCONField
from graphcon_ode.odeint import odeint


class NodeWeightedConv(nn.Module):
    """x ↦ Ŝ(w ∘ x): one layer of (16), a weight wⱼ per source node."""

    def __init__(self, weight: Tensor):
        super().__init__()
        self.weight = nn.Parameter(weight.clone())

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor) -> Tensor:
        source, target = edge_index
        messages = edge_weight[:, None] * (self.weight[:, None] * x)[source]
        return torch.zeros_like(x).index_add_(0, target, messages)


class ScalarGCN(Coupling):
    """The coupling Cⁿ⁻¹ = Ŝ(wⁿ ∘ Xⁿ⁻¹) of (16) with the per-layer weights ``weights`` ([N, v])."""

    def __init__(self, weights: Tensor, step_size: float):
        super().__init__([NodeWeightedConv(w) for w in weights], step_size)

    def prepare(self, edge_index, num_nodes, **graph):
        edge_index, edge_weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=True, dtype=torch.float64)
        return {"edge_index": edge_index, "edge_weight": edge_weight}


def loss_and_gradients(adj: Tensor, weights: Tensor, x0: Tensor, y0: Tensor, target: Tensor,
                       step_size: float) -> tuple[float, Tensor, Tensor]:
    """(J, ∂J/∂w, X): the loss (17) J = (1/2v) Σ_i |Xᴺ_i − X̄_i|² after N = len(weights) layers of (16) with
    σ = tanh, its gradient [N, v] with respect to every wⁿ_k by autograd, and the layers X⁰, …, Xᴺ ([N + 1, v])."""
    num_layers, v = weights.shape
    coupling = ScalarGCN(weights, step_size)
    field = GraphCONField(coupling, alpha=1.0, gamma=1.0, activation=torch.tanh).double()
    t = torch.arange(num_layers + 1, dtype=torch.float64) * step_size
    xs, _ = odeint(field.bind(graphs.edge_index(adj), num_nodes=v), (x0[:, None], y0[:, None]), t,
                   method="imex", options={"step_size": step_size})
    loss = (xs[-1, :, 0] - target).pow(2).sum() / (2 * v)
    grads = torch.autograd.grad(loss, [layer.weight for layer in coupling.layers])
    return float(loss.detach()), torch.stack(grads), xs[:, :, 0].detach()
