"""Prop. 3.5: the gradient bound (20) for GraphCON-GCN (16). As printed it fails (a star's hub, features of size
10); the bound its proof establishes, β′D̂Δt(1 + ΓNΔt)(A + B)² (no 1/v, (A + B)² for A + B²), holds. Gradients by
autograd through (16) written here."""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphcon_ode.claims.gradient_bound import condition_47, constants, corrected_bound, printed_bound
from graphcon_ode.claims.scalar_gcn import loss_and_gradients
from tests.properties.gcn16 import gradients
from tests.properties.strategies import graphs, log_uniform, rng_from


def bounds(fn, adj, weights, x0, y0, target, dt):
    return fn(*(torch.from_numpy(np.asarray(v, dtype=np.float64)) for v in (adj, weights, x0, y0, target)), dt)


@st.composite
def problems(draw):
    """A graph, N ∈ [1, 25] layers of weights, features, and Δt ≤ ½ with (47)."""
    adj = draw(graphs())
    rng = rng_from(draw)
    v, layers = len(adj), draw(st.integers(1, 25))
    weights = draw(log_uniform(0.01, 3.0)) * rng.standard_normal((layers, v))
    x0, y0, target = (draw(st.floats(0, 5)) * rng.standard_normal(v) for _ in range(3))
    big_gamma = constants(torch.from_numpy(adj), torch.from_numpy(weights))[1]
    dt = draw(st.floats(0.02, 1.0)) * min(0.5, 2.0 / (big_gamma * layers))
    return adj, weights, x0, y0, target, dt


@given(problems())
def test_corrected_bound_20_holds(problem):
    adj, weights, x0, y0, target, dt = problem
    assert dt <= 0.5
    assert condition_47(torch.from_numpy(adj), torch.from_numpy(weights), dt)
    grad, _ = gradients(*problem)
    assert grad.abs().max().item() <= bounds(corrected_bound, *problem)


@given(problems())
def test_library_gradients_of_16_match_autograd_of_the_equation(problem):
    """The claims report computes (16) as a library field solved by odeint; it agrees with (16) written here."""
    grad, xs = gradients(*problem)
    _, library_grad, library_xs = loss_and_gradients(*(torch.from_numpy(np.asarray(v, dtype=np.float64))
                                                       for v in problem[:5]), problem[5])
    assert (library_xs - xs).abs().max().item() <= 1e-12 * max(1.0, xs.abs().max().item())
    assert (library_grad - grad).abs().max().item() <= 1e-12 * max(1e-12, grad.abs().max().item())


def test_printed_bound_20_fails_at_a_star_hub():
    v, layers, dt = 40, 10, 0.02
    adj = np.zeros((v, v))
    adj[0, 1:] = adj[1:, 0] = 1.0
    weights = 0.1 * np.random.default_rng(0).standard_normal((layers, v))
    x0, zero = np.full(v, 10.0), np.zeros(v)
    assert condition_47(torch.from_numpy(adj), torch.from_numpy(weights), dt)
    grad, _ = gradients(adj, weights, x0, zero, zero, dt)
    hub = grad[0, 0].abs().item()
    assert hub >= 2 * bounds(printed_bound, adj, weights, x0, zero, zero, dt)
    assert hub <= bounds(corrected_bound, adj, weights, x0, zero, zero, dt)
