"""solvers/methods.py: the split-protocol error, Verlet's force reuse tolerance, and its step where e^{−αΔt/2} = 2."""

import math

import pytest
import torch

from solvers.methods import Imex, ImexImplicit, Verlet
from tests.solvers.oscillators import DrivenOscillator

F64 = torch.float64
Q = torch.tensor([1.0, -0.5], dtype=F64)
P = torch.tensor([0.25, 0.75], dtype=F64)


class Plain:
    """p' = −q, a system without the split protocol."""

    def acceleration(self, t, q, p):
        return -q


@pytest.mark.parametrize("method", [ImexImplicit(), Verlet()])
def test_a_split_method_names_the_system_it_cannot_use(method):
    with pytest.raises(TypeError) as error:
        method.check_system(Plain())
    assert str(error.value) == (
        f"method={method.name!r} needs a field that exposes force(t, q), alpha and gamma separately (the "
        f"solvers.SplitSystem protocol, which a bound GraphCONField implements); got Plain. Use method='imex' for "
        f"a plain function.")
    Imex().check_system(Plain())


def force_calls_of_two_steps(gap):
    """Force evaluations of two Verlet steps of Δt = 1, the second starting ``gap`` after the first one ended."""
    system, method = DrivenOscillator(alpha=0.5), Verlet()
    state = method.start()
    q, p = method.step(system, torch.tensor(-0.5, dtype=F64), 1.0, Q, P, state)
    method.step(system, torch.tensor(0.5 + gap, dtype=F64), 1.0, q, p, state)
    return system.calls


def test_verlet_reuses_the_last_force_within_16_ulps_of_the_step_length():
    """The tolerance is 16·eps·max(|t|, |Δt|) = 2⁻⁴⁸ here: a start 2⁻⁴⁸ after the last end reuses its force, one
    17·2⁻⁵² after it evaluates afresh."""
    assert force_calls_of_two_steps(0.0) == 3
    assert force_calls_of_two_steps(2.0**-48) == 3
    assert force_calls_of_two_steps(17 * 2.0**-52) == 4


def f(system, t, q):
    """g(t, q) − γq of the driven oscillator, written out: F cos(ωt) − (κ + γ)q."""
    return system.amplitude * math.cos(system.omega * t) - (system.kappa + system.gamma) * q


def test_verlet_step_and_inverse_with_a_half_step_decay_of_two():
    """αΔt = −2 ln 2 (Δt = −0.5, α = 4 ln 2): c = e^{−αΔt/2} = 2 exactly, and both updates still scale p by c."""
    system, dt, t = DrivenOscillator(alpha=4 * math.log(2)), -0.5, 0.25
    assert math.exp(-0.5 * system.alpha * dt) == 2.0
    q_next, p_next = Verlet().step(system, torch.tensor(t, dtype=F64), dt, Q, P)
    q_back, p_back = Verlet().inverse(system, torch.tensor(t, dtype=F64), dt, Q, P)
    for k in range(2):
        q, p = Q[k].item(), P[k].item()
        half = 2.0 * p + dt / 2 * f(system, t, q)
        q1 = q + dt * half
        p1 = 2.0 * (half + dt / 2 * f(system, t + dt, q1))
        assert q_next[k].item() == pytest.approx(q1, rel=1e-14)
        assert p_next[k].item() == pytest.approx(p1, rel=1e-14)
        half = p / 2.0 - dt / 2 * f(system, t + dt, q)
        q0 = q - dt * half
        p0 = (half - dt / 2 * f(system, t, q0)) / 2.0
        assert q_back[k].item() == pytest.approx(q0, rel=1e-14)
        assert p_back[k].item() == pytest.approx(p0, rel=1e-14)
