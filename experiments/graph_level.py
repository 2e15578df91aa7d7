"""What the graph-level experiments share: settings, datasets as run-ready splits, one training run, result rows.

Tasks (the metric of each table): ZINC, penalised-logP regression, test MAE (Table 4); MNIST superpixels,
10-class classification, test accuracy in % (Table 5); PPI, 121-label inductive node classification, test
micro-F1 in % (Table 3). ``zinc-moses`` and ``mnist5k-superpixels`` are the library's offline stand-ins for ZINC
and MNIST superpixels (see :mod:`graphcon_ode.datasets.graph`); their rows carry the paper's number of the
original dataset beside them under ``paper_dataset`` "… (a different dataset)", never as the same benchmark.

Every run trains with :func:`graphcon_ode.training.loop.fit_graph_model` on the dataset's fixed split and reports
the test metric at the epoch of best validation metric; runs differ by their initialisation seed. A run that
diverged (:data:`DIVERGED`, decided by :func:`diverged` in the run and stored in its record) stays in runs.json
with ``"diverged": true`` and is left out of its cell's mean and std, which count it under ``diverged``. ``*_graphs``
settings train, select and test on a fixed random subset of a split (the same subset for every model and seed),
the reduced protocol that CPU-only runs and ``--quick`` use.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from experiments import harness
from experiments.harness import RunStore, add_common_arguments, mean_std, progress, settings_key
from experiments.run_record import machine_load
from graphcon_ode.activations import ACTIVATIONS
from graphcon_ode.cli.arguments import UsageError, given, quick
from graphcon_ode.datasets.graph import load_graph_dataset
from graphcon_ode.models import names
from graphcon_ode.models.graph import POOLS
from graphcon_ode.results import write_results
from graphcon_ode.training.loop import Plateau, fit_graph_model
from graphcon_ode.training.tasks import TASKS

# An under-trained but stable regression run stays within about ten times the mean predictor's MAE (one epoch on
# zinc-moses, --quick: GCN 1.5x, GAT 7.9x; graph-depth-sweep --quick --hidden 8: up to 11.8x, GraphCON-GAT N=2),
# a blown-up one is orders of magnitude above (graph-regression --quick: GraphCON-GCN 528x, GraphCON-GAT 2.8e5x).
DIVERGED_FACTOR = 100.0
DIVERGED = ("a run diverged when, at its selected epoch, the training metric, the validation loss, the validation "
            "metric or the test metric is not finite, or (regression) when its validation or test MAE is above "
            f"{DIVERGED_FACTOR:g} times the MAE on that split of predicting the mean training target for every graph")
MODELS = ("gcn", "gat", "graphcon-gcn", "graphcon-gat", "graphcon-gin", "graphcon-gatedgcn", "graphcon-sage")
PUBLISHED = "the authors' published settings"
CHOSEN = "chosen here (the paper gives none)"


@dataclass(frozen=True)
class DatasetInfo:
    """How a dataset is learned: ``task`` (a key of :data:`graphcon_ode.training.tasks.TASKS`), ``level``
    ("graph" or "node"), and the paper's dataset it reproduces (``paper``) or stands in for (``stand_in_for``)."""

    task: str
    level: str
    paper: str
    stand_in_for: str | None = None


DATASETS: dict[str, DatasetInfo] = {
    "zinc": DatasetInfo("regression", "graph", "zinc"),
    "zinc-moses": DatasetInfo("regression", "graph", "zinc", stand_in_for="zinc"),
    "mnist-superpixels": DatasetInfo("classification", "graph", "mnist-superpixels"),
    "mnist5k-superpixels": DatasetInfo("classification", "graph", "mnist-superpixels",
                                       stand_in_for="mnist-superpixels"),
    "ppi": DatasetInfo("multilabel", "node", "ppi"),
}
PAPER_NAMES = {"zinc": "ZINC 12k", "mnist-superpixels": "MNIST superpixels (75)", "ppi": "PPI"}

