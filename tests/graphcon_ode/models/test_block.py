"""The GraphCON block both model levels compose: state-dict names, weights and outputs as before the block existed,
one holder of the step size, and ``backward=`` as the name of the backward mode."""

import pytest
import torch
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import MLP

from graphcon_ode import odeint
from graphcon_ode.couplings import GCN, make_coupling
from graphcon_ode.field import GraphCONField
from graphcon_ode.models import GraphCONGraphModel, GraphCONNodeModel
from graphcon_ode.models.block import GraphCONBlock
from solvers import Checkpoint
from tests.graphs import random_graph


def node_outputs(net):
    """Two training-mode forward passes (and backward passes) on a fixed graph, as sums."""
    net = net.double().train()
    x = torch.randn(12, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    edge_index = random_graph(12, 30, seed=3)
    torch.manual_seed(5)
    sums = []
    for _ in range(2):
        out = net(x, edge_index)
        out.sum().backward()
        sums.append(out.sum().item())
    return sums


def graph_outputs(net):
    net = net.double().train()
    g = torch.Generator().manual_seed(1)
    graphs = []
    for i, n in enumerate((5, 7, 4)):
        edge_index = random_graph(n, 2 * n, seed=i)
        graphs.append(Data(x=torch.randint(5, (n, 1), generator=g), edge_index=edge_index,
                           edge_attr=torch.randint(4, (edge_index.shape[1],), generator=g)))
    batch = Batch.from_data_list(graphs)
    torch.manual_seed(5)
    sums = []
    for _ in range(2):
        out = net(batch.x, batch.edge_index, batch.batch, batch.edge_attr)
        out.sum().backward()
        sums.append(out.sum().item())
    return sums


def seeded(cls, *args, **kwargs):
    torch.manual_seed(0)
    return cls(*args, **kwargs)


# Recorded with the models as they were before the block (same seeds, same draws): any change in the order of
# random draws or of operations shows here.
RECORDED = [
    (lambda: seeded(GraphCONNodeModel, 5, 6, 3, num_layers=3, step_size=0.5, dropout=0.3, input_dropout=0.2,
                    step_dropout=0.1), node_outputs, [-3.7813803658453935, -6.590078109920244]),
    (lambda: seeded(GraphCONNodeModel, 5, 6, 3, num_layers=3, source=0.5, dropout=0.3), node_outputs,
     [-4.564335663509469, -6.867958326611391]),
    (lambda: seeded(GraphCONNodeModel, 5, 6, 3, num_layers=3, uniform_init=True, dropout=0.3,
                    initial_velocity="independent_dropout"), node_outputs, [-5.433738701547544, -5.501345877599366]),
    (lambda: seeded(GraphCONNodeModel, 5, 6, 3, num_layers=3, step_size=0.5, backward="checkpoint"), node_outputs,
     [-3.8047102746094774, -3.8047102746094774]),
    (lambda: seeded(GraphCONGraphModel, 1, 6, 2, num_layers=3, atom_vocabulary=5, coupling="gatedgcn", edge_dim=3,
                    edge_vocabulary=4, dropout=0.2, step_dropout=0.1), graph_outputs,
     [1.596643076294112, 1.4374710158627237]),
    (lambda: seeded(GraphCONGraphModel, 1, 6, 2, num_layers=3, atom_vocabulary=5, coupling="gat", heads=2,
                    pool="mean", readout_layers=3), graph_outputs, [-1.5119258088087812, -1.5119258088087812]),
]


@pytest.mark.parametrize("index", range(len(RECORDED)))
def test_outputs_are_the_recorded_ones(index):
    """To 1e-12 relative: a changed order of random draws or of operations moves these sums by far more, while
    another build of torch or PyG may move the last bits of a float64 sum."""
    build, outputs, recorded = RECORDED[index]
    assert outputs(build()) == pytest.approx(recorded, rel=1e-12, abs=0)


def test_state_dict_names_are_those_of_checkpoints():
    node = GraphCONNodeModel(5, 6, 3, num_layers=3)
    assert list(node.state_dict()) == ["encoder.weight", "encoder.bias", "field.coupling.layers.0.bias",
                                       "field.coupling.layers.0.lin.weight", "decoder.weight", "decoder.bias"]
    sourced = GraphCONNodeModel(5, 6, 3, num_layers=3, source=0.5)
    assert list(sourced.state_dict()) == ["encoder.weight", "encoder.bias", "field.source_weight",
                                          "field.coupling.layers.0.bias", "field.coupling.layers.0.lin.weight",
                                          "decoder.weight", "decoder.bias"]
    graph = GraphCONGraphModel(1, 6, 2, num_layers=3, atom_vocabulary=5)
    assert list(graph.state_dict()) == ["encoder.weight", "field.coupling.layers.0.bias",
                                        "field.coupling.layers.0.lin.weight", "readout.mlp.lins.0.weight",
                                        "readout.mlp.lins.0.bias", "readout.mlp.lins.1.weight",
                                        "readout.mlp.lins.1.bias"]
    assert node.block.field is node.field and list(node.block.state_dict()) == []


def test_the_graph_model_draws_its_weights_in_the_recorded_order():
    torch.manual_seed(0)
    net = GraphCONGraphModel(1, 6, 2, num_layers=3, atom_vocabulary=5)
    torch.manual_seed(0)
    nn.Linear(1, 6)
    coupling = make_coupling("gcn", 6, step_size=1.0)
    nn.Linear(6, 2)
    embedding = nn.Embedding(5, 6)
    mlp = MLP([6, 6, 2], norm=None)
    expected = [embedding.weight, *coupling.parameters(), *mlp.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), expected, strict=True))


