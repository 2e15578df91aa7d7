import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import ResGatedGraphConv

from graphcon_ode import from_pyg
from graphcon_ode.models import GNNGraphModel, GraphCONGraphModel
from solvers import BACKWARD_MODES, METHODS
from tests.graphs import gcn_operator, random_graph

ATOM_TYPES, BOND_TYPES = 5, 4


def molecules(sizes=(6, 9, 4, 7), seed=0) -> list[Data]:
    """Small random graphs with integer atom types and integer bond types, as ZINC stores them."""
    g = torch.Generator().manual_seed(seed)
    graphs = []
    for i, n in enumerate(sizes):
        edge_index = random_graph(n, 2 * n, seed=seed + i)
        graphs.append(Data(x=torch.randint(ATOM_TYPES, (n, 1), generator=g), edge_index=edge_index,
                           edge_attr=torch.randint(BOND_TYPES, (edge_index.shape[1],), generator=g)))
    return graphs


def one_batch(graphs):
    return next(iter(DataLoader(graphs, batch_size=len(graphs))))


def model(out_channels=3, **kwargs):
    torch.manual_seed(0)
    options = dict(num_layers=4, step_size=0.5, alpha=0.7, gamma=1.3, atom_vocabulary=ATOM_TYPES)
    return GraphCONGraphModel(1, 6, out_channels, **{**options, **kwargs}).double().eval()


def outputs_and_gradients(net, graph, batch, index):
    """Graph ``index``'s output and the parameter gradients of its sum, once inside ``batch`` and once alone."""
    results = []
    for data, row in ((batch, index), (graph, 0)):
        net.zero_grad()
        out = net(data.x, data.edge_index, getattr(data, "batch", None), data.edge_attr)[row]
        out.sum().backward()
        results.append((out.detach(), {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}))
    return results


def test_one_row_per_graph_for_every_pool_and_head():
    batch = one_batch(molecules())
    for pool in ("add", "mean"):
        for out_channels in (1, 10):
            net = model(out_channels, pool=pool)
            assert net(batch.x, batch.edge_index, batch.batch).shape == (4, out_channels)


