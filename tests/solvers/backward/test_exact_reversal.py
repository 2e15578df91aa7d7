"""Backward mode "exact_reversal": eq. (4) in fixed point against eq. (4) written out here, its damping factors
of every sign, its range checks at their edges, and the information buffer's exact multiplication."""

import pytest
import torch

from graphcon_ode import odeint
from solvers.backward.exact_reversal import BUFFER_LIMIT, ExactReversal, FixedPointImex, InformationBuffer
from solvers.integrate import StepGrid
from solvers.problem import Problem
from solvers.stats import SolveStats
from solvers.system import CountedFunction
from tests.solvers.oscillators import DrivenOscillator

Q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
P0 = torch.tensor([0.2, 0.7], dtype=torch.float64)


class Still:
    """g = 0, α = γ = 0: a step only moves q by Δt·p."""

    alpha, gamma = 0.0, 0.0

    def force(self, t, q):
        return torch.zeros_like(q)


def eq4(system, q, p, dt, steps):
    """p⁺ = p + Δt(g(t, q) − γq − αp), q⁺ = q + Δt p⁺, in float64; the states at every step."""
    states = [(q, p)]
    for k in range(steps):
        t = torch.tensor(k * dt, dtype=torch.float64)
        p = p + dt * (system.force(t, q) - system.gamma * q - system.alpha * p)
        q = q + dt * p
        states.append((q, p))
    return states


def loss_of(qs, ps):
    """Reads every output, the initial one included, with its own weight."""
    weights = torch.arange(1, len(qs) + 1, dtype=torch.float64)[:, None]
    return (weights * qs**2).sum() + (weights * torch.sin(qs) * ps).sum()


def gradients(system, dt, steps, backward):
    q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    t = torch.arange(steps + 1, dtype=torch.float64) * dt
    qs, ps = odeint(system, (q0, p0), t, options={"step_size": dt}, backward=backward)
    loss_of(qs, ps).backward()
    return qs.detach(), ps.detach(), q0.grad, p0.grad


@pytest.mark.parametrize("alpha, dt, steps", [(5.0, 0.1, 5), (15.0, 0.1, 5), (12.0, 0.1, 4), (0.5, 1.0, 3)],
                         ids=["c=1/2", "c=-1/2", "c=-1/5", "dt=1"])
def test_solve_and_gradient_follow_eq4_for_every_sign_of_the_damping_factor(alpha, dt, steps):
    system = DrivenOscillator(alpha=alpha)
    qs, ps, gq, gp = gradients(system, dt, steps, "exact_reversal")
    states = eq4(system, Q0, P0, dt, steps)
    assert torch.allclose(qs, torch.stack([q for q, _ in states]), rtol=0, atol=1e-10)
    assert torch.allclose(ps, torch.stack([p for _, p in states]), rtol=0, atol=1e-10)
    _, _, ref_q, ref_p = gradients(system, dt, steps, "backprop")
    assert torch.allclose(gq, ref_q, rtol=1e-7, atol=1e-9)
    assert torch.allclose(gp, ref_p, rtol=1e-7, atol=1e-9)


def test_a_single_output_time_is_the_initial_state_with_unit_gradient():
    q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    qs, ps = odeint(DrivenOscillator(alpha=0.5), (q0, p0), torch.tensor([0.0], dtype=torch.float64),
                    options={"step_size": 0.1}, backward="exact_reversal")
    assert torch.equal(qs.detach(), Q0[None])
    assert torch.allclose(ps.detach(), P0[None], rtol=0, atol=2.0**-44)
    (qs.sum() + 2 * ps.sum()).backward()
    assert torch.equal(q0.grad, torch.ones(2, dtype=torch.float64))
    assert torch.equal(p0.grad, torch.full((2,), 2.0, dtype=torch.float64))


