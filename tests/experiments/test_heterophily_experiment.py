import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from experiments import heterophily
from experiments.harness import RunStore
from graphcon_ode.cli import main
from graphcon_ode.couplings.sep import SepAttention, SepMean
from graphcon_ode.models.residual import HeterophilyBaseline
from graphcon_ode.models.tuned import TunedGNN

pytestmark = pytest.mark.usefixtures("private_cache")


def need(data_root, name):
    if not (data_root / name / "raw").is_dir():
        pytest.skip(f"offline data root {data_root} lacks {name}/raw (set GRAPHCON_DATA)")
    return str(data_root)


def rows_of(out):
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize("dataset, models", [("minesweeper", ["gcn", "graphcon-sep"]),
                                             ("tolokers", ["graphcon-gcn"])])
def test_quick_runs_one_split_and_scores_roc_auc(tmp_path, data_root, dataset, models):
    root = need(data_root, dataset)
    assert main(["node-classification", "--quick", "--dataset", dataset, "--model", *models, "--data-root", root,
                 "--out", str(tmp_path)]) == 0
    rows = rows_of(tmp_path)
    assert [row["model"] for row in rows] == models
    for row in rows:
        assert row["metric"] == "roc_auc" and row["runs"] == 1 and 0 < row["mean"] <= 100
        assert row["paper_mean"] == heterophily.PUBLISHED.get((dataset, row["model"]), (None,))[0]
    records = RunStore(tmp_path).records.values()
    assert {r["epochs_run"] for r in records} == {3} and {r["split"] for r in records} == {0}
    assert "roc_auc" in (tmp_path / "results.md").read_text()


def test_full_protocol_uses_the_ten_splits_of_the_file(tmp_path):
    rng = np.random.default_rng(0)
    n = 40
    masks = np.zeros((3, 10, n), dtype=bool)
    for split in range(10):
        order = rng.permutation(n)
        masks[0, split, order[:20]] = masks[1, split, order[20:30]] = masks[2, split, order[30:]] = True
    labels = np.arange(n) % 2
    raw = tmp_path / "data" / "tolokers" / "raw"
    raw.mkdir(parents=True)
    np.savez(raw / "tolokers.npz", node_features=rng.normal(size=(n, 4)).astype(np.float32), node_labels=labels,
             edges=np.array([[i, (i + 1) % n] for i in range(n)]), train_masks=masks[0], val_masks=masks[1],
             test_masks=masks[2])
    out = tmp_path / "out"
    assert main(["node-classification", "--dataset", "tolokers", "--model", "resnet", "graphcon-sep",
                 "--data-root", str(tmp_path / "data"), "--out", str(out), "--epochs", "2", "--hidden", "8",
                 "--norm", "no"]) == 0
    rows = rows_of(out)
    assert [(r["model"], r["runs"], r["metric"]) for r in rows] == [("resnet", 10, "roc_auc"),
                                                                   ("graphcon-sep", 10, "roc_auc")]
    records = RunStore(out).records.values()
    assert sorted(r["split"] for r in records if r["model"] == "resnet") == list(range(10))
    assert all(r["hyperparameters"]["norm"] is False and r["hyperparameters"]["hidden"] == 8 for r in records)


def test_settings_refuse_what_the_heterophilous_sets_do_not_use():
    with pytest.raises(ValueError, match="method"):
        heterophily.settings_for("minesweeper", "gcn", {"method": "dopri5"})
    with pytest.raises(ValueError, match="model"):
        heterophily.settings_for("minesweeper", "graphcon-tran")
    assert set(heterophily.MODELS) == {(m) for d, m in heterophily.SETTINGS if d == "tolokers"}


def test_settings_reach_the_models():
    chosen = heterophily.settings_for("minesweeper", "graphcon-sep")
    net = heterophily.build_model("graphcon-sep", chosen, 7, 1)
    assert isinstance(net.field.coupling, SepMean) and net.decoder.out_features == 1
    assert len(net.field.coupling.layers) == chosen.layers and chosen.per_step
    assert all(layer.norm is not None for layer in net.field.coupling.layers)
    assert (net.field.alpha, net.field.gamma, net.step_size) == (chosen.alpha, chosen.gamma, chosen.step_size)
    shared = heterophily.build_model("graphcon-sep", dataclasses.replace(chosen, per_step=False, norm=False), 7, 1)
    assert len(shared.field.coupling.layers) == 1 and shared.field.coupling.layers[0].norm is None
    assert isinstance(heterophily.build_model("graphcon-gat-sep", chosen, 7, 1).field.coupling, SepAttention)
    baseline = heterophily.build_model("gat-sep", heterophily.settings_for("minesweeper", "gat-sep"), 7, 1)
    assert isinstance(baseline, HeterophilyBaseline) and baseline.block == "gat-sep"
    assert len(baseline.blocks) == heterophily.settings_for("minesweeper", "gat-sep").layers


