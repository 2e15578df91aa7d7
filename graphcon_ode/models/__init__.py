"""Models: node-level and graph-level GraphCON around the eq. (4) block, and the baselines they are compared with."""

from graphcon_ode.models.grand import GrandGraphCONModel
from graphcon_ode.models.graph import GNNGraphModel, GraphCONGraphModel
from graphcon_ode.models.node import GATNodeModel, GCNNodeModel, GraphCONNodeModel
from graphcon_ode.models.residual import HeterophilyBaseline

__all__ = ["GATNodeModel", "GCNNodeModel", "GNNGraphModel", "GrandGraphCONModel", "GraphCONGraphModel",
           "GraphCONNodeModel", "HeterophilyBaseline"]
