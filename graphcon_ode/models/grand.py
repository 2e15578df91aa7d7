"""``graphcon-grand``: the GraphCON-GCN of the authors' GRAND-based code, the network of the depth study (Table 8).

With H = W_enc x + b_enc (a linear encoder, no activation), H̄ its detached copy, C the PyG GCN operator with its
bias and no σ, and three trained scalars β₁, β₂, a (all initialised at 0), s₁ = sigmoid(β₁), s₂ = sigmoid(β₂),
c = (1 − s₂)·sigmoid(a), the authors' vector field is

    Y' = (1 − s₁)(C(X) − X − Y) + s₁ H̄,     X' = c Y + s₂ H̄,     X⁰ = Y⁰ = H,

stepped by symplectic Euler, velocity first, with Δt (= 1 in their sweep):

    Y⁺ = Y + Δt [(1 − s₁)(C(X) − X − Y) + s₁ H̄],     X⁺ = X + Δt (c Y⁺ + s₂ H̄).

In the variables (X, Ỹ), Ỹ = cY + s₂H̄, this is eq. (3) with σ = id, F(X) = c(1 − s₁) C(X) + κ H̄,
κ = (1 − s₁)s₂ + c s₁, damping α̃ = 1 − s₁ and frequency γ̃ = c(1 − s₁) (both in (0, 1); ½ and ⅛ at
initialisation): Ỹ⁺ = cY⁺ + s₂H̄ = Ỹ + Δt(F(X) − γ̃X − α̃Ỹ) and X⁺ = X + Δt Ỹ⁺, one step of eq. (4) exactly. The
model therefore runs on the library's ``imex`` solver with trained α̃ and γ̃.

Read-outs: the training output is W_dec dropout(ReLU(X(T))); the authors' evaluation also decodes W_dec ReLU(Y^k)
of the velocity Y = (Ỹ − s₂H̄)/c after every step k of a solve to 3T (see :meth:`GrandGraphCONModel.trajectory`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphcon_ode.couplings.gcn import GCN
from graphcon_ode.field import BoundGraphCONField, GraphCONField
from graphcon_ode.models.node import dropout_features
from graphcon_ode.odeint import odeint


def _identity(x: Tensor) -> Tensor:
    return x


class GrandGraphCONField(GraphCONField):
    """The field above: a GCN coupling with bias, σ = id, and α̃, γ̃, the force's scale and κ from β₁, β₂, a."""

    def __init__(self, channels: int):
        super().__init__(GCN(channels), activation=_identity)
        self.beta1 = nn.Parameter(torch.zeros(()))
        self.beta2 = nn.Parameter(torch.zeros(()))
        self.a = nn.Parameter(torch.zeros(()))

    def gates(self) -> tuple[Tensor, Tensor, Tensor]:
        """(s₁, s₂, c)."""
        s1, s2 = torch.sigmoid(self.beta1), torch.sigmoid(self.beta2)
        return s1, s2, (1 - s2) * torch.sigmoid(self.a)

    @property
    def alpha(self) -> Tensor:
        """α̃ = 1 − s₁."""
        return 1 - torch.sigmoid(self.beta1)

    @property
    def gamma(self) -> Tensor:
        """γ̃ = c(1 − s₁)."""
        s1, _, c = self.gates()
        return c * (1 - s1)

    def bind(self, edge_index: Tensor, num_nodes: int | None = None, *, source: Tensor) -> BoundGrandField:
        """The field on ``edge_index`` with the source H̄ = ``source`` (detached here)."""
        return BoundGrandField(self, edge_index, num_nodes, source.detach())

    def extra_repr(self) -> str:
        return "sigma=id, alpha=1-s1, gamma=c(1-s1)"


class BoundGrandField(BoundGraphCONField):
    """g(X) = c(1 − s₁) C(X) + κ H̄ on one graph; α̃ and γ̃ are read from the field at every evaluation."""

    def __init__(self, field: GrandGraphCONField, edge_index: Tensor, num_nodes: int | None, source: Tensor):
        super().__init__(field, edge_index, num_nodes, {})
        self.source = source

    def force(self, t: Tensor, x: Tensor) -> Tensor:
        s1, s2, c = self.field.gates()
        kappa = (1 - s1) * s2 + c * s1
        return c * (1 - s1) * super().force(t, x) + kappa * self.source


class GrandGraphCONModel(nn.Module):
    """Encoder → the field above for T = NΔt → decoder, as in the authors' GRAND-based code.

    Args:
        in_channels, hidden_channels, out_channels: feature, hidden (64 in the depth study) and class dimensions.
        num_layers: N, the number of steps of the training solve; T = N·Δt.
        step_size: Δt.
        input_dropout: dropout on the raw features.
        dropout: dropout on ReLU(X(T)) before the decoder.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, *, num_layers: int,
                 step_size: float = 1.0, input_dropout: float = 0.0, dropout: float = 0.0):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers: must be >= 1, got {num_layers}")
        if not step_size > 0:
            raise ValueError(f"step_size: must be > 0, got {step_size}")
        self.encoder = nn.Linear(in_channels, hidden_channels)
        self.field = GrandGraphCONField(hidden_channels)
        self.decoder = nn.Linear(hidden_channels, out_channels)
        self.num_layers, self.step_size = num_layers, step_size
        self.input_dropout, self.dropout = input_dropout, dropout

    def encode(self, x: Tensor) -> Tensor:
        """H = W_enc dropout(x) + b_enc."""
        return self.encoder(dropout_features(x, self.input_dropout, self.training))

    def trajectory(self, x: Tensor, edge_index: Tensor, steps: int) -> tuple[Tensor, Tensor]:
        """(X^k, Y^k) for k = 0 … ``steps``, stacked; Y is the authors' velocity (Y⁰ = H), recovered from Ỹ."""
        h = self.encode(x)
        bound = self.field.bind(edge_index, source=h)
        _, s2, c = self.field.gates()
        start = c * h + s2 * bound.source
        t = torch.arange(steps + 1, dtype=h.dtype, device=h.device) * self.step_size
        xs, ys = odeint(bound, (h, start), t, method="imex", options={"step_size": self.step_size})
        return xs, (ys - s2 * bound.source) / c

    def step_logits(self, x: Tensor, edge_index: Tensor, steps: int) -> tuple[Tensor, Tensor]:
        """The read-outs of a solve of ``steps`` steps, stacked over k = 1 … ``steps``: W_dec ReLU(Y^k) of the
        authors' velocity (their evaluation's per-step candidates) and W_dec ReLU(X^k) (the model's output at
        T = kΔt, without dropout)."""
        xs, ys = self.trajectory(x, edge_index, steps)
        return self.decoder(torch.relu(ys[1:])), self.decoder(torch.relu(xs[1:]))

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        xs, _ = self.trajectory(x, edge_index, self.num_layers)
        return self.decoder(F.dropout(torch.relu(xs[-1]), self.dropout, self.training))
