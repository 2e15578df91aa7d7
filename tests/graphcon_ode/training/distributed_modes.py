"""Run under torchrun: ``graphcon-ode train`` once per backward mode in one process group, then once on a small
dataset of many graphs.

    torchrun --standalone --nproc_per_node=2 tests/graphcon_ode/training/distributed_modes.py \
        OUT MODE [MODE ...] -- TRAIN_ARGS

Each mode writes OUT/MODE/checkpoint.pt, as ``graphcon-ode train ... --distributed --backward MODE --out OUT/MODE``
would, and the graph-level run OUT/graphs/checkpoint.pt; one launch saves a torchrun start-up per run.
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


def tiny_graphs(root=None) -> GraphDataset:
    """30 small random graphs with a regression target (their mean feature), split 20/5/5."""
    generator = torch.Generator().manual_seed(0)
    graphs = []
    for _ in range(30):
        n = int(torch.randint(4, 9, (), generator=generator))
        edge_index = torch.randint(n, (2, 2 * n), generator=generator)
        x = torch.randn(n, 3, generator=generator)
        graphs.append(Data(x=x, edge_index=edge_index, y=x.mean().reshape(1)))
    return GraphDataset("tiny-graphs", graphs[:20], graphs[20:25], graphs[25:], "regression", 3, 1)


def parse(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    return parser.parse_args(arguments)


def main() -> None:
    split = sys.argv.index("--")
    out, *modes = sys.argv[1:split]
    train_graphs.GRAPH_DATASETS["tiny-graphs"] = tiny_graphs
    dist.init_process_group("gloo")
    for mode in modes:
        train.train(parse(sys.argv[split + 1:] + ["--distributed", "--backward", mode, "--out", f"{out}/{mode}"]))
    train.train(parse(GRAPH_LEVEL + ["--distributed", "--out", f"{out}/graphs"]))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
