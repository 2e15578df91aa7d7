"""Partitioned methods inside torchdiffeq: same numbers as the library's loop, tuple or flat state, any direction."""

import pytest
import torch
import torchdiffeq

import solvers  # noqa: F401  (registers the methods)
from graphcon_ode import GCN, GraphCONField, odeint
from solvers.compat import SOLVERS, FixedGridODESolver
from tests.graphs import random_graph


def damped_oscillator(alpha=0.3, gamma=2.0):
    def f(t, state):
        q, p = state
        return p, torch.sin(t) - gamma * q - alpha * p

    return f


def eq4_reference(f, q, p, times):
    """p⁺ = p + Δt a(t, q, p), q⁺ = q + Δt p⁺ on the given grid (Δt may be negative)."""
    for t0, t1 in zip(times[:-1], times[1:]):
        dt = t1 - t0
        p = p + dt * f(torch.tensor(t0, dtype=torch.float64), (q, p))[1]
        q = q + dt * p
    return q, p


@pytest.mark.parametrize("direction", [1.0, -1.0], ids=["forward", "reversed"])
def test_tuple_state_matches_eq4_both_directions(direction):
    f = damped_oscillator()
    q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
    p0 = torch.tensor([0.0, 0.3], dtype=torch.float64)
    t = direction * torch.tensor([0.0, 1.0], dtype=torch.float64)
    grid = [direction * k * 0.125 for k in range(9)]
    q_ref, p_ref = eq4_reference(f, q0, p0, grid)
    qs, ps = torchdiffeq.odeint(f, (q0, p0), t, method="imex", options={"step_size": 0.125})
    nq, npp = odeint(f, (q0, p0), t, method="imex", options={"step_size": 0.125})
    for q, p in ((qs, ps), (nq, npp)):
        assert torch.allclose(q[-1], q_ref, rtol=0, atol=1e-14)
        assert torch.allclose(p[-1], p_ref, rtol=0, atol=1e-14)


def test_flat_state_is_split_in_halves():
    f = damped_oscillator()

    def flat(t, y):
        q, p = y[:2], y[2:]
        return torch.cat(f(t, (q, p)))

    y0 = torch.tensor([1.0, -0.5, 0.0, 0.3], dtype=torch.float64)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    ys = torchdiffeq.odeint(flat, y0, t, method="imex", options={"step_size": 0.125})
    q_ref, p_ref = eq4_reference(f, y0[:2], y0[2:], [k * 0.125 for k in range(9)])
    assert torch.allclose(ys[-1], torch.cat([q_ref, p_ref]), rtol=0, atol=1e-14)


def test_odd_flat_state_and_unequal_tuple_are_rejected():
    with pytest.raises(ValueError, match="two equal halves"):
        torchdiffeq.odeint(lambda t, y: y, torch.ones(3), torch.tensor([0.0, 1.0]), method="imex")
    with pytest.raises(ValueError, match="same shape"):
        torchdiffeq.odeint(lambda t, s: s, (torch.ones(2), torch.ones(3)), torch.tensor([0.0, 1.0]),
                           method="imex")


def test_outputs_between_grid_points_interpolate_like_torchdiffeq():
    torch.manual_seed(0)
    field = GraphCONField(GCN(4)).double()
    f = field.bind(random_graph(8, 12))
    x0 = torch.randn(8, 4, dtype=torch.float64)
    t = torch.tensor([0.0, 0.33, 0.5, 1.07], dtype=torch.float64)
    with torch.no_grad():
        ours = odeint(f, (x0, x0), t, options={"step_size": 0.1})
        theirs = torchdiffeq.odeint(f, (x0, x0), t, method="imex", options={"step_size": 0.1})
        on_grid = torchdiffeq.odeint(f, (x0, x0), t, method="euler", options={"step_size": 0.1})
    assert torch.allclose(ours[0], theirs[0], rtol=0, atol=1e-13)
    assert torch.allclose(ours[1], theirs[1], rtol=0, atol=1e-13)
    assert ours[0].shape == on_grid[0].shape


def test_imex_inverse_undoes_a_step():
    torch.manual_seed(0)
    f = GraphCONField(GCN(4), alpha=0.5, gamma=1.2).double().bind(random_graph(8, 12))
    q = torch.randn(8, 4, dtype=torch.float64)
    p = torch.randn(8, 4, dtype=torch.float64)
    method = solvers.Imex()
    t = torch.tensor(0.3, dtype=torch.float64)
    with torch.no_grad():
        q1, p1 = method.step(f, t, 0.1, q, p)
        q0, p0 = method.inverse(f, t, 0.1, q1, p1)
    assert torch.allclose(q0, q, rtol=0, atol=1e-14) and torch.allclose(p0, p, rtol=0, atol=1e-14)


def test_only_linear_interpolation_is_offered():
    q = torch.ones(2, dtype=torch.float64)
    with pytest.raises(ValueError) as error:
        torchdiffeq.odeint(damped_oscillator(), (q, q), torch.tensor([0.0, 0.3], dtype=torch.float64),
                           method="verlet", options={"step_size": 0.1, "interp": "cubic"})
    assert str(error.value) == "method='verlet' supports interp='linear' only"


def test_a_float32_state_sees_its_own_dtype_for_t_under_a_float64_grid():
    seen = []

    def f(t, state):
        seen.append(t.dtype)
        q, p = state
        return p, -q

    q = torch.ones(2)
    qs, _ = torchdiffeq.odeint(f, (q, q), torch.tensor([0.0, 0.3], dtype=torch.float64), method="imex",
                               options={"step_size": 0.1})
    assert seen == [torch.float32] * 3
    assert qs.dtype == torch.float32


@pytest.mark.parametrize("name, order", [("imex", 1), ("imex_implicit", 1), ("verlet", 2)])
def test_each_method_is_a_torchdiffeq_solver_of_its_order(name, order):
    assert issubclass(SOLVERS[name], FixedGridODESolver)
    assert SOLVERS[name].order == order
    assert SOLVERS[name].method_class.name == name