# Tables 3, 4 and 5: (mean, std or None); accuracy and F1 in %.
PAPER: dict[tuple[str, str], tuple[float, float | None]] = {
    ("zinc", "gcn"): (0.47, 0.002), ("zinc", "graphcon-gcn"): (0.22, 0.004),
    ("zinc", "gat"): (0.46, 0.002), ("zinc", "graphcon-gat"): (0.23, 0.004),
    ("mnist-superpixels", "gcn"): (88.89, None), ("mnist-superpixels", "graphcon-gcn"): (98.68, None),
    ("mnist-superpixels", "gat"): (96.19, None), ("mnist-superpixels", "graphcon-gat"): (98.91, None),
    ("mnist-superpixels", "graphcon-gin"): (98.53, None), ("mnist-superpixels", "graphcon-gatedgcn"): (98.27, None),
    ("ppi", "gcn"): (98.5, None), ("ppi", "graphcon-gcn"): (99.6, None),
    ("ppi", "gat"): (97.3, None), ("ppi", "graphcon-gat"): (99.4, None),
}


@dataclass(frozen=True)
class GraphSettings:
    """Model and training hyperparameters of one (dataset, model) pair.

    ``hidden`` is the width, ``layers`` the depth N (GraphCON: N steps of eq. (4) with Δt = ``step_size``),
    ``activation`` GraphCON's σ ("relu", "elu", "identity"; empty for the model's own, ReLU), ``pool`` PyG's global
    "add" or "mean" pooling, ``readout_layers`` the MLP after pooling. ``plateau`` halves the learning rate after
    ``plateau_patience`` epochs without a lower validation loss and stops below ``min_lr``.
    ``train_graphs``/``val_graphs``/``test_graphs`` > 0 use that many graphs of the split (a fixed random subset),
    0 all of them.
    """

    hidden: int = 64
    layers: int = 4
    lr: float = 1e-3
    weight_decay: float = 0.0
    dropout: float = 0.0
    input_dropout: float = 0.0
    step_dropout: float = 0.0
    alpha: float = 1.0
    gamma: float = 1.0
    step_size: float = 1.0
    heads: int = 1
    activation: str = ""
    pool: str = "add"
    readout_layers: int = 2
    batch_size: int = 128
    epochs: int = 100
    plateau: bool = True
    plateau_factor: float = 0.5
    plateau_patience: int = 10
    min_lr: float = 1e-5
    method: str = "imex"
    backward: str = "backprop"
    train_graphs: int = 0
    val_graphs: int = 0
    test_graphs: int = 0
    source: str = CHOSEN

    def key(self) -> str:
        """The run-record key of these settings (:func:`experiments.harness.settings_key`)."""
        return settings_key(self)


# Table 4 / hyperparameters.md: ZINC GraphCON-GCN (nhid 220, 22 layers, add pool, batch 128, ≤ 3000 epochs, LR on
# plateau); GraphCON-GAT with Table 9's α, γ at the same size. Baselines: 4 layers near the 100k budget.
_ZINC_GRAPHCON_GCN = GraphSettings(hidden=220, layers=22, alpha=0.215, gamma=1.115, lr=0.00159, batch_size=128,
                                   epochs=3000, pool="add", source=PUBLISHED)
_ZINC = {
    "graphcon-gcn": _ZINC_GRAPHCON_GCN,
    "graphcon-gat": dataclasses.replace(_ZINC_GRAPHCON_GCN, alpha=1.475, gamma=1.324, activation="elu",
                                        source="Table 9's α, γ, ELU as in the authors' GraphCON-GAT; other "
                                        "settings those of GraphCON-GCN"),
    "gcn": GraphSettings(hidden=145, layers=4, lr=1e-3, epochs=3000, pool="add", source=CHOSEN),
    "gat": GraphSettings(hidden=145, layers=4, lr=1e-3, epochs=3000, pool="add", source=CHOSEN),
}
# Table 5 / hyperparameters.md: the published best parameters (GCN: lr, α, γ, layers, dropout; GAT: also nhid 256,
# 4 heads, batch 32), mean pooling as in the benchmark.
_MNIST_GRAPHCON_GCN = GraphSettings(hidden=256, layers=10, alpha=1.396, gamma=0.841, lr=0.00116, dropout=0.0142,
                                    batch_size=32, epochs=1000, pool="mean",
                                    source="the authors' published settings (hidden and batch of GraphCON-GAT)")
