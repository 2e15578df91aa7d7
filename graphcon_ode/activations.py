"""Activations σ by name, for settings files and the command line ("relu", "elu", "tanh", "identity")."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from solvers.registry import Registry


def identity(x: Tensor) -> Tensor:
    """σ(x) = x (GRAND's linear diffusion, GraphCON-Tran's σ)."""
    return x


ACTIVATIONS: Registry[Callable[[Tensor], Tensor]] = Registry("activation", {
    "relu": torch.relu,
    "elu": F.elu,
    "tanh": torch.tanh,
    "identity": identity,
})
"""Every activation by name; a new one is ``ACTIVATIONS.register(name, function)`` (a taken name is a ``KeyError``)."""


def get_activation(name: str) -> Callable[[Tensor], Tensor]:
    """The activation called ``name``; ``ValueError`` naming ``activation`` for an unknown name."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]
