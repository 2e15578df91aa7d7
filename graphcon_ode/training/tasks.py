"""What is learned: a task says how a model's outputs meet the targets, the loss it minimises and the metric it is
scored and selected by.

- "classification" (node classification, Tables 1 and 2; MNIST superpixels, Table 5): cross-entropy
  L = −(1/n) Σ_i log softmax(z_i)_{y_i}; metric the accuracy (higher is better).
- "binary" (minesweeper, tolokers, questions; Platonov et al., 2023): one logit z_i per row, binary cross-entropy
  L = −(1/n) Σ_i [y_i log s(z_i) + (1 − y_i) log(1 − s(z_i))], s the logistic sigmoid; metric the ROC AUC of z
  (their classes are imbalanced, 20 % and 22 % positives in minesweeper and tolokers, so accuracy says little).
- "regression" (ZINC, Table 4): L1 loss (1/n) Σ_i |ŷ_i − y_i|; metric the mean absolute error (lower is better).
- "multilabel" (PPI, Table 3): binary cross-entropy on the logit of every label; metric the micro-averaged F1 of
  the predictions z > 0.

A new task is one :class:`Task` and one ``TASKS.register`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor

from graphcon_ode.metrics import accuracy, mean_absolute_error, micro_f1, roc_auc
from solvers.registry import Registry


def _class_outputs(prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return prediction, target.view(-1).long()


def _binary_outputs(prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return prediction.reshape(prediction.shape[0], -1)[:, 0], target


def _binary_loss(logit: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    return F.binary_cross_entropy_with_logits(logit, target.to(logit), reduction=reduction)


def _regression_outputs(prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    target = target.float()
    return prediction.reshape(target.shape), target


def _multilabel_outputs(prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return prediction, target.float()


@dataclass(frozen=True)
class Task:
    """A learning task.

    Attributes:
        name: its key in :data:`TASKS`.
        metric: the name of the score (``"accuracy"``, ``"roc_auc"``, ``"mae"``, ``"micro_f1"``).
        higher_is_better: whether a larger score is a better one (False for an error).
        outputs: ``(model output rows, targets) → (prediction, target)``: the shapes and types the loss and the
            metric read; applied row-wise, so rows may be selected before or after it.
        loss: ``(prediction, target, reduction="mean") → scalar``: the mean loss over the rows (their sum with
            ``reduction="sum"``).
        score: ``(prediction, target) → float`` metric over the rows.
    """

    name: str
    metric: str
    higher_is_better: bool
    outputs: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]
    loss: Callable[..., Tensor]
    score: Callable[[Tensor, Tensor], float]


TASKS: Registry[Task] = Registry("task")
TASKS.register("classification", Task("classification", "accuracy", True, _class_outputs, F.cross_entropy, accuracy))
TASKS.register("binary", Task("binary", "roc_auc", True, _binary_outputs, _binary_loss, roc_auc))
TASKS.register("regression", Task("regression", "mae", False, _regression_outputs, F.l1_loss, mean_absolute_error))
TASKS.register("multilabel", Task("multilabel", "micro_f1", True, _multilabel_outputs,
                                  F.binary_cross_entropy_with_logits, micro_f1))


def get_task(task: str | Task) -> Task:
    """The task called ``task`` (a :class:`Task` passes through)."""
    if isinstance(task, Task):
        return task
    if task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; known: {', '.join(TASKS)}")
    return TASKS[task]
