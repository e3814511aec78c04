"""PyG's contracts as a user meets them, each checked against an oracle from outside the code under test:

* every model (``graphite.nn``) and every link encoder computes on the graph it is called with: two different
  graphs in a row give the outputs of fresh models with the same weights (``cached=False`` and ``cached=True``);
* models copy and pickle at any time (``copy.deepcopy``, :mod:`pickle`, :func:`torch.save`);
* transformed data slices like PyG data: ``subgraph`` equals the transform of the piece (brute force), ``Batch``
  and PyG's loaders give each piece's transform, the neighbour loader gives the rows and edges of its ids;
* PyG transforms applied after ``Graphite()`` raise one clear error each;
* the sampler draws the neighbourhoods it promises (sizes, uniformity, the feature fan-out cap), and matches PyG's
  own sampler when pyg-lib / torch-sparse is installed.
"""
from __future__ import annotations

import copy
import io
import pickle

import pytest
import torch
import torch_geometric.transforms as T
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader
from torch_geometric.utils import homophily as pyg_homophily

from graphite import Graphite
from graphite.layout import check_transformed, graph_node_mask, num_feature_nodes, num_graph_nodes
from graphite.memo import TensorMemo
from graphite.nn import MODELS, GraphiteNet, transductive_kwargs
from graphite.sampling import NeighborSampler, neighbor_loader, pyg_sampling_available

NODE_KEYS = ('x', 'y', 'train_mask', 'val_mask', 'test_mask', 'node_type', 'feature_column')


@pytest.fixture
def two_graphs(make_graph):
    """A transformed graph and a different, smaller one (same feature size)."""
    g1 = Graphite()(make_graph(num_nodes=30, num_features=8, num_edges=90, seed=1))
    g2 = Graphite()(make_graph(num_nodes=17, num_features=8, num_edges=40, seed=2))
    assert g2.num_nodes < g1.num_nodes
    return g1, g2


def _call(model, g):
    return model(g.x, g.edge_index, g.edge_type)


def _fresh_copy(cls, state, **kw):
    m = cls(8, 16, 3, **kw)
    m.load_state_dict(state)
    return m.eval()


# ------------------------------------------------------------------------------------------------ models
@pytest.mark.parametrize('cached', [False, True])
@pytest.mark.parametrize('name', sorted(MODELS))
def test_every_model_computes_on_the_graph_it_is_called_with(two_graphs, name, cached):
    g1, g2 = two_graphs
    cls = MODELS[name]
    kw = transductive_kwargs(cls, {}) if cached else {}
    torch.manual_seed(0)
    model = cls(8, 16, 3, **kw).eval()
    with torch.no_grad():
        _call(model, g1)
        out2 = _call(model, g2)
        out1 = _call(model, g1)
        assert torch.allclose(out2, _call(_fresh_copy(cls, model.state_dict()), g2), atol=1e-6)
        assert torch.allclose(out1, _call(_fresh_copy(cls, model.state_dict()), g1), atol=1e-6)


@pytest.mark.parametrize('name', sorted(n for n, c in MODELS.items() if 'cached' in transductive_kwargs(c, {})))
def test_cached_model_sees_in_place_changes(two_graphs, name):
    """cached=True is keyed by tensor identity *and* version: an edge_index modified in place is a new graph."""
    g1, _ = two_graphs
    cls = MODELS[name]
    torch.manual_seed(0)
    model = cls(8, 16, 3, cached=True).eval()
    ei = g1.edge_index.clone()
    with torch.no_grad():
        model(g1.x, ei, g1.edge_type)
        ei[1] = ei[1].flip(0)                                            # same object, other graph
        got = model(g1.x, ei, g1.edge_type)
        assert torch.allclose(got, _fresh_copy(cls, model.state_dict())(g1.x, ei, g1.edge_type), atol=1e-6)


def test_baselines_reported_in_the_issue_no_longer_reuse_the_first_graph(two_graphs):
    g1, g2 = two_graphs
    for cls in (MODELS['gcn'], MODELS['fagcn'], MODELS['jknet'], MODELS['gcnii']):
        torch.manual_seed(0)
        m = cls(8, 16, 3).eval()
        with torch.no_grad():
            a = m(g1.x, g1.edge_index)
            e2 = g1.edge_index[:, torch.randperm(g1.edge_index.size(1))[:50]]
            assert not torch.allclose(a, m(g1.x, e2)), cls.__name__   # another graph, another output
            assert m(g2.x, g2.edge_index).shape[0] == g2.num_nodes   # smaller graph: no IndexError


