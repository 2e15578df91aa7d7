"""The GraphCON field (eq. (3)) around its couplings: the defaults and the messages of its constructor, what a
bound field accepts as graph and state, and where the prepared graph tensors of a coupling go."""

import pytest
import torch
from torch import nn

from graphcon_ode import GCN, GraphCONField
from graphcon_ode.couplings.base import Coupling

EDGES = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


class Scale(nn.Module):
    """c · Σ_{j → i} x_j, a layer without parameters."""

    def __init__(self, c=1.0, in_channels=None):
        super().__init__()
        self.c = c
        if in_channels is not None:
            self.in_channels = in_channels

    def forward(self, x, edge_index):
        return self.c * torch.zeros_like(x).index_add_(0, edge_index[1], x[edge_index[0]])


def test_default_coefficients_are_alpha_one_and_gamma_one():
    """Y' = σ(F(X)) − X − Y with the defaults: on the path 0 − 1 − 2 with F = Σ neighbours and σ = ReLU."""
    field = GraphCONField(Coupling(Scale()))
    assert field.alpha == 1.0 and field.gamma == 1.0
    x = torch.tensor([[1.0], [-2.0], [3.0]], dtype=torch.float64)
    y = torch.tensor([[0.5], [0.25], [-1.0]], dtype=torch.float64)
    neighbour_sum = torch.tensor([[-2.0], [4.0], [-2.0]], dtype=torch.float64)
    dx, dy = field.bind(EDGES)(torch.tensor(0.0), (x, y))
    assert torch.equal(dx, y)
    torch.testing.assert_close(dy, torch.relu(neighbour_sum) - x - y, rtol=0, atol=1e-15)


@pytest.mark.parametrize("value, expected", [
    (torch.tensor(0.5), 0.5),
    (torch.tensor([2.0]), 2.0),
    (torch.tensor([[3]]), 3.0),
    (torch.tensor(0.25, dtype=torch.float64), 0.25),
])
def test_one_element_real_tensors_are_accepted_as_coefficients(value, expected):
    field = GraphCONField(Coupling(Scale()), alpha=value, gamma=value)
    assert field.alpha == expected and field.gamma == expected
    assert type(field.alpha) is float and type(field.gamma) is float


@pytest.mark.parametrize("name", ["alpha", "gamma"])
@pytest.mark.parametrize("value, shown", [
    ("fast", r"str 'fast'"),
    (None, r"NoneType None"),
    (True, r"bool True"),
    (1 + 0j, r"complex \(1\+0j\)"),
    (torch.tensor([0.5, 1.0]), r"Tensor tensor\(\[0\.5000, 1\.0000\]\)"),
    (torch.tensor([1 + 0j]), r"Tensor tensor\(\[1\.\+0\.j\]\)"),
    (torch.tensor(True), r"Tensor tensor\(True\)"),
])
def test_a_coefficient_that_is_not_a_real_number_is_named_with_its_type(name, value, shown):
    with pytest.raises(TypeError, match=rf"^{name}: expected a real number, got {shown}$"):
        GraphCONField(Coupling(Scale()), **{name: value})


@pytest.mark.parametrize("name", ["alpha", "gamma"])
def test_a_coefficient_must_be_finite(name):
    with pytest.raises(ValueError, match=rf"^{name}: must be finite, got inf$"):
        GraphCONField(Coupling(Scale()), **{name: float("inf")})


def test_a_coupling_that_is_neither_a_coupling_nor_a_pyg_layer_is_named_with_its_type():
    with pytest.raises(TypeError, match=r"^coupling: expected a Coupling or a PyG MessagePassing layer, got str$"):
        GraphCONField("gcn")


def test_an_activation_that_is_not_callable_is_named_with_its_type():
    with pytest.raises(TypeError, match=r"^activation: expected a callable, got int$"):
        GraphCONField(Coupling(Scale()), activation=3)


def test_an_unbound_field_tells_how_to_bind_it():
    field = GraphCONField(Coupling(Scale()))
    x = torch.ones(3, 1)
    with pytest.raises(ValueError, match=r"^edge_index: this GraphCONField is not bound to a graph; "
                                         r"call field\.bind\(edge_index\) and solve the returned field$"):
        field(torch.tensor(0.0), (x, x))


@pytest.mark.parametrize("bounds", [(0.5, 0.5), (0.9, 0.2)])
def test_a_range_must_have_lo_below_hi(bounds):
    with pytest.raises(ValueError, match=r"^alpha_range: expected \(lo, hi\) with 0 <= lo < hi, got "
                                         rf"\({bounds[0]}, {bounds[1]}\)$"):
        GraphCONField(Coupling(Scale()), alpha=0.5, learn_alpha=True, alpha_range=bounds)