_MNIST = {
    "graphcon-gcn": _MNIST_GRAPHCON_GCN,
    "graphcon-gat": GraphSettings(hidden=256, heads=4, layers=14, alpha=0.972, gamma=0.348, lr=0.00028,
                                  dropout=0.04, batch_size=32, epochs=1000, pool="mean", activation="elu",
                                  source=PUBLISHED),
    "graphcon-gin": dataclasses.replace(_MNIST_GRAPHCON_GCN, source="GraphCON-GCN's settings " + CHOSEN),
    "graphcon-gatedgcn": dataclasses.replace(_MNIST_GRAPHCON_GCN, source="GraphCON-GCN's settings " + CHOSEN),
    "graphcon-sage": dataclasses.replace(_MNIST_GRAPHCON_GCN, source="GraphCON-GCN's settings " + CHOSEN),
    "gcn": GraphSettings(hidden=146, layers=4, lr=1e-3, batch_size=128, epochs=1000, pool="mean"),
    "gat": GraphSettings(hidden=146, layers=4, lr=1e-3, batch_size=128, epochs=1000, pool="mean"),
}
# PPI (Table 3): only α, γ are published (Table 9); the rest is chosen here (3-layer 4-head GAT as in its paper).
_PPI = {
    "graphcon-gcn": GraphSettings(hidden=256, layers=8, alpha=0.242, gamma=1.0, lr=0.005, batch_size=2, epochs=300,
                                  plateau=False, source="Table 9's α, γ; the rest " + CHOSEN),
    "graphcon-gat": GraphSettings(hidden=256, heads=4, layers=8, alpha=0.785, gamma=1.0, lr=0.005, batch_size=2,
                                  epochs=300, plateau=False, activation="elu",
                                  source="Table 9's α, γ; the rest " + CHOSEN),
    "gcn": GraphSettings(hidden=256, layers=3, lr=0.005, batch_size=2, epochs=300, plateau=False),
    "gat": GraphSettings(hidden=256, heads=4, layers=3, lr=0.005, batch_size=2, epochs=300, plateau=False),
}
SETTINGS: dict[tuple[str, str], GraphSettings] = {
    **{(d, m): s for d in ("zinc", "zinc-moses") for m, s in _ZINC.items()},
    **{(d, m): s for d in ("mnist-superpixels", "mnist5k-superpixels") for m, s in _MNIST.items()},
    **{("ppi", m): s for m, s in _PPI.items()},
}
QUICK = {"epochs": 1, "train_graphs": 64, "val_graphs": 32, "test_graphs": 32}
QUICK_PPI = {"epochs": 1, "train_graphs": 2, "val_graphs": 1, "test_graphs": 1}


def settings_for(dataset: str, model: str, overrides: dict[str, Any] | None = None) -> GraphSettings:
    """The default settings of (dataset, model) with ``overrides`` (field → value) applied."""
    if (dataset, model) not in SETTINGS:
        raise ValueError(f"model: no settings for {model!r} on {dataset!r}")
    base = SETTINGS[dataset, model]
    if not overrides:
        return base
    return dataclasses.replace(base, source=base.source + "; overridden on the command line", **overrides)


def quick_overrides(args: argparse.Namespace, dataset: str) -> dict[str, Any]:
    """The settings ``--quick`` sets where the command line does not: one epoch on a few graphs of every split."""
    if not args.quick:
        return {}
    sizes = QUICK_PPI if DATASETS[dataset].level == "node" else QUICK
    return {name: value for name, value in sizes.items() if not given(args, name)}


EDGE_EMBEDDING = 16  # the size of learned bond-type vectors (GraphCON-GatedGCN only)


@dataclass
class GraphTask:
    """A dataset's three splits, ready for PyG's ``DataLoader``.

    Integer node features (one atom type per node) are embedded by the models (``atom_vocabulary`` types),
    float ones go through a linear encoder (``in_channels`` of them); integer edge features are bond types
    (``edge_vocabulary``), embedded into R^``edge_dim`` by GraphCON-GatedGCN.
    """

    dataset: str
    train: list[Data]
    val: list[Data]
    test: list[Data]
    in_channels: int
    out_channels: int
    atom_vocabulary: int | None = None
    edge_dim: int | None = None
    edge_vocabulary: int | None = None

    @property
    def info(self) -> DatasetInfo:
        return DATASETS[self.dataset]


def _subset(split: Any, count: int) -> list[Data]:
    """``count`` graphs of ``split`` drawn by a fixed seed (all of them, in order, when ``count`` is 0)."""
    size = len(split)
    if count <= 0 or count >= size:
        return [split[i] for i in range(size)]
    order = torch.randperm(size, generator=torch.Generator().manual_seed(0))[:count].sort().values
    return [split[int(i)] for i in order]


