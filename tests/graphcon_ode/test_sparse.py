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


def test_indices_are_int32_and_the_product_still_matches_dense():
    edge_index = random_graph(9, 20)
    weight = torch.rand(edge_index.shape[1], dtype=torch.float64)
    operator = SparseOperator(edge_index, weight, 9)
    for matrix in (operator.matrix, operator.transpose, operator.to(dtype=torch.float32).matrix):
        assert matrix.crow_indices().dtype == torch.int32 and matrix.col_indices().dtype == torch.int32
    dense = torch.zeros(9, 9, dtype=torch.float64)
    dense.index_put_((edge_index[1], edge_index[0]), weight, accumulate=True)
    h = torch.randn(9, 4, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(operator @ h, dense @ h, rtol=0, atol=1e-14)
    (operator @ h).sum().backward()
    torch.testing.assert_close(h.grad, dense.t() @ torch.ones(9, 4, dtype=torch.float64), rtol=0, atol=1e-14)


def test_a_symmetric_operator_is_stored_once_and_a_directed_one_twice():
    edge_index = random_graph(8, 14)
    undirected = torch.cat([edge_index, edge_index.flip(0)], 1)
    symmetric = SparseOperator(undirected, torch.ones(undirected.shape[1], dtype=torch.float64), 8)
    assert symmetric.transpose is symmetric.matrix
    moved = symmetric.to(dtype=torch.float32)
    assert moved.transpose is moved.matrix and moved.matrix.dtype == torch.float32
    directed = torch.tensor([[0, 1, 2], [1, 2, 0]])
    one_way = SparseOperator(directed, torch.ones(3, dtype=torch.float64), 3)
    assert one_way.transpose is not one_way.matrix
    h = torch.eye(3, dtype=torch.float64, requires_grad=True)
    (one_way @ h)[1, 0].backward()  # S[1, 0] = 1 (edge 0 → 1): the gradient reads Sᵀ, not S
    assert h.grad[0, 0] == 1 and h.grad.sum() == 1
