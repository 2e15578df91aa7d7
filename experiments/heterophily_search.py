"""The small hyperparameter search behind :data:`experiments.heterophily.SETTINGS`, on validation scores only.

Every candidate (a few overrides of :class:`~experiments.heterophily.HeterophilySettings`) is trained on the first
``--splits`` splits of the set; the candidate with the highest mean validation ROC AUC wins. Test scores are
recorded with the runs but never read here. Runs are kept in ``OUT/runs.json`` under the same keys as the
``node-classification`` verb uses, so a chosen candidate's runs count there too when ``--out`` is shared.

    python -m experiments.heterophily_search --dataset minesweeper --model graphcon-sep --splits 1
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from experiments.harness import RunStore, mean_std, progress
from experiments.heterophily import HETEROPHILOUS, run_key, settings_for, train_once
from graphcon_ode.datasets import load_dataset
from graphcon_ode.results import write_results

# The baselines vary their depth; GraphCON its depth N, the damping/frequency/step (α, γ, Δt) and the layer norm
# inside the force. With α = γ = Δt = 1, eq. (4) reduces to X^{n+1} = σ(F(X^n)), a plain stack without skip
# connections, so the candidates keep a velocity that carries over between steps (α = γ = 0, or Δt = 0.5).
_GRAPHCON_DYNAMICS = [{"alpha": 0.0, "gamma": 0.0, "step_size": 1.0}, {"alpha": 1.0, "gamma": 1.0, "step_size": 0.5}]
GRIDS: dict[str, list[dict[str, Any]]] = {
    "resnet": [{"layers": 2}],
    "gcn": [{"layers": 2}, {"layers": 4}],
    "sage": [{"layers": 2}, {"layers": 4}],
    "gat": [{"layers": 2}],
    "gat-sep": [{"layers": 2}],
    "graphcon-gcn": [{"layers": 4, **d} for d in _GRAPHCON_DYNAMICS],
    "graphcon-gat": [{"layers": 4, "heads": 1, **_GRAPHCON_DYNAMICS[0]}],
    "graphcon-sep": [{"layers": 4, **d} for d in _GRAPHCON_DYNAMICS] + [{"layers": 8, **_GRAPHCON_DYNAMICS[0]},
                                                                      {"layers": 4, "per_step": True,
                                                                       **_GRAPHCON_DYNAMICS[1]}],
    "graphcon-gat-sep": [{"layers": 4, "heads": 1, **_GRAPHCON_DYNAMICS[0]}],
}


def search(store: RunStore, dataset: str, model: str, data_root: str | None, splits: int, seed: int,
           common: dict[str, Any]) -> list[dict[str, Any]]:
    """Train every candidate of ``GRIDS[model]`` (with ``common`` overrides) on the first ``splits`` splits; one
    row per candidate with its mean validation score, best first."""
    data = load_dataset(dataset, data_root)
    rows = []
    for candidate in progress(GRIDS[model], f"{dataset} {model}"):
        overrides = {**common, **candidate}
        settings = settings_for(dataset, model, overrides)
        vals, seconds = [], 0.0
        for split in range(splits):
            key = run_key(dataset, model, settings, split, seed)
            if not store.done(key):
                store.record(key, train_once(dataset, data, model, settings, split, seed))
            vals.append(100 * store.records[key]["val"])
            seconds += store.records[key]["seconds"]
        rows.append({"dataset": dataset, "model": model, "candidate": json.dumps(overrides, sort_keys=True),
                     "settings": settings.key(), "val_mean": mean_std(vals)[0], "splits": splits,
                     "seconds": round(seconds, 1)})
    return sorted(rows, key=lambda row: -row["val_mean"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, choices=HETEROPHILOUS)
    parser.add_argument("--model", nargs="+", required=True, choices=tuple(GRIDS))
    parser.add_argument("--splits", type=int, default=1, help="search on the first SPLITS splits (default 1)")
    parser.add_argument("--epochs", type=int, default=None, help="override the epochs of every candidate")
    parser.add_argument("--lr", type=float, default=None, help="override the learning rate of every candidate")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", default="results/heterophily_search")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    store = RunStore(args.out)
    common = {name: getattr(args, name) for name in ("epochs", "lr") if getattr(args, name) is not None}
    rows = []
    for model in args.model:
        rows += search(store, args.dataset, model, args.data_root, args.splits, args.seed, common)
    write_results(args.out, rows, ["dataset", "model", "candidate", "settings", "val_mean", "splits", "seconds"],
                  f"Validation search on {args.dataset}", "Mean validation score (%) per candidate, best first.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
