"""The a-priori amplification bound of reversible backprop: A(k) = max_κ ‖M_κ^{−k}‖₂, the inverse-step matrices M_κ⁻¹
and the power-iteration estimate of the force's Lipschitz constant, against numbers written out in the test."""

import math

import pytest
import torch

from solvers.amplification import ANGLES, amplification, force_lipschitz, inverse_step_matrices
from solvers.methods import Imex, PartitionedMethod

ROOT_EPS = 2.0**-26  # √ε of float64, the finite-difference step for ‖q‖ ≤ 1


def start_vector(shape):
    """The power iteration's start: a standard normal vector from a generator seeded with 0 (float64)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


class Counting:
    """A split system around ``force(t, q)`` that counts its evaluations."""

    alpha, gamma = 0.0, 1.0

    def __init__(self, force):
        self._force = force
        self.calls = 0

    def force(self, t, q):
        self.calls += 1
        return self._force(t, q)


# ---------------------------------------------------------------------------------------------------------------
# A(k)


def test_amplification_is_the_largest_spectral_norm_of_each_power():
    """For {diag(1/2, 1/4), J = [[1, 1], [0, 1]]}: A(k) = ‖J^k‖₂ = (k + √(k² + 4)) / 2 (not the Frobenius √(2 + k²))."""
    matrices = torch.tensor([[[0.5, 0.0], [0.0, 0.25]], [[1.0, 1.0], [0.0, 1.0]]], dtype=torch.float64)
    growth = amplification(matrices, 4, math.inf)
    expected = [(k + math.sqrt(k * k + 4)) / 2 for k in range(1, 5)]
    assert growth == pytest.approx(expected, rel=1e-12)


def test_amplification_stops_after_max_steps_with_an_infinite_budget():
    growth = amplification(torch.eye(2, dtype=torch.float64)[None], 3, math.inf)
    assert growth == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("budget, steps", [(2.5, 3), (3.0, 4), (0.5, 1)])
def test_amplification_stops_once_the_running_sum_exceeds_the_budget(budget, steps):
    """With A(j) = 1 the sum after k steps is k: it stops at the first k with k > budget (equality goes on)."""
    growth = amplification(torch.eye(2, dtype=torch.float64)[None], 10, budget)
    assert growth == [1.0] * steps


def test_amplification_stops_at_the_first_non_finite_power():
    """A(1) = 1e300 is finite, A(2) overflows: the list ends there even with an infinite budget."""
    growth = amplification(torch.tensor([[[1e300]]], dtype=torch.float64), 5, math.inf)
    assert len(growth) == 2
    assert growth[0] == 1e300
    assert not math.isfinite(growth[1])


# ---------------------------------------------------------------------------------------------------------------
# M_κ⁻¹


def rotation_scaling(kappa):
    """κ acting on ℝ² as the complex number it is: [[Re κ, −Im κ], [Im κ, Re κ]]."""
    return torch.tensor([[kappa.real, -kappa.imag], [kappa.imag, kappa.real]], dtype=torch.float64)


def sampled_kappas(lipschitz):
    """κ = 0, then κ = L e^{2πij/8} for j = 0, …, 7."""
    angles = [2 * math.pi * j / 8 for j in range(8)]
    return [0j] + [lipschitz * complex(math.cos(a), math.sin(a)) for a in angles]


def test_inverse_step_matrices_undo_eq4_for_every_sampled_eigenvalue():
    """Eq. (4) undone for g(q) = Kq: q = q⁺ − Δt p⁺, p = (p⁺ − Δt(K − γ)q) / (1 − αΔt), as a 4 × 4 map on (q, p)."""
    alpha, gamma, lipschitz, dt = 0.7, 1.3, 0.9, 0.2
    matrices = inverse_step_matrices(Imex(), alpha, gamma, lipschitz, dt)
    assert ANGLES == 8
    assert matrices.shape == (9, 4, 4)
    assert matrices.dtype == torch.float64
    eye, c = torch.eye(2, dtype=torch.float64), 1 - alpha * dt
    for k, kappa in enumerate(sampled_kappas(lipschitz)):
        drive = rotation_scaling(kappa) - gamma * eye
        expected = torch.cat([torch.cat([eye, -dt * eye], dim=1),
                              torch.cat([-dt * drive / c, (eye + dt * dt * drive) / c], dim=1)])
        torch.testing.assert_close(matrices[k], expected, rtol=0, atol=1e-14, msg=f"kappa = {kappa}")


class ExplicitUndo(PartitionedMethod):
    """An explicit step backwards, (q⁺ − Δt p⁺, p⁺ − Δt a(t, q⁺, p⁺)); records the times it is handed."""

    name, order, invertible = "explicit_undo", 1, True

    def __init__(self):
        self.times = []

    def inverse(self, system, t, dt, q, p, state=None):
        self.times.append(t)
        return q - dt * p, p - dt * system.acceleration(t, q, p)


def test_inverse_step_matrices_hand_the_method_a_linear_mode_at_time_zero():
    """The mode's acceleration is a(q, p) = Kq − γq − αp, so this inverse is [[I, −Δt], [−Δt(K − γ), (1 + αΔt)]];
    the method sees t = 0 as a float64 scalar tensor, once per sampled κ."""
    alpha, gamma, lipschitz, dt = 0.4, 1.1, 1.5, 0.25
    method = ExplicitUndo()
    matrices = inverse_step_matrices(method, alpha, gamma, lipschitz, dt)
    eye = torch.eye(2, dtype=torch.float64)
    for k, kappa in enumerate(sampled_kappas(lipschitz)):
        drive = rotation_scaling(kappa) - gamma * eye
        expected = torch.cat([torch.cat([eye, -dt * eye], dim=1),
                              torch.cat([-dt * drive, (1 + alpha * dt) * eye], dim=1)])
        torch.testing.assert_close(matrices[k], expected, rtol=0, atol=1e-14, msg=f"kappa = {kappa}")
    assert len(method.times) == 9
    for t in method.times:
        assert t.dtype == torch.float64 and t.dim() == 0 and float(t) == 0.0


# ---------------------------------------------------------------------------------------------------------------
# ‖∂g/∂q‖₂


WEIGHT = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.8, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64) @ torch.tensor(
    [[0.6, -0.8, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)  # singular values 2, 1.8, 1


def time_scaled(t, q):
    """g(t, q) = (1 + t) q Wᵀ, row by row."""
    return (1 + t) * q @ WEIGHT.T


def power_iteration(matrix, v, iterations):
    """The textbook power iteration on a symmetric ``matrix`` acting on rows: λ ≈ ‖M v̂‖, v ← M v̂."""
    estimate = 0.0
    for _ in range(iterations):
        v = v / v.norm()
        v = v @ matrix
        estimate = float(v.norm())
    return estimate


@pytest.mark.parametrize("iterations", [1, 2, 4, 7])
def test_force_lipschitz_is_the_power_iteration_on_jtj_from_its_seeded_start(iterations):
    """At t = 1/2, q = 0 (a difference step of √ε, exact for a linear g): ‖∂g/∂q‖ ≈ √λ of (1.5)² WᵀW."""
    t, q = torch.tensor(0.5, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64)
    jtj = 2.25 * WEIGHT.T @ WEIGHT
    expected = math.sqrt(power_iteration(jtj, start_vector(q.shape), iterations))
    assert force_lipschitz(Counting(time_scaled), t, q, iterations=iterations) == pytest.approx(expected, rel=1e-13)


def test_force_lipschitz_runs_four_iterations_by_default_and_converges_to_the_spectral_norm():
    t, q = torch.tensor(0.5, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64)
    jtj = 2.25 * WEIGHT.T @ WEIGHT
    default = force_lipschitz(Counting(time_scaled), t, q)
    assert default == pytest.approx(math.sqrt(power_iteration(jtj, start_vector(q.shape), 4)), rel=1e-13)
    assert default != pytest.approx(math.sqrt(power_iteration(jtj, start_vector(q.shape), 5)), rel=1e-10)
    converged = force_lipschitz(Counting(time_scaled), t, q, iterations=200)
    assert converged == pytest.approx(1.5 * 2.0, rel=1e-12)


def test_force_lipschitz_leaves_the_global_random_state_alone():
    """Same estimate whatever the global seed, and the global generator is not advanced."""
    t, q = torch.tensor(0.5, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64)
    estimates = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        state = torch.get_rng_state()
        estimates.append(force_lipschitz(Counting(time_scaled), t, q, iterations=2))
        assert torch.equal(torch.get_rng_state(), state)
    assert estimates[0] == estimates[1]


def squared_second(t, q):
    """g(q) = (0, q₁²): ∂g/∂q = diag(0, 2q₁)."""
    return torch.stack([torch.zeros_like(q[0]), q[1] ** 2])


@pytest.mark.parametrize("q", [[0.0, 1e-4], [1.5, 1e-3], [1e4, 1.0]])
def test_force_lipschitz_takes_a_forward_difference_of_step_root_eps_times_max_1_norm_q(q):
    """With h = √ε·max(1, ‖q‖) the forward difference on g = (0, q₁²) is Jv + h v₁²: from the second iteration on
    v = (0, s), s the sign of the start's second entry, and the estimate is √(4q₁² + 2q₁hs)."""
    q = torch.tensor(q, dtype=torch.float64)
    h = ROOT_EPS * max(1.0, float(q.norm()))
    q1, s = float(q[1]), math.copysign(1.0, float(start_vector(2)[1]))
    expected = math.sqrt(4 * q1 * q1 + 2 * q1 * h * s)
    estimate = force_lipschitz(Counting(squared_second), torch.zeros((), dtype=torch.float64), q, iterations=3)
    assert estimate == pytest.approx(expected, rel=1e-10)
    assert abs(estimate - 2 * q1) > 1e3 * 1e-10 * 2 * q1, "the difference step shows in the estimate"


