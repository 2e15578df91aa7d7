"""The fit loop every model of the library trains with: one epoch / evaluate / select / early-stop core over a data
source.

Per epoch, the data source takes the optimiser steps of one pass over the training data (:class:`FullBatch`: one
step on every training node of one graph; :class:`Batches`: one step per mini-batch of a loader of PyG batches,
whole graphs or sampled subgraphs) and then scores the model in evaluation mode. The task
(:mod:`graphcon_ode.training.tasks`) fixes the loss and the metric. The :class:`Selection` keeps one epoch: by
default the best validation metric, ties to the lower validation loss (or the lowest validation loss); its weights
are loaded back into the model and its scores returned in a :class:`FitResult`. ``patience`` stops training after
that many epochs without a better one; a :class:`Plateau` multiplies the learning rate by a factor when the
validation loss stops improving and ends training below a floor, as in the benchmark protocol of the paper's ZINC
and MNIST runs (Dwivedi et al., 2020).
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from tqdm.auto import tqdm

from graphcon_ode.training.tasks import Task, get_task

OPTIMIZERS = {"adam": torch.optim.Adam, "adamax": torch.optim.Adamax, "adamw": torch.optim.AdamW}
LEVELS = ("graph", "node")
SELECT = ("metric", "val_loss")


@dataclass
class FitResult:
    """Scores of the selected epoch and how training ran.

    ``train_score`` is scored by the data source (full batch: in evaluation mode after the epoch's step; batches:
    over the epoch's training pass, dropout on and weights moving, as the graph benchmarks report it).
    ``val_score`` and ``test_score`` are those of the selected weights; ``test_score`` is NaN without test data.
    """

    metric: str
    best_epoch: int
    epochs_run: int
    train_score: float
    val_score: float
    test_score: float
    val_loss: float
    final_lr: float


@dataclass(frozen=True)
class Plateau:
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without a lower validation loss; stop
    training once it is below ``min_lr`` (PyTorch's ``ReduceLROnPlateau``)."""

    factor: float = 0.5
    patience: int = 10
    min_lr: float = 1e-5


@dataclass(frozen=True)
class Selection:
    """Which epoch is kept and when training stops.

    Attributes:
        on: "metric" (the best validation metric, ties to the lower validation loss) or "val_loss" (the lowest).
        patience: stop after this many epochs without a better one; None trains every epoch.
        cumulative: count every non-improving epoch towards ``patience``, never resetting the count at a better
            one.
        must_improve: an epoch is kept only where it beats the start (+∞ loss, −∞ metric), so an epoch of NaN
            loss is never kept; where none is, the scores are 0 and the validation loss +∞. Otherwise the first
            epoch is always kept.
        restore: load the kept epoch's weights back into the model at the end (else the last epoch's remain).
    """

    on: str = "metric"
    patience: int | None = None
    cumulative: bool = False
    must_improve: bool = False
    restore: bool = True

    def __post_init__(self) -> None:
        if self.on not in SELECT:
            raise ValueError(f"select: expected one of {SELECT}, got {self.on!r}")

    def key(self, task: Task, val_score: float, val_loss: float) -> tuple[float, float]:
        """The epoch's rank: larger is better."""
        if self.on == "val_loss":
            return (-val_loss, 0.0)
        return ((1.0 if task.higher_is_better else -1.0) * val_score, -val_loss)

    def start(self) -> tuple[float, float] | None:
        """The rank an epoch must beat to be kept (None: the first is kept)."""
        return (-math.inf, -math.inf if self.on == "metric" else 0.0) if self.must_improve else None


@dataclass
class TrainPass:
    """One epoch's training pass: the mean loss, its metric (None where not scored) and, where the source reads
    it there, the validation loss of the training-mode forward pass."""

    loss: float
    score: float | None = None
    val_loss: float | None = None


@dataclass
class EpochScores:
    """An epoch's train, validation and test scores (NaN where not scored) and its validation loss."""

    train: float
    val: float
    test: float
    val_loss: float


class DataSource(Protocol):
    """What the loop trains on: one epoch's training pass, its evaluation, and the test score of the kept
    weights where it is not scored per epoch (None otherwise)."""

    def train_epoch(self, model: nn.Module, optimizer: torch.optim.Optimizer, task: Task) -> TrainPass: ...

    def evaluate(self, model: nn.Module, task: Task, trained: TrainPass) -> EpochScores: ...

    def final_test(self, model: nn.Module, task: Task) -> float | None: ...


@dataclass
class FullBatch:
    """Every node of one graph at once: per epoch one optimiser step on the loss over ``train_mask``, then one
    evaluation-mode forward pass scored on each of ``masks`` = (train, validation, test).

    ``val_loss_from_training``: read the validation loss off the training-mode forward pass (dropout on, before the
    step) instead of the evaluation pass.
    """

    x: Tensor
    edge_index: Tensor
    y: Tensor
    masks: tuple[Tensor, Tensor, Tensor]
    val_loss_from_training: bool = False

    def _loss(self, task: Task, output: Tensor, mask: Tensor) -> Tensor:
        prediction, target = task.outputs(output, self.y)
        return task.loss(prediction[mask], target[mask])

    def _score(self, task: Task, output: Tensor, mask: Tensor) -> float:
        prediction, target = task.outputs(output, self.y)
        return task.score(prediction[mask], target[mask])

    def train_epoch(self, model: nn.Module, optimizer: torch.optim.Optimizer, task: Task) -> TrainPass:
        model.train()
        optimizer.zero_grad()
        output = model(self.x, self.edge_index)
        loss = self._loss(task, output, self.masks[0])
        loss.backward()
        optimizer.step()
        val_loss = float(self._loss(task, output.detach(), self.masks[1])) if self.val_loss_from_training else None
        return TrainPass(loss.item(), None, val_loss)

    def evaluate(self, model: nn.Module, task: Task, trained: TrainPass) -> EpochScores:
        model.eval()
        with torch.no_grad():
            output = model(self.x, self.edge_index)
            val_loss = trained.val_loss if self.val_loss_from_training else float(
                self._loss(task, output, self.masks[1]))
        train, val, test = (self._score(task, output, mask) for mask in self.masks)
        return EpochScores(train, val, test, val_loss)

    def final_test(self, model: nn.Module, task: Task) -> float | None:
        return None


def predict(model: nn.Module, batch: Batch, level: str = "graph", edge_attr: bool = False) -> Tensor:
    """The model's output on ``batch``: one row per graph (``level="graph"``) or per node (``"node"``)."""
    if level == "node":
        return model(batch.x, batch.edge_index)
    graph = {"edge_attr": batch.edge_attr} if edge_attr else {}
    if "num_graphs" in inspect.signature(model.forward).parameters:
        graph["num_graphs"] = batch.num_graphs  # a graph without nodes keeps its row
    return model(batch.x, batch.edge_index, batch.batch, **graph)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable[Batch], task: str | Task, level: str = "graph",
             edge_attr: bool = False) -> tuple[float, float]:
    """(loss, metric) of ``model`` in evaluation mode over every batch of ``loader``, on the whole split."""
    task = get_task(task)
    model.eval()
    outputs = [task.outputs(predict(model, batch, level, edge_attr), batch.y) for batch in loader]
    prediction = torch.cat([p for p, _ in outputs])
    target = torch.cat([t for _, t in outputs])
    return float(task.loss(prediction, target)), task.score(prediction, target)


