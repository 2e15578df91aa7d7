import json
import shutil
from pathlib import Path

import pytest

from experiments.report import TABLES, heterophily, merge, node_table
from experiments.run_record import RunRecord, read_record
from graphcon_ode.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_tables_agree_with_their_records():
    assert main(["report", "--check", "--root", str(ROOT)]) == 0


@pytest.fixture
def docs_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "docs" / "results", tmp_path / "docs" / "results")
    return tmp_path


def test_a_changed_number_fails_the_check_and_report_restores_it(docs_copy: Path, capsys):
    page = docs_copy / "docs" / "results" / "node_classification.md"
    committed = page.read_text()
    assert committed.count("| 82.0 ± 1.3 ✓ |") == 1
    page.write_text(committed.replace("| 82.0 ± 1.3 ✓ |", "| 82.1 ± 1.3 ✓ |"))
    assert main(["report", "--check", "--root", str(docs_copy)]) == 1
    assert "table1" in capsys.readouterr().out.splitlines()[-1]
    assert page.read_text() != committed
    assert main(["report", "--root", str(docs_copy)]) == 0
    assert page.read_text() == committed


def test_a_table_regenerates_from_records_and_keeps_what_no_record_gives(tmp_path: Path):
    rows = [{"dataset": "cora", "model": "gcn", "mean": 80.04, "std": 1.26, "paper_mean": 81.5, "paper_std": 1.3,
             "within_paper_std": False},
            {"dataset": "cora", "model": "graphcon-gcn", "mean": 81.66, "std": 0.5, "paper_mean": 81.9,
             "paper_std": 1.7, "within_paper_std": True}]
    (tmp_path / "table1.json").write_text(json.dumps(rows))
    page = ("| model | Cora (measured) | Cora (paper) | note |\n|---|---|---|---|\n"
            "| GCN | 99.9 ± 9.9 | 81.5 ± 1.3 | 3 layers |\n| MLP | 50.0 ± 1.0 | — | no record |\n")
    merged = merge(page, node_table("table1.json")(tmp_path), "model")
    assert merged.text.split("\n")[2:5] == ["| GCN | 80.0 ± 1.3 | 81.5 ± 1.3 | 3 layers |",
                                            "| MLP | 50.0 ± 1.0 | — | no record |",
                                            "| GraphCON-GCN | 81.7 ± 0.5 ✓ | 81.9 ± 1.7 | — |"]
    assert ("GCN", "Cora (measured)", "99.9 ± 9.9", "80.0 ± 1.3") in merged.changed
    assert merged.unbacked == [("GCN", "note", "3 layers"), ("MLP", "Cora (measured)", "50.0 ± 1.0")]
    assert merge(merged.text, node_table("table1.json")(tmp_path), "model").changed == []


def _heterophily_run(split: int, test: float, best_epoch: int, epochs_run: int) -> dict:
    return {"dataset": "tolokers", "model": "graphcon-sep", "split": split, "init_seed": 0, "settings": "abc",
            "hyperparameters": {"epochs": 100, "per_step": True}, "metric": "roc_auc", "test": test, "val": 0.5,
            "train": 0.6, "best_epoch": best_epoch, "epochs_run": epochs_run, "seconds": 10.25}


def test_per_run_records_give_the_heterophily_row(tmp_path: Path):
    folder = tmp_path / "heterophily"
    folder.mkdir()
    runs = {"tolokers/graphcon-sep/abc/split0/init0": _heterophily_run(0, 0.80, 99, 100),
            "tolokers/graphcon-sep/abc/split1/init0": _heterophily_run(1, 0.82, 40, 91)}
    (folder / "tolokers-graphcon-sep.json").write_text(json.dumps(runs))
    row = heterophily(tmp_path)["tolokers | GraphCON-sep, per-step weights | 2 × 100"]
    # mean 81 and sample std sqrt(2) of (80, 82), in %
    assert row["here"] == "81.00 ± 1.41" and row["wall (s), all splits"] == "20"


def test_under_trained_is_a_full_budget_with_the_selected_epoch_in_its_last_tenth():
    def record(best_epoch: int, epochs_run: int, budget: int | None = 100) -> RunRecord:
        return RunRecord("k", "graphcon-gcn", "cora", 0, 0, None, budget, epochs_run, best_epoch, {}, None, None)

    assert record(90, 100).under_trained is True
    assert record(89, 100).under_trained is False
    assert record(95, 96).under_trained is False  # stopped early: the patience ran out
    assert record(95, 100, budget=None).under_trained is None


def test_every_record_format_reads_into_a_run_record():
    node = read_record("cora/gcn/h/split1/init2", {
        "dataset": "cora", "model": "gcn", "split": 1, "init_seed": 2, "settings": "h",
        "hyperparameters": {"epochs": 300}, "test_accuracy": 0.8, "val_accuracy": 0.7, "train_accuracy": 0.9,
        "best_epoch": 14, "epochs_run": 115, "seconds": 3.0})
    assert (node.epoch_budget, node.metrics, node.load, node.seed) == (300, {"test": 0.8, "val": 0.7, "train": 0.9},
                                                                      None, 2)
    graph = read_record("zinc/gcn/h/seed3", {
        "dataset": "zinc", "model": "gcn", "seed": 3, "hyperparameters": {"epochs": 50}, "metric": "mae",
        "test": 0.5, "val": 0.4, "train": 0.3, "best_epoch": 49, "epochs_run": 50, "seconds": 1.0,
        "load": 2.5, "epoch_budget": 50})
    assert (graph.seed, graph.metric, graph.load, graph.under_trained) == (3, "mae", 2.5, True)
    depth = read_record("cora/graphcon-grand/N2/draw0/split0/epochs99", {
        "depth": 2, "draw": 0, "epochs": 99, "split": 0, "init_seed": 0, "seconds": 13.4,
        "faithful": {"epoch": 99, "test": 0.61, "val": 0.63}, "official": {"epoch": 12, "test": 0.64, "val": 0.66}})
    assert (depth.model, depth.best_epoch, depth.under_trained, depth.metrics["official_test"]) == \
        ("graphcon-grand", 98, True, 0.64)
    with pytest.raises(ValueError, match="not a training run"):
        read_record("fig2/layers100", {"layers": 100, "weights": "per-layer"})


def test_every_table_names_a_page_that_holds_its_marker():
    for name, table in TABLES.items():
        assert f"<!-- report: {name} -->" in (ROOT / "docs" / "results" / table.page).read_text()
