"""Graph-level runs that diverged are kept in runs.json, marked, and left out of their cell's mean and std."""

import statistics
from types import SimpleNamespace

import pytest
import torch
from torch_geometric.data import Data

import experiments.graph_level as graph_level
from experiments.graph_level import DIVERGED_FACTOR, GraphTask, diverged, mean_predictor_mae, summary_row
from experiments.harness import RunStore


def graphs(targets: list[float]) -> list[Data]:
    return [Data(x=torch.zeros(2, 1), edge_index=torch.zeros(2, 0, dtype=torch.long), y=torch.tensor([t]))
            for t in targets]


TASK = GraphTask("zinc-moses", graphs([1.0, 2.0, 6.0]), graphs([0.0, 3.0]), graphs([5.0]), 1, 1)


def record(test: float, val: float = 0.5, train: float = 0.5, val_loss: float = 0.5, **extra) -> dict:
    return {"metric": "mae", "test": test, "val": val, "train": train, "val_loss": val_loss, "parameters": 7,
            "epochs_run": 1, **extra}


def test_mean_predictor_mae_is_the_split_mae_of_the_training_mean():
    mean = (1.0 + 2.0 + 6.0) / 3
    expected = {"val": (abs(0.0 - mean) + abs(3.0 - mean)) / 2, "test": abs(5.0 - mean)}
    assert mean_predictor_mae(TASK) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("values, expected", [
    ({"test": 0.4}, False),
    ({"test": float("nan")}, True),
    ({"test": 0.4, "val": float("inf")}, True),
    ({"test": 0.4, "train": float("nan")}, True),
    ({"test": 0.4, "val_loss": float("nan")}, True),
])
def test_a_non_finite_score_or_loss_is_divergence(values, expected):
    assert diverged(record(**values)) is expected


def test_a_regression_mae_far_above_the_mean_predictor_is_divergence():
    baseline = {"val": 1.0, "test": 2.0}
    assert not diverged(record(0.99 * DIVERGED_FACTOR * 2.0, mean_predictor_mae=baseline))
    assert diverged(record(1.01 * DIVERGED_FACTOR * 2.0, mean_predictor_mae=baseline))
    assert diverged(record(0.1, val=1.01 * DIVERGED_FACTOR, mean_predictor_mae=baseline))
    assert not diverged(record(1e6)), "a record without the mean predictor's MAE is judged on finiteness"


def test_summary_row_averages_the_runs_that_did_not_diverge(tmp_path):
    store = RunStore(tmp_path)
    store.record("a", record(0.30, diverged=False))
    store.record("b", record(0.50, val=0.6, diverged=False))
    store.record("c", record(2.4e5, diverged=True))
    store.record("d", record(float("nan")))  # written before records said whether they diverged
    row = summary_row(RunStore(tmp_path), "zinc", "graphcon-gcn", ["a", "b", "c", "d"])
    assert row["runs"] == 4 and row["diverged"] == 2
    assert row["mean"] == pytest.approx(0.40) and row["std"] == pytest.approx(statistics.stdev([0.30, 0.50]))
    assert row["val_mean"] == pytest.approx(0.55)
    assert row["within_paper_std"] is False
    every = summary_row(store, "zinc", "graphcon-gcn", ["c", "d"])
    assert every["diverged"] == 2 and every["mean"] is None and every["std"] is None
    assert every["within_paper_std"] is None


def test_a_diverged_run_is_recorded_as_such(monkeypatch):
    result = SimpleNamespace(metric="mae", test_score=2.4e5, val_score=2.5e5, train_score=3.5e4, val_loss=2.5e5,
                             best_epoch=0, epochs_run=1, final_lr=1e-3)
    monkeypatch.setattr(graph_level, "train_model", lambda *args: (torch.nn.Linear(1, 1), result, 0.1))
    settings = graph_level.settings_for("zinc-moses", "graphcon-gcn")
    made = graph_level.train_once(TASK, "graphcon-gcn", settings, 0)
    assert made["diverged"] is True and made["diverged_rule"] == graph_level.DIVERGED
    assert made["mean_predictor_mae"] == mean_predictor_mae(TASK) and made["test"] == 2.4e5
    result.test_score = result.val_score = 1.0
    assert graph_level.train_once(TASK, "graphcon-gcn", settings, 0)["diverged"] is False