@dataclass
class Batches:
    """Loaders of PyG batches: a step per training batch, then the validation split scored as a whole; the test
    split is scored once, with the kept weights.

    ``level``: "graph" (``model(x, edge_index, batch)``, one row per graph) or "node" (``model(x, edge_index)``,
    one row per node, inductive). ``edge_attr``: pass ``batch.edge_attr`` to a graph-level model.
    """

    train: Iterable[Batch]
    val: Iterable[Batch]
    test: Iterable[Batch] | None = None
    level: str = "graph"
    edge_attr: bool = False

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level: expected one of {LEVELS}, got {self.level!r}")

    def train_epoch(self, model: nn.Module, optimizer: torch.optim.Optimizer, task: Task) -> TrainPass:
        """The mean loss per output row and the metric over the pass."""
        model.train()
        predictions, targets, total_loss, rows = [], [], 0.0, 0
        for batch in self.train:
            optimizer.zero_grad()
            prediction, target = task.outputs(predict(model, batch, self.level, self.edge_attr), batch.y)
            loss = task.loss(prediction, target)
            loss.backward()
            optimizer.step()
            total_loss += float(loss.detach()) * len(target)
            rows += len(target)
            predictions.append(prediction.detach())
            targets.append(target)
        return TrainPass(total_loss / rows, task.score(torch.cat(predictions), torch.cat(targets)))

    def evaluate(self, model: nn.Module, task: Task, trained: TrainPass) -> EpochScores:
        val_loss, val_score = evaluate(model, self.val, task, self.level, self.edge_attr)
        return EpochScores(trained.score, val_score, float("nan"), val_loss)

    def final_test(self, model: nn.Module, task: Task) -> float | None:
        return float("nan") if self.test is None else evaluate(model, self.test, task, self.level, self.edge_attr)[1]


