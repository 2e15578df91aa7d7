"""Method names: the user interface of the solvers (``odeint(..., method="imex")``)."""

from __future__ import annotations

from .methods import Imex, ImexImplicit, PartitionedMethod, Verlet

METHODS: dict[str, type[PartitionedMethod]] = {
    Imex.name: Imex,
    ImexImplicit.name: ImexImplicit,
    Verlet.name: Verlet,
}


def get_method(name: str) -> PartitionedMethod:
    """A fresh instance of the partitioned method called ``name``."""
    try:
        return METHODS[name]()
    except KeyError:
        raise ValueError(f"unknown partitioned method {name!r}; known: {sorted(METHODS)}") from None
