import json

from experiments.harness import RunStore, mean_std
from graphcon_ode.results import write_atomic, write_results


def test_run_store_resumes_from_disk(tmp_path):
    store = RunStore(tmp_path)
    store.record("a/seed0", {"accuracy": 0.5})
    assert RunStore(tmp_path).done("a/seed0")
    assert RunStore(tmp_path).pending(["a/seed0", "a/seed1"]) == ["a/seed1"]


def test_results_written_as_json_and_markdown(tmp_path):
    rows = [{"dataset": "cora", "model": "gcn", "mean": 0.81234, "std": 0.01, "paper_mean": None}]
    write_results(tmp_path, rows, ["dataset", "model", "mean", "std", "paper_mean"], "Table 1")
    assert json.loads((tmp_path / "results.json").read_text()) == rows
    md = (tmp_path / "results.md").read_text()
    assert "| cora | gcn | 0.8123 | 0.01 | — |" in md and md.startswith("# Table 1")


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    write_atomic(tmp_path / "x" / "f.txt", "hello")
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["f.txt"]


def test_mean_std():
    assert mean_std([1.0, 3.0]) == (2.0, 2.0 ** 0.5)
    assert mean_std([4.0]) == (4.0, 0.0)
