"""A claim's verdict is computed from its measured value against the threshold written beside it."""

import math

import pytest

from graphcon_ode.claims.finding import Finding, at_least, at_most


@pytest.mark.parametrize("value, verdict", [(0.5, "holds"), (1.0, "holds"), (1.5, "fails"), (math.nan, "fails")])
def test_at_most(value, verdict):
    assert Finding("Prop. X", "(1)", at_most(1.0), "evidence", value).verdict == verdict


@pytest.mark.parametrize("value, verdict", [(3.0, "holds_with_correction"), (2.4, "fails")])
def test_at_least_for_a_corrected_statement(value, verdict):
    finding = Finding("Prop. X", "(1) corrected", at_least(2.5, corrected=True), "evidence", value)
    assert finding.verdict == verdict
    assert finding.as_dict()["threshold"] == "value >= 2.5" and finding.as_dict()["verdict"] == verdict


def test_a_literal_verdict_is_refused():
    with pytest.raises(TypeError, match="threshold"):
        Finding("Prop. X", "(1)", "holds", "evidence", 1.0)
