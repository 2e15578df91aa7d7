"""Hypothesis strategies for the property tests: graphs, seeded arrays and the coefficients α, γ, Δt.

Graphs are dense symmetric 0/1 numpy arrays without self-loops, 2–40 nodes, of three kinds: Erdős–Rényi
(connected or not, irregular), circulant (regular; connected iff the offsets and n are coprime) with the nodes
relabelled, and two random components side by side (never connected).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

KINDS = ("random", "regular", "two_components")


def _random(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    upper = np.triu(rng.random((n, n)) < p, k=1).astype(np.float64)
    return upper + upper.T


def _circulant(n: int, offsets: set[int], rng: np.random.Generator) -> np.ndarray:
    adj = np.zeros((n, n))
    for i in range(n):
        for s in offsets:
            adj[i, (i + s) % n] = adj[(i + s) % n, i] = 1.0
    order = rng.permutation(n)
    return adj[np.ix_(order, order)]


@st.composite
def graphs(draw, min_nodes: int = 2, max_nodes: int = 40, kinds: tuple[str, ...] = KINDS,
           min_edges: int = 0) -> np.ndarray:
    """A graph of one of ``kinds`` with at least ``min_edges`` undirected edges."""
    kind = draw(st.sampled_from(kinds))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if kind == "random":
        adj = _random(draw(st.integers(min_nodes, max_nodes)), draw(st.floats(0.05, 0.9)), rng)
    elif kind == "regular":
        n = draw(st.integers(max(min_nodes, 2), max_nodes))
        adj = _circulant(n, draw(st.sets(st.integers(1, n // 2), min_size=1, max_size=3)), rng)
    else:
        first = draw(st.integers(1, max(1, max_nodes // 2)))
        second = draw(st.integers(max(1, min_nodes - first), max_nodes - first))
        adj = np.zeros((first + second, first + second))
        adj[:first, :first] = _random(first, draw(st.floats(0.1, 0.9)), rng)
        adj[first:, first:] = _random(second, draw(st.floats(0.1, 0.9)), rng)
    if adj.sum() / 2 < min_edges:
        adj[0, 1] = adj[1, 0] = 1.0
    return adj


def is_regular(adj: np.ndarray) -> bool:
    degrees = adj.sum(1)
    return bool(np.all(degrees == degrees[0]))


def rng_from(draw) -> np.random.Generator:
    """A numpy generator whose seed Hypothesis draws (and shrinks)."""
    return np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(math.log(low), math.log(high)).map(math.exp)
