"""Fig. 2: the layer-wise Dirichlet energy (13) of GCN, GAT and GraphCON on the 10×10 grid.

The paper's setting: a 10×10 grid with 4-neighbour connectivity, X⁰ ~ U([0, 1]), 100 layers with random weights,
ReLU, γ = 1, α ∈ {0, 0.5}; the authors' Δt = 1 and X⁰ = Y⁰. The claim: E(Xⁿ) of GCN and GAT decays exponentially,
GraphCON's does not for α = 0 and stabilises after an initial decay for α = 0.5. Random weights are drawn as PyG
initialises them, either independently per layer or one set shared by all layers (the authors' models).
A plain GNN layer is Xⁿ = σ(F(Xⁿ⁻¹)), the iteration (7) with scale 1.
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphcon_ode.claims import graphs
from graphcon_ode.claims.finding import NO_DECAY, Finding, at_least, at_most
from graphcon_ode.claims.oversmoothing import fitted_decay_rate
from graphcon_ode.claims.steady_states import fixed_point_iteration
from graphcon_ode.couplings import GAT, GCN
from graphcon_ode.energy import dirichlet_energy
from graphcon_ode.field import GraphCONField
from graphcon_ode.odeint import odeint

NOT_DECAYED = 0.1
"""No decay: E(Xⁿ)/E(X⁰) stays above this over the second half of the layers."""

LAYERS, CHANNELS, STEP_SIZE = 100, 16, 1.0


def layerwise_features(kind: str, alpha: float | None, seed: int, shared: bool = False,
                       layers: int = LAYERS, channels: int = CHANNELS) -> Tensor:
    """X⁰, …, Xᴺ on the 10×10 grid: ``alpha=None`` is the plain GCN/GAT stack, otherwise GraphCON (4), Δt = 1.

    ``kind`` is "gcn" or "gat"; ``shared`` uses one random weight set for all layers.
    """
    adj = graphs.grid(10, 10)
    torch.manual_seed(seed)
    num_steps = None if shared else layers
    coupling = (GCN(channels, num_steps=num_steps, step_size=STEP_SIZE) if kind == "gcn"
                else GAT(channels, num_steps=num_steps, step_size=STEP_SIZE))
    field = GraphCONField(coupling, alpha=1.0 if alpha is None else alpha, gamma=1.0).double()
    bound = field.bind(graphs.edge_index(adj), num_nodes=adj.shape[0])
    x0 = torch.rand(adj.shape[0], channels, dtype=torch.float64)
    with torch.no_grad():
        if alpha is None:
            return fixed_point_iteration(bound, x0, layers)
        t = torch.arange(layers + 1, dtype=torch.float64) * STEP_SIZE
        return odeint(bound, (x0, x0), t, method="imex", options={"step_size": STEP_SIZE})[0]


def layerwise_energy(kind: str, alpha: float | None, seed: int, shared: bool = False) -> Tensor:
    """E(Xⁿ) of eq. (13) for n = 0, …, 100."""
    edges = graphs.edge_index(graphs.grid(10, 10))
    return torch.stack([dirichlet_energy(x, edges) for x in layerwise_features(kind, alpha, seed, shared)])


def late_rate(energies: Tensor) -> float:
    """Fitted exponential decay rate of E(Xⁿ) per layer over the second half of the layers."""
    return fitted_decay_rate(torch.arange(len(energies), dtype=torch.float64), energies)


def findings(thorough: bool = False) -> list[Finding]:
    seeds = range(10) if thorough else range(3)
    plain = [layerwise_energy(kind, None, seed) for kind in ("gcn", "gat") for seed in seeds]
    undamped = [layerwise_energy(kind, 0.0, seed) for kind in ("gcn", "gat") for seed in seeds]
    damped = [layerwise_energy(kind, 0.5, seed) for kind in ("gcn", "gat") for seed in seeds]
    damped_shared = [layerwise_energy(kind, 0.5, seed, shared=True) for kind in ("gcn", "gat") for seed in seeds]

    runs = f"{2 * len(seeds)} runs (GCN and GAT couplings × {len(seeds)} seeds)"
    plain_rates = [late_rate(e) for e in plain]
    undamped_floor = min(float(e[LAYERS // 2:].min() / e[0]) for e in undamped)
    undamped_growth = max(float(e[-1] / e[0]) for e in undamped)
    damped_rates = [late_rate(e) for e in damped]
    levelled = sum(float(e[-1] / e[LAYERS // 2]) >= 0.1 for e in damped_shared)
    shared_rates = [late_rate(e) for e in damped_shared]
    setting = "10×10 grid, X⁰ = Y⁰ ~ U([0, 1])^16, ReLU, γ = 1, Δt = 1, 100 layers, PyG-initialised random weights"
    return [
        Finding("Fig. 2", "GCN, GAT: exponential decay", at_least(NO_DECAY),
                f"E(Xⁿ) decays at {min(plain_rates):.3g}–{max(plain_rates):.3g} per layer (n ≥ 50), "
                f"E(X¹⁰⁰)/E(X⁰) ≤ {max(float(e[-1] / e[0]) for e in plain):.2g}; {runs}; {setting}",
                min(plain_rates)),
        Finding("Fig. 2", "GraphCON, α = 0: no decay", at_least(NOT_DECAYED),
                f"min_(n≥50) E(Xⁿ)/E(X⁰) = {undamped_floor:.3g}; E grows, E(X¹⁰⁰)/E(X⁰) up to {undamped_growth:.2g}; "
                f"{runs}; {setting}", undamped_floor),
        Finding("Fig. 2", "GraphCON, α = 0.5: E stabilises", at_most(NO_DECAY),
                f"with independent weights per layer E(Xⁿ) decays exponentially at {min(damped_rates):.3g}–"
                f"{max(damped_rates):.3g} per layer (E(X¹⁰⁰)/E(X⁰) ≤ {max(float(e[-1] / e[0]) for e in damped):.2g}) "
                f"in all {len(damped)} runs; with one weight set shared over layers E levels off "
                f"(E(X¹⁰⁰)/E(X⁵⁰) ≥ 0.1) in {levelled} of {len(damped_shared)} runs (rates {min(shared_rates):.2g}–"
                f"{max(shared_rates):.2g}); {setting}", min(damped_rates)),
    ]
