"""Datasets: the offline node-level sets, the graph-level sets and stand-ins, and generated graphs.

:mod:`.storage` (data and cache roots, raw-file checks) · :mod:`.node` (Planetoid, WebKB, Actor; the registry
``DATASETS`` and the split protocols) · :mod:`.heterophilous` (Platonov et al., 2023) · :mod:`.graph` (graph-level
sets, the registry ``GRAPH_DATASETS``) with the stand-ins :mod:`.molecules` and :mod:`.superpixels` ·
:mod:`.synthetic` (generated graphs).
"""

from graphcon_ode.datasets.graph import GRAPH_DATASETS, GraphDataset, load_graph_dataset
from graphcon_ode.datasets.node import (
    DATASETS,
    GEOM_GCN_SPLITS,
    check_raw_files,
    geom_gcn_split,
    largest_connected_component,
    load_dataset,
    random_split,
)
from graphcon_ode.datasets.storage import DatasetParseError, MissingDatasetError, resolve_data_root
from graphcon_ode.datasets.synthetic import contextual_sbm, degree_corrected_sbm, edge_homophily

__all__ = ["DATASETS", "GEOM_GCN_SPLITS", "GRAPH_DATASETS", "DatasetParseError", "GraphDataset",
           "MissingDatasetError", "check_raw_files", "contextual_sbm", "degree_corrected_sbm", "edge_homophily",
           "geom_gcn_split", "largest_connected_component", "load_dataset", "load_graph_dataset", "random_split",
           "resolve_data_root"]
