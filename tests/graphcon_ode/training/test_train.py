"""``graphcon-ode train``: torchrun data parallel equals one process, and a killed run resumes to the same weights."""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from graphcon_ode.cli import main as cli_main
from graphcon_ode.cli import train, train_graphs
from tests.graphcon_ode.training.distributed_modes import GRAPH_LEVEL, GRAPH_SETS, RUNS, tiny_graphs

ROOT = Path(__file__).resolve().parents[3]
MODES = ["backprop", "adjoint", "checkpoint", "reversible", "exact_reversal"]
GRAPH = ["--dataset", "sbm", "--nodes", "300", "--degree", "6", "--classes", "3", "--homophily", "0.8"]
MODEL = ["--model", "graphcon-gcn", "--hidden", "8", "--layers", "4", "--alpha", "0.5", "--step-size", "0.5",
         "--dropout", "0.2", "--input-dropout", "0.1", "--eval-every", "0", "--threads", "1"]


def arguments(*extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    return parser.parse_args(list(extra))


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return torch.load(folder / "checkpoint.pt", weights_only=False)["model"]


def torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], **tolerance: float) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], **tolerance), name


COMMON = GRAPH + MODEL + ["--epochs", "3", "--dtype", "float64"]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> Path:
    """One torchrun launch of 2 gloo ranks: the full-batch runs of every backward mode, then the runs of
    :data:`distributed_modes.RUNS` (sampled mini-batches; graph batches)."""
    out = tmp_path_factory.mktemp("two")
    script = str(ROOT / "tests/graphcon_ode/training/distributed_modes.py")
    launch = subprocess.run(torchrun(script, str(out), *MODES, "--", *COMMON), env=environment(),
                            capture_output=True, text=True, timeout=300)
    assert launch.returncode == 0, launch.stderr[-3000:]
    return out


def test_two_processes_equal_one_for_every_backward_mode(two_processes, tmp_path):
    """The same global batch (all training nodes, split over 2 gloo ranks) gives the single process's weights."""
    for mode in MODES:
        single = tmp_path / "one" / mode
        train.train(arguments(*COMMON, "--backward", mode, "--out", str(single)))
        assert_same_weights(weights(two_processes / mode), weights(single), rtol=1e-9, atol=1e-12)
    torch.manual_seed(0)
    start = train.build_model(arguments(*COMMON), 32, 3)
    assert not torch.allclose(weights(tmp_path / "one" / "backprop")["decoder.weight"], start.decoder.weight.double())


@pytest.mark.parametrize("name", list(RUNS))
def test_two_processes_equal_one_in_mini_batches(two_processes, tmp_path, name):
    """Sampled mini-batches with dropout (every rank samples the global batch's subgraph and draws the single
    process's masks) and graph batches, the last one split unevenly: 2 ranks end on the single process's weights."""
    with pytest.MonkeyPatch.context() as patch:
        for dataset, load in GRAPH_SETS.items():
            patch.setitem(train_graphs.GRAPH_DATASETS, dataset, load)
        train.train(arguments(*RUNS[name], "--out", str(tmp_path / name)))
    one, two = weights(tmp_path / name), weights(two_processes / name)
    assert_same_weights(two, one, rtol=1e-9, atol=1e-12)
    assert torch.load(tmp_path / name / "checkpoint.pt", weights_only=False)["epoch"] == 2


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child)] + _children(int(child))
    return found


def _rank_of(pid: int) -> str | None:
    try:
        variables = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    ranks = [v.split(b"=", 1)[1].decode() for v in variables if v.startswith(b"RANK=")]
    return ranks[0] if ranks else None


def _epoch(checkpoint: Path) -> int:
    try:
        return torch.load(checkpoint, weights_only=False)["epoch"]
    except (OSError, EOFError, RuntimeError):
        return 0


