"""One verified statement of the paper: what was checked, the verdict and the number behind it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

VERDICTS = ("holds", "holds_with_correction", "fails")


@dataclass(frozen=True)
class Finding:
    """A row of the claims report.

    Attributes:
        claim: the paper's statement, e.g. "Prop. 3.1".
        equation: the equation or setting it concerns, e.g. "(12)".
        verdict: "holds", "holds_with_correction" (a corrected form, stated in the evidence, holds) or "fails".
        evidence: the figures measured, in words.
        value: the number behind the verdict (named in the evidence).
    """

    claim: str
    equation: str
    verdict: str
    evidence: str
    value: float

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict: expected one of {VERDICTS}, got {self.verdict!r}")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def span(values: list[float], digits: int = 3) -> str:
    """"a" for one value (or equal values), "a–b" for the range of several."""
    low, high = f"{min(values):.{digits}g}", f"{max(values):.{digits}g}"
    return low if low == high else f"{low}–{high}"
