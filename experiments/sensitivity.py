"""``graphcon-ode sensitivity``: Fig. 3, test accuracy of GraphCON-GCN as α or γ varies.

The paper sweeps GraphCON-GCN (32 layers) on MNIST superpixels, which is not available offline; this sweep runs on
a node-classification set that is (default Cora, Table 1 protocol): first γ fixed (``--fixed-gamma``) and α over
``--values``, then α fixed (``--fixed-alpha``) and γ over ``--values``; ``--splits`` × ``--inits`` runs per point.
All other settings are the dataset's GraphCON-GCN defaults of ``node-classification`` (override them with the
same options, e.g. ``--layers 32``). Writes ``DIR/sensitivity.png`` beside the results.
``--dataset mnist5k-superpixels`` (or ``mnist-superpixels``) runs the paper's own setting instead, on superpixel
graphs (:mod:`experiments.graph_sensitivity`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments import graph_sensitivity, node_experiment
from experiments.harness import RunStore, add_common_arguments
from experiments.sensitivity_figure import plot
from graphcon_ode.cli.arguments import given, quick
from graphcon_ode.results import write_results

VALUES = tuple(round(0.2 * i, 1) for i in range(11))
GRAPH_DATASETS = ("mnist5k-superpixels", "mnist-superpixels")
NODE_DATASETS = node_experiment.HOMOPHILIC + node_experiment.HETEROPHILIC


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "results/sensitivity")
    parser.add_argument("--dataset", default="cora", choices=NODE_DATASETS + GRAPH_DATASETS,
                        help="a node-classification set, or superpixel graphs for the paper's own setting")
    parser.add_argument("--values", type=float, nargs="+", default=list(VALUES),
                        help="values of the swept parameter (default 0, 0.2, …, 2)")
    parser.add_argument("--fixed-alpha", type=float, default=1.0, help="α while γ is swept (default 1)")
    parser.add_argument("--fixed-gamma", type=float, default=None,
                        help="γ while α is swept (default 1; 0.76 on superpixel graphs, as in Fig. 3)")
    parser.add_argument("--splits", type=int, default=2, help="splits per point (default 2)")
    parser.add_argument("--inits", type=int, default=1, help="initialisations per split (default 1)")
    node_experiment.add_settings_arguments(parser)
    graph_sensitivity.add_graph_arguments(parser)


def datasets(args: argparse.Namespace) -> list[str]:
    """The datasets the command reads (their raw files are checked before any run)."""
    if args.dataset in GRAPH_DATASETS:
        return []  # superpixel graphs: load_graph_dataset checks their raw files
    return [args.dataset]


def run(args: argparse.Namespace) -> int:
    if args.dataset in GRAPH_DATASETS:
        return graph_sensitivity.run(args)
    fixed_gamma = 1.0 if args.fixed_gamma is None else args.fixed_gamma
    values = quick(args, "values", [0.0, 1.0])
    num_splits, num_inits = quick(args, "splits", 1), quick(args, "inits", 1)
    overrides = {k: v for k, v in node_experiment.overrides_from(args).items() if k not in ("alpha", "gamma")}
    if args.quick and not given(args, "epochs"):
        overrides["epochs"] = 3
    task = node_experiment.load_task(args.dataset, args.data_root, num_splits, args.seed)
    store = RunStore(args.out)
    points = [("alpha", {"alpha": v, "gamma": fixed_gamma}) for v in values]
    points += [("gamma", {"alpha": args.fixed_alpha, "gamma": v}) for v in values]
    cells = [(swept, node_experiment.settings_for(args.dataset, "graphcon-gcn", {**overrides, **coefficients}))
             for swept, coefficients in points]
    runs = list(node_experiment.grid(num_splits, num_inits, args.seed))
    jobs = [("graphcon-gcn", s, split, init) for _, s in cells for split, init in runs]
    node_experiment.sweep(store, task, jobs, "sensitivity")
    rows = []
    for swept, settings in cells:
        keys = [node_experiment.run_key(args.dataset, "graphcon-gcn", settings, split, init) for split, init in runs]
        row = node_experiment.summary_row(store, args.dataset, "graphcon-gcn", keys, swept=swept, alpha=settings.alpha,
                          gamma=settings.gamma, layers=settings.layers, settings=settings.key())
        row.update(paper_mean=None, paper_std=None, within_paper_std=None)
        rows.append(row)
    out = Path(args.out)
    plot(rows, out / "sensitivity.png", args.dataset)
    write_results(out, rows, ["swept", "alpha", "gamma", "layers", "mean", "std", "runs"],
                  f"Sensitivity of GraphCON-GCN to α and γ on {args.dataset} (Fig. 3)",
                  f"{num_splits} split(s) × {num_inits} initialisation(s) per point, base seed {args.seed}. The "
                  "paper's Fig. 3 is on MNIST superpixels (not available offline), so no paper numbers are "
                  "beside these.")
    print((out / "results.md").read_text())
    return 0
