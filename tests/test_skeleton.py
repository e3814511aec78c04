"""The shared model skeleton (graphite.nn.skeleton): GraphiteNet contains FAGCN (PyG's FAConv as the oracle), the
recipe options of the stacked baselines follow tunedGNN's MPNNs, and the default options reproduce the plain models
(so existing configs and results keep their meaning)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv, SAGEConv

from graphite import Graphite
from graphite.nn import FAGCN, FAGCN_SETTINGS, GAT, GCN, GIN, GraphiteConv, GraphiteNet, GraphSAGE
from graphite.nn.skeleton import Residual, jk_mode, make_norm, norm_kind, residual_mode


def fagcn_pair(in_channels, layers=3, eps=0.3, dropout=0.5, seed=0):
    """A FAGCN and a GraphiteNet with FAGCN's settings holding the same weights."""
    torch.manual_seed(seed)
    fagcn = FAGCN(in_channels, 16, 4, num_layers=layers, dropout=dropout, eps=eps)
    net = GraphiteNet(in_channels, 16, 4, num_layers=layers, dropout=dropout, input_dropout=dropout,
                      output_dropout=dropout, eps=eps, **FAGCN_SETTINGS)
    with torch.no_grad():
        net.lin_in.load_state_dict(fagcn.lin_in.state_dict())
        net.lin_out.load_state_dict(fagcn.lin_out.state_dict())
        for conv, faconv in zip(net.convs, fagcn.convs):
            torch.nn.init.normal_(faconv.att_l.weight, std=1.0)  # gates far from tanh(0) = 0
            torch.nn.init.normal_(faconv.att_r.weight, std=1.0)
            conv.att_src.copy_(faconv.att_l.weight.view(-1))
            conv.att_dst.copy_(faconv.att_r.weight.view(-1))
    return fagcn, net


def test_graphite_net_with_fagcn_settings_is_faconv(make_graph):
    """Same weights -> same logits (eval mode) as FAGCN built from PyG's FAConv, and the same training step."""
    data = make_graph(num_nodes=40, num_features=10, num_edges=150, continuous=True, self_loops=False)
    fagcn, net = fagcn_pair(10)
    # GraphiteNet's parameters are exactly FAGCN's: nothing else is learned
    learned = {k for k, p in net.named_parameters() if p.requires_grad}
    assert learned == {'lin_in.weight', 'lin_in.bias', 'lin_out.weight', 'lin_out.bias'} | {
        f'convs.{i}.{n}' for i in range(3) for n in ('att_src', 'att_dst')}
    fagcn.eval(), net.eval()
    expected = fagcn(data.x, data.edge_index)
    assert torch.allclose(net(data.x, data.edge_index), expected, atol=1e-5)
    # on the GRAPHITE-transformed graph with feature edges switched off, graph nodes see FAGCN's graph
    t = Graphite(binarize=0.0)(data)  # graph-node rows of x are kept
    assert torch.equal(t.x[:40], data.x)
    assert torch.allclose(net(t.x, t.edge_index, t.edge_type)[:40], expected, atol=1e-5)
    # training (dropout 0: with dropout the two draw their masks in different orders): same step, same logits
    fagcn, net = fagcn_pair(10, dropout=0.0, seed=1)
    for model in (fagcn, net):
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model(data.x, data.edge_index), data.y).backward()
            opt.step()
        model.eval()
    assert torch.allclose(net(data.x, data.edge_index), fagcn(data.x, data.edge_index), atol=1e-5)


def test_feature_edges_off_is_exact_not_a_small_weight(make_graph):
    data = make_graph(num_nodes=20, num_features=6, num_edges=60, self_loops=False)
    t = Graphite()(data)
    torch.manual_seed(0)
    conv = GraphiteConv(8, feature_weight=3.0, feature_edges=False).eval()
    x = torch.randn(t.num_nodes, 8)
    graph_only = t.edge_type == 0
    out = conv(x, t.edge_index, t.edge_type)
    assert torch.allclose(out, conv(x, t.edge_index[:, graph_only]), atol=1e-6)
    assert conv.type_weights()[1] == 0
    torch.manual_seed(0)
    net = GraphiteNet(6, 8, 3, feature_edges=False).eval()
    torch.manual_seed(0)
    on = GraphiteNet(6, 8, 3, feature_edges=True).eval()
    on.load_state_dict(net.state_dict())
    assert torch.allclose(net(t.x, t.edge_index, t.edge_type), on(t.x, t.edge_index[:, graph_only]), atol=1e-5)
    assert not torch.allclose(on(t.x, t.edge_index, t.edge_type), net(t.x, t.edge_index, t.edge_type), atol=1e-3)


@pytest.mark.parametrize('cls,conv_cls', [(GCN, GCNConv), (GraphSAGE, SAGEConv)])
def test_default_options_are_the_plain_model(make_graph, cls, conv_cls):
    """Defaults: the same parameters (names and initial values under a seed) and the plain formula."""
    data = make_graph(num_nodes=25, num_features=7, num_edges=70)
    torch.manual_seed(0)
    model = cls(7, 16, 3, num_layers=3).eval()
    torch.manual_seed(0)
    kw = {'aggr': 'mean'} if conv_cls is SAGEConv else {}
    convs = [conv_cls(7, 16, **kw), conv_cls(16, 16, **kw), conv_cls(16, 3, **kw)]
    state = {f'convs.{i}.{k}': v for i, c in enumerate(convs) for k, v in c.state_dict().items()}
    assert model.state_dict().keys() == state.keys()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    h = data.x
    for i, c in enumerate(convs):
        h = c(h, data.edge_index)
        h = F.relu(h) if i < 2 else h
    assert torch.allclose(model(data.x, data.edge_index), h, atol=1e-6)


