import math

import pytest
import torch

from graphcon_ode.couplings.csr_attention import attention_pattern, csr_attention

# 6 nodes: 1 → 0 listed twice, a self-loop on 2, node 5 without any edge.
EDGES = torch.tensor([[1, 2, 1, 0, 2, 3, 4], [0, 0, 0, 1, 2, 2, 3]])
N, HEADS = 6, 2


def scores(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(N, HEADS, dtype=torch.float64, generator=generator),
            torch.randn(N, HEADS, dtype=torch.float64, generator=generator))


def coefficients(pattern, src, dst, dropout=0.0) -> torch.Tensor:
    """[heads, N, N] attention matrices A^h, read off as A^h I (the identity as every head's features)."""
    identity = torch.eye(N, dtype=torch.float64)[:, None, :].expand(N, HEADS, N)
    return csr_attention(pattern, src, dst, identity, dropout, concat=True).view(N, HEADS, N).transpose(0, 1)


def softmax_loop(edges, src, dst, head):
    """A[i, j] = Σ over the listed edges j → i of exp(e_ij) / Σ over i's listed edges exp(e_ik), e = LeakyReLU."""
    def leaky(v):
        return v if v > 0 else 0.2 * v

    a = torch.zeros(N, N, dtype=torch.float64)
    for i in range(N):
        sources = [int(s) for s, t in edges.t() if int(t) == i]
        total = sum(math.exp(leaky(float(src[j, head] + dst[i, head]))) for j in sources)
        for j in sources:
            a[i, j] += math.exp(leaky(float(src[j, head] + dst[i, head]))) / total
    return a


def test_pattern_orders_values_by_target_head_source_with_multiplicities_and_its_transpose():
    pattern = attention_pattern(EDGES, N, HEADS, self_loops=False)
    # stored edges (i, j): (0, 1) twice, (0, 2), (1, 0), (2, 2), (2, 3), (3, 4); value (i, h, j)
    assert pattern.segment.tolist() == [0, 0, 1, 1, 2, 3, 4, 4, 5, 5, 6, 7]  # i·H + h
    assert pattern.column.tolist() == [2, 4, 3, 5, 0, 1, 4, 6, 5, 7, 8, 9]  # j·H + h
    assert pattern.multiplicity.tolist() == [2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    assert pattern.segment_crow.tolist() == [0, 2, 4, 5, 6, 8, 10, 11, 12, 12, 12, 12, 12]
    assert pattern.target_crow.tolist() == [0, 4, 6, 10, 12, 12, 12]
    order = pattern.transpose
    pairs = list(zip(pattern.column[order].tolist(), pattern.segment[order].tolist()))
    assert pairs == sorted(zip(pattern.column.tolist(), pattern.segment.tolist()))
    assert pattern.segment_t.tolist() == [s for _, s in pairs]
    assert pattern.target_t.tolist() == [s // HEADS for _, s in pairs]
    assert pattern.column_crow.tolist() == [0, 1, 2, 3, 4, 6, 8, 9, 10, 11, 12, 12, 12]


def test_self_loops_are_replaced_by_one_per_node():
    pattern = attention_pattern(EDGES, N, HEADS, self_loops=True)
    loops = pattern.segment // HEADS == pattern.column // HEADS
    assert sorted(pattern.segment[loops].tolist()) == list(range(N * HEADS))
    assert pattern.multiplicity[loops].tolist() == [1] * (N * HEADS)
    assert attention_pattern(EDGES[:, 3:], N, 1, self_loops=True).multiplicity is None


@pytest.mark.parametrize("self_loops", [False, True])
def test_coefficients_are_the_softmax_over_each_targets_listed_edges(self_loops):
    src, dst = scores(0)
    edges = EDGES
    if self_loops:
        edges = torch.cat([edges[:, edges[0] != edges[1]], torch.arange(N).repeat(2, 1)], dim=1)
    got = coefficients(attention_pattern(EDGES, N, HEADS, self_loops), src, dst)
    for head in range(HEADS):
        assert torch.allclose(got[head], softmax_loop(edges, src, dst, head), rtol=0, atol=1e-15)


def test_averaged_heads_are_the_mean_of_the_concatenated_ones():
    pattern = attention_pattern(EDGES, N, HEADS, self_loops=True)
    src, dst = scores(5)
    projected = torch.randn(N, HEADS, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    concatenated = csr_attention(pattern, src, dst, projected, concat=True)
    expected = sum(a @ projected[:, h] for h, a in enumerate(coefficients(pattern, src, dst))) / HEADS
    assert torch.allclose(concatenated.view(N, HEADS, 3).mean(dim=1), expected, rtol=0, atol=1e-15)
    assert torch.allclose(csr_attention(pattern, src, dst, projected), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("concat", [False, True])
@pytest.mark.parametrize("self_loops", [False, True])
def test_backward_matches_finite_differences(self_loops, concat):
    pattern = attention_pattern(EDGES, N, HEADS, self_loops)
    src, dst = scores(1)
    projected = torch.randn(N, HEADS, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    inputs = tuple(v.requires_grad_() for v in (src, dst, projected))
    assert torch.autograd.gradcheck(lambda s, d, h: csr_attention(pattern, s, d, h, concat=concat), inputs)


def test_dropout_draws_each_listed_edge_independently():
    """An edge listed once keeps α/(1 − p) with probability 1 − p; the edge 1 → 0 listed twice keeps 0, 1 or 2 of
    its copies, i.e. 0, α/2/(1 − p) or α/(1 − p) of its merged α, with probabilities p², 2p(1 − p), (1 − p)²."""
    pattern, p, draws = attention_pattern(EDGES, N, HEADS, self_loops=False), 0.3, 4000
    src, dst = scores(3)
    alpha = coefficients(pattern, src, dst)
    torch.manual_seed(0)
    samples = torch.stack([coefficients(pattern, src, dst, p) for _ in range(draws)])
    ratio = samples / alpha.clamp_min(1e-300) * (1 - p)
    single = ratio[:, :, 0, 2]  # 2 → 0, listed once
    assert torch.allclose(single, single.round(), atol=1e-12) and set(single.round().unique().tolist()) == {0.0, 1.0}
    assert abs(float((single == 0).double().mean()) - p) < 4 * math.sqrt(p * (1 - p) / (draws * HEADS))
    double = (2 * ratio[:, :, 0, 1]).round()  # kept copies of 1 → 0
    assert torch.allclose(2 * ratio[:, :, 0, 1], double, atol=1e-12)
    for kept, probability in ((0, p * p), (1, 2 * p * (1 - p)), (2, (1 - p) ** 2)):
        frequency = float((double == kept).double().mean())
        assert abs(frequency - probability) < 4 * math.sqrt(probability * (1 - probability) / (draws * HEADS))


def test_a_graph_without_edges_gives_zeros():
    pattern = attention_pattern(torch.empty(2, 0, dtype=torch.long), N, HEADS, self_loops=False)
    src, dst = scores(4)
    out = csr_attention(pattern, src, dst, torch.ones(N, HEADS, 3, dtype=torch.float64))
    assert out.shape == (N, 3) and not out.any()


def test_dropout_one_drops_every_coefficient():
    src, dst = scores(6)
    assert not coefficients(attention_pattern(EDGES, N, HEADS, self_loops=True), src, dst, dropout=1.0).any()
