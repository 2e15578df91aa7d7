"""Registries (name → class) that refuse a silent overwrite, and the method names of the solvers
(``odeint(..., method="imex")``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from .methods import Imex, ImexImplicit, PartitionedMethod, Verlet

T = TypeVar("T")


class Registry(dict[str, T]):
    """A ``dict`` of named entries of one kind (``what``: "method", "coupling", …) that refuses to replace an entry.

    ``registry[name] = entry`` and ``registry.update(...)`` raise a ``KeyError`` naming the entry when ``name`` is
    taken; ``registry.register(name, entry, replace=True)`` is the one way to replace it on purpose (a test that
    swaps an entry in and out, or a recipe that means to).
    """

    def __init__(self, what: str, entries: Mapping[str, T] | Iterable[tuple[str, T]] = ()):
        super().__init__()
        self.what = what
        self.update(entries)

    def register(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Add ``entry`` under ``name``; an existing ``name`` is an error unless ``replace``. Returns ``entry``."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"name: a {self.what} is registered under a non-empty string, got {name!r}")
        if name in self and not replace and self[name] is not entry:
            raise KeyError(f"{self.what} {name!r} is registered already ({self[name]!r}); pass replace=True to "
                           f"replace it, or pick another name")
        super().__setitem__(name, entry)
        return entry

    def __setitem__(self, name: str, entry: T) -> None:
        self.register(name, entry)

    def update(self, *args: Any, **kwargs: Any) -> None:  # dict.update bypasses __setitem__
        for name, entry in dict(*args, **kwargs).items():
            self.register(name, entry)

    def setdefault(self, name: str, entry: T) -> T:  # type: ignore[override]
        return self[name] if name in self else self.register(name, entry)

    def __ior__(self, other: Mapping[str, T]) -> Registry[T]:  # type: ignore[override]
        self.update(other)
        return self


METHODS: Registry[type[PartitionedMethod]] = Registry("method", {
    Imex.name: Imex,
    ImexImplicit.name: ImexImplicit,
    Verlet.name: Verlet,
})


def get_method(name: str) -> PartitionedMethod:
    """A fresh instance of the partitioned method called ``name``."""
    try:
        return METHODS[name]()
    except KeyError:
        raise ValueError(f"unknown partitioned method {name!r}; known: {sorted(METHODS)}") from None
