"""Prop. 3.1: with σ = id, α = 0, γ = 1 and a symmetric right-stochastic A, the system (8) conserves
Σ‖Y_i‖² + ½ΣΣA_ij‖X_i − X_j‖² (each edge once); eq. (12) as printed (each edge twice) is not conserved; the scheme
(4) keeps the energy error bounded for all time, and with α > 0 the energy decays by −2α∫‖Y‖². The dynamics are
computed here from the equations (float64), and by the library's methods (graphcon_ode.odeint and
solvers.integrate), which must agree with the update formulas written here and keep the closed-form energy laws."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

import solvers
from graphcon_ode import odeint
from graphcon_ode.claims.energy_conservation import energy, modified_energy, printed_energy
from graphcon_ode.claims.graphs import doubly_stochastic_operator
from graphcon_ode.claims.linear import identity, linear_field
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


class LinearSystem:
    """(8) with σ = id written here in the split protocol: force g(X) = AX, acceleration g(X) − γX − αY."""

    def __init__(self, a: np.ndarray, alpha: float, gamma: float = 1.0):
        self.a, self.alpha, self.gamma = torch.from_numpy(a), alpha, gamma

    def force(self, t, q):
        return self.a @ q

    def acceleration(self, t, q, p):
        return self.force(t, q) - self.gamma * q - self.alpha * p

    def __call__(self, t, state):
        return state[1], self.acceleration(t, *state)


def reference_loop(method, a, x, y, alpha, dt, steps):
    """The schemes from their update formulas, on (8) with σ = id, γ = 1 (numpy, float64)."""
    xs, ys = [x], [y]
    for _ in range(steps):
        if method == "imex":  # eq. (4)
            y = y + dt * (a @ x - x - alpha * y)
        elif method == "imex_implicit":
            y = (y + dt * (a @ x - x)) / (1 + alpha * dt)
        else:  # verlet: exact damping half-flows around kick–drift–kick
            c = np.exp(-alpha * dt / 2)
            y = c * y + dt / 2 * (a @ x - x)
        x = x + dt * y
        if method == "verlet":
            y = c * (y + dt / 2 * (a @ x - x))
        xs.append(x)
        ys.append(y)
    return np.stack(xs), np.stack(ys)


FRONT_DOORS = ("odeint", "integrate")
LIBRARY_METHODS = ("imex", "imex_implicit", "verlet")


def library_solve(front_door, method, a, x0, y0, alpha, dt, steps):
    """The library's solve of (8) on the grid kΔt: graphcon_ode.odeint of the linear GraphCON field, or
    solvers.integrate of :class:`LinearSystem`."""
    t = torch.arange(steps + 1, dtype=torch.float64) * dt
    x, y = torch.from_numpy(x0), torch.from_numpy(y0)
    with torch.no_grad():
        if front_door == "odeint":
            field = linear_field(torch.from_numpy(a), alpha=alpha, gamma=1.0, activation=identity)
            xs, ys = odeint(field, (x, y), t, method=method, options={"step_size": dt})
        else:
            xs, ys = solvers.integrate(solvers.get_method(method), LinearSystem(a, alpha), x, y, t, dt)
    return xs.numpy(), ys.numpy()


def checked_library_solve(front_door, method, a, x0, y0, alpha, dt, steps):
    """:func:`library_solve`, asserted equal to :func:`reference_loop` to round-off."""
    xs, ys = library_solve(front_door, method, a, x0, y0, alpha, dt, steps)
    ref_xs, ref_ys = reference_loop(method, a, x0, y0, alpha, dt, steps)
    scale = max(np.abs(ref_xs).max(), np.abs(ref_ys).max())
    assert np.abs(xs - ref_xs).max() <= 1e-10 * scale and np.abs(ys - ref_ys).max() <= 1e-10 * scale
    return xs, ys


def verlet_modified_energy(xs, ys, a, dt):
    """Ẽ_V = Σ‖Y‖² + tr(Xᵀ(L − Δt²L²/4)X), conserved exactly by kick–drift–kick on (8) with α = 0, σ = id."""
    lx = xs - a @ xs
    return (ys ** 2).sum((-1, -2)) + (xs * lx).sum((-1, -2)) - dt ** 2 / 4 * (lx ** 2).sum((-1, -2))


def without_kernel_velocity(a, y):
    """Y minus its part along ker L = span(1) per component, which only translates X (see below)."""
    eigenvalues, eigenvectors = np.linalg.eigh(np.eye(len(a)) - a)
    kernel = eigenvectors[:, eigenvalues < 1e-9]
    return y - kernel @ (kernel.T @ y), max(eigenvalues.max(), 0.0)


LIBRARY_STEPS = 1500


@given(symmetric_stochastic_problems(), st.floats(0.01, 1.0))
def test_library_schemes_conserve_their_modified_energy_at_alpha_0(problem, step_size):
    """α = 0: every library method, through both front doors, is its update formula, and conserves its modified
    energy to round-off: Ẽ of eq. (4) for imex and imex_implicit (identical at α = 0), Ẽ_V for verlet. Hence the
    closed-form bounds |E_n − E_0| ≤ ½Δt√λ_max (E_n + E_0) (imex) and ≤ ¼Δt²λ_max (E_n + E_0) (verlet)."""
    a, x0, y0 = problem
    y0, lambda_max = without_kernel_velocity(a, y0)
    for method in LIBRARY_METHODS:
        for front_door in FRONT_DOORS:
            xs, ys = checked_library_solve(front_door, method, a, x0, y0, 0.0, step_size, LIBRARY_STEPS)
            e = energies(energy, xs, ys, a)
            if method == "verlet":
                e_mod = verlet_modified_energy(xs, ys, a, step_size)
                bound = 0.25 * step_size ** 2 * lambda_max * (e + e[0])
            else:
                e_mod = energies(modified_energy, xs, ys, a, step_size)
                bound = 0.5 * step_size * np.sqrt(lambda_max) * (e + e[0])
            assert np.abs(e_mod / e_mod[0] - 1).max() <= 1e-10, (method, front_door)
            assert np.all(np.abs(e - e[0]) <= bound * (1 + 1e-9) + 1e-12 * e[0]), (method, front_door)


@given(symmetric_stochastic_problems())
def test_library_verlet_keeps_the_conserved_energy_to_second_order(problem):
    """Prop. 3.1 through the library: the energy E of (8) along verlet's solution with Δt = 0.01 stays within
    ¼Δt²λ_max(E_n + E_0) of E_0, and the trajectory is DOP853's to O(Δt²)."""
    a, x0, y0 = problem
    dt, steps = 0.01, 1000
    y0, lambda_max = without_kernel_velocity(a, y0)
    xs, ys = checked_library_solve("odeint", "verlet", a, x0, y0, 0.0, dt, steps)
    e = energies(energy, xs, ys, a)
    assert np.all(np.abs(e - e[0]) <= 0.25 * dt ** 2 * lambda_max * (e + e[0]) * (1 + 1e-9) + 1e-12 * e[0])
    exact_xs, _ = solve_linear_system(a, x0, y0, np.arange(steps + 1) * dt)
    assert np.abs(xs - exact_xs).max() <= 10 * dt ** 2 * max(1.0, np.abs(exact_xs).max())


