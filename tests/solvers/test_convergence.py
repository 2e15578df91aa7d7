"""Measured orders of convergence, long-time energy behaviour and stability of the partitioned methods."""

import numpy as np
import pytest
import scipy.linalg
import torch
import torchdiffeq

from graphcon_ode import GCN, GraphCONField, odeint
from tests.graphs import gcn_operator, random_graph
from tests.solvers.oscillators import DrivenOscillator

ORDERS = {"imex": 1, "imex_implicit": 1, "verlet": 2}
STEP_SIZES = [0.1 / 2**k for k in range(5)]
T = 2.0
Q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
P0 = torch.tensor([0.2, 0.7], dtype=torch.float64)


def fitted_order(errors):
    """Slope of log(error) against log(Δt), least squares over every step size."""
    return np.polyfit(np.log(STEP_SIZES), np.log(errors), 1)[0]


@pytest.mark.parametrize("alpha", [0.6, 30.0], ids=["underdamped", "overdamped"])
def test_closed_form_solves_the_oscillator(alpha):
    system = DrivenOscillator(alpha=alpha)
    qs, ps = torchdiffeq.odeint(system, (Q0, P0), torch.tensor([0.0, T], dtype=torch.float64),
                                method="dopri5", rtol=1e-12, atol=1e-12)
    q, p = system.exact(T, Q0, P0)
    assert torch.allclose(qs[-1], q, rtol=0, atol=1e-10) and torch.allclose(ps[-1], p, rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", list(ORDERS))
def test_observed_order_on_the_driven_damped_oscillator(method):
    system = DrivenOscillator(alpha=0.6)
    q_exact, p_exact = system.exact(T, Q0, P0)
    errors = []
    for dt in STEP_SIZES:
        qs, ps = odeint(system, (Q0, P0), torch.tensor([0.0, T], dtype=torch.float64), method=method,
                        options={"step_size": dt})
        errors.append(max((qs[-1] - q_exact).abs().max().item(), (ps[-1] - p_exact).abs().max().item()))
    assert abs(fitted_order(errors) - ORDERS[method]) <= 0.15, errors


def linear_graphcon_exact(field, edge_index, x0, y0, t):
    """exp(tM) on the affine system of eq. (3) with σ = identity and a GCN coupling F(X) = ÂXWᵀ + b:
    vec(ÂXWᵀ) = (Â ⊗ W) vec(X) for row-major vec; the state is [vec X; vec Y; 1]."""
    n, c = x0.shape
    d = n * c
    layer = field.coupling.layers[0]
    coupling = torch.kron(gcn_operator(edge_index, n), layer.lin.weight.detach())
    m = torch.zeros(2 * d + 1, 2 * d + 1, dtype=torch.float64)
    m[:d, d:2 * d] = torch.eye(d)
    m[d:2 * d, :d] = coupling - field.gamma * torch.eye(d)
    m[d:2 * d, d:2 * d] = -field.alpha * torch.eye(d)
    m[d:2 * d, -1] = layer.bias.detach().repeat(n)
    z0 = torch.cat([x0.reshape(-1), y0.reshape(-1), torch.ones(1, dtype=torch.float64)])
    z = torch.from_numpy(scipy.linalg.expm(t * m.numpy())) @ z0
    return z[:d].view(n, c), z[d:2 * d].view(n, c)


@pytest.mark.parametrize("method", list(ORDERS))
def test_observed_order_on_a_linear_graphcon_field(method):
    torch.manual_seed(0)
    edge_index = random_graph(6, 10)
    field = GraphCONField(GCN(2), alpha=0.4, gamma=2.0, activation=lambda x: x).double()
    x0 = torch.randn(6, 2, dtype=torch.float64)
    y0 = torch.randn(6, 2, dtype=torch.float64)
    x_exact, y_exact = linear_graphcon_exact(field, edge_index, x0, y0, T)
    errors = []
    with torch.no_grad():
        for dt in STEP_SIZES:
            xs, ys = odeint(field.bind(edge_index), (x0, y0), torch.tensor([0.0, T], dtype=torch.float64),
                            method=method, options={"step_size": dt})
            errors.append(max((xs[-1] - x_exact).abs().max().item(), (ys[-1] - y_exact).abs().max().item()))
    assert abs(fitted_order(errors) - ORDERS[method]) <= 0.15, errors


ENERGY_STEPS, ENERGY_DT = 10_000, 0.05


def relative_energy_error(method, solve):
    system = DrivenOscillator(alpha=0.0, amplitude=0.0)
    t = torch.arange(ENERGY_STEPS + 1, dtype=torch.float64) * ENERGY_DT
    qs, ps = solve(system, (Q0, P0), t, method=method, options={"step_size": ENERGY_DT})
    e0 = system.energy(Q0, P0)
    return (system.energy(qs, ps) - e0).abs() / e0, (system.gamma + system.kappa) ** 0.5


@pytest.mark.parametrize("method, power", [("imex", 1), ("verlet", 2)])
def test_symplectic_energy_error_stays_bounded_over_ten_thousand_steps(method, power):
    error, omega = relative_energy_error(method, odeint)
    first, last = error[:1001].max().item(), error[-1000:].max().item()
    assert 0 < last <= 1.01 * first, "no secular drift: the last thousand steps are no worse than the first"
    assert first <= (omega * ENERGY_DT) ** power, f"energy error O(Δt^{power})"


def test_explicit_euler_energy_grows_by_one_plus_dt2_omega2_per_step():
    """Euler on q'' = −ω²q: E⁺ = ½[(p − Δtω²q)² + ω²(q + Δtp)²] = (1 + Δt²ω²) E exactly."""
    error, omega = relative_energy_error("euler", torchdiffeq.odeint)
    growth = 1 + error[-1].item()
    expected = (1 + (ENERGY_DT * omega) ** 2) ** ENERGY_STEPS
    assert expected > 1e15
    assert growth == pytest.approx(expected, rel=1e-8)


def test_imex_implicit_is_stable_and_accurate_where_imex_blows_up():
    """αΔt = 3, overdamped: eq. (4) multiplies p by 1 − αΔt = −2 each step, the implicit damping divides it by
    1 + αΔt = 4 and follows the slow mode r = −α/2 + √(α²/4 − ω₀²) ≈ −ω₀²/α. Verlet stays stable (its damping is
    exact) but its half-step factor e^{−αΔt/2} misses the balance of force and damping that sets the slow mode."""
    system = DrivenOscillator(alpha=30.0)
    t_end, steps = 10.0, 100
    q_exact, _ = system.exact(t_end, Q0, P0)
    t = torch.linspace(0.0, t_end, steps + 1, dtype=torch.float64)
    errors = {}
    for method in ("imex", "imex_implicit", "verlet"):
        qs, _ = odeint(system, (Q0, P0), t, method=method, options={"step_size": t_end / steps})
        errors[method] = ((qs[-1] - q_exact).abs().max() / q_exact.abs().max()).item()
    assert errors["imex"] > 1e20
    assert errors["imex_implicit"] < 0.01
    assert 0.2 < errors["verlet"] < 1.0


STABILITY_LIMITS = {  # largest (Δt ω₀)² of a stable step on q'' = −ω₀²q − αq', from the 2×2 step matrix
    "imex": lambda alpha_dt: 4 - 2 * alpha_dt,
    "imex_implicit": lambda alpha_dt: 4 + 2 * alpha_dt,
    "verlet": lambda alpha_dt: 4.0,
}


@pytest.mark.parametrize("alpha", [0.0, 5.0, 15.0])
@pytest.mark.parametrize("method", list(STABILITY_LIMITS))
def test_stability_limit_in_the_step_size(method, alpha):
    """A real 2×2 step matrix M is stable iff |det M| ≤ 1 and |tr M| ≤ 1 + det M.
    imex: det = 1 − αΔt, tr = 2 − αΔt − Δt²ω₀², so Δt²ω₀² ≤ 4 − 2αΔt (and αΔt ≤ 2);
    imex_implicit: det = 1/(1 + αΔt), tr = 1 + (1 − Δt²ω₀²)/(1 + αΔt), so Δt²ω₀² ≤ 4 + 2αΔt;
    verlet: det = e^{−αΔt}, tr = (1 + e^{−αΔt})(1 − Δt²ω₀²/2), so Δt²ω₀² ≤ 4 whatever α.
    Just inside each limit the energy stays bounded; just outside it grows without bound."""
    dt = 0.1
    limit = STABILITY_LIMITS[method](alpha * dt) / dt**2
    t = torch.arange(1001, dtype=torch.float64) * dt
    growth = []
    for factor in (0.95, 1.05):
        system = DrivenOscillator(alpha=alpha, gamma=factor * limit, kappa=0.0, amplitude=0.0)
        qs, ps = odeint(system, (Q0, P0), t, method=method, options={"step_size": dt})
        growth.append((system.energy(qs, ps).max() / system.energy(Q0, P0)).item())
    assert growth[0] < 100 and growth[1] > 1e20, growth
