"""``graphcon-ode depth-sweep``: Table 8, Cora test accuracy of GraphCON-GCN and GCN+DropEdge at N = 2 … 64 layers.

Both models run on Table 1's protocol (largest connected component, random splits with 20 training nodes per
class, as the authors' depth configuration does); ``--splits`` × ``--inits`` runs per depth (default 5 × 1).
GraphCON-GCN takes Table 1's Cora settings with N steps of eq. (4) of one ODE on [0, T]: Δt = min(1, T/N) with
T = ``--horizon`` (default 4), so a deeper network takes finer steps rather than more unit steps, trained for
``DEPTH_EPOCHS`` epochs (at α = γ = Δt = 1, eq. (4) drops the velocity, X^n = σ(F(X^{n−1})), and is a deep GCN that
oversmooths: 20 % at N = 64; ``--horizon 0`` keeps Δt from the settings). GCN+DropEdge is an N-layer
GCN whose graph loses a fraction ``--drop-edge-rate`` of its edges at every training step (Rong et al., 2020).
The paper's GCN+DropEdge row is copied from the DropEdge authors' results (public Planetoid split), not rerun by
the GraphCON authors.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from experiments import node_experiment
from experiments.grand_depth import PROTOCOLS, run_fixed, run_sweep, write_grand_results
from experiments.harness import RunStore, add_common_arguments
from graphcon_ode.cli.arguments import UsageError, given, quick
from graphcon_ode.results import write_results

DEPTHS = (2, 4, 8, 16, 32, 64)
HORIZON = 4.0
DEPTH_EPOCHS = 500  # the best validation epoch of every depth lies before the last tenth of this budget
PAPER_TABLE8 = {
    "graphcon-gcn": dict(zip(DEPTHS, (82.20, 82.78, 83.53, 84.85, 82.95, 82.12))),
    "gcn-dropedge": dict(zip(DEPTHS, (82.80, 82.00, 75.80, 75.70, 62.50, 49.50))),
}
MODELS = {"graphcon-gcn": "graphcon-gcn", "gcn-dropedge": "gcn"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "results/depth_sweep")
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS), help="numbers of layers N")
    parser.add_argument("--model", nargs="+", default=list(MODELS), choices=list(MODELS),
                        help="GraphCON-GCN and/or the GCN+DropEdge baseline")
    parser.add_argument("--splits", type=int, default=5, help="random splits per depth (default 5)")
    parser.add_argument("--inits", type=int, default=1, help="initialisations per split (default 1)")
    parser.add_argument("--drop-edge-rate", type=float, default=0.3,
                        help="fraction of edges DropEdge removes per step (default 0.3)")
    parser.add_argument("--horizon", type=float, default=HORIZON,
                        help="GraphCON-GCN: the end time T of the solve; the step is then Δt = min(1, T/N), so "
                             "deeper networks take finer steps of one ODE instead of more unit steps; 0 (or a "
                             f"given --step-size) keeps Δt from the settings (default {HORIZON:g})")
    node_experiment.add_settings_arguments(parser)
    parser.add_argument("--grand", nargs="+", default=[], choices=PROTOCOLS,
                        help="official and/or faithful: instead of the models above, the authors' depth-study "
                             "network graphcon-grand with their random search, scored by their 3T per-step "
                             "evaluation or by the N-step output (experiments/grand_depth.py)")
    parser.add_argument("--draws", type=int, default=10,
                        help="official/faithful: random-search draws per depth (default 10)")
    parser.add_argument("--grand-fixed", action="store_true",
                        help="official/faithful: the authors' Cora settings at every depth instead of a search")
    parser.add_argument("--grand-splits", type=int, default=2,
                        help="official/faithful: splits per draw (default 2, as the authors' sweep)")


def datasets(args: argparse.Namespace) -> list[str]:
    """The datasets the command reads (their raw files are checked before any run)."""
    return ["cora"]


def check(args: argparse.Namespace) -> None:
    if given(args, "horizon") and args.horizon and args.step_size is not None:
        raise UsageError("--horizon: sets the step size from the depth (Δt = min(1, T/N)); give it or --step-size, "
                         "not both")


def run(args: argparse.Namespace) -> int:
    if args.grand:
        rows = (run_fixed if args.grand_fixed else run_sweep)(args, args.grand)
        write_grand_results(args, rows, PAPER_TABLE8["graphcon-gcn"])
        return 0
    depths = quick(args, "depths", [2, 4])
    num_splits, num_inits = quick(args, "splits", 1), quick(args, "inits", 1)
    overrides = {k: v for k, v in node_experiment.overrides_from(args).items() if k != "layers"}
    if args.quick and not given(args, "epochs"):
        overrides["epochs"] = 3
    task = node_experiment.load_task("cora", args.data_root, num_splits, args.seed)
    store = RunStore(args.out)
    cells = []
    for name in args.model:
        model = MODELS[name]
        extra = {"drop_edge": args.drop_edge_rate} if name == "gcn-dropedge" else {}
        for depth in depths:
            if name == "graphcon-gcn":
                horizon = args.horizon if "step_size" not in overrides else 0.0
                extra = {"step_size": min(1.0, horizon / depth)} if horizon else {}
                extra.update({} if "epochs" in overrides else {"epochs": DEPTH_EPOCHS})
            settings = node_experiment.settings_for("cora", model, {**overrides, **extra, "layers": depth})
            cells.append((name, model, depth, settings))
    jobs = [(model, settings, split, init) for _, model, _, settings in cells
            for split, init in node_experiment.grid(num_splits, num_inits, args.seed)]
    node_experiment.sweep(store, task, jobs, "depth sweep")
    rows = []
    for name, model, depth, settings in cells:
        runs = node_experiment.grid(num_splits, num_inits, args.seed)
        keys = [node_experiment.run_key("cora", model, settings, split, init) for split, init in runs]
        row = node_experiment.summary_row(store, "cora", model, keys, layers=depth, settings=settings.key())
        row.update(model=name, paper_mean=PAPER_TABLE8[name].get(depth), paper_std=None, within_paper_std=None)
        rows.append(row)
    notes = [f"Cora, Table 1 protocol, {num_splits} split(s) × {num_inits} initialisation(s) per depth, base seed "
             f"{args.seed}. The paper gives one number per cell (no std)."]
    notes += [f"- {name} N={depth} [{s.key()}]: " + ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(s).items())
              for name, _, depth, s in cells]
    write_results(args.out, rows, ["model", "layers", "mean", "std", "runs", "paper_mean", "settings"],
                  "Depth sweep on Cora (Table 8)", "\n".join(notes))
    print(Path(args.out, "results.md").read_text())
    return 0
