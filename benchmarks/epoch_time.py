"""Per-epoch time of GraphCON-GCN and GraphCON-GAT on Cora at the paper's settings: the library's model against the
same model written as a plain PyTorch loop.

One epoch is what ``fit_node_classifier`` does per epoch: a training step (forward in training mode, cross-entropy on
the training nodes, backward, optimizer step) and one forward pass without gradients for validation. Cora is taken
on Table 1's protocol (largest connected component, random split 0), features sparse; settings are those of
``graphcon-ode node-classification`` (the authors' where published): N = 2 steps of Δt = 1, α = γ = 1, 64 channels.

Variants (same initial weights, same optimizer settings; each trains its own copy):

- ``library``: ``GraphCONNodeModel`` as ``node-classification`` builds it (odeint, method "imex");
- ``plain, PyG layer``: encoder → dropout → for n in 1..N: Y += Δt(σ(F(X)) − γX − αY); X += ΔtY → decoder, with
  F the PyG layer as it comes (``GCNConv(cached=True)``; ``GATConv``, plus the residual Linear if the settings
  have one);
- ``plain, same operator`` (GCN only): the plain loop with F(X) = S(XW) + b by the library's cached CSR operator,
  which separates the cost of the ODE machinery from that of the sparse product.

Rounds are interleaved (every variant one epoch in turn); the script prints medians and the median over rounds of
each variant's ratio to the library.

    python benchmarks/epoch_time.py --data-root ../shared/data [--model graphcon-gcn graphcon-gat] [--repeats 30]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv

from experiments.node_experiment import Settings, Task, build_model, load_task, settings_for
from graphcon_ode.models import GraphCONNodeModel
from graphcon_ode.models.node import dropout_features


class PlainGraphCON(nn.Module):
    """The node-level GraphCON of ``GraphCONNodeModel`` with eq. (4) written out as a loop."""

    def __init__(self, library: GraphCONNodeModel, coupling: Callable[[Tensor], Tensor], modules: nn.Module,
                 activation: Callable[[Tensor], Tensor]):
        super().__init__()
        self.encoder, self.decoder, self.coupling_modules = library.encoder, library.decoder, modules
        self.coupling, self.activation = coupling, activation
        self.input_dropout, self.dropout = library.input_dropout, library.dropout
        self.steps, self.dt = library.num_layers, library.step_size
        self.alpha, self.gamma = library.field.alpha, library.field.gamma

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        x = torch.relu(self.encoder(dropout_features(x, self.input_dropout, self.training)))
        x = y = F.dropout(x, self.dropout, self.training)
        for _ in range(self.steps):
            y = y + self.dt * (self.activation(self.coupling(x)) - self.gamma * x - self.alpha * y)
            x = x + self.dt * y
        return self.decoder(x)


def plain_variants(model: str, library: GraphCONNodeModel, edge_index: Tensor, num_nodes: int) -> dict[str, nn.Module]:
    """The plain-loop models with copies of ``library``'s initial weights."""
    library = copy.deepcopy(library)
    layer = library.field.coupling.layers[0]
    if model == "graphcon-gcn":
        pyg = GCNConv(layer.in_channels, layer.out_channels, cached=True)
        pyg.load_state_dict(layer.state_dict())
        operator = library.field.coupling.prepare(edge_index, num_nodes)["operator"].to(dtype=torch.float32)
        same = copy.deepcopy(library)
        same_layer = same.field.coupling.layers[0]
        return {
            "plain, PyG layer": PlainGraphCON(library, lambda x: pyg(x, edge_index), pyg, torch.relu),
            "plain, same operator": PlainGraphCON(
                same, lambda x: operator @ same_layer.lin(x) + same_layer.bias, same_layer, torch.relu),
        }
    if isinstance(layer, GATConv):
        return {"plain, PyG layer": PlainGraphCON(library, lambda x: layer(x, edge_index), layer, F.elu)}
    conv, residual = layer.conv, layer.residual
    return {"plain, PyG layer": PlainGraphCON(library, lambda x: conv(x, edge_index) + residual(x),
                                              nn.ModuleList([conv, residual]), F.elu)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder of the raw datasets (default: $GRAPHCON_DATA)")
    parser.add_argument("--model", nargs="+", default=["graphcon-gcn", "graphcon-gat"],
                        choices=["graphcon-gcn", "graphcon-gat"])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    task = load_task("cora", args.data_root, 1, 0)
    data = task.data
    print(f"Cora (LCC): {data.num_nodes} nodes, {data.edge_index.shape[1]} edges; torch threads "
          f"{torch.get_num_threads()}; one epoch = training step + validation forward; {args.repeats} interleaved "
          f"rounds")
    for model in args.model:
        settings = settings_for("cora", model)
        torch.manual_seed(0)
        library = build_model(model, settings, data.num_features, task.classes)
        variants = {"library": library, **plain_variants(model, library, data.edge_index, data.num_nodes)}
        epochs = {name: make_epoch(net, task, settings) for name, net in variants.items()}
        print(f"\n{model} ({settings.layers} steps of Δt = {settings.step_size}, {settings.hidden} channels"
              f"{f', {settings.heads} heads' if model == 'graphcon-gat' else ''})")
        print_times(interleaved(epochs, args.repeats), "library", "ms/epoch")


def make_epoch(net: nn.Module, task: Task, settings: Settings) -> Callable[[], None]:
    """One epoch of ``fit_node_classifier`` on split 0: a training step, then a validation forward pass."""
    data, train = task.data, task.splits[0][1][0]
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)

    def epoch() -> None:
        net.train()
        optimizer.zero_grad()
        F.cross_entropy(net(data.x, data.edge_index)[train], data.y[train]).backward()
        optimizer.step()
        net.eval()
        with torch.no_grad():
            net(data.x, data.edge_index)

    return epoch


def interleaved(variants: dict[str, Callable[[], None]], repeats: int) -> dict[str, list[float]]:
    """Seconds of every call: one warm-up call each, then ``repeats`` rounds calling every variant in turn."""
    for fn in variants.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def print_times(times: dict[str, list[float]], baseline: str, unit: str = "ms") -> None:
    """Each variant's median and the median over rounds of its time over ``baseline``'s."""
    print(f"{'variant':<30}{'median ' + unit:>16}  ratio to {baseline}")
    for name, values in times.items():
        ratio = statistics.median(a / b for a, b in zip(values, times[baseline]))
        print(f"{name:<30}{statistics.median(values) * 1e3:>16.1f}  {ratio:.3f}")


if __name__ == "__main__":
    main()
