"""A model's bound field follows its graph: an edit of the edge list that bypasses torch's version counter (through
``.data`` or a numpy view) is seen by the edge checksum, and the next forward pass uses the edited graph."""

import pytest
import torch

from graphcon_ode import GraphCONNodeModel
from graphcon_ode.graph_inputs import edge_checksum, graph_key
from tests.graphs import random_graph


def model_and_graph() -> tuple[GraphCONNodeModel, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = GraphCONNodeModel(3, 6, 2, num_layers=3, step_size=0.5, alpha=0.5).double().eval()
    return model, random_graph(12, 30), torch.randn(12, 3, dtype=torch.float64)


def edit_through_data(edges: torch.Tensor) -> None:
    edges.data[1, 0] = (edges[1, 0] + 1) % 12


def other_edge(edges: torch.Tensor) -> int:
    """An edge whose source and target both differ from those of edge 0."""
    return int(((edges[0] != edges[0, 0]) & (edges[1] != edges[1, 0])).nonzero()[0])


def edit_through_numpy(edges: torch.Tensor) -> None:
    view, j = edges.numpy(), other_edge(edges)
    view[0, 0], view[0, j] = view[0, j], view[0, 0]  # exchanges the sources of two edges


@pytest.mark.parametrize("edit", [edit_through_data, edit_through_numpy])
def test_an_edit_behind_the_version_counter_rebinds_the_field(edit):
    model, edges, x = model_and_graph()
    with torch.no_grad():
        model(x, edges)
        bound = model.block._bound[1]
        version = edges._version
        edit(edges)
        assert edges._version == version, "the edit bypasses the version counter"
        after = model(x, edges)
        assert model.block._bound[1] is not bound
        fresh, _, _ = model_and_graph()
        assert torch.equal(after, fresh(x, edges.clone()))


def test_an_unchanged_graph_keeps_its_bound_field():
    model, edges, x = model_and_graph()
    with torch.no_grad():
        model(x, edges)
        bound = model.block._bound[1]
        model(x, edges)
    assert model.block._bound[1] is bound


def test_the_checksum_sees_changed_and_exchanged_edges_and_ignores_their_order():
    edges = random_graph(12, 30)
    base = edge_checksum(edges)
    assert edge_checksum(edges[:, torch.randperm(edges.shape[1])]) == base
    exchanged, j = edges.clone(), other_edge(edges)
    exchanged[1, 0], exchanged[1, j] = edges[1, j], edges[1, 0]
    assert edge_checksum(exchanged) != base
    for position in range(edges.shape[1]):
        changed = edges.clone()
        changed[0, position] = (changed[0, position] + 1) % 12
        assert edge_checksum(changed) != base
    total = sum(h + h * h for h in (s * 2_147_483_647 + t for s, t in edges.t().tolist()))
    assert base == (total + 2**63) % 2**64 - 2**63, "Σ h + h², wrapping as int64 does"
    assert graph_key(edges)[-1] == base
