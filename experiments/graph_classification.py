"""``graphcon-ode graph-classification``: Table 5, test accuracy of digit classification on superpixel graphs.

``--dataset mnist-superpixels`` is the paper's MNIST superpixels with 75 nodes (PyG's ``MNISTSuperpixels``, for
users who have its files); ``mnist5k-superpixels`` is the library's offline stand-in (5,000 real MNIST digits cut
into ≤ 75 SLIC superpixels), a different dataset: its rows carry Table 5's numbers only as a reference, marked so.
Defaults are the authors' published settings (mean pooling, cross-entropy, learning rate halved on plateau).
"""

from __future__ import annotations

import argparse

from experiments.graph_level import add_table_arguments, check_arguments, run_table

DATASETS = ("mnist5k-superpixels", "mnist-superpixels")
MODELS = ("gcn", "gat", "graphcon-gcn", "graphcon-gat")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table_arguments(parser, "results/graph_classification", DATASETS, MODELS)


def check(args: argparse.Namespace) -> None:
    check_arguments(args)


def run(args: argparse.Namespace) -> int:
    return run_table(args, f"Graph classification on {args.dataset} (Table 5)")