def test_the_model_is_encoder_eq4_sum_pool_and_mlp_written_out():
    graphs = molecules()
    batch = one_batch(graphs)
    net = model()
    conv = net.field.coupling.layers[0]
    h = torch.relu(net.encoder.weight[batch.x[:, 0]])
    s = gcn_operator(batch.edge_index, batch.num_nodes)
    y = h
    for _ in range(4):
        y = y + 0.5 * (torch.relu(s @ h @ conv.lin.weight.T + conv.bias) - 1.3 * h - 0.7 * y)
        h = h + 0.5 * y
    pooled = torch.stack([h[batch.batch == i].sum(0) for i in range(4)])
    first, last = net.readout.mlp.lins
    expected = torch.relu(pooled @ first.weight.T + first.bias) @ last.weight.T + last.bias
    assert torch.allclose(net(batch.x, batch.edge_index, batch.batch), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", sorted(BACKWARD_MODES))
def test_a_graph_gets_the_same_output_and_gradients_alone_and_in_a_batch(mode):
    graphs = molecules()
    batch = one_batch(graphs)
    net = model(backward=mode)
    (in_batch, batch_grads), (alone, alone_grads) = outputs_and_gradients(net, graphs[1], batch, 1)
    assert torch.allclose(in_batch, alone, rtol=0, atol=1e-12)
    assert batch_grads.keys() == alone_grads.keys() == {n for n, _ in net.named_parameters()}
    for name in batch_grads:
        assert torch.allclose(batch_grads[name], alone_grads[name], rtol=0, atol=1e-10), name
    assert all(grad.abs().sum() > 0 for grad in batch_grads.values())
    if mode != "adjoint":  # the discrete modes give backprop's gradient; the continuous adjoint that of the ODE
        exact = outputs_and_gradients(model(), graphs[1], batch, 1)[0][1]
        for name in batch_grads:
            assert torch.allclose(batch_grads[name], exact[name], rtol=1e-9, atol=1e-9), name


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_partitioned_method_solves_a_batch_graph_by_graph(method):
    graphs = molecules()
    batch = one_batch(graphs)
    net = model(method=method)
    out = net(batch.x, batch.edge_index, batch.batch)
    for i, graph in enumerate(graphs):
        assert torch.allclose(out[i], net(graph.x, graph.edge_index)[0], rtol=0, atol=1e-12)
    assert net.last_stats.method == method and net.last_stats.steps == 4


@pytest.mark.parametrize("mode", sorted(BACKWARD_MODES))
def test_bond_types_reach_the_gated_coupling_in_a_batch_in_every_backward_mode(mode):
    graphs = molecules()
    batch = one_batch(graphs)
    net = model(coupling="gatedgcn", edge_dim=3, edge_vocabulary=BOND_TYPES, backward=mode)
    (in_batch, batch_grads), (alone, alone_grads) = outputs_and_gradients(net, graphs[2], batch, 2)
    assert torch.allclose(in_batch, alone, rtol=0, atol=1e-12)
    table = "field.coupling.edge_embedding.weight"
    assert batch_grads[table].abs().sum() > 0
    assert torch.allclose(batch_grads[table], alone_grads[table], rtol=0, atol=1e-10)
    shuffled = graphs[2].clone()
    shuffled.edge_attr = (shuffled.edge_attr + 1) % BOND_TYPES
    assert not torch.allclose(net(shuffled.x, shuffled.edge_index, None, shuffled.edge_attr), alone)


@pytest.mark.parametrize("coupling", ["gat", "gin", "sage", "transformer"])
def test_other_couplings_keep_graphs_apart(coupling):
    graphs = molecules()
    batch = one_batch(graphs)
    net = model(coupling=coupling, per_step_weights=True)
    out = net(batch.x, batch.edge_index, batch.batch)
    assert torch.allclose(out[3], net(graphs[3].x, graphs[3].edge_index)[0], rtol=0, atol=1e-12)


def test_float_features_go_through_a_linear_encoder_with_input_dropout():
    torch.manual_seed(0)
    graphs = [Data(x=torch.randn(n, 3, dtype=torch.float64), edge_index=random_graph(n, 2 * n, seed=n))
              for n in (5, 8)]
    batch = one_batch(graphs)
    net = GraphCONGraphModel(3, 6, 2, num_layers=3, input_dropout=0.5, dropout=0.5, pool="mean").double()
    net.eval()
    assert torch.allclose(net(batch.x, batch.edge_index, batch.batch)[1], net(graphs[1].x, graphs[1].edge_index)[0],
                          rtol=0, atol=1e-12)
    net.train()
    torch.manual_seed(1)
    first = net(batch.x, batch.edge_index, batch.batch)
    assert not torch.allclose(first, net(batch.x, batch.edge_index, batch.batch))


@pytest.mark.parametrize("conv", ["gcn", "gat"])
def test_the_plain_baseline_has_the_same_encoder_pool_and_readout(conv):
    graphs = molecules()
    batch = one_batch(graphs)
    torch.manual_seed(0)
    net = GNNGraphModel(1, 6, 2, conv=conv, num_layers=5, atom_vocabulary=ATOM_TYPES, heads=2).double().eval()
    assert len(net.convs) == 5
    out = net(batch.x, batch.edge_index, batch.batch)
    assert out.shape == (4, 2)
    assert torch.allclose(out[0], net(graphs[0].x, graphs[0].edge_index)[0], rtol=0, atol=1e-12)


def test_the_zinc_setting_has_about_a_hundred_thousand_parameters():
    net = GraphCONGraphModel(1, 220, 1, num_layers=22, atom_vocabulary=28)
    assert 95_000 < sum(p.numel() for p in net.parameters()) < 110_000


def test_arguments_are_checked_at_the_boundary():
    with pytest.raises(ValueError, match="edge_dim"):
        GraphCONGraphModel(1, 6, 1, coupling="gcn", edge_dim=4)
    with pytest.raises(ValueError, match="edge_vocabulary"):
        GraphCONGraphModel(1, 6, 1, coupling="gatedgcn", edge_vocabulary=4)
    with pytest.raises(ValueError, match="in_channels"):
        GraphCONGraphModel(3, 6, 1, atom_vocabulary=28)
    with pytest.raises(ValueError, match="pool"):
        GraphCONGraphModel(3, 6, 1, pool="max-plus")
    with pytest.raises(ValueError, match="conv"):
        GNNGraphModel(3, 6, 1, conv="cheb")
    graph = molecules()[0]
    with pytest.raises(TypeError, match="x"):
        model()(graph.x.double(), graph.edge_index)
    with pytest.raises(ValueError, match="edge_attr"):
        model(coupling="gatedgcn", edge_dim=3, edge_vocabulary=BOND_TYPES)(graph.x, graph.edge_index)


def test_a_pyg_layer_with_float_edge_features_as_the_coupling():
    torch.manual_seed(0)
    graphs = molecules()
    for graph in graphs:
        graph.edge_attr = torch.randn(graph.edge_index.shape[1], 2, dtype=torch.float64)
    batch = one_batch(graphs)
    net = model(coupling=from_pyg(ResGatedGraphConv(6, 6, edge_dim=2)), edge_dim=2)
    out = net(batch.x, batch.edge_index, batch.batch, batch.edge_attr)
    alone = net(graphs[0].x, graphs[0].edge_index, None, graphs[0].edge_attr)
    assert torch.allclose(out[0], alone[0], rtol=0, atol=1e-12)
    assert not torch.allclose(alone, net(graphs[0].x, graphs[0].edge_index, None, 2 * graphs[0].edge_attr))


def test_an_adaptive_method_solves_a_batch_to_its_tolerance():
    graphs = molecules()
    batch = one_batch(graphs)
    net = model(method="dopri5", rtol=1e-10, atol=1e-10)
    out = net(batch.x, batch.edge_index, batch.batch)
    alone = net(graphs[2].x, graphs[2].edge_index)
    assert torch.allclose(out[2], alone[0], rtol=0, atol=1e-7)  # steps chosen for the batch, not for the graph
    assert net.last_stats.nfe_forward > 0


@pytest.mark.parametrize("pool", ["add", "mean"])
@pytest.mark.parametrize("kind", ["graphcon", "gnn"])
def test_a_batch_keeps_a_last_graph_without_nodes(pool, kind):
    """batch.num_graphs rows; the empty graph pools to 0 (an empty sum, PyG's empty mean), so its row is MLP(0)."""
    empty = torch.zeros(2, 0, dtype=torch.long)
    graphs = molecules()[:2] + [Data(x=torch.zeros(0, 1, dtype=torch.long), edge_index=empty,
                                     edge_attr=torch.zeros(0, dtype=torch.long))]
    batch = one_batch(graphs)
    torch.manual_seed(0)
    net = (model(pool=pool) if kind == "graphcon" else
           GNNGraphModel(1, 6, 3, num_layers=3, atom_vocabulary=ATOM_TYPES, pool=pool).double().eval())
    out = net(batch.x, batch.edge_index, batch.batch, num_graphs=batch.num_graphs)
    assert out.shape == (batch.num_graphs, 3) == (3, 3)
    for i, graph in enumerate(graphs[:2]):
        assert torch.allclose(out[i], net(graph.x, graph.edge_index)[0], rtol=0, atol=1e-12)
    assert torch.equal(out[2], net.readout.mlp(torch.zeros(1, 6, dtype=torch.float64))[0])