def test_graphite_net_defaults_keep_their_parameters():
    net = GraphiteNet(5, 8, 3, num_layers=2)
    keys = {k.split('.', 2)[-1] for k in net.state_dict() if k.startswith('convs.')}
    assert keys == {'weight_rho', 'att_src', 'att_dst', 'att_bias', 'norm.weight', 'norm.bias', 'lin1.weight',
                    'lin1.bias', 'lin2.weight', 'lin2.bias'}
    assert {k for k in net.state_dict() if not k.startswith('convs.')} == {
        'lin_in.weight', 'lin_in.bias', 'norm_out.weight', 'norm_out.bias', 'lin_out.weight', 'lin_out.bias'}


def tuned_gnn_forward(model: GCN, x, edge_index, res=True, jk=False):
    """tunedGNN's ``MPNNs.forward`` (medium_graph/model.py, pre_linear=False, bn=True) on the modules of ``model``."""
    x_final = 0
    for i, conv in enumerate(model.convs):
        x = conv(x, edge_index) + model.residuals[i].lin(x) if res else conv(x, edge_index)
        x = F.relu(model.norms[i](x))
        x_final = x_final + x if jk else x
    return model.lin_out(x_final)


@pytest.mark.parametrize('jk', [False, True])
def test_recipe_options_follow_tuned_gnn(make_graph, jk):
    data = make_graph(num_nodes=30, num_features=9, num_edges=90)
    model = GCN(9, 16, 3, num_layers=16, dropout=0.2, input_dropout=0.0, norm='batch', residual='linear',
                jk='sum' if jk else 'none')
    assert model.lin_out is not None and len(model.convs) == 16 and isinstance(model.norms[0], torch.nn.BatchNorm1d)
    model.train()
    model(data.x, data.edge_index)  # BatchNorm running statistics
    model.eval()
    assert torch.allclose(model(data.x, data.edge_index), tuned_gnn_forward(model, data.x, data.edge_index, jk=jk),
                          atol=1e-5)


@pytest.mark.parametrize('cls', [GCN, GraphSAGE, GAT, GIN])
@pytest.mark.parametrize('options', [
    dict(pre_linear=True, norm='layer', residual='sum', jk='cat', separate_ego='concat'),
    dict(pre_linear=True, residual='initial', eps=0.5, separate_ego=True, input_dropout=0.3),
    dict(norm='batch', residual='linear', num_layers=16),
])
def test_every_baseline_takes_the_recipe(make_graph, cls, options):
    data = make_graph(num_nodes=30, num_features=9, num_edges=90)
    options = {'num_layers': 3, **options}
    kw = {'heads': 2} if cls is GAT else {}
    model = cls(9, 16, 3, **kw, **options)
    out = model(data.x, data.edge_index)
    assert out.shape == (30, 3) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_recipe_options_are_config_keys():
    from graphite.cli.config import allowed_params, validate_params
    for model in ('gcn', 'sage', 'gat', 'gin', 'graphite'):
        assert {'norm', 'residual', 'jk', 'input_dropout', 'separate_ego'} <= allowed_params(model)
    validate_params('gcn', {'norm': 'batch', 'residual': 'linear', 'pre_linear': True, 'cached': True})
    assert 'feature_edges' in allowed_params('graphite') and 'pre_linear' in allowed_params('sage')


def test_option_parsers():
    assert norm_kind(True) == 'layer' and norm_kind(False) == 'none' and make_norm('none', 4) is None
    assert residual_mode(True) == 'sum' and jk_mode(True) == 'sum' and jk_mode(None) == 'none'
    for bad in (lambda: norm_kind('group'), lambda: residual_mode('dense'), lambda: jk_mode('max'),
                lambda: GCN(4, 8, 2, jk='sum', post_linear=False),
                lambda: GraphiteConv(4, separate_ego=True, ffn=False),
                lambda: Residual('initial', 4, 4)(torch.zeros(2, 4), torch.zeros(2, 4))):
        with pytest.raises(ValueError):
            bad()


NEW_KEYS = ('feature_edges', 'ffn', 'residual', 'jk', 'output_dropout', 'eps', 'activation', 'gate_bias')


@pytest.mark.parametrize('dataset', ['actor', 'squirrel-filtered', 'chameleon-filtered', 'minesweeper', 'cora',
                                     'citeseer'])
def test_bundled_graphite_configs_compute_as_before(make_graph, dataset):
    """The skeleton keys added to the committed GRAPHITE configs hold the defaults: the model is the one the
    committed results were trained with (same parameters under a seed, same logits)."""
    from graphite.cli.config import TRAINING_DEFAULTS, load_config
    params = load_config(dataset, 'graphite')['params']
    kwargs = {k: v for k, v in params.items() if k not in TRAINING_DEFAULTS}
    old = {k: v for k, v in kwargs.items() if k not in NEW_KEYS}
    assert set(kwargs) - set(old) == set(NEW_KEYS)
    data = Graphite()(make_graph(num_nodes=20, num_features=6, num_edges=60))
    outs = []
    for kw in (kwargs, old):
        torch.manual_seed(0)
        model = GraphiteNet(6, 16, 3, **kw).eval()
        outs.append((model.state_dict(), model(data.x, data.edge_index, data.edge_type)))
    assert outs[0][0].keys() == outs[1][0].keys()
    assert all(torch.equal(outs[0][0][k], outs[1][0][k]) for k in outs[0][0])
    assert torch.equal(outs[0][1], outs[1][1])
