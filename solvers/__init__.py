"""Structure-preserving fixed-step methods for partitioned second-order systems q' = p, p' = a(t, q, p).

Graph-agnostic: nothing here knows about graphs. Importing the package registers every method as a
``torchdiffeq.odeint`` method name.
"""

from .backward import BACKWARD_MODES, get_backward_mode
from .backward.adjoint import ContinuousAdjoint
from .backward.backprop import Backprop
from .backward.base import BackwardMode
from .backward.checkpoint import Checkpoint
from .backward.exact_reversal import ExactReversal
from .backward.reversible import Reversible
from .grid import fixed_grid
from .integrate import StepGrid, advance, integrate
from .methods import Imex, ImexImplicit, PartitionedMethod, Verlet
from .options import Option
from .problem import Problem
from .registry import METHODS, get_method
from .stats import SolveStats
from .system import CountedFunction, PartitionedSystem, SplitSystem, TupleFunctionSystem, as_system, is_split
from .torchdiffeq_bridge import register_with_torchdiffeq

register_with_torchdiffeq()

__all__ = [
    "BACKWARD_MODES",
    "Backprop",
    "BackwardMode",
    "Checkpoint",
    "ContinuousAdjoint",
    "ExactReversal",
    "Option",
    "Reversible",
    "Problem",
    "get_backward_mode",
    "METHODS",
    "CountedFunction",
    "Imex",
    "ImexImplicit",
    "PartitionedMethod",
    "PartitionedSystem",
    "SolveStats",
    "SplitSystem",
    "StepGrid",
    "TupleFunctionSystem",
    "Verlet",
    "advance",
    "as_system",
    "fixed_grid",
    "get_method",
    "integrate",
    "is_split",
    "register_with_torchdiffeq",
]
