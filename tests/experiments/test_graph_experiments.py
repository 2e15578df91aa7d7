import importlib
import json

import numpy as np
import pytest
import torch
from torch_geometric.datasets import PPI, ZINC, MNISTSuperpixels

import experiments.graph_level as graph_level
from experiments.graph_level import DATASETS, PAPER, SETTINGS, paper_reference, settings_for
from experiments.harness import RunStore
from experiments.illustrate import crossings, principal_coordinate
from graphcon_ode.cli import VERBS, main
from graphcon_ode.datasets import MissingDatasetError
from tests.graphcon_ode.datasets.test_graph import write_ppi, write_zinc

# The stand-ins are built once into the library's cache root ($GRAPHCON_CACHE or ~/.cache/graphcon-ode; about a
# minute each) and read from there by every later run; tests on tiny raw folders use a private cache.
STAND_INS = {"zinc-moses": "moses/test.csv.gz", "mnist5k-superpixels": "mnist5k/mnist_5k.csv.gz"}


@pytest.fixture
def root(data_root):
    for file in STAND_INS.values():
        if not (data_root / file).is_file():
            pytest.skip(f"offline data root {data_root} lacks {file} (set GRAPHCON_DATA)")
    return str(data_root)


def rows_of(out):
    return json.loads((out / "results.json").read_text())


def test_verbs_are_registered():
    assert {"graph-regression", "graph-classification", "inductive", "graph-depth-sweep", "sensitivity",
            "illustrate"} <= set(VERBS)


def test_every_paper_number_has_settings_and_stand_ins_are_never_named_as_the_original():
    for (dataset, model) in PAPER:
        assert (dataset, model) in SETTINGS
    zinc = settings_for("zinc", "graphcon-gcn")
    assert (zinc.hidden, zinc.layers, zinc.alpha, zinc.gamma, zinc.pool) == (220, 22, 0.215, 1.115, "add")
    assert paper_reference("zinc", "gcn")["paper_dataset"] == "ZINC 12k"
    for stand_in, info in DATASETS.items():
        if info.stand_in_for:
            reference = paper_reference(stand_in, "graphcon-gcn")
            assert reference["paper_dataset"].endswith("(a different dataset)")


def test_principal_coordinate_and_crossings_against_a_written_out_oscillation():
    t = torch.arange(41, dtype=torch.float64)
    direction = torch.tensor([0.6, 0.8, 0.0])
    amplitudes = torch.tensor([1.0, -2.0])
    states = torch.cos(0.5 * t)[:, None, None] * amplitudes[None, :, None] * direction  # [time, node, channel]
    values = principal_coordinate(states)
    expected = (torch.cos(0.5 * t)[:, None] * amplitudes).numpy()
    sign = np.sign(values[0, 0] / expected[0, 0])
    np.testing.assert_allclose(sign * values, expected - expected.mean(), atol=1e-9)
    assert crossings(np.cos(0.5 * np.arange(41))) == 6  # cos(t/2) changes sign at t = π, 3π, …, 11π < 40


def test_graph_regression_quick_on_the_molecule_stand_in_and_resume(root, tmp_path, monkeypatch):
    out = tmp_path / "reg"
    argv = ["graph-regression", "--quick", "--data-root", root, "--out", str(out)]
    assert main(argv) == 0
    rows = rows_of(out)
    assert [r["model"] for r in rows] == ["gcn", "gat", "graphcon-gcn", "graphcon-gat"]
    for row in rows:
        assert row["dataset"] == "zinc-moses" and row["metric"] == "mae" and row["runs"] == 1
        assert (row["mean"] is None) == (row["diverged"] == 1) and (row["mean"] is None or row["mean"] > 0)
        assert row["paper_dataset"] == "ZINC 12k (a different dataset)"
        assert row["within_paper_std"] is None
    assert rows[2]["layers"] == 22 and 90_000 < rows[2]["parameters"] < 110_000
    records = RunStore(out).records.values()
    assert all(r["graphs"] == [64, 32, 32] and r["epochs_run"] == 1 for r in records)
    assert "offline stand-in, not ZINC 12k" in (out / "results.md").read_text()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(graph_level, "train_once", no_training)
    assert main(argv) == 0
    assert rows_of(out) == rows


def test_graph_classification_quick_on_the_superpixel_stand_in(root, tmp_path):
    out = tmp_path / "cls"
    assert main(["graph-classification", "--quick", "--data-root", root, "--out", str(out), "--model", "gcn",
                 "graphcon-gcn"]) == 0
    rows = rows_of(out)
    assert [r["model"] for r in rows] == ["gcn", "graphcon-gcn"]
    for row in rows:
        assert row["metric"] == "accuracy" and 0 <= row["mean"] <= 100
        assert row["paper_dataset"] == "MNIST superpixels (75) (a different dataset)"