@pytest.mark.parametrize('cached', [False, True])
@pytest.mark.parametrize('name', sorted(MODELS))
def test_models_copy_and_pickle_at_any_time(two_graphs, name, cached):
    g1, g2 = two_graphs
    cls = MODELS[name]
    torch.manual_seed(0)
    model = cls(8, 16, 3, **(transductive_kwargs(cls, {}) if cached else {})).eval()
    with torch.no_grad():
        _call(model, g1)                                                 # after a forward: caches filled
        expect = _call(model, g2)
        buf = io.BytesIO()
        torch.save(model, buf)
        buf.seek(0)
        for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model)),
                      torch.load(buf, weights_only=False)):
            assert torch.allclose(_call(other, g2), expect, atol=1e-6)
            assert torch.allclose(_call(other, g1), _call(model, g1), atol=1e-6)


def test_graphite_conv_computes_on_the_graph_it_is_called_with(two_graphs):
    from graphite.nn import GraphiteConv
    g1, g2 = two_graphs
    conv = GraphiteConv(8).eval()
    with torch.no_grad():
        conv(g1.x, g1.edge_index, g1.edge_type)
        fresh = GraphiteConv(8)
        fresh.load_state_dict(conv.state_dict())
        assert torch.allclose(conv(g2.x, g2.edge_index, g2.edge_type),
                              fresh.eval()(g2.x, g2.edge_index, g2.edge_type), atol=1e-6)


def test_forward_has_a_docstring():
    for cls in MODELS.values():
        doc = cls.forward.__doc__
        assert doc and doc != nn.Module.forward.__doc__ and 'edge_index' in doc, cls.__name__


def test_tensor_memo_copies_empty_and_is_bounded():
    memo = TensorMemo(capacity=2)
    ts = [torch.arange(i + 1) for i in range(3)]
    for t in ts:
        memo.cached(t, 'k', lambda: 1)
    assert len(memo) == 2
    assert len(copy.deepcopy(memo)) == 0 and len(pickle.loads(pickle.dumps(memo))) == 0


# ------------------------------------------------------------------------------------------------ link encoders
@pytest.mark.parametrize('name', ['gcn', 'sage', 'gat', 'gatv2', 'gin', 'gprgnn', 'none'])
def test_every_link_encoder_computes_on_the_graph_it_is_called_with(two_graphs, name):
    from linkpred.encoders import build_encoder
    g1, g2 = two_graphs
    torch.manual_seed(0)
    enc = build_encoder(name, 8, 16).eval()
    with torch.no_grad():
        enc(g1.x, g1.edge_index)
        out2 = enc(g2.x, g2.edge_index)
        fresh = build_encoder(name, 8, 16)
        fresh.load_state_dict(enc.state_dict())
        assert torch.allclose(out2, fresh.eval()(g2.x, g2.edge_index), atol=1e-6)
        assert torch.allclose(enc(g1.x, g1.edge_index), fresh(g1.x, g1.edge_index), atol=1e-6)


@pytest.mark.parametrize('name', ['gcn', 'sage', 'gin', 'gprgnn'])
def test_link_encoders_copy_after_a_forward(two_graphs, name):
    from linkpred.encoders import build_encoder
    g1, _ = two_graphs
    enc = build_encoder(name, 8, 16).eval()
    with torch.no_grad():
        out = enc(g1.x, g1.edge_index)
        assert torch.allclose(copy.deepcopy(enc)(g1.x, g1.edge_index), out, atol=1e-6)
        assert torch.allclose(pickle.loads(pickle.dumps(enc))(g1.x, g1.edge_index), out, atol=1e-6)


# ------------------------------------------------------------------------------------------------ data layout
def _assert_same(a, b, keys):
    for key in keys:
        assert (key in a) == (key in b), key
        if key in a:
            assert torch.equal(a[key], b[key]), key
    assert a.num_nodes == b.num_nodes


LAYOUT_KEYS = NODE_KEYS + ('edge_index', 'edge_type', 'edge_weight')


