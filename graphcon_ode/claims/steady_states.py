"""Eqs. (6)–(7): the steady states of the scheme (4) and their fixed-point iteration.

A steady state of (4) has Xⁿ = Xⁿ⁻¹ = X* and Yⁿ = Yⁿ⁻¹ = Y*. The X-update gives Δt Y* = 0, so Y* = 0, and the
Y-update then gives 0 = Δt[σ(F(X*)) − γX*], i.e.

    X* = σ(F(X*)) / γ,

the steady state of the ODE (3) itself, for every Δt. Eq. (6) as printed, X* = (Δt/γ)σ(F(X*)), is a steady
state only when Δt = 1: one step of (4) from (X*, 0) gives Y¹ = Δt(γX*/Δt − γX*) = γ(1 − Δt)X*.

The fixed-point iteration Xⁿ = s·σ(F(Xⁿ⁻¹)) (eq. (7), s = Δt/γ as printed, s = 1/γ corrected) is a plain GNN
stack; for ReLU, s·ReLU(ŜXW + b) = ReLU(ŜX(sW) + sb), a GCN with rescaled weights. With αΔt = 1 and γΔt² = 1
(e.g. the authors' α = γ = Δt = 1) the scheme (4) is exactly this iteration with s = 1/γ: Yⁿ⁻¹ drops out.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from graphcon_ode.claims import graphs
from graphcon_ode.claims.finding import ROUND_OFF, Finding, at_most
from graphcon_ode.couplings import GCN
from graphcon_ode.field import BoundGraphCONField, GraphCONField
from graphcon_ode.odeint import odeint


def fixed_point_iteration(field: BoundGraphCONField, x0: Tensor, num_layers: int, scale: float = 1.0) -> Tensor:
    """X⁰ = x0, Xⁿ = scale·σ(F(Xⁿ⁻¹, t_{n−1})), eq. (7); returns all layers stacked, [num_layers + 1, ...].

    ``t_{n−1} = n − 1`` selects layer n − 1 of a per-step coupling whose ``step_size`` is 1.
    """
    xs = [x0]
    for n in range(num_layers):
        xs.append(scale * field.force(torch.tensor(float(n), dtype=x0.dtype), xs[-1]))
    return torch.stack(xs)


def scheme_step(field: BoundGraphCONField, x: Tensor, y: Tensor, step_size: float) -> tuple[Tensor, Tensor]:
    """(X¹, Y¹): one step of the scheme (4) from (x, y)."""
    t = torch.tensor([0.0, step_size], dtype=x.dtype)
    xs, ys = odeint(field, (x, y), t, method="imex", options={"step_size": step_size})
    return xs[-1], ys[-1]


def _contractive_gcn_field(adj: Tensor, channels: int, alpha: float, gamma: float, seed: int) -> BoundGraphCONField:
    """A GCN field whose map X ↦ σ(F(X))/γ is a contraction (‖W‖₂ = γ/2; ‖Ŝ‖₂ ≤ 1, ReLU is 1-Lipschitz)."""
    torch.manual_seed(seed)
    field = GraphCONField(GCN(channels), alpha=alpha, gamma=gamma).double()
    layer = field.coupling.layers[0]
    with torch.no_grad():
        layer.lin.weight.mul_(0.5 * gamma / torch.linalg.matrix_norm(layer.lin.weight, 2))
        layer.bias.copy_(torch.rand(channels, dtype=graphs.DTYPE))
    return field.bind(graphs.edge_index(adj), num_nodes=adj.shape[0])


def _scaled_copy(field: BoundGraphCONField, scale: float) -> BoundGraphCONField:
    """The same GCN field with weight and bias multiplied by ``scale``."""
    coupling = copy.deepcopy(field.field.coupling)
    with torch.no_grad():
        for p in coupling.parameters():
            p.mul_(scale)
    return GraphCONField(coupling, field.alpha, field.gamma).bind(field.edge_index, num_nodes=field.num_nodes)


def findings(thorough: bool = False) -> list[Finding]:
    step_sizes = (0.1, 0.3, 0.5, 0.8, 1.2) if thorough else (0.3, 0.8)
    alpha, gamma, channels = 0.7, 1.5, 8
    adj = graphs.random_graph(25, 0.2, torch.Generator().manual_seed(0))
    field = _contractive_gcn_field(adj, channels, alpha, gamma, seed=0)
    x0 = torch.zeros(adj.shape[0], channels, dtype=graphs.DTYPE)
    corrected, printed, stack_gap = [], [], []
    with torch.no_grad():
        steady = fixed_point_iteration(field, x0, 200, scale=1 / gamma)[-1]
        for dt in step_sizes:
            x1, y1 = scheme_step(field, steady, torch.zeros_like(steady), dt)
            corrected.append(float(torch.maximum((x1 - steady).abs().max(), y1.abs().max()) / steady.abs().max()))
            candidate = fixed_point_iteration(field, x0, 200, scale=dt / gamma)[-1]
            _, y1 = scheme_step(field, candidate, torch.zeros_like(candidate), dt)
            printed.append(float(y1.abs().max() / candidate.abs().max()))
            iteration = fixed_point_iteration(field, steady, 30, scale=dt / gamma)
            gcn_stack = fixed_point_iteration(_scaled_copy(field, dt / gamma), steady, 30)
            stack_gap.append(float((iteration - gcn_stack).abs().max() / gcn_stack.abs().max()))
        dt = gamma ** -0.5
        layered = GraphCONField(field.field.coupling, alpha=1 / dt, gamma=gamma).bind(field.edge_index)
        t = torch.arange(31, dtype=graphs.DTYPE) * dt
        xs, _ = odeint(layered, (x0, x0), t, method="imex", options={"step_size": dt})
        stack = fixed_point_iteration(field, x0, 30, scale=1 / gamma)
        identity_gap = float((xs[1:] - stack[1:]).abs().max() / stack.abs().max())
    setting = f"GraphCON-GCN with bias, ReLU, α = {alpha:g}, γ = {gamma:g}, 25-node random graph"
    steps = ", ".join(f"{dt:g}" for dt in step_sizes)
    return [
        Finding("Steady states", "(6) as printed", at_most(ROUND_OFF),
                f"(X*, 0) with X* = (Δt/γ)σ(F(X*)) moves in one step of (4): max|Y¹|/max|X*| = "
                f"{', '.join(f'{p:.3g}' for p in printed)} for Δt = {steps} (= γ|1 − Δt|: "
                f"{', '.join(f'{gamma * abs(1 - dt):.3g}' for dt in step_sizes)}); {setting}", max(printed)),
        Finding("Steady states", "(6) with X* = σ(F(X*))/γ", at_most(ROUND_OFF, corrected=True),
                f"the steady state of (4) is X* = σ(F(X*))/γ for every Δt (as for the ODE (3)): one step of (4) "
                f"leaves it fixed to {max(corrected):.2g} (relative) for Δt = {steps}; {setting}", max(corrected)),
        Finding("Steady states", "(7)", at_most(ROUND_OFF),
                f"30 iterations of (7) equal a 30-layer GCN with weights and bias scaled by Δt/γ to "
                f"{max(stack_gap):.2g}; with 1/γ in place of Δt/γ, (7) is exactly the scheme (4) at αΔt = γΔt² = 1 "
                f"(30 layers agree to {identity_gap:.2g}, relative)", max(stack_gap)),
    ]
