"""Backward mode "adjoint": which method solves the adjoint ODE, the tolerances it is handed, and the gradient of a
linear oscillator against its closed form and against explicit Euler on the adjoint equation written out here."""

import pytest
import torch
import torchdiffeq

from graphcon_ode import odeint
from tests.solvers.oscillators import DrivenOscillator

Q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
P0 = torch.tensor([0.2, 0.7], dtype=torch.float64)
T = torch.tensor([0.0, 2.0], dtype=torch.float64)


def free_oscillator():
    """q'' = −ω₀²q − αq' with ω₀² = γ + κ = 1.5, α = 0.3: linear, so d q(T) / d(q0, p0) is q(T) from (1, 0), (0, 1)."""
    return DrivenOscillator(alpha=0.3, amplitude=0.0)


def adjoint_gradients(system, method, **kwargs):
    q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    (qs, ps), stats = odeint(system, (q0, p0), T, method=method, backward="adjoint", return_stats=True, **kwargs)
    qs[-1].sum().backward()
    return (qs.detach(), ps.detach()), q0.grad, p0.grad, stats


def test_a_general_method_solves_the_adjoint_with_itself_by_default():
    """dopri5 forward at tight tolerances, no adjoint_method: the adjoint is solved by dopri5 at the same
    tolerances, so the gradient is the closed form's to 1e-6."""
    system = free_oscillator()
    _, gq, gp, _ = adjoint_gradients(system, "dopri5", rtol=1e-8, atol=1e-8)
    one, zero = torch.ones(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    assert torch.allclose(gq, system.exact(2.0, one, zero)[0], rtol=1e-6, atol=0)
    assert torch.allclose(gp, system.exact(2.0, zero, one)[0], rtol=1e-6, atol=0)


@pytest.mark.parametrize("tolerance", [1e-3, 1e-6])
def test_the_forward_solve_is_torchdiffeqs_at_the_given_tolerances(tolerance):
    system = free_oscillator()
    (qs, ps), stats = odeint(system, (Q0, P0), T, method="dopri5", rtol=tolerance, atol=tolerance,
                             backward="adjoint", return_stats=True)
    calls = system.calls
    q_ref, p_ref = torchdiffeq.odeint(system, (Q0, P0), T, rtol=tolerance, atol=tolerance, method="dopri5")
    assert torch.equal(qs, q_ref) and torch.equal(ps, p_ref)
    assert stats.nfe_forward == system.calls - calls


def test_a_given_adjoint_method_is_kept_for_a_partitioned_forward_method():
    """imex forward, explicit Euler backward in steps of h = 1/2: on a linear system the adjoint a' = −Aᵀa taken
    from T to 0 is a ← (I + hAᵀ) a, four times from a(T) = (1, 0), with A = [[0, 1], [−ω₀², −α]]."""
    system = free_oscillator()
    _, gq, gp, stats = adjoint_gradients(system, "imex", options={"step_size": 0.1}, adjoint_method="euler",
                                         adjoint_options={"step_size": 0.5})
    a_matrix = torch.tensor([[0.0, 1.0], [-(system.gamma + system.kappa), -system.alpha]], dtype=torch.float64)
    adjoint = torch.tensor([1.0, 0.0], dtype=torch.float64)
    for _ in range(4):
        adjoint = adjoint + 0.5 * a_matrix.T @ adjoint
    assert torch.allclose(gq, torch.full((2,), float(adjoint[0]), dtype=torch.float64), rtol=1e-12, atol=0)
    assert torch.allclose(gp, torch.full((2,), float(adjoint[1]), dtype=torch.float64), rtol=1e-12, atol=0)
    assert stats.nfe_backward == 4, "one evaluation an Euler step"


@pytest.mark.parametrize("method, adjoint_method", [("imex", "imex"), ("rk4", "verlet")])
def test_a_partitioned_adjoint_method_is_refused(method, adjoint_method):
    with pytest.raises(ValueError) as error:
        odeint(free_oscillator(), (Q0, P0), T, method=method, options={"step_size": 0.1}, backward="adjoint",
               adjoint_method=adjoint_method)
    assert str(error.value) == (
        f"adjoint_method={adjoint_method!r} is a partitioned method, but the adjoint state is not a (q, p) pair; "
        "use a general method such as 'rk4' or 'dopri5'"
    )
