import json

import numpy as np
import optuna
import pytest

from experiments import search
from graphcon_ode.cli import main

pytestmark = pytest.mark.usefixtures("private_cache")


def write_set(root, name, n=40, classes=3):
    """A small set in the authors' .npz layout with 10 splits (half train, a quarter validation and test)."""
    rng = np.random.default_rng(0)
    masks = np.zeros((3, 10, n), dtype=bool)
    for split in range(10):
        order = rng.permutation(n)
        masks[0, split, order[:20]] = masks[1, split, order[20:30]] = masks[2, split, order[30:]] = True
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    np.savez(raw / f"{name.replace('-', '_')}.npz", node_features=rng.normal(size=(n, 4)).astype(np.float32),
             node_labels=np.arange(n) % classes, edges=np.array([[i, (i + 1) % n] for i in range(n)]),
             train_masks=masks[0], val_masks=masks[1], test_masks=masks[2])
    return str(root)


@pytest.mark.parametrize("model", ["graphcon-sep", "gcn-tuned"])
def test_quick_search_writes_trials_and_resumes(tmp_path, model):
    root = write_set(tmp_path / "data", "chameleon-filtered")
    out = tmp_path / "out"
    command = ["search", "--quick", "--dataset", "chameleon-filtered", "--model", model, "--data-root", root,
               "--out", str(out)]
    assert main(command) == 0
    found = json.loads((out / "search.json").read_text())
    assert (found["split"], found["metric"], len(found["trials"])) == (0, "accuracy", 2)
    assert all(t["state"] == "COMPLETE" and t["epochs_reported"] == 2 and 0 <= t["val"] <= 1
               for t in found["trials"])
    best = max(found["trials"], key=lambda t: t["val"])
    assert found["chosen"]["trial"] == best["number"] and found["chosen"]["settings"]["epochs"] == 2
    assert {k: found["chosen"]["settings"][k] for k in best["params"]} == best["params"]
    assert main(command + ["--trials", "3"]) == 0
    again = json.loads((out / "search.json").read_text())
    assert len(again["trials"]) == 3 and again["trials"][:2] == found["trials"]
    assert again["trials"][2]["params"] != found["trials"][0]["params"]


def test_the_graphcon_space_holds_the_step_count_and_the_force_norm():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        sampled = search.suggest(trial, "graphcon-sep")
        assert 4 <= sampled["layers"] <= 32 and 0.1 <= sampled["step_size"] <= 1.0
        assert {"alpha", "gamma", "hidden", "dropout", "lr", "weight_decay", "per_step", "norm"} <= set(sampled)
        assert "norm" not in search.suggest(study.ask(), "graphcon-gcn")
        assert {"normalisation", "residual"} <= set(search.suggest(study.ask(), "gcn-tuned"))


def test_trials_must_be_positive(tmp_path, capsys):
    root = write_set(tmp_path / "data", "chameleon-filtered")
    assert main(["search", "--dataset", "chameleon-filtered", "--model", "gcn", "--trials", "0", "--data-root",
                 root, "--out", str(tmp_path / "out")]) == 2
    assert "--trials" in capsys.readouterr().err
