"""``graphcon-ode dirichlet-energy``: Fig. 2, the Dirichlet energy E(X^n) (eq. (13)) layer by layer.

Setting of Section 5.1: a 10 × 10 regular grid with 4-neighbour connectivity, node features X^0 ~ U([0, 1]) (16
channels here), 100 layers with random (untrained, PyG-initialised) weights, float64. Each coupling draws one
weight set W^n per layer (or one for all layers with ``--shared-weights``); the plain stack and the GraphCON stack
of a coupling use the same weights:

    GCN / GAT:        X^n = σ(F_n(X^{n-1}))                          (σ = ReLU, F_n the layer-n GCN or GAT)
    GraphCON-X (α):   eq. (4) with Δt = 1, γ = 1, Y^0 = X^0 and F_n as above

Writes ``DIR/energy.csv`` (one column per model, one row per layer n = 0..N), ``DIR/dirichlet_energy.png``
(log-log) and ``DIR/results.json``/``results.md`` (E(X^N) per model).
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from matplotlib.figure import Figure

from experiments.harness import RunStore, add_common_arguments
from graphcon_ode.claims import graphs
from graphcon_ode.claims.dirichlet_figure import layerwise_features
from graphcon_ode.cli.arguments import quick
from graphcon_ode.energy import dirichlet_energy
from graphcon_ode.results import write_atomic, write_png, write_results

CHANNELS = 16
ALPHAS = (0.0, 0.5)


def energy_curves(layers: int, seed: int, shared_weights: bool = False) -> dict[str, list[float]]:
    """Model name → [E(X^0), ..., E(X^layers)] on the 10 × 10 grid.

    The layers are those of the claims report (:func:`graphcon_ode.claims.dirichlet_figure.layerwise_features`):
    for one coupling kind every model starts from the same seed, so the plain stack and both GraphCON stacks share
    X^0 and the weights.
    """
    edges = graphs.edge_index(graphs.grid(10, 10))
    curves = {}
    for kind, name in (("gcn", "GCN"), ("gat", "GAT")):
        for alpha in (None, *ALPHAS):
            label = name if alpha is None else f"GraphCON-{name} (α = {alpha:g})"
            xs = layerwise_features(kind, alpha, seed, shared_weights, layers=layers, channels=CHANNELS)
            curves[label] = [float(dirichlet_energy(x, edges)) for x in xs]
    return curves


def plot(curves: dict[str, list[float]], path: Path) -> None:
    fig = Figure(figsize=(5.5, 3.8), dpi=100)
    ax = fig.subplots()
    for name, energies in curves.items():
        points = [(n, e) for n, e in enumerate(energies) if n > 0 and e > 0]
        ax.loglog(*zip(*points), label=name, linestyle="--" if name in ("GCN", "GAT") else "-")
    ax.set_xlabel("layer n")
    ax.set_ylabel("E(X^n)")
    ax.set_title("Dirichlet energy on a 10×10 grid (random weights)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    write_png(path, fig)


def write_csv(curves: dict[str, list[float]], path: Path) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["layer", *curves])
    for n in range(len(next(iter(curves.values())))):
        writer.writerow([n, *(f"{energies[n]:.6e}" for energies in curves.values())])
    write_atomic(path, text.getvalue())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "results/dirichlet_energy")
    parser.add_argument("--layers", type=int, default=100, help="number of layers (default 100, as in Fig. 2)")
    parser.add_argument("--shared-weights", action="store_true", help="one weight set for all layers")


def run(args: argparse.Namespace) -> int:
    layers = quick(args, "layers", 10)
    out = Path(args.out)
    store = RunStore(out)
    weights = "shared" if args.shared_weights else "per-layer"
    key = f"grid10x10/layers{layers}/{weights}/seed{args.seed}"
    if not store.done(key):
        store.record(key, {"layers": layers, "seed": args.seed, "weights": weights,
                           "curves": energy_curves(layers, args.seed, args.shared_weights)})
    curves = store.records[key]["curves"]
    write_csv(curves, out / "energy.csv")
    plot(curves, out / "dirichlet_energy.png")
    rows = [{"dataset": "grid 10x10", "model": name, "metric": f"E(X^{layers}) / E(X^0)",
             "mean": energies[-1] / energies[0], "std": 0.0, "runs": 1, "paper_mean": None, "paper_std": None,
             "seed": args.seed} for name, energies in curves.items()]
    write_results(out, rows, ["model", "metric", "mean", "runs", "seed"], "Dirichlet energy (Fig. 2)",
                  f"{layers} layers ({weights} weights), {CHANNELS} channels, X^0 ~ U[0,1], seed {args.seed}; "
                  "the paper shows the "
                  "curves only (no table). Curves: energy.csv, plot: dirichlet_energy.png.")
    print((out / "results.md").read_text())
    return 0
