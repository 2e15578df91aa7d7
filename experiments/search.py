"""``graphcon-ode search``: an Optuna search of one model's settings on a heterophilous set, on validation only.

Every trial samples the settings of :class:`~experiments.heterophily.HeterophilySettings` from the model's space
(:func:`suggest`), trains on split 0 of the set (:func:`experiments.heterophily.train_once`) and is scored by its
best validation score (ROC AUC for the binary sets, accuracy otherwise); test scores are never read. Optuna's
``MedianPruner`` stops a trial whose validation curve falls below the median of the earlier trials at the same
epoch. The study lives in an SQLite file (``--storage``, default ``OUT/search.db``), so an interrupted search
resumes where it stopped: the same command runs only the trials still missing. ``OUT/search.json`` lists every
trial (its settings, state and validation score) and the chosen settings.

Search space of GraphCON (eq. (4)): the number of steps N ∈ {4, …, 32}, Δt, α and γ, the hidden width, the
dropout rates, the learning rate and weight decay, one weight set per step or one shared, and, for the "-sep"
couplings, the layer norm inside the force. The baselines and the tuned GNNs search their depth, width, dropout,
learning rate and weight decay, and the tuned GNNs their normalisation and residual.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import optuna

from experiments.harness import add_common_arguments
from experiments.heterophily import BINARY, GRAPHCON, HETEROPHILOUS, MODELS, TUNED, settings_for, train_once
from graphcon_ode.cli.arguments import UsageError, quick
from graphcon_ode.datasets import load_dataset
from graphcon_ode.results import write_atomic

SPLIT = 0
"""The split whose validation part scores every trial."""


def suggest(trial: optuna.Trial, model: str) -> dict[str, Any]:
    """The settings overrides of one trial of ``model`` (module docstring)."""
    common = {"hidden": trial.suggest_categorical("hidden", [32, 64, 128, 256]),
              "lr": trial.suggest_float("lr", 1e-4, 3e-2, log=True),
              "weight_decay": trial.suggest_float("weight_decay", 1e-7, 1e-3, log=True),
              "dropout": trial.suggest_float("dropout", 0.0, 0.7)}
    if model in GRAPHCON:
        found = {**common, "layers": trial.suggest_int("layers", 4, 32),
                 "step_size": trial.suggest_float("step_size", 0.1, 1.0),
                 "alpha": trial.suggest_float("alpha", 0.0, 2.0), "gamma": trial.suggest_float("gamma", 0.0, 2.0),
                 "step_dropout": trial.suggest_float("step_dropout", 0.0, 0.5),
                 "per_step": trial.suggest_categorical("per_step", [False, True])}
        if GRAPHCON[model].startswith("sep"):
            found["norm"] = trial.suggest_categorical("norm", [False, True])
        return found
    found = {**common, "layers": trial.suggest_int("layers", 1, 15)}
    if model in TUNED:
        found["normalisation"] = trial.suggest_categorical("normalisation", ["batch", "layer", "none"])
        found["residual"] = trial.suggest_categorical("residual", [False, True])
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "results/search")
    parser.add_argument("--dataset", default="minesweeper", choices=HETEROPHILOUS, metavar="DATASET",
                        help=f"the set searched on (default minesweeper; {', '.join(HETEROPHILOUS)})")
    parser.add_argument("--model", default="graphcon-sep", choices=MODELS, metavar="MODEL",
                        help=f"the model searched (default graphcon-sep; {', '.join(MODELS)})")
    parser.add_argument("--trials", type=int, default=20, help="trials the study should hold (default 20)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of every trial (default: the model's own setting)")
    parser.add_argument("--storage", default=None,
                        help="Optuna storage URL (default sqlite:///OUT/search.db); the same one resumes")


def check(args: argparse.Namespace) -> None:
    if args.trials < 1:
        raise UsageError(f"--trials: must be >= 1, got {args.trials}")


def datasets(args: argparse.Namespace) -> list[str]:
    """The dataset the command reads (its raw files are checked before any trial)."""
    return [args.dataset]


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trials = quick(args, "trials", 2)
    epochs = quick(args, "epochs", 2)
    storage = args.storage or f"sqlite:///{(out / 'search.db').resolve()}"
    data = load_dataset(args.dataset, args.data_root)
    fixed = {"epochs": epochs} if epochs is not None else {}

    def objective(trial: optuna.Trial) -> float:
        settings = settings_for(args.dataset, args.model, {**suggest(trial, args.model), **fixed})

        def watch(epoch: int, score: float) -> None:
            trial.report(score, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        record = train_once(args.dataset, data, args.model, settings, SPLIT, args.seed, quiet=True, watch=watch)
        trial.set_user_attr("best_epoch", record["best_epoch"])
        trial.set_user_attr("seconds", record["seconds"])
        return record["val"]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=f"{args.dataset}/{args.model}/seed{args.seed}", storage=storage,
                                load_if_exists=True, direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=10))
    # seeded by the trials already held, so that a resumed search does not draw its first trials again
    study.sampler = optuna.samplers.TPESampler(seed=args.seed + len(study.trials))
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    missing = trials - sum(t.state in finished for t in study.trials)
    if missing > 0:
        study.optimize(objective, n_trials=missing, catch=())
    summary = _summary(study, args, epochs)
    write_atomic(out / "search.json", json.dumps(summary, indent=2) + "\n")
    _print(summary)
    return 0


def _summary(study: optuna.Study, args: argparse.Namespace, epochs: int | None) -> dict[str, Any]:
    metric = "roc_auc" if args.dataset in BINARY else "accuracy"
    rows = [{"number": t.number, "state": t.state.name, "val": t.value, "params": t.params,
             "epochs_reported": len(t.intermediate_values), **t.user_attrs} for t in study.trials]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value) if complete else None
    chosen = None
    if best is not None:
        overrides = {**best.params, **({"epochs": epochs} if epochs is not None else {})}
        settings = settings_for(args.dataset, args.model, overrides)
        chosen = {"trial": best.number, "val": best.value, "params": best.params, "settings_key": settings.key(),
                  "settings": {k: v for k, v in dataclasses.asdict(settings).items() if k != "source"}}
    return {"dataset": args.dataset, "model": args.model, "split": SPLIT, "metric": metric, "seed": args.seed,
            "selection": f"validation {metric} of split {SPLIT} at its best epoch; test scores not read",
            "pruner": "MedianPruner(n_startup_trials=5, n_warmup_steps=10) on the per-epoch validation score",
            "study": study.study_name, "trials": rows, "chosen": chosen}


def _print(summary: dict[str, Any]) -> None:
    print(f"{summary['dataset']} / {summary['model']}: {len(summary['trials'])} trials, "
          f"validation {summary['metric']} of split {summary['split']}")
    for row in sorted(summary["trials"], key=lambda r: -(r["val"] if r["val"] is not None else -1.0)):
        value = "-" if row["val"] is None else f"{100 * row['val']:.2f}"
        print(f"  #{row['number']:<3} {row['state']:<8} {value:>6}  {json.dumps(row['params'], sort_keys=True)}")
    if summary["chosen"] is not None:
        print(f"chosen: trial #{summary['chosen']['trial']} [{summary['chosen']['settings_key']}]")
