"""Prop. 3.1: with σ = id, α = 0, γ = 1 and a symmetric right-stochastic A, the system (8) conserves
Σ‖Y_i‖² + ½ΣΣA_ij‖X_i − X_j‖² (each edge once); eq. (12) as printed (each edge twice) is not conserved; the scheme
(4) keeps the energy error bounded for all time. The dynamics are computed here from the equations (float64)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from graphcon_ode.claims.energy_conservation import energy, modified_energy, printed_energy
from graphcon_ode.claims.graphs import doubly_stochastic_operator
from tests.properties.strategies import graphs, is_regular, rng_from


def solve_linear_system(a, x0, y0, times):
    """X' = Y, Y' = AX − X by DOP853 (rtol 1e-11); returns X, Y as [len(times), n, m]."""
    n, m = x0.shape

    def rhs(_, z):
        x, y = z[: n * m].reshape(n, m), z[n * m:].reshape(n, m)
        return np.concatenate([y.ravel(), (a @ x - x).ravel()])

    sol = solve_ivp(rhs, (times[0], times[-1]), np.concatenate([x0.ravel(), y0.ravel()]), method="DOP853",
                    rtol=1e-11, atol=1e-13, t_eval=times)
    z = sol.y.T
    return z[:, : n * m].reshape(-1, n, m), z[:, n * m:].reshape(-1, n, m)


def energies(fn, xs, ys, a, *args):
    return fn(torch.from_numpy(xs), torch.from_numpy(ys), torch.from_numpy(a), *args).numpy()


@st.composite
def symmetric_stochastic_problems(draw):
    """(A, X0, Y0): A symmetric and right-stochastic — adjacency/degree (with or without self-loops) on a regular
    graph, else Metropolis weights from random positive edge weights."""
    adj = draw(graphs(min_edges=1))
    rng = rng_from(draw)
    n, m = adj.shape[0], draw(st.integers(1, 3))
    if is_regular(adj) and adj.sum() > 0 and draw(st.booleans()):
        loops = draw(st.sampled_from([0.0, 1.0]))
        a = (adj + loops * np.eye(n)) / (adj.sum(1)[0] + loops)
    else:
        weights = rng.uniform(0.1, 2.0, (n, n))
        a = doubly_stochastic_operator(torch.from_numpy(adj), torch.from_numpy(weights + weights.T)).numpy()
    return a, rng.standard_normal((n, m)), rng.standard_normal((n, m))


def check_symmetric_stochastic(a):
    assert np.abs(a - a.T).max() == 0
    assert np.abs(a.sum(1) - 1).max() < 1e-12
    assert a.min() >= 0


@given(symmetric_stochastic_problems())
def test_energy_with_each_edge_once_is_conserved(problem):
    a, x0, y0 = problem
    check_symmetric_stochastic(a)
    xs, ys = solve_linear_system(a, x0, y0, np.linspace(0, 10, 101))
    e = energies(energy, xs, ys, a)
    matrix_form = (ys ** 2).sum((1, 2)) + np.einsum("tim,ij,tjm->t", xs, np.eye(len(a)) - a, xs)
    assert np.abs(e - matrix_form).max() <= 1e-12 * e[0]
    assert np.abs(e / e[0] - 1).max() <= 1e-8


@pytest.mark.parametrize("graph", ["cycle", "random"])
def test_printed_energy_12_drifts(graph):
    rng = np.random.default_rng(0)
    if graph == "cycle":
        adj = np.roll(np.eye(8), 1, axis=1) + np.roll(np.eye(8), -1, axis=1)
        a = (adj + np.eye(8)) / 3
    else:
        adj = np.triu(rng.random((20, 20)) < 0.3, k=1).astype(float)
        weights = rng.uniform(0.5, 1.5, (20, 20))
        a = doubly_stochastic_operator(torch.from_numpy(adj + adj.T), torch.from_numpy(weights + weights.T)).numpy()
    check_symmetric_stochastic(a)
    x0, y0 = rng.standard_normal((len(a), 2)), rng.standard_normal((len(a), 2))
    xs, ys = solve_linear_system(a, x0, y0, np.linspace(0, 20, 201))
    printed, conserved = energies(printed_energy, xs, ys, a), energies(energy, xs, ys, a)
    assert (printed.max() - printed.min()) / printed[0] > 0.05
    assert np.abs(conserved / conserved[0] - 1).max() <= 1e-8


@given(symmetric_stochastic_problems(), st.floats(0.01, 1.0))
def test_scheme_4_energy_error_stays_bounded(problem, step_size):
    """Over 20 000 steps of (4) the modified energy Ẽ is conserved to round-off, so |E_n − E_0| stays below
    ½Δt√λ_max (E_n + E_0) at every step: bounded, no secular drift."""
    a, x, y = problem
    steps, laplacian = 20_000, np.eye(len(a)) - a
    eigenvalues, eigenvectors = np.linalg.eigh(laplacian)
    kernel = eigenvectors[:, eigenvalues < 1e-9]
    # The velocity along ker L (constant per component) only translates X; removing it keeps X bounded, so that
    # round-off stays relative to the energy over 20 000 steps.
    y = y - kernel @ (kernel.T @ y)
    xs, ys = np.empty((steps + 1, *x.shape)), np.empty((steps + 1, *y.shape))
    xs[0], ys[0] = x, y
    for n in range(1, steps + 1):
        y = y - step_size * (laplacian @ x)
        x = x + step_size * y
        xs[n], ys[n] = x, y
    e = energies(energy, xs, ys, a)
    e_mod = energies(modified_energy, xs, ys, a, step_size)
    lambda_max = max(eigenvalues.max(), 0.0)
    assert np.abs(e_mod / e_mod[0] - 1).max() <= 1e-10
    bound = 0.5 * step_size * np.sqrt(lambda_max) * (e + e[0])
    assert np.all(np.abs(e - e[0]) <= bound * (1 + 1e-9) + 1e-12 * e[0])
