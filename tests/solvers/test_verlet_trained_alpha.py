"""Verlet keeps the gradient of a trained damping α however small αΔt is (e^{−αΔt/2} rounds to 1 there)."""

import pytest
import torch

from solvers.methods import Verlet
from tests.solvers.oscillators import DrivenOscillator


def velocity_after_step(alpha, q, p, dt=0.1):
    """p⁺ of kick–drift–kick with the exact damping flows, written from the scheme: c = e^{−αΔt/2},
    p½ = c p + (Δt/2) g(t, q), q⁺ = q + Δt p½, p⁺ = c (p½ + (Δt/2) g(t + Δt, q⁺)), g = F cos ωt − (κ + γ) q."""
    system = DrivenOscillator(alpha=0.0)
    c = torch.exp(-0.5 * dt * alpha)

    def g(t, x):
        return system.amplitude * torch.cos(system.omega * torch.tensor(t, dtype=x.dtype)) - (
            system.kappa + system.gamma) * x

    p_half = c * p + 0.5 * dt * g(0.0, q)
    q_next = q + dt * p_half
    return c * (p_half + 0.5 * dt * g(dt, q_next))


@pytest.mark.parametrize("value", [0.0, 1e-12, 1e-7])
def test_gradient_of_alpha_matches_the_scheme_written_out(value):
    q = torch.tensor([0.7, -0.3], dtype=torch.float64)
    p = torch.tensor([0.2, 0.9], dtype=torch.float64)
    alpha = torch.tensor(value, dtype=torch.float64, requires_grad=True)
    _, p_next = Verlet().step(DrivenOscillator(alpha=alpha), torch.tensor(0.0, dtype=torch.float64), 0.1, q, p)
    assert p_next.requires_grad
    (grad,) = torch.autograd.grad(p_next.sum(), alpha)
    reference_alpha = torch.tensor(value, dtype=torch.float64, requires_grad=True)
    (reference,) = torch.autograd.grad(velocity_after_step(reference_alpha, q, p).sum(), reference_alpha)
    assert float(reference) != 0.0
    torch.testing.assert_close(grad, reference, rtol=1e-12, atol=0.0)
