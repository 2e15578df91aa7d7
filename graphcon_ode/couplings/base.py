"""Couplings F_θ(X, t): the 1-neighbourhood GNN layer inside GraphCON's force σ(F_θ(X, t)) (eq. (2)).

A coupling holds either one layer shared over time or one layer per step (the paper's W^n, eq. (4)); with
per-step weights and step Δt, the layer used at time t is number n = ⌊t/Δt⌋ (clamped to the last layer, so that
an adaptive solver may evaluate at t = NΔt). Any PyG ``MessagePassing`` layer with ``in_channels ==
out_channels`` becomes a coupling through :func:`from_pyg`.

Graph-dependent preprocessing (self-loops, normalisation) is done once per bound graph by :meth:`Coupling.prepare`
and reused at every step.

Besides eq. (5)'s GCN and Section 2's GAT, two details of the authors' published node-level models are options here:
a learnable linear residual term inside σ (``GCN(residual=1|2)``, ``GAT(residual=True)``), and GRAND's transformer
attention (:class:`TransformerAttention`, the coupling of GraphCON-Tran in Table 1).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_remaining_self_loops, softmax

from graphcon_ode.sparse import SparseOperator

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
    """

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
    if num_steps is None:
        return [make()]
    if num_steps < 1:
        raise ValueError(f"num_steps: must be a positive number of steps, got {num_steps}")
    return [make() for _ in range(num_steps)]


def gcn_product(conv: GCNConv, operator: SparseOperator, x: Tensor) -> tuple[Tensor, Tensor]:
    """(S X W + b, X W) with the layer's own W (``lin``) and b (``bias``), S the cached normalised operator."""
    projected = conv.lin(x)
    out = operator @ projected
    return (out if conv.bias is None else out + conv.bias), projected


class ResidualGCNConv(nn.Module):
    """A GCN layer with the authors' learnable residual term, to sit inside σ (eq. (5) plus a Linear R):

        version 1:  F(X) = SXW + b − R(XW)
        version 2:  F(X) = SXW + b − XW + R(X)

    with S the normalised adjacency of eq. (5), W the layer's own weight and R = Linear(m, m). Version 2 removes
    the self-feature term XW and lets R choose it freely.
    """

    def __init__(self, channels: int, version: int, bias: bool = True):
        super().__init__()
        if version not in (1, 2):
            raise ValueError(f"residual: the residual version must be 1 or 2, got {version!r}")
        self.conv = GCNConv(channels, channels, normalize=False, bias=bias)
        self.residual = nn.Linear(channels, channels)
        self.version = version

    def forward(self, x: Tensor, operator: SparseOperator) -> Tensor:
        out, projected = gcn_product(self.conv, operator, x)
        if self.version == 1:
            return out - self.residual(projected)
        return out - projected + self.residual(x)

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()
        self.residual.reset_parameters()

    def extra_repr(self) -> str:
        return f"version={self.version}"


class GCN(Coupling):
    """Graph convolution of Kipf & Welling, eq. (5): F(X) = D̂^{−1/2} Â D̂^{−1/2} X W (+ b), Â = A + I.

    Args:
        channels: m, the number of node features (input and output).
        num_steps: None for weights shared over time, else one W^n per step.
        step_size: Δt of the per-step schedule.
        bias: add a learnable bias b (PyG's default; eq. (5) has none).
        residual: None for eq. (5); 1 or 2 adds the authors' residual term (:class:`ResidualGCNConv`).
    """

    def __init__(self, channels: int, num_steps: int | None = None, step_size: float | None = None,
                 bias: bool = True, residual: int | None = None):
        def make() -> nn.Module:
            if residual is None:
                return GCNConv(channels, channels, normalize=False, bias=bias)
            return ResidualGCNConv(channels, residual, bias=bias)

        super().__init__(_replicate(make, num_steps), step_size)

    def prepare(self, edge_index, num_nodes, **graph):
        """D̂^{−1/2} Â D̂^{−1/2} once per graph, as a sparse CSR operator with its transpose cached: its product is
        several times faster on CPU, forward and backward, than PyG's scatter over an edge list, and it is
        deterministic (benchmarks/profile_step.py)."""
        edge_index, edge_weight = gcn_norm(edge_index, graph.get("edge_weight"), num_nodes, add_self_loops=True,
                                           dtype=torch.float64)
        return {"operator": SparseOperator(edge_index, edge_weight, num_nodes)}

    def forward(self, x: Tensor, graph: GraphArgs, t: Tensor | float = 0.0) -> Tensor:
        layer = self.layer_at(t)
        if isinstance(layer, ResidualGCNConv):
            return layer(x, graph["operator"])
        return gcn_product(layer, graph["operator"], x)[0]


class ResidualGATConv(nn.Module):
    """A multi-head GAT layer (heads averaged) plus the authors' learnable residual: F(X) = A(X) X W + b + R(X)."""

    def __init__(self, channels: int, heads: int = 1, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        self.conv = GATConv(channels, channels, heads=heads, concat=False, bias=bias, dropout=dropout)
        self.residual = nn.Linear(channels, channels)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.conv(x, edge_index) + self.residual(x)

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()
        self.residual.reset_parameters()


class GAT(Coupling):
    """Graph attention of Veličković et al. as in Section 2: F(X) = A(X) X W with

        A_ij = softmax_{j ∈ N_i ∪ {i}} LeakyReLU(aᵀ[W X_i ‖ W X_j]),

    with ``heads`` independent attention heads averaged (PyG's GATConv with ``concat=False``; self-loops added).
    ``residual=True`` adds the authors' learnable linear term R(X) (:class:`ResidualGATConv`); ``dropout`` drops
    attention coefficients in training (as in Veličković et al.).
    """

    def __init__(self, channels: int, heads: int = 1, num_steps: int | None = None,
                 step_size: float | None = None, bias: bool = True, residual: bool = False, dropout: float = 0.0):
        def make() -> nn.Module:
            if residual:
                return ResidualGATConv(channels, heads=heads, bias=bias, dropout=dropout)
            return GATConv(channels, channels, heads=heads, concat=False, bias=bias, dropout=dropout)

        super().__init__(_replicate(make, num_steps), step_size)


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


from graphcon_ode.couplings.gat_authors import ChannelMeanGAT  # noqa: E402  (the authors' GraphCON-GAT force)
from graphcon_ode.couplings.graph_layers import GIN, SAGE, GatedGCN  # noqa: E402  (they subclass Coupling, defined above)

COUPLINGS: dict[str, type[Coupling]] = {
    "gcn": GCN,
    "gat": GAT,
    "transformer": TransformerAttention,
    "gin": GIN,
    "gatedgcn": GatedGCN,
    "sage": SAGE,
    "gat-authors": ChannelMeanGAT,
}
"""Every coupling by name, the one registry ``make_coupling``, the experiments and the CLI read. A coupling class
takes ``Cls(channels, *, num_steps=None, step_size=None, **options)`` (attention couplings also ``heads``); a new
coupling is the class plus one line here."""
