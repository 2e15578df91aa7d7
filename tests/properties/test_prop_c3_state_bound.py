"""Prop. C.3: for Δt < min(α/γ, 1/α) and |σ| ≤ β the scheme (4) keeps ‖Xⁿ_i‖² ≤ ‖X⁰_i‖² + ‖Y⁰_i‖²/γ +
mβ²tₙ/(2γ(α − γΔt)) (41). It holds on random GraphCON-GCNs with tanh and in the exact worst case, where it is
sharp; the proof's intermediate (44) fails. The scheme is written here from eq. (4)."""

import math

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphcon_ode.claims.state_bound import bound_41, worst_case
from tests.graphs import gcn_operator
from tests.properties.strategies import graphs, log_uniform, rng_from


@st.composite
def admissible_coefficients(draw):
    """(α, γ, Δt) with Δt < min(α/γ, 1/α)."""
    alpha, gamma = draw(log_uniform(0.1, 5.0)), draw(log_uniform(1e-3, 5.0))
    return alpha, gamma, draw(st.floats(0.01, 0.999)) * min(alpha / gamma, 1 / alpha)


def growth(xs, x0, y0, alpha, gamma, dt):
    """(γ‖Xⁿ_i‖² − γ‖X⁰_i‖² − ‖Y⁰_i‖²) / (mβ²tₙ/(2(α − γΔt))), β = 1: (41) holds iff this is ≤ 1."""
    steps, m = len(xs) - 1, xs.shape[-1]
    allowance = m * np.arange(1, steps + 1) * dt / (2 * (alpha - gamma * dt))
    start = gamma * (x0 ** 2).sum(-1) + (y0 ** 2).sum(-1)
    return (gamma * (xs[1:] ** 2).sum(-1) - start) / allowance[:, None]


@given(graphs(), admissible_coefficients(), st.integers(1, 4), st.integers(1, 60), log_uniform(0.1, 30.0),
       st.data())
def test_bound_41_holds_on_random_gcns_with_tanh(adj, coefficients, m, steps, weight_scale, data):
    alpha, gamma, dt = coefficients
    rng = rng_from(data.draw)
    edge_index = torch.from_numpy(np.argwhere(adj).T.copy())
    s = gcn_operator(edge_index, len(adj)).numpy()
    x0, y0 = data.draw(st.floats(0, 3)) * rng.standard_normal((2, len(adj), m))
    x, y, xs = x0, y0, [x0]
    for _ in range(steps):
        w, b = weight_scale * rng.standard_normal((m, m)), weight_scale * rng.standard_normal(m)
        y = y + dt * (np.tanh(s @ x @ w + b) - gamma * x - alpha * y)
        x = x + dt * y
        xs.append(x)
    xs = np.stack(xs)
    rhs = np.stack([bound_41(torch.from_numpy(x0), torch.from_numpy(y0), n * dt, alpha, gamma, dt).numpy()
                    for n in range(steps + 1)])
    assert np.all((xs ** 2).sum(-1) <= rhs * (1 + 1e-12))
    assert growth(xs, x0, y0, alpha, gamma, dt).max() <= 1 + 1e-9


def drive(x, y, forces, alpha, gamma, dt):
    """A scalar node of (4) under the force sequence σ(Cⁿ⁻¹) = forces[n − 1]."""
    xs = [x]
    for f in forces:
        y = y + dt * (f - gamma * x - alpha * y)
        x = x + dt * y
        xs.append(x)
    return np.array(xs)[:, None, None]


@given(admissible_coefficients(), st.integers(1, 40), st.data())
def test_worst_case_is_worst_and_within_41(coefficients, steps, data):
    """The constructed start and bang-bang forces reach the predicted growth q ≤ 1, and random starts and forces
    in [−1, 1] stay below it."""
    alpha, gamma, dt = coefficients
    x0, y0, forces, q = worst_case(alpha, gamma, dt, steps)
    reached = growth(drive(x0, y0, forces.numpy(), alpha, gamma, dt), np.array([[x0]]), np.array([[y0]]),
                     alpha, gamma, dt)[-1, 0]
    assert math.isclose(reached, q, rel_tol=1e-6, abs_tol=1e-9)
    assert q <= 1 + 1e-9
    rng = rng_from(data.draw)
    for _ in range(5):
        start = rng.standard_normal(2) * data.draw(log_uniform(1e-3, 1e3))
        trial = growth(drive(*start, rng.uniform(-1, 1, steps), alpha, gamma, dt), start[:1, None],
                       start[1:, None], alpha, gamma, dt)[-1, 0]
        assert trial <= q + 1e-9


def test_bound_41_is_sharp():
    """αΔt → 1, γ → 0: the worst case reaches the bound, so (41) cannot be tightened and the tests can fail."""
    x0, y0, forces, q = worst_case(1.0, 1e-4, 0.999, 5)
    reached = growth(drive(x0, y0, forces.numpy(), 1.0, 1e-4, 0.999), np.array([[x0]]), np.array([[y0]]),
                     1.0, 1e-4, 0.999)[-1, 0]
    assert 0.999 <= reached <= 1.0


def test_step_44_of_the_proof_fails():
    """(44): γ‖Xⁿ‖² + ‖Yⁿ‖² ≤ γ‖X⁰‖² + ‖Y⁰‖² + mnΔtβ²/(2(α − γΔt)). From rest under σ ≡ 1, one step gives
    Y¹ = Δt, X¹ = Δt², and the left side exceeds the right by 2(α − γΔt)(γΔt³ + Δt) = 1.68 here."""
    alpha, gamma, dt = 2.0, 1.0, 0.45
    assert dt < min(alpha / gamma, 1 / alpha)
    xs = drive(0.0, 0.0, [1.0], alpha, gamma, dt)[:, 0, 0]
    y1 = (xs[1] - xs[0]) / dt
    ratio = (gamma * xs[1] ** 2 + y1 ** 2) / (dt / (2 * (alpha - gamma * dt)))
    assert ratio >= 1.6
    assert math.isclose(ratio, 2 * (alpha - gamma * dt) * (gamma * dt ** 3 + dt), rel_tol=1e-12)
