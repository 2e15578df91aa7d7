"""Argument checks shared by the library's constructors: each raises at the boundary, naming the argument."""

from __future__ import annotations

import numbers

import numpy as np


def positive_int(name: str, value: object) -> int:
    """``value`` as an int; ``TypeError`` naming ``name`` unless it is an integer (bool refused), ``ValueError``
    unless it is ≥ 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected a positive integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name}: must be >= 1, got {value}")
    return int(value)


def check_sizes(**sizes: object) -> None:
    """:func:`positive_int` for every keyword (e.g. ``in_channels=…, num_layers=…``)."""
    for name, value in sizes.items():
        positive_int(name, value)


def boolean(name: str, value: object) -> bool:
    """``value`` itself when it is a bool (numpy's included); ``TypeError`` naming ``name`` otherwise, so that a
    string such as ``"False"`` is not taken for true."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def dropout_rate(name: str, value: object) -> float:
    """``value`` as a float; ``TypeError`` naming ``name`` unless it is a real number (bool refused), ``ValueError``
    unless it lies in [0, 1) (a rate of 1 drops every entry and leaves no signal; NaN is outside)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a dropout rate in [0, 1), got {type(value).__name__} {value!r}")
    if not 0 <= value < 1:
        raise ValueError(f"{name}: a dropout rate must lie in [0, 1), got {value}")
    return float(value)


def check_dropout(**rates: object) -> None:
    """:func:`dropout_rate` for every keyword (e.g. ``dropout=…, input_dropout=…``)."""
    for name, value in rates.items():
        dropout_rate(name, value)
