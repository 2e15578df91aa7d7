"""The inputs that used to give a result where an error was due: each now raises, naming the argument."""

import pytest
import torch

from graphcon_ode import GCN, GATNodeModel, GCNNodeModel, GraphCONField, GraphCONNodeModel, odeint
from graphcon_ode.models.graph import GNNGraphModel, GraphCONGraphModel
from solvers import Checkpoint, ExactReversal, Reversible
from solvers.integrate import DivergedError
from tests.graphs import random_graph

EDGES = random_graph(10, 20)
T = torch.tensor([0.0, 1.0], dtype=torch.float64)


def bound(alpha=0.5, gamma=1.0, dtype=torch.float64):
    torch.manual_seed(0)
    return GraphCONField(GCN(4), alpha=alpha, gamma=gamma).to(dtype).bind(EDGES)


def state(channels=4, dtype=torch.float64):
    torch.manual_seed(1)
    return torch.randn(10, channels, dtype=dtype), torch.randn(10, channels, dtype=dtype)


@pytest.mark.parametrize("every", [-3, 0, 2.5, True])
def test_checkpoint_block_size_out_of_range(every):
    with pytest.raises((ValueError, TypeError), match="checkpoint_every"):
        odeint(bound(), state(), T, backward="checkpoint", options={"step_size": 0.1, "checkpoint_every": every})
    with pytest.raises((ValueError, TypeError), match="every"):
        Checkpoint(every=every)


def test_unknown_method_option_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match=r"'no_such_option'.*known options: .*step_size"):
        odeint(bound(), state(), T, options={"step_size": 0.1, "no_such_option": 1})
    with pytest.raises(ValueError, match=r"'anchor_every'.*backward='checkpoint'"):
        odeint(bound(), state(), T, backward="checkpoint", options={"step_size": 0.1, "anchor_every": 4})


@pytest.mark.parametrize("cls, options, name", [
    (Checkpoint, {"blocks": 3}, "blocks"),
    (Reversible, {"anchor_every": 0}, "anchor_every"),
    (Reversible, {"reconstruction_tol": -1e-6}, "reconstruction_tol"),
    (Reversible, {"reconstruction_tol": float("nan")}, "reconstruction_tol"),
    (ExactReversal, {"fraction_bits": 60}, "fraction_bits"),
    (ExactReversal, {"fraction_bits": "40"}, "fraction_bits"),
])
def test_mode_objects_check_their_options(cls, options, name):
    with pytest.raises((ValueError, TypeError), match=name):
        cls(**options)


@pytest.mark.parametrize("name", ["alpha", "gamma"])
@pytest.mark.parametrize("bad, error", [(float("inf"), ValueError), (float("nan"), ValueError), ("0.5", TypeError),
                                        (True, TypeError), (None, TypeError)])
def test_field_coefficients_are_finite_real_numbers(name, bad, error):
    with pytest.raises(error, match=name):
        GraphCONField(GCN(4), **{name: bad})


def test_field_coefficients_accept_a_one_element_tensor():
    field = GraphCONField(GCN(4), alpha=torch.tensor(0.25), gamma=2)
    assert field.alpha == 0.25 and field.gamma == 2.0


def test_state_dtype_must_match_the_field():
    with pytest.raises(ValueError, match=r"y0: the state is torch.float64 but the field's parameters are "
                                         r"torch.float32"):
        odeint(bound(dtype=torch.float32), state(), T, options={"step_size": 0.1})


def test_state_channels_must_match_the_coupling():
    with pytest.raises(ValueError, match="y0: the coupling works on 4 channels, got node features with 5"):
        odeint(bound(), state(channels=5), T, options={"step_size": 0.1})


def test_meta_device_state_is_refused_by_name():
    x = torch.empty(10, 4, dtype=torch.float64, device="meta")
    with pytest.raises(ValueError, match="y0: tensors on the 'meta' device"):
        odeint(bound(), (x, x), T, options={"step_size": 0.1})


@pytest.mark.parametrize("argument, value, error", [
    ("in_channels", 0, ValueError), ("hidden_channels", 0, ValueError), ("out_channels", 0, ValueError),
    ("num_layers", 2.5, TypeError), ("num_layers", 0, ValueError), ("hidden_channels", "16", TypeError),
])
@pytest.mark.parametrize("model", [GraphCONNodeModel, GCNNodeModel, GATNodeModel])
def test_model_sizes_are_positive_integers(model, argument, value, error):
    sizes = {"in_channels": 5, "hidden_channels": 8, "out_channels": 3, argument: value}
    if argument == "num_layers":
        sizes = {**sizes, "num_layers": value}
    with pytest.raises(error, match=argument):
        model(sizes.pop("in_channels"), sizes.pop("hidden_channels"), sizes.pop("out_channels"), **sizes)