def test_the_graph_model_composes_the_block_and_has_no_decoder():
    net = GraphCONGraphModel(1, 6, 2, num_layers=3, atom_vocabulary=5)
    assert not isinstance(net, GraphCONNodeModel)
    assert isinstance(net.block, GraphCONBlock) and not hasattr(net, "decoder")


def test_the_step_size_lives_on_the_block():
    net = GraphCONNodeModel(5, 6, 3, num_layers=4, step_size=0.25)
    assert net.step_size == net.block.step_size == 0.25
    assert net.options == {"step_size": 0.25} and net.end_time == 1.0
    net.block.step_size = 0.5
    assert net.options == {"step_size": 0.5} and net.end_time == 2.0
    finer = GraphCONNodeModel(5, 6, 3, num_layers=4, step_size=0.25, method="rk4", options={"step_size": 0.125})
    assert finer.options == {"step_size": 0.125} and finer.end_time == 1.0
    adaptive = GraphCONNodeModel(5, 6, 3, num_layers=4, step_size=0.25, method="dopri5")
    assert adaptive.options == {}


def test_a_per_step_coupling_on_another_step_is_refused():
    with pytest.raises(ValueError, match="step_size"):
        GraphCONNodeModel(5, 6, 3, coupling=GCN(6, num_steps=4, step_size=0.5), num_layers=4, step_size=0.25)
    GraphCONNodeModel(5, 6, 3, coupling=GCN(6, num_steps=4, step_size=0.25), num_layers=4, step_size=0.25)


def test_the_block_solves_eq4_on_its_own():
    torch.manual_seed(0)
    field = GraphCONField(GCN(4), alpha=0.5, gamma=1.0).double()
    block = GraphCONBlock(field, num_layers=3, step_size=0.5)
    x0 = torch.randn(6, 4, dtype=torch.float64)
    edge_index = random_graph(6, 10)
    x, y = block.solve(x0, edge_index)
    xs, ys = odeint(field.bind(edge_index), (x0, x0), torch.tensor([0.0, 1.5]), options={"step_size": 0.5})
    assert torch.equal(x, xs[-1]) and torch.equal(y, ys[-1])
    assert block.last_stats.steps == 3 and block.bind(edge_index, x0) is block.bind(edge_index, x0)


@pytest.mark.parametrize("model", [lambda **kw: GraphCONNodeModel(5, 6, 3, num_layers=3, step_size=0.5, **kw),
                                   lambda **kw: GraphCONGraphModel(5, 6, 3, num_layers=3, step_size=0.5, **kw)])
