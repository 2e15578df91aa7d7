"""The linear-coupling field of eq. (8), X' = Y, Y' = σ(AX) − γX − αY, for a fixed dense A, from library pieces.

F(X) = AX is PyG's ``SimpleConv`` (a weighted sum over incoming edges) with edge weights A_ij, so the system is a
:class:`~graphcon_ode.GraphCONField` like any other and is solved by :func:`graphcon_ode.odeint`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch_geometric.nn import SimpleConv

from graphcon_ode.field import BoundGraphCONField, GraphCONField


def linear_field(a: Tensor, alpha: float, gamma: float = 1.0,
                 activation: Callable[[Tensor], Tensor] | None = None) -> BoundGraphCONField:
    """The bound field of (8) with coupling F(X) = AX (A dense, A_ij weighting the message j → i)."""
    target, source = a.nonzero(as_tuple=True)
    field = GraphCONField(SimpleConv(aggr="sum"), alpha=alpha, gamma=gamma, activation=activation)
    return field.bind(torch.stack([source, target]), num_nodes=a.shape[0], edge_weight=a[target, source])


def identity(x: Tensor) -> Tensor:
    """σ = id, the activation of the coupled linear case of Section 3."""
    return x