def load_graph_task(dataset: str, data_root: str | None, settings: GraphSettings) -> GraphTask:
    """The dataset's splits, each the subset ``settings`` asks for.

    Raises:
        MissingDatasetError: the dataset's raw files are not under the data root.
    """
    data = load_graph_dataset(dataset, data_root)
    train, val, test = (_subset(part, count) for part, count in zip(
        (data.train, data.val, data.test), (settings.train_graphs, settings.val_graphs, settings.test_graphs)))
    edge_dim = None if data.edge_vocabulary is None else EDGE_EMBEDDING
    return GraphTask(dataset, train, val, test, data.num_features, data.num_classes, data.atom_vocabulary,
                     edge_dim, data.edge_vocabulary)


def build_model(model: str, settings: GraphSettings, task: GraphTask) -> nn.Module:
    """The network ``model`` (:mod:`graphcon_ode.models.names`) for ``task``: graph-level models, or node models
    on PPI."""
    s = settings
    if s.activation and s.activation not in ACTIVATIONS:
        raise ValueError(f"activation: unknown activation {s.activation!r}; known: {', '.join(ACTIVATIONS)}")
    common = {"num_layers": s.layers, "step_size": s.step_size, "alpha": s.alpha, "gamma": s.gamma,
              "heads": s.heads, "dropout": s.dropout, "input_dropout": s.input_dropout,
              "step_dropout": s.step_dropout, "method": s.method, "backward": s.backward,
              **({"activation": ACTIVATIONS[s.activation]} if s.activation else {})}
    if task.info.level == "node":
        return names.build_model(model, task.in_channels, s.hidden, task.out_channels, table="node", **common)
    edges = ({"edge_dim": task.edge_dim, "edge_vocabulary": task.edge_vocabulary}
             if uses_edge_features(model, task) else {})
    return names.build_model(model, task.in_channels, s.hidden, task.out_channels, table="graph", pool=s.pool,
                             readout_layers=s.readout_layers, atom_vocabulary=task.atom_vocabulary, **edges,
                             **common)


def uses_edge_features(model: str, task: GraphTask) -> bool:
    """Only GraphCON-GatedGCN reads edge features, where the dataset has them (the paper's ZINC runs use none)."""
    return model == "graphcon-gatedgcn" and task.edge_dim is not None


def train_model(task: GraphTask, model: str, settings: GraphSettings, seed: int) -> tuple[nn.Module, Any, float]:
    """Train ``model`` from seed ``seed``: the network (weights of the selected epoch), the fit result, seconds."""
    torch.manual_seed(seed)
    net = build_model(model, settings, task)
    s = settings
    plateau = Plateau(s.plateau_factor, s.plateau_patience, s.min_lr) if s.plateau else None
    start = time.perf_counter()
    result = fit_graph_model(
        net, DataLoader(task.train, s.batch_size, shuffle=True), DataLoader(task.val, s.batch_size),
        DataLoader(task.test, s.batch_size), task=task.info.task, level=task.info.level,
        edge_attr=uses_edge_features(model, task), epochs=s.epochs, lr=s.lr,
        weight_decay=s.weight_decay, plateau=plateau, progress=f"{task.dataset} {model} N={s.layers} seed {seed}")
    return net, result, time.perf_counter() - start


def run_key(dataset: str, model: str, settings: GraphSettings, seed: int) -> str:
    return f"{dataset}/{model}/{settings.key()}/seed{seed}"


def mean_predictor_mae(task: GraphTask) -> dict[str, float]:
    """The validation and test MAE of predicting the training targets' mean for every graph, the scale a
    regression run's MAE is judged against (:data:`DIVERGED`)."""
    mean = torch.cat([graph.y.reshape(-1).double() for graph in task.train]).mean()
    return {split: float(torch.cat([graph.y.reshape(-1).double() for graph in graphs]).sub(mean).abs().mean())
            for split, graphs in (("val", task.val), ("test", task.test))}


def diverged(record: dict[str, Any]) -> bool:
    """Whether the run ``record`` diverged (:data:`DIVERGED`); a record without the mean predictor's MAE (one
    written before it was kept) is judged on finiteness alone."""
    values = [record["train"], record["val"], record["test"], record.get("val_loss", 0.0)]
    if not all(math.isfinite(v) for v in values):
        return True
    baseline = record.get("mean_predictor_mae")
    return baseline is not None and any(record[split] > DIVERGED_FACTOR * baseline[split] for split in baseline)


