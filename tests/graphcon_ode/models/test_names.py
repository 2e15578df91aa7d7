"""One resolver for model names: every name of every table builds and trains a step; every verb resolves there."""

import argparse

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphcon_ode.cli import main as cli_main
from graphcon_ode.cli import train
from graphcon_ode.couplings import TransformerAttention
from graphcon_ode.models import GCNNodeModel, GNNGraphModel, GraphCONGraphModel, GraphCONNodeModel
from graphcon_ode.models.names import MODEL_TABLES, NODE_MODELS, build_model, resolve_model
from tests.graphs import random_graph

SETTINGS = {"num_layers": 2, "step_size": 0.5, "heads": 2, "dropout": 0.1, "input_dropout": 0.1}


def one_step(net, forward) -> None:
    """One optimiser step on a sum loss changes the parameters that have gradients."""
    net.train()
    before = [p.detach().clone() for p in net.parameters()]
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = forward(net).float().pow(2).mean()
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(a, p) for a, p in zip(before, net.parameters()))


@pytest.mark.parametrize("name", sorted(NODE_MODELS))
def test_every_node_classification_name_builds_and_trains_a_step(name):
    torch.manual_seed(0)
    net = build_model(name, 5, 8, 3, **SETTINGS)
    x, edge_index = torch.randn(10, 5), random_graph(10, 20)
    out = net(x, edge_index)
    assert out.shape == (10, 3)
    one_step(net, lambda n: n(x, edge_index))


@pytest.mark.parametrize("name", sorted(MODEL_TABLES["heterophilous"]))
def test_every_heterophilous_name_builds_and_trains_a_step(name):
    torch.manual_seed(0)
    net = build_model(name, 5, 8, 1, table="heterophilous", **SETTINGS)
    x, edge_index = torch.randn(10, 5), random_graph(10, 20)
    one_step(net, lambda n: n(x, edge_index))


@pytest.mark.parametrize("name", sorted(MODEL_TABLES["graph"]))
def test_every_graph_level_name_builds_and_trains_a_step(name):
    torch.manual_seed(0)
    net = build_model(name, 1, 8, 2, table="graph", atom_vocabulary=4, **SETTINGS)
    graphs = [_graph(n, seed) for seed, n in enumerate((5, 7))]
    batch = Batch.from_data_list(graphs)
    assert net(batch.x, batch.edge_index, batch.batch).shape == (2, 2)
    one_step(net, lambda n: n(batch.x, batch.edge_index, batch.batch))


def _graph(n, seed):
    return Data(x=torch.randint(4, (n, 1), generator=torch.Generator().manual_seed(seed)),
                edge_index=random_graph(n, 2 * n, seed=seed))


def test_a_name_means_a_class_a_coupling_and_fixed_settings():
    assert resolve_model("graphcon-tran").coupling == "transformer"
    assert resolve_model("graphcon-sep").coupling == "sep-mean"
    assert resolve_model("gcn").model is GCNNodeModel
    assert resolve_model("gcn", "graph").model is GNNGraphModel and resolve_model("gat", "graph").settings == {
        "conv": "gat"}
    assert resolve_model("gcn", "heterophilous").settings == {"block": "gcn"}
    net = build_model("graphcon-tran", 5, 8, 3, num_layers=2)
    assert isinstance(net, GraphCONNodeModel) and isinstance(net.field.coupling, TransformerAttention)
    assert isinstance(build_model("graphcon-gin", 1, 8, 1, table="graph", atom_vocabulary=3), GraphCONGraphModel)


def test_an_unknown_name_is_one_error_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"model: unknown node-level model 'graphcon-tr'; known: .*graphcon-tran"):
        build_model("graphcon-tr", 5, 8, 3)
    with pytest.raises(ValueError, match="table"):
        resolve_model("gcn", "edge")
    with pytest.raises(ValueError, match="num_layer: not a setting"):
        build_model("gcn", 5, 8, 3, num_layer=2)
    with pytest.raises(ValueError, match="block: fixed by the model name 'gcn'"):
        build_model("gcn", 5, 8, 3, table="heterophilous", block="sage")


def test_the_train_verb_resolves_names_in_the_same_place():
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    args = parser.parse_args(["--model", "graphcon-tran", "--hidden", "8", "--layers", "2"])
    net = train.build_model(args, 5, 3)
    assert isinstance(net.field.coupling, TransformerAttention) and net.num_layers == 2


def test_train_on_texas_with_graphcon_tran(tmp_path, data_root):
    code = cli_main(["train", "--dataset", "texas", "--model", "graphcon-tran", "--epochs", "1", "--hidden", "8",
                     "--layers", "2", "--data-root", str(data_root), "--out", str(tmp_path), "--threads", "1"])
    assert code == 0 and (tmp_path / "metrics.json").exists()
