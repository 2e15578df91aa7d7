"""Generic tests over the registries: every method in ``solvers.METHODS`` and every backward mode in
``solvers.BACKWARD_MODES`` is checked against its written contract, so a new entry is covered without a new test.

The checks are plain functions of a registry name; the parametrised tests below run them over the registries as
they are, and the last tests add a toy method and a toy backward mode with one registry line each and run the
same checks on them.
"""

import numpy as np
import pytest
import torch
import torchdiffeq

import solvers
from graphcon_ode import GCN, GraphCONField, odeint
from solvers import BACKWARD_MODES, METHODS, BackwardMode, PartitionedMethod
from solvers.compat import SOLVERS
from tests.graphs import random_graph
from tests.solvers.oscillators import DrivenOscillator

Q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
P0 = torch.tensor([0.2, 0.7], dtype=torch.float64)
STEP_SIZES = [0.1 / 2**k for k in range(4)]


def check_observed_order(name):
    """The slope of log(error) against log(Δt) on a driven, damped oscillator with a closed-form solution."""
    system = DrivenOscillator(alpha=0.6)
    q_exact, p_exact = system.exact(2.0, Q0, P0)
    errors = []
    for dt in STEP_SIZES:
        qs, ps = odeint(system, (Q0, P0), torch.tensor([0.0, 2.0], dtype=torch.float64), method=name,
                        options={"step_size": dt})
        errors.append(max((qs[-1] - q_exact).abs().max().item(), (ps[-1] - p_exact).abs().max().item()))
    observed = np.polyfit(np.log(STEP_SIZES), np.log(errors), 1)[0]
    assert abs(observed - METHODS[name].order) <= 0.2, (observed, errors)


def check_inverse_undoes_step(name):
    if not METHODS[name].invertible:
        return
    method = solvers.get_method(name)
    for dt in (0.1, -0.1):
        system = DrivenOscillator(alpha=0.8)
        t = torch.tensor(0.3, dtype=torch.float64)
        q1, p1 = method.step(system, t, dt, Q0, P0, method.start())
        q, p = method.inverse(system, t, dt, q1, p1, method.start())
        assert torch.allclose(q, Q0, rtol=0, atol=1e-14) and torch.allclose(p, P0, rtol=0, atol=1e-14)


def check_step_leaves_its_inputs_alone(name):
    method = solvers.get_method(name)
    q, p, t = Q0.clone(), P0.clone(), torch.tensor(0.3, dtype=torch.float64)
    method.step(DrivenOscillator(alpha=0.8), t, 0.1, q, p, method.start())
    assert torch.equal(q, Q0) and torch.equal(p, P0) and float(t) == 0.3


def check_agrees_with_torchdiffeq(name):
    system = DrivenOscillator(alpha=0.8)
    t = torch.tensor([0.0, 0.35, 1.0], dtype=torch.float64)
    ours = odeint(system, (Q0, P0), t, method=name, options={"step_size": 0.1})
    theirs = torchdiffeq.odeint(system, (Q0, P0), t, method=name, options={"step_size": 0.1})
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, rtol=0, atol=1e-13)


def check_plain_function_refused(name):
    if not METHODS[name].requires_split:
        return

    def plain(t, state):
        return state[1], -state[0]

    with pytest.raises(TypeError, match=f"method='{name}' needs a field that exposes force"):
        odeint(plain, (Q0, P0), torch.tensor([0.0, 1.0], dtype=torch.float64), method=name,
               options={"step_size": 0.1})


METHOD_CHECKS = [check_observed_order, check_inverse_undoes_step, check_step_leaves_its_inputs_alone,
                 check_agrees_with_torchdiffeq, check_plain_function_refused]


def graphcon_problem():
    torch.manual_seed(0)
    field = GraphCONField(GCN(3), alpha=0.5, gamma=1.3, activation=torch.tanh).double()
    x0 = torch.randn(7, 3, dtype=torch.float64)
    y0 = torch.randn(7, 3, dtype=torch.float64)
    return field, random_graph(7, 12), x0, y0


