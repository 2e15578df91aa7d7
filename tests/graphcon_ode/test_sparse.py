import torch

from graphcon_ode.sparse import SparseOperator
from tests.graphs import random_graph


def test_operator_product_and_gradient_match_dense_on_a_directed_graph():
    torch.manual_seed(0)
    edge_index = torch.randint(12, (2, 40))
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    weight = torch.rand(edge_index.shape[1], dtype=torch.float64)
    dense = torch.zeros(12, 12, dtype=torch.float64)
    dense.index_put_((edge_index[1], edge_index[0]), weight, accumulate=True)
    operator = SparseOperator(edge_index, weight, 12)
    h = torch.randn(12, 3, dtype=torch.float64, requires_grad=True)
    assert torch.allclose(operator @ h, dense @ h, rtol=0, atol=1e-14)
    assert torch.autograd.gradcheck(lambda x: operator @ x, (h,))


def test_operator_moves_to_the_working_dtype():
    edge_index = random_graph(5, 6)
    operator = SparseOperator(edge_index, torch.ones(edge_index.shape[1], dtype=torch.float64), 5)
    h = torch.randn(5, 2)
    assert (operator.to(dtype=torch.float32) @ h).dtype == torch.float32