def test_graph_depth_sweep_quick_reports_every_model_at_every_depth(root, tmp_path):
    out = tmp_path / "depth"
    assert main(["graph-depth-sweep", "--quick", "--data-root", root, "--out", str(out), "--hidden", "8"]) == 0
    rows = rows_of(out)
    cells = [(r["dataset"], r["model"], r["layers"]) for r in rows]
    assert cells == [(d, m, n) for d in ("zinc-moses", "mnist5k-superpixels")
                     for m in ("gcn", "graphcon-gcn", "gat", "graphcon-gat") for n in (2, 4)]
    for row in rows:
        assert row["change"] == pytest.approx(row["mean"] - next(
            r["mean"] for r in rows if (r["dataset"], r["model"], r["layers"]) == (row["dataset"], row["model"], 2)))
        assert row["metric"] == ("mae" if row["dataset"] == "zinc-moses" else "accuracy")
    gcn_layers = {r["layers"]: r["parameters"] for r in rows if r["model"] == "gcn"}
    graphcon_layers = {r["layers"]: r["parameters"] for r in rows if r["model"] == "graphcon-gcn"}
    assert gcn_layers[4] > gcn_layers[2] and graphcon_layers[4] == graphcon_layers[2]  # shared weights over time


def test_sensitivity_quick_on_superpixels_sweeps_alpha_then_gamma(root, tmp_path):
    out = tmp_path / "sens"
    assert main(["sensitivity", "--quick", "--dataset", "mnist5k-superpixels", "--data-root", root, "--out",
                 str(out), "--hidden", "8"]) == 0
    rows = rows_of(out)
    assert [(r["swept"], r["alpha"], r["gamma"]) for r in rows] == [
        ("alpha", 0.0, 0.76), ("alpha", 1.0, 0.76), ("gamma", 1.0, 0.0), ("gamma", 1.0, 1.0)]
    assert all(r["metric"] == "accuracy" for r in rows)
    assert (out / "sensitivity.png").stat().st_size > 1000


def test_illustrate_quick_draws_the_molecule_over_time(root, tmp_path):
    out = tmp_path / "fig1"
    assert main(["illustrate", "--quick", "--data-root", root, "--out", str(out), "--molecule", "3"]) == 0
    rows = rows_of(out)
    assert len(rows) >= 2 and all(0 <= r["crossings"] <= 4 and r["range"] >= 0 for r in rows)
    assert {r["label"] for r in rows} <= {"C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "B", "Si", "Se"} | {
        str(i) for i in range(len(rows))}
    assert (out / "illustrate.png").stat().st_size > 5000


@pytest.mark.parametrize("argv, fragment", [
    (["graph-regression", "--seeds", "0"], "--seeds: must be an integer >= 1"),
    (["graph-classification", "--batch-size", "0"], "--batch-size"),
    (["graph-depth-sweep", "--train-graphs", "-5"], "--train-graphs"),
    (["inductive", "--plateau-factor", "1.5"], "--plateau-factor"),
    (["graph-regression", "--pool", "max"], "--pool: invalid choice: 'max'"),
    (["illustrate", "--times", "0", "30"], "--times: steps must lie in [0, 20]"),
])
def test_graph_options_out_of_range_are_refused_before_work(argv, fragment, tmp_path, capsys, monkeypatch):
    def refuse(args):
        raise AssertionError("the verb started working")

    monkeypatch.setattr(importlib.import_module(VERBS[argv[0]][0]), "run", refuse)
    assert main([*argv, "--out", str(tmp_path), "--data-root", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and fragment in error


@pytest.fixture
def offline(monkeypatch, private_cache):
    """Any download attempt fails the test; processed files go to a private cache."""
    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    for loader in (ZINC, PPI, MNISTSuperpixels):
        monkeypatch.setattr(loader, "download", refuse)


@pytest.mark.parametrize("verb, dataset, missing", [
    ("graph-regression", "zinc", "train.pickle"), ("graph-classification", "mnist-superpixels", "MNISTSuperpixels.pt"),
    ("inductive", "ppi", "train_graph.json")])
def test_datasets_without_their_files_are_one_clear_error(tmp_path, capsys, offline, verb, dataset, missing):
    argv = [verb, "--quick", "--data-root", str(tmp_path), "--out", str(tmp_path / "out"), "--dataset", dataset]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and missing in error and str(tmp_path) in error
    with pytest.raises(MissingDatasetError, match=missing):
        main(argv + ["--debug"])


def test_inductive_quick_runs_on_a_tiny_ppi_folder(tmp_path, offline):
    write_ppi(tmp_path / "PPI" / "raw", np.random.default_rng(0))
    out = tmp_path / "out"
    assert main(["inductive", "--quick", "--data-root", str(tmp_path), "--out", str(out), "--hidden", "8"]) == 0
    rows = rows_of(out)
    assert [r["model"] for r in rows] == ["gcn", "gat", "graphcon-gcn", "graphcon-gat"]
    for row in rows:
        assert row["metric"] == "micro_f1" and 0 <= row["mean"] <= 100 and row["paper_dataset"] == "PPI"
    assert all(r["graphs"] == [2, 1, 1] for r in RunStore(out).records.values())


def test_graph_regression_on_a_tiny_zinc_folder_compares_with_table_4(tmp_path, offline):
    write_zinc(tmp_path / "ZINC" / "raw")
    out = tmp_path / "out"
    assert main(["graph-regression", "--quick", "--dataset", "zinc", "--data-root", str(tmp_path), "--out", str(out),
                 "--model", "graphcon-gcn", "--hidden", "8"]) == 0
    [row] = rows_of(out)
    assert (row["paper_dataset"], row["paper_mean"], row["paper_std"]) == ("ZINC 12k", 0.22, 0.004)
    assert row["within_paper_std"] == (abs(row["mean"] - 0.22) <= 0.004)
