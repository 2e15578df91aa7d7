"""The scores every training loop and experiment reports, each written once.

Every function takes the model's outputs on the rows to score (already selected: the nodes of a mask, the graphs of
a split) and their targets, and returns a Python float. They are computed on the whole set of rows at once, never
averaged over batches.
"""

from __future__ import annotations

from sklearn.metrics import f1_score, roc_auc_score
from torch import Tensor


def accuracy(logits: Tensor, target: Tensor) -> float:
    """The fraction of rows whose largest logit is at the target class: (1/n) Σ_i [argmax_c z_ic = y_i]."""
    return float((logits.argmax(-1) == target).float().mean())


def roc_auc(scores: Tensor, target: Tensor) -> float:
    """Area under the ROC curve of the scores (shape [n] or [n, 1]: the first channel) against 0/1 labels,

        AUC = P(s_i > s_j | y_i = 1, y_j = 0) + ½ P(s_i = s_j | y_i = 1, y_j = 0),

    the probability that a random positive is ranked above a random negative (scikit-learn's ``roc_auc_score``).

    Raises:
        ValueError: the labels are not 0/1 (naming ``target``), or hold one class only, where the AUC is undefined.
    """
    labels = target.detach().cpu().numpy()
    values = set(labels.tolist())
    if values - {0, 1}:
        raise ValueError(f"target: ROC AUC needs 0/1 labels, got values {sorted(values)}")
    if len(values) < 2:
        raise ValueError("target: the scored rows hold one class only; their ROC AUC is undefined")
    return float(roc_auc_score(labels, scores.detach().reshape(scores.shape[0], -1)[:, 0].cpu().numpy()))


def mean_absolute_error(prediction: Tensor, target: Tensor) -> float:
    """MAE = (1/n) Σ_i |ŷ_i − y_i| over all entries."""
    return float((prediction - target).abs().mean())


def micro_f1(logits: Tensor, target: Tensor) -> float:
    """Micro-averaged F1 of the labels predicted by logit > 0 against the 0/1 ``target`` (rows × labels):

        F1 = 2·TP / (2·TP + FP + FN),   TP, FP, FN counted over every (row, label) pair

    (scikit-learn's ``f1_score(average="micro")``; 0 where there is no positive at all).
    """
    return float(f1_score(target.cpu().numpy().astype(int), (logits > 0).cpu().numpy().astype(int),
                          average="micro", zero_division=0))
