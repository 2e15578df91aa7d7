"""One verified statement of the paper: what was checked, the number measured, and the threshold it is judged by.

A finding does not carry a verdict of its own: it carries the measured ``value`` and, written beside it, the
:class:`Threshold` the statement needs (``at_most(1e-10)``: "the state moves by round-off only"). The verdict is
computed from the two, so a changed measurement changes the verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

VERDICTS = ("holds", "holds_with_correction", "fails")

ROUND_OFF = 1e-10
"""Relative size of an effect that float64 arithmetic alone produces (tens of ulps over a few hundred steps)."""
SOLVER_TOLERANCE = 1e-6
"""Relative variation that a dopri8 solve at rtol 1e-12 cannot explain."""
NO_DECAY = 0.01
"""A fitted exponential decay rate (per unit time or per layer) at most this is "no exponential decay"."""


@dataclass(frozen=True)
class Threshold:
    """The statement holds when the measured value is ``<=`` (or ``>=``) ``limit``; ``corrected``: the statement
    checked is a corrected form of the paper's (the verdict is then "holds_with_correction")."""

    relation: str
    limit: float
    corrected: bool = False

    def __post_init__(self) -> None:
        if self.relation not in ("<=", ">="):
            raise ValueError(f"relation: expected '<=' or '>=', got {self.relation!r}")

    def verdict(self, value: float) -> str:
        met = math.isfinite(value) and (value <= self.limit if self.relation == "<=" else value >= self.limit)
        if not met:
            return "fails"
        return "holds_with_correction" if self.corrected else "holds"

    def __str__(self) -> str:
        return f"value {self.relation} {self.limit:g}"


def at_most(limit: float, corrected: bool = False) -> Threshold:
    """The statement holds when the value is at most ``limit``."""
    return Threshold("<=", limit, corrected)


def at_least(limit: float, corrected: bool = False) -> Threshold:
    """The statement holds when the value is at least ``limit``."""
    return Threshold(">=", limit, corrected)


@dataclass(frozen=True)
class Finding:
    """A row of the claims report.

    Attributes:
        claim: the paper's statement, e.g. "Prop. 3.1".
        equation: the equation or setting it concerns, e.g. "(12)".
        threshold: what the value must satisfy for the statement to hold (:func:`at_most`, :func:`at_least`).
        evidence: the figures measured, in words.
        value: the number behind the verdict (named in the evidence).
    """

    claim: str
    equation: str
    threshold: Threshold
    evidence: str
    value: float

    def __post_init__(self) -> None:
        if not isinstance(self.threshold, Threshold):
            raise TypeError(f"threshold: expected a Threshold (at_most/at_least), got {self.threshold!r}")

    @property
    def verdict(self) -> str:
        """"holds", "holds_with_correction" (a corrected form, stated in the evidence, holds) or "fails", from the
        value against the threshold."""
        return self.threshold.verdict(self.value)

    def as_dict(self) -> dict[str, object]:
        return {"claim": self.claim, "equation": self.equation, "verdict": self.verdict, "evidence": self.evidence,
                "value": self.value, "threshold": str(self.threshold)}


def span(values: list[float], digits: int = 3) -> str:
    """"a" for one value (or equal values), "a–b" for the range of several."""
    low, high = f"{min(values):.{digits}g}", f"{max(values):.{digits}g}"
    return low if low == high else f"{low}–{high}"
