"""Eqs. (6)–(7): the steady state of the scheme (4) is X* = σ(F(X*))/γ, not (Δt/γ)σ(F(X*)) as printed (which
moves by Y¹ = γ(1 − Δt)X* in one step); the fixed-point iteration (7) is a plain GCN stack. GraphCON-GCN (eq. (5)
with bias, ReLU) is written here densely."""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphcon_ode import GCN, GraphCONField, odeint
from graphcon_ode.claims.steady_states import fixed_point_iteration
from tests.graphs import gcn_operator
from tests.properties.strategies import graphs, rng_from


def gcn(s, w, b, x):
    """σ(F(X)) = ReLU(D̂^{−1/2}ÂD̂^{−1/2} X W + b), eq. (5) with bias."""
    return np.maximum(s @ x @ w + b, 0.0)


def scheme_step(s, w, b, x, y, dt, alpha, gamma):
    """One step of eq. (4)."""
    y = y + dt * (gcn(s, w, b, x) - gamma * x - alpha * y)
    return x + dt * y, y


def iterate(s, w, b, x, scale, steps):
    for _ in range(steps):
        x = scale * gcn(s, w, b, x)
    return x


@st.composite
def problems(draw):
    """A graph, ReLU-GCN weights with ‖W‖₂ = γ/2 (so X ↦ σ(F(X))/γ contracts by ½) and a bias in [0.1, 1]
    (so no steady state is 0), α, γ, and Δt at least 0.05 away from 1."""
    adj = draw(graphs())
    rng = rng_from(draw)
    m, gamma, alpha = draw(st.integers(1, 6)), draw(st.floats(0.3, 3.0)), draw(st.floats(0.0, 2.0))
    dt = draw(st.one_of(st.floats(0.05, 0.95), st.floats(1.05, 1.5)))
    w = rng.standard_normal((m, m))
    w *= 0.5 * gamma / np.linalg.norm(w, 2)
    b = rng.uniform(0.1, 1.0, m)
    edge_index = torch.from_numpy(np.argwhere(adj).T.copy())
    return adj, edge_index, gcn_operator(edge_index, len(adj)).numpy(), w, b, alpha, gamma, dt, rng


@given(problems())
def test_corrected_steady_state_is_a_fixed_point_of_scheme_4(problem):
    adj, _, s, w, b, alpha, gamma, dt, _ = problem
    steady = iterate(s, w, b, np.zeros((len(adj), len(b))), 1 / gamma, 200)
    assert np.abs(gcn(s, w, b, steady) / gamma - steady).max() <= 1e-13 * np.abs(steady).max()
    x1, y1 = scheme_step(s, w, b, steady, np.zeros_like(steady), dt, alpha, gamma)
    assert np.abs(y1).max() <= 1e-13 * np.abs(steady).max()
    assert np.abs(x1 - steady).max() <= 1e-13 * np.abs(steady).max()


@given(problems())
def test_printed_steady_state_6_moves_unless_step_is_one(problem):
    adj, _, s, w, b, alpha, gamma, dt, _ = problem
    printed = iterate(s, w, b, np.zeros((len(adj), len(b))), dt / gamma, 200)
    _, y1 = scheme_step(s, w, b, printed, np.zeros_like(printed), dt, alpha, gamma)
    scale = np.abs(printed).max()
    assert scale > 0
    assert np.abs(y1 - gamma * (1 - dt) * printed).max() <= 1e-12 * scale
    assert np.abs(y1).max() >= 0.04 * gamma * scale


@given(problems(), st.integers(1, 12))
def test_fixed_point_iteration_7_is_a_gcn_stack(problem, layers):
    """The library's iteration Xⁿ = (Δt/γ)σ(F(Xⁿ⁻¹)) equals a GCN stack with weights ΔtW/γ and bias Δtb/γ."""
    adj, edge_index, s, w, b, alpha, gamma, dt, rng = problem
    field = GraphCONField(GCN(len(b)), alpha=alpha, gamma=gamma).double()
    layer = field.coupling.layers[0]
    with torch.no_grad():
        layer.lin.weight.copy_(torch.from_numpy(w.T))
        layer.bias.copy_(torch.from_numpy(b))
    x0 = rng.standard_normal((len(adj), len(b)))
    with torch.no_grad():
        stack = fixed_point_iteration(field.bind(edge_index, num_nodes=len(adj)), torch.from_numpy(x0), layers,
                                      scale=dt / gamma).numpy()
    x = x0
    for n in range(1, layers + 1):
        x = gcn(s, dt / gamma * w, dt / gamma * b, x)
        assert np.abs(stack[n] - x).max() <= 1e-12 * max(1.0, np.abs(x).max())


@given(problems())
def test_scheme_4_with_unit_damping_is_the_corrected_iteration(problem):
    """αΔt = 1 and γΔt² = 1: Yⁿ⁻¹ drops out of (4) and Xⁿ = σ(F(Xⁿ⁻¹))/γ (the authors' α = γ = Δt = 1)."""
    adj, edge_index, s, w, b, _, gamma, _, rng = problem
    dt = gamma ** -0.5
    field = GraphCONField(GCN(len(b)), alpha=1 / dt, gamma=gamma).double()
    layer = field.coupling.layers[0]
    with torch.no_grad():
        layer.lin.weight.copy_(torch.from_numpy(w.T))
        layer.bias.copy_(torch.from_numpy(b))
        x0, y0 = rng.standard_normal((2, len(adj), len(b)))
        t = torch.arange(9, dtype=torch.float64) * dt
        xs, _ = odeint(field.bind(edge_index, num_nodes=len(adj)), (torch.from_numpy(x0), torch.from_numpy(y0)), t,
                       method="imex", options={"step_size": dt})
    x = x0
    for n in range(1, 9):
        x = gcn(s, w, b, x) / gamma
        assert np.abs(xs[n].numpy() - x).max() <= 1e-12 * max(1.0, np.abs(x).max())
