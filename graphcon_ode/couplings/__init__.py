"""Couplings F_θ(X, t): the 1-neighbourhood GNN layer inside GraphCON's force σ(F_θ(X, t)) (eq. (2)).

The contract is :class:`~graphcon_ode.couplings.base.Coupling`; each member is one module: eq. (5)'s GCN
(:mod:`.gcn`), Section 2's GAT and the authors' channel-mean GAT (:mod:`.gat`), GRAND's transformer attention
(:mod:`.transformer`), the ego/neighbour-separated couplings (:mod:`.sep`), the tuned GCN* layer
(:mod:`.tuned_gcn`), and the graph-level benchmarks' GIN (:mod:`.gin`), GraphSAGE (:mod:`.sage`) and gated GCN
(:mod:`.gated_gcn`). :data:`COUPLINGS` knows them by name and :func:`make_coupling` builds one from its name.
"""

from __future__ import annotations

import inspect
from typing import Any

from graphcon_ode.couplings.base import Coupling, from_pyg
from graphcon_ode.couplings.gat import GAT, ChannelMeanGAT
from graphcon_ode.couplings.gated_gcn import GatedGCN
from graphcon_ode.couplings.gcn import GCN
from graphcon_ode.couplings.gin import GIN
from graphcon_ode.couplings.sage import SAGE
from graphcon_ode.couplings.sep import SepAttention, SepMean
from graphcon_ode.couplings.transformer import ATTENTION_SCORES, TransformerAttention
from graphcon_ode.couplings.tuned_gcn import TunedGCN
from solvers.registry import Registry

COUPLINGS: Registry[type[Coupling]] = Registry("coupling", {
    "gcn": GCN,
    "gat": GAT,
    "transformer": TransformerAttention,
    "gin": GIN,
    "gatedgcn": GatedGCN,
    "sage": SAGE,
    "gat-authors": ChannelMeanGAT,
    "sep-mean": SepMean,
    "sep-gat": SepAttention,
    "gcn-tuned": TunedGCN,
})
"""Every coupling by name, the one registry :func:`make_coupling`, the experiments and the CLI read. A coupling class
takes ``Cls(channels, *, num_steps=None, step_size=None, **options)`` (attention couplings also ``heads``); a new
coupling is the class plus ``COUPLINGS.register(name, Cls)``. A name is never silently replaced: assigning a taken
name raises ``KeyError``, ``COUPLINGS.register(name, Cls, replace=True)`` replaces it on purpose."""


def make_coupling(kind: str | Coupling, channels: int, *, heads: int = 1, num_steps: int | None = None,
                  step_size: float | None = None, options: dict[str, Any] | None = None) -> Coupling:
    """A coupling by its name in :data:`COUPLINGS` ("gcn", "gat", "transformer", …) or the given :class:`Coupling`
    itself.

    ``options`` are further keyword arguments of the coupling class, e.g. ``{"residual": 1}`` for "gcn" or
    ``{"attention": "cosine_sim"}`` for "transformer"; ``heads`` goes to the couplings that take it.
    """
    if isinstance(kind, Coupling):
        return kind
    if kind not in COUPLINGS:
        raise ValueError(f"coupling: unknown coupling {kind!r}; known: {sorted(COUPLINGS)}")
    cls = COUPLINGS[kind]
    options = dict(options or {})
    if "heads" in inspect.signature(cls).parameters:
        options["heads"] = heads
    return cls(channels, num_steps=num_steps, step_size=step_size, **options)


__all__ = ["ATTENTION_SCORES", "COUPLINGS", "GAT", "GCN", "GIN", "SAGE", "ChannelMeanGAT", "Coupling", "GatedGCN",
           "SepAttention", "SepMean", "TransformerAttention", "TunedGCN", "from_pyg", "make_coupling"]
