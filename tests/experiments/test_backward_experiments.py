"""The backward-mode experiments, run end to end in their --quick form through the command line."""

import json

import pytest

import experiments.backward_accuracy
import experiments.memory_depth
from graphcon_ode.cli import main


def test_backward_accuracy_quick(tmp_path, monkeypatch):
    assert main(["backward-accuracy", "--quick", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    assert len(rows) == 4 * 2 * 5
    for row in rows:
        assert {"mode", "alpha", "gamma", "step_size", "steps", "grad_rel_error", "peak_mib", "seconds"} <= set(row)
        if row["mode"] in ("backprop", "checkpoint", "reversible", "exact_reversal"):
            assert row["grad_rel_error"] < 1e-4, row
    adjoint = [r["grad_rel_error"] for r in rows if r["mode"] == "adjoint"]
    assert min(adjoint) > 1e-3, "the continuous adjoint is the ODE's gradient, not eq. (4)'s"
    assert (tmp_path / "backward_accuracy.png").stat().st_size > 10_000
    assert "| damped | reversible |" in (tmp_path / "results.md").read_text()

    def refuse(*args, **kwargs):
        raise AssertionError("a finished run was measured again")

    monkeypatch.setattr(experiments.backward_accuracy, "run_isolated", refuse)
    assert main(["backward-accuracy", "--quick", "--out", str(tmp_path)]) == 0


def test_memory_depth_quick(tmp_path, monkeypatch):
    assert main(["memory-depth", "--quick", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    assert {r["mode"] for r in rows} == {"backprop", "adjoint", "checkpoint", "reversible", "exact_reversal"}
    for row in rows:
        assert {"mode", "steps", "nodes", "channels", "peak_mib", "seconds"} <= set(row)
        assert row["nodes"] == 2000 and row["peak_mib"] > 0 and row["seconds"] > 0
    peak = {(r["mode"], r["steps"]): r["peak_mib"] for r in rows}
    assert peak["backprop", 64] - peak["backprop", 8] > 4 * (peak["reversible", 64] - peak["reversible", 8])
    assert (tmp_path / "memory_depth.png").stat().st_size > 10_000

    monkeypatch.setattr(experiments.memory_depth, "run_isolated", pytest.fail)
    assert main(["memory-depth", "--quick", "--out", str(tmp_path)]) == 0


def test_memory_depth_skips_depths_beyond_the_budget(tmp_path):
    assert main(["memory-depth", "--quick", "--modes", "backprop", "--steps", "8", "32", "128",
                 "--max-mib", "1", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    assert [r["steps"] for r in rows if r["peak_mib"] is not None] == [8, 32]
    assert rows[-1]["note"].startswith("skipped: extrapolated peak")