def solve_damped_system(a, x0, y0, alpha, times):
    """X' = Y, Y' = AX − X − αY with W' = Σ‖Y‖² alongside, by DOP853; returns X, Y, W over ``times``."""
    n, m = x0.shape

    def rhs(_, z):
        x, y = z[: n * m].reshape(n, m), z[n * m: 2 * n * m].reshape(n, m)
        return np.concatenate([y.ravel(), (a @ x - x - alpha * y).ravel(), [(y ** 2).sum()]])

    sol = solve_ivp(rhs, (times[0], times[-1]), np.concatenate([x0.ravel(), y0.ravel(), [0.0]]), method="DOP853",
                    rtol=1e-11, atol=1e-13, t_eval=times)
    z = sol.y.T
    return z[:, : n * m].reshape(-1, n, m), z[:, n * m: 2 * n * m].reshape(-1, n, m), z[:, -1]


@given(symmetric_stochastic_problems(), st.floats(0.05, 2.0), st.floats(0.01, 0.5))
def test_damped_energy_decays_by_its_closed_form(problem, alpha, step_size):
    """α > 0: dE/dt = −2α Σ‖Y‖², so E(t) = E(0) − 2α∫₀ᵗ Σ‖Y‖². The library's schemes keep discrete versions of it
    exactly (to round-off), written from their update formulas, with c the damping factor of a step:

    - imex (4) is symplectic Euler after p ← (1 − αΔt)p, so Ẽ_{n+1} = Ẽ(X_n, (1 − αΔt)Y_n);
    - verlet is kick–drift–kick (conserving Ẽ_V) between two p ← e^{−αΔt/2}p, so
      Ẽ_V,n+1 = Ẽ_V,n − (1 − c²)(Σ‖Y_n‖² + Σ‖Y_{n+1}‖²/c²), c = e^{−αΔt/2}: it decreases at every step;
    - imex_implicit (no exact discrete law here) follows the continuous decay to first order (Δt = 0.01).
    """
    a, x0, y0 = problem
    steps = 400
    times = np.arange(steps + 1) * step_size
    exact_xs, exact_ys, dissipated = solve_damped_system(a, x0, y0, alpha, times)
    exact_e = energies(energy, exact_xs, exact_ys, a)
    assert np.abs(exact_e - exact_e[0] + 2 * alpha * dissipated).max() <= 1e-8 * exact_e[0]
    assert np.all(np.diff(exact_e) <= 1e-12 * exact_e[0])
    for front_door in FRONT_DOORS:
        xs, ys = checked_library_solve(front_door, "imex", a, x0, y0, alpha, step_size, steps)
        e_mod = energies(modified_energy, xs, ys, a, step_size)
        damped = energies(modified_energy, xs[:-1], (1 - alpha * step_size) * ys[:-1], a, step_size)
        assert np.abs(e_mod[1:] - damped).max() <= 1e-10 * e_mod[0], front_door

        xs, ys = checked_library_solve(front_door, "verlet", a, x0, y0, alpha, step_size, steps)
        e_mod, c2 = verlet_modified_energy(xs, ys, a, step_size), np.exp(-alpha * step_size)
        kinetic = (ys ** 2).sum((-1, -2))
        expected = e_mod[:-1] - (1 - c2) * (kinetic[:-1] + kinetic[1:] / c2)
        assert np.abs(e_mod[1:] - expected).max() <= 1e-10 * e_mod[0], front_door
        assert np.all(np.diff(e_mod) <= 1e-12 * e_mod[0]), front_door

    fine, fine_steps = 0.01, 200
    xs, ys = checked_library_solve("odeint", "imex_implicit", a, x0, y0, alpha, fine, fine_steps)
    exact_xs, exact_ys, _ = solve_damped_system(a, x0, y0, alpha, np.arange(fine_steps + 1) * fine)
    exact_e = energies(energy, exact_xs, exact_ys, a)
    assert np.abs(energies(energy, xs, ys, a) - exact_e).max() <= 10 * fine * (1 + alpha) * exact_e[0]
