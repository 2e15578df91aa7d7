"""The fit engine: the task registry, the selection rule and its patience, the checkpoint reader."""

import math

import pytest
import torch
from torch import nn

from graphcon_ode.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from graphcon_ode.training.loop import FullBatch, Selection, fit
from graphcon_ode.training.tasks import TASKS, get_task


class Linear(nn.Module):
    def __init__(self, features: int, classes: int):
        super().__init__()
        self.lin = nn.Linear(features, classes)

    def forward(self, x, edge_index):
        return self.lin(x)


def problem():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(60, 3, generator=generator)
    y = (x[:, 0] > 0).long()
    parts = torch.arange(60) % 3
    return x, y, (parts == 0, parts == 1, parts == 2)


def test_the_task_registry_refuses_a_silent_overwrite_and_names_unknown_tasks():
    with pytest.raises(KeyError, match="classification"):
        TASKS["classification"] = TASKS["regression"]
    with pytest.raises(ValueError, match="task"):
        get_task("ranking")
    assert {name: task.metric for name, task in TASKS.items()} == {
        "classification": "accuracy", "binary": "roc_auc", "regression": "mae", "multilabel": "micro_f1"}


def test_selection_names_a_bad_rule():
    with pytest.raises(ValueError, match="select"):
        Selection("val_accuracy")


@pytest.mark.parametrize("cumulative", [False, True])
def test_patience_counts_epochs_since_the_best_or_every_non_improving_one(cumulative):
    x, y, masks = problem()
    torch.manual_seed(0)
    result = fit(Linear(3, 2), FullBatch(x, None, y, masks), "classification", epochs=200, lr=0.5,
                 selection=Selection("val_loss", patience=3, cumulative=cumulative))
    assert result.epochs_run < 200
    if not cumulative:
        assert result.epochs_run == result.best_epoch + 4


def test_an_epoch_that_must_improve_is_never_one_of_nan_loss():
    x, y, masks = problem()
    model = Linear(3, 2)
    with torch.no_grad():
        model.lin.bias.fill_(math.nan)
    result = fit(model, FullBatch(x, None, y, masks), "classification", epochs=3, lr=0.1,
                 selection=Selection("val_loss", must_improve=True, restore=False))
    assert result.val_loss == math.inf and result.test_score == 0.0 and result.epochs_run == 3


def test_a_checkpoint_round_trips_and_an_unreadable_one_names_its_file(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"epoch": 3, "weights": torch.arange(4.0)}, path)
    assert torch.equal(load_checkpoint(path)["weights"], torch.arange(4.0))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="checkpoint.pt"):
        load_checkpoint(path)


def test_predict_keeps_the_row_of_a_graph_without_nodes():
    from torch_geometric.data import Data
    from torch_geometric.loader import DataLoader

    from graphcon_ode.models import GraphCONGraphModel
    from graphcon_ode.training.loop import predict

    torch.manual_seed(0)
    full = Data(x=torch.randn(4, 3), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]), y=torch.tensor([1.0]))
    empty = Data(x=torch.zeros(0, 3), edge_index=torch.zeros(2, 0, dtype=torch.long), y=torch.tensor([0.0]))
    model = GraphCONGraphModel(3, 8, 1, num_layers=2).eval()
    batch = next(iter(DataLoader([full, full, empty], batch_size=3)))
    rows = predict(model, batch)
    assert rows.shape == (batch.num_graphs, 1)
    assert torch.allclose(rows[0], rows[1]) and torch.allclose(rows[0], model(full.x, full.edge_index))
