"""The dense part of one eq. (4) step as a single autograd node.

For a split system p' = g(t, q) − γq − αp (:class:`solvers.system.SplitSystem`), the IMEX step of Rusch et al.
(2022), eq. (4), given the force g = g(t, q) already evaluated, is

    p⁺ = (1 − αΔt) p + Δt (g − γ q),    q⁺ = q + Δt p⁺.

Written with autograd's own operations this is five new [n, m] tensors forward (γq, g − γq, αp, the sum, q⁺) and
about as many backward, each a full pass over memory. :func:`imex_update` computes it in the passes the formula
needs and differentiates it by hand: with ḡ_q, ḡ_p the gradients reaching q⁺ and p⁺ and r = ḡ_p + Δt ḡ_q the total
gradient of p⁺,

    ḡ = Δt r,    q̄ = ḡ_q − γΔt r,    p̄ = (1 − αΔt) r,    ᾱ = −Δt ⟨p, r⟩,    γ̄ = −Δt ⟨q, r⟩.

The backward is written in differentiable operations, so a second derivative (``create_graph=True``) still works;
the in-place shortcuts are taken only when it is not asked for.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _scaled(x: Tensor, scale: float | Tensor) -> Tensor:
    """scale·x as a new tensor."""
    return x * scale if isinstance(scale, Tensor) else x.mul(scale)


class _ImexUpdate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, force: Tensor, q: Tensor, p: Tensor, dt: float, alpha: float | Tensor,
                gamma: float | Tensor, values: bool = True) -> tuple[Tensor, Tensor]:
        decay = 1 - alpha * dt
        if not values:
            q_next, p_next = torch.empty_like(q), torch.empty_like(p)
        elif isinstance(alpha, Tensor) or isinstance(gamma, Tensor):
            p_next = p * decay + (force - gamma * q) * dt
        else:
            p_next = p.mul(decay).add_(force, alpha=dt).sub_(q, alpha=gamma * dt)
        if values:
            q_next = q.add(p_next, alpha=dt)
        ctx.dt, ctx.alpha, ctx.gamma = dt, alpha, gamma
        ctx.set_materialize_grads(False)  # an output nothing reads gets None in backward, not a tensor of zeros
        tensors = [alpha if isinstance(alpha, Tensor) else None, gamma if isinstance(gamma, Tensor) else None]
        keep_p = ctx.needs_input_grad[4]
        keep_q = ctx.needs_input_grad[5]
        ctx.save_for_backward(p if keep_p else None, q if keep_q else None, *tensors)
        return q_next, p_next

    @staticmethod
    def backward(ctx, grad_q: Tensor | None, grad_p: Tensor | None):
        p, q, alpha, gamma = ctx.saved_tensors
        dt = ctx.dt
        alpha = ctx.alpha if alpha is None else alpha
        gamma = ctx.gamma if gamma is None else gamma
        needs = ctx.needs_input_grad
        if grad_q is None and grad_p is None:
            return None, None, None, None, None, None, None
        if grad_p is None:
            # r = Δt ḡ_q: ḡ = Δt² ḡ_q and q̄ = (1 − γΔt²) ḡ_q straight from ḡ_q, one pass each.
            r = grad_q.mul(dt) if needs[2] or needs[4] or needs[5] else None
            grad_force = grad_q.mul(dt * dt) if needs[0] else None
            grad_q_prev = _scaled(grad_q, 1 - gamma * dt * dt) if needs[1] else None
        else:
            r = grad_p.clone() if grad_q is None else grad_p.add(grad_q, alpha=dt)
            grad_force = r.mul(dt) if needs[0] else None
            grad_q_prev = None
            if needs[1]:
                if grad_q is None:
                    grad_q_prev = _scaled(r, -gamma * dt)
                elif isinstance(gamma, Tensor):
                    grad_q_prev = grad_q - gamma * dt * r
                else:
                    grad_q_prev = grad_q.add(r, alpha=-gamma * dt)
        grad_alpha = -dt * torch.sum(p * r) if needs[4] else None
        grad_gamma = -dt * torch.sum(q * r) if needs[5] else None
        grad_p_prev = None
        if needs[2]:
            decay = 1 - alpha * dt
            in_place = not torch.is_grad_enabled() and not isinstance(decay, Tensor)
            grad_p_prev = r.mul_(decay) if in_place else r * decay
        return grad_force, grad_q_prev, grad_p_prev, None, grad_alpha, grad_gamma, None


def imex_update(force: Tensor, q: Tensor, p: Tensor, dt: float, alpha: float | Tensor,
                gamma: float | Tensor, *, values: bool = True) -> tuple[Tensor, Tensor]:
    """(q⁺, p⁺) of eq. (4) from the force g(t, q): p⁺ = (1 − αΔt) p + Δt (g − γq), q⁺ = q + Δt p⁺.

    ``dt`` is a float (signed); ``alpha`` and ``gamma`` are floats or 0-dim tensors (trained coefficients, whose
    gradients flow). ``q`` and ``p`` are not changed; both results are new tensors. With ``values=False`` the
    results hold no values (uninitialised memory), only their place in the autograd graph: for a step replayed
    to take its vector-Jacobian product, whose outputs nobody reads (:meth:`solvers.methods.Imex.replay`).
    """
    if p is q:  # (a solve may start at Y⁰ = X⁰); torch.compile traces a Function only on distinct input tensors
        p = p.view_as(p)
    return _ImexUpdate.apply(force, q, p, dt, alpha, gamma, values)
