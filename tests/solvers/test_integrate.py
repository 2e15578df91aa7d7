"""solvers/integrate.py: the fixed-step loop, its divergence check and the message that names the failing step."""

import math

import pytest
import torch

from solvers.grid import fixed_grid
from solvers.integrate import DivergedError, FiniteCheck, StepGrid, advance, integrate
from solvers.methods import Imex, Verlet
from tests.solvers.oscillators import DrivenOscillator

F64 = torch.float64
IMEX_BOUND = "alpha*dt <= 2 and dt**2*gamma <= 4 - 2*alpha*dt on the linear part"
VERLET_BOUND = "dt**2*gamma <= 4 on the linear part, any alpha"
ADVICE = "Take a smaller step_size, or a method stable at this one."


class NanForce:
    """g(t, q) = −q, except nan wherever ``bad(t)`` holds; α = 0.5, γ = 2: a solve that fails at a known time."""

    alpha, gamma = 0.5, 2.0

    def __init__(self, bad):
        self.bad = bad

    def force(self, t, q):
        return q * math.nan if self.bad(float(t)) else -q

    def acceleration(self, t, q, p):
        return self.force(t, q) - self.gamma * q - self.alpha * p


def state(n=2):
    return torch.ones(n, dtype=F64), torch.full((n,), 0.5, dtype=F64)


def message(method, bound, k, start, end, dt, alpha_dt, gamma_dt2):
    return (f"step_size: the state of method={method!r} became non-finite (nan or inf) in step {k} "
            f"(from t = {start} to t = {end}, step_size = {dt}); the method is stable for {bound} "
            f"(here alpha*dt = {alpha_dt}, dt**2*gamma = {gamma_dt2}). {ADVICE}")


def test_finite_check_reports_the_first_tensor_with_a_nan_or_an_inf():
    check = FiniteCheck()
    check.add(torch.tensor([1.0, -2.0], dtype=F64))
    check.add(torch.tensor([1.0, math.inf], dtype=F64))
    check.add(torch.tensor([math.nan, 0.0], dtype=F64))
    assert check.first_failure() == 1
    check = FiniteCheck()
    check.add(torch.tensor([-math.inf, 3.0], dtype=F64))
    assert check.first_failure() == 0


def test_finite_check_of_finite_tensors_or_of_none_reports_nothing():
    assert FiniteCheck().first_failure() is None
    check = FiniteCheck()
    for k in range(3):
        check.add(torch.full((2,), float(k), dtype=F64))
    assert check.first_failure() is None


def test_finite_check_keeps_fewer_than_a_chunk_of_pending_reductions():
    """Each tensor queues two reductions (min, max); the queue is folded once it holds CHUNK of them."""
    check = FiniteCheck()
    for k in range(FiniteCheck.CHUNK):
        check.add(torch.tensor([float(k)], dtype=F64))
        assert len(check.pending) < FiniteCheck.CHUNK
    assert len(check.pending) == 0 and len(check.folded) == 2
    check.add(torch.tensor([math.nan], dtype=F64))
    assert check.first_failure() == FiniteCheck.CHUNK


def test_divergence_names_the_step_its_times_and_the_stability_bound():
    q0, p0 = state()
    t = torch.tensor([0.0, 1.0], dtype=F64)
    with pytest.raises(DivergedError) as error:
        integrate(Imex(), NanForce(lambda s: s >= 0.3 - 1e-9), q0, p0, t, 0.1)
    assert str(error.value) == message("imex", IMEX_BOUND, 3, 0.3, 0.4, 0.1, 0.05, 0.02)
    assert isinstance(error.value, ValueError)


def test_divergence_in_reversed_time_quotes_the_decreasing_times_and_a_positive_step_size():
    q0, p0 = state()
    t = torch.tensor([1.0, 0.0], dtype=F64)
    with pytest.raises(DivergedError) as error:
        integrate(Imex(), NanForce(lambda s: s <= 0.7 + 1e-9), q0, p0, t, 0.1)
    assert str(error.value) == message("imex", IMEX_BOUND, 3, 0.7, 0.6, 0.1, 0.05, 0.02)


def test_divergence_with_steps_of_length_one():
    q0, p0 = state()
    t = torch.tensor([0.0, 4.0], dtype=F64)
    with pytest.raises(DivergedError) as error:
        integrate(Imex(), NanForce(lambda s: s >= 2.0), q0, p0, t, 1.0)
    assert str(error.value) == message("imex", IMEX_BOUND, 2, 2, 3, 1, 0.5, 2)


