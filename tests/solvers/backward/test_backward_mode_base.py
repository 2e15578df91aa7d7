"""The backward-mode contract: modes as values (equality, hashing, repr), their checked options, which methods
each accepts, and the errors that name what a mode cannot solve."""

import re

import pytest
import torch

from graphcon_ode import odeint
from solvers import METHODS
from solvers.backward.adjoint import ContinuousAdjoint
from solvers.backward.backprop import Backprop
from solvers.backward.base import BackwardMode
from solvers.backward.checkpoint import Checkpoint
from solvers.backward.exact_reversal import ExactReversal
from solvers.backward.reversible import Reversible
from solvers.methods import PartitionedMethod
from solvers.problem import Problem
from solvers.stats import SolveStats
from solvers.system import CountedFunction
from tests.solvers.oscillators import DrivenOscillator

Q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
P0 = torch.tensor([0.2, 0.7], dtype=torch.float64)
T = torch.tensor([0.0, 0.3], dtype=torch.float64)


class Explicit(PartitionedMethod):
    """Explicit Euler, which has no inverse; registered only where a test needs such a method."""

    name, order = "explicit_test", 1

    def step(self, system, t, dt, q, p, state=None):
        return q + dt * p, p + dt * system.acceleration(t, q, p)


class ImexOrVerlet(BackwardMode):
    """A mode that declares two methods it implements."""

    name = "imex_or_verlet"
    partitioned_only = True
    methods = ("imex", "verlet")


def check(mode, method, func=None):
    func = DrivenOscillator(alpha=0.5) if func is None else func
    problem = Problem(func, Q0, P0, T, method, options={"step_size": 0.1})
    mode.check(problem, CountedFunction(func, SolveStats(method, mode.name)))


def test_modes_with_the_same_type_and_options_are_equal():
    assert Checkpoint(every=3) == Checkpoint(every=3)
    assert Checkpoint() == Checkpoint()
    assert Checkpoint(every=3) != Checkpoint(every=4)
    assert Checkpoint() != Checkpoint(every=4)


def test_modes_of_different_types_with_equal_options_differ():
    assert Backprop().config == ContinuousAdjoint().config == {}
    assert Backprop() != ContinuousAdjoint()
    assert ContinuousAdjoint() != Backprop()


def test_equal_modes_hash_alike_and_distinct_ones_apart():
    assert hash(Checkpoint(every=3)) == hash(Checkpoint(every=3))
    assert hash(Checkpoint(every=3)) != hash(Checkpoint(every=4))
    assert hash(Backprop()) != hash(ContinuousAdjoint())
    assert hash(Reversible(anchor_every=4, reconstruction_tol=1e-6)) == hash(
        Reversible(reconstruction_tol=1e-6, anchor_every=4))
    assert len({Checkpoint(every=3), Checkpoint(every=3), Checkpoint(every=4), Checkpoint()}) == 3


def test_repr_shows_the_type_and_the_options_that_are_set():
    assert repr(Checkpoint(every=8)) == "Checkpoint(every=8)"
    assert repr(Checkpoint()) == "Checkpoint()"
    assert repr(Backprop()) == "Backprop()"
    assert repr(Reversible(anchor_every=26)) == "Reversible(anchor_every=26)"
    assert repr(Reversible(anchor_every=26, reconstruction_tol=1e-6)) == (
        "Reversible(anchor_every=26, reconstruction_tol=1e-06)")
    assert repr(ExactReversal()) == "ExactReversal(fraction_bits=44)"


def test_an_unknown_constructor_option_names_the_class_the_mode_and_the_known_options():
    with pytest.raises(ValueError) as error:
        Checkpoint(bogus=1)
    assert str(error.value) == "Checkpoint: unknown option 'bogus' for adjoint='checkpoint'; known options: every"
    with pytest.raises(ValueError) as error:
        Backprop(every=2)
    assert str(error.value) == "Backprop: unknown option 'every' for adjoint='backprop'; known options: none"


def test_an_out_of_range_constructor_option_names_the_option_and_the_mode():
    with pytest.raises(ValueError) as error:
        Checkpoint(every=0)
    assert str(error.value) == "every: adjoint='checkpoint' needs an integer number of steps >= 1, got 0"
    with pytest.raises(TypeError) as error:
        Checkpoint(every=2.5)
    assert str(error.value) == "every: adjoint='checkpoint' needs an integer number of steps >= 1, got 2.5"


