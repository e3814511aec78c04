"""Encoders and decoders against dense re-computations of their formulas (mixed vs separated ego)."""
import pytest
import torch

from linkpred.decoders import build_decoder
from linkpred.encoders import ENCODERS, build_encoder
from linkpred.model import build_link_predictor, model_name, parse_model_name


def _graph(n=12, m=30, f=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    ei = torch.unique(torch.cat([ei, ei.flip(0)], 1), dim=1)  # undirected, no duplicates; node n-1 may be isolated
    return torch.randn(n, f, generator=g), ei


def _dense(ei, n):
    a = torch.zeros(n, n)
    a[ei[1], ei[0]] = 1.0  # a[i, j] = 1 for the edge j -> i
    return a


def _sym_norm(a):
    d = a.sum(1)
    dis = torch.where(d > 0, d.pow(-0.5), torch.zeros_like(d))
    return dis[:, None] * a * dis[None, :]


def _mean(a):
    d = a.sum(1, keepdim=True)
    return torch.where(d > 0, a / d.clamp_min(1), torch.zeros_like(a))


def _lin(layer, h):
    """W h + b of an SpmmLinear neighbour layer (applied after aggregation)."""
    return h @ layer.lin.weight.t() + layer.bias


def test_gcn_mixed_and_separate():
    x, ei = _graph()
    a = _dense(ei, 12)
    mixed = build_encoder('gcn', 5, 4, num_layers=1)
    c = mixed.convs[0].module
    assert mixed.convs[0].ego is None
    assert torch.allclose(mixed(x, ei), _lin(c, _sym_norm(a + torch.eye(12)) @ x), atol=1e-5)
    sep = build_encoder('gcn', 5, 4, num_layers=1, separate_ego=True)
    c, s = sep.convs[0].module, sep.convs[0].ego
    want = _lin(c, _sym_norm(a) @ x) + x @ s.weight.t()
    assert s.bias is None and torch.allclose(sep(x, ei), want, atol=1e-5)
    cat = build_encoder('gcn', 5, 4, num_layers=1, separate_ego='concat')
    c, s = cat.convs[0].module, cat.convs[0].ego
    want = torch.cat([x, _lin(c, _sym_norm(a) @ x)], 1) @ s.weight.t() + s.bias
    assert torch.allclose(cat(x, ei), want, atol=1e-5)


def test_sage_native_and_mixed_two_layers():
    x, ei = _graph(seed=1)
    a = _dense(ei, 12)
    sep = build_encoder('sage', 5, 4, num_layers=2)  # native: W1 h_v + W2 mean_N(v) h_u
    h = x
    for i, layer in enumerate(sep.convs):
        if i:
            h = torch.relu(h)
        h = _lin(layer.module, _mean(a) @ h) + h @ layer.ego.weight.t()
    assert torch.allclose(sep(x, ei), h, atol=1e-5)
    mix = build_encoder('sage', 5, 4, num_layers=1, separate_ego=False)
    assert torch.allclose(mix(x, ei), _lin(mix.convs[0].module, _mean(a + torch.eye(12)) @ x), atol=1e-5)


def test_gin_and_gprgnn():
    x, ei = _graph(seed=2)
    a = _dense(ei, 12)
    mix = build_encoder('gin', 5, 4, num_layers=1)
    assert torch.allclose(mix(x, ei), mix.convs[0].module.nn(x + a @ x), atol=1e-5)
    sep = build_encoder('gin', 5, 4, num_layers=1, separate_ego=True)
    want = sep.convs[0].module.nn(a @ x) + x @ sep.convs[0].ego.weight.t()
    assert torch.allclose(sep(x, ei), want, atol=1e-5)
    for separate, adj in ((False, _sym_norm(a + torch.eye(12))), (True, _sym_norm(a))):
        gpr = build_encoder('gprgnn', 5, 4, num_layers=2, separate_ego=separate)
        l1, l2 = gpr.convs
        h = l2(torch.relu(l1(x)))
        want, p = torch.zeros_like(h), h
        for k in range(gpr.K + 1):
            want = want + gpr.gamma[k] * p
            p = adj @ p
        assert torch.allclose(gpr(x, ei), want, atol=1e-5)
    assert torch.allclose(gpr.gamma[:3], 0.1 * 0.9 ** torch.arange(3.0))  # PPR initialisation, alpha 0.1


def test_gat_self_loops_switch():
    x, ei = _graph(seed=3)
    mix = build_encoder('gatv2', 5, 8, num_layers=1, heads=2)
    sep = build_encoder('gatv2', 5, 8, num_layers=1, heads=2, separate_ego=True)
    assert mix.convs[0].module.conv.add_self_loops and not sep.convs[0].module.conv.add_self_loops
    iso = 11 if not (ei == 11).any() else None
    out = sep(x, ei)
    assert out.shape == (12, 8)
    if iso is not None:  # an isolated node only sees its ego term
        want = sep.convs[0].module.conv.bias + x[iso] @ sep.convs[0].ego.weight.t()
        assert torch.allclose(out[iso], want, atol=1e-5)


@pytest.mark.parametrize('name', sorted(ENCODERS))
def test_transformed_graph_scores_graph_nodes_only(name):
    x, ei = _graph(seed=4)
    # GRAPHITE layout: 12 graph nodes then 3 feature nodes, feature edges in both directions
    fx = torch.cat([x, torch.randn(3, 5)])
    fe = torch.tensor([[0, 12, 5, 13, 7, 14], [12, 0, 13, 5, 14, 7]])
    full_ei = torch.cat([ei, fe], 1)
    enc = build_encoder(name, 5, 8, num_layers=2, heads=2) if 'gat' in name else build_encoder(name, 5, 8)
    enc.eval()
    h = enc(fx, full_ei, num_graph_nodes=12)
    assert h.shape == (12, enc.out_channels)
    assert torch.allclose(h, enc(fx, full_ei)[:12])
    if name != 'none':  # messages from feature nodes reach graph nodes
        assert not torch.allclose(h, enc(x, ei))


def test_decoders():
    g = torch.Generator().manual_seed(0)
    h = torch.randn(6, 4, generator=g)
    pairs = torch.tensor([[0, 1, 2], [3, 4, 5]])
    assert torch.allclose(build_decoder('dot', 4)(h, pairs), (h[pairs[0]] * h[pairs[1]]).sum(1))
    dm = build_decoder('distmult', 4)
    assert dm.lin.bias is None
    assert torch.allclose(dm(h, pairs), (h[pairs[0]] * h[pairs[1]]) @ dm.lin.weight.view(-1))
    mlp = build_decoder('mlp', 4)
    assert [tuple(lin.weight.shape) for lin in mlp.mlp.lins] == [(4, 4), (4, 4), (1, 4)]
    cat = build_decoder('concat', 4)
    assert torch.allclose(cat(h, pairs), cat(h, pairs.flip(0)))  # symmetric
    for name in ('mlp', 'distmult', 'concat'):
        out = build_decoder(name, 4)(h, pairs)
        assert out.shape == (3,)


def test_names_and_errors():
    assert model_name('gcn', 'mlp', True) == 'gcn-mlp-sep'
    assert model_name('sage', 'mlp', None) == 'sage-mlp' and model_name('sage', 'dot', False) == 'sage-dot-mix'
    assert parse_model_name('gcn-mlp-sep') == ('gcn', 'mlp', True)
    with pytest.raises(KeyError, match='unknown encoder'):
        build_encoder('gcnn', 5, 4)
    with pytest.raises(KeyError, match='unknown decoder'):
        build_decoder('cosine', 4)
    with pytest.raises(ValueError, match='separate_ego'):
        build_encoder('gcn', 5, 4, separate_ego='both')
    with pytest.raises(ValueError, match='no-GNN'):
        build_encoder('none', 5, 4, separate_ego=True)
    x, ei = _graph()
    enc = build_encoder('gcn', 5, 4)
    with pytest.raises(ValueError, match='features'):
        enc(torch.randn(12, 6), ei)
    with pytest.raises(ValueError, match='outside'):
        enc(x, torch.tensor([[0], [12]]))
    model = build_link_predictor('gcn', 'dot', 5, 4)
    with pytest.raises(ValueError, match='outside'):
        model(x, ei, torch.tensor([[0], [40]]))
