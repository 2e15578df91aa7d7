"""GRAND's transformer attention as a coupling: the force of GraphCON-Tran in Table 1."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import add_remaining_self_loops, softmax

from graphcon_ode.couplings.base import Coupling, _replicate

ATTENTION_SCORES = ("scaled_dot", "cosine_sim", "exp_kernel")


class TransformerAttentionConv(nn.Module):
    """GRAND's multi-head transformer attention as a layer: F(X)_i = Σ_{j ∈ N_i ∪ {i}} ā_ij X_j, with

        ā_ij = (1/H) Σ_h a^h_ij,    a^h_ij = softmax_{j ∈ N_i ∪ {i}} s(q^h_i, k^h_j),
        q^h_i = W_Q^h X_i,  k^h_j = W_K^h X_j  (W_Q^h, W_K^h ∈ R^{d×m}, biased, d = attention_channels / H),

    and the score s one of

        "scaled_dot":  qᵀk / √d            (Vaswani et al.)
        "cosine_sim":  qᵀk / (‖q‖ ‖k‖)
        "exp_kernel":  σ_v² exp(−‖q − k‖² / (2ℓ²)),  σ_v and ℓ learnable (initially 1).

    As in GRAND, ``attention_channels`` (default m) is the total query/key size, split evenly over the heads, and
    the features are propagated unprojected (the attention only decides who diffuses how much), so F(X) − X is
    GRAND's diffusion (A(X) − I) X. Expects ``edge_index`` with self-loops (the coupling adds them).
    """

    def __init__(self, channels: int, heads: int = 1, attention: str = "scaled_dot",
                 attention_channels: int | None = None):
        super().__init__()
        if attention not in ATTENTION_SCORES:
            raise ValueError(f"attention: unknown attention score {attention!r}; known: {list(ATTENTION_SCORES)}")
        if heads < 1:
            raise ValueError(f"heads: must be >= 1, got {heads}")
        attention_channels = attention_channels or channels
        if attention_channels % heads:
            raise ValueError(f"attention_channels: {attention_channels} does not split evenly over {heads} heads")
        self.heads = heads
        self.attention = attention
        self.head_channels = attention_channels // heads
        self.query = nn.Linear(channels, attention_channels)
        self.key = nn.Linear(channels, attention_channels)
        if attention == "exp_kernel":
            self.output_scale = nn.Parameter(torch.ones(()))
            self.lengthscale = nn.Parameter(torch.ones(()))

    def scores(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """s(q^h_i, k^h_j) for every edge j → i and head h: shape [E, H]."""
        source, target = edge_index
        q = self.query(x).view(-1, self.heads, self.head_channels)[target]
        k = self.key(x).view(-1, self.heads, self.head_channels)[source]
        if self.attention == "scaled_dot":
            return (q * k).sum(-1) / self.head_channels ** 0.5
        if self.attention == "cosine_sim":
            return torch.nn.functional.cosine_similarity(q, k, dim=-1)
        squared = (q - k).pow(2).sum(-1)
        return self.output_scale ** 2 * torch.exp(-squared / (2 * self.lengthscale ** 2))

    def attention_weights(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """ā_ij for every edge j → i (heads averaged): shape [E]."""
        weights = softmax(self.scores(x, edge_index), edge_index[1], num_nodes=x.shape[0])
        return weights.mean(-1)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        """F(X); given ``edge_weight`` (attention computed beforehand) it is used instead of ā(X)."""
        source, target = edge_index
        if edge_weight is None:
            edge_weight = self.attention_weights(x, edge_index)
        messages = edge_weight.unsqueeze(-1) * x[source]
        return torch.zeros_like(x).index_add_(0, target, messages)

    def reset_parameters(self) -> None:
        self.query.reset_parameters()
        self.key.reset_parameters()
        if self.attention == "exp_kernel":
            nn.init.ones_(self.output_scale)
            nn.init.ones_(self.lengthscale)

    def extra_repr(self) -> str:
        return f"heads={self.heads}, attention={self.attention!r}, head_channels={self.head_channels}"


class TransformerAttention(Coupling):
    """GRAND's transformer attention (:class:`TransformerAttentionConv`) as F_θ: GraphCON-Tran of Table 1.

    Self-loops are added once per graph. ``attention`` picks the score ("scaled_dot", "cosine_sim",
    "exp_kernel"), ``heads`` the number of heads averaged, ``attention_channels`` the total query/key size.

    With ``fixed=True`` the attention is computed once, from the initial features, and held fixed over the solve:
    F(X) = A(X(0)) X, the time-independent coupling of Proposition 3.1 and of the authors' GraphCON-Tran runs
    (GRAND's attention block). Bind the field with the initial features:
    ``field.bind(edge_index, initial_state=x0)``.
    """

    def __init__(self, channels: int, heads: int = 1, attention: str = "scaled_dot",
                 attention_channels: int | None = None, num_steps: int | None = None,
                 step_size: float | None = None, fixed: bool = False):
        if fixed and num_steps is not None:
            raise ValueError("fixed: attention fixed from the initial state needs weights shared over time")
        super().__init__(_replicate(lambda: TransformerAttentionConv(channels, heads, attention, attention_channels),
                                    num_steps), step_size)
        self.fixed = fixed

    @property
    def uses_initial_state(self) -> bool:
        return self.fixed

    def prepare(self, edge_index, num_nodes, initial_state: Tensor | None = None, **graph):
        edge_index, _ = add_remaining_self_loops(edge_index, num_nodes=num_nodes)
        if not self.fixed:
            return {"edge_index": edge_index}
        if initial_state is None:
            raise ValueError("initial_state: a fixed attention needs field.bind(edge_index, initial_state=x0)")
        return {"edge_index": edge_index, "edge_weight": self.layers[0].attention_weights(initial_state, edge_index)}