def fit(
    model: nn.Module,
    data: DataSource,
    task: str | Task,
    *,
    epochs: int,
    lr: float,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    selection: Selection = Selection(),
    plateau: Plateau | None = None,
    progress: str | None = None,
) -> FitResult:
    """Train ``model`` on ``data`` for the ``task`` (a name of :data:`~graphcon_ode.training.tasks.TASKS`); the
    scores of the epoch ``selection`` keeps (module docstring).

    Args:
        plateau: learning-rate reduction on the validation loss, and the stop at its floor; None keeps ``lr``.
        progress: a description shows a progress bar with that title; None trains silently.
    """
    spec = get_task(task)
    if epochs < 1:
        raise ValueError(f"epochs: must be >= 1, got {epochs}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: unknown optimizer {optimizer!r}; known: {sorted(OPTIMIZERS)}")
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = None if plateau is None else torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=plateau.factor, patience=plateau.patience)
    best = FitResult(spec.metric, -1, 0, 0.0, 0.0, 0.0, math.inf, lr)
    best_key = selection.start()
    best_state = copy.deepcopy(model.state_dict()) if selection.restore else None
    non_improving = 0
    bar = tqdm(range(epochs), desc=progress, leave=False, disable=progress is None)
    epoch = 0
    for epoch in bar:
        trained = data.train_epoch(model, opt, spec)
        scores = data.evaluate(model, spec, trained)
        current_lr = opt.param_groups[0]["lr"]
        key = selection.key(spec, scores.val, scores.val_loss)
        if best_key is None or key > best_key:
            best_key = key
            best = FitResult(spec.metric, epoch, epoch + 1, scores.train, scores.val, scores.test, scores.val_loss,
                             current_lr)
            if selection.restore:
                best_state = copy.deepcopy(model.state_dict())
        else:
            non_improving += 1
        bar.set_postfix(loss=f"{trained.loss:.3f}", val=f"{best.val_score:.4g}", lr=f"{current_lr:.2g}")
        waited = non_improving if selection.cumulative else epoch - best.best_epoch
        if selection.patience is not None and waited >= selection.patience:
            break
        if scheduler is not None:
            scheduler.step(scores.val_loss)
            if opt.param_groups[0]["lr"] < plateau.min_lr:
                break
    if selection.restore:
        model.load_state_dict(best_state)
    best.best_epoch = max(best.best_epoch, 0)
    best.epochs_run = epoch + 1
    best.final_lr = opt.param_groups[0]["lr"]
    test = data.final_test(model, spec)
    if test is not None:
        best.test_score = test
    return best


def fit_node_classifier(model: nn.Module, x: Tensor, edge_index: Tensor, y: Tensor, train_mask: Tensor,
                        val_mask: Tensor, test_mask: Tensor, *, epochs: int = 200, lr: float = 0.01,
                        weight_decay: float = 5e-4, optimizer: str = "adam", patience: int | None = None,
                        select: str = "val_accuracy", progress: str | None = None) -> FitResult:
    """:func:`fit` of a classifier ``model(x, edge_index)`` on one graph, full batch, with cross-entropy;
    ``select`` is "val_accuracy" (ties to the lower loss) or "val_loss"."""
    return fit(model, FullBatch(x, edge_index, y, (train_mask, val_mask, test_mask)), "classification",
               epochs=epochs, lr=lr, weight_decay=weight_decay, optimizer=optimizer, progress=progress,
               selection=Selection(node_selection(select), patience))


def fit_binary_node_classifier(model: nn.Module, x: Tensor, edge_index: Tensor, y: Tensor, train_mask: Tensor,
                               val_mask: Tensor, test_mask: Tensor, *, epochs: int = 1000, lr: float = 0.001,
                               weight_decay: float = 0.0, optimizer: str = "adam", patience: int | None = None,
                               progress: str | None = None) -> FitResult:
    """:func:`fit` of a one-logit ``model(x, edge_index)`` on one graph, full batch, with BCE; the epoch of the
    highest validation ROC AUC is kept."""
    return fit(model, FullBatch(x, edge_index, y, (train_mask, val_mask, test_mask)), "binary", epochs=epochs,
               lr=lr, weight_decay=weight_decay, optimizer=optimizer, progress=progress, selection=Selection(
                   patience=patience))


def fit_graph_model(model: nn.Module, train_loader: Iterable[Batch], val_loader: Iterable[Batch],
                    test_loader: Iterable[Batch] | None = None, *, task: str, level: str = "graph",
                    edge_attr: bool = False, epochs: int = 100, lr: float = 1e-3, weight_decay: float = 0.0,
                    optimizer: str = "adam", plateau: Plateau | None = None, patience: int | None = None,
                    progress: str | None = None) -> FitResult:
    """:func:`fit` on loaders of PyG batches (:class:`Batches`)."""
    return fit(model, Batches(train_loader, val_loader, test_loader, level, edge_attr), task, epochs=epochs, lr=lr,
               weight_decay=weight_decay, optimizer=optimizer, plateau=plateau, progress=progress,
               selection=Selection(patience=patience))


def node_selection(select: str) -> str:
    """The :class:`Selection` ``on`` of a node classifier's ``select`` option ("val_accuracy" or "val_loss")."""
    if select not in ("val_accuracy", "val_loss"):
        raise ValueError(f"select: expected 'val_accuracy' or 'val_loss', got {select!r}")
    return "metric" if select == "val_accuracy" else "val_loss"
