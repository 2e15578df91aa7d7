import math

import pytest
import torch
from torch import nn

from graphcon_ode.metrics import roc_auc
from graphcon_ode.training.loop import fit_binary_node_classifier
from graphcon_ode.training.tasks import TASKS


def binary_loss(logits, y, mask):
    logit, target = TASKS["binary"].outputs(logits, y)
    return TASKS["binary"].loss(logit[mask], target[mask])


def pairwise_auc(scores, labels):
    """AUC from its definition: P(score of a positive > score of a negative), ties counting one half."""
    positives = [s for s, y in zip(scores, labels) if y == 1]
    negatives = [s for s, y in zip(scores, labels) if y == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def test_roc_auc_matches_the_pairwise_definition_on_the_masked_nodes():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(40, 1, generator=generator).round(decimals=1)  # rounding makes ties
    y = (torch.rand(40, generator=generator) < 0.3).long()
    mask = torch.rand(40, generator=generator) < 0.7
    expected = pairwise_auc(logits[mask, 0].tolist(), y[mask].tolist())
    assert roc_auc(logits[mask], y[mask]) == pytest.approx(expected, abs=1e-12)
    assert roc_auc(logits[mask, 0], y[mask]) == pytest.approx(expected, abs=1e-12)


def test_roc_auc_refuses_labels_it_cannot_score():
    mask = torch.ones(4, dtype=torch.bool)
    with pytest.raises(ValueError, match="target.*0/1"):
        roc_auc(torch.zeros(4)[mask], torch.tensor([0, 1, 2, 1])[mask])
    with pytest.raises(ValueError, match="target.*one class"):
        roc_auc(torch.zeros(4)[mask], torch.tensor([1, 1, 1, 1])[mask])


def test_binary_loss_is_the_mean_cross_entropy_of_the_sigmoid():
    logits = torch.tensor([[2.0], [-1.0], [0.5], [3.0]], dtype=torch.float64)
    y = torch.tensor([1, 0, 0, 1])
    mask = torch.tensor([True, True, True, False])
    sigmoid = [1 / (1 + math.exp(-z)) for z in (2.0, -1.0, 0.5)]
    expected = -(math.log(sigmoid[0]) + math.log(1 - sigmoid[1]) + math.log(1 - sigmoid[2])) / 3
    assert float(binary_loss(logits, y, mask)) == pytest.approx(expected, rel=1e-12)


class Linear(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.lin = nn.Linear(features, 1)

    def forward(self, x, edge_index):
        return self.lin(x)


def test_fit_keeps_the_weights_of_the_best_validation_epoch():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(200, 3, generator=generator)
    y = (x[:, 0] + 0.3 * torch.randn(200, generator=generator) > 0).long()
    parts = torch.arange(200) % 4
    train, val, test = parts < 2, parts == 2, parts == 3
    torch.manual_seed(0)
    model = Linear(3)
    result = fit_binary_node_classifier(model, x, torch.empty(2, 0, dtype=torch.long), y, train, val, test,
                                        epochs=60, lr=0.05, patience=20)
    assert result.metric == "roc_auc" and result.val_score > 0.9 and result.test_score > 0.9
    assert 1 <= result.epochs_run <= 60 and result.best_epoch < result.epochs_run
    model.eval()
    with torch.no_grad():
        logits = model(x, None)
    assert roc_auc(logits[val], y[val]) == result.val_score
    assert roc_auc(logits[test], y[test]) == result.test_score


def test_fit_names_a_bad_argument():
    x, y = torch.randn(4, 2), torch.tensor([0, 1, 0, 1])
    mask = torch.ones(4, dtype=torch.bool)
    with pytest.raises(ValueError, match="optimizer"):
        fit_binary_node_classifier(Linear(2), x, None, y, mask, mask, mask, optimizer="sgd")
    with pytest.raises(ValueError, match="epochs"):
        fit_binary_node_classifier(Linear(2), x, None, y, mask, mask, mask, epochs=0)