@pytest.mark.parametrize("method", ["imex", "imex_implicit", "verlet"])
def test_partitioned_method_needs_a_step_size(method):
    with pytest.raises(ValueError, match=f"step_size: method='{method}' is a fixed-step method"):
        odeint(bound(), state(), torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64), method=method, options={})


def test_step_longer_than_the_interval_is_refused():
    with pytest.raises(ValueError, match=r"step_size: 2 is longer than the output interval \[0, 1\]"):
        odeint(bound(), state(), T, options={"step_size": 2.0})
    xs, _ = odeint(bound(), state(), T, options={"step_size": 1.0})
    assert xs.shape == (2, 10, 4), "a step exactly as long as the interval is one step"


def test_a_diverging_solve_names_the_step_the_time_and_the_stability_bound():
    """αΔt = 3 > 2: eq. (4) multiplies the velocity by 1 − αΔt = −2 every step, and float64 overflows after
    about 1024 steps (2^1024); the error comes at that step, not as NaN in the output."""
    with pytest.raises(DivergedError, match=r"step_size: .*method='imex' became non-finite .* in step 10\d\d "
                                            r"\(from t = .*alpha\*dt <= 2 .*here alpha\*dt = 3"):
        odeint(bound(alpha=30.0), state(), torch.tensor([0.0, 150.0], dtype=torch.float64),
               options={"step_size": 0.1})
    assert issubclass(DivergedError, ValueError)


def test_mode_objects_and_names_give_the_same_solve():
    x0, y0 = state()
    by_name, stats_name = odeint(bound(), (x0, y0), T, backward="checkpoint",
                                 options={"step_size": 0.1, "checkpoint_every": 3}, return_stats=True)
    by_object, stats_object = odeint(bound(), (x0, y0), T, backward=Checkpoint(every=3), options={"step_size": 0.1},
                                     return_stats=True)
    assert torch.equal(by_name[0], by_object[0])
    assert stats_name.extra["checkpoint_every"] == stats_object.extra["checkpoint_every"] == 3
    _, stats = odeint(bound(), (x0, y0), T, backward=Reversible(anchor_every=4), options={"step_size": 0.1},
                      return_stats=True)
    assert stats.extra["anchor_every"] == 4 and stats.backward == "reversible"
    assert repr(ExactReversal(fraction_bits=40)) == "ExactReversal(fraction_bits=40)"


NODE_MODELS = {"graphcon": lambda **kw: GraphCONNodeModel(4, 8, 3, num_layers=2, **kw),
               "gcn": lambda **kw: GCNNodeModel(4, 8, 3, **kw),
               "gat": lambda **kw: GATNodeModel(4, 8, 3, heads=2, **kw)}
GRAPH_MODELS = {"graphcon": lambda **kw: GraphCONGraphModel(4, 8, 1, num_layers=2, **kw),
                "gnn": lambda **kw: GNNGraphModel(4, 8, 1, num_layers=2, **kw)}
BATCH = torch.tensor([0] * 4 + [1] * 6)


@pytest.mark.parametrize("x, error, message", [
    (torch.randn(10, 4).half(), TypeError, r"x: node features are torch.float16 but the model's parameters are "
                                           r"torch.float32"),
    (torch.randint(3, (10, 4)), TypeError, r"x: node features must be floating point .* got torch.int64"),
    (torch.randn(10, 5), ValueError, r"x: expected node features of shape \[num_nodes, 4\], got \[10, 5\]"),
    (torch.randn(10), ValueError, r"x: expected node features of shape"),
    (torch.empty(10, 4, device="meta"), ValueError, r"x: is on meta but the model's parameters are on cpu"),
])
@pytest.mark.parametrize("level, name", [("node", n) for n in NODE_MODELS] + [("graph", n) for n in GRAPH_MODELS])
def test_bad_features_are_named_by_the_model(level, name, x, error, message):
    torch.manual_seed(0)
    model = (NODE_MODELS if level == "node" else GRAPH_MODELS)[name]()
    arguments = (x, EDGES) if level == "node" else (x, EDGES, BATCH)
    with pytest.raises(error, match=message):
        model(*arguments)


