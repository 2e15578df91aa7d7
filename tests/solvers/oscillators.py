"""Test systems with the split protocol (force, alpha, gamma), written here so that tests do not lean on the library."""

from __future__ import annotations

import math

import torch


class DrivenOscillator:
    """q'' = g(t, q) − γq − αq' with g(t, q) = F cos(ωt) − κq: independent damped, driven linear oscillators.

    Counts its force evaluations in ``calls``; ``exact`` is the closed-form solution.
    """

    def __init__(self, alpha: float, gamma: float = 1.0, kappa: float = 0.5, amplitude: float = 0.3,
                 omega: float = 1.7):
        self.alpha, self.gamma, self.kappa, self.amplitude, self.omega = alpha, gamma, kappa, amplitude, omega
        self.calls = 0

    def force(self, t, q):
        self.calls += 1
        return self.amplitude * torch.cos(self.omega * t) - self.kappa * q

    def acceleration(self, t, q, p):
        return self.force(t, q) - self.gamma * q - self.alpha * p

    def __call__(self, t, state):
        q, p = state
        return p, self.acceleration(t, q, p)

    def energy(self, q, p):
        """½p² + ½ω₀²q² with ω₀² = γ + κ, summed over the oscillators (conserved when α = F = 0)."""
        return 0.5 * (p**2 + (self.gamma + self.kappa) * q**2).sum(-1)

    def exact(self, t: float, q0: torch.Tensor, p0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q'' + αq' + ω₀²q = F cos(ωt), ω₀² = γ + κ: the particular solution A cos ωt + B sin ωt plus the free
        solution fitted to (q0, p0): e^{−αt/2}(C₁ cos ω_d t + C₂ sin ω_d t), ω_d = √(ω₀² − α²/4), when
        underdamped (α < 2ω₀); C₁e^{r₁t} + C₂e^{r₂t}, r₁,₂ = −α/2 ± √(α²/4 − ω₀²), when overdamped (α > 2ω₀)."""
        w0sq, w, f, lam = self.gamma + self.kappa, self.omega, self.amplitude, self.alpha / 2
        d = (w0sq - w**2) ** 2 + (self.alpha * w) ** 2
        a, b = f * (w0sq - w**2) / d, f * self.alpha * w / d
        q = a * math.cos(w * t) + b * math.sin(w * t)
        p = -a * w * math.sin(w * t) + b * w * math.cos(w * t)
        q_free, p_free = q0 - a, p0 - b * w
        if lam**2 < w0sq:
            wd = math.sqrt(w0sq - lam**2)
            c1, c2 = q_free, (p_free + lam * q_free) / wd
            decay, cos_d, sin_d = math.exp(-lam * t), math.cos(wd * t), math.sin(wd * t)
            return (q + decay * (c1 * cos_d + c2 * sin_d),
                    p + decay * ((-lam * c1 + wd * c2) * cos_d + (-lam * c2 - wd * c1) * sin_d))
        r1, r2 = -lam + math.sqrt(lam**2 - w0sq), -lam - math.sqrt(lam**2 - w0sq)
        c1 = (p_free - r2 * q_free) / (r1 - r2)
        c2 = q_free - c1
        return (q + c1 * math.exp(r1 * t) + c2 * math.exp(r2 * t),
                p + r1 * c1 * math.exp(r1 * t) + r2 * c2 * math.exp(r2 * t))
