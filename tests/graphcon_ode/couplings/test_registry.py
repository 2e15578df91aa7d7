"""COUPLINGS and make_coupling: every registered coupling is built by name, and a name is never silently replaced."""

import pytest
import torch

from graphcon_ode import GraphCONField
from graphcon_ode.couplings import COUPLINGS, GIN, SAGE, Coupling, GatedGCN, make_coupling
from tests.graphcon_ode.couplings.small_graph import M, N, tiny_graph


@pytest.fixture
def restored():
    saved = dict(COUPLINGS)
    yield COUPLINGS
    COUPLINGS.clear()
    COUPLINGS.update(saved)


class Toy(Coupling):
    def __init__(self, channels, *, num_steps=None, step_size=None):
        super().__init__([torch.nn.Linear(channels, channels) for _ in range(num_steps or 1)], step_size)


def test_overwriting_a_coupling_name_is_a_key_error_naming_it(restored):
    gcn = COUPLINGS["gcn"]
    with pytest.raises(KeyError, match="coupling 'gcn' is registered already"):
        COUPLINGS["gcn"] = Toy
    with pytest.raises(KeyError, match="'gcn'"):
        COUPLINGS.update({"gcn": Toy})
    with pytest.raises(KeyError, match="'gcn'"):
        COUPLINGS.register("gcn", Toy)
    assert COUPLINGS["gcn"] is gcn


def test_replace_true_replaces_on_purpose(restored):
    assert COUPLINGS.register("gcn", Toy, replace=True) is Toy
    assert type(make_coupling("gcn", 4)) is Toy


def test_a_new_name_is_one_register_line(restored):
    COUPLINGS.register("toy", Toy)
    coupling = make_coupling("toy", 4, num_steps=2, step_size=0.5)
    assert type(coupling) is Toy and len(coupling.layers) == 2


def test_an_unknown_name_is_a_value_error_naming_the_argument():
    with pytest.raises(ValueError, match="coupling: unknown coupling 'nope'"):
        make_coupling("nope", 4)


def test_a_coupling_object_is_passed_through():
    coupling = GIN(4)
    assert make_coupling(coupling, 8) is coupling


@pytest.mark.parametrize("name", list(COUPLINGS))
def test_every_registered_coupling_drives_the_field_by_name(name):
    edge_index, x = tiny_graph()
    coupling = make_coupling(name, M, heads=1, num_steps=2, step_size=0.5).double()
    assert isinstance(coupling, Coupling) and coupling.per_step
    force = GraphCONField(coupling).double().bind(edge_index).force(torch.tensor(0.0, dtype=torch.float64), x)
    assert force.shape == (N, M) and torch.isfinite(force).all()


@pytest.mark.parametrize("name, cls", [("gin", GIN), ("gatedgcn", GatedGCN), ("sage", SAGE)])
def test_couplings_by_name_with_shared_or_per_step_weights(name, cls):
    shared = make_coupling(name, M)
    per_step = make_coupling(name, M, num_steps=3, step_size=0.5)
    assert type(shared) is cls and not shared.per_step
    assert type(per_step) is cls and len(per_step.layers) == 3
    assert per_step.layer_at(1.2) is per_step.layers[2]
    first, second = (torch.cat([p.flatten() for p in layer.parameters()]) for layer in per_step.layers[:2])
    assert not torch.equal(first, second)