@pytest.mark.parametrize('seed', range(3))
def test_subgraph_equals_transform_of_the_piece(make_graph, seed):
    g = make_graph(num_nodes=40, num_features=10, num_edges=120, seed=seed)
    g.edge_weight = torch.rand(g.edge_index.size(1))
    transform = Graphite(feature_init='zeros')                           # feature rows do not depend on the piece
    t = transform(g)
    keep = torch.rand(40, generator=torch.Generator().manual_seed(seed)) < 0.5
    # the piece's feature nodes: those with a feature edge to a kept graph node
    src, dst = t.edge_index[:, (t.edge_type == 1) & (t.edge_index[0] < 40)]     # node -> feature edges
    fkeep = torch.zeros(t.num_nodes, dtype=torch.bool)
    fkeep[dst[keep[src]]] = True
    sub = t.subgraph(torch.cat([keep, torch.zeros(t.num_nodes - 40, dtype=torch.bool)]) | fkeep)
    piece = transform(g.subgraph(keep))
    _assert_same(sub, piece, LAYOUT_KEYS)
    assert num_graph_nodes(sub) == int(keep.sum()) and num_feature_nodes(sub) == int(fkeep.sum())
    check_transformed(sub)


def test_batch_and_loaders_give_each_piece_transformed(make_graph):
    graphs = [make_graph(num_nodes=n, num_features=6, num_edges=3 * n, seed=s) for s, n in enumerate((12, 20, 9))]
    pieces = [Graphite()(g) for g in graphs]
    batch = Batch.from_data_list(pieces)
    for i, p in enumerate(pieces):
        _assert_same(batch.get_example(i), p, LAYOUT_KEYS)
    assert torch.equal(batch.feature_column, torch.cat([p.feature_column for p in pieces]))   # no offset
    assert num_graph_nodes(batch) == sum(g.num_nodes for g in graphs)
    assert torch.equal(batch.y[graph_node_mask(batch)], torch.cat([g.y for g in graphs]))
    check_transformed(batch)
    # PyG's DataLoader on transformed graphs, and on the original graphs with transform=Graphite() per piece
    for loader in (DataLoader(pieces, batch_size=2), DataLoader(graphs, batch_size=2)):
        got = list(loader)
        assert len(got) == 2
        for b, start in zip(got, (0, 2)):
            members = b.to_data_list() if 'node_type' in b else [Graphite()(d) for d in b.to_data_list()]
            for m, p in zip(members, pieces[start:start + 2]):
                _assert_same(m, p, LAYOUT_KEYS)


def test_bucketed_batch_stacks_graph_level_thresholds(make_graph):
    ps = [Graphite(buckets=3)(make_graph(num_nodes=15, num_features=4, continuous=True, seed=s)) for s in (1, 2)]
    batch = Batch.from_data_list(ps)
    assert batch.bucket_thresholds.shape == (2, 4, 2)
    for i, p in enumerate(ps):
        _assert_same(batch.get_example(i), p, NODE_KEYS + ('feature_bucket', 'bucket_thresholds', 'edge_type'))


def test_neighbor_loader_batches_slice_every_attribute(make_graph):
    g = make_graph(num_nodes=60, num_features=8, num_edges=200, seed=3)
    t = Graphite()(g)
    t.train_mask = t.train_mask[:, 0]
    torch.manual_seed(0)
    seen = 0
    for b in neighbor_loader(t, [5, 3], input_nodes=t.train_mask, batch_size=7, shuffle=True, feature_fanout=4):
        for key in NODE_KEYS:
            assert torch.equal(b[key], t[key][b.n_id]), key
        assert torch.equal(b.edge_type, t.edge_type[b.e_id])
        assert torch.equal(b.n_id[b.edge_index], t.edge_index[:, b.e_id])
        assert bool((b.node_type[:b.batch_size] == 0).all()) and bool(b.train_mask[:b.batch_size].all())
        check_transformed(b)
        seen += b.batch_size
    assert seen == int(t.train_mask.sum())


# ------------------------------------------------------------------------------------------------ composition
@pytest.mark.parametrize('after, match', [
    (T.ToUndirected(), r'unknown type\(s\) \[2\].*T.ToUndirected\(\)'),
    (T.AddSelfLoops(), r'edge_type has shape .*T.AddSelfLoops\(\)'),
    (T.RandomNodeSplit(num_val=0.2, num_test=0.2), r'train_mask selects \d+ feature node.*T.RandomNodeSplit\(\)'),
])
def test_pyg_transform_after_graphite_raises_one_clear_error(make_graph, after, match):
    g = make_graph(num_nodes=30, num_features=8, num_edges=90, seed=4)
    g.edge_weight = torch.ones(g.edge_index.size(1))
    del g.train_mask, g.val_mask, g.test_mask
    t = Graphite()(g)
    check_transformed(t)                                                 # the transform itself is fine
    bad = after(t.clone())
    with pytest.raises(ValueError, match=match):
        check_transformed(bad)
    if not isinstance(after, T.RandomNodeSplit):                         # the model sees no mask
        with pytest.raises(ValueError, match=match):
            GraphiteNet(8, 8, 3)(bad.x, bad.edge_index, bad.edge_type)
    # the supported order: graph transforms and splits first
    good = Graphite()(after(g.clone()))
    check_transformed(good)


