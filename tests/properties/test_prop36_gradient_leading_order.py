"""Prop. 3.6: ∂J/∂wℓ_k of GraphCON-GCN (16) to leading order in Δt. The corrected leading term
(Δt²(N − ℓ + 1)/v) Σ_{i∈N_k∪{k}} σ'(Cℓ⁻¹_i) Xℓ⁻¹_k (Xᴺ_i − X̄_i)/√(d_i d_k) leaves an O(Δt³) remainder; eq. (22) as
printed leaves O(Δt²). The gradient does not vanish from N to 4N while NΔt is small, but it does decay
exponentially in N at a fixed Δt. Gradients by autograd through (16) written here."""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphcon_ode.claims.gradient_leading_order import fitted_order, leading_gradient, printed_leading_gradient
from tests.properties.gcn16 import gradients
from tests.properties.strategies import graphs, rng_from

STEPS = (1e-4, 5e-5, 2.5e-5)  # small enough that the Δt⁴ term cannot mask the cubic one


def remainders(term, adj, weights, x0, y0, target, layer):
    """‖∂J/∂wℓ − term‖ for each Δt in STEPS, and that remainder relative to ‖∂J/∂wℓ‖ at the smallest Δt."""
    out = []
    for dt in STEPS:
        grad, xs = gradients(adj, weights, x0, y0, target, dt)
        lead = term(torch.from_numpy(adj), torch.from_numpy(weights), xs, torch.from_numpy(target), dt, layer)
        out.append((grad[layer - 1] - lead).norm().item())
    return out, out[-1] / grad[layer - 1].norm().item()


@st.composite
def problems(draw, max_layers=10):
    adj = draw(graphs(max_nodes=20))
    rng = rng_from(draw)
    v, layers = len(adj), draw(st.integers(2, max_layers))
    return (adj, rng.standard_normal((layers, v)), *rng.standard_normal((3, v)),
            draw(st.integers(1, layers - 1)))


@given(problems())
def test_corrected_leading_term_has_a_cubic_remainder(problem):
    remainder, relative = remainders(leading_gradient, *problem)
    assert fitted_order(STEPS, remainder) >= 2.6
    assert relative <= 0.05


def test_printed_22_is_not_the_leading_term():
    rng = np.random.default_rng(3)
    adj = np.triu(rng.random((12, 12)) < 0.3, k=1).astype(float)
    adj = adj + adj.T
    problem = (adj, rng.standard_normal((8, 12)), *rng.standard_normal((3, 12)), 1)
    printed, printed_relative = remainders(printed_leading_gradient, *problem)
    corrected, corrected_relative = remainders(leading_gradient, *problem)
    assert fitted_order(STEPS, printed) <= 2.2
    assert fitted_order(STEPS, corrected) >= 2.8
    assert printed_relative >= 0.2
    assert corrected_relative <= 0.01


@given(graphs(max_nodes=20), st.integers(2, 10), st.data())
def test_gradient_does_not_vanish_from_n_to_4n_at_small_step(adj, depth, data):
    """At Δt = 1e-3 the first-layer gradient grows like its leading term, ≈ (4N − ℓ + 1)/(N − ℓ + 1)."""
    rng = rng_from(data.draw)
    v, dt = len(adj), 1e-3
    deep = rng.standard_normal((4 * depth, v))
    x0, y0, target = rng.standard_normal((3, v))
    norms, leads = [], []
    for weights in (deep[:depth], deep):
        grad, xs = gradients(adj, weights, x0, y0, target, dt)
        norms.append(grad[0].norm().item())
        leads.append(leading_gradient(torch.from_numpy(adj), torch.from_numpy(weights), xs,
                                      torch.from_numpy(target), dt, 1).norm().item())
    assert norms[1] >= 2 * norms[0]
    assert abs(norms[1] / norms[0] - leads[1] / leads[0]) <= 0.05 * leads[1] / leads[0]


def test_gradient_decays_exponentially_in_n_at_fixed_step():
    """Against the closing remark of C.4.2 (Δt ∼ N⁻ˢ with s = 0): at Δt = 0.5 the damped dynamics forget layer 1."""
    rng = np.random.default_rng(0)
    v = 12
    adj = np.triu(rng.random((v, v)) < 0.3, k=1).astype(float)
    adj = adj + adj.T
    deep = rng.standard_normal((40, v))
    x0, y0, target = rng.standard_normal((3, v))
    shallow_grad, _ = gradients(adj, deep[:10], x0, y0, target, 0.5)
    deep_grad, _ = gradients(adj, deep, x0, y0, target, 0.5)
    assert deep_grad[0].norm().item() <= 1e-3 * shallow_grad[0].norm().item()
