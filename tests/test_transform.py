"""graphite.Graphite: exact sizes on the paper's benchmarks, brute-force checks on random graphs, options,
hetero output, Compose/pre_transform, sparse == dense, no in-place modification, and every bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch_geometric.transforms as T
from torch_geometric.data import Data, HeteroData, InMemoryDataset

from graphite import Graphite
from graphite.layout import num_graph_nodes
from graphite.validation import check_edge_index, check_features, check_labels

# ---------------------------------------------------------------------------- sizes of the paper's benchmarks
# dataset -> (nodes, graph edges as stored, feature columns, feature nodes added, feature edges added)
SIZES = {
    'actor': (7600, 30019, 932, 932, 40977),
    'squirrel-filtered': (2223, 46998, 2089, 1593, 32481),
    'chameleon-filtered': (890, 8854, 2325, 1980, 9903),
    'minesweeper': (10000, 78804, 7, 7, 10000),
    'cora': (2708, 10556, 1433, 1432, 49216),
    'citeseer': (3327, 9104, 3703, 3703, 105165),
}


@pytest.mark.data
@pytest.mark.parametrize('name', list(SIZES))
def test_reference_sizes(benchmark, name):
    n, e, f, nf, fe = SIZES[name]
    data = benchmark(name)
    assert (data.num_nodes, data.edge_index.size(1), data.x.size(1)) == (n, e, f)
    out = Graphite()(data)
    assert num_graph_nodes(out) == n
    assert out.num_nodes == n + nf == out.x.size(0) == out.y.size(0) == out.node_type.numel()
    assert int((out.node_type == 1).sum()) == nf and int((out.feature_column >= 0).sum()) == nf
    assert out.edge_index.size(1) == e + 2 * fe
    assert int((out.edge_type == 1).sum()) == 2 * fe
    assert torch.equal(out.edge_index[:, :e], data.edge_index)
    assert out.train_mask.shape == (n + nf, 10) and not out.train_mask[n:].any()
    assert torch.equal(out.train_mask[:n], data.train_mask)
    assert (out.y[n:] == -1).all() and torch.equal(out.y[:n], data.y)
    # The hetero view has the same sizes.
    h = Graphite(to_hetero=True)(data)
    assert h['feature'].num_nodes == nf and h['node', 'has', 'feature'].edge_index.size(1) == fe


# ------------------------------------------------------------------------------------------ brute force
def brute_force(x: np.ndarray, min_count=1, max_count=None):
    """Feature columns kept, feature edges (node, feature-node id), mean features, by plain loops over columns."""
    n, f = x.shape
    cols, edges, means = [], [], []
    for k in range(f):
        nodes = [v for v in range(n) if x[v, k] != 0]
        if len(nodes) < max(min_count, 1) or (max_count is not None and len(nodes) > max_count):
            continue
        fid = len(cols)
        cols.append(k)
        edges += [(v, n + fid) for v in nodes]
        means.append(x[nodes].mean(axis=0))
    return cols, sorted(edges), np.array(means)


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('min_count,max_count', [(1, None), (2, None), (1, 6), (3, 8)])
def test_matches_brute_force(make_graph, seed, min_count, max_count):
    data = make_graph(num_nodes=25, num_features=10, density=0.25, seed=seed)
    data.x[:, 3] = 0                                     # a column nobody has: no feature node
    cols, edges, means = brute_force(data.x.numpy(), min_count, max_count)
    out = Graphite(min_count=min_count, max_count=max_count)(data)
    n, nf = data.num_nodes, len(cols)
    assert out.feature_column.tolist() == [-1] * n + cols
    assert out.num_nodes == n + nf and num_graph_nodes(out) == n
    e = data.edge_index.size(1)
    assert torch.equal(out.edge_index[:, :e], data.edge_index)
    fwd = out.edge_index[:, e:e + len(edges)]
    bwd = out.edge_index[:, e + len(edges):]
    assert sorted(map(tuple, fwd.t().tolist())) == edges
    assert torch.equal(bwd, fwd.flip(0))                 # both directions of every feature edge
    assert out.edge_type.tolist() == [0] * e + [1] * (2 * len(edges))
    assert out.node_type.tolist() == [0] * n + [1] * nf
    assert torch.equal(out.x[:n], data.x)
    np.testing.assert_allclose(out.x[n:].numpy(), means.reshape(nf, -1), rtol=1e-6, atol=1e-7)
    assert out.y[:n].tolist() == data.y.tolist() and out.y[n:].tolist() == [-1] * nf
    assert out.train_mask.shape == (n + nf, 2) and not out.train_mask[n:].any()


def test_output_passes_validation(make_graph):
    out = Graphite()(make_graph(seed=1))
    check_edge_index(out.edge_index, out.num_nodes)
    check_features(out.x, out.num_nodes)
    check_labels(out.y, out.num_nodes)
    assert out.node_type.dtype == out.edge_type.dtype == out.feature_column.dtype == torch.long
    assert 'num_graph_nodes' not in out                                  # derived, not stored


def test_input_not_modified(make_graph):
    data = make_graph(seed=2)
    before = {k: v.clone() for k, v in data.items() if isinstance(v, torch.Tensor)}
    keys = set(data.keys())
    out = Graphite(graph_node_features='normalize')(data)
    assert set(data.keys()) == keys and data.num_nodes == 30
    for k, v in before.items():
        assert torch.equal(data[k], v), k
    assert out.num_nodes > data.num_nodes


# ------------------------------------------------------------------------------------------ options
def test_graph_node_features_options(make_graph):
    data = make_graph(seed=3)
    n = data.num_nodes
    ref = Graphite()(data)
    z = Graphite(graph_node_features='zeros')(data)
    assert (z.x[:n] == 0).all() and torch.allclose(z.x[n:], ref.x[n:])
    nm = Graphite(graph_node_features='normalize')(data)
    rows = data.x.numpy()
    expect = np.array([r / r.sum() if r.sum() else r for r in rows])
    np.testing.assert_allclose(nm.x[:n].numpy(), expect, rtol=1e-6)
    assert torch.allclose(nm.x[n:], ref.x[n:])               # feature nodes: mean of the *raw* features
    np.testing.assert_allclose(nm.x[:n].numpy(), T.NormalizeFeatures()(data.clone()).x.numpy(), rtol=1e-6)


def test_feature_init_options(make_graph):
    data = make_graph(seed=4)
    n = data.num_nodes
    for init in ('zeros', 'index'):
        out = Graphite(feature_init=init)(data)
        assert (out.x[n:] == 0).all() and torch.equal(out.x[:n], data.x)
    out = Graphite(feature_init='index')(data)
    emb = torch.nn.Embedding(data.x.size(1), 4)
    f = out.feature_column >= 0                                          # the documented usage
    assert emb(out.feature_column[f]).shape == (out.num_nodes - n, 4)


def test_binarize_matches_threshold(make_graph):
    data = make_graph(seed=5, continuous=True)
    with pytest.raises(ValueError, match=r'binarize=<threshold>.*buckets=<k>'):
        Graphite()(data)
    out = Graphite(binarize=0.5)(data)
    cols, edges, _ = brute_force((data.x.numpy() > 0.5).astype(np.float32))
    assert out.feature_column[data.num_nodes:].tolist() == cols
    e = data.edge_index.size(1)
    assert sorted(map(tuple, out.edge_index[:, e:e + len(edges)].t().tolist())) == edges
    # feature-node features are means of the original continuous features
    xs = data.x.numpy()
    for i, k in enumerate(cols):
        nodes = np.nonzero(xs[:, k] > 0.5)[0]
        np.testing.assert_allclose(out.x[data.num_nodes + i].numpy(), xs[nodes].mean(0), rtol=1e-5, atol=1e-6)
    assert torch.equal(out.x[:data.num_nodes], data.x)


def test_buckets_match_numpy_quantiles(make_graph):
    data = make_graph(num_nodes=40, num_features=5, seed=6, continuous=True)
    data.x[:, 2] = torch.tensor([0.0, 1.0] * 20)          # two distinct values: equal values share a bucket
    k = 4
    out = Graphite(buckets=k)(data)
    xs = data.x.numpy()
    n = data.num_nodes
    expect = set()
    for c in range(xs.shape[1]):
        s = np.sort(xs[:, c])
        thr = [s[(j * n) // k] for j in range(1, k)]
        for v in range(n):
            b = sum(xs[v, c] >= t for t in thr)
            expect.add((v, c, b))
    e = data.edge_index.size(1)
    m = int((out.edge_type == 1).sum()) // 2
    fwd = out.edge_index[:, e:e + m]
    got = {(v, int(out.feature_column[f]), int(out.feature_bucket[f])) for v, f in fwd.t().tolist()}
    assert got == expect and m == n * xs.shape[1]          # every entry of a dense matrix lands in one bucket
    assert out.bucket_thresholds.shape == (1, 5, k - 1)                 # graph-level: Batch stacks them
    # thresholds (0, 1, 1): 0.0 -> bucket 1, 1.0 -> bucket 3 (buckets 0 and 2 are empty, no feature node)
    assert set(out.feature_bucket[out.feature_column == 2].tolist()) == {1, 3}
    # buckets are balanced for continuous columns
    counts = torch.bincount(fwd[1] - n)
    assert counts[out.feature_column[n:] != 2].tolist() == [10] * 16


def test_sparse_input_equals_dense(make_graph):
    data = make_graph(seed=7)
    ref = Graphite()(data)
    for layout in ('coo', 'csr'):
        sp = data.clone()
        sp.x = data.x.to_sparse_coo() if layout == 'coo' else data.x.to_sparse_csr()
        for kw in ({}, {'graph_node_features': 'normalize'}, {'min_count': 2}):
            out = Graphite(**kw)(sp)
            exp = Graphite(**kw)(data)
            assert out.x.layout == (torch.sparse_coo if layout == 'coo' else torch.sparse_csr)
            assert torch.allclose(out.x.to_dense(), exp.x)
            assert torch.equal(out.edge_index, exp.edge_index) and torch.equal(out.feature_column, exp.feature_column)
    # an uncoalesced COO input whose duplicate entries sum to 1 is the same binary matrix
    idx = data.x.nonzero().t()
    dup = torch.sparse_coo_tensor(torch.cat([idx, idx], 1), torch.full((2 * idx.size(1),), 0.5), data.x.shape,
                                  check_invariants=False)
    assert not dup.is_coalesced()
    sp = data.clone()
    sp.x = dup
    out = Graphite()(sp)
    assert torch.equal(out.edge_index, ref.edge_index) and torch.allclose(out.x.to_dense(), ref.x)


@pytest.mark.parametrize('dtype', [torch.long, torch.uint8, torch.bool])
def test_integer_and_boolean_features_become_float(make_graph, dtype):
    data = make_graph(seed=8)
    data.x = data.x.to(dtype)
    out = Graphite()(data)
    assert out.x.is_floating_point() and torch.allclose(out.x, Graphite()(make_graph(seed=8)).x)
    data.x = data.x.to_sparse_coo()
    assert torch.allclose(Graphite()(data).x.to_dense(), out.x)


def test_node_and_edge_attributes(make_graph):
    data = make_graph(seed=9)
    n, e = data.num_nodes, data.edge_index.size(1)
    data.node_mask_1d = torch.ones(n, dtype=torch.bool)
    data.edge_weight = torch.rand(e)
    data.edge_label = torch.arange(e)
    data.name = 'toy'
    out = Graphite()(data)
    nf, m = out.num_nodes - n, int((out.edge_type == 1).sum())
    assert out.node_mask_1d.tolist() == [True] * n + [False] * nf
    assert torch.equal(out.edge_weight[:e], data.edge_weight) and (out.edge_weight[e:] == 1).all()
    assert out.edge_label[e:].tolist() == [-1] * m and out.name == 'toy'
    data.pos = torch.rand(n, 2)
    with pytest.raises(ValueError, match=r"'pos'.*fill"):
        Graphite()(data)
    out = Graphite(fill={'pos': 0.0})(data)
    assert out.pos.shape == (n + nf, 2) and (out.pos[n:] == 0).all()
    data.edge_attr = torch.rand(e, 3)
    with pytest.raises(ValueError, match=r"'edge_attr'.*fill"):
        Graphite(fill={'pos': 0.0})(data)


def test_hetero_output_consistent(make_graph):
    data = make_graph(seed=10)
    homo = Graphite()(data)
    het = Graphite(to_hetero=True)(data)
    assert isinstance(het, HeteroData)
    n = data.num_nodes
    assert set(het.node_types) == {'node', 'feature'}
    assert set(het.edge_types) == {('node', 'to', 'node'), ('node', 'has', 'feature'), ('feature', 'of', 'node')}
    assert torch.equal(het['node'].x, data.x) and torch.allclose(het['feature'].x, homo.x[n:])
    assert torch.equal(het['feature'].feature_column, homo.feature_column[n:])
    assert torch.equal(het['node', 'to', 'node'].edge_index, data.edge_index)
    has = het['node', 'has', 'feature'].edge_index
    assert torch.equal(het['feature', 'of', 'node'].edge_index, has.flip(0))
    m = has.size(1)
    e = data.edge_index.size(1)
    assert torch.equal(homo.edge_index[:, e:e + m], torch.stack([has[0], has[1] + n]))
    assert torch.equal(het['node'].train_mask, data.train_mask) and torch.equal(het['node'].y, data.y)
    # the homogeneous view of the hetero graph has the same edge multiset
    h = het.to_homogeneous()
    assert h.num_nodes == homo.num_nodes and h.edge_index.size(1) == homo.edge_index.size(1)


class _Toy(InMemoryDataset):
    def __init__(self, root, graphs, **kw):
        self._graphs = graphs
        super().__init__(root, **kw)
        self.load(self.processed_paths[0])

    @property
    def raw_file_names(self):
        return []

    @property
    def processed_file_names(self):
        return ['data.pt']

    def download(self):
        pass

    def process(self):
        graphs = list(self._graphs)
        if self.pre_transform is not None:
            graphs = [self.pre_transform(g) for g in graphs]
        self.save(graphs, self.processed_paths[0])


def test_compose_transform_and_pre_transform(make_graph, tmp_path):
    g = make_graph(seed=11)
    expect = Graphite()(T.ToUndirected()(g.clone()))
    composed = T.Compose([T.ToUndirected(), Graphite()])
    out = composed(g)
    assert torch.equal(out.edge_index, expect.edge_index) and torch.allclose(out.x, expect.x)
    pre = _Toy(str(tmp_path / 'pre'), [g], pre_transform=composed)[0]
    assert torch.equal(pre.edge_index, expect.edge_index) and num_graph_nodes(pre) == g.num_nodes
    assert torch.equal(pre.node_type, expect.node_type)
    # several graphs: collate/separate round-trips feature_column and the other attributes exactly
    g2 = make_graph(num_nodes=17, seed=21)
    many = _Toy(str(tmp_path / 'many'), [g, g2], pre_transform=Graphite())
    for stored, orig in zip(many, (g, g2)):
        exp = Graphite()(orig)
        for key in ('x', 'edge_index', 'y', 'train_mask', 'node_type', 'edge_type', 'feature_column'):
            assert torch.equal(stored[key], exp[key]), key
        assert num_graph_nodes(stored) == orig.num_nodes and stored.num_nodes == exp.num_nodes
    on_access = _Toy(str(tmp_path / 'tr'), [g], transform=Graphite())
    a, b = on_access[0], on_access[0]
    assert torch.equal(a.edge_index, b.edge_index) and a.num_nodes == expect.num_nodes  # input never mutated


def test_functional_transform_registered():
    # @functional_transform('graphite') exposes the transform to torch datapipes under its name
    try:
        from torch.utils.data.datapipes.datapipe import IterDataPipe
    except ImportError:  # pragma: no cover
        pytest.skip('torch datapipes unavailable')
    assert 'graphite' in IterDataPipe.functions


def test_repr():
    r = repr(Graphite(min_count=2, buckets=3, graph_node_features='zeros'))
    assert r.startswith('Graphite(') and 'min_count=2' in r and 'buckets=3' in r and "graph_node_features='zeros'" in r


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device')
def test_cuda_matches_cpu(make_graph):  # pragma: no cover - no GPU in CI
    data = make_graph(seed=12)
    out = Graphite()(data.to('cuda'))
    ref = Graphite()(data)
    assert out.x.is_cuda and torch.equal(out.edge_index.cpu(), ref.edge_index)


# ------------------------------------------------------------------------------------------ bad input
def _g(**kw):
    base = dict(x=torch.tensor([[1., 0.], [0., 1.], [1., 1.]]), edge_index=torch.tensor([[0, 1], [1, 2]]),
                y=torch.tensor([0, 1, 0]))
    base.update(kw)
    return Data(**base)


@pytest.mark.parametrize('data,exc,match', [
    (_g(x=torch.tensor([[1., 0.], [0., 0.5], [1., 1.]])), ValueError, r'binary.*binarize=<threshold>'),
    (_g(x=torch.tensor([[1., 0.], [0., float('nan')], [1., 1.]])), ValueError, 'NaN'),
    (_g(x=torch.tensor([[1., 0.], [0., float('inf')], [1., 1.]])), ValueError, 'infinite'),
    (_g(x=torch.tensor([1., 0., 1.])), ValueError, '2-D'),
    (_g(x=torch.ones(3, 0)), ValueError, 'no feature columns'),
    (_g(x=torch.zeros(3, 2)), ValueError, 'all-zero'),
    (_g(x=None, num_nodes=3), ValueError, 'no node features'),
    (Data(x=torch.ones(0, 2), edge_index=torch.empty(2, 0, dtype=torch.long)), ValueError, 'no nodes'),
    (_g(edge_index=torch.tensor([[0, 1], [1, 3]])), ValueError, r'index 3, out of range.*3 nodes'),
    (_g(edge_index=torch.tensor([[0, -1], [1, 2]])), ValueError, 'negative'),
    (_g(edge_index=torch.tensor([[0., 1.], [1., 2.]])), TypeError, 'torch.long'),
    (_g(edge_index=torch.tensor([[0, 1, 2]])), ValueError, r'\[2, E\]'),
    (_g(x=torch.ones(4, 2), num_nodes=3), ValueError, '4 rows'),
    (_g(x=torch.ones(3, 2, dtype=torch.complex64)), TypeError, 'numeric'),
])
def test_bad_input_raises(data, exc, match):
    with pytest.raises(exc, match=match):
        Graphite()(data)


def test_bad_input_raises_other(make_graph):
    data = make_graph(seed=13)
    with pytest.raises(ValueError, match='no feature column is left after min_count'):
        Graphite(min_count=1000)(data)
    with pytest.raises(ValueError, match='applied twice'):
        Graphite()(Graphite()(data))
    with pytest.raises(TypeError, match='HeteroData'):
        Graphite()(HeteroData())
    with pytest.raises(TypeError, match='Data'):
        Graphite()(data.x)
    from torch_geometric.data import Batch
    with pytest.raises(ValueError, match='mini-batch of several graphs'):
        Graphite()(Batch.from_data_list([data, data]))
    with pytest.raises(ValueError, match='ToSparseTensor'):
        Graphite()(T.ToSparseTensor()(data.clone()))
    sp = data.clone()
    sp.x = (data.x - 0.5).to_sparse_coo()
    with pytest.raises(ValueError, match='implicit zero'):
        Graphite(binarize=-1.0)(sp)


@pytest.mark.parametrize('kw,match', [
    ({'feature_init': 'learned'}, 'feature_init'),
    ({'graph_node_features': 'norm'}, 'graph_node_features'),
    ({'min_count': 0}, 'min_count'),
    ({'max_count': 1.5}, 'max_count'),
    ({'min_count': 5, 'max_count': 2}, 'max_count'),
    ({'binarize': 0.5, 'buckets': 3}, 'not both'),
    ({'buckets': 1}, 'buckets'),
    ({'binarize': float('nan')}, 'binarize'),
])
def test_bad_options_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        Graphite(**kw)
