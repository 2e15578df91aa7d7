"""The paper's mathematical claims (Section 3, Appendix C, Fig. 2), each checked numerically.

Every module states one claim, derives what is actually true in its docstring, and has
``findings(thorough) -> list[Finding]``: the verdicts with the figures measured, using the library's fields,
couplings and ``odeint`` for the dynamics. ``graphcon-ode verify`` prints them all.
"""

from __future__ import annotations

import importlib

from graphcon_ode.claims.finding import VERDICTS, Finding, at_least, at_most
from solvers.registry import Registry

CLAIM_MODULES: Registry[str] = Registry("claim module", {
    name: f"{__name__}.{name}" for name in (
        "energy_conservation",
        "steady_states",
        "oversmoothing",
        "state_bound",
        "gradient_bound",
        "gradient_leading_order",
        "dirichlet_figure",
    )
})
"""Every claim: name → the module holding its ``findings``, in the paper's order. A new claim is
``CLAIM_MODULES.register(name, module_name)``; a taken name is a ``KeyError``."""


def check_all(thorough: bool = False, names: list[str] | None = None) -> list[Finding]:
    """The findings of every claim module (or of the registered modules ``names``), in the paper's order."""
    unknown = [name for name in names or () if name not in CLAIM_MODULES]
    if unknown:
        raise ValueError(f"names: unknown claim modules {unknown}; known: {', '.join(CLAIM_MODULES)}")
    found: list[Finding] = []
    for name in (CLAIM_MODULES if names is None else [n for n in CLAIM_MODULES if n in names]):
        found += importlib.import_module(CLAIM_MODULES[name]).findings(thorough)
    return found


__all__ = ["CLAIM_MODULES", "VERDICTS", "Finding", "at_least", "at_most", "check_all"]
