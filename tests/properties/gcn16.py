"""GraphCON-GCN with scalar features, eq. (16), written from the equation, and the loss (17) with autograd."""

import numpy as np
import torch


def normalised_adjacency(adj: np.ndarray) -> torch.Tensor:
    """Ŝ_ij = 1/√(d_i d_j) on N_i ∪ {i}, d_i = deg(i) + 1."""
    a_hat = torch.from_numpy(adj) + torch.eye(len(adj), dtype=torch.float64)
    d = a_hat.sum(1).rsqrt()
    return d[:, None] * a_hat * d[None, :]


def gradients(adj, weights, x0, y0, target, dt):
    """(∂J/∂w [N, v], X⁰…Xᴺ [N + 1, v]) for (16) with σ = tanh and J = (1/2v)Σ_i|Xᴺ_i − X̄_i|² (17)."""
    s = normalised_adjacency(adj)
    w = torch.as_tensor(weights, dtype=torch.float64).clone().requires_grad_(True)
    x, y = torch.as_tensor(x0, dtype=torch.float64), torch.as_tensor(y0, dtype=torch.float64)
    xs = [x]
    for n in range(w.shape[0]):
        c = s @ (w[n] * x)
        y = (1 - dt) * y + dt * torch.tanh(c) - dt * x
        x = x + dt * y
        xs.append(x)
    loss = (x - torch.as_tensor(target, dtype=torch.float64)).pow(2).sum() / (2 * len(adj))
    (grad,) = torch.autograd.grad(loss, w)
    return grad, torch.stack(xs).detach()
