"""The ``graphcon-ode`` command: one verb per job, each in its own module, imported only when used.

A verb's module provides ``add_arguments(parser)`` and ``run(args) -> int``, and may provide ``check(args)`` (its
own argument checks, raising :class:`~graphcon_ode.cli.arguments.UsageError`) and ``datasets(args)`` (the
datasets it reads, whose raw files are checked before the run).
Every argument is checked before any work (:func:`prepare`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

import torch
from tqdm.std import tqdm

from graphcon_ode.allocator import keep_freed_memory
from graphcon_ode.cli.arguments import Parser, UsageError, check_data, check_out, check_values, given_options
from graphcon_ode.datasets import DatasetParseError, MissingDatasetError
from solvers.registry import Registry

DEFAULT_THREADS = 1
USER_ERRORS = (UsageError, MissingDatasetError, DatasetParseError, ValueError, TypeError)

VERBS: Registry[tuple[str, str]] = Registry("verb", {
    "demo": ("graphcon_ode.cli.demo", "train a 2-layer GCN and a deep GraphCON-GCN on offline graphs"),
    "verify": ("graphcon_ode.cli.verify", "check the paper's propositions numerically; table + verify.json"),
    "dirichlet-energy": ("experiments.dirichlet_energy", "Fig. 2: Dirichlet energy of GCN, GAT, GraphCON by layer"),
    "node-classification": ("experiments.node_classification", "Tables 1 and 2: node classification accuracy"),
    "depth-sweep": ("experiments.depth_sweep", "Table 8: Cora accuracy of GraphCON-GCN and GCN+DropEdge by depth"),
    "sensitivity": ("experiments.sensitivity", "Fig. 3: GraphCON-GCN accuracy as alpha or gamma varies"),
    "backward-accuracy": ("experiments.backward_accuracy", "gradient error of every backward mode against depth"),
    "memory-depth": ("experiments.memory_depth", "peak memory and time of every backward mode against depth"),
    "solver-comparison": ("experiments.solver_comparison",
                          "accuracy, evaluations, time and state error of every method on trained models"),
    "train": ("graphcon_ode.cli.train", "train a model, full-batch or mini-batch, in one process or under torchrun"),
    "graph-regression": ("experiments.graph_regression", "Table 4: molecule regression MAE (ZINC or its stand-in)"),
    "graph-classification": ("experiments.graph_classification", "Table 5: superpixel-graph classification accuracy"),
    "inductive": ("experiments.inductive", "Table 3: inductive multi-label micro-F1 on PPI"),
    "graph-depth-sweep": ("experiments.graph_depth_sweep", "Tables 6 and 7: graph-level GCN/GAT vs GraphCON by depth"),
    "illustrate": ("experiments.illustrate", "Fig. 1: node features of a trained GraphCON-GCN on a molecule over time"),
    "search": ("experiments.search", "Optuna search of a model's settings on a heterophilous set (validation only)"),
    "report": ("experiments.report", "regenerate the results tables of docs/results from the run records"),
})
"""Every verb: name → (its module, a one-line summary). A new verb is ``VERBS.register(name, (module, summary))``;
a taken name is a ``KeyError``."""


def _usage() -> str:
    width = max(len(verb) for verb in VERBS)
    lines = ["usage: graphcon-ode VERB [options]   (graphcon-ode VERB --help for a verb's options)", "", "verbs:"]
    lines += [f"  {verb:<{width}}  {summary}" for verb, (_, summary) in VERBS.items()]
    return "\n".join(lines)


def close_progress_bars() -> None:
    """Close the progress bars an interrupted run left open, so that the message after them starts a line."""
    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


def add_cli_options(parser: argparse.ArgumentParser) -> None:
    """The options every verb has: ``--debug`` and, unless the verb defines its own, ``--threads``."""
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    if "--threads" not in parser._option_string_actions:
        parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                            help=f"torch threads (default {DEFAULT_THREADS}: on a shared or busy machine more "
                                 f"threads than free cores slow every run down; see benchmarks/threads.py)")


def prepare(module: ModuleType, parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse and check every argument before any work: values, names, ``--out``, the data root and files."""
    args = parser.parse_args(argv)
    args.given_options = given_options(parser, argv)
    check_values(args)
    if hasattr(module, "check"):
        module.check(args)
    if getattr(args, "out", None) is not None:
        check_out(args.out)
    datasets = module.datasets(args) if hasattr(module, "datasets") else []
    if datasets:
        check_data(args, datasets)
    elif getattr(args, "data_root", None) is not None and not Path(args.data_root).expanduser().is_dir():
        raise UsageError(f"--data-root: {args.data_root} is not a folder")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run ``graphcon-ode VERB [options]``. A user error (bad option, unwritable ``--out``, missing or broken data)
    is one line on stderr and exit status 2 (``--debug`` raises it with its traceback); Ctrl-C says how to resume
    and exits with 130. The command owns its process, so it first keeps freed memory for reuse
    (:func:`~graphcon_ode.allocator.keep_freed_memory`)."""
    keep_freed_memory()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        print(f"graphcon-ode: unknown verb {verb!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, summary = VERBS[verb]
    module = importlib.import_module(module_name)
    parser = Parser(prog=f"graphcon-ode {verb}", description=summary)
    module.add_arguments(parser)
    add_cli_options(parser)
    debug, args = "--debug" in rest, None
    try:
        args = prepare(module, parser, rest)
        torch.set_num_threads(args.threads)
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        close_progress_bars()
        out = getattr(args, "out", None)
        kept = f"finished runs are kept in {out}; " if out else ""
        print(f"graphcon-ode {verb}: interrupted; {kept}run the same command again to resume", file=sys.stderr)
        return 130
    except USER_ERRORS as error:
        if debug:
            raise
        message = " ".join(str(error).split())
        print(f"graphcon-ode {verb}: error: {message} (--debug shows the traceback)", file=sys.stderr)
        return 2

