"""Declared options: every option a method or a backward mode reads is declared once, with its type and range.

An :class:`Option` checks one value where it enters (a mode's constructor, or the front door's ``options``
dict), so inner code trusts what it reads; :func:`check_keys` refuses a key no declaration knows, naming it and
listing the known ones (diffrax's adjoints and torchdiffeq's ``_check_inputs`` do the same for their options).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Option:
    """One option: its name, type (``int`` or ``float``), the range it must lie in, and its default.

    Attributes:
        name: the keyword of the option.
        kind: ``int`` (bool refused) or ``float`` (any finite real number, stored as float).
        requirement: the range in words, used in the error ("an integer >= 1").
        valid: whether a value of the right type lies in the range.
        default: the value when the option is not given; ``None`` means "chosen automatically".
        key: the key of ``odeint(..., options=...)`` that also sets it (e.g. "checkpoint_every"); defaults to name.
        doc: one line saying what it does.
    """

    name: str
    kind: type
    requirement: str
    valid: Callable[[Any], bool]
    default: Any = None
    key: str | None = None
    doc: str = ""

    @property
    def options_key(self) -> str:
        return self.key or self.name

    def check(self, value: Any, owner: str, key: str | None = None) -> Any:
        """``value`` converted to the option's type (``None``: the default); ``ValueError``/``TypeError`` naming
        ``key`` when it is wrong."""
        key = key or self.name
        if value is None:
            return self.default
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{key}: {owner} needs {self.requirement}, got {type(value).__name__} {value!r}")
        if self.kind is int:
            if not isinstance(value, numbers.Integral):
                raise TypeError(f"{key}: {owner} needs {self.requirement}, got {value!r}")
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{key}: {owner} needs {self.requirement}, got {value!r}")
        if not self.valid(value):
            raise ValueError(f"{key}: {owner} needs {self.requirement}, got {value!r}")
        return value


def check_keys(given: Iterable[str], known: Iterable[str], owner: str, argument: str = "options") -> None:
    """``ValueError`` naming the first key of ``given`` that is not in ``known``, with the known keys listed."""
    known = sorted(known)
    for key in given:
        if key not in known:
            raise ValueError(f"{argument}: unknown option {key!r} for {owner}; known options: "
                             f"{', '.join(known) if known else 'none'}")
