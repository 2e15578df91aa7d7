"""Training of node classifiers, written once for the demo and every node-level experiment."""

from __future__ import annotations

import copy
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
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: unknown optimizer {optimizer!r}; known: {sorted(OPTIMIZERS)}")
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    best: FitResult | None = None
    best_key: tuple[float, float] | None = None
    best_state = copy.deepcopy(model.state_dict())
    bar = tqdm(range(epochs), desc=progress, leave=False, disable=progress is None)
    epoch = 0
    for epoch in bar:
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(x, edge_index)[train_mask], y[train_mask])
        loss.backward()
        opt.step()

        model.eval()
        with torch.no_grad():
            logits = model(x, edge_index)
            val_loss = float(F.cross_entropy(logits[val_mask], y[val_mask]))
        scores = FitResult(epoch, epoch + 1, accuracy(logits, y, train_mask), accuracy(logits, y, val_mask),
                           accuracy(logits, y, test_mask), val_loss)
        key = (-val_loss, 0.0) if select == "val_loss" else (scores.val_accuracy, -val_loss)
        if best_key is None or key > best_key:
            best, best_key = scores, key
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{loss.item():.3f}", val=f"{best.val_accuracy:.3f}")
        if patience is not None and epoch - best.best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    best.epochs_run = epoch + 1
    return best
