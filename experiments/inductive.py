"""``graphcon-ode inductive``: Table 3, test micro-F1 of 121-label node classification on unseen PPI graphs.

The protocol of Hamilton et al. (2017) that PyG's ``PPI`` ships: 20 training graphs, 2 validation and 2 test
graphs, so test nodes belong to graphs never seen in training. The models are the node-level ones
(``GraphCONNodeModel``, GCN and GAT stacks) trained on mini-batches of whole graphs with the binary
cross-entropy of every label. PPI is not available offline here: without its raw files the verb stops with the
library's missing-files error. α, γ are Table 9's; the other settings are chosen here (the paper gives none).
"""

from __future__ import annotations

import argparse

from experiments.graph_level import add_table_arguments, check_arguments, run_table

DATASETS = ("ppi",)
MODELS = ("gcn", "gat", "graphcon-gcn", "graphcon-gat")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table_arguments(parser, "results/inductive", DATASETS, MODELS)


def check(args: argparse.Namespace) -> None:
    check_arguments(args)


def run(args: argparse.Namespace) -> int:
    return run_table(args, "Inductive multi-label node classification on PPI (Table 3)")
