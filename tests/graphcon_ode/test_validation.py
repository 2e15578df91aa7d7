"""Every bad input raises TypeError/ValueError with the argument's name in the message."""

import pytest
import torch

from graphcon_ode import GCN, GraphCONField, odeint
from tests.graphs import random_graph

EDGES = random_graph(10, 20)
T = torch.tensor([0.0, 1.0], dtype=torch.float64)


def field():
    return GraphCONField(GCN(4), alpha=0.5, gamma=1.0).double()


def state(n=10, c=4):
    return torch.randn(n, c, dtype=torch.float64), torch.randn(n, c, dtype=torch.float64)


def test_mismatched_state_shapes():
    x0, _ = state()
    with pytest.raises(ValueError, match="y0"):
        odeint(field().bind(EDGES), (x0, torch.zeros(10, 5, dtype=torch.float64)), T)


def test_state_must_be_a_pair_of_tensors():
    x0, _ = state()
    with pytest.raises(TypeError, match="y0"):
        odeint(field().bind(EDGES), x0, T)
    with pytest.raises(TypeError, match="y0"):
        odeint(field().bind(EDGES), (x0, 1.0), T)


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_initial_state(which, bad):
    pair = list(state())
    pair[which][3, 1] = bad
    with pytest.raises(ValueError, match=r"y0: (X0|Y0) has non-finite"):
        odeint(field().bind(EDGES), tuple(pair), T)


@pytest.mark.parametrize(
    "edge_index, error",
    [
        (torch.zeros(3, 4, dtype=torch.long), ValueError),
        (torch.zeros(2, 4, 1, dtype=torch.long), ValueError),
        (torch.zeros(2, 4), TypeError),
        ([[0, 1], [1, 0]], TypeError),
        (torch.tensor([[0, -1], [1, 0]]), ValueError),
    ],
    ids=["3xE", "3-D", "float", "list", "negative"],
)
def test_bad_edge_index(edge_index, error):
    with pytest.raises(error, match="edge_index"):
        field().bind(edge_index)


def test_edge_index_out_of_range():
    with pytest.raises(ValueError, match="edge_index"):
        field().bind(torch.tensor([[0, 10], [10, 0]]), num_nodes=10)
    bound = field().bind(torch.tensor([[0, 12], [12, 0]]))
    with pytest.raises(ValueError, match="edge_index"):
        odeint(bound, state(), T)


@pytest.mark.parametrize("alpha", [-0.1, float("nan")])
def test_negative_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        GraphCONField(GCN(4), alpha=alpha, gamma=1.0)


@pytest.mark.parametrize("gamma", [0.0, -1.0])
def test_non_positive_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        GraphCONField(GCN(4), alpha=0.5, gamma=gamma)


def test_zero_gamma_only_when_asked_for():
    assert GraphCONField(GCN(4), alpha=0.0, gamma=0.0, allow_zero_gamma=True).gamma == 0.0


@pytest.mark.parametrize("step", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_step_size(step):
    with pytest.raises(ValueError, match="step_size"):
        odeint(field().bind(EDGES), state(), T, method="imex", options={"step_size": step})


def test_unknown_method_lists_known_ones():
    with pytest.raises(ValueError, match="method") as info:
        odeint(field().bind(EDGES), state(), T, method="leapfrog2000")
    assert "imex" in str(info.value) and "dopri5" in str(info.value)


def test_unbound_field():
    with pytest.raises(ValueError, match="bind"):
        odeint(field(), state(), T)
    with pytest.raises(ValueError, match="edge_index"):
        field()(T[0], state())


def test_bad_times_and_backward_mode():
    with pytest.raises(ValueError, match="t:"):
        odeint(field().bind(EDGES), state(), torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64))
    with pytest.raises(TypeError, match="t:"):
        odeint(field().bind(EDGES), state(), [0.0, 1.0])
    with pytest.raises(ValueError, match="backward"):
        odeint(field().bind(EDGES), state(), T, backward="sideways")


def test_wrong_number_of_nodes_in_state():
    bound = field().bind(EDGES, num_nodes=10)
    with pytest.raises(ValueError, match="y0"):
        odeint(bound, state(n=11), T)


def test_bad_coupling_and_activation():
    with pytest.raises(TypeError, match="coupling"):
        GraphCONField(torch.nn.Linear(4, 4))
    with pytest.raises(TypeError, match="activation"):
        GraphCONField(GCN(4), activation="relu")


@pytest.mark.parametrize("option", ["learn_alpha", "learn_gamma", "allow_zero_gamma"])
@pytest.mark.parametrize("value", ["False", "yes", 0, 1, None])
def test_a_boolean_option_of_the_field_takes_only_a_bool(option, value):
    with pytest.raises(TypeError, match=rf"{option}: expected True or False"):
        GraphCONField(GCN(4), **{option: value})


def test_a_numpy_bool_is_a_bool():
    import numpy as np

    assert GraphCONField(GCN(4), learn_alpha=np.bool_(True)).damping.raw is not None