def train_once(task: GraphTask, model: str, settings: GraphSettings, seed: int) -> dict[str, Any]:
    """One training run's record, with whether it :func:`diverged`."""
    net, result, seconds = train_model(task, model, settings, seed)
    record = {
        "dataset": task.dataset, "model": model, "seed": seed, "settings": settings.key(),
        "hyperparameters": dataclasses.asdict(settings), "metric": result.metric,
        "test": result.test_score, "val": result.val_score, "train": result.train_score,
        "val_loss": result.val_loss,
        "best_epoch": result.best_epoch, "epochs_run": result.epochs_run, "final_lr": result.final_lr,
        "parameters": sum(p.numel() for p in net.parameters()), "seconds": round(seconds, 2),
        "graphs": [len(task.train), len(task.val), len(task.test)],
    }
    if task.info.task == "regression":
        record["mean_predictor_mae"] = mean_predictor_mae(task)
    return {**record, "diverged": diverged(record), "diverged_rule": DIVERGED}


def sweep(store: RunStore, data_root: str | None, jobs: list[tuple[str, str, GraphSettings, int]], desc: str) -> None:
    """Run the (dataset, model, settings, seed) jobs not yet in ``store``, recording each as it finishes; the
    splits are loaded once per distinct subset."""
    pending = [job for job in jobs if not store.done(run_key(*job))]
    tasks: dict[tuple, GraphTask] = {}
    for dataset, _, settings, _ in pending:  # a missing dataset stops the sweep before any run
        subset = _subset_key(dataset, settings)
        if subset not in tasks:
            tasks[subset] = load_graph_task(dataset, data_root, settings)
    for dataset, model, settings, seed in progress(pending, desc, done=len(jobs) - len(pending)):
        # the load is read before the run starts (a dict display evaluates in order)
        store.record(run_key(dataset, model, settings, seed),
                     {"load": machine_load(), "epoch_budget": settings.epochs,
                      **train_once(tasks[_subset_key(dataset, settings)], model, settings, seed)})


def _subset_key(dataset: str, settings: GraphSettings) -> tuple[str, int, int, int]:
    return dataset, settings.train_graphs, settings.val_graphs, settings.test_graphs


def scale(metric: str) -> float:
    """Accuracy and F1 are reported in %, MAE as is."""
    return 1.0 if metric == "mae" else 100.0


def paper_reference(dataset: str, model: str) -> dict[str, Any]:
    """The paper's number for (dataset, model) and the name of the dataset it was measured on, which for a
    stand-in says that it is a different dataset."""
    info = DATASETS[dataset]
    mean, std = PAPER.get((info.paper, model), (None, None))
    name = PAPER_NAMES[info.paper] + (" (a different dataset)" if info.stand_in_for else "")
    return {"paper_dataset": name if mean is not None else None, "paper_mean": mean, "paper_std": std}


def summary_row(store: RunStore, dataset: str, model: str, keys: list[str], **extra: Any) -> dict[str, Any]:
    """The result row of one cell: mean ± std of the test metric over the runs ``keys`` that did not diverge
    (:func:`diverged`; None where all did), their count under ``diverged``, the paper beside it."""
    records = [store.records[key] for key in keys]
    metric = records[0]["metric"]
    kept = [r for r in records if not r.get("diverged", diverged(r))]
    mean = std = val_mean = within = None
    if kept:
        mean, std = mean_std([scale(metric) * r["test"] for r in kept])
        val_mean, _ = mean_std([scale(metric) * r["val"] for r in kept])
    reference = paper_reference(dataset, model)
    if mean is not None and reference["paper_std"] and not DATASETS[dataset].stand_in_for:
        within = abs(mean - reference["paper_mean"]) <= reference["paper_std"]
    return {"dataset": dataset, "model": model, "metric": metric, "mean": mean, "std": std, "runs": len(keys),
            "diverged": len(records) - len(kept), **reference, "within_paper_std": within, "val_mean": val_mean,
            "parameters": records[0]["parameters"], "epochs_run": max(r["epochs_run"] for r in records), **extra}


COLUMNS = ["dataset", "model", "metric", "layers", "mean", "std", "runs", "diverged", "parameters", "paper_dataset",
           "paper_mean", "paper_std", "settings"]


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`GraphSettings` field (``--hidden``, ``--train-graphs``, …) to override defaults."""
    harness.add_settings_arguments(parser, GraphSettings, "model", {"pool": POOLS})


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`GraphSettings` fields given on the command line."""
    return harness.overrides_from(args, GraphSettings)


LOWEST = {"seeds": 1, "batch_size": 1, "readout_layers": 1, "plateau_patience": 0, "train_graphs": 0,
          "val_graphs": 0, "test_graphs": 0}


