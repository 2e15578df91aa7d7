"""``graphcon-ode solver-comparison``: what each method costs and how accurately it solves, on trained GraphCON models.

For every dataset (Cora on Table 1's protocol, Texas on the geom-gcn splits), model (GraphCON-GCN, GraphCON-GAT with
the settings of ``node-classification``: the authors' published ones where they exist, Δt = 1) and solver
configuration (a method; adaptive methods at each of ``--rtols``), a network is **trained with that method**, from
the same initial weights on the same split as every other configuration, and then measured:

- ``accuracy``: test accuracy at the selected epoch, solving with the method it was trained with;
- ``accuracy_reference``: the same weights, the ODE solved by the reference instead (does the trained network
  depend on its discretisation?);
- ``nfe_forward``, ``nfe_backward``: field evaluations (:class:`solvers.SolveStats`) of one forward and one
  backward pass on the trained weights (cross-entropy on the training nodes, no dropout); in the "backprop" mode
  the backward pass evaluates nothing (autograd replays the forward graph), so its cost follows ``nfe_forward``;
- ``seconds_per_epoch``: training wall time over the epochs run (one training step and one validation forward each);
- ``state_error``: ‖(X, Y)(T) − (X, Y)_ref(T)‖ / ‖(X, Y)_ref(T)‖ (Frobenius norms) with the trained weights, from
  the same X0 = Y0 (no dropout), both solves in float64; the reference is dopri8 at rtol = atol = ``--reference-rtol``,
  and ``reference_check`` is its distance to dopri8 at a ten times looser tolerance (state errors far below it are
  not resolved).

Settings common to every configuration, as decided here:

- every network is trained with the method it is measured with: a network adapts to the discretisation it was
  trained with (``accuracy_reference`` shows how much), so evaluating one imex-trained network with other methods
  would measure that mismatch rather than the methods;
- ``step_dropout = 0``: dropout on X and Y between steps (the authors' heterophilic models) is a regulariser of the
  layer stack, not part of the ODE, and an adaptive solver cannot apply it; so Texas runs differ from Table 2's;
- adaptive methods use atol = rtol (``--atol`` sets another): with a small fixed atol, the many exact zeros that
  ReLU leaves in X make dopri5 take far smaller steps.

Rows of ``results.json`` (one per dataset, model and configuration; over several splits accuracies are averaged and
every other figure is the median): dataset, model, method, rtol, atol, backward, nfe_forward, nfe_backward, steps,
seconds_per_epoch, accuracy, accuracy_std, accuracy_reference, state_error, reference_check, epochs, runs, status ("ok",
"diverged" when a loss or the final state is not finite, or "failed: <error>"). ``solver_comparison.png`` plots
accuracy and state error against the forward evaluations.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import math
import statistics
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from torch import Tensor

from experiments.harness import RunStore, add_common_arguments, progress
from experiments.node_experiment import (
    HETEROPHILIC,
    HOMOPHILIC,
    Settings,
    Task,
    load_task,
    run_key,
    settings_for,
    train_model,
)
from graphcon_ode import GraphCONNodeModel, known_methods
from graphcon_ode.cli.arguments import quick
from graphcon_ode.metrics import accuracy
from graphcon_ode.odeint import is_fixed_step
from graphcon_ode.results import write_png, write_results
from solvers import BACKWARD_MODES

DATASETS = ("cora", "texas")
MODELS = ("graphcon-gcn", "graphcon-gat")
METHODS = ("imex", "imex_implicit", "verlet", "euler", "rk4", "dopri5")
RTOLS = (1e-3, 1e-5, 1e-7)
REFERENCE = "dopri8"
QUICK_METHODS = ("imex", "verlet", "dopri5")
COLUMNS = ["dataset", "model", "method", "rtol", "backward", "nfe_forward", "nfe_backward", "seconds_per_epoch",
           "accuracy", "accuracy_reference", "state_error", "reference_check", "epochs", "runs", "status"]


def configurations(methods: list[str], rtols: list[float], backwards: list[str],
                   atol: float | None = None) -> list[dict[str, Any]]:
    """Settings overrides of every configuration: each method once if fixed-step, once per rtol if adaptive (with
    ``atol``, by default equal to rtol)."""
    configs = []
    for backward in backwards:
        for method in methods:
            for rtol in [None] if is_fixed_step(method) else rtols:
                config = {"method": method, "backward": backward, "step_dropout": 0.0}
                if rtol is not None:
                    config.update(rtol=rtol, atol=rtol if atol is None else atol)
                configs.append(config)
    return configs


def with_solver(net: GraphCONNodeModel, method: str, rtol: float, dtype: torch.dtype) -> GraphCONNodeModel:
    """A copy of ``net`` in ``dtype`` that solves with the adaptive ``method`` at rtol = atol = ``rtol``."""
    copied = copy.deepcopy(net).to(dtype).eval()
    block = copied.block
    block.method, block.options, block.rtol, block.atol = method, {}, rtol, rtol
    return copied


def relative_error(state: tuple[Tensor, Tensor], reference: tuple[Tensor, Tensor]) -> float:
    """‖state − reference‖ / ‖reference‖ over the pair (X, Y), Frobenius norms."""
    difference = sum(float((a - b).square().sum()) for a, b in zip(state, reference))
    return math.sqrt(difference / sum(float(b.square().sum()) for b in reference))


def measure(task: Task, net: GraphCONNodeModel, split: int, reference_rtol: float) -> dict[str, Any]:
    """NFE of one forward + backward pass, state error against the reference and the reference's accuracy."""
    data = task.data
    train, _, test = task.splits[split][1]
    net.eval()
    net.zero_grad()
    F.cross_entropy(net(data.x, data.edge_index)[train], data.y[train]).backward()
    stats = net.last_stats

    exact = copy.deepcopy(net).double().eval()
    reference = with_solver(net, REFERENCE, reference_rtol, torch.float64)
    looser = with_solver(net, REFERENCE, 10 * reference_rtol, torch.float64)
    x = data.x.double()
    with torch.no_grad():
        x0 = exact.encode(x)
        state = exact.solve(x0, data.edge_index)
        reference_state = reference.solve(x0, data.edge_index)
        reference_logits = reference.decoder(reference_state[0])
        looser_state = looser.solve(x0, data.edge_index)
    finite = all(bool(torch.isfinite(s).all()) for s in state)
    return {
        "nfe_forward": stats.nfe_forward, "nfe_backward": stats.nfe_backward, "steps": stats.steps,
        "state_error": relative_error(state, reference_state) if finite else None,
        "accuracy_reference": accuracy(reference_logits[test], data.y[test]),
        "reference_nfe": reference.last_stats.nfe_forward, "finite_state": finite,
        "reference_check": relative_error(looser_state, reference_state),
    }


