"""graphcon-ode: Graph-Coupled Oscillator Networks (Rusch et al., ICML 2022) as neural ODEs.

    X' = Y,    Y' = σ(F_θ(X, t)) − γX − αY                                  (eq. (3))

Build a field from a coupling, bind it to a graph and solve it like torchdiffeq:

    >>> field = GraphCONField(GCN(16), alpha=0.5, gamma=1.0)
    >>> xs, ys = odeint(field.bind(edge_index), (x0, y0), t, method="imex", options={"step_size": 0.1})

Importing the package registers the partitioned methods ("imex", …) as torchdiffeq method names.
"""

import solvers as _solvers  # noqa: F401  (registers the partitioned methods with torchdiffeq)
from graphcon_ode.couplings import GAT, GCN, Coupling, from_pyg
from graphcon_ode.couplings.sep import SepAttention, SepMean
from graphcon_ode.energy import dirichlet_energy
from graphcon_ode.field import BoundGraphCONField, GraphCONField
from graphcon_ode.models.node import GATNodeModel, GCNNodeModel, GraphCONNodeModel
from graphcon_ode.odeint import known_methods, odeint

__version__ = "0.1.0"

__all__ = [
    "GAT",
    "GCN",
    "BoundGraphCONField",
    "Coupling",
    "GATNodeModel",
    "GCNNodeModel",
    "GraphCONField",
    "GraphCONNodeModel",
    "SepAttention",
    "SepMean",
    "dirichlet_energy",
    "from_pyg",
    "known_methods",
    "odeint",
]
