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

from torch import Tensor, nn

from graphcon_ode.training.loop import FitResult, FullBatch, Selection, fit

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


def official_selection(patience: int | None) -> Selection:
    """The script's selection: the lowest training-mode validation loss (strictly below every earlier one, from +∞),
    a cumulative patience counter, and the last epoch's weights left in the model."""
    return Selection("val_loss", patience, cumulative=True, must_improve=True, restore=False)


def fit_official(model: nn.Module, x: Tensor, edge_index: Tensor, y: Tensor, train_mask: Tensor, val_mask: Tensor,
                 test_mask: Tensor, *, epochs: int, lr: float, weight_decay: float, optimizer: str = "adam",
                 patience: int | None = 100, select: str = "val_loss", progress: str | None = None) -> FitResult:
    """:func:`~graphcon_ode.training.loop.fit` under the script's semantics (module docstring): full batch, the
    validation loss of the training-mode pass, :func:`official_selection`."""
    if select != "val_loss":
        raise ValueError(f"select: the official protocol selects on the validation loss, got {select!r}")
    data = FullBatch(x, edge_index, y, (train_mask, val_mask, test_mask), val_loss_from_training=True)
    return fit(model, data, "classification", epochs=epochs, lr=lr, weight_decay=weight_decay, optimizer=optimizer,
               selection=official_selection(patience), progress=progress)