def run_once(task: Task, model: str, settings: Settings, split: int, init_seed: int,
             reference_rtol: float) -> dict[str, Any]:
    """Train with ``settings``' method, then :func:`measure`; the run's record (failures are records too)."""
    record: dict[str, Any] = {"dataset": task.dataset, "model": model, "method": settings.method,
                              "rtol": None if is_fixed_step(settings.method) else settings.rtol,
                              "backward": settings.backward, "split": split, "init_seed": init_seed,
                              "settings": settings.key(), "hyperparameters": dataclasses.asdict(settings)}
    try:
        net, result, seconds = train_model(task, model, settings, split, init_seed)
        record.update(measure(task, net, split, reference_rtol))
    except (AssertionError, RuntimeError, ValueError) as error:  # torchdiffeq's step-size underflow is an assert
        return {**record, "status": f"failed: {type(error).__name__}: {error}"}
    diverged = not (math.isfinite(result.val_loss) and record.pop("finite_state"))
    return {**record, "status": "diverged" if diverged else "ok",
            "accuracy": None if diverged else result.test_score, "val_accuracy": result.val_score,
            "best_epoch": result.best_epoch, "epochs": result.epochs_run,
            "seconds_per_epoch": seconds / result.epochs_run}


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from the runs of a configuration: mean (and std) accuracy, the median of every other figure."""
    first = records[0]
    row = {key: first[key] for key in ("dataset", "model", "method", "rtol")}
    row["atol"] = None if first["rtol"] is None else first["hyperparameters"]["atol"]
    row["backward"] = first["backward"]

    def values(key: str) -> list[float]:
        return [r[key] for r in records if r.get(key) is not None]

    accuracies = values("accuracy")
    row["accuracy"] = statistics.fmean(accuracies) if accuracies else None
    row["accuracy_std"] = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0 if accuracies else None
    for key in ("accuracy_reference", "nfe_forward", "nfe_backward", "steps", "seconds_per_epoch", "state_error",
                "epochs", "reference_nfe", "reference_check"):
        found = values(key)
        row[key] = statistics.median(found) if found else None
    row["runs"] = len(records)
    bad = [r["status"] for r in records if r["status"] != "ok"]
    row["status"] = "ok" if not bad else "; ".join(f"{bad.count(s)}/{len(records)} {s}" for s in dict.fromkeys(bad))
    return row


def label(row: dict[str, Any]) -> str:
    name = row["method"] if row["rtol"] is None else f"{row['method']} {row['rtol']:.0e}"
    return name if row["backward"] == "backprop" else f"{name} ({row['backward']})"


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Accuracy (top) and state error (bottom) against forward evaluations, one column per dataset and model."""
    panels = list(dict.fromkeys((r["dataset"], r["model"]) for r in rows))
    labels = list(dict.fromkeys(label(r) for r in rows))
    colours = {name: f"C{i % 10}" for i, name in enumerate(labels)}
    markers = "osD^v<>phX*"
    fig = Figure(figsize=(3.2 * len(panels) + 1.8, 5.6), dpi=90)
    axes = fig.subplots(2, len(panels), squeeze=False)
    for column, (dataset, model) in enumerate(panels):
        top, bottom = axes[0][column], axes[1][column]
        for row in (r for r in rows if (r["dataset"], r["model"]) == (dataset, model) and r["nfe_forward"]):
            style = {"color": colours[label(row)], "marker": markers[labels.index(label(row)) % len(markers)],
                     "linestyle": "none", "label": label(row)}
            if row["accuracy"] is not None:
                top.plot(row["nfe_forward"], 100 * row["accuracy"], **style)
            if row["state_error"] is not None:
                bottom.plot(row["nfe_forward"], max(row["state_error"], 1e-16), **style)
        top.set_title(f"{dataset} / {model}", fontsize=10)
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # under two decades matplotlib labels minor ticks too
            ax.grid(alpha=0.3, which="both")
        bottom.set_yscale("log")
        bottom.set_xlabel("field evaluations, forward")
    axes[0][0].set_ylabel("test accuracy (%)")
    axes[1][0].set_ylabel(f"relative state error vs {REFERENCE}")
    handles = {h.get_label(): h for ax in axes.flat for h in ax.get_lines()}
    fig.legend(list(handles.values()), list(handles), loc="center right", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1 - 1.7 / fig.get_figwidth(), 1))
    write_png(path, fig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "results/solver_comparison")
    parser.add_argument("--dataset", nargs="+", default=list(DATASETS), choices=HOMOPHILIC + HETEROPHILIC,
                        help="node-classification sets to train on")
    parser.add_argument("--model", nargs="+", default=list(MODELS), choices=MODELS, help="GraphCON models to train")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=known_methods(),
                        help="methods to train with (default: %(default)s)")
    parser.add_argument("--rtols", type=float, nargs="+", default=list(RTOLS),
                        help="tolerances of the adaptive methods (default: %(default)s)")
    parser.add_argument("--atol", type=float, default=None,
                        help="atol of the adaptive methods (default: equal to each rtol)")
    parser.add_argument("--backward", nargs="+", default=["backprop"], choices=sorted(BACKWARD_MODES),
                        help="backward modes to train with (default: backprop)")
    parser.add_argument("--splits", type=int, default=1, help="splits (one initialisation each; default 1)")
    parser.add_argument("--epochs", type=int, default=None, help="override the settings' maximum number of epochs")
    parser.add_argument("--reference-rtol", type=float, default=1e-7,
                        help=f"rtol = atol of the {REFERENCE} reference solve (default 1e-7)")