def test_an_option_given_in_options_is_named_by_its_key():
    with pytest.raises(ValueError) as error:
        odeint(DrivenOscillator(alpha=0.5), (Q0, P0), T, options={"step_size": 0.1, "checkpoint_every": 0},
               backward="checkpoint")
    assert str(error.value) == "checkpoint_every: adjoint='checkpoint' needs an integer number of steps >= 1, got 0"
    with pytest.raises(TypeError) as error:
        odeint(DrivenOscillator(alpha=0.5), (Q0, P0), T, options={"step_size": 0.1, "checkpoint_every": 1.5},
               backward=Checkpoint(every=2))
    assert str(error.value) == "checkpoint_every: adjoint='checkpoint' needs an integer number of steps >= 1, got 1.5"


def test_with_options_returns_a_new_mode_and_leaves_the_original_alone():
    mode = Checkpoint(every=3)
    assert mode.with_options({}) is mode
    changed = mode.with_options({"checkpoint_every": 5})
    assert changed == Checkpoint(every=5) and type(changed) is Checkpoint
    assert mode == Checkpoint(every=3)


def test_accepts_follows_the_declared_needs_of_each_mode(monkeypatch):
    assert Backprop.accepts("imex") and Backprop.accepts("rk4")
    assert ContinuousAdjoint.accepts("dopri5")
    assert Checkpoint.accepts("imex") and Checkpoint.accepts("verlet")
    assert not Checkpoint.accepts("rk4")
    assert Reversible.accepts("imex") and Reversible.accepts("verlet")
    assert ExactReversal.accepts("imex")
    assert not ExactReversal.accepts("verlet") and not ExactReversal.accepts("rk4")
    monkeypatch.setitem(METHODS, Explicit.name, Explicit)
    assert Backprop.accepts(Explicit.name) and Checkpoint.accepts(Explicit.name)
    assert not Reversible.accepts(Explicit.name)


def test_a_method_outside_the_declared_ones_is_refused_with_all_of_them_listed():
    with pytest.raises(ValueError) as error:
        check(ImexOrVerlet(), "imex_implicit")
    assert str(error.value) == "method='imex_implicit': adjoint='imex_or_verlet' implements only 'imex', 'verlet'"
    check(ImexOrVerlet(), "verlet")


def test_exact_reversal_names_the_one_method_it_implements():
    with pytest.raises(ValueError) as error:
        odeint(DrivenOscillator(alpha=0.5), (Q0, P0), T, method="verlet", options={"step_size": 0.1},
               backward="exact_reversal")
    assert str(error.value) == "method='verlet': adjoint='exact_reversal' implements only 'imex'"


def test_a_method_without_inverse_is_refused_with_the_invertible_ones_listed(monkeypatch):
    monkeypatch.setitem(METHODS, Explicit.name, Explicit)
    invertible = sorted(name for name, cls in METHODS.items() if cls.invertible)
    assert "imex" in invertible and Explicit.name not in invertible
    with pytest.raises(ValueError) as error:
        check(Reversible(), Explicit.name)
    assert str(error.value) == (f"method='explicit_test' has no inverse, which adjoint='reversible' needs "
                                f"(invertible methods: {invertible}); use adjoint='checkpoint'")


@pytest.mark.parametrize("mode", ["reversible", "exact_reversal"])
def test_a_plain_function_is_refused_by_a_mode_that_undoes_steps_naming_its_type(mode):
    def plain(t, state):
        return state[1], -state[0]

    expected = (f"func: adjoint='{mode}' undoes steps, which evaluates force(t, q) and needs alpha and gamma "
                f"(the solvers.SplitSystem protocol, which a bound GraphCONField implements); got function. "
                f"Use adjoint='checkpoint' for a plain function.")
    with pytest.raises(TypeError, match=f"^{re.escape(expected)}$"):
        odeint(plain, (Q0, P0), T, options={"step_size": 0.1}, backward=mode)


def test_a_torchdiffeq_method_is_refused_by_a_partitioned_only_mode():
    with pytest.raises(ValueError) as error:
        check(Checkpoint(), "rk4")
    assert str(error.value) == ("method='rk4' is a torchdiffeq method, but adjoint='checkpoint' steps the library's "
                                "own partitioned methods (e.g. 'imex'); use adjoint=False or adjoint=True with "
                                "torchdiffeq methods")
