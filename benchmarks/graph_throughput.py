"""Training throughput and peak memory of graph-level GraphCON-GCN at ZINC's settings, against a plain GCN stack.

Workload: mini-batches of 128 molecules of ``zinc-moses`` (the offline stand-in for ZINC 12k; its training split,
shuffled with seed 0), the authors' published ZINC settings for GraphCON-GCN (Table 4): 220 channels, N = 22 layers
(steps of Δt = 1), α = 0.215, γ = 1.115, weights shared over time, atom-type embedding, global add pooling, a
two-layer MLP readout (about 100k parameters). The baseline is ``GNNGraphModel(conv="gcn")`` with the same
embedding, depth, width, pooling and readout (22 GCNConv layers with ReLU).

Throughput: one training step is forward, L1 loss (MAE), backward and an Adam step on one batch. Both models step
through the same batches in interleaved rounds; graphs per second = 128 / median step time, and the ratio is the
median over rounds of the baseline's step time over GraphCON's (the fraction of the plain stack's throughput that
GraphCON reaches).

Memory: the peak of one forward + backward on one batch of 128 molecules, each point in a fresh forked process
(:mod:`experiments.memory`: resident-set growth on the CPU, ``max_memory_allocated`` on a GPU), at N = 22 and 220
layers of Δt = 1 for the backward modes ``backprop``, ``reversible`` and ``exact_reversal``, and the plain GCN stack
for reference. Untrained, the 220-layer model at Δt = 1 drives its states past 10^17 (the oscillators are pushed
harder than they are damped), beyond the fixed-point range of ``exact_reversal``; the same 220 layers at Δt = 0.1
(the ODE to the same end time T = 22) keep them below 40 and are measured for all three modes as well.

    python benchmarks/graph_throughput.py --data-root ../shared/data [--rounds 20] [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from experiments.memory import PeakMemory, run_isolated
from graphcon_ode.datasets.graph import GraphDataset, load_graph_dataset
from graphcon_ode.models import GNNGraphModel, GraphCONGraphModel

BATCH_SIZE = 128
HIDDEN = 220
LAYERS = 22
ALPHA, GAMMA = 0.215, 1.115
LEARNING_RATE = 0.00159
MEMORY_GRIDS = ((22, 1.0), (220, 1.0), (220, 0.1))  # (N, Δt)
MEMORY_MODES = ("backprop", "reversible", "exact_reversal")


def graphcon(data: GraphDataset, layers: int = LAYERS, adjoint: str = "backprop", step_size: float = 1.0) -> nn.Module:
    return GraphCONGraphModel(data.num_features, HIDDEN, 1, num_layers=layers, step_size=step_size, alpha=ALPHA,
                              gamma=GAMMA, atom_vocabulary=data.atom_vocabulary, pool="add", backward=adjoint)


def plain_gcn(data: GraphDataset, layers: int = LAYERS) -> nn.Module:
    return GNNGraphModel(data.num_features, HIDDEN, 1, conv="gcn", num_layers=layers,
                         atom_vocabulary=data.atom_vocabulary, pool="add")


def loss(net: nn.Module, batch: Batch) -> torch.Tensor:
    return F.l1_loss(net(batch.x, batch.edge_index, batch.batch).squeeze(-1), batch.y)


def training_step(net: nn.Module) -> Callable[[Batch], None]:
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)

    def step(batch: Batch) -> None:
        net.train()
        optimizer.zero_grad()
        loss(net, batch).backward()
        optimizer.step()

    return step


def throughput(data: GraphDataset, rounds: int, device: torch.device) -> None:
    torch.manual_seed(0)
    models = {"GraphCON-GCN": graphcon(data).to(device), "GCN stack": plain_gcn(data).to(device)}
    steps = {name: training_step(net) for name, net in models.items()}
    batches = DataLoader(data.train, batch_size=BATCH_SIZE, shuffle=True, generator=torch.Generator().manual_seed(0))
    times: dict[str, list[float]] = {name: [] for name in models}
    for index, batch in enumerate(batches):
        if index > rounds:
            break
        batch = batch.to(device)
        for name, step in steps.items():
            start = time.perf_counter()
            step(batch)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if index:  # the first batch warms up
                times[name].append(time.perf_counter() - start)
    ratio = statistics.median(b / a for a, b in zip(times["GraphCON-GCN"], times["GCN stack"]))
    print(f"\nTraining throughput, batch {BATCH_SIZE}, {LAYERS} layers, {HIDDEN} channels, {rounds} rounds "
          f"(median)\n")
    print("| model | parameters | ms / step | graphs / s |")
    print("|---|---|---|---|")
    for name, net in models.items():
        median = statistics.median(times[name])
        print(f"| {name} | {sum(p.numel() for p in net.parameters()):,} | {median * 1e3:.1f} | "
              f"{BATCH_SIZE / median:.0f} |")
    print(f"\nGraphCON-GCN throughput / GCN stack throughput (median over rounds of the step-time ratio): {ratio:.3f}")


def memory_point(data: GraphDataset, model: str, layers: int, step_size: float, mode: str,
                 device: torch.device) -> dict:
    """Peak MiB of one forward + backward on the first training batch (run in a fresh process)."""
    torch.manual_seed(0)
    if model == "GraphCON-GCN":
        net = graphcon(data, layers, mode, step_size).to(device)
    else:
        net = plain_gcn(data, layers).to(device)
    batch = next(iter(DataLoader(data.train, batch_size=BATCH_SIZE))).to(device)
    start = time.perf_counter()
    with PeakMemory(device) as peak:
        loss(net, batch).backward()
    return {"peak_mib": peak.mib, "seconds": time.perf_counter() - start, "nodes": batch.num_nodes}


def memory(data: GraphDataset, threads: int, device: torch.device) -> None:
    points = [("GraphCON-GCN", mode) for mode in MEMORY_MODES] + [("GCN stack", "backprop")]
    print(f"\nPeak memory of one forward + backward, batch {BATCH_SIZE} ({device.type}, fresh process per point)\n")
    print("| model | backward | N | Δt | nodes | peak MiB | seconds |")
    print("|---|---|---|---|---|---|---|")
    for layers, step_size in MEMORY_GRIDS:
        for model, mode in points:
            if model != "GraphCON-GCN" and step_size != 1.0:
                continue
            result = run_isolated(partial(memory_point, data, model, layers, step_size, mode, device),
                                  threads=threads)
            if "error" in result:
                print(f"| {model} | {mode} | {layers} | {step_size:g} | | failed: "
                      f"{result['error'].splitlines()[-1]} | |")
                continue
            print(f"| {model} | {mode} | {layers} | {step_size:g} | {result['nodes']} | {result['peak_mib']:.1f} | "
                  f"{result['seconds']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder of the raw datasets (default: $GRAPHCON_DATA)")
    parser.add_argument("--rounds", type=int, default=20, help="timed training steps per model")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    data = load_graph_dataset("zinc-moses", args.data_root)
    print(f"zinc-moses (stand-in for ZINC 12k), torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"device {device}")
    if not args.skip_memory:  # first: CUDA must not be initialised in this process before the forks
        memory(data, args.threads, device)
    throughput(data, args.rounds, device)


if __name__ == "__main__":
    main()