def datasets(args: argparse.Namespace) -> list[str]:
    """The datasets the command reads (their raw files are checked before any run)."""
    return list(args.dataset)


def run(args: argparse.Namespace) -> int:
    methods = quick(args, "methods", [m for m in args.methods if m in QUICK_METHODS])
    rtols = quick(args, "rtols", args.rtols[:1])
    epochs = quick(args, "epochs", 3)
    reference_rtol = quick(args, "reference_rtol", max(args.reference_rtol, 1e-4))
    num_splits = quick(args, "splits", 1)
    configs = configurations(methods, rtols, args.backward, args.atol)
    store = RunStore(args.out)
    cells = []
    for dataset in args.dataset:
        task = load_task(dataset, args.data_root, num_splits, args.seed)
        first, jobs = len(cells), []
        for model in args.model:
            for config in configs:
                overrides = {**config, **({"epochs": epochs} if epochs else {})}
                settings = settings_for(dataset, model, overrides)
                keys = [run_key(dataset, model, settings, split, args.seed) for split in range(num_splits)]
                cells.append(keys)
                jobs += [(key, model, settings, split) for split, key in enumerate(keys) if not store.done(key)]
        done = sum(len(keys) for keys in cells[first:]) - len(jobs)
        for key, model, settings, split in progress(jobs, f"{dataset} solver comparison", done=done):
            store.record(key, run_once(task, model, settings, split, args.seed, reference_rtol))
    rows = [summarise([store.records[key] for key in keys]) for keys in cells]
    out = Path(args.out)
    plot(rows, out / "solver_comparison.png")
    notes = (f"Every row is a network trained with its own method (same initial weights and split for all rows of a "
             f"dataset and model), {num_splits} split(s), seed {args.seed}; settings of node-classification with "
             f"step_dropout = 0{f', at most {epochs} epochs' if epochs else ''}; adaptive methods at atol = "
             f"{'rtol' if args.atol is None else f'{args.atol:g}'}. "
             f"state_error: relative error of (X, Y)(T) against {REFERENCE} at rtol = atol = {reference_rtol:g} "
             f"with the same weights, in float64. accuracy_reference: the same weights solved by {REFERENCE}. "
             f"nfe_backward is 0 in the backprop mode (autograd replays the forward graph).")
    write_results(out, rows, COLUMNS, "Solver comparison on trained GraphCON models", notes)
    print((out / "results.md").read_text())
    return 0
