"""``graphcon-ode node-classification``: the paper's Table 1 (homophilic) and Table 2 (heterophilic).

The settings, models, tasks and the resumable sweep are the shared node-experiment setup
(:mod:`experiments.node_experiment`, whose protocols this verb follows); this module is the verb: its options,
the sweep over the selected datasets and models, and the table. The heterophilous sets of Platonov et al. (2023)
(minesweeper, tolokers, …) run through :mod:`experiments.heterophily`: their own 10 splits, ROC AUC for the binary
ones.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from experiments import heterophily
from experiments.harness import RunStore, add_common_arguments, sweep_bar
from experiments.node_experiment import (
    HETEROPHILIC,
    HOMOPHILIC,
    MODELS,
    SETTINGS,
    Settings,
    add_settings_arguments,
    grid,
    load_task,
    overrides_from,
    run_key,
    settings_for,
    summary_row,
    sweep,
)
from graphcon_ode.cli.arguments import UsageError, given, quick
from graphcon_ode.datasets import GEOM_GCN_SPLITS
from graphcon_ode.results import write_results

COLUMNS = ["dataset", "model", "metric", "mean", "std", "runs", "paper_mean", "paper_std", "within_paper_std",
           "settings"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "results/node_classification")
    parser.add_argument("--dataset", nargs="+", default=["cora"],
                        choices=HOMOPHILIC + HETEROPHILIC + heterophily.HETEROPHILOUS, metavar="DATASET",
                        help="datasets: Table 1's homophilic, Table 2's heterophilic or Platonov et al.'s "
                             f"heterophilous sets ({', '.join(HOMOPHILIC + HETEROPHILIC + heterophily.HETEROPHILOUS)})")
    parser.add_argument("--model", nargs="+", default=["graphcon-gcn"],
                        choices=MODELS + tuple(m for m in heterophily.MODELS if m not in MODELS), metavar="MODEL",
                        help="models: " + ", ".join(MODELS + tuple(m for m in heterophily.MODELS if m not in MODELS)))
    parser.add_argument("--splits", type=int, default=None,
                        help="number of splits (default: 5 random splits for Table 1, the 10 geom-gcn splits for "
                             "Table 2)")
    parser.add_argument("--inits", type=int, default=None,
                        help="random initialisations per split (default: 20 for Table 1, 1 for Table 2)")
    add_settings_arguments(parser)
    heterophily.add_arguments(parser)


def datasets(args: argparse.Namespace) -> list[str]:
    """The datasets the command reads (their raw files are checked before any run)."""
    return list(args.dataset)


def check(args: argparse.Namespace) -> None:
    splits = quick(args, "splits", 1)
    if splits is not None and any(d in HETEROPHILIC for d in args.dataset) and splits > GEOM_GCN_SPLITS:
        raise UsageError(f"--splits: the geom-gcn datasets have {GEOM_GCN_SPLITS} splits, got {splits}")


def run(args: argparse.Namespace) -> int:
    store = RunStore(args.out)
    overrides = overrides_from(args)
    if args.quick and not given(args, "epochs"):
        overrides["epochs"] = 3
    rows, notes, plan = [], [], []
    for dataset in args.dataset:
        if dataset in heterophily.HETEROPHILOUS:
            found, described = heterophily.run_dataset(
                store, dataset, [m for m in args.model if m in heterophily.MODELS], args.data_root,
                quick(args, "splits", 1) or heterophily.SPLITS, args.seed,
                {**overrides, **heterophily.extra_overrides(args)})
            rows, notes = rows + found, notes + described
            continue
        homophilic = dataset in HOMOPHILIC
        num_splits = quick(args, "splits", 1) or (5 if homophilic else 10)
        num_inits = quick(args, "inits", 1) or (20 if homophilic else 1)
        models = [m for m in args.model if (dataset, m) in SETTINGS]
        jobs = [(m, settings_for(dataset, m, overrides), split, init)
                for m in models for split, init in grid(num_splits, num_inits, args.seed)]
        plan.append((dataset, num_splits, num_inits, models, jobs))
    total = sum(len(jobs) for *_, jobs in plan)
    done = sum(store.done(run_key(dataset, *job)) for dataset, *_, jobs in plan for job in jobs)
    bar = sweep_bar(total, done, "node classification")
    for dataset, num_splits, num_inits, models, jobs in plan:
        task = load_task(dataset, args.data_root, num_splits, args.seed)
        sweep(store, task, jobs, dataset, bar)
        for model in models:
            settings = settings_for(dataset, model, overrides)
            keys = [run_key(dataset, model, settings, split, init) for split, init in grid(num_splits, num_inits,
                                                                                              args.seed)]
            rows.append(summary_row(store, dataset, model, keys, settings=settings.key()))
            notes.append(f"- {dataset} / {model} [{settings.key()}]: {_describe(settings)}")
        notes.append(f"- {dataset}: {num_splits} split(s) × {num_inits} initialisation(s), base seed {args.seed}")
    protocol = ("Table 1 sets: largest connected component, random splits (1500 development nodes, 20 per class "
                "train), test accuracy at the best validation accuracy. Table 2 sets: the 10 geom-gcn splits, "
                "early stopping on the validation loss (patience 100, at most 1500 epochs), test accuracy at the "
                "lowest validation loss.")
    bar.close()
    write_results(args.out, rows, COLUMNS, "Node classification (Tables 1 and 2)",
                  protocol + "\n\n" + "\n".join(notes))
    print(Path(args.out, "results.md").read_text())
    return 0


def _describe(settings: Settings) -> str:
    fields = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(settings).items() if k != "source")
    return f"{fields} ({settings.source})"