def test_a_zero_length_last_step_evaluates_no_force_either_way():
    """[0, 2.1] in steps of 0.15 is a grid of 15 steps whose last has length 0."""
    q0 = Q0.clone().requires_grad_()
    (qs, _), stats = odeint(DrivenOscillator(alpha=0.5), (q0, P0), torch.tensor([0.0, 2.1], dtype=torch.float64),
                            options={"step_size": 0.15}, backward="exact_reversal", return_stats=True)
    assert stats.nfe_forward == 14
    qs[-1].sum().backward()
    assert stats.nfe_backward == 14


def test_buffer_figures_of_a_solve_without_spills():
    (_, _), stats = odeint(DrivenOscillator(alpha=0.5), (Q0, P0), torch.tensor([0.0, 1.0], dtype=torch.float64),
                           options={"step_size": 0.1}, backward="exact_reversal", return_stats=True)
    assert stats.extra["buffer_words"] == 1
    assert stats.extra["buffer_mib"] == 2 * 8 / 2**20


def test_parameters_the_force_does_not_read_get_no_gradient():
    used = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    unused = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)

    class Driven(DrivenOscillator):
        def force(self, t, q):
            return used * torch.cos(self.omega * t) - self.kappa * q

    t = torch.tensor([0.0, 0.5], dtype=torch.float64)
    grads = {}
    for mode in ("exact_reversal", "backprop"):
        qs, _ = odeint(Driven(alpha=0.5), (Q0, P0), t, options={"step_size": 0.1}, backward=mode,
                       adjoint_params=(used, unused))
        grads[mode] = torch.autograd.grad(qs[-1].sum(), (used, unused), allow_unused=True)
    assert grads["exact_reversal"][1] is None
    assert torch.allclose(grads["exact_reversal"][0], grads["backprop"][0], rtol=1e-7)


def test_a_force_that_changes_between_the_passes_is_refused_even_without_damping():
    """One undamped step: q comes back exactly (q − round(Δt P)), p does not, and the buffer stays empty."""

    class Noisy(DrivenOscillator):
        def force(self, t, q):
            return super().force(t, q) + 1e-9 * torch.rand_like(q)

    q0 = Q0.clone().requires_grad_()
    qs, _ = odeint(Noisy(alpha=0.0), (q0, P0), torch.tensor([0.0, 0.1], dtype=torch.float64),
                   options={"step_size": 0.1}, backward="exact_reversal")
    with pytest.raises(RuntimeError) as error:
        qs[-1].sum().backward()
    assert str(error.value) == ("adjoint='exact_reversal': the reversed solve did not return bit for bit to the "
                                "initial state; the force is not deterministic (e.g. atomic scatter on CUDA)")


def test_an_overflow_of_the_force_names_its_step():
    class Burst(DrivenOscillator):
        def force(self, t, q):
            return torch.full_like(q, 1e30) if float(t) > 0.25 else -q

    with pytest.raises(OverflowError) as error:
        odeint(Burst(alpha=0.5), (Q0, P0), torch.tensor([0.0, 1.0], dtype=torch.float64),
               options={"step_size": 0.1}, backward="exact_reversal")
    assert str(error.value) == ("adjoint='exact_reversal': a value left the fixed-point range ±131072 of "
                                "fraction_bits=44 (or is not finite) at step 3; lower fraction_bits")


def scheme(system, dt=0.1, end=0.1):
    grid = StepGrid(torch.tensor([0.0, end], dtype=torch.float64), dt, torch.zeros(1, dtype=torch.float64))
    return FixedPointImex(system, grid, torch.float64, 44)


def test_fixed_point_conversion_refuses_the_edge_of_its_range():
    fixed = scheme(Still())
    assert torch.equal(fixed.to_fixed(torch.tensor([2.0**16, -1.5], dtype=torch.float64)),
                       torch.tensor([2**60, -3 * 2**43]))
    with pytest.raises(OverflowError) as error:
        fixed.to_fixed(torch.tensor([2.0**17], dtype=torch.float64))
    assert str(error.value) == ("adjoint='exact_reversal': a value left the fixed-point range ±131072 of "
                                "fraction_bits=44 (or is not finite) at step 0; lower fraction_bits")


