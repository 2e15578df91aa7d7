"""The protocols restating the authors' scripts: heterophilic ``--protocol official``, Table 8's graphcon-grand."""

import json

import pytest
import torch
from torch import nn

from experiments.heterophilic_official import fit_official
from experiments.node_experiment import settings_for
from graphcon_ode.cli import main

pytestmark = pytest.mark.usefixtures("private_cache")


class Scripted(nn.Module):
    """Returns scripted logits: in training mode the k-th call's validation rows favour the right class by
    ``margins[k]`` (so its validation loss falls as the margin grows); in eval mode it answers ``eval_correct[k]``."""

    def __init__(self, margins, eval_correct, y):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        self.margins, self.eval_correct, self.y, self.calls = margins, eval_correct, y, 0

    def forward(self, x, edge_index):
        k = self.calls if self.training else self.calls - 1
        self.calls += self.training
        one_hot = nn.functional.one_hot(self.y, 2).double()
        if self.training:
            return self.margins[k] * one_hot + self.weight
        return one_hot if self.eval_correct[k] else 1 - one_hot


def test_official_fit_selects_on_training_mode_loss_with_cumulative_patience():
    y = torch.tensor([0, 1, 0, 1])
    masks = [torch.tensor(m) for m in ([1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1])]
    margins = [1.0, 0.5, 2.0, 1.5, 3.0, 0.1, 0.1, 0.1]   # improves at epochs 0, 2, 4
    correct = [False, True, True, False, False, True, True, True]
    model = Scripted(margins, correct, y)
    result = fit_official(model, None, None, y, *masks, epochs=8, lr=0.1, weight_decay=0.0, patience=3)
    assert result.best_epoch == 4, "the lowest training-mode validation loss (largest margin)"
    assert result.test_score == 0.0, "the eval-mode test accuracy of that epoch"
    assert result.epochs_run == 6, "epochs 1, 3 and 5 fail to improve: the third stops training (never reset)"


def test_official_protocol_forces_the_scripts_dropout_and_refuses_other_tables():
    settings = settings_for("texas", "graphcon-gcn", {"protocol": "official"})
    assert (settings.dropout, settings.input_dropout, settings.step_dropout) == (0.3, 0.3, 0.3)
    with pytest.raises(ValueError, match="--protocol"):
        settings_for("cora", "graphcon-gcn", {"protocol": "official"})
    with pytest.raises(ValueError, match="--protocol"):
        settings_for("texas", "graphcon-gcn", {"protocol": "paper"})


def test_node_classification_official_and_authors_gat_quick(root, tmp_path):
    out = tmp_path / "official"
    assert main(["node-classification", "--quick", "--dataset", "texas", "--model", "graphcon-gcn", "graphcon-gat",
                 "--protocol", "official", "--gat-form", "authors", "--data-root", root, "--out", str(out)]) == 0
    records = json.loads((out / "runs.json").read_text()).values()
    assert {r["hyperparameters"]["protocol"] for r in records} == {"official"}
    assert {r["hyperparameters"]["dropout"] for r in records} == {0.3}
    assert {r["model"] for r in records} == {"graphcon-gcn", "graphcon-gat"}


def test_depth_sweep_grand_quick_scores_both_protocols(root, tmp_path):
    assert main(["depth-sweep", "--quick", "--grand", "official", "faithful", "--data-root", root,
                 "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    assert [(r["protocol"], r["layers"]) for r in rows] == [("official", 2), ("official", 4), ("faithful", 2),
                                                            ("faithful", 4)]
    for row in rows:
        times = [float(t) for t in row["best_time"].split("/")]
        assert all(1 <= t <= 3 * row["layers"] for t in times)
        assert row["protocol"] == "official" or times == [row["layers"]]
        assert 0 <= row["mean"] <= 100
