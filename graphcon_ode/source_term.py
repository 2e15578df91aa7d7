"""Eq. (3) with a source term from the initial state, as in the authors' GRAND-based code (``add_source``):

    X' = Y,    Y' = σ(F_θ(X, t)) + κ X̄⁰ − γX − αY,

X̄⁰ the initial state with its gradient cut (a fixed input of the field, not a path back into the encoder) and κ
a trained scalar. The source keeps a trace of the input in the force at every depth.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from graphcon_ode.field import BoundGraphCONField, GraphCONField


class SourcedGraphCONField(GraphCONField):
    """A :class:`~graphcon_ode.field.GraphCONField` whose force adds κ X̄⁰; κ starts at ``source_weight``.

    Bind it with ``field.bind(edge_index, source=x0)``; ``x0`` is detached there.
    """

    def __init__(self, *args: Any, source_weight: float = 0.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source_weight = nn.Parameter(torch.tensor(float(source_weight)))

    def bind(self, edge_index: Tensor, num_nodes: int | None = None, *, source: Tensor,
             **graph: Any) -> BoundSourcedField:
        return BoundSourcedField(self, edge_index, num_nodes, graph, source.detach())


class BoundSourcedField(BoundGraphCONField):
    """g(t, X) = σ(F_θ(X, t)) + κ X̄⁰ on one graph."""

    def __init__(self, field: SourcedGraphCONField, edge_index: Tensor, num_nodes: int | None,
                 graph: dict[str, Any], source: Tensor):
        super().__init__(field, edge_index, num_nodes, graph)
        self.source = source

    def force(self, t: Tensor, x: Tensor) -> Tensor:
        return super().force(t, x) + self.field.source_weight * self.source
