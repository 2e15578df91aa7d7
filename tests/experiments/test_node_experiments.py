import csv
import json
import re

import pytest
import torch

import experiments.node_experiment as node_experiment
from experiments.dirichlet_energy import energy_curves
from experiments.harness import RunStore
from experiments.node_experiment import MODELS, PAPER, SETTINGS, settings_for
from graphcon_ode.claims import graphs
from graphcon_ode.cli import VERBS, main
from graphcon_ode.datasets import MissingDatasetError

pytestmark = pytest.mark.usefixtures("private_cache")


def rows_of(out):
    return json.loads((out / "results.json").read_text())


def test_verbs_are_registered():
    assert {"dirichlet-energy", "node-classification", "depth-sweep", "sensitivity"} <= set(VERBS)


def test_grid_graph_is_4_neighbour():
    edge_index = graphs.edge_index(graphs.grid(10, 10))
    degree = torch.bincount(edge_index[0], minlength=100)
    assert edge_index.shape == (2, 360)
    assert torch.bincount(degree).tolist() == [0, 0, 4, 32, 64]
    assert set(map(tuple, edge_index.t().tolist())) == set(map(tuple, edge_index.flip(0).t().tolist()))


def test_dirichlet_energy_quick_writes_csv_png_and_rows(tmp_path):
    assert main(["dirichlet-energy", "--quick", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "energy.csv") as handle:
        table = list(csv.reader(handle))
    assert table[0][0] == "layer" and len(table) == 12 and len(table[0]) == 7
    assert (tmp_path / "dirichlet_energy.png").stat().st_size > 1000
    assert {row["model"] for row in rows_of(tmp_path)} == set(table[0][1:])


def test_plain_stacks_oversmooth_and_damped_graphcon_does_far_less():
    """Fig. 2's claim, measured: 100 random GCN/GAT layers drive E(X^n) to ~0; GraphCON with the same weights
    keeps it many orders of magnitude larger."""
    curves = energy_curves(100, seed=0)
    for name in ("GCN", "GAT"):
        assert curves[name][-1] < 1e-30 * curves[name][0]
        assert curves[f"GraphCON-{name} (α = 0.5)"][-1] > 1e15 * curves[name][-1]
        assert curves[f"GraphCON-{name} (α = 0)"][-1] > curves[name][0]


def test_every_table_cell_has_settings_and_paper_numbers():
    for dataset, model in PAPER:
        assert (dataset, model) in SETTINGS
    assert settings_for("texas", "graphcon-gcn").residual == 2
    assert settings_for("cornell", "graphcon-gcn").hidden == 256
    assert settings_for("cora", "graphcon-tran").attention == "scaled_dot"
    assert settings_for("cora", "gcn", {"lr": 0.5}).source == "overridden on the command line"
    with pytest.raises(ValueError, match="model"):
        settings_for("texas", "graphcon-tran")


def test_node_classification_quick_end_to_end_and_resume(root, tmp_path, monkeypatch):
    out = tmp_path / "nc"
    argv = ["node-classification", "--quick", "--data-root", root, "--out", str(out), "--dataset", "cora", "texas",
            "--model", *MODELS]
    assert main(argv) == 0
    rows = rows_of(out)
    assert [(r["dataset"], r["model"]) for r in rows] == [("cora", m) for m in MODELS] + [
        ("texas", m) for m in MODELS if m != "graphcon-tran"]
    for row in rows:
        assert {"dataset", "model", "metric", "mean", "std", "runs", "paper_mean", "paper_std"} <= set(row)
        assert row["runs"] == 1 and 0 <= row["mean"] <= 100
        assert (row["paper_mean"], row["paper_std"]) == PAPER[row["dataset"], row["model"]]
    records = RunStore(out).records
    assert len(records) == 9 and all("init_seed" in r and "split_seed" in r for r in records.values())
    assert "| cora | graphcon-gcn |" in (out / "results.md").read_text()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(node_experiment, "train_once", no_training)
    assert main(argv) == 0
    assert rows_of(out) == rows


def test_pubmed_without_its_files_is_one_clear_error(tmp_path, capsys):
    argv = ["node-classification", "--quick", "--data-root", str(tmp_path), "--out", str(tmp_path / "out"),
            "--dataset", "pubmed", "--model", "graphcon-tran"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and re.search(r"ind\.pubmed\.x.*PubMed/raw", error)
    with pytest.raises(MissingDatasetError, match=r"ind\.pubmed\.x.*PubMed/raw"):
        main(argv + ["--debug"])


def test_a_killed_sweep_trains_only_the_missing_runs(root, tmp_path, monkeypatch, capsys):
    out = tmp_path / "nc"
    argv = ["node-classification", "--data-root", root, "--out", str(out), "--dataset", "texas", "--model", "gcn",
            "--splits", "3", "--epochs", "2"]
    trained = []
    real = node_experiment.train_once

    def train_then_die(task, model, settings, split, init_seed):
        if len(trained) == 2:
            raise KeyboardInterrupt
        trained.append(split)
        return real(task, model, settings, split, init_seed)

    monkeypatch.setattr(node_experiment, "train_once", train_then_die)
    assert main(argv) == 130
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"graphcon-ode node-classification: interrupted; finished runs are kept in {out}; run the same command "
        f"again to resume")
    assert len(RunStore(out).records) == 2

    def train(task, model, settings, split, init_seed):
        trained.append(split)
        return real(task, model, settings, split, init_seed)

    monkeypatch.setattr(node_experiment, "train_once", train)
    assert main(argv) == 0
    assert trained == [0, 1, 2] and rows_of(out)[0]["runs"] == 3


def test_depth_sweep_quick(root, tmp_path):
    assert main(["depth-sweep", "--quick", "--data-root", root, "--out", str(tmp_path)]) == 0
    rows = rows_of(tmp_path)
    assert [(r["model"], r["layers"], r["paper_mean"]) for r in rows] == [
        ("graphcon-gcn", 2, 82.20), ("graphcon-gcn", 4, 82.78), ("gcn-dropedge", 2, 82.80), ("gcn-dropedge", 4, 82.00)]


def test_sensitivity_quick(root, tmp_path):
    assert main(["sensitivity", "--quick", "--data-root", root, "--out", str(tmp_path)]) == 0
    rows = rows_of(tmp_path)
    assert [(r["swept"], r["alpha"], r["gamma"]) for r in rows] == [
        ("alpha", 0.0, 1.0), ("alpha", 1.0, 1.0), ("gamma", 1.0, 0.0), ("gamma", 1.0, 1.0)]
    assert (tmp_path / "sensitivity.png").stat().st_size > 1000


@pytest.mark.slow
def test_table2_graphcon_beats_its_baselines_on_every_heterophilic_set(root, tmp_path):
    """Full Table 2 protocol (10 geom-gcn splits): GraphCON-GCN/-GAT beat GCN/GAT by a wide margin."""
    argv = ["node-classification", "--data-root", root, "--out", str(tmp_path), "--dataset", "texas", "wisconsin",
            "cornell", "--model", "gcn", "gat", "graphcon-gcn", "graphcon-gat"]
    assert main(argv) == 0
    mean = {(r["dataset"], r["model"]): r["mean"] for r in rows_of(tmp_path)}
    for dataset in ("texas", "wisconsin", "cornell"):
        assert mean[dataset, "graphcon-gcn"] > mean[dataset, "gcn"] + 15
        assert mean[dataset, "graphcon-gat"] > mean[dataset, "gat"] + 10


@pytest.mark.slow
def test_table1_cora_graphcon_gcn_within_one_paper_std(root, tmp_path):
    argv = ["node-classification", "--data-root", root, "--out", str(tmp_path), "--dataset", "cora", "--model",
            "graphcon-gcn", "--splits", "5", "--inits", "2"]
    assert main(argv) == 0
    (row,) = rows_of(tmp_path)
    assert row["runs"] == 10 and row["within_paper_std"]
