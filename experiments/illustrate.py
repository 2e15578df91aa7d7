"""``graphcon-ode illustrate``: Fig. 1, the oscillating node features of a trained GraphCON-GCN on one molecule.

A GraphCON-GCN is trained on the molecules of ``zinc-moses`` (by default a short run on 1,000 training molecules,
enough for trained weights; it is not a benchmark), then one test molecule (``--molecule``) is encoded and its
state X^n after every step n = 0 … N of eq. (4) is recorded. Each atom's feature vector is read along the first
principal direction of all X^n of the molecule (the direction in which the features move most). The figure draws
the molecule (RDKit 2-D coordinates when the graph carries its SMILES, else a Kamada-Kawai layout), one panel per
time in ``--times``, atoms coloured by that coordinate; below, the coordinate of every atom against time. The
paper's Fig. 1 shows the same dynamics with random weights and 2-D positions as the features.

``results.json`` holds one row per atom: how often its coordinate crosses its own time average (``crossings``,
the half-oscillations) and its range over time.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn
from torch_geometric.data import Data

from experiments.graph_level import load_graph_task, settings_for, train_model
from experiments.harness import add_common_arguments
from graphcon_ode.cli.arguments import UsageError, quick
from graphcon_ode.odeint import odeint
from graphcon_ode.results import write_png, write_results

DEFAULTS = {"layers": 20, "hidden": 64, "epochs": 20, "train_graphs": 1000, "val_graphs": 250, "test_graphs": 100}
QUICK = {"layers": 4, "hidden": 16, "epochs": 1, "train_graphs": 64, "val_graphs": 16, "test_graphs": 8}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "results/illustrate")
    parser.add_argument("--dataset", default="zinc-moses", choices=("zinc-moses", "zinc"),
                        help="molecules to train on and draw one of")
    parser.add_argument("--molecule", type=int, default=0, help="index of the molecule in the test subset")
    parser.add_argument("--times", type=int, nargs="+", default=None,
                        help="steps n drawn as panels (default: 0, N/4, N/2, 3N/4, N)")
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value,
                            help=f"{name} of the GraphCON-GCN trained for the figure (default {value})")


def sizes_of(args: argparse.Namespace) -> dict[str, int]:
    """The training sizes and depth of the figure's model: ``--quick``'s where the command line gives none."""
    return {name: quick(args, name, QUICK[name]) for name in DEFAULTS}


def check(args: argparse.Namespace) -> None:
    """:class:`UsageError` for a molecule index or a drawn step out of range, before any training."""
    layers = sizes_of(args)["layers"]
    if args.molecule < 0:
        raise UsageError(f"--molecule: must be an index >= 0, got {args.molecule}")
    if args.times is not None and not all(0 <= step <= layers for step in args.times):
        raise UsageError(f"--times: steps must lie in [0, {layers}] (--layers), got {args.times}")


@torch.no_grad()
def trajectory(model: nn.Module, graph: Data) -> Tensor:
    """X^n for n = 0 … N of ``model`` (a trained ``GraphCONGraphModel``) on ``graph``: [N + 1, nodes, hidden]."""
    model.eval()
    x0 = model.encode(graph.x)
    t = torch.arange(model.num_layers + 1, dtype=x0.dtype) * model.step_size
    xs, _ = odeint(model.field.bind(graph.edge_index), (x0, x0), t, method="imex",
                   options={"step_size": model.step_size})
    return xs


def principal_coordinate(states: Tensor) -> np.ndarray:
    """Every node's state at every time along the first principal direction of all states: [times, nodes]."""
    flat = states.reshape(-1, states.shape[-1]).double()
    centred = flat - flat.mean(0)
    direction = torch.linalg.svd(centred, full_matrices=False).Vh[0]
    return (centred @ direction).reshape(states.shape[:2]).numpy()


def crossings(series: np.ndarray) -> int:
    """How often ``series`` crosses its own mean."""
    signs = np.sign(series - series.mean())
    signs = signs[signs != 0]
    return int((signs[1:] != signs[:-1]).sum())