def gradients(method, mode):
    field, edge_index, x0, y0 = graphcon_problem()
    x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()
    t = torch.tensor([0.0, 0.37, 1.0, 2.0], dtype=torch.float64)
    xs, ys = odeint(field.bind(edge_index), (x, y), t, method=method, options={"step_size": 0.1}, backward=mode)
    loss = sum((k + 1) * (xs[k].pow(2).sum() + (torch.sin(xs[k]) * ys[k]).sum()) for k in range(1, len(t)))
    loss.backward()
    return [x.grad, y.grad] + [p.grad for p in field.parameters()]


def check_mode_gradient_equals_backprop(mode, method):
    """Every exact mode gives backprop's gradient of the discrete solve, tensor by tensor, in float64."""
    if not (BACKWARD_MODES[mode].exact and BACKWARD_MODES[mode].accepts(method)):
        return
    reference = gradients(method, "backprop")
    for got, expected in zip(gradients(method, mode), reference):
        assert (got - expected).norm() <= 1e-7 * expected.norm(), (mode, method)


@pytest.mark.parametrize("check", METHOD_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", list(METHODS))
def test_every_registered_method_keeps_the_contract(name, check):
    check(name)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("mode", list(BACKWARD_MODES))
def test_every_exact_backward_mode_gives_backprops_gradient(mode, method):
    check_mode_gradient_equals_backprop(mode, method)


@pytest.mark.parametrize("mode", list(BACKWARD_MODES))
def test_every_backward_mode_refuses_an_unknown_option(mode):
    with pytest.raises(ValueError, match=r"'no_such_option'"):
        BACKWARD_MODES[mode](no_such_option=1)


class DriftKick(PartitionedMethod):
    """A toy method: q⁺ = q + Δt p, then p⁺ = p + Δt a(t + Δt, q⁺, p); first order, invertible."""

    name, order, invertible = "toy_drift_kick", 1, True

    def step(self, system, t, dt, q, p, state=None):
        q_next = q + dt * p
        return q_next, p + dt * system.acceleration(t + dt, q_next, p)

    def inverse(self, system, t, dt, q, p, state=None):
        drive = system.force(t + dt, q) - system.gamma * q
        p_prev = (p - dt * drive) / (1 - system.alpha * dt)
        return q - dt * p_prev, p_prev


class PlainReplay(BackwardMode):
    """A toy backward mode: the library's loop under autograd, i.e. backprop written as a new mode."""

    name, partitioned_only = "toy_plain_replay", True

    def run(self, problem, system, stats):
        return solvers.integrate(solvers.get_method(problem.method), system, problem.q0, problem.p0, problem.t,
                                 problem.step_size)


@pytest.fixture
def toy_registry(monkeypatch):
    monkeypatch.setitem(METHODS, DriftKick.name, DriftKick)
    monkeypatch.setitem(BACKWARD_MODES, PlainReplay.name, PlainReplay)
    solvers.register_with_torchdiffeq()
    yield
    SOLVERS.pop(DriftKick.name, None)


def test_a_toy_method_added_by_one_registry_line_passes_the_generic_checks(toy_registry):
    for check in METHOD_CHECKS:
        check(DriftKick.name)
    for mode in BACKWARD_MODES:
        check_mode_gradient_equals_backprop(mode, DriftKick.name)


def test_a_toy_backward_mode_added_by_one_registry_line_passes_the_generic_checks(toy_registry):
    for method in METHODS:
        check_mode_gradient_equals_backprop(PlainReplay.name, method)
    with pytest.raises(ValueError, match="'no_such_option'"):
        PlainReplay(no_such_option=1)
    _, stats = odeint(DrivenOscillator(alpha=0.5), (Q0, P0), torch.tensor([0.0, 1.0], dtype=torch.float64),
                      backward=PlainReplay.name, options={"step_size": 0.1}, return_stats=True)
    assert stats.backward == PlainReplay.name and stats.steps == 10 and stats.nfe_forward == 10
