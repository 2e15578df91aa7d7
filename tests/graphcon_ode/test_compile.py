"""``torch.compile`` of the GraphCON-GCN node model (imex, backward "backprop"): the sparse product traced as one
operator without a graph break, the step loop free of host reads, compiled outputs and gradients equal to eager."""

import torch

from graphcon_ode.models import GraphCONNodeModel
from graphcon_ode.sparse import SparseOperator
from solvers import Imex, StepGrid, advance
from tests.graphs import random_graph


def dense_operator(edge_index, weight, n):
    """S[target, source] = weight, written from the definition."""
    dense = torch.zeros(n, n, dtype=torch.float64)
    dense.index_put_((edge_index[1], edge_index[0]), weight, accumulate=True)
    return dense


def test_the_sparse_product_compiles_in_one_graph_with_its_gradient():
    torch._dynamo.reset()
    edge_index = random_graph(9, 25, seed=2)
    weight = torch.rand(edge_index.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    operator = SparseOperator(edge_index, weight, 9)
    h = torch.randn(9, 3, dtype=torch.float64, requires_grad=True)
    seed = torch.randn(9, 3, dtype=torch.float64)

    def product(x):
        return torch.tanh(operator(x))

    assert torch._dynamo.explain(product)(h).graph_break_count == 0
    compiled = torch.compile(product, fullgraph=True)
    out = compiled(h)
    (grad,) = torch.autograd.grad(out, h, seed)
    dense = dense_operator(edge_index, weight, 9)
    reference = torch.tanh(dense @ h)
    assert torch.allclose(out, reference, rtol=0, atol=1e-14)
    assert torch.allclose(grad, dense.T @ (seed * (1 - reference**2)), rtol=0, atol=1e-14)
    assert torch.equal(operator @ h, operator(h))


def model_and_graph():
    torch.manual_seed(0)
    model = GraphCONNodeModel(6, 16, 4, num_layers=3, step_size=0.5, alpha=0.5, gamma=1.0)
    x = torch.randn(30, 6, generator=torch.Generator().manual_seed(1))
    return model, x, random_graph(30, 90, seed=4)


def loss_and_grads(model, x, edge_index):
    model.zero_grad()
    loss = model(x, edge_index).square().sum()
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


def test_the_compiled_model_gives_the_eager_outputs_and_gradients():
    torch._dynamo.reset()
    model, x, edge_index = model_and_graph()
    eager_loss, eager_grads = loss_and_grads(model, x, edge_index)
    compiled = torch.compile(model)
    for _ in range(2):  # the second call runs the compiled code without tracing
        loss, grads = loss_and_grads(compiled, x, edge_index)
        assert torch.allclose(loss, eager_loss, rtol=1e-5, atol=0)
        for got, want in zip(grads, eager_grads):
            assert torch.allclose(got, want, rtol=1e-4, atol=1e-5 * want.abs().max())


def test_the_step_loop_of_the_gcn_model_has_no_graph_break():
    torch._dynamo.reset()
    model, x, edge_index = model_and_graph()
    x0, y0 = model.initial_state(x)
    field = model.bound_field(edge_index, x0)
    field.force(torch.zeros(()), x0)  # the graph is prepared once, outside the loop
    grid = StepGrid(torch.tensor([0.0, model.end_time]), model.step_size, x0)

    def steps(q, p):
        return advance(Imex(), field, grid, 0, grid.steps, q, p, [q, q], [p, p])

    assert torch._dynamo.explain(steps)(x0, y0).graph_break_count == 0