def check_arguments(args: argparse.Namespace) -> None:
    """:class:`UsageError` naming a graph-experiment option out of its range (the CLI's shared rules check the
    options common to all verbs)."""
    for dest, lowest in LOWEST.items():
        value = getattr(args, dest, None)
        if value is not None and value < lowest:
            raise UsageError(f"--{dest.replace('_', '-')}: must be an integer >= {lowest}, got {value}")
    factor, min_lr, pool = (getattr(args, name, None) for name in ("plateau_factor", "min_lr", "pool"))
    if factor is not None and not 0 < factor < 1:
        raise UsageError(f"--plateau-factor: must lie in (0, 1), got {factor}")
    if min_lr is not None and not min_lr > 0:
        raise UsageError(f"--min-lr: must be > 0, got {min_lr}")
    if pool is not None and pool not in POOLS:
        raise UsageError(f"--pool: unknown pooling {pool!r}; known: {', '.join(POOLS)}")
    datasets = getattr(args, "dataset", None)
    for dataset in [datasets] if isinstance(datasets, str) else datasets or []:
        missing = [m for m in getattr(args, "model", None) or [] if (dataset, m) not in SETTINGS]
        if missing:
            known = [m for m in MODELS if (dataset, m) in SETTINGS]
            raise UsageError(f"--model: no settings for {', '.join(missing)} on {dataset}; the models with "
                             f"settings there: {', '.join(known)}")


def add_table_arguments(parser: argparse.ArgumentParser, default_out: str, datasets: tuple[str, ...],
                        models: tuple[str, ...]) -> None:
    """The options of a table verb: the common ones, ``--dataset``, ``--model``, ``--seeds`` and the settings."""
    add_common_arguments(parser, default_out)
    parser.add_argument("--dataset", default=datasets[0], choices=datasets,
                        help=f"dataset (default {datasets[0]})")
    parser.add_argument("--model", nargs="+", default=list(models), choices=MODELS,
                        help=f"models (default: {' '.join(models)})")
    parser.add_argument("--seeds", type=int, default=4,
                        help="initialisations per model, seeds SEED … SEED+n−1 (default 4, as in Table 4)")
    add_settings_arguments(parser)


def describe(settings: GraphSettings) -> str:
    fields = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(settings).items() if k != "source")
    return f"{fields} ({settings.source})"


def protocol_note(dataset: str, settings: GraphSettings, seeds: int) -> str:
    """How the numbers were measured, and what dataset the paper's numbers are on."""
    info = DATASETS[dataset]
    graphs = "/".join(str(n) if n else "all" for n in (settings.train_graphs, settings.val_graphs,
                                                        settings.test_graphs))
    note = (f"{dataset}: {seeds} initialisation(s); train/val/test graphs used: {graphs}; test "
            f"{TASKS[info.task].metric}{' in %' if info.task != 'regression' else ''} at the epoch of best "
            f"validation metric. Diverged runs: {DIVERGED}; they are counted under diverged and left out of mean "
            "and std.")
    if info.stand_in_for:
        note += (f" {dataset} is an offline stand-in, not {PAPER_NAMES[info.stand_in_for]}: the paper's numbers "
                 "beside it were measured on a different dataset and are not comparable one to one.")
    return note


def run_table(args: argparse.Namespace, title: str) -> int:
    """A table verb: every selected model on ``args.dataset`` over ``args.seeds`` seeds; results.json/md."""
    dataset = args.dataset
    overrides = {**overrides_from(args), **quick_overrides(args, dataset)}
    seeds = quick(args, "seeds", 1)
    models = [m for m in args.model if (dataset, m) in SETTINGS]
    cells = [(m, settings_for(dataset, m, overrides)) for m in models]
    store = RunStore(args.out)
    sweep(store, args.data_root, [(dataset, m, s, args.seed + i) for m, s in cells for i in range(seeds)], dataset)
    rows = [summary_row(store, dataset, m, [run_key(dataset, m, s, args.seed + i) for i in range(seeds)],
                        layers=s.layers, settings=s.key()) for m, s in cells]
    notes = [protocol_note(dataset, cells[0][1], seeds), ""]
    notes += [f"- {m} [{s.key()}]: {describe(s)}" for m, s in cells]
    write_results(args.out, rows, COLUMNS, title, "\n".join(notes))
    print(Path(args.out, "results.md").read_text())
    return 0
