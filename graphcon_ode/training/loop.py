"""Training of node classifiers, written once for the demo and every node-level experiment."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

OPTIMIZERS = {"adam": torch.optim.Adam, "adamax": torch.optim.Adamax, "adamw": torch.optim.AdamW}


@dataclass
class FitResult:
    """Scores at the selected epoch (best validation accuracy or loss) and how long training ran."""

    best_epoch: int
    epochs_run: int
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    val_loss: float


def accuracy(logits: Tensor, y: Tensor, mask: Tensor) -> float:
    return float((logits[mask].argmax(-1) == y[mask]).float().mean())


def fit_node_classifier(
    model: nn.Module,
    x: Tensor,
    edge_index: Tensor,
    y: Tensor,
    train_mask: Tensor,
    val_mask: Tensor,
    test_mask: Tensor,
    *,
    epochs: int = 200,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    optimizer: str = "adam",
    patience: int | None = None,
    select: str = "val_accuracy",
    progress: str | None = None,
) -> FitResult:
    """Full-batch training with cross-entropy; returns the scores at the best validation epoch.

    Args:
        select: "val_accuracy" (highest, ties to the lower loss) or "val_loss" (lowest) picks the epoch.
        patience: stop after this many epochs without improvement of the selection criterion.
        progress: a description shows a progress bar with that title; None trains silently.
    """
    if select not in ("val_accuracy", "val_loss"):
        raise ValueError(f"select: expected 'val_accuracy' or 'val_loss', got {select!r}")
    best = fit_full_batch(
        model, x, edge_index, (train_mask, val_mask, test_mask),
        lambda logits, mask: F.cross_entropy(logits[mask], y[mask]),
        lambda logits, mask: accuracy(logits, y, mask),
        epochs=epochs, lr=lr, weight_decay=weight_decay, optimizer=optimizer, patience=patience,
        select_loss=select == "val_loss", progress=progress,
    )
    return FitResult(best.best_epoch, best.epochs_run, best.train, best.val, best.test, best.val_loss)


@dataclass
class EpochScores:
    """An epoch's score (the caller's metric) on the train, validation and test nodes, and its validation loss."""

    best_epoch: int
    epochs_run: int
    train: float
    val: float
    test: float
    val_loss: float


def fit_full_batch(
    model: nn.Module,
    x: Tensor,
    edge_index: Tensor,
    masks: tuple[Tensor, Tensor, Tensor],
    loss: Callable[[Tensor, Tensor], Tensor],
    score: Callable[[Tensor, Tensor], float],
    *,
    epochs: int,
    lr: float,
    weight_decay: float,
    optimizer: str,
    patience: int | None,
    select_loss: bool = False,
    progress: str | None = None,
) -> EpochScores:
    """The full-batch loop every node classifier trains with: per epoch one optimiser step on
    ``loss(model(x, edge_index), train_mask)``, then an evaluation-mode forward pass scored by ``score(logits, mask)``
    on each of ``masks`` = (train, validation, test). The epoch of the highest validation score (ties to the lower
    validation loss), or with ``select_loss`` of the lowest validation loss, is kept: its weights are loaded back
    into ``model`` and its scores returned. ``patience`` stops after that many epochs without a better one.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: unknown optimizer {optimizer!r}; known: {sorted(OPTIMIZERS)}")
    if epochs < 1:
        raise ValueError(f"epochs: must be >= 1, got {epochs}")
    train_mask, val_mask, test_mask = masks
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    best: EpochScores | None = None
    best_key: tuple[float, float] | None = None
    best_state = copy.deepcopy(model.state_dict())
    bar = tqdm(range(epochs), desc=progress, leave=False, disable=progress is None)
    epoch = 0
    for epoch in bar:
        model.train()
        opt.zero_grad()
        train_loss = loss(model(x, edge_index), train_mask)
        train_loss.backward()
        opt.step()

        model.eval()
        with torch.no_grad():
            logits = model(x, edge_index)
            val_loss = float(loss(logits, val_mask))
        scores = EpochScores(epoch, epoch + 1, score(logits, train_mask), score(logits, val_mask),
                             score(logits, test_mask), val_loss)
        key = (-val_loss, 0.0) if select_loss else (scores.val, -val_loss)
        if best_key is None or key > best_key:
            best, best_key = scores, key
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{train_loss.item():.3f}", val=f"{best.val:.4f}")
        if patience is not None and epoch - best.best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    best.epochs_run = epoch + 1
    return best
