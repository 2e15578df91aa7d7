"""solvers/system.py: the partitioned and split views of a field, and the counting wrapper, on hand-written fields."""

import torch

from solvers.stats import SolveStats
from solvers.system import CountedFunction, TupleFunctionSystem, as_number, as_system, is_split, scaled_sub

Q = torch.tensor([1.0, -2.0], dtype=torch.float64)
P = torch.tensor([0.5, 0.25], dtype=torch.float64)
T = torch.tensor(0.5, dtype=torch.float64)


class TupleOnly:
    """f(t, (q, p)) = (p, t − 3q − p), with no acceleration method."""

    def __call__(self, t, state):
        q, p = state
        return p, t - 3.0 * q - p


class SplitTuple(TupleOnly):
    """The same field with the split protocol: g(t, q) = t, γ = 3, α = 1."""

    alpha, gamma = 1.0, 3.0

    def force(self, t, q):
        return t * torch.ones_like(q)

    def acceleration(self, t, q, p):
        return self(t, (q, p))[1]


class Both:
    """A tuple function whose own acceleration is cheaper: it counts which of the two was used."""

    def __init__(self):
        self.used = []

    def __call__(self, t, state):
        self.used.append("call")
        q, p = state
        return p, -q

    def acceleration(self, t, q, p):
        self.used.append("acceleration")
        return t * q + 2.0 * p


def test_a_tuple_function_gives_its_second_component_as_the_acceleration():
    system = as_system(TupleOnly())
    assert isinstance(system, TupleFunctionSystem)
    assert torch.equal(system.acceleration(T, Q, P), torch.tensor([-3.0, 6.25], dtype=torch.float64))
    assert not is_split(system)


def test_the_split_protocol_of_the_wrapped_function_passes_through():
    func = SplitTuple()
    system = TupleFunctionSystem(func)
    assert is_split(system)
    assert (system.alpha, system.gamma) == (1.0, 3.0)
    assert torch.equal(system.force(T, Q), torch.full((2,), 0.5, dtype=torch.float64))


def test_a_wrapped_acceleration_is_called_with_t_q_p_instead_of_the_tuple_function():
    func = Both()
    accel = TupleFunctionSystem(func).acceleration(T, Q, P)
    assert torch.equal(accel, 0.5 * Q + 2.0 * P)
    assert func.used == ["acceleration"]
    assert as_system(func) is func


def test_scaled_sub_and_as_number_with_floats_and_trained_tensors():
    scale = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    assert torch.equal(scaled_sub(Q, P, 2.0), torch.tensor([0.0, -2.5], dtype=torch.float64))
    out = scaled_sub(Q, P, scale)
    assert torch.equal(out.detach(), torch.tensor([0.0, -2.5], dtype=torch.float64))
    (grad,) = torch.autograd.grad(out.sum(), scale)
    assert float(grad) == -0.75
    assert as_number(scale) == 2.0 and isinstance(as_number(scale), float)
    assert as_number(3) == 3.0 and isinstance(as_number(3), float)


def test_counted_function_counts_each_kind_of_call_into_the_phase_it_is_in():
    stats = SolveStats("imex", "backprop")
    counted = CountedFunction(SplitTuple(), stats)
    assert is_split(counted) and (counted.alpha, counted.gamma) == (1.0, 3.0)
    q_dot, p_dot = counted(T, (Q, P))
    assert torch.equal(q_dot, P) and torch.equal(p_dot, torch.tensor([-3.0, 6.25], dtype=torch.float64))
    assert torch.equal(counted.acceleration(T, Q, P), torch.tensor([-3.0, 6.25], dtype=torch.float64))
    assert torch.equal(counted.force(T, Q), torch.full((2,), 0.5, dtype=torch.float64))
    assert (stats.nfe_forward, stats.nfe_backward) == (3, 0)
    counted.phase = "backward"
    counted.acceleration(T, Q, P)
    counted.force(T, Q)
    assert (stats.nfe_forward, stats.nfe_backward) == (3, 2)


def test_counted_function_of_a_plain_function_has_no_force():
    counted = CountedFunction(TupleOnly(), SolveStats("imex", "backprop"))
    assert not is_split(counted)
    assert not hasattr(counted, "force")
    assert torch.equal(counted.acceleration(T, Q, P), torch.tensor([-3.0, 6.25], dtype=torch.float64))
    assert counted.stats.nfe_forward == 1