def test_a_step_onto_the_edge_of_the_range_is_refused():
    fixed = scheme(Still())
    p = torch.tensor([10])
    q_next, p_next = fixed.step(0, torch.tensor([2**60]), p, InformationBuffer(p))
    assert torch.equal(q_next, torch.tensor([2**60 + 1])) and torch.equal(p_next, p)
    with pytest.raises(OverflowError, match=r"^adjoint='exact_reversal': the state left the fixed-point range "
                                            r"±131072 at step 0; lower fraction_bits$"):
        fixed.step(0, torch.tensor([2**61 - 1]), p, InformationBuffer(p))


def test_the_damping_factor_is_the_nearest_fraction_with_a_denominator_up_to_2_16():
    system = DrivenOscillator(alpha=0.7071)
    n, d = scheme(system).ratio(0.1)
    c = 1.0 - 0.7071 * 0.1
    assert 1 <= d <= 2**16
    assert abs(n / d - c) <= 1.0 / d**2
    assert scheme(DrivenOscillator(alpha=15.0)).ratio(0.1) == (-1, 2)
    assert scheme(DrivenOscillator(alpha=0.5)).ratio(0.05) == (39, 40)


@pytest.mark.parametrize("n, d", [(2, 3), (39, 40)])
def test_the_buffer_spills_exactly_at_its_limit_and_divides_back(n, d):
    x = torch.tensor([123456789, -987654321, 5])
    below = InformationBuffer(x)
    below.bits = torch.full_like(x, BUFFER_LIMIT // d - 1)
    below.multiply(4, x, n, d)
    assert below.stack == [] and below.spilled_at == []
    at = InformationBuffer(x)
    at.bits = torch.full_like(x, BUFFER_LIMIT // d)
    before = at.bits
    y = at.multiply(4, x, n, d)
    assert len(at.stack) == 1 and at.spilled_at == [4] and torch.equal(at.stack[0], before)
    assert torch.equal(at.divide(4, y, n, d), x)
    assert torch.equal(at.bits, before) and at.stack == [] and at.spilled_at == []


def test_a_vanishing_damping_factor_is_refused_before_the_range_of_y0_is_checked():
    big = torch.full((2,), 1e6, dtype=torch.float64)
    with pytest.raises(ValueError) as error:
        odeint(DrivenOscillator(alpha=1.0), (big, big), torch.tensor([0.0, 2.0], dtype=torch.float64),
               options={"step_size": 1.0}, backward="exact_reversal")
    assert str(error.value) == ("adjoint='exact_reversal': the step multiplies the velocity by 1 - alpha * "
                                "step_size = 0 (alpha=1, step_size=1), which cannot be undone; use "
                                "adjoint='checkpoint'")


def test_y0_on_the_edge_of_the_range_is_refused():
    edge = torch.tensor([2.0**17, 0.0], dtype=torch.float64)
    with pytest.raises(ValueError) as error:
        odeint(DrivenOscillator(alpha=0.5), (edge, P0), torch.tensor([0.0, 0.2], dtype=torch.float64),
               options={"step_size": 0.1}, backward="exact_reversal")
    assert str(error.value) == "y0: entries up to 131072 do not fit the fixed-point range ±131072 of fraction_bits=44"


def test_run_keeps_the_step_limit_of_the_problem():
    system = DrivenOscillator(alpha=0.5)
    problem = Problem(system, Q0, P0, torch.tensor([0.0, 1.0], dtype=torch.float64), "imex",
                      options={"step_size": 0.1, "max_steps": 5})
    stats = SolveStats("imex", "exact_reversal")
    with pytest.raises(ValueError, match=r"^step_size: 0.1 over \[0, 1\] is 10 steps, more than the limit of 5 "):
        ExactReversal().run(problem, CountedFunction(system, stats), stats)
