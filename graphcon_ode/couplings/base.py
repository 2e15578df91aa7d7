"""The coupling contract F_θ(X, t): the 1-neighbourhood GNN layer inside GraphCON's force σ(F_θ(X, t)) (eq. (2)).

A coupling holds either one layer shared over time or one layer per step (the paper's W^n, eq. (4)); with
per-step weights and step Δt, the layer used at time t is number n = ⌊t/Δt⌋ (clamped to the last layer, so that
an adaptive solver may evaluate at t = NΔt). Any PyG ``MessagePassing`` layer with ``in_channels ==
out_channels`` becomes a coupling through :func:`from_pyg`.

Graph-dependent preprocessing (self-loops, normalisation) is done once per bound graph by :meth:`Coupling.prepare`
and reused at every step.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch_geometric.nn.conv import MessagePassing

GraphArgs = dict[str, Any]


def _layer_index(t: Tensor | float, step_size: float, num_layers: int) -> int:
    """n = ⌊t/Δt⌋ clamped to [0, num_layers − 1]; a t within 1e-6 steps of a grid point counts as on it."""
    ratio = float(t) / step_size
    nearest = round(ratio)
    n = nearest if abs(ratio - nearest) < 1e-6 else math.floor(ratio)
    return min(max(n, 0), num_layers - 1)


class Coupling(nn.Module):
    """F_θ(X, t) built from PyG layers, shared over time or one per step.

    Args:
        layers: one layer (weights shared over time) or a list of layers, layer n used on [nΔt, (n+1)Δt).
        step_size: Δt of the per-step schedule; required with more than one layer.

    Class attributes:
        scatter_aggregation: whether the layers sum messages with scatter-adds (PyG's default aggregation), which
            on an accelerator are atomic: the order of the additions, and so the last bits of the sum, change from
            one evaluation to the next. A coupling that aggregates otherwise sets it to False.
    """

    scatter_aggregation: ClassVar[bool] = True

    def __init__(self, layers: nn.Module | list[nn.Module], step_size: float | None = None):
        super().__init__()
        layers = [layers] if isinstance(layers, nn.Module) else list(layers)
        if not layers:
            raise ValueError("layers: need at least one layer")
        if len(layers) > 1 and (step_size is None or not step_size > 0):
            raise ValueError(f"step_size: per-step weights need a step_size > 0, got {step_size!r}")
        self.layers = nn.ModuleList(layers)
        self.step_size = step_size

    @property
    def per_step(self) -> bool:
        return len(self.layers) > 1

    @property
    def channels(self) -> int | None:
        return getattr(self.layers[0], "out_channels", None)

    @property
    def uses_initial_state(self) -> bool:
        """Whether :meth:`prepare` needs the initial features (``bind(..., initial_state=x0)``)."""
        return False

    def deterministic(self, device: torch.device) -> bool:
        """Whether two evaluations on ``device`` give the same bits: always on the CPU, elsewhere when the layers
        do not aggregate by scatter or ``torch.use_deterministic_algorithms(True)`` (not ``warn_only``) makes the
        scatter deterministic or an error."""
        if device.type == "cpu" or not self.scatter_aggregation:
            return True
        enforced = torch.are_deterministic_algorithms_enabled()
        return enforced and not torch.is_deterministic_algorithms_warn_only_enabled()

    def prepare(self, edge_index: Tensor, num_nodes: int, **graph: Any) -> GraphArgs:
        """The keyword arguments every layer call gets besides X, computed once per graph (float64 where real)."""
        return {"edge_index": edge_index, **graph}

    def layer_at(self, t: Tensor | float) -> nn.Module:
        if not self.per_step:
            return self.layers[0]
        return self.layers[_layer_index(t, self.step_size, len(self.layers))]

    def forward(self, x: Tensor, graph: GraphArgs, t: Tensor | float = 0.0) -> Tensor:
        return self.layer_at(t)(x, **graph)

    def reset_parameters(self) -> None:
        for layer in self.layers:
            layer.reset_parameters()

    def extra_repr(self) -> str:
        return f"per_step={self.per_step}, step_size={self.step_size}"


def _replicate(make: Callable[[], nn.Module], num_steps: int | None) -> list[nn.Module]:
    """One layer shared over time (``num_steps`` None), else ``num_steps`` fresh layers W^0, …, W^{N−1} (eq. (4))."""
    if num_steps is None:
        return [make()]
    if num_steps < 1:
        raise ValueError(f"num_steps: must be a positive number of steps, got {num_steps}")
    return [make() for _ in range(num_steps)]


def from_pyg(conv: MessagePassing, num_steps: int | None = None, step_size: float | None = None) -> Coupling:
    """Any PyG ``MessagePassing`` layer as a coupling (its output must have as many channels as its input).

    With ``num_steps`` the layer is copied once per step and each copy re-initialised, giving independent W^n.
    Extra graph inputs (``edge_attr``, ``edge_weight``) are passed to ``field.bind(edge_index, edge_attr=...)``.
    """
    if not isinstance(conv, MessagePassing):
        raise TypeError(f"conv: expected a torch_geometric MessagePassing layer, got {type(conv).__name__}")

    def make() -> nn.Module:
        layer = copy.deepcopy(conv)
        if num_steps is not None and hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
        return layer

    if num_steps is None:
        return Coupling(conv, step_size)
    return Coupling(_replicate(make, num_steps), step_size)
