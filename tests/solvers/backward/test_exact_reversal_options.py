"""Options of "exact_reversal" and "checkpoint": set on the mode object or by their keys in ``odeint``'s
``options``, checked where they enter, and read by the solve."""

import pytest
import torch

from graphcon_ode import odeint
from solvers.backward.checkpoint import Checkpoint
from solvers.backward.exact_reversal import ExactReversal
from tests.solvers.oscillators import DrivenOscillator

Q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
P0 = torch.tensor([0.2, 0.7], dtype=torch.float64)
T = torch.tensor([0.0, 0.3], dtype=torch.float64)


def solve(y0, backward, **options):
    return odeint(DrivenOscillator(alpha=0.5), y0, T, options={"step_size": 0.1, **options}, backward=backward,
                  return_stats=True)


@pytest.mark.parametrize("bits", [7, 53])
def test_fraction_bits_outside_8_to_52_are_refused(bits):
    with pytest.raises(ValueError) as error:
        ExactReversal(fraction_bits=bits)
    assert str(error.value) == f"fraction_bits: adjoint='exact_reversal' needs an integer in [8, 52], got {bits}"
    with pytest.raises(ValueError) as error:
        solve((Q0, P0), "exact_reversal", fraction_bits=bits)
    assert str(error.value) == f"fraction_bits: adjoint='exact_reversal' needs an integer in [8, 52], got {bits}"


@pytest.mark.parametrize("backward", ["exact_reversal", ExactReversal(fraction_bits=30)])
def test_fraction_bits_given_in_options_set_the_fixed_point_range(backward):
    """R = 40 keeps entries below 2^61 / 2^40 = 2^21."""
    edge = torch.tensor([2.0**21, 0.0], dtype=torch.float64)
    with pytest.raises(ValueError) as error:
        solve((edge, P0), backward, fraction_bits=40)
    assert str(error.value) == ("y0: entries up to 2.09715e+06 do not fit the fixed-point range ±2.09715e+06 of "
                                "fraction_bits=40")
    (qs, _), _ = solve((torch.tensor([2.0**20, 0.0], dtype=torch.float64), P0), backward, fraction_bits=40)
    assert qs.shape == (2, 2)


def test_fraction_bits_of_the_mode_object_are_used_without_options():
    edge = torch.tensor([2.0**21, 0.0], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"fraction_bits=40$"):
        solve((edge, P0), ExactReversal(fraction_bits=40))


def test_checkpoint_every_in_options_overrides_the_mode_object():
    _, stats = solve((Q0, P0), Checkpoint(every=1), checkpoint_every=2)
    assert stats.extra["checkpoint_every"] == 2
    _, stats = solve((Q0, P0), Checkpoint(every=1))
    assert stats.extra["checkpoint_every"] == 1


def test_an_option_of_another_mode_is_an_unknown_key():
    with pytest.raises(ValueError) as error:
        solve((Q0, P0), "checkpoint", fraction_bits=40)
    assert str(error.value).startswith("options: unknown option 'fraction_bits' for method='imex' with "
                                       "backward='checkpoint'; known options: ")
