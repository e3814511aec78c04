"""Tests of graphite.nn: GraphiteConv against a brute-force evaluation of its formula, edge-type weights,
determinism, and every baseline on an original and on a GRAPHITE-transformed tiny graph."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from graphite import Graphite
from graphite.nn import MODELS, GraphiteConv, GraphiteNet, TypedAdjacency, get_model
from graphite.nn.dropout import dropout
from graphite.nn.input_linear import InputLinear
from graphite.nn.normalized_adjacency import sym_normalized, two_hop_edges


def brute_force_conv(conv: GraphiteConv, x, edge_index, edge_type):
    """The formula of GraphiteConv evaluated with explicit Python loops over edges (eval mode, no dropout)."""
    n = x.size(0)
    w_f = F.softplus(conv.weight_rho[0]).item()
    w_0 = F.softplus(conv.weight_rho[1]).item()
    edges = [(int(edge_index[0, e]), int(edge_index[1, e]), 1.0 if (edge_type is None or int(edge_type[e]) == 0)
              else w_f) for e in range(edge_index.size(1))]
    edges += [(i, i, w_0) for i in range(n)]
    deg = [0.0] * n
    for j, i, w in edges:
        deg[i] += w
    u = conv.norm(x) if conv.norm is not None else x
    a_src, a_dst, b = conv.att_src.detach(), conv.att_dst.detach(), conv.att_bias.item()
    m = torch.zeros_like(x)
    for j, i, w in edges:
        logit = (torch.dot(a_dst, u[i]) + b + torch.dot(a_src, u[j])).item()
        gate = math.tanh(logit / conv.tau)
        m[i] += gate * w / math.sqrt(deg[i] * deg[j]) * u[j]
    if conv.separate_ego:
        m = torch.cat([u, m], dim=-1)
    return x + conv.lin2(F.gelu(conv.lin1(m)))


@pytest.fixture
def typed_graph():
    # 6 nodes: 0-3 "graph nodes", 4-5 "feature nodes"; duplicate edge 0->1 on purpose
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 0, 0, 4, 1, 5, 2, 4, 0],
                               [1, 0, 2, 1, 2, 1, 4, 0, 5, 1, 4, 2, 3]])
    edge_type = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0])
    return edge_index, edge_type


@pytest.mark.parametrize('norm,separate_ego', [(True, False), (False, False), (True, True)])
@pytest.mark.parametrize('tau', [1.0, 0.3])
def test_graphite_conv_matches_brute_force(typed_graph, norm, separate_ego, tau):
    edge_index, edge_type = typed_graph
    torch.manual_seed(0)
    conv = GraphiteConv(8, feature_weight=0.7, self_loop_weight=2.5, tau=tau, norm=norm,
                        separate_ego=separate_ego).eval()
    with torch.no_grad():  # non-trivial gate parameters so tanh is far from 0
        conv.att_src.normal_(0, 1.0)
        conv.att_dst.normal_(0, 1.0)
        conv.att_bias.fill_(0.3)
    x = torch.randn(6, 8)
    out = conv(x, edge_index, edge_type)
    expected = brute_force_conv(conv, x, edge_index, edge_type)
    assert out.shape == (6, 8)
    assert torch.allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize('learn', [True, False])
def test_gate_bias_init_starts_as_gcn_propagation(learn):
    """A large initial gate bias saturates every gate at 1: without the MLP, norm and skip the layer is GCN's
    propagation D^-1/2 (A + I) D^-1/2 u (PyG's gcn_norm as the oracle); learned or fixed, it is a parameter of
    the layer (reset_parameters restores it)."""
    from torch_geometric.nn.conv.gcn_conv import gcn_norm
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 0, 4], [1, 0, 2, 1, 2, 3, 0]])
    torch.manual_seed(0)
    conv = GraphiteConv(8, ffn=False, norm=False, residual='none', learn_weights=False, feature_edges=False,
                        gate_bias=learn, gate_bias_init=50.0).eval()
    assert conv.att_bias.item() == 50.0 and isinstance(conv.att_bias, torch.nn.Parameter) == learn
    x = torch.randn(5, 8)
    ei, w = gcn_norm(edge_index, num_nodes=5, add_self_loops=True)
    expected = torch.sparse_coo_tensor(ei.flip(0), w, (5, 5)) @ x
    assert torch.allclose(conv(x, edge_index), expected, atol=1e-5)
    with torch.no_grad():
        conv.att_bias.fill_(0.0)
    conv.reset_parameters()
    assert conv.att_bias.item() == 50.0
    net = GraphiteNet(3, 8, 2, num_layers=2, gate_bias=learn, gate_bias_init=4.0)
    assert all(c.att_bias.item() == 4.0 for c in net.convs)
    assert GraphiteConv(8).att_bias.item() == 0.0  # the default: FAGCN's gates, near tanh(0) = 0


def test_without_edge_type_all_edges_are_graph_edges(typed_graph):
    edge_index, _ = typed_graph
    torch.manual_seed(0)
    conv = GraphiteConv(4, feature_weight=3.0).eval()
    x = torch.randn(6, 4)
    out = conv(x, edge_index)
    assert torch.allclose(out, conv(x, edge_index, torch.zeros(edge_index.size(1), dtype=torch.long)))
    assert torch.allclose(out, brute_force_conv(conv, x, edge_index, None), atol=1e-5)


def test_type_weights_learnable_and_fixed(typed_graph):
    edge_index, edge_type = typed_graph
    x = torch.randn(6, 4)
    learn = GraphiteConv(4, feature_weight=0.5, self_loop_weight=2.0, learn_weights=True)
    fixed = GraphiteConv(4, feature_weight=0.5, self_loop_weight=2.0, learn_weights=False)
    for conv in (learn, fixed):
        assert torch.allclose(conv.type_weights(), torch.tensor([1.0, 0.5, 2.0]), atol=1e-6)
    assert any(p is learn.weight_rho for p in learn.parameters())
    assert all(p is not fixed.weight_rho for p in fixed.parameters())
    assert 'weight_rho' in fixed.state_dict()  # fixed weights still saved as a buffer
    for conv in (learn, fixed):
        opt = torch.optim.SGD(conv.parameters(), lr=0.5)
        before = conv.type_weights().detach().clone()
        conv(x, edge_index, edge_type).pow(2).sum().backward()
        opt.step()
        after = conv.type_weights().detach()
        assert after[0] == 1.0 and (after > 0).all()
        if conv is learn:
            assert not torch.allclose(before, after)
        else:
            assert torch.equal(before, after)
    # w_F gets no gradient on a graph without feature edges
    conv = GraphiteConv(4)
    conv(x, edge_index).sum().backward()
    assert conv.weight_rho.grad[0] == 0 and conv.weight_rho.grad[1] != 0
    conv.reset_parameters()
    assert torch.allclose(conv.type_weights(), torch.tensor([1.0, 1.0, 1.0]), atol=1e-6)


def test_feature_weight_changes_output_only_through_feature_edges(typed_graph):
    edge_index, edge_type = typed_graph
    torch.manual_seed(0)
    a = GraphiteConv(4, feature_weight=0.2).eval()
    b = GraphiteConv(4, feature_weight=5.0).eval()
    b.load_state_dict({k: v for k, v in a.state_dict().items() if k != 'weight_rho'}, strict=False)
    x = torch.randn(6, 4)
    assert not torch.allclose(a(x, edge_index, edge_type), b(x, edge_index, edge_type))
    assert torch.allclose(a(x, edge_index), b(x, edge_index))


def test_graphite_conv_bad_input(typed_graph):
    edge_index, edge_type = typed_graph
    conv = GraphiteConv(4)
    with pytest.raises(ValueError, match='shape'):
        conv(torch.randn(6, 5), edge_index)
    with pytest.raises(ValueError, match='outside'):
        conv(torch.randn(3, 4), edge_index)
    with pytest.raises(ValueError, match='edge_type'):
        conv(torch.randn(6, 4), edge_index, torch.full_like(edge_type, 2))
    with pytest.raises(ValueError, match='edge_type'):
        conv(torch.randn(6, 4), edge_index, edge_type[:-1])
    with pytest.raises(ValueError):
        GraphiteConv(4, feature_weight=0.0)
    with pytest.raises(ValueError):
        GraphiteConv(4, tau=-1)
    with pytest.raises(KeyError, match='unknown model'):
        get_model('nope')


def test_typed_adjacency_memoised_and_counts(typed_graph):
    from graphite.memo import TensorMemo
    edge_index, edge_type = typed_graph
    memo = TensorMemo(2)
    a = memo.cached((edge_index, edge_type), 'adj', lambda: TypedAdjacency(edge_index, 6, edge_type))
    assert memo.cached((edge_index, edge_type), 'adj', lambda: None) is a
    assert memo.cached((edge_index, None), 'adj', lambda: None) is not a
    edge_type.add_(0)                                      # in-place change (version bump): rebuilt
    assert memo.cached((edge_index, edge_type), 'adj', lambda: None) is None
    assert torch.bincount(a.edge_type).tolist() == [7, 6, 6]
    assert a.csr.num_edges == 13 + 6
    assert 'self_loops=6' in repr(a)


def test_graphite_net_shapes_gradients_determinism(make_graph):
    data = Graphite()(make_graph(num_nodes=20, num_features=6, num_edges=40))
    out = None
    for _ in range(2):
        torch.manual_seed(3)
        model = GraphiteNet(6, 16, 3, num_layers=3, dropout=0.3)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        for _ in range(3):
            opt.zero_grad()
            logits = model(data.x, data.edge_index, data.edge_type)
            loss = F.cross_entropy(logits[:20], data.y[:20])
            loss.backward()
            opt.step()
        assert logits.shape == (data.num_nodes, 3)
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert any(p.grad.abs().sum() > 0 for n, p in model.named_parameters() if 'att_' in n)
        model.eval()
        if out is None:
            out = model(data.x, data.edge_index, data.edge_type)
        else:
            assert torch.equal(out, model(data.x, data.edge_index, data.edge_type))
    assert 'GraphiteNet(6, 16, 3, num_layers=3' in repr(model)


@pytest.mark.parametrize('name', sorted(MODELS))
@pytest.mark.parametrize('transformed', [False, True])
def test_every_model_on_original_and_transformed_graph(make_graph, name, transformed):
    data = make_graph(num_nodes=25, num_features=8, num_edges=60, density=0.3)
    if transformed:
        data = Graphite()(data)
    torch.manual_seed(0)
    model = MODELS[name](data.num_features, 16, 3)
    logits = model(data.x, data.edge_index, getattr(data, 'edge_type', None))
    assert logits.shape == (data.num_nodes, 3) and torch.isfinite(logits).all()
    F.cross_entropy(logits[:25], data.y[:25]).backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad), name
    model.reset_parameters()
    assert repr(model).startswith(type(model).__name__)


def test_two_hop_and_normalisation_match_dense():
    torch.manual_seed(0)
    n = 12
    edge_index = torch.randint(0, n, (2, 20))
    a = torch.zeros(n, n)
    a[edge_index[0], edge_index[1]] = 1
    a = ((a + a.t()) > 0).float()
    a.fill_diagonal_(0)
    # strict 2-hop: distance exactly 2
    reach2 = ((a @ a) > 0) & (a == 0) & ~torch.eye(n, dtype=torch.bool)
    e2 = two_hop_edges(edge_index, n)
    dense2 = torch.zeros(n, n, dtype=torch.bool)
    dense2[e2[0], e2[1]] = True
    assert torch.equal(dense2, reach2)
    # D^-1/2 (A+I) D^-1/2 against dense
    csr, w = sym_normalized(edge_index, n, self_loops=True)
    ai = a + torch.eye(n)
    dinv = ai.sum(1).rsqrt()
    expected = dinv[:, None] * ai * dinv[None, :]
    from graphite.ops import spmm
    assert torch.allclose(spmm(csr, torch.eye(n), w), expected, atol=1e-6)
    with pytest.raises(ValueError, match='two-hop'):
        two_hop_edges(torch.tensor([[0] * 50 + list(range(1, 51)), list(range(1, 51)) + [0] * 50]), 51, max_edges=10)


def test_gprgnn_equals_dense_polynomial():
    torch.manual_seed(0)
    n = 10
    edge_index = torch.randint(0, n, (2, 25))
    x = torch.randn(n, 5)
    model = MODELS['gprgnn'](5, 8, 3, num_layers=4, alpha=0.2).eval()
    a = torch.zeros(n, n)
    a[edge_index[0], edge_index[1]] = 1
    a = ((a + a.t()) > 0).float()
    a.fill_diagonal_(1)
    dinv = a.sum(1).rsqrt()
    a_hat = dinv[:, None] * a * dinv[None, :]
    z = model.lin2(F.relu(model.lin1(x)))
    expected = sum(model.gamma[k] * torch.linalg.matrix_power(a_hat, k) @ z for k in range(5))
    assert torch.allclose(model(x, edge_index), expected, atol=1e-5)
    gamma0 = torch.tensor([0.2 * 0.8 ** k for k in range(4)] + [0.8 ** 4])
    assert torch.allclose(model.gamma.detach(), gamma0)


def test_input_linear_sparse_path_equals_dense():
    torch.manual_seed(0)
    x = (torch.rand(2000, 300) < 0.01).float()  # 1% dense, > 100k entries: sparse path
    lin = InputLinear(300, 16)
    ref = F.linear(x, lin.weight, lin.bias)
    assert torch.allclose(lin.eval()(x, 0.5), ref, atol=1e-5)
    lin.train()
    out = lin(x, 0.0)
    out.sum().backward()
    g_sparse = lin.weight.grad.clone()
    lin.weight.grad = None
    F.linear(x, lin.weight, lin.bias).sum().backward()
    assert torch.allclose(out, ref, atol=1e-5) and torch.allclose(g_sparse, lin.weight.grad, atol=1e-4)
    # with dropout: rows are sums of kept non-zeros scaled by 2 -> expectation equals the dense result
    outs = torch.stack([lin(x, 0.5) for _ in range(200)]).mean(0)
    assert (outs - ref).abs().mean() < 0.05


def test_dropout_keeps_zeros_and_expectation():
    torch.manual_seed(0)
    x = (torch.rand(500, 400) < 0.02).float()
    out = dropout(x, 0.5)
    assert ((out == 0) | (out == 2)).all() and (out[x == 0] == 0).all()
    kept = (out[x == 1] > 0).float().mean()
    assert 0.45 < kept < 0.55
    dense = torch.randn(300, 50)
    assert torch.equal(dropout(dense, 0.3, training=False), dense)
    o = dropout(dense, 0.3)
    frac = (o == 0).float().mean()
    assert 0.27 < frac < 0.33 and torch.allclose(o[o != 0], dense[o != 0] / 0.7)
    with pytest.raises(ValueError):
        dropout(dense, 1.0)


def test_gate_dropout_drops_whole_edge_coefficients_like_faconv(typed_graph):
    """In training, ``gate_dropout=p`` multiplies each edge's coefficient (self-loops included) by 0 or 1/(1-p),
    FAConv's attention dropout: every node's output is one keep/drop choice per incoming edge of the brute-force
    per-edge terms (all 2^k choices enumerated), edges are dropped at rate p, the mean over draws is the eval-mode
    output, and ``p=0`` or eval mode is the layer without dropout."""
    import itertools
    edge_index, edge_type = typed_graph
    p, n, h = 0.4, 6, 4
    torch.manual_seed(0)
    conv = GraphiteConv(h, feature_weight=0.7, self_loop_weight=2.5, norm=False, ffn=False, residual='none',
                        gate_dropout=p)
    with torch.no_grad():
        conv.att_src.normal_(0, 1.0)
        conv.att_dst.normal_(0, 1.0)
    x = torch.randn(n, h)
    w_f, w_0 = 0.7, 2.5
    edges = [(int(edge_index[0, e]), int(edge_index[1, e]), 1.0 if int(edge_type[e]) == 0 else w_f)
             for e in range(edge_index.size(1))] + [(i, i, w_0) for i in range(n)]
    deg = [sum(w for _, i, w in edges if i == k) for k in range(n)]
    terms = [[] for _ in range(n)]  # per target node: the brute-force term of each incoming edge
    for j, i, w in edges:
        gate = math.tanh((torch.dot(conv.att_dst.detach(), x[i]) + conv.att_bias.item()
                          + torch.dot(conv.att_src.detach(), x[j])).item())
        terms[i].append(gate * w / math.sqrt(deg[i] * deg[j]) * x[j])
    conv.eval()
    full = conv(x, edge_index, edge_type).detach()
    assert torch.allclose(full, torch.stack([sum(t) for t in terms]), atol=1e-5)
    conv.train()
    kept = total = 0
    outs = []
    draws = 300
    for seed in range(draws):
        torch.manual_seed(seed)
        out = conv(x, edge_index, edge_type).detach()
        outs.append(out)
        for i in range(n):
            fits = [z for z in itertools.product((0.0, 1.0 / (1 - p)), repeat=len(terms[i]))
                    if torch.allclose(out[i], sum(zi * t for zi, t in zip(z, terms[i])), atol=1e-5)]
            assert fits, f'node {i}: output is no keep/drop choice of its edge terms'
            kept += sum(zi > 0 for zi in fits[0])
            total += len(terms[i])
    assert abs(1 - kept / total - p) < 0.03  # 300 draws x 19 edges
    outs = torch.stack(outs)  # unbiased: the mean over draws is within 4 standard errors of the eval output
    assert ((outs.mean(0) - full).abs() <= 4 * outs.std(0) / math.sqrt(draws) + 1e-6).all()
    no_drop = GraphiteConv(h, feature_weight=0.7, self_loop_weight=2.5, norm=False, ffn=False, residual='none')
    no_drop.load_state_dict(conv.state_dict())
    assert torch.equal(no_drop.train()(x, edge_index, edge_type), full)
    with pytest.raises(ValueError, match='gate_dropout must be in'):
        GraphiteConv(h, gate_dropout=1.0)
