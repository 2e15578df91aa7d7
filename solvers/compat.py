"""torchdiffeq's private internals, imported here and nowhere else, for the versions they were written against.

The bridge that makes the partitioned methods torchdiffeq method names needs torchdiffeq's table of solvers
(``SOLVERS``), its fixed-grid base class and the wrappers it puts around a user's function (tuple state, time
reversal, time perturbation). None of these is public API, so the versions they were read from are pinned in
pyproject.toml (:data:`SUPPORTED`) and checked on import, with an error that says what to install.
"""

from __future__ import annotations

import torchdiffeq

SUPPORTED = (">=0.2.5", "<0.3")
_LOWEST, _BELOW = (0, 2, 5), (0, 3, 0)


def _version(text: str) -> tuple[int, int, int]:
    """(major, minor, micro): the leading digits of the first three parts, 0 where a part has none or is missing
    ("0.3" is (0, 3, 0), "0.2.dev5" is (0, 2, 0))."""
    parts = [0, 0, 0]
    for index, piece in enumerate(text.split(".")[:3]):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        parts[index] = int(digits) if digits else 0
    return parts[0], parts[1], parts[2]


def check_version(version: str) -> None:
    """``ImportError`` unless ``version`` of torchdiffeq lies in :data:`SUPPORTED`."""
    if not _LOWEST <= _version(version) < _BELOW:
        raise ImportError(
            f"torchdiffeq {version} is not supported: graphcon-ode registers its methods through torchdiffeq "
            f"internals read from versions {','.join(SUPPORTED)}; install one with "
            f"pip install 'torchdiffeq{','.join(SUPPORTED)}'"
        )


check_version(torchdiffeq.__version__)

try:
    from torchdiffeq._impl.misc import _PerturbFunc, _ReverseFunc, _TupleFunc
    from torchdiffeq._impl.odeint import SOLVERS
    from torchdiffeq._impl.solvers import FixedGridODESolver
except ImportError as error:  # pragma: no cover - only with a torchdiffeq outside SUPPORTED
    raise ImportError(
        f"torchdiffeq {torchdiffeq.__version__} lacks the internals graphcon-ode's bridge uses ({error}); "
        f"install torchdiffeq{','.join(SUPPORTED)}"
    ) from error


def is_fixed_step(method: str, partitioned: bool = False) -> bool:
    """Whether torchdiffeq's ``method`` (or a partitioned method, ``partitioned=True``) steps on a fixed grid.

    A torchdiffeq method is fixed-step exactly when its solver class derives from torchdiffeq's fixed-grid
    base class; this is the one answer the front door, the backward modes and the experiments use.
    """
    return partitioned or (method in SOLVERS and issubclass(SOLVERS[method], FixedGridODESolver))


__all__ = ["SOLVERS", "SUPPORTED", "FixedGridODESolver", "_PerturbFunc", "_ReverseFunc", "_TupleFunc",
           "check_version", "is_fixed_step"]
