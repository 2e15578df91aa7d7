"""How much undoing steps amplifies round-off: the a-priori bound that sets the anchor spacing of reversible backprop.

Undoing a step of a damped method expands: for eq. (4), p = (p⁺ − Δt(g(q) − γq)) / (1 − αΔt), so an error
in the reconstructed state grows by about |1 − αΔt|⁻¹ per step, times what the force adds through its
Jacobian. The bound here linearises the force: a mode of the Jacobian with eigenvalue κ, |κ| ≤ L, turns one
step into a 4 × 4 real map (κ complex, written as a 2 × 2 rotation-scaling), and the inverse step is the
method's own ``inverse`` applied to the basis vectors, so the bound holds for every invertible method without
knowing its formula. Over k undone steps an error grows at most by

    A(k) = max_κ ‖M_κ^{−k}‖₂,    κ ∈ {L e^{iθ}, θ = 0, π/4, …} ∪ {0},

and the round-off committed on the way back adds up to about ε Σ_{j≤k} A(j) relative to the state. L is a
power-iteration estimate of the force's Lipschitz constant ‖∂g/∂q‖₂ at the initial state.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .methods import PartitionedMethod
from .system import SplitSystem

ANGLES = 8


def force_lipschitz(system: SplitSystem, t: Tensor, q: Tensor, iterations: int = 4) -> float:
    """Estimate ‖∂g/∂q‖₂ at (t, q) by power iteration on JᵀJ (Jv by a finite difference, Jᵀu by autograd)."""
    return power_iteration(system, t, q, iterations)[0]


def power_iteration(system: SplitSystem, t: Tensor, q: Tensor, iterations: int = 4,
                    start: Tensor | None = None) -> tuple[float, Tensor, Tensor]:
    """(estimate of ‖∂g/∂q‖₂, the last iterate v, g(t, q)): ``iterations`` steps v ← JᵀJ v / ‖v‖ from ``start``
    (default a seeded random vector), the estimate √‖JᵀJ v‖ after the last. Each step costs one evaluation of
    the force and one backward pass; g itself one more. A ``start`` from an earlier estimate of a nearby force
    (the same field a training step before) is a warm start, as in spectral normalisation."""
    q = q.detach()
    if start is None:
        generator = torch.Generator(device=q.device).manual_seed(0)
        v = torch.randn(q.shape, generator=generator, dtype=q.dtype, device=q.device)
    else:
        v = start
    with torch.enable_grad():
        x = q.clone().requires_grad_(True)
        g = system.force(t, x)
    if not g.requires_grad:
        return 0.0, v, g
    h = math.sqrt(torch.finfo(q.dtype).eps) * max(1.0, float(q.norm()))
    estimate = 0.0
    for _ in range(iterations):
        v = v / v.norm()
        with torch.no_grad():
            jv = (system.force(t, q + h * v) - g) / h
        (jtjv,) = torch.autograd.grad(g, x, jv, retain_graph=True)
        estimate = math.sqrt(float(jtjv.norm()))
        if estimate == 0.0:
            break
        v = jtjv
    return estimate, v, g.detach()


class _LinearMode:
    """q'' = κq − γq − αq' for one complex eigenvalue κ of the force's Jacobian, on a real 2-vector."""

    def __init__(self, alpha: float, gamma: float, kappa: complex):
        self.alpha, self.gamma = alpha, gamma
        self.matrix = torch.tensor([[kappa.real, -kappa.imag], [kappa.imag, kappa.real]], dtype=torch.float64)

    def force(self, t: Tensor, q: Tensor) -> Tensor:
        return q @ self.matrix.T

    def acceleration(self, t: Tensor, q: Tensor, p: Tensor) -> Tensor:
        return self.force(t, q) - self.gamma * q - self.alpha * p


def inverse_step_matrices(method: PartitionedMethod, alpha: float, gamma: float, lipschitz: float,
                          dt: float) -> Tensor:
    """M_κ⁻¹ for every sampled κ, as a [ANGLES + 1, 4, 4] float64 tensor acting on (q, p) ∈ ℝ² × ℝ²."""
    kappas = [0j] + [lipschitz * complex(math.cos(a), math.sin(a))
                     for a in (2 * math.pi * i / ANGLES for i in range(ANGLES))]
    basis = torch.eye(4, dtype=torch.float64)
    t = torch.zeros((), dtype=torch.float64)
    matrices = []
    for kappa in kappas:
        q, p = method.inverse(_LinearMode(alpha, gamma, kappa), t, dt, basis[:, :2], basis[:, 2:])
        matrices.append(torch.cat([q, p], dim=1).T)
    return torch.stack(matrices)


def amplification(matrices: Tensor, max_steps: int, budget: float) -> list[float]:
    """A(1), A(2), … (see the module docstring), stopping after ``max_steps`` or once Σ A(j) exceeds ``budget``."""
    power = matrices
    growth: list[float] = []
    total = 0.0
    while len(growth) < max_steps:
        a = float(torch.linalg.matrix_norm(power, ord=2).max())
        growth.append(a)
        total += a
        if total > budget or not math.isfinite(a):
            break
        power = power @ matrices
    return growth
