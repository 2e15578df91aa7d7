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

import torch
from matplotlib.figure import Figure
from torch import Tensor

from experiments.harness import RunStore, add_common_arguments, write_atomic, write_png, write_results
from graphcon_ode.couplings import GAT, GCN, Coupling
from graphcon_ode.energy import dirichlet_energy
from graphcon_ode.field import GraphCONField
from graphcon_ode.odeint import odeint
from graphcon_ode.sparse import SparseOperator

CHANNELS = 16
ALPHAS = (0.0, 0.5)


def grid_graph(height: int, width: int) -> Tensor:
    """The height × width grid with 4-neighbour connectivity, every edge listed in both directions."""
    index = torch.arange(height * width).view(height, width)
    right = torch.stack([index[:, :-1].reshape(-1), index[:, 1:].reshape(-1)])
    down = torch.stack([index[:-1, :].reshape(-1), index[1:, :].reshape(-1)])
    edges = torch.cat([right, down], dim=1)
    return torch.cat([edges, edges.flip(0)], dim=1)


def plain_stack_energies(coupling: Coupling, x0: Tensor, edge_index: Tensor, layers: int) -> list[float]:
    """E(X^n), n = 0..layers, of X^n = ReLU(F_n(X^{n-1}))."""
    graph = coupling.prepare(edge_index, x0.shape[0])
    graph = {k: v.to(dtype=x0.dtype) if isinstance(v, SparseOperator) or torch.is_floating_point(v) else v
             for k, v in graph.items()}
    energies, x = [float(dirichlet_energy(x0, edge_index))], x0
    for n in range(layers):
        x = torch.relu(coupling(x, graph, float(n)))
        energies.append(float(dirichlet_energy(x, edge_index)))
    return energies


def graphcon_energies(coupling: Coupling, x0: Tensor, edge_index: Tensor, layers: int, alpha: float) -> list[float]:
    """E(X^n), n = 0..layers, of eq. (4) with Δt = 1, γ = 1, Y^0 = X^0 and the layer-n weights at step n."""
    field = GraphCONField(coupling, alpha=alpha, gamma=1.0).bind(edge_index)
    t = torch.arange(layers + 1, dtype=x0.dtype)
    xs, _ = odeint(field, (x0, x0), t, method="imex", options={"step_size": 1.0})
    return [float(dirichlet_energy(x, edge_index)) for x in xs]


def energy_curves(layers: int, seed: int, shared_weights: bool = False) -> dict[str, list[float]]:
    """Model name → [E(X^0), ..., E(X^layers)] on the 10 × 10 grid."""
    edge_index = grid_graph(10, 10)
    generator = torch.Generator().manual_seed(seed)
    x0 = torch.rand(100, CHANNELS, generator=generator, dtype=torch.float64)
    curves = {}
    torch.manual_seed(seed)
    num_steps = None if shared_weights else layers
    for name, coupling in (("GCN", GCN(CHANNELS, num_steps=num_steps, step_size=1.0)),
                           ("GAT", GAT(CHANNELS, num_steps=num_steps, step_size=1.0))):
        coupling = coupling.double()
        with torch.no_grad():
            curves[name] = plain_stack_energies(coupling, x0, edge_index, layers)
            for alpha in ALPHAS:
                curves[f"GraphCON-{name} (α = {alpha:g})"] = graphcon_energies(coupling, x0, edge_index, layers,
                                                                               alpha)
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
    layers = 10 if args.quick else args.layers
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
