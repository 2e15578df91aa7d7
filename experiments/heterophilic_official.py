"""``node-classification --protocol official``: Table 2 with the training semantics of the authors' heterophilic
script (``src/heterophilic_graphs/run_GNN.py`` and ``models.py`` of tk-rusch/GraphCON), as it runs:

- dropout 0.3 everywhere: the script builds its models with its ``--drop`` option (default 0.3), while the tuned
  rates of its ``best_params.py`` sit under a key the models never read;
- the early-stopping loss is the validation loss of the epoch's training-mode forward pass (dropout on, before
  the optimiser step), and the test accuracy counted is the eval-mode accuracy after that epoch's step;
- patience is cumulative: a counter of non-improving epochs that is never reset, training stops when it reaches
  the patience (100);
- X⁰ and Y⁰ get independent dropout masks (``GraphCONNodeModel(initial_velocity="independent_dropout")``).

The script sets no seed; runs here are seeded like every other run. ``--protocol clean`` (the default) is the
library's own protocol (eval-mode validation loss, patience reset at every improvement, one mask).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from graphcon_ode.training.loop import OPTIMIZERS, FitResult, accuracy

PROTOCOLS = ("clean", "official")
OFFICIAL_DROPOUT = {"dropout": 0.3, "input_dropout": 0.3, "step_dropout": 0.3}
OFFICIAL_MODELS = ("graphcon-gcn", "graphcon-gat")
OFFICIAL_DATASETS = ("texas", "wisconsin", "cornell")


def check_protocol(protocol: str, dataset: str, model: str) -> None:
    """Raise ``ValueError`` naming ``--protocol`` where ``protocol`` is unknown or the script never ran the pair."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"--protocol: expected one of {PROTOCOLS}, got {protocol!r}")
    if protocol == "official" and (dataset not in OFFICIAL_DATASETS or model not in OFFICIAL_MODELS):
        raise ValueError(f"--protocol: 'official' restates the authors' heterophilic GraphCON script "
                         f"({', '.join(OFFICIAL_MODELS)} on {', '.join(OFFICIAL_DATASETS)}), not {model} on {dataset}")


def fit_official(model: nn.Module, x: Tensor, edge_index: Tensor, y: Tensor, train_mask: Tensor, val_mask: Tensor,
                 test_mask: Tensor, *, epochs: int, lr: float, weight_decay: float, optimizer: str = "adam",
                 patience: int | None = 100, select: str = "val_loss", progress: str | None = None) -> FitResult:
    """Full-batch training under the script's semantics (module docstring); the scores of the epoch with the lowest
    training-mode validation loss."""
    if select != "val_loss":
        raise ValueError(f"select: the official protocol selects on the validation loss, got {select!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: unknown optimizer {optimizer!r}; known: {sorted(OPTIMIZERS)}")
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    best = FitResult(0, 0, 0.0, 0.0, 0.0, math.inf)
    non_improving = 0
    epoch = 0
    for epoch in tqdm(range(epochs), desc=progress, leave=False, disable=progress is None):
        model.train()
        opt.zero_grad()
        out = model(x, edge_index)
        F.cross_entropy(out[train_mask], y[train_mask]).backward()
        opt.step()
        val_loss = float(F.cross_entropy(out[val_mask].detach(), y[val_mask]))
        model.eval()
        with torch.no_grad():
            logits = model(x, edge_index)
        if val_loss < best.val_loss:
            best = FitResult(epoch, 0, accuracy(logits, y, train_mask), accuracy(logits, y, val_mask),
                             accuracy(logits, y, test_mask), val_loss)
        else:
            non_improving += 1
        if patience is not None and non_improving == patience:
            break
    best.epochs_run = epoch + 1
    return best