@pytest.mark.parametrize("value", [0.2, 0.9])
def test_a_learnable_coefficient_may_not_start_on_the_ends_of_its_range(value):
    with pytest.raises(ValueError, match=r"^gamma: a learnable gamma in gamma_range=\(0\.2, 0\.9\) must start "
                                         rf"strictly inside it, got {value}$"):
        GraphCONField(Coupling(Scale()), gamma=value, learn_gamma=True, gamma_range=(0.2, 0.9))


def test_an_edge_list_that_is_not_a_tensor_is_named_with_its_type():
    with pytest.raises(TypeError, match=r"^edge_index: expected a torch.Tensor of shape \[2, E\], got list$"):
        GraphCONField(Coupling(Scale())).bind([[0, 1], [1, 0]])


@pytest.mark.parametrize("dtype", [torch.bool, torch.float32, torch.complex64])
def test_an_edge_list_must_hold_integers(dtype):
    with pytest.raises(TypeError, match=rf"^edge_index: expected an integer tensor \(torch.long\), got dtype {dtype}$"):
        GraphCONField(Coupling(Scale())).bind(torch.ones(2, 3, dtype=dtype))


@pytest.mark.parametrize("rows", [0, 1, 4])
def test_a_graph_without_edges_fits_any_number_of_nodes(rows):
    f = GraphCONField(Coupling(Scale())).bind(torch.empty(2, 0, dtype=torch.long))
    x = torch.ones(rows, 2, dtype=torch.float64)
    f.check_state(x)
    assert torch.equal(f.force(torch.tensor(0.0), x), torch.zeros(rows, 2, dtype=torch.float64))


def test_check_state_holds_a_one_channel_coupling_to_one_channel():
    f = GraphCONField(GCN(1)).bind(EDGES)
    f.check_state(torch.ones(3, 1))
    with pytest.raises(ValueError, match=r"^x0: the coupling works on 1 channels, got node features with 2$"):
        f.check_state(torch.ones(3, 2), name="x0")


@pytest.mark.parametrize("declared", [0, -1])
def test_a_layer_without_a_positive_channel_count_takes_any_channels(declared):
    """PyG's lazy layers declare in_channels = −1; a count that is not positive says nothing about the state."""
    f = GraphCONField(Coupling(Scale(in_channels=declared))).bind(EDGES)
    for channels in (1, 2, 5):
        f.check_state(torch.ones(3, channels))


class Recorded(nn.Module):
    """A layer that keeps the graph arguments it is called with and adds nothing."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, x, **graph):
        self.calls.append(graph)
        return torch.zeros_like(x)


class RecordedPreparation(Coupling):
    """A coupling that keeps the edge list its preparation gets."""

    def __init__(self, layer):
        super().__init__(layer)
        self.prepared_on = []

    def prepare(self, edge_index, num_nodes, **graph):
        self.prepared_on.append((edge_index.device, num_nodes))
        return super().prepare(edge_index, num_nodes, **graph)


def test_prepared_graph_tensors_follow_the_state_to_its_device_and_dtype():
    """Bound on CPU tensors and evaluated on a state elsewhere (the meta device) in float64: the preparation sees the
    edge list on the state's device, real tensors arrive in the state's dtype, index tensors keep theirs."""
    layer = Recorded()
    coupling = RecordedPreparation(layer)
    weight, batch = torch.ones(4, dtype=torch.float32), torch.tensor([0, 0, 1])
    f = GraphCONField(coupling).bind(EDGES, edge_weight=weight, batch=batch)
    x = torch.empty(3, 2, dtype=torch.float64, device="meta")
    out = f.force(torch.tensor(0.0), x)
    assert out.device.type == "meta" and out.shape == (3, 2)
    assert coupling.prepared_on == [(torch.device("meta"), 3)]
    (graph,) = layer.calls
    assert set(graph) == {"edge_index", "edge_weight", "batch"}
    assert graph["edge_index"].device.type == "meta" and graph["edge_index"].dtype == torch.long
    assert graph["edge_weight"].device.type == "meta" and graph["edge_weight"].dtype == torch.float64
    assert graph["batch"].device.type == "meta" and graph["batch"].dtype == torch.long
    assert weight.device.type == "cpu" and weight.dtype == torch.float32, "the bound tensors are left as they were"