@pytest.mark.slow  # three torchrun launches (~1 min); the one-launch equality tests stay in the default run
def test_killed_rank_resumes_to_the_uninterrupted_weights(tmp_path):
    epochs = 80
    common = GRAPH + MODEL + ["--epochs", str(epochs), "--dtype", "float64"]
    out = tmp_path / "killed"
    command = torchrun("-m", "graphcon_ode.cli", "train", *common, "--distributed", "--out", str(out))
    run = subprocess.Popen(command, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _epoch(out / "checkpoint.pt") < 3 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    workers = [pid for pid in _children(run.pid) if _rank_of(pid) == "1"]
    assert workers, "rank 1 was not found running"
    os.kill(workers[0], signal.SIGKILL)
    run.communicate(timeout=120)
    killed_at = _epoch(out / "checkpoint.pt")
    assert run.returncode != 0 and 3 <= killed_at < epochs
    resumed = subprocess.run(command + ["--resume"], env=environment(), capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    assert state["epoch"] == epochs and len(state["history"]) == epochs
    train.train(arguments(*common, "--out", str(tmp_path / "uninterrupted")))
    assert_same_weights(state["model"], weights(tmp_path / "uninterrupted"), rtol=1e-8, atol=1e-10)


def test_minibatch_resume_equals_uninterrupted_run(tmp_path):
    common = GRAPH + MODEL + ["--batch-size", "40", "--fanout", "4", "3"]
    train.train(arguments(*common, "--epochs", "2", "--out", str(tmp_path / "part")))
    assert torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)["epoch"] == 2
    train.train(arguments(*common, "--epochs", "4", "--out", str(tmp_path / "part"), "--resume"))
    train.train(arguments(*common, "--epochs", "4", "--out", str(tmp_path / "whole")))
    state = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)
    assert set(state) >= {"model", "optimizer", "epoch", "rng"} and state["epoch"] == 4
    for name, value in weights(tmp_path / "whole").items():
        assert torch.equal(state["model"][name], value), name
    other = arguments(*common, "--epochs", "4", "--seed", "1", "--out", str(tmp_path / "other"))
    train.train(other)
    assert not torch.equal(weights(tmp_path / "other")["decoder.weight"], state["model"]["decoder.weight"])


def test_cli_trains_a_real_dataset_and_writes_metrics(tmp_path, data_root, private_cache):
    if not data_root.is_dir():
        pytest.skip("no data root")
    out = tmp_path / "texas"
    code = cli_main(["train", "--dataset", "texas", "--data-root", str(data_root), "--hidden", "16", "--layers", "2",
                     "--alpha", "0.5", "--step-size", "0.5", "--backward", "reversible", "--epochs", "30",
                     "--lr", "0.02", "--out", str(out)])
    assert code == 0
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    assert state["history"][-1]["train"] > 0.8 > state["history"][0]["train"]
    assert (out / "metrics.json").is_file()


@pytest.mark.parametrize("extra, name", [(["--fanout", "3"], "fanout"), (["--distributed"], "distributed"),
                                         (["--batch-size", "0"], "batch_size")])
def test_bad_arguments_are_named(tmp_path, extra, name, monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(ValueError, match=name):
        train.train(arguments(*GRAPH, *extra, "--epochs", "1", "--out", str(tmp_path)))


def test_graph_level_training_lowers_the_loss_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setitem(train_graphs.GRAPH_DATASETS, "tiny-graphs", tiny_graphs)
    graph_args = [a for a in GRAPH_LEVEL if a not in ("--epochs", "2")]
    train.train(arguments(*graph_args, "--epochs", "3", "--out", str(tmp_path / "part")))
    train.train(arguments(*graph_args, "--epochs", "6", "--out", str(tmp_path / "part"), "--resume"))
    train.train(arguments(*graph_args, "--epochs", "6", "--out", str(tmp_path / "whole")))
    state = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)
    assert state["history"][-1]["loss"] < state["history"][0]["loss"]
    assert {"val", "test"} <= set(state["history"][-1])
    for name, value in weights(tmp_path / "whole").items():
        assert torch.equal(state["model"][name], value), name


def test_resume_with_other_settings_is_refused(tmp_path):
    train.train(arguments(*GRAPH, *MODEL, "--epochs", "1", "--out", str(tmp_path)))
    with pytest.raises(ValueError, match="resume.*hidden"):
        train.train(arguments(*GRAPH, *MODEL, "--hidden", "4", "--epochs", "2", "--out", str(tmp_path), "--resume"))


@pytest.mark.parametrize("mode", ["adjoint", "reversible"])
def test_train_steers_away_from_the_continuous_adjoint(tmp_path, capsys, mode):
    train.train(arguments(*GRAPH, *MODEL, "--epochs", "1", "--backward", mode, "--out", str(tmp_path)))
    said = capsys.readouterr().err
    assert (train.ADJOINT_NOTE in said) == (mode == "adjoint")
    assert "--backward reversible or checkpoint" in train.ADJOINT_NOTE