@pytest.mark.parametrize("name", list(NODE_MODELS))
def test_a_graph_on_another_device_than_the_model_is_named(name):
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="edge_index: is on meta but the model's parameters are on cpu"):
        NODE_MODELS[name]()(torch.randn(10, 4), EDGES.to("meta"))


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, float("nan")])
@pytest.mark.parametrize("argument", ["dropout", "input_dropout", "step_dropout"])
@pytest.mark.parametrize("build", [*NODE_MODELS.values(), *GRAPH_MODELS.values()])
def test_dropout_outside_zero_one_is_named(build, argument, rate):
    try:
        build(**{argument: 0.0})
    except TypeError:
        pytest.skip(f"the model has no {argument}")
    with pytest.raises(ValueError, match=f"{argument}: a dropout rate must lie in \\[0, 1\\)"):
        build(**{argument: rate})
    with pytest.raises(TypeError, match=argument):
        build(**{argument: "0.5"})


@pytest.mark.parametrize("build", [GraphCONGraphModel, GNNGraphModel])
@pytest.mark.parametrize("types, error, message", [
    (torch.full((10, 1), 5), ValueError, r"x: atom types must lie in \[0, atom_vocabulary=5\), found 5"),
    (torch.tensor([[0]] * 9 + [[-1]]), ValueError, r"x: atom types must lie in \[0, atom_vocabulary=5\), found -1"),
    (torch.zeros(10, 2, dtype=torch.long), ValueError, r"x: integer atom types are one column"),
    (torch.zeros(10, 1), TypeError, r"x: the model embeds integer atom types, got dtype torch.float32"),
])
def test_atom_types_outside_the_vocabulary_are_named(build, types, error, message):
    torch.manual_seed(0)
    model = build(1, 8, 1, num_layers=2, atom_vocabulary=5)
    assert model(torch.full((10, 1), 4), EDGES, BATCH).shape == (2, 1)
    with pytest.raises(error, match=message):
        model(types, EDGES, BATCH)


@pytest.mark.parametrize("name", list(GRAPH_MODELS))
@pytest.mark.parametrize("batch, num_graphs, error, message", [
    (BATCH[:9], None, ValueError, r"batch: expected one graph index per node, shape \[10\], got \[9\]"),
    (BATCH.flip(0), None, ValueError, "batch: graph indices must be sorted"),
    (BATCH + 1, None, ValueError, "batch: graph indices must start at 0, got 1"),
    (BATCH - 1, 3, ValueError, "batch: graph indices must start at 0, got -1"),
    (BATCH, 1, ValueError, "batch: graph index 1 is out of range for num_graphs=1"),
    (BATCH.float(), None, TypeError, "batch: expected integer graph indices"),
    (BATCH.to("meta"), None, ValueError, "batch: is on meta"),
])
def test_bad_batch_vectors_are_named(name, batch, num_graphs, error, message):
    torch.manual_seed(0)
    model = GRAPH_MODELS[name]()
    x = torch.randn(10, 4)
    assert model(x, EDGES, BATCH + 1, num_graphs=3).shape == (3, 1), "graph 0 may be empty given num_graphs"
    with pytest.raises(error, match=message):
        model(x, EDGES, batch, num_graphs=num_graphs)


def test_a_non_finite_parameter_is_named_not_blamed_on_the_step_size():
    """A NaN weight makes step 1 non-finite at a step well inside the stable range (αΔt = 0.05): the error names
    the parameter; a non-finite initial state names y0; only a finite start that blows up gets the step advice."""
    field = bound()
    with torch.no_grad():
        field.field.coupling.layers[0].lin.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"func: parameters field\.coupling\.layers\.0\.lin\.weight of the field "
                                         r"are non-finite \(nan or inf\) before the solve") as error:
        odeint(field, state(), T, options={"step_size": 0.1})
    assert not isinstance(error.value, DivergedError) and "step_size" not in str(error.value).split(";")[0]
    x0, y0 = state()
    x0[3, 1] = float("inf")
    with pytest.raises(ValueError, match="y0: X0 has non-finite entries"):
        odeint(bound(), (x0, y0), T, options={"step_size": 0.1})
    with pytest.raises(DivergedError, match="step_size: .* became non-finite"):
        odeint(bound(alpha=30.0), state(), torch.tensor([0.0, 150.0], dtype=torch.float64),
               options={"step_size": 0.1})
