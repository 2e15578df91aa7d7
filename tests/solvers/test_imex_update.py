"""The fused eq. (4) update against the formula written out with autograd's own operations, in float64."""

from __future__ import annotations

import pytest
import torch

from solvers.imex_update import imex_update


def written_out(force, q, p, dt, alpha, gamma):
    """Eq. (4) after the force: p⁺ = p + Δt (g − γq − αp), q⁺ = q + Δt p⁺."""
    p_next = p + dt * (force - gamma * q - alpha * p)
    return q + dt * p_next, p_next


def inputs(seed=0, shape=(7, 3)):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator, dtype=torch.float64, requires_grad=True) for _ in range(3)]


@pytest.mark.parametrize("dt", [0.3, -0.2, 1.0])
def test_values_match_the_formula(dt):
    force, q, p = inputs()
    got = imex_update(force, q, p, dt, 0.7, 1.3)
    want = written_out(force, q, p, dt, 0.7, 1.3)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-14)


def test_inputs_are_not_changed():
    force, q, p = inputs()
    before = [x.detach().clone() for x in (force, q, p)]
    imex_update(force, q, p, 0.25, 0.5, 2.0)
    for x, y in zip((force, q, p), before):
        assert torch.equal(x.detach(), y)


@pytest.mark.parametrize("read", ["q", "p", "both"])
@pytest.mark.parametrize("learned", [False, True])
def test_gradients_match_autograd_of_the_formula(read, learned):
    force, q, p = inputs(1)
    alpha = torch.tensor(0.6, dtype=torch.float64, requires_grad=True) if learned else 0.6
    gamma = torch.tensor(1.7, dtype=torch.float64, requires_grad=True) if learned else 1.7
    weights = inputs(2)[:2]

    def loss(pair):
        q_next, p_next = pair
        terms = {"q": (q_next * weights[0]).sum(), "p": (p_next * weights[1]).sum()}
        return terms["q"] + terms["p"] if read == "both" else terms[read]

    leaves = [force, q, p] + ([alpha, gamma] if learned else [])
    got = torch.autograd.grad(loss(imex_update(force, q, p, 0.4, alpha, gamma)), leaves, allow_unused=True)
    want = torch.autograd.grad(loss(written_out(force, q, p, 0.4, alpha, gamma)), leaves, allow_unused=True)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)


def test_gradcheck_and_second_derivatives():
    force, q, p = inputs(3, (4, 2))
    alpha = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    gamma = torch.tensor(0.9, dtype=torch.float64, requires_grad=True)

    def fn(force, q, p, alpha, gamma):
        return imex_update(force, q, p, 0.35, alpha, gamma)

    assert torch.autograd.gradcheck(fn, (force, q, p, alpha, gamma))
    assert torch.autograd.gradgradcheck(fn, (force, q, p, alpha, gamma))
    assert torch.autograd.gradgradcheck(lambda f, q, p: imex_update(f, q, p, 0.35, 0.3, 0.9), (force, q, p))


def test_an_unused_input_gets_no_gradient():
    force, q, _ = inputs(4)
    p = torch.zeros_like(q)  # the velocity at rest, as a solve starts
    q_next, _ = imex_update(force, q, p, 0.5, 1.0, 1.0)
    q_next.sum().backward()
    assert p.grad is None
    torch.testing.assert_close(force.grad, torch.full_like(force, 0.25))
    torch.testing.assert_close(q.grad, torch.full_like(q, 1 - 0.25))


def test_the_same_tensor_as_position_and_velocity():
    force, q, _ = inputs(5)
    got = imex_update(force, q, q, 0.3, 0.5, 1.5)
    (got[0].sum() + 2 * got[1].sum()).backward()
    grads = [force.grad.clone(), q.grad.clone()]
    force.grad = q.grad = None
    want = written_out(force, q, q, 0.3, 0.5, 1.5)
    (want[0].sum() + 2 * want[1].sum()).backward()
    for a, b, g, h in zip(got, want, grads, (force.grad, q.grad)):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-14)
        torch.testing.assert_close(g, h, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("learned", [False, True])
def test_without_values_the_graph_gives_the_same_gradients(learned):
    force, q, p = inputs(6)
    alpha = torch.tensor(0.6, dtype=torch.float64, requires_grad=True) if learned else 0.6
    leaves = [force, q, p] + ([alpha] if learned else [])
    adjoint = inputs(7)[:2]
    want = torch.autograd.grad(imex_update(force, q, p, 0.3, alpha, 1.1), leaves, adjoint)
    got = torch.autograd.grad(imex_update(force, q, p, 0.3, alpha, 1.1, values=False), leaves, adjoint)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_imex_replay_has_the_step_graph():
    from solvers.methods import Imex
    from tests.solvers.oscillators import DrivenOscillator

    system = DrivenOscillator(alpha=0.4)
    _, q, p = inputs(8)
    adjoint = inputs(9)[:2]
    t = torch.tensor(0.2, dtype=torch.float64)
    want = torch.autograd.grad(Imex().step(system, t, 0.1, q, p), (q, p), adjoint)
    got = torch.autograd.grad(Imex().replay(system, t, 0.1, q, p), (q, p), adjoint)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
