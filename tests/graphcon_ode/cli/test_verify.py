"""``graphcon-ode verify`` runs every claim check, prints the table and writes verify.json with the verdicts."""

import json
import math

from graphcon_ode.claims import VERDICTS
from graphcon_ode.cli import main

EXPECTED = {
    ("Prop. 3.1", "(11)-(12) as printed"): "fails",
    ("Prop. 3.1", "(11) with ½ΣΣA_ij‖X_i−X_j‖²"): "holds_with_correction",
    ("Prop. 3.1 (scheme)", "(4), α = 0"): "holds",
    ("Steady states", "(6) as printed"): "fails",
    ("Steady states", "(6) with X* = σ(F(X*))/γ"): "holds_with_correction",
    ("Steady states", "(7)"): "holds",
    ("Prop. 3.3", "(15) ⇔ (c, 0) exponentially stable"): "fails",
    ("Prop. 3.4", "α ≥ ½: E(X(t)) does not decay exponentially"): "fails",
    ("Prop. 3.4", "α = 0: no decay"): "holds",
    ("Prop. 3.4 (scheme)", "(4) near (c, 0)"): "fails",
    ("Prop. C.3", "(41)"): "holds",
    ("Prop. C.3", "(44) (step of the proof)"): "fails",
    ("Prop. 3.5", "(20) as printed"): "fails",
    ("Prop. 3.5", "(20) with (A + B)² and no 1/v"): "holds_with_correction",
    ("Prop. 3.6", "(22)"): "holds_with_correction",
    ("Prop. 3.6", "N → 4N at small Δt"): "holds",
    ("Prop. 3.6", "no exponential decay for Δt ∼ N⁻ˢ (C.4.2)"): "fails",
    ("Fig. 2", "GCN, GAT: exponential decay"): "holds",
    ("Fig. 2", "GraphCON, α = 0: no decay"): "holds",
    ("Fig. 2", "GraphCON, α = 0.5: E stabilises"): "fails",
}


def test_cli_verify_writes_the_verdicts(tmp_path, capsys):
    assert main(["verify", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "verify.json").read_text())
    assert all(set(row) == {"claim", "equation", "verdict", "evidence", "value", "threshold"} for row in rows)
    assert all(row["verdict"] in VERDICTS and math.isfinite(row["value"]) and row["evidence"] for row in rows)
    assert {(row["claim"], row["equation"]): row["verdict"] for row in rows} == EXPECTED
    value = {(row["claim"], row["equation"]): row["value"] for row in rows}
    assert value[("Prop. 3.1", "(11) with ½ΣΣA_ij‖X_i−X_j‖²")] < 1e-8
    assert value[("Prop. 3.1", "(11)-(12) as printed")] > 0.05
    assert value[("Prop. C.3", "(41)")] <= 1.0
    assert value[("Prop. 3.5", "(20) as printed")] > 1.0
    assert abs(value[("Prop. 3.6", "(22)")] - 3) < 0.3
    out = capsys.readouterr().out
    assert "| claim | paper eq. | verdict | evidence |" in out and "Prop. 3.4" in out
