"""Props. 3.3–3.4 near the zero-Dirichlet-energy steady states (c, 0) of (8) with ReLU, γ = 1 and the
right-stochastic A = D̂⁻¹Â of GAT at a constant state (eq. (36)). With c > 0 the system is exactly linear nearby,
X̂'' = −(I − A)X̂ − αX̂'. What holds: every (c, 0) is a steady state; with α = 0 the Dirichlet energy (13) does not
decay. What fails: for every α > 0 (in particular α ≥ ½, also on regular graphs) E decays exponentially at the rate
the eigenvalues predict, per unit time and per layer of (4); and E can decay while no (c, 0) attracts the
trajectory (Prop. 3.3). The ODE is solved here (scipy, float64) and E computed here from (13)."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from graphcon_ode.claims.oversmoothing import dirichlet_decay_rate, dirichlet_layer_decay_rate, fitted_decay_rate
from tests.properties.strategies import graphs, rng_from


def attention_operator(adj):
    a_hat = adj + np.eye(len(adj))
    return a_hat / a_hat.sum(1, keepdims=True)


def dirichlet(xs, adj):
    """E(X) = (1/v) Σ_i Σ_{j∈N_i} ‖X_i − X_j‖², eq. (13), for X stacked over time [T, n, m]."""
    i, j = np.nonzero(adj)
    return ((xs[:, i] - xs[:, j]) ** 2).sum((1, 2)) / adj.shape[0]


def solve_relu_system(a, x0, y0, alpha, times):
    """X' = Y, Y' = ReLU(AX) − X − αY (eq. (8)) by DOP853, rtol 1e-11; returns X, Y as [len(times), n, m]."""
    n, m = x0.shape

    def rhs(_, z):
        x, y = z[: n * m].reshape(n, m), z[n * m:].reshape(n, m)
        return np.concatenate([y.ravel(), (np.maximum(a @ x, 0) - x - alpha * y).ravel()])

    sol = solve_ivp(rhs, (times[0], times[-1]), np.concatenate([x0.ravel(), y0.ravel()]), method="DOP853",
                    rtol=1e-11, atol=1e-14, t_eval=times)
    z = sol.y.T
    return z[:, : n * m].reshape(-1, n, m), z[:, n * m:].reshape(-1, n, m)


def predicted_rate(a, alpha):
    return dirichlet_decay_rate(torch.from_numpy(a), alpha)


@st.composite
def perturbed_constant_states(draw, size=1e-3):
    """(adj, c, X0, Y0): X0 = c1ᵀ + size·noise with c ∈ [0.5, 2]^m, Y0 = size·noise."""
    adj = draw(graphs(min_edges=1))
    rng = rng_from(draw)
    m = draw(st.integers(1, 3))
    c = rng.uniform(0.5, 2.0, m)
    return adj, c, c + size * rng.standard_normal((len(adj), m)), size * rng.standard_normal((len(adj), m))


@given(graphs(), st.lists(st.floats(0, 10), min_size=1, max_size=4), st.floats(0, 3))
def test_constant_states_are_steady(adj, c, alpha):
    """The first half of Prop. 3.4: (c, 0) with c ≥ 0 is a steady state of (8)."""
    a = attention_operator(adj)
    x = np.tile(np.asarray(c), (len(adj), 1))
    acceleration = np.maximum(a @ x, 0) - x - alpha * np.zeros_like(x)
    assert np.abs(acceleration).max() <= 1e-14 * max(1.0, max(c))


@given(perturbed_constant_states(), st.floats(0.5, 2.0))
def test_damped_dirichlet_energy_decays_at_the_linearised_rate(state, alpha):
    """Against Prop. 3.4: for α ≥ ½, E(X(t)) ≤ E(X(t)) + E(Y(t)), and the latter decays like exp(−2ρt),
    ρ = min_{λ>0}(α − Re√(α² − 4λ))/2. (E(Y) is added because a single underdamped mode makes E(X) touch zero
    twice a period, which no straight line through log E(X) fits; near critical damping a polynomial factor
    and slow beats bend the line, hence the ±30% on the fitted rate. The regular-graph tests below fit to 5%.)"""
    adj, _, x0, y0 = state
    a = attention_operator(adj)
    rate = predicted_rate(a, alpha)
    assume(rate >= 0.05)
    times = np.linspace(0, 40 / rate, 801)
    xs, ys = solve_relu_system(a, x0, y0, alpha, times)
    assert (np.einsum("ij,tjm->tim", a, xs)).min() > 0, "left the linear regime of ReLU"
    bound = dirichlet(xs, adj) + dirichlet(ys, adj)
    assert bound[-1] <= np.exp(-0.8 * rate * times[-1]) * bound[0]
    fitted = fitted_decay_rate(torch.from_numpy(times), torch.from_numpy(bound))
    assert 0.7 * rate <= fitted <= 1.3 * rate


@given(perturbed_constant_states(size=0.05))
def test_undamped_dirichlet_energy_does_not_decay(state):
    """α = 0: H = Σ d̂_i‖Y_i‖² + ½ΣΣ adj_ij‖X_i − X_j‖² is conserved (D̂X'' = −(D̂ − Â)X̂), so E cannot decay."""
    adj, _, x0, _ = state
    a = attention_operator(adj)
    times = np.linspace(0, 60, 601)
    xs, ys = solve_relu_system(a, x0, np.zeros_like(x0), 0.0, times)
    assert (np.einsum("ij,tjm->tim", a, xs)).min() > 0, "left the linear regime of ReLU"
    degrees = adj.sum(1) + 1
    energy = np.einsum("i,tim->t", degrees, ys ** 2) + 0.5 * adj.shape[0] * dirichlet(xs, adj)
    assert np.abs(energy / energy[0] - 1).max() <= 1e-8
    e = dirichlet(xs, adj)
    assert e[300:].max() >= 0.25 * e[0]


def cycle(n):
    return np.roll(np.eye(n), 1, axis=1) + np.roll(np.eye(n), -1, axis=1)


def torus(rows, cols):
    ring_r, ring_c = cycle(rows), cycle(cols)
    return np.kron(ring_r, np.eye(cols)) + np.kron(np.eye(rows), ring_c)


@pytest.mark.parametrize(("name", "alpha"), [("cycle8", 0.5), ("cycle8", 1.0), ("torus6x6", 0.5), ("torus6x6", 2.0)])
def test_prop34_counterexample_on_regular_graphs(name, alpha):
    """On a regular graph the asymmetry term T3 of (28) vanishes, yet E decays exponentially for α ≥ ½."""
    adj = cycle(8) if name == "cycle8" else torus(6, 6)
    a = attention_operator(adj)
    assert np.allclose(a, a.T)
    rng = np.random.default_rng(1)
    x0, y0 = 1.5 + 1e-3 * rng.standard_normal((len(adj), 2)), 1e-3 * rng.standard_normal((len(adj), 2))
    rate = predicted_rate(a, alpha)
    times = np.linspace(0, 40 / rate, 801)
    xs, _ = solve_relu_system(a, x0, y0, alpha, times)
    fitted = fitted_decay_rate(torch.from_numpy(times), torch.from_numpy(dirichlet(xs, adj)))
    assert rate > 0.05
    assert abs(fitted - rate) <= 0.05 * rate


def test_prop33_energy_decays_while_c_does_not_attract():
    """X → (c', 0) with c' = c + πᵀ(X̂0 + Ŷ0/α)/πᵀ1, π = d̂ (the neutral constant mode), c' ≠ c."""
    rng = np.random.default_rng(2)
    chords = np.triu(rng.random((15, 15)) < 0.2, k=2).astype(float)
    adj = np.minimum(cycle(15) + chords + chords.T, 1.0)
    a, alpha, size = attention_operator(adj), 1.0, 1e-3
    c = np.array([1.0, 2.0])
    x0, y0 = c + size * rng.standard_normal((15, 2)), size * rng.standard_normal((15, 2))
    xs, _ = solve_relu_system(a, x0, y0, alpha, np.linspace(0, 40 / predicted_rate(a, alpha), 401))
    degrees = adj.sum(1) + 1
    settled = c + degrees @ (x0 - c + y0 / alpha) / degrees.sum()
    e = dirichlet(xs, adj)
    assert e[-1] <= 1e-12 * e[0]
    assert np.abs(xs[-1] - settled).max() <= 1e-3 * size
    assert np.abs(settled - c).max() >= 0.1 * size


def test_prop33_zero_energy_trajectory_reaches_no_steady_state():
    """α = 0, X0 = c1ᵀ, Y0 = v1ᵀ: X = (c + vt)1ᵀ, Y = v1ᵀ, with E ≡ 0 — oversmoothing by (15) without any
    steady state (c, 0) being approached."""
    adj = cycle(10)
    c, v = np.array([1.0, 0.5]), np.array([0.3, 0.1])
    times = np.linspace(0, 50, 51)
    xs, ys = solve_relu_system(attention_operator(adj), np.tile(c, (10, 1)), np.tile(v, (10, 1)), 0.0, times)
    assert dirichlet(xs, adj).max() <= 1e-20
    assert np.abs(xs[-1] - (c + v * times[-1])).max() <= 1e-8
    assert np.abs(ys[-1] - v).max() <= 1e-10


@given(perturbed_constant_states(), st.floats(0.25, 1.5), st.floats(0.1, 1.0))
def test_scheme_4_dirichlet_energy_decays_per_layer(state, alpha, step_size):
    """Eq. (4) near (c, 0): E(Xⁿ) ≤ E(Xⁿ) + E(Yⁿ), which decays like ρ(G)²ⁿ, G_λ the per-step matrix of mode λ."""
    adj, _, x, y = state
    a = attention_operator(adj)
    rate = dirichlet_layer_decay_rate(torch.from_numpy(a), alpha, step_size)
    assume(0.02 <= rate <= 2)
    layers = int(40 / rate)
    xs, ys = [x], [y]
    for _ in range(layers):
        y = y + step_size * (np.maximum(a @ x, 0) - x - alpha * y)
        x = x + step_size * y
        xs.append(x)
        ys.append(y)
    xs, ys = np.stack(xs), np.stack(ys)
    assert (np.einsum("ij,tjm->tim", a, xs)).min() > 0
    bound = dirichlet(xs, adj) + dirichlet(ys, adj)
    assert bound[-1] <= np.exp(-0.8 * rate * layers) * bound[0]
    fitted = fitted_decay_rate(torch.arange(layers + 1, dtype=torch.float64), torch.from_numpy(bound))
    assert 0.7 * rate <= fitted <= 1.3 * rate