@pytest.mark.parametrize("dataset", ["chameleon-filtered", "squirrel-filtered"])
def test_quick_filtered_wikipedia_sets_score_accuracy(tmp_path, data_root, dataset):
    root = need(data_root, dataset)
    models = ["gcn", "gcn-tuned", "graphcon-gcn", "graphcon-sep"]
    assert main(["node-classification", "--quick", "--dataset", dataset, "--model", *models, "--data-root", root,
                 "--out", str(tmp_path)]) == 0
    rows = rows_of(tmp_path)
    assert [row["model"] for row in rows] == models
    assert {row["metric"] for row in rows} == {"accuracy"} and {row["runs"] for row in rows} == {1}
    assert rows[1]["paper_mean"] == heterophily.PUBLISHED[dataset, "gcn-tuned"][0]
    assert all(0 < row["mean"] <= 100 for row in rows)


def test_tuned_settings_are_the_published_ones():
    gcn = heterophily.settings_for("minesweeper", "gcn-tuned")
    assert (gcn.layers, gcn.hidden, gcn.dropout, gcn.lr, gcn.weight_decay, gcn.epochs) == (12, 64, 0.2, 0.01, 0.0,
                                                                                              2000)
    assert (gcn.normalisation, gcn.residual, gcn.input_linear, gcn.patience) == ("batch", True, False, 0)
    assert heterophily.settings_for("minesweeper", "sage-tuned").layers == 15
    net = heterophily.build_model("gcn-tuned", gcn, 7, 1)
    assert isinstance(net, TunedGNN) and len(net.convs) == 12 and isinstance(net.norms[0], torch.nn.BatchNorm1d)
    assert heterophily.settings_for("tolokers", "gcn-tuned") == gcn
    chameleon = heterophily.settings_for("chameleon-filtered", "gcn-tuned")
    assert (chameleon.hidden, chameleon.layers, chameleon.residual, chameleon.normalisation) == (512, 5, False, "none")


def test_watch_sees_every_epoch_and_changes_nothing():
    torch.manual_seed(0)
    n = 30
    split = torch.zeros(n, 10, dtype=torch.bool)
    data = Data(x=torch.randn(n, 4), y=torch.arange(n) % 2, edge_index=torch.tensor([[i, (i + 1) % n] for i in
                                                                                     range(n)]).t(),
                train_mask=split.clone(), val_mask=split.clone(), test_mask=split.clone())
    data.train_mask[:15] = data.val_mask[15:22] = data.test_mask[22:] = True
    settings = heterophily.settings_for("minesweeper", "gcn-tuned", {"epochs": 4, "layers": 2, "hidden": 8})
    seen = []
    watched = heterophily.train_once("minesweeper", data, "gcn-tuned", settings, 0, 0, quiet=True,
                                     watch=lambda epoch, score: seen.append((epoch, score)))
    plain = heterophily.train_once("minesweeper", data, "gcn-tuned", settings, 0, 0, quiet=True)
    assert [epoch for epoch, _ in seen] == [0, 1, 2, 3] and max(s for _, s in seen) == watched["val"]
    assert {k: v for k, v in watched.items() if "seconds" not in k} == {k: v for k, v in plain.items()
                                                                        if "seconds" not in k}


def test_every_committed_search_choice_is_the_default_of_its_set():
    """The settings a committed `graphcon-ode search` record chose are node-classification's defaults there."""
    records = sorted((Path(__file__).resolve().parents[2] / "docs" / "results" / "search").glob("*.json"))
    assert records
    for path in records:
        record = json.loads(path.read_text())
        default = heterophily.SETTINGS[record["dataset"], record["model"]]
        assert default.key() == record["chosen"]["settings_key"], path.name
        assert default == heterophily.HeterophilySettings(**record["chosen"]["settings"], source=default.source)
