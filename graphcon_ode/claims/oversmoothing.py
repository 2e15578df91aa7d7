"""Props. 3.3–3.4: when do the zero-Dirichlet-energy steady states (c, 0) attract, and does E(X) decay?

Take (8) with ReLU, γ = 1 and a right-stochastic A (GAT at a constant state gives A = D̂⁻¹Â, eq. (36)). For c > 0
every (c1ᵀ, 0) is a steady state, and near it AX > 0, so the perturbation X̂ = X − c1ᵀ obeys exactly

    X̂'' = −L X̂ − α X̂',    L = I − A,

whose spectrum is real, in [0, 2). Each eigenmode λ of L evolves by r² + αr + λ = 0:

* λ = 0 (the constants on each component): r ∈ {0, −α}. This mode is neutral: the trajectory settles at another
  steady state (c', 0), c' = c + πᵀ(X̂(0) + Ŷ(0)/α)/πᵀ1 with πᵀL = 0. So no (c, 0) is exponentially stable, for
  any α — and with α = 0 the constant mode even drifts: X = (c + vt)1ᵀ, Y = v1ᵀ solves (8) with E(X) ≡ 0.
* λ > 0: decay rate (α − Re√(α² − 4λ))/2, positive for every α > 0, zero for α = 0.

The Dirichlet energy (13) sees only the modes λ > 0, so for every α > 0 it decays like exp(−2ρt),
ρ = min_{λ>0} (α − Re√(α² − 4λ))/2 — oversmoothing in the sense of (15), contrary to Prop. 3.4 (α ≥ ½) — and for
α = 0 it oscillates without decay. Prop. 3.3's "only if" fails: E decays exponentially while no steady state is
exponentially stable. For the scheme (4) each mode is multiplied per step by

    G_λ = [[1 − Δt²λ, Δt(1 − αΔt)], [−Δtλ, 1 − αΔt]],   det G_λ = 1 − αΔt,

so E(Xⁿ) decays per layer like ρ(G)²ⁿ with ρ(G) = max_{λ>0} spectral radius < 1 whenever α > 0 and the step is
stable; with α = γ = Δt = 1 the scheme is the plain GNN Xⁿ = σ(F(Xⁿ⁻¹)).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from graphcon_ode.claims import graphs
from graphcon_ode.claims.finding import NO_DECAY, Finding, at_most
from graphcon_ode.couplings import GAT
from graphcon_ode.energy import dirichlet_energy
from graphcon_ode.field import BoundGraphCONField, GraphCONField
from graphcon_ode.odeint import odeint

RETURNED = 0.01
"""Exponential stability of (c, 0): a perturbed state returns to within this fraction of the perturbation."""

ZERO_EIGENVALUE = 1e-9


def mode_decay_rates(eigenvalues: Tensor, alpha: float) -> Tensor:
    """−max Re r over the roots of r² + αr + λ = 0, per Laplacian eigenvalue λ (continuous time)."""
    root = torch.sqrt((alpha ** 2 - 4 * eigenvalues).to(torch.complex128))
    return (alpha - root.real) / 2


def dirichlet_decay_rate(a: Tensor, alpha: float) -> float:
    """Predicted exponential rate of E(X(t)) near (c, 0): 2 min_{λ>0} of the mode decay rates."""
    eigenvalues = graphs.laplacian_spectrum(a)
    return 2 * float(mode_decay_rates(eigenvalues[eigenvalues > ZERO_EIGENVALUE], alpha).min())


def layer_amplification(eigenvalues: Tensor, alpha: float, step_size: float) -> Tensor:
    """Spectral radius of G_λ, the per-step map of mode λ under the scheme (4) linearised at (c, 0)."""
    h = step_size
    g = torch.zeros(len(eigenvalues), 2, 2, dtype=torch.float64)
    g[:, 0, 0] = 1 - h * h * eigenvalues
    g[:, 0, 1] = h * (1 - alpha * h)
    g[:, 1, 0] = -h * eigenvalues
    g[:, 1, 1] = 1 - alpha * h
    return torch.linalg.eigvals(g).abs().max(-1).values


def dirichlet_layer_decay_rate(a: Tensor, alpha: float, step_size: float) -> float:
    """Predicted per-layer rate of E(Xⁿ) under (4) near (c, 0): −2 log max_{λ>0} ρ(G_λ) (∞ if every G_λ is
    nilpotent, e.g. α = γ = Δt = λ = 1)."""
    eigenvalues = graphs.laplacian_spectrum(a)
    radius = float(layer_amplification(eigenvalues[eigenvalues > ZERO_EIGENVALUE], alpha, step_size).max())
    return -2 * math.log(radius) if radius > 0 else math.inf


def fitted_decay_rate(times: Tensor, energies: Tensor) -> float:
    """−slope of the least-squares line through (t, log E) over the second half of the window."""
    keep = times >= (times[0] + times[-1]) / 2
    t, log_e = times[keep], energies[keep].log()
    t_mean = t.mean()
    return float(-((t - t_mean) * (log_e - log_e.mean())).sum() / (t - t_mean).pow(2).sum())


def uniform_attention_field(adj: Tensor, channels: int, alpha: float, seed: int) -> BoundGraphCONField:
    """GraphCON-GAT with W = I, no bias and random attention vectors: at a constant state A = D̂⁻¹Â exactly."""
    torch.manual_seed(seed)
    field = GraphCONField(GAT(channels, bias=False), alpha=alpha, gamma=1.0).double()
    with torch.no_grad():
        field.coupling.layers[0].lin.weight.copy_(torch.eye(channels, dtype=graphs.DTYPE))
    return field.bind(graphs.edge_index(adj), num_nodes=adj.shape[0])


def perturbed_constant_state(num_nodes: int, channels: int, size: float, seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """(c, X0, Y0): c ∈ [1, 2]^m, X0 = c1ᵀ + size·noise, Y0 = size·noise."""
    gen = torch.Generator().manual_seed(seed)
    c = 1 + torch.rand(channels, generator=gen, dtype=graphs.DTYPE)
    x0 = c + size * torch.randn(num_nodes, channels, generator=gen, dtype=graphs.DTYPE)
    y0 = size * torch.randn(num_nodes, channels, generator=gen, dtype=graphs.DTYPE)
    return c, x0, y0


def _trajectory(adj: Tensor, alpha: float, x0: Tensor, y0: Tensor,
                horizon: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(t, X, Y, E(X)) of GraphCON-GAT with uniform attention at constant states, dopri8, 801 output times."""
    field = uniform_attention_field(adj, x0.shape[1], alpha, seed=0)
    times = torch.linspace(0, horizon, 801, dtype=graphs.DTYPE)
    xs, ys = odeint(field, (x0, y0), times, method="dopri8", rtol=1e-12, atol=1e-14)
    edges = graphs.edge_index(adj)
    return times, xs, ys, torch.stack([dirichlet_energy(x, edges) for x in xs])


