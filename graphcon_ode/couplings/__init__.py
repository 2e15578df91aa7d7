"""Couplings F_θ(X, t): the 1-neighbourhood GNN layer inside GraphCON's force σ(F_θ(X, t)) (eq. (2))."""

from graphcon_ode.couplings.base import (
    ATTENTION_SCORES,
    COUPLINGS,
    GAT,
    GCN,
    GIN,
    SAGE,
    ChannelMeanGAT,
    Coupling,
    GatedGCN,
    TransformerAttention,
    from_pyg,
)
from graphcon_ode.couplings.sep import SepAttention, SepMean

__all__ = ["ATTENTION_SCORES", "COUPLINGS", "GAT", "GCN", "GIN", "SAGE", "ChannelMeanGAT", "Coupling", "GatedGCN",
           "SepAttention", "SepMean", "TransformerAttention", "from_pyg"]
