"""``graphcon-ode graph-depth-sweep``: Tables 6 and 7, test metric of GCN and GraphCON-GCN (and GAT and
GraphCON-GAT) as the depth N grows, on molecules (MAE) and superpixel graphs (accuracy).

Every model keeps its dataset's default settings of ``graph-regression``/``graph-classification`` except the
depth: a plain GCN/GAT gets N message-passing layers (N weight matrices), GraphCON N steps of eq. (4) with one
shared coupling (Δt = 1, T = N). Default depths are the paper's: N = 5, 10, 15, 20 on molecules (Table 6) and
4, 8, 16, 32 on superpixels (Table 7). The defaults run on the offline stand-ins ``zinc-moses`` and
``mnist5k-superpixels``; Tables 6 and 7's numbers (ZINC and MNIST superpixels, GCN pair only) stand beside them as
the paper's results on a different dataset. ``change`` is a row's mean minus its model's mean at the smallest depth.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from experiments import graph_level
from experiments.harness import RunStore, add_common_arguments
from graphcon_ode.cli.arguments import quick
from graphcon_ode.results import write_results

DEPTHS = {"zinc": (5, 10, 15, 20), "mnist-superpixels": (4, 8, 16, 32)}
PAPER_DEPTH = {  # Tables 6 (MAE) and 7 (accuracy in %), one number per cell
    "zinc": {"graphcon-gcn": dict(zip(DEPTHS["zinc"], (0.241, 0.233, 0.228, 0.214))),
             "gcn": dict(zip(DEPTHS["zinc"], (0.442, 0.463, 0.478, 0.489)))},
    "mnist-superpixels": {"graphcon-gcn": dict(zip(DEPTHS["mnist-superpixels"], (97.78, 98.51, 98.55, 98.68))),
                          "gcn": dict(zip(DEPTHS["mnist-superpixels"], (88.09, 87.26, 86.78, 85.67)))},
}
MODELS = ("gcn", "graphcon-gcn", "gat", "graphcon-gat")
GRAPH_LEVEL = tuple(name for name, info in graph_level.DATASETS.items() if info.level == "graph")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "results/graph_depth_sweep")
    parser.add_argument("--dataset", nargs="+", default=["zinc-moses", "mnist5k-superpixels"], choices=GRAPH_LEVEL,
                        help="graph-level sets (the offline stand-ins by default)")
    parser.add_argument("--model", nargs="+", default=list(MODELS), choices=MODELS,
                        help="GraphCON models and their plain-GNN baselines")
    parser.add_argument("--depths", type=int, nargs="+", default=None,
                        help="numbers of layers N (default: Table 6's 5 10 15 20 on molecules, Table 7's "
                             "4 8 16 32 on superpixels)")
    parser.add_argument("--seeds", type=int, default=1, help="initialisations per cell (default 1)")
    graph_level.add_settings_arguments(parser)


def check(args: argparse.Namespace) -> None:
    graph_level.check_arguments(args)


def run(args: argparse.Namespace) -> int:
    store = RunStore(args.out)
    rows, notes = [], []
    seeds = quick(args, "seeds", 1)
    for dataset in args.dataset:
        paper = graph_level.DATASETS[dataset].paper
        depths = quick(args, "depths", [2, 4]) or list(DEPTHS[paper])
        given = {**graph_level.overrides_from(args), **graph_level.quick_overrides(args, dataset)}
        overrides = {k: v for k, v in given.items() if k != "layers"}
        cells = [(model, depth, graph_level.settings_for(dataset, model, {**overrides, "layers": depth}))
                 for model in args.model for depth in depths]
        jobs = [(dataset, m, s, args.seed + i) for m, _, s in cells for i in range(seeds)]
        graph_level.sweep(store, args.data_root, jobs, f"{dataset} depth sweep")
        shallowest: dict[str, float] = {}
        for model, depth, settings in cells:
            keys = [graph_level.run_key(dataset, model, settings, args.seed + i) for i in range(seeds)]
            row = graph_level.summary_row(store, dataset, model, keys, layers=depth, settings=settings.key())
            shallowest.setdefault(model, row["mean"])
            reference = graph_level.paper_reference(dataset, model)
            paper_cell = PAPER_DEPTH[paper].get(model, {}).get(depth)
            change = None if None in (row["mean"], shallowest[model]) else row["mean"] - shallowest[model]
            row.update(change=change, paper_mean=paper_cell, paper_std=None,
                       paper_dataset=(reference["paper_dataset"] or "") if paper_cell is not None else None)
            rows.append(row)
        notes.append("- " + graph_level.protocol_note(dataset, cells[0][2], seeds))
        notes += [f"  - {m} N={d} [{s.key()}]: " + ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(s).items())
                  for m, d, s in cells]
    write_results(args.out, rows, ["dataset", "model", "metric", "layers", "mean", "std", "change", "runs",
                                   "parameters", "paper_dataset", "paper_mean", "settings"],
                  "Graph-level depth sweep (Tables 6 and 7)", "\n".join(notes))
    print(Path(args.out, "results.md").read_text())
    return 0
