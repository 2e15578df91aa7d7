"""Model names, resolved in one place: a name ("graphcon-tran", "gcn", …) → the model class, the coupling and the
constructor settings the name fixes, for every verb (``graphcon-ode train``, the experiments).

A name is resolved in a table: "node" (node classification, and per-node multi-graph tasks such as PPI),
"heterophilous" (the benchmark of Platonov et al. (2023), whose "gcn", "gat", … are their residual baselines and
"gcn-tuned", … the GCN*, SAGE*, GAT* of Luo et al. (2024)) and
"graph" (one prediction per graph). The verb supplies its hyperparameters; :func:`build_model` hands each class
the ones its constructor takes (a setting that no model of the table takes is an error).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from graphcon_ode.models.grand import GrandGraphCONModel
from graphcon_ode.models.graph import GNNGraphModel, GraphCONGraphModel
from graphcon_ode.models.node import GATNodeModel, GCNNodeModel, GraphCONNodeModel
from graphcon_ode.models.residual import HeterophilyBaseline
from graphcon_ode.models.tuned import TunedGNN
from solvers.registry import Registry


@dataclass(frozen=True)
class ModelName:
    """What a model name means: ``model`` built with ``coupling=coupling`` (GraphCON models) and ``settings``."""

    model: type[nn.Module]
    coupling: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


def _graphcon(model: type[nn.Module], couplings: Mapping[str, str]) -> dict[str, ModelName]:
    return {f"graphcon-{name}": ModelName(model, coupling) for name, coupling in couplings.items()}


NODE_COUPLINGS = {"gcn": "gcn", "gat": "gat", "gat-authors": "gat-authors", "tran": "transformer",
                  "sep": "sep-mean", "gat-sep": "sep-gat", "gin": "gin", "sage": "sage",
                  "gcn-tuned": "gcn-tuned"}
"""The part of a node-level GraphCON name after "graphcon-" → its coupling in ``graphcon_ode.couplings``."""

GRAPH_COUPLINGS = {"gcn": "gcn", "gat": "gat", "tran": "transformer", "gin": "gin", "gatedgcn": "gatedgcn",
                   "sage": "sage"}
"""The part of a graph-level GraphCON name after "graphcon-" → its coupling."""

NODE_MODELS: Registry[ModelName] = Registry("node-level model", {
    **_graphcon(GraphCONNodeModel, NODE_COUPLINGS),
    "graphcon-grand": ModelName(GrandGraphCONModel),
    "gcn": ModelName(GCNNodeModel),
    "gcn-dropedge": ModelName(GCNNodeModel),  # the DropEdge rate is the verb's drop_edge setting
    "gat": ModelName(GATNodeModel),
})

HETEROPHILOUS_MODELS: Registry[ModelName] = Registry("heterophilous-benchmark model", {
    **{name: entry for name, entry in NODE_MODELS.items() if entry.model is GraphCONNodeModel},
    **{block: ModelName(HeterophilyBaseline, settings={"block": block})
       for block in ("resnet", "gcn", "sage", "gat", "gat-sep")},
    **{f"{conv}-tuned": ModelName(TunedGNN, settings={"conv": conv}) for conv in ("gcn", "sage", "gat")},
})

GRAPH_MODELS: Registry[ModelName] = Registry("graph-level model", {
    **_graphcon(GraphCONGraphModel, GRAPH_COUPLINGS),
    "gcn": ModelName(GNNGraphModel, settings={"conv": "gcn"}),
    "gat": ModelName(GNNGraphModel, settings={"conv": "gat"}),
})

MODEL_TABLES: Registry[Registry[ModelName]] = Registry("model table", {
    "node": NODE_MODELS, "heterophilous": HETEROPHILOUS_MODELS, "graph": GRAPH_MODELS})
"""Every model name, by table; a new model is one line in its table."""


def resolve_model(name: str, table: str = "node") -> ModelName:
    """What the model ``name`` of ``table`` ("node", "heterophilous", "graph") is.

    Raises:
        ValueError: an unknown table or name; the message lists the known ones.
    """
    if table not in MODEL_TABLES:
        raise ValueError(f"table: unknown model table {table!r}; known: {', '.join(MODEL_TABLES)}")
    models = MODEL_TABLES[table]
    if name not in models:
        raise ValueError(f"model: unknown {models.what} {name!r}; known: {', '.join(sorted(models))}")
    return models[name]


def _parameters(model: type[nn.Module]) -> set[str]:
    return set(inspect.signature(model).parameters) - {"in_channels", "hidden_channels", "out_channels"}


def build_model(name: str, in_channels: int, hidden_channels: int, out_channels: int, *, table: str = "node",
                **settings: Any) -> nn.Module:
    """The model ``name`` of ``table`` on these sizes, with the coupling and settings the name fixes and, of
    ``settings`` (the verb's hyperparameters), those its class takes: a GCN baseline takes no ``step_size``.

    Raises:
        ValueError: an unknown name (listing the known ones), a setting that no model of the table takes, or a
            setting the name fixes.
    """
    entry = resolve_model(name, table)
    known = set().union(*(_parameters(other.model) for other in MODEL_TABLES[table].values()))
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"{unknown[0]}: not a setting of any {MODEL_TABLES[table].what}; known: "
                         f"{', '.join(sorted(known))}")
    fixed = {**entry.settings, **({"coupling": entry.coupling} if entry.coupling is not None else {})}
    clash = sorted(set(settings) & set(fixed))
    if clash:
        raise ValueError(f"{clash[0]}: fixed by the model name {name!r} ({clash[0]}={fixed[clash[0]]!r})")
    takes = _parameters(entry.model)
    return entry.model(in_channels, hidden_channels, out_channels, **fixed,
                       **{key: value for key, value in settings.items() if key in takes})
