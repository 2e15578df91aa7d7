"""Run under torchrun: ``graphcon-ode train`` once per backward mode in one process group, then once in sampled
mini-batches and twice on small datasets of many graphs.

    torchrun --standalone --nproc_per_node=2 tests/graphcon_ode/training/distributed_modes.py \
        OUT MODE [MODE ...] -- TRAIN_ARGS

Each mode writes OUT/MODE/checkpoint.pt, as ``graphcon-ode train ... --distributed --backward MODE --out OUT/MODE``
would; the runs of :data:`RUNS` write OUT/NAME/checkpoint.pt. One launch saves a torchrun start-up per run.
"""

import argparse
import sys

import torch
import torch.distributed as dist
from torch_geometric.data import Data

from graphcon_ode.cli import train, train_graphs
from graphcon_ode.datasets.graph import GraphDataset

GRAPH_LEVEL = ["--dataset", "tiny-graphs", "--model", "graphcon-gcn", "--hidden", "8", "--layers", "3",
               "--alpha", "0.5", "--step-size", "0.5", "--batch-size", "8", "--epochs", "2", "--eval-every", "1",
               "--dtype", "float64", "--threads", "1", "--data-root", "unused"]


# Sampled mini-batches on one graph: 15 seeds per global batch (shares of 8 and 7), fan-out limited at two hops,
# dropout on; every rank must sample the global batch's subgraph and draw the single process's dropout.
MINIBATCH = ["--dataset", "sbm", "--nodes", "200", "--degree", "6", "--classes", "3", "--homophily", "0.8",
             "--model", "graphcon-gcn", "--hidden", "8", "--layers", "3", "--alpha", "0.5", "--step-size", "0.5",
             "--dropout", "0.2", "--input-dropout", "0.1", "--batch-size", "15", "--fanout", "3", "2", "-1",
             "--epochs", "2", "--eval-every", "0", "--dtype", "float64", "--threads", "1"]
# 21 training graphs in global batches of 8: the last batch of 5 splits 3 + 2, and nothing may be padded.
GRAPH_LEVEL_ODD = ["--dataset", "tiny-graphs-odd", "--model", "graphcon-gcn", "--hidden", "8", "--layers", "3",
                   "--alpha", "0.5", "--step-size", "0.5", "--batch-size", "8", "--epochs", "2", "--eval-every", "0",
                   "--dtype", "float64", "--threads", "1", "--data-root", "unused"]
RUNS = {"minibatch": MINIBATCH, "graphs": GRAPH_LEVEL, "graphs-odd": GRAPH_LEVEL_ODD}


def tiny_graphs(root=None, train: int = 20) -> GraphDataset:
    """``train`` + 10 small random graphs with a regression target (their mean feature), split train/5/5."""
    generator = torch.Generator().manual_seed(0)
    graphs = []
    for _ in range(train + 10):
        n = int(torch.randint(4, 9, (), generator=generator))
        edge_index = torch.randint(n, (2, 2 * n), generator=generator)
        x = torch.randn(n, 3, generator=generator)
        graphs.append(Data(x=x, edge_index=edge_index, y=x.mean().reshape(1)))
    return GraphDataset("tiny-graphs", graphs[:train], graphs[train:train + 5], graphs[train + 5:], "regression", 3, 1)


def tiny_graphs_odd(root=None) -> GraphDataset:
    return tiny_graphs(root, train=21)


GRAPH_SETS = {"tiny-graphs": tiny_graphs, "tiny-graphs-odd": tiny_graphs_odd}


def parse(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    return parser.parse_args(arguments)


def main() -> None:
    split = sys.argv.index("--")
    out, *modes = sys.argv[1:split]
    for name, load in GRAPH_SETS.items():
        train_graphs.GRAPH_DATASETS[name] = load
    dist.init_process_group("gloo")
    for mode in modes:
        train.train(parse(sys.argv[split + 1:] + ["--distributed", "--backward", mode, "--out", f"{out}/{mode}"]))
    for name, arguments in RUNS.items():
        train.train(parse(arguments + ["--distributed", "--out", f"{out}/{name}"]))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
