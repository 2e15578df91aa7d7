"""Warnings of a solve point at the line that called ``odeint``."""

import warnings

import torch

from graphcon_ode import odeint
from tests.solvers.oscillators import DrivenOscillator


def test_reversible_round_off_warning_names_the_callers_line():
    q0 = torch.tensor([0.3, -0.2], dtype=torch.float64)
    p0 = torch.tensor([0.1, 0.4], dtype=torch.float64)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        odeint(DrivenOscillator(alpha=0.5), (q0, p0), t, method="imex",
               options={"step_size": 0.1, "reconstruction_tol": 1e-300}, backward="reversible")
    amplifies = [w for w in caught if "amplifies round-off" in str(w.message)]
    assert len(amplifies) == 1
    assert amplifies[0].filename == __file__
