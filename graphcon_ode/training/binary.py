"""Binary node classification: one logit per node, BCE-with-logits loss, ROC AUC as the metric.

The heterophilous sets minesweeper, tolokers and questions (Platonov et al., 2023) have two classes with
imbalanced priors (20 % and 22 % positives in minesweeper and tolokers), so they are scored by the area under the
ROC curve of the logit, not by accuracy. A model for them ends in one output channel z_i; training minimises

    L = −(1/|T|) Σ_{i ∈ T} [ y_i log s(z_i) + (1 − y_i) log(1 − s(z_i)) ],   s the logistic sigmoid,

over the training nodes T, and the epoch of highest validation ROC AUC is kept (ties to the lower validation
loss); ``patience`` stops training after that many epochs without a better one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import Tensor, nn

from graphcon_ode.training.loop import fit_full_batch


@dataclass
class BinaryFitResult:
    """ROC AUC (in [0, 1]) on each part at the selected epoch, that epoch, and how long training ran."""

    best_epoch: int
    epochs_run: int
    train_roc_auc: float
    val_roc_auc: float
    test_roc_auc: float
    val_loss: float


def roc_auc(logits: Tensor, y: Tensor, mask: Tensor) -> float:
    """ROC AUC of the scores ``logits`` (shape [N] or [N, 1]) against the 0/1 labels ``y`` on the nodes ``mask``.

    Raises:
        ValueError: the masked labels are not binary or hold one class only (the AUC is then undefined).
    """
    labels = y[mask].detach().cpu().numpy()
    if set(labels.tolist()) - {0, 1}:
        raise ValueError(f"y: ROC AUC needs 0/1 labels, got values {sorted(set(labels.tolist()))}")
    if len(set(labels.tolist())) < 2:
        raise ValueError("mask: the selected nodes hold one class only; their ROC AUC is undefined")
    scores = logits.detach().reshape(logits.shape[0], -1)[:, 0][mask].cpu().numpy()
    return float(roc_auc_score(labels, scores))


def binary_loss(logits: Tensor, y: Tensor, mask: Tensor) -> Tensor:
    """Mean binary cross-entropy with logits over the nodes ``mask`` (the single output channel)."""
    return F.binary_cross_entropy_with_logits(logits.reshape(logits.shape[0], -1)[:, 0][mask], y[mask].to(logits))


def fit_binary_node_classifier(
    model: nn.Module,
    x: Tensor,
    edge_index: Tensor,
    y: Tensor,
    train_mask: Tensor,
    val_mask: Tensor,
    test_mask: Tensor,
    *,
    epochs: int = 1000,
    lr: float = 0.001,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    patience: int | None = None,
    progress: str | None = None,
) -> BinaryFitResult:
    """Full-batch training of a one-logit ``model(x, edge_index)`` with BCE; scores at the best validation AUC.

    Args:
        patience: stop after this many epochs without a higher validation ROC AUC.
        progress: a description shows a progress bar with that title; None trains silently.
    """
    best = fit_full_batch(
        model, x, edge_index, (train_mask, val_mask, test_mask),
        lambda logits, mask: binary_loss(logits, y, mask),
        lambda logits, mask: roc_auc(logits, y, mask),
        epochs=epochs, lr=lr, weight_decay=weight_decay, optimizer=optimizer, patience=patience, progress=progress,
    )
    return BinaryFitResult(best.best_epoch, best.epochs_run, best.train, best.val, best.test, best.val_loss)
