"""Mini-batch training of graph-level and inductive models, written once for every graph experiment.

A batch from PyG's ``DataLoader`` is one disconnected graph; a graph-level model maps it to one row per graph
(``model(x, edge_index, batch)``), an inductive node-level model to one row per node (``model(x, edge_index)``).
The task fixes the loss and the metric:

- "regression" (ZINC, Table 4): L1 loss mean |ŷ − y|; metric the mean absolute error (lower is better).
- "classification" (MNIST superpixels, Table 5): cross-entropy; metric the accuracy argmax ŷ = y.
- "multilabel" (PPI, Table 3): binary cross-entropy on the logits of every label; metric the micro-averaged F1,
  2·TP / (2·TP + FP + FN) summed over all (row, label) pairs, of the predictions ŷ > 0 (scikit-learn's
  ``f1_score(average="micro")``).

Every metric is computed on the whole split at once (not averaged over batches). The epoch with the best
validation metric is selected (ties go to the lower validation loss) and its weights are restored. Optionally the
learning rate is halved when the validation loss stops improving and training ends once it falls below a floor,
as in the benchmark protocol of the paper's ZINC and MNIST runs (Dwivedi et al., 2020).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from torch import Tensor, nn
from torch_geometric.data import Batch
from tqdm.auto import tqdm

from graphcon_ode.training.loop import OPTIMIZERS

LEVELS = ("graph", "node")


def mean_absolute_error(prediction: Tensor, target: Tensor) -> float:
    """mean |ŷ − y| over all entries."""
    return float((prediction - target).abs().mean())


def accuracy(logits: Tensor, target: Tensor) -> float:
    """The fraction of rows whose largest logit is at the target class."""
    return float((logits.argmax(-1) == target).float().mean())


def micro_f1(logits: Tensor, target: Tensor) -> float:
    """Micro-averaged F1 of the labels predicted by logit > 0 against the 0/1 ``target`` (rows × labels)."""
    return float(f1_score(target.cpu().numpy().astype(int), (logits > 0).cpu().numpy().astype(int),
                          average="micro", zero_division=0))


def _regression_outputs(prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    target = target.float()
    return prediction.reshape(target.shape), target


def _classification_outputs(prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return prediction, target.view(-1).long()


def _multilabel_outputs(prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return prediction, target.float()


@dataclass(frozen=True)
class Task:
    """A learning task: how outputs meet targets, the loss, and the metric (``higher_is_better`` or not)."""

    name: str
    metric: str
    higher_is_better: bool
    outputs: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]
    loss: Callable[[Tensor, Tensor], Tensor]
    score: Callable[[Tensor, Tensor], float]


TASKS: dict[str, Task] = {
    "regression": Task("regression", "mae", False, _regression_outputs, F.l1_loss, mean_absolute_error),
    "classification": Task("classification", "accuracy", True, _classification_outputs, F.cross_entropy,
                           accuracy),
    "multilabel": Task("multilabel", "micro_f1", True, _multilabel_outputs, F.binary_cross_entropy_with_logits,
                       micro_f1),
}


@dataclass(frozen=True)
class Plateau:
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without a lower validation loss; stop
    training once it is below ``min_lr`` (PyTorch's ``ReduceLROnPlateau``)."""

    factor: float = 0.5
    patience: int = 10
    min_lr: float = 1e-5


@dataclass
class GraphFitResult:
    """Scores at the selected epoch (best validation metric) and how training ran.

    ``train_score`` is the metric over the training pass of that epoch (dropout on, weights moving), as the
    benchmark reports it; ``val_score`` and ``test_score`` are evaluated with the selected weights.
    """

    metric: str
    best_epoch: int
    epochs_run: int
    train_score: float
    val_score: float
    test_score: float
    val_loss: float
    final_lr: float