def test_runner_checks_the_transformed_data(make_graph):
    from graphite.cli.prepared_data import PreparedData
    t = T.RandomNodeSplit(num_val=0.2, num_test=0.2)(Graphite()(make_graph(num_nodes=30, seed=5)))
    with pytest.raises(ValueError, match='feature node'):
        PreparedData(t, 'graphite', {})


def test_pyg_homophily_on_a_transformed_graph(make_graph):
    """What the README says: PyG's homophily() counts every feature edge as heterophilic (feature nodes have y = -1),
    graphite's measures drop unlabelled endpoints (= the graph edges' homophily) unless feature nodes are labelled."""
    from graphite.homophily import edge_homophily
    g = make_graph(num_nodes=40, num_features=8, num_edges=150, seed=6)
    t = Graphite()(g)
    e, total = g.edge_index.size(1), t.edge_index.size(1)
    h = pyg_homophily(g.edge_index, g.y, method='edge')
    assert pyg_homophily(t.edge_index, t.y, method='edge') == pytest.approx(h * e / total)
    assert edge_homophily(t.edge_index, t.y) == pytest.approx(h)


# ------------------------------------------------------------------------------------------------ sampler
@pytest.fixture
def graph_with_hubs(make_graph):
    """A transformed graph whose 5 feature nodes have about n/2 neighbours each."""
    return lambda n=80, seed=0: Graphite()(make_graph(num_nodes=n, num_features=5, density=0.5, num_edges=4 * n,
                                                      seed=seed))


def test_sampler_first_hop_sizes_and_feature_cap(graph_with_hubs):
    t = graph_with_hubs()
    in_deg = torch.bincount(t.edge_index[1], minlength=t.num_nodes)
    feats = (t.node_type == 1).nonzero().view(-1)
    seeds = torch.cat([torch.arange(10), feats])
    torch.manual_seed(1)
    for cap in (None, 3):
        out = NeighborSampler(t, [6, 2], feature_fanout=cap, backend='torch')._sample(seeds)
        hop1 = torch.bincount(out.col[:out.num_sampled_edges[0]], minlength=seeds.numel())
        k = torch.full_like(hop1, 6)
        if cap is not None:
            k[10:] = cap
        assert torch.equal(hop1, torch.minimum(in_deg[seeds], k))
        assert torch.unique(torch.stack([out.row, out.col]), dim=1).size(1) == out.row.numel()


def test_sampler_is_uniform():
    """A node with 10 in-neighbours and fan-out 3: each neighbour is drawn with probability 3/10."""
    from torch_geometric.data import Data
    d = Data(edge_index=torch.stack([torch.arange(1, 11), torch.zeros(10, dtype=torch.long)]), num_nodes=11)
    gen = torch.Generator().manual_seed(0)
    s = NeighborSampler(d, [3], generator=gen, backend='torch')
    counts = torch.zeros(11)
    trials = 4000
    for _ in range(trials):
        out = s._sample(torch.tensor([0]))
        counts[out.node[out.row]] += 1
    freq = counts[1:] / trials
    assert torch.allclose(freq, torch.full((10,), 0.3), atol=0.03)


@pytest.mark.skipif(not pyg_sampling_available(), reason='needs pyg-lib or torch-sparse for PyG\'s own sampler')
def test_sampler_matches_pyg_neighbor_sampling_statistics(graph_with_hubs):
    t = graph_with_hubs(n=200, seed=3)
    seeds = torch.arange(50)
    stats = {}
    for backend in ('torch', 'pyg'):
        torch.manual_seed(0)
        s = NeighborSampler(t, [5, 3], backend=backend)
        sizes = torch.tensor([[float(n) for n in s._sample(seeds).num_sampled_nodes] for _ in range(200)])
        stats[backend] = sizes.mean(0)
    assert torch.allclose(stats['torch'], stats['pyg'], rtol=0.05)
