"""solvers/torchdiffeq_bridge.py: each registered method is a torchdiffeq solver class that states its order."""

import pytest

import solvers  # noqa: F401  (registers the methods)
from solvers.compat import SOLVERS, FixedGridODESolver
from solvers.registry import METHODS
from solvers.torchdiffeq_bridge import PartitionedFixedGridSolver, register_with_torchdiffeq

ORDERS = {"imex": 1, "imex_implicit": 1, "verlet": 2}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_the_torchdiffeq_solver_of_a_method_has_its_class_and_order(name):
    solver = SOLVERS[name]
    assert issubclass(solver, FixedGridODESolver)
    assert solver.__name__ == f"{METHODS[name].__name__}TorchdiffeqSolver"
    assert solver.method_class is METHODS[name]
    assert solver.order == METHODS[name].order == ORDERS[name]


def test_registering_makes_one_solver_class_per_method_with_its_order(monkeypatch):
    for name in METHODS:
        monkeypatch.setitem(SOLVERS, name, SOLVERS[name])
    register_with_torchdiffeq()
    for name, method_class in METHODS.items():
        solver = SOLVERS[name]
        assert solver.__bases__ == (PartitionedFixedGridSolver,)
        assert vars(solver)["order"] == method_class.order == ORDERS[name]
        assert vars(solver)["method_class"] is method_class
        assert solver.__name__ == f"{method_class.__name__}TorchdiffeqSolver"
