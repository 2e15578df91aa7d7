"""Prop. 3.5: the gradient bound (20) for GraphCON-GCN (16) with σ = tanh (β = β′ = 1).

As printed, with A = max_i(|X⁰_i| + |Y⁰_i|), B = max_i|X̄_i| + β√(NΔt), D̂ = max_{i,j} 1/√(d_i d_j) and
Γ = 6 + 4β′D̂ max_n ‖wⁿ‖₁,

    |∂J/∂wℓ_k| ≤ (β′D̂Δt(1 + ΓNΔt)/v) (A + B²).

The proof multiplies ‖∂J/∂Zᴺ‖∞ ≤ (A + B)/v, ‖∂Zᴺ/∂Zℓ‖∞ ≤ 1 + ΓNΔt (with (47)) and ‖∂Zℓ/∂wℓ_k‖∞ ≤ Δtβ′D̂(A + B),
but (i) the product of the three is (A + B)², not A + B², and (ii) a row vector times a matrix times a column
vector is bounded by ‖g‖₁‖P‖∞‖s‖∞, and ‖∂J/∂Zᴺ‖₁ = (1/v)Σ_i|Xᴺ_i − X̄_i| ≤ A + B has no 1/v left. The bound
that the argument does prove (for Δt ≤ ½, where (41) gives |Xⁿ_i| ≤ |X⁰_i| + |Y⁰_i| + β√(nΔt), and (47)) is

    |∂J/∂wℓ_k| ≤ β′D̂Δt(1 + ΓNΔt)(A + B)².

The printed form fails wherever the gradient is quadratic in the features (large A) or a hub sums many
neighbours (a star's centre).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from graphcon_ode.claims import graphs
from graphcon_ode.claims.finding import Finding, at_most
from graphcon_ode.claims.scalar_gcn import loss_and_gradients


def constants(adj: Tensor, weights: Tensor) -> tuple[float, float]:
    """(D̂, Γ) of (21) with β′ = 1: D̂ = max 1/√(d_i d_j) = 1/min d_i, Γ = 6 + 4D̂ max_n ‖wⁿ‖₁."""
    d_hat = 1.0 / float((adj.sum(1) + 1).min())
    return d_hat, 6 + 4 * d_hat * float(weights.abs().sum(1).max())


def _feature_scales(x0: Tensor, y0: Tensor, target: Tensor, num_layers: int, step_size: float) -> tuple[float, float]:
    a = float((x0.abs() + y0.abs()).max())
    b = float(target.abs().max()) + math.sqrt(num_layers * step_size)
    return a, b


def printed_bound(adj: Tensor, weights: Tensor, x0: Tensor, y0: Tensor, target: Tensor, step_size: float) -> float:
    """The right-hand side of (20) as printed."""
    num_layers, v = weights.shape
    d_hat, big_gamma = constants(adj, weights)
    a, b = _feature_scales(x0, y0, target, num_layers, step_size)
    return d_hat * step_size * (1 + big_gamma * num_layers * step_size) / v * (a + b * b)


def corrected_bound(adj: Tensor, weights: Tensor, x0: Tensor, y0: Tensor, target: Tensor, step_size: float) -> float:
    """β′D̂Δt(1 + ΓNΔt)(A + B)², what the proof of (20) establishes."""
    num_layers = weights.shape[0]
    d_hat, big_gamma = constants(adj, weights)
    a, b = _feature_scales(x0, y0, target, num_layers, step_size)
    return d_hat * step_size * (1 + big_gamma * num_layers * step_size) * (a + b) ** 2


def condition_47(adj: Tensor, weights: Tensor, step_size: float) -> bool:
    """(47) for ℓ = 0, the worst layer: (1 + ΓΔt/2)ᴺ ≤ 1 + NΓΔt."""
    num_layers = weights.shape[0]
    big_gamma = constants(adj, weights)[1]
    return (1 + big_gamma * step_size / 2) ** num_layers <= 1 + num_layers * big_gamma * step_size


def star_counterexample(num_nodes: int = 40) -> tuple[float, float, float]:
    """(|∂J/∂w¹_hub|, printed (20), corrected) on a star, features 10, N = 10, Δt = 0.02 (so (47) holds)."""
    adj = graphs.star(num_nodes)
    gen = torch.Generator().manual_seed(0)
    weights = 0.1 * torch.randn(10, num_nodes, generator=gen, dtype=torch.float64)
    x0 = torch.full((num_nodes,), 10.0, dtype=torch.float64)
    zero = torch.zeros(num_nodes, dtype=torch.float64)
    _, grads, _ = loss_and_gradients(adj, weights, x0, zero, zero, 0.02)
    return (float(grads[0, 0].abs()), printed_bound(adj, weights, x0, zero, zero, 0.02),
            corrected_bound(adj, weights, x0, zero, zero, 0.02))


def random_search(trials: int, seed: int) -> float:
    """max of |∂J/∂wℓ_k| / corrected bound over random graphs, weights, features, N and Δt ≤ ½ with (47)."""
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    for _ in range(trials):
        def uniform(low: float, high: float) -> float:
            return low + (high - low) * float(torch.rand(1, generator=gen, dtype=torch.float64))

        v, num_layers = int(uniform(2, 40)), int(uniform(1, 30))
        adj = graphs.random_graph(v, uniform(0.05, 0.7), gen)
        weights = uniform(0.01, 3) * torch.randn(num_layers, v, generator=gen, dtype=torch.float64)
        big_gamma = constants(adj, weights)[1]
        step_size = uniform(0.05, 1) * min(0.5, 2.0 / (big_gamma * num_layers))
        x0, y0, target = (uniform(0, 5) * torch.randn(v, generator=gen, dtype=torch.float64) for _ in range(3))
        if not condition_47(adj, weights, step_size):
            continue
        _, grads, _ = loss_and_gradients(adj, weights, x0, y0, target, step_size)
        worst = max(worst, float(grads.abs().max()) / corrected_bound(adj, weights, x0, y0, target, step_size))
    return worst


def findings(thorough: bool = False) -> list[Finding]:
    trials = 1000 if thorough else 60
    gradient, printed, corrected = star_counterexample()
    sampled = random_search(trials, seed=0)
    return [
        Finding("Prop. 3.5", "(20) as printed", at_most(1.0),
                f"40-node star, X⁰ = 10, Y⁰ = X̄ = 0, N = 10, Δt = 0.02 ((47) holds): |∂J/∂w¹_hub| = {gradient:.3g} "
                f"exceeds (20) = {printed:.3g} by {gradient / printed:.3g}×", gradient / printed),
        Finding("Prop. 3.5", "(20) with (A + B)² and no 1/v", at_most(1.0, corrected=True),
                f"β′D̂Δt(1 + ΓNΔt)(A + B)², what the proof shows, holds: max |∂J/∂wℓ_k| / bound = {sampled:.3g} over "
                f"{trials} random graphs, weights and features (Δt ≤ ½, (47)); star example {gradient / corrected:.3g}",
                sampled),
    ]
