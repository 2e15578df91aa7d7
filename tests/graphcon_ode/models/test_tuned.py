import pytest
import torch
from torch_geometric.nn import GCNConv

from graphcon_ode.models import names
from graphcon_ode.models.tuned import TunedGNN, gcn_operator

# a path 0-1-2-3 and an edge 1-3, both directions, plus a self-loop at 2 that the model must not count twice
EDGES = torch.tensor([[0, 1, 1, 2, 1, 3, 2, 3, 2], [1, 0, 2, 1, 3, 1, 3, 2, 2]])
N = 4


def gcn_matrix() -> torch.Tensor:
    """D̂^{−1/2} Â D̂^{−1/2} with Â = A + I, written out densely."""
    a = torch.zeros(N, N, dtype=torch.float64)
    for source, target in EDGES.t().tolist():
        if source != target:
            a[target, source] = 1.0
    a_hat = a + torch.eye(N, dtype=torch.float64)
    d = a_hat.sum(dim=1).rsqrt()
    return d[:, None] * a_hat * d[None, :]


def reference(net: TunedGNN, x: torch.Tensor, normalisation: str) -> torch.Tensor:
    """Hˡ = ReLU(Norm(S Hˡ⁻¹ W + b + Hˡ⁻¹ W_res + b_res)), out = Hᴸ W_out + b_out, in training mode without
    dropout (BatchNorm over the nodes with the biased variance)."""
    s = gcn_matrix()
    h = x
    for layer in range(len(net.convs)):
        conv, res, norm = net.convs[layer], net.residuals[layer], net.norms[layer]
        z = s @ h @ conv.lin.weight.t() + conv.bias + h @ res.weight.t() + res.bias
        if normalisation == "batch":
            z = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + norm.eps) * norm.weight + norm.bias
        elif normalisation == "layer":
            z = ((z - z.mean(1, keepdim=True)) / torch.sqrt(z.var(1, unbiased=False, keepdim=True) + norm.eps)
                 * norm.weight + norm.bias)
        h = torch.relu(z)
    return h @ net.head.weight.t() + net.head.bias


@pytest.mark.parametrize("normalisation", ["batch", "layer", "none"])
def test_gcn_star_is_the_equation(normalisation):
    torch.manual_seed(0)
    net = TunedGNN(3, 5, 2, conv="gcn", num_layers=3, dropout=0.0, normalisation=normalisation).double()
    for norm in net.norms:  # non-trivial affine parameters
        for p in norm.parameters():
            p.data.normal_()
    x = torch.randn(N, 3, dtype=torch.float64)
    net.train()
    torch.testing.assert_close(net(x, EDGES), reference(net, x, normalisation), rtol=1e-12, atol=1e-12)


def test_without_residual_the_term_is_gone():
    torch.manual_seed(1)
    net = TunedGNN(3, 4, 1, num_layers=2, dropout=0.0, normalisation="none", residual=False).double()
    assert net.residuals is None
    x = torch.randn(N, 3, dtype=torch.float64)
    s = gcn_matrix()
    h = x
    for conv in net.convs:
        h = torch.relu(s @ h @ conv.lin.weight.t() + conv.bias)
    torch.testing.assert_close(net(x, EDGES), h @ net.head.weight.t() + net.head.bias, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat"])
def test_every_conv_builds_and_trains(conv):
    torch.manual_seed(2)
    net = TunedGNN(3, 8, 2, conv=conv, num_layers=3, input_linear=True, heads=2 if conv == "gat" else 1)
    assert net.input is not None and net.convs[0] is not None
    out = net(torch.randn(N, 3), EDGES)
    assert out.shape == (N, 2)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert f"{conv}, layers=3" in repr(net)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="conv"):
        TunedGNN(3, 8, 1, conv="gin")
    with pytest.raises(ValueError, match="normalisation"):
        TunedGNN(3, 8, 1, normalisation="group")
    with pytest.raises(ValueError, match="num_layers"):
        TunedGNN(3, 8, 1, num_layers=0)
    with pytest.raises(ValueError, match="heads"):
        TunedGNN(3, 8, 1, conv="gat", heads=3)


def test_names_resolve_the_tuned_models():
    for name, conv in [("gcn-tuned", "gcn"), ("sage-tuned", "sage"), ("gat-tuned", "gat")]:
        net = names.build_model(name, 3, 8, 1, table="heterophilous", num_layers=4, normalisation="layer")
        assert isinstance(net, TunedGNN) and net.conv == conv and len(net.convs) == 4
        assert isinstance(net.norms[0], torch.nn.LayerNorm)


def test_gcn_layer_is_pyg_gcnconv():
    torch.manual_seed(3)
    net = TunedGNN(3, 5, 1, num_layers=1).double()
    pyg = GCNConv(3, 5).double()
    pyg.lin.weight.data.copy_(net.convs[0].lin.weight)
    pyg.bias.data.normal_()
    net.convs[0].bias.data.copy_(pyg.bias)
    x = torch.randn(N, 3, dtype=torch.float64)
    operator = gcn_operator(EDGES, N, torch.float64)
    torch.testing.assert_close(net.convs[0](x, operator), pyg(x, EDGES), rtol=1e-12, atol=1e-12)