def test_a_velocity_that_fails_only_in_the_last_step_is_caught():
    """Verlet's last kick evaluates the force at the final time: p⁺ is nan while q⁺ is still finite."""
    q0, p0 = state()
    t = torch.tensor([0.0, 1.0], dtype=F64)
    with pytest.raises(DivergedError) as error:
        integrate(Verlet(), NanForce(lambda s: s >= 1.0), q0, p0, t, 0.25)
    assert str(error.value) == message("verlet", VERLET_BOUND, 3, 0.75, 1, 0.25, 0.125, 0.125)


def test_a_single_entry_state_is_checked():
    q0, p0 = state(1)
    t = torch.tensor([0.0, 1.0], dtype=F64)
    with pytest.raises(DivergedError, match=r"in step 5 \(from t = 0.5 to t = 0.6, step_size = 0.1\)"):
        integrate(Imex(), NanForce(lambda s: s >= 0.5 - 1e-9), q0, p0, t, 0.1)


def test_an_empty_state_is_integrated_without_a_check():
    q0 = p0 = torch.zeros(0, dtype=F64)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=F64)
    qs, ps = integrate(Imex(), DrivenOscillator(alpha=0.5), q0, p0, t, 0.1)
    assert qs.shape == ps.shape == (3, 0)


def test_advance_from_a_later_step_names_the_failing_step_of_the_whole_grid():
    q0, p0 = state()
    t = torch.tensor([0.0, 1.0], dtype=F64)
    grid = StepGrid(t, 0.1, q0)
    qs, ps = [q0, q0], [p0, p0]
    with pytest.raises(DivergedError) as error:
        advance(Imex(), NanForce(lambda s: s >= 0.5 - 1e-9), grid, 2, 10, q0, p0, qs, ps)
    assert str(error.value) == message("imex", IMEX_BOUND, 5, 0.5, 0.6, 0.1, 0.05, 0.02)


def test_advance_of_finite_steps_returns_the_imex_state():
    """Two steps of p⁺ = p + Δt(−q − 2q − 0.5p), q⁺ = q + Δt p⁺ from steps 1 to 3 of a grid of Δt = 0.25."""
    q, p = state()
    t = torch.tensor([0.0, 1.0], dtype=F64)
    grid = StepGrid(t, 0.25, q)
    qs, ps = [q, q], [p, p]
    q_end, p_end = advance(Imex(), NanForce(lambda s: False), grid, 1, 3, q, p, qs, ps)
    qr, pr = 1.0, 0.5
    for _ in range(2):
        pr = pr + 0.25 * (-3.0 * qr - 0.5 * pr)
        qr = qr + 0.25 * pr
    assert torch.allclose(q_end, torch.full((2,), qr, dtype=F64), rtol=1e-15, atol=0)
    assert torch.allclose(p_end, torch.full((2,), pr, dtype=F64), rtol=1e-15, atol=0)


def test_integrate_honours_its_step_limit():
    q0, p0 = state()
    t = torch.tensor([0.0, 1.0], dtype=F64)
    with pytest.raises(ValueError, match=r"step_size: 0.1 over \[0, 1\] is 10 steps, more than the limit of 5"):
        integrate(Imex(), DrivenOscillator(alpha=0.5), q0, p0, t, 0.1, max_steps=5)
    qs, _ = integrate(Imex(), DrivenOscillator(alpha=0.5), q0, p0, t, 0.1, max_steps=10)
    assert qs.shape == (2, 2)


def test_step_grid_places_float32_outputs_on_the_points_they_round_to():
    """0.7 in float32 is 0.69999999 < 0.7: the output still is the end of step 6, with slope exactly 1."""
    t = torch.tensor([0.0, 0.7, 1.0], dtype=torch.float32)
    grid = StepGrid(t, 0.1, t)
    assert grid.plan[6] == ((1, 1.0),) and grid.plan[9] == ((2, 1.0),)
    assert all(grid.plan[k] == () for k in range(10) if k not in (6, 9))
    assert grid.times.dtype == torch.float32 and grid.points == fixed_grid(t, 0.1)


def test_step_grid_times_follow_the_state_dtype_and_device():
    t = torch.tensor([0.0, 0.5], dtype=F64)
    grid = StepGrid(t, 0.25, torch.empty(3, dtype=torch.float32, device="meta"))
    assert grid.times.device.type == "meta" and grid.times.dtype == torch.float32
    assert grid.steps == 2 and grid.num_outputs == 2