def test_backward_is_the_name_and_adjoint_still_works_with_a_warning(model):
    for mode in ("checkpoint", Checkpoint(every=2), True):
        assert model(backward=mode).backward is mode
    with pytest.warns(DeprecationWarning, match="backward="):
        old = model(adjoint="checkpoint")
    assert old.backward == "checkpoint"
    with pytest.raises(TypeError, match="adjoint"):
        model(backward="checkpoint", adjoint="checkpoint")
    with pytest.raises(ValueError, match="backward"):
        model(backward="sideways")


def test_odeint_takes_backward_and_the_former_adjoint():
    torch.manual_seed(0)
    bound = GraphCONField(GCN(4)).double().bind(random_graph(6, 10))
    x0 = torch.randn(6, 4, dtype=torch.float64)
    t = torch.tensor([0.0, 1.0])
    new, stats = odeint(bound, (x0, x0), t, options={"step_size": 0.5}, backward="checkpoint", return_stats=True)
    with pytest.warns(DeprecationWarning, match="backward="):
        old, old_stats = odeint(bound, (x0, x0), t, options={"step_size": 0.5}, adjoint="checkpoint",
                                return_stats=True)
    assert torch.equal(new[0], old[0]) and stats.backward == old_stats.backward == "checkpoint"
    with pytest.raises(ValueError, match="backward"):
        odeint(bound, (x0, x0), t, options={"step_size": 0.5}, backward="sideways")


def test_a_scatter_coupling_is_deterministic_on_the_cpu_only_unless_torch_enforces_it(monkeypatch):
    coupling, cuda = GCN(4), torch.device("cuda", 0)
    assert coupling.deterministic(torch.device("cpu")) and not coupling.deterministic(cuda)
    monkeypatch.setattr(torch, "are_deterministic_algorithms_enabled", lambda: True)
    monkeypatch.setattr(torch, "is_deterministic_algorithms_warn_only_enabled", lambda: True)
    assert not coupling.deterministic(cuda), "warn_only lets a non-deterministic kernel run"
    monkeypatch.setattr(torch, "is_deterministic_algorithms_warn_only_enabled", lambda: False)
    assert coupling.deterministic(cuda)
    monkeypatch.setattr(torch, "are_deterministic_algorithms_enabled", lambda: False)
    monkeypatch.setattr(type(coupling), "scatter_aggregation", False)
    assert coupling.deterministic(cuda)


@pytest.mark.parametrize("model", [lambda **kw: GraphCONNodeModel(5, 6, 3, num_layers=3, step_size=0.5, **kw),
                                   lambda **kw: GraphCONGraphModel(5, 6, 3, num_layers=3, step_size=0.5, **kw)])
def test_exact_reversal_is_refused_before_the_solve_where_the_coupling_is_not_deterministic(model, monkeypatch):
    """The device check is faked: the coupling answers as a scatter coupling on a CUDA device would."""
    torch.manual_seed(0)
    net = model(backward="exact_reversal").double()
    x, edge_index = torch.randn(12, 5, dtype=torch.float64), random_graph(12, 30, seed=3)

    def run():
        if isinstance(net, GraphCONNodeModel):
            return net(x, edge_index)
        return net(x, edge_index, torch.zeros(12, dtype=torch.long))

    run().sum().backward()  # on the CPU the coupling is deterministic and the mode runs
    coupling = net.field.coupling
    calls, asked = [], []
    monkeypatch.setattr(coupling, "deterministic", lambda device: asked.append(device) or False)
    monkeypatch.setattr(coupling, "forward", lambda *args, **kwargs: calls.append(args))
    with pytest.raises(ValueError) as error:
        run()
    message = str(error.value)
    assert message.startswith("backward: 'exact_reversal' needs a force recomputed bit for bit") and "\n" not in message
    assert type(coupling).__name__ in message and "backward='reversible'" in message
    assert asked == [torch.device("cpu")] and calls == [], "refused before the first force evaluation"