def test_force_lipschitz_of_a_force_without_graph_is_zero():
    """g independent of q (no autograd graph): 0.0 after the one evaluation."""
    system = Counting(lambda t, q: torch.ones_like(q))
    assert force_lipschitz(system, torch.zeros(()), torch.ones(4, 2, dtype=torch.float64)) == 0.0
    assert system.calls == 1


def test_force_lipschitz_stops_at_a_zero_estimate():
    """ReLU below its kink: a graph, but ∂g/∂q = 0, so the first iteration gives 0.0 and the loop stops there."""
    system = Counting(lambda t, q: torch.relu(q))
    estimate = force_lipschitz(system, torch.zeros(()), -torch.ones(4, 2, dtype=torch.float64))
    assert estimate == 0.0 and isinstance(estimate, float)
    assert system.calls == 2


@pytest.mark.parametrize("kappa", [1.0, 3.0])
def test_force_lipschitz_evaluates_the_force_once_more_per_iteration(kappa):
    """g(q) = κq on one number at q = 0: every iteration gives exactly |κ| and costs one evaluation."""
    for iterations in (0, 1, 4):
        system = Counting(lambda t, q: kappa * q)
        estimate = force_lipschitz(system, torch.zeros(()), torch.zeros(1, dtype=torch.float64), iterations)
        assert estimate == (abs(kappa) if iterations else 0.0)
        assert system.calls == 1 + iterations
    system = Counting(lambda t, q: kappa * q)
    assert force_lipschitz(system, torch.zeros(()), torch.zeros(1, dtype=torch.float64)) == abs(kappa)
    assert system.calls == 5
