"""The ``graphcon-ode`` command: one verb per job, each in its own module, imported only when used.

A verb's module provides ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

VERBS: dict[str, tuple[str, str]] = {
    "demo": ("graphcon_ode.demo", "train a 2-layer GCN and a deep GraphCON-GCN on offline graphs"),
    "verify": ("graphcon_ode.verify", "check the paper's propositions numerically; table + verify.json"),
    "dirichlet-energy": ("experiments.dirichlet_energy", "Fig. 2: Dirichlet energy of GCN, GAT, GraphCON by layer"),
    "node-classification": ("experiments.node_classification", "Tables 1 and 2: node classification accuracy"),
    "depth-sweep": ("experiments.depth_sweep", "Table 8: Cora accuracy of GraphCON-GCN and GCN+DropEdge by depth"),
    "sensitivity": ("experiments.sensitivity", "Fig. 3: GraphCON-GCN accuracy as alpha or gamma varies"),
    "backward-accuracy": ("experiments.backward_accuracy", "gradient error of every backward mode against depth"),
    "memory-depth": ("experiments.memory_depth", "peak memory and time of every backward mode against depth"),
    "solver-comparison": ("experiments.solver_comparison",
                          "accuracy, evaluations, time and state error of every method on trained models"),
    "train": ("graphcon_ode.train", "train a model, full-batch or mini-batch, in one process or under torchrun"),
}


def _usage() -> str:
    width = max(len(verb) for verb in VERBS)
    lines = ["usage: graphcon-ode VERB [options]   (graphcon-ode VERB --help for a verb's options)", "", "verbs:"]
    lines += [f"  {verb:<{width}}  {summary}" for verb, (_, summary) in VERBS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
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
    parser = argparse.ArgumentParser(prog=f"graphcon-ode {verb}", description=summary)
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(rest)) or 0)


if __name__ == "__main__":
    sys.exit(main())