def layout(graph: Data) -> tuple[dict[int, tuple[float, float]], list[str]]:
    """2-D positions of the atoms and their labels: RDKit's depiction from ``graph.smiles`` when present."""
    smiles = getattr(graph, "smiles", None)
    if smiles:
        from rdkit import Chem
        from rdkit.Chem import AllChem

        molecule = Chem.MolFromSmiles(smiles)
        if molecule is not None and molecule.GetNumAtoms() == graph.num_nodes:
            AllChem.Compute2DCoords(molecule)
            points = molecule.GetConformer().GetPositions()
            return ({i: (p[0], p[1]) for i, p in enumerate(points)},
                    [atom.GetSymbol() for atom in molecule.GetAtoms()])
    positions = nx.kamada_kawai_layout(_networkx(graph))
    return {i: tuple(p) for i, p in positions.items()}, [str(i) for i in range(graph.num_nodes)]


def _networkx(graph: Data) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(graph.num_nodes))
    g.add_edges_from(graph.edge_index.t().tolist())
    return g


def draw(graph: Data, positions: dict[int, tuple[float, float]], labels: list[str], values: np.ndarray,
         times: list[int], path: Path, title: str) -> None:
    """Panels of the molecule at ``times`` coloured by ``values`` [time, node], and every node's curve below."""
    edges = graph.edge_index.t().tolist()
    limit = float(np.abs(values).max()) or 1.0
    fig = Figure(figsize=(3.4 * len(times), 6.5), dpi=100)
    grid = fig.add_gridspec(2, len(times), height_ratios=(1.3, 1))
    panels = []
    for column, step in enumerate(times):
        ax = fig.add_subplot(grid[0, column])
        panels.append(ax)
        for i, j in edges:
            ax.plot(*zip(positions[i], positions[j]), color="0.6", lw=1.2, zorder=1)
        xy = np.array([positions[i] for i in range(graph.num_nodes)])
        points = ax.scatter(xy[:, 0], xy[:, 1], c=values[step], cmap="coolwarm", vmin=-limit, vmax=limit, s=260,
                            edgecolors="k", linewidths=0.5, zorder=2, clip_on=False)
        for i, label in enumerate(labels):
            ax.annotate(label, xy[i], ha="center", va="center", fontsize=7, zorder=3)
        ax.set_title(f"n = {step}")
        ax.set_aspect("equal")
        ax.margins(0.12)
        ax.axis("off")
    fig.colorbar(points, ax=panels, shrink=0.8, label="feature (1st principal direction)")
    curves = fig.add_subplot(grid[1, :])
    curves.plot(np.arange(values.shape[0]), values, lw=1)
    for step in times:
        curves.axvline(step, color="0.8", lw=0.8, zorder=0)
    curves.set_xlabel("step n (time t = nΔt)")
    curves.set_ylabel("feature of each atom")
    fig.suptitle(title)
    write_png(path, fig)


def run(args: argparse.Namespace) -> int:
    settings = settings_for(args.dataset, "graphcon-gcn", sizes_of(args))
    task = load_graph_task(args.dataset, args.data_root, settings)
    if args.molecule >= len(task.test):
        raise UsageError(f"--molecule: the test subset has {len(task.test)} molecules, got index {args.molecule}")
    model, result, seconds = train_model(task, "graphcon-gcn", settings, args.seed)
    graph = task.test[args.molecule]
    values = principal_coordinate(trajectory(model, graph))
    n = settings.layers
    times = args.times or sorted({0, n // 4, n // 2, 3 * n // 4, n})
    out = Path(args.out)
    positions, labels = layout(graph)
    draw(graph, positions, labels, values, times, out / "illustrate.png",
         f"GraphCON-GCN (N = {n}, α = {settings.alpha}, γ = {settings.gamma}) on a {args.dataset} molecule")
    rows = [{"atom": i, "label": label, "crossings": crossings(values[:, i]),
             "range": float(values[:, i].max() - values[:, i].min())} for i, label in enumerate(labels)]
    write_results(out, rows, ["atom", "label", "crossings", "range"], f"Fig. 1 on a {args.dataset} molecule",
                  f"GraphCON-GCN trained {result.epochs_run} epoch(s) on {len(task.train)} molecules "
                  f"({seconds:.0f} s; validation MAE {result.val_score:.3f}, test MAE {result.test_score:.3f}); "
                  f"test molecule {args.molecule}, seed {args.seed}. crossings: times an atom's feature along the "
                  "first principal direction crosses its own time average.")
    print((out / "results.md").read_text())
    return 0