def predict(model: nn.Module, batch: Batch, level: str = "graph", edge_attr: bool = False) -> Tensor:
    """The model's output on ``batch``: one row per graph (``level="graph"``) or per node (``"node"``)."""
    if level == "node":
        return model(batch.x, batch.edge_index)
    if edge_attr:
        return model(batch.x, batch.edge_index, batch.batch, edge_attr=batch.edge_attr)
    return model(batch.x, batch.edge_index, batch.batch)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable[Batch], task: str | Task, level: str = "graph",
             edge_attr: bool = False) -> tuple[float, float]:
    """(loss, metric) of ``model`` in evaluation mode over every batch of ``loader``, on the whole split."""
    task = _task(task)
    model.eval()
    outputs = [task.outputs(predict(model, batch, level, edge_attr), batch.y) for batch in loader]
    prediction = torch.cat([p for p, _ in outputs])
    target = torch.cat([t for _, t in outputs])
    return float(task.loss(prediction, target)), task.score(prediction, target)


def fit_graph_model(
    model: nn.Module,
    train_loader: Iterable[Batch],
    val_loader: Iterable[Batch],
    test_loader: Iterable[Batch] | None = None,
    *,
    task: str,
    level: str = "graph",
    edge_attr: bool = False,
    epochs: int = 100,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    plateau: Plateau | None = None,
    patience: int | None = None,
    progress: str | None = None,
) -> GraphFitResult:
    """Mini-batch training with the task's loss; returns the scores at the epoch of best validation metric.

    Args:
        task: "regression", "classification" or "multilabel" (see the module docstring).
        level: "graph" (one output row per graph) or "node" (one per node, inductive).
        edge_attr: pass ``batch.edge_attr`` to the model (graph level).
        plateau: learning-rate reduction on the validation loss, and the stop at its floor; None keeps ``lr``.
        patience: stop after this many epochs without a better validation metric.
        progress: a description shows a progress bar with that title; None trains silently.
    """
    spec = _task(task)
    if level not in LEVELS:
        raise ValueError(f"level: expected one of {LEVELS}, got {level!r}")
    if epochs < 1:
        raise ValueError(f"epochs: must be >= 1, got {epochs}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: unknown optimizer {optimizer!r}; known: {sorted(OPTIMIZERS)}")
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = None if plateau is None else torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=plateau.factor, patience=plateau.patience)
    sign = 1.0 if spec.higher_is_better else -1.0
    best: GraphFitResult | None = None
    best_key: tuple[float, float] | None = None
    best_state = copy.deepcopy(model.state_dict())
    bar = tqdm(range(epochs), desc=progress, leave=False, disable=progress is None)
    epoch = 0
    for epoch in bar:
        train_loss, train_score = _train_epoch(model, train_loader, opt, spec, level, edge_attr)
        val_loss, val_score = evaluate(model, val_loader, spec, level, edge_attr)
        current_lr = opt.param_groups[0]["lr"]
        key = (sign * val_score, -val_loss)
        if best_key is None or key > best_key:
            best_key = key
            best = GraphFitResult(spec.metric, epoch, epoch + 1, train_score, val_score, float("nan"), val_loss,
                                  current_lr)
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{train_loss:.3f}", val=f"{best.val_score:.4g}", lr=f"{current_lr:.2g}")
        if patience is not None and epoch - best.best_epoch >= patience:
            break
        if scheduler is not None:
            scheduler.step(val_loss)
            if opt.param_groups[0]["lr"] < plateau.min_lr:
                break
    model.load_state_dict(best_state)
    best.epochs_run = epoch + 1
    best.final_lr = opt.param_groups[0]["lr"]
    if test_loader is not None:
        best.test_score = evaluate(model, test_loader, spec, level, edge_attr)[1]
    return best


def _train_epoch(model: nn.Module, loader: Iterable[Batch], opt: torch.optim.Optimizer, task: Task, level: str,
                 edge_attr: bool) -> tuple[float, float]:
    """One pass over ``loader`` with a step per batch; the mean loss (per output row) and the metric."""
    model.train()
    predictions, targets, total_loss, rows = [], [], 0.0, 0
    for batch in loader:
        opt.zero_grad()
        prediction, target = task.outputs(predict(model, batch, level, edge_attr), batch.y)
        loss = task.loss(prediction, target)
        loss.backward()
        opt.step()
        total_loss += float(loss.detach()) * len(target)
        rows += len(target)
        predictions.append(prediction.detach())
        targets.append(target)
    return total_loss / rows, task.score(torch.cat(predictions), torch.cat(targets))


def _task(task: str | Task) -> Task:
    if isinstance(task, Task):
        return task
    if task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; known: {', '.join(TASKS)}")
    return TASKS[task]