def _layers(adj: Tensor, alpha: float, x0: Tensor, y0: Tensor, num_layers: int) -> Tensor:
    """E(Xⁿ), n = 0…num_layers, under the scheme (4) with Δt = 1."""
    field = uniform_attention_field(adj, x0.shape[1], alpha, seed=0)
    layers = torch.arange(num_layers + 1, dtype=graphs.DTYPE)
    xs, _ = odeint(field, (x0, y0), layers, method="imex", options={"step_size": 1.0})
    edges = graphs.edge_index(adj)
    return torch.stack([dirichlet_energy(x, edges) for x in xs])


def findings(thorough: bool = False) -> list[Finding]:
    adj = graphs.grid(10, 10, periodic=True)
    a = graphs.attention_operator(adj)
    channels, size, horizon = 4, 1e-3, 40.0
    alphas = (0.5, 1.0, 2.0) if thorough else (0.5,)
    c, x0, y0 = perturbed_constant_state(adj.shape[0], channels, size, seed=0)
    with torch.no_grad():
        times, _, _, energies = _trajectory(adj, 0.0, x0, y0, horizon)
        undamped_rate = fitted_decay_rate(times, energies)
        undamped_floor = float(energies[len(times) // 2:].min() / energies[0])

        predicted = [dirichlet_decay_rate(a, alpha) for alpha in alphas]
        fitted = []
        for alpha, rate in zip(alphas, predicted):
            times, xs, _, energies = _trajectory(adj, alpha, x0, y0, 40 / rate)
            fitted.append(fitted_decay_rate(times, energies))
            if alpha == alphas[0]:
                degrees = adj.sum(1) + 1
                settled = c + (degrees @ (x0 - c + y0 / alpha)) / degrees.sum()
                offset = float((xs[-1] - c).abs().max())
                miss = float((xs[-1] - settled).abs().max())
                energy_drop = float(energies[-1] / energies[0])

        velocity = torch.full((channels,), 0.3, dtype=graphs.DTYPE)
        ones = torch.ones(adj.shape[0], 1, dtype=graphs.DTYPE)
        times, xs, _, energies = _trajectory(adj, 0.0, ones * c, ones * velocity, horizon)
        drift_energy = float(energies.max())
        travelled = float((xs[-1] - c).abs().min())

        layers = 60
        layer_fit = [fitted_decay_rate(torch.arange(layers + 1, dtype=graphs.DTYPE), _layers(adj, al, x0, y0, layers))
                     for al in (1.0, 0.5)]
        layer_predicted = [dirichlet_layer_decay_rate(a, al, 1.0) for al in (1.0, 0.5)]

    setting = (f"GraphCON-GAT (W = I, random attention) on the 4-regular 10×10 torus, ReLU, γ = 1, "
               f"X0 = c + {size:g}·noise, c ∈ [1, 2]^{channels}, dopri8 rtol 1e-12")
    rates = ", ".join(f"α = {al:g}: fitted {f:.4g} vs predicted {p:.4g}"
                      for al, f, p in zip(alphas, fitted, predicted))
    return [
        Finding("Prop. 3.3", "(15) ⇔ (c, 0) exponentially stable", at_most(RETURNED),
                f"with α = {alphas[0]:g}, E(X(T))/E(X(0)) = {energy_drop:.2g} (oversmoothing by (15)) while X(T) "
                f"stayed {offset:.3g} from c (perturbation {size:g}): it settled at the steady state c' that the "
                f"neutral constant mode predicts (to {miss:.2g}), so (c, 0) is not exponentially stable, yet E "
                f"decays. With α = 0, X0 = c1ᵀ, Y0 = 0.3·1ᵀ: max_t E(X(t)) = {drift_energy:.1g} while X travelled "
                f"{travelled:.3g} by t = {horizon:g} and approaches no steady state; {setting}", offset / size),
        Finding("Prop. 3.4", "α ≥ ½: E(X(t)) does not decay exponentially", at_most(NO_DECAY),
                f"Dirichlet energy decays exponentially at the rate 2 min_(λ>0) (α − Re√(α² − 4λ))/2 of the "
                f"linearisation: {rates} (per unit time); {setting}", fitted[0]),
        Finding("Prop. 3.4", "α = 0: no decay", at_most(NO_DECAY),
                f"E(X(t)) oscillates without decay: fitted rate {undamped_rate:.2g}, min over t ∈ [T/2, T] of "
                f"E(X(t))/E(X(0)) = {undamped_floor:.3g} (T = {horizon:g}); {setting}", undamped_rate),
        Finding("Prop. 3.4 (scheme)", "(4) near (c, 0)", at_most(NO_DECAY),
                f"with α = γ = Δt = 1 (the authors' Cora setting) (4) is the plain GAT Xⁿ = σ(F(Xⁿ⁻¹)); E(Xⁿ) decays "
                f"at {layer_fit[0]:.4g} per layer (predicted −2 log max ρ(G_λ) = {layer_predicted[0]:.4g}); with "
                f"α = 0.5, Δt = 1 at {layer_fit[1]:.4g} (predicted {layer_predicted[1]:.4g}); {setting}",
                layer_fit[0]),
    ]
