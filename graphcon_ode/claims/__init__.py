"""The paper's mathematical claims (Section 3, Appendix C, Fig. 2), each checked numerically.

Every module states one claim, derives what is actually true in its docstring, and has
``findings(thorough) -> list[Finding]``: the verdicts with the figures measured, using the library's fields,
couplings and ``odeint`` for the dynamics. ``graphcon-ode verify`` prints them all.
"""

from __future__ import annotations

import importlib

from .finding import VERDICTS, Finding

CLAIM_MODULES = (
    "energy_conservation",
    "steady_states",
    "oversmoothing",
    "state_bound",
    "gradient_bound",
    "gradient_leading_order",
    "dirichlet_figure",
)


def check_all(thorough: bool = False) -> list[Finding]:
    """The findings of every claim module, in the paper's order."""
    found: list[Finding] = []
    for name in CLAIM_MODULES:
        found += importlib.import_module(f"{__name__}.{name}").findings(thorough)
    return found


__all__ = ["CLAIM_MODULES", "VERDICTS", "Finding", "check_all"]
