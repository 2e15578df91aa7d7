"""Prop. 3.1: the energy of the linear, undamped oscillator system (8), and of its scheme (4).

With σ = id, γ = 1, α = 0 and rows of A summing to one, (8) is X'' = AX − X = −LX with L = I − A. For symmetric A

    d/dt [ Σ_i ‖Y_i‖² + tr(XᵀLX) ] = −2 tr(YᵀLX) + 2 tr(XᵀLY) = 0,

and tr(XᵀLX) = ½ Σ_i Σ_j A_ij ‖X_i − X_j‖². The conserved energy therefore counts each undirected edge once:

    E = Σ_i ‖Y_i‖² + ½ Σ_i Σ_{j∈N_i} A_ij ‖X_i − X_j‖².

Eq. (12) as printed omits the ½ (the symmetrisation step of the proof in C.1 drops it) and equals
E + tr(XᵀLX): it oscillates with the potential energy and is not conserved.

The scheme (4) with α = 0 is symplectic Euler for this quadratic Hamiltonian. Per eigenmode (p' = p − Δtλq,
q' = q + Δtp') it conserves p² + λq² − Δtλpq exactly, hence the modified energy

    Ẽ = Σ_i ‖Y_i‖² + tr(XᵀLX) − Δt tr(YᵀLX),

and |E − Ẽ| ≤ ½Δt√λ_max E: the energy error of (4) stays O(Δt) for all time, with no drift (Δt²λ_max < 4).
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphcon_ode.claims import graphs
from graphcon_ode.claims.finding import SOLVER_TOLERANCE, Finding, at_most, span
from graphcon_ode.claims.linear import identity, linear_field
from graphcon_ode.odeint import odeint


def edge_sum(x: Tensor, a: Tensor) -> Tensor:
    """Σ_i Σ_j A_ij ‖X_i − X_j‖² for x of shape [..., n, m], expanded so no n×n×m tensor is formed."""
    squares = x.pow(2).sum(-1)
    weighted = (a.sum(1) + a.sum(0)) * squares
    return weighted.sum(-1) - 2 * (x * (a @ x)).sum((-1, -2))


def energy(x: Tensor, y: Tensor, a: Tensor) -> Tensor:
    """The conserved energy Σ‖Y_i‖² + ½ΣΣ A_ij‖X_i − X_j‖² (each undirected edge counted once)."""
    return y.pow(2).sum((-1, -2)) + 0.5 * edge_sum(x, a)


def printed_energy(x: Tensor, y: Tensor, a: Tensor) -> Tensor:
    """Eq. (12) as printed: Σ‖Y_i‖² + ΣΣ A_ij‖X_i − X_j‖² (each undirected edge counted twice)."""
    return y.pow(2).sum((-1, -2)) + edge_sum(x, a)


def modified_energy(x: Tensor, y: Tensor, a: Tensor, step_size: float) -> Tensor:
    """Ẽ = Σ‖Y‖² + tr(XᵀLX) − Δt tr(YᵀLX), conserved exactly by the scheme (4) with α = 0, γ = 1, σ = id."""
    lx = x - a @ x
    return y.pow(2).sum((-1, -2)) + (x * lx).sum((-1, -2)) - step_size * (y * lx).sum((-1, -2))


def relative_variation(values: Tensor) -> float:
    """(max − min) / |first|: how far a supposedly conserved quantity moves."""
    return float((values.max() - values.min()) / values[0].abs())


def _problem(seed: int, num_nodes: int = 30, channels: int = 3) -> tuple[Tensor, Tensor, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    adj = graphs.random_graph(num_nodes, 0.2, gen)
    weights = torch.rand(num_nodes, num_nodes, generator=gen, dtype=graphs.DTYPE) + 0.5
    a = graphs.doubly_stochastic_operator(adj, weights + weights.T)
    x0 = torch.randn(num_nodes, channels, generator=gen, dtype=graphs.DTYPE)
    y0 = torch.randn(num_nodes, channels, generator=gen, dtype=graphs.DTYPE)
    return a, x0, y0


def findings(thorough: bool = False) -> list[Finding]:
    seeds = range(5) if thorough else range(1)
    horizon, steps, step_size = 20.0, 50_000 if thorough else 5_000, 0.2
    printed_drift, corrected_drift, scheme_error, late_over_early, modified_drift = [], [], [], [], []
    for seed in seeds:
        a, x0, y0 = _problem(seed)
        field = linear_field(a, alpha=0.0, gamma=1.0, activation=identity)
        with torch.no_grad():
            t = torch.linspace(0, horizon, 401, dtype=graphs.DTYPE)
            xs, ys = odeint(field, (x0, y0), t, method="dopri8", rtol=1e-12, atol=1e-14)
            printed_drift.append(relative_variation(printed_energy(xs, ys, a)))
            corrected_drift.append(relative_variation(energy(xs, ys, a)))

            t = torch.arange(steps + 1, dtype=graphs.DTYPE) * step_size
            xs, ys = odeint(field, (x0, y0), t, method="imex", options={"step_size": step_size})
            error = (energy(xs, ys, a) / energy(x0, y0, a) - 1).abs()
            scheme_error.append(float(error.max()))
            late_over_early.append(float(error[steps // 2:].max() / error[: steps // 2].max()))
            modified_drift.append(relative_variation(modified_energy(xs, ys, a, step_size)))

    setting = (f"{len(seeds)} random 30-node graph(s), symmetric doubly-stochastic A, σ = id, α = 0, γ = 1; "
               f"dopri8 (rtol 1e-12) on [0, {horizon:g}]")
    return [
        Finding("Prop. 3.1", "(11)-(12) as printed", at_most(SOLVER_TOLERANCE),
                f"printed energy Σ‖Y‖² + ΣΣA_ij‖X_i−X_j‖² varies by {span(printed_drift)} "
                f"of its initial value ({setting})", min(printed_drift)),
        Finding("Prop. 3.1", "(11) with ½ΣΣA_ij‖X_i−X_j‖²", at_most(SOLVER_TOLERANCE, corrected=True),
                f"counting each edge once, Σ‖Y‖² + ½ΣΣA_ij‖X_i−X_j‖² is conserved: max relative change "
                f"{max(corrected_drift):.2g} ({setting})", max(corrected_drift)),
        Finding("Prop. 3.1 (scheme)", "(4), α = 0", at_most(step_size),
                f"{steps} steps of Δt = {step_size:g}: energy error ≤ {max(scheme_error):.3g} of E(0), no drift "
                f"(max error over the second half / first half = {max(late_over_early):.3g}); the modified energy "
                f"Σ‖Y‖² + tr(XᵀLX) − Δt·tr(YᵀLX) is conserved to {max(modified_drift):.2g}", max(scheme_error)),
    ]
