import pytest
import torch
from sklearn.metrics import accuracy_score, mean_absolute_error
from torch import nn
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GCNConv, global_add_pool

from graphcon_ode.metrics import accuracy, micro_f1
from graphcon_ode.metrics import mean_absolute_error as mae
from graphcon_ode.training.loop import Plateau, evaluate, fit_graph_model


def random_graphs(count: int, seed: int) -> list[Data]:
    """Graphs of 3-12 nodes with random undirected edges; node features: a constant 1 and two random numbers.

    Targets: ``y`` the number of nodes / 4 (regression), ``label`` whether the graph has more than 7 nodes,
    ``node_labels`` the signs of each node's two random features (multi-label, node level)."""
    generator = torch.Generator().manual_seed(seed)
    graphs = []
    for _ in range(count):
        n = int(torch.randint(3, 13, (1,), generator=generator))
        pairs = torch.combinations(torch.arange(n))
        keep = pairs[torch.rand(len(pairs), generator=generator) < 0.4]
        edge_index = torch.cat([keep.t(), keep.t().flip(0)], dim=1)
        noise = torch.randn(n, 2, generator=generator)
        x = torch.cat([torch.ones(n, 1), noise], dim=1)
        graphs.append(Data(x=x, edge_index=edge_index, y=torch.tensor([n / 4.0]), label=torch.tensor([int(n > 7)]),
                           node_labels=(noise > 0).float(), edge_attr=torch.ones(edge_index.shape[1], 1)))
    return graphs


class PooledGCN(nn.Module):
    def __init__(self, out_channels: int):
        super().__init__()
        self.conv = GCNConv(3, 16)
        self.head = nn.Linear(16, out_channels)
        self.saw_edge_attr = False

    def forward(self, x, edge_index, batch, edge_attr=None):
        self.saw_edge_attr = edge_attr is not None
        return self.head(global_add_pool(torch.relu(self.conv(x, edge_index)), batch))


class NodeMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, x, edge_index):
        return self.net(x)


def loaders(graphs, target: str, batch_size: int = 16):
    graphs = [Data(**{**g.to_dict(), "y": g[target]}) for g in graphs]
    return (DataLoader(graphs[:64], batch_size, shuffle=True), DataLoader(graphs[64:96], batch_size),
            DataLoader(graphs[96:], batch_size))


def test_metrics_match_scikit_learn_and_the_f1_formula():
    generator = torch.Generator().manual_seed(0)
    prediction, target = torch.randn(50, generator=generator), torch.randn(50, generator=generator)
    assert mae(prediction, target) == pytest.approx(mean_absolute_error(target.numpy(), prediction.numpy()))
    logits, labels = torch.randn(40, 5, generator=generator), torch.randint(0, 5, (40,), generator=generator)
    assert accuracy(logits, labels) == pytest.approx(accuracy_score(labels.numpy(), logits.argmax(1).numpy()))
    multi_logits = torch.randn(30, 7, generator=generator)
    multi_target = (torch.rand(30, 7, generator=generator) < 0.3).float()
    predicted = multi_logits > 0
    true_positive = int((predicted & (multi_target == 1)).sum())
    false_positive = int((predicted & (multi_target == 0)).sum())
    false_negative = int((~predicted & (multi_target == 1)).sum())
    expected = 2 * true_positive / (2 * true_positive + false_positive + false_negative)
    assert micro_f1(multi_logits, multi_target) == pytest.approx(expected)


def test_regression_learns_the_graph_size_and_restores_the_selected_weights():
    torch.manual_seed(0)
    train, val, test = loaders(random_graphs(128, seed=1), "y")
    model = PooledGCN(1)
    _, untrained = evaluate(model, val, "regression")
    result = fit_graph_model(model, train, val, test, task="regression", epochs=60, lr=0.01)
    baseline = mean_absolute_error([g.y.item() for g in test.dataset],
                                   [sum(g.y.item() for g in train.dataset) / 64] * len(test.dataset))
    assert result.metric == "mae" and result.epochs_run == 60
    assert result.test_score < 0.25 * baseline and result.val_score < 0.25 * untrained
    assert evaluate(model, val, "regression")[1] == pytest.approx(result.val_score)


def test_classification_learns_which_graphs_are_large_and_passes_edge_attr():
    torch.manual_seed(0)
    train, val, test = loaders(random_graphs(128, seed=2), "label")
    model = PooledGCN(2)
    result = fit_graph_model(model, train, val, test, task="classification", epochs=100, lr=0.02,
                             edge_attr=True)
    assert result.metric == "accuracy" and model.saw_edge_attr
    assert result.val_score >= 0.9 and result.test_score >= 0.85


def test_inductive_multilabel_at_node_level():
    torch.manual_seed(0)
    train, val, test = loaders(random_graphs(128, seed=3), "node_labels")
    result = fit_graph_model(NodeMLP(), train, val, test, task="multilabel", level="node", epochs=30, lr=0.01)
    assert result.metric == "micro_f1" and result.test_score > 0.9


def test_plateau_halves_the_rate_then_stops_at_the_floor():
    class Constant(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(1))

        def forward(self, x, edge_index, batch):
            return torch.zeros(int(batch.max()) + 1, 1) + 0 * self.weight

    train, val, _ = loaders(random_graphs(96, seed=4), "y")
    result = fit_graph_model(Constant(), train, val, task="regression", epochs=50, lr=1e-3,
                             plateau=Plateau(factor=0.1, patience=0, min_lr=5e-4))
    assert result.epochs_run == 2 and result.final_lr == pytest.approx(1e-4) and result.best_epoch == 0


def test_bad_arguments_name_themselves():
    train, val, _ = loaders(random_graphs(96, seed=5), "y")
    with pytest.raises(ValueError, match="task"):
        fit_graph_model(PooledGCN(1), train, val, task="ranking")
    with pytest.raises(ValueError, match="level"):
        fit_graph_model(PooledGCN(1), train, val, task="regression", level="edge")
    with pytest.raises(ValueError, match="epochs"):
        fit_graph_model(PooledGCN(1), train, val, task="regression", epochs=0)
