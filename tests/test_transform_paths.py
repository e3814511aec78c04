"""Correctness of the scalable code paths of ``Graphite()`` (performance itself lives in
benchmarks/transform_scale.py): co-occurrence feature means against the sparse product and brute force, chunking,
dense/COO/CSR inputs agreeing, dense ``binarize`` without ``N x F`` index arrays, the one-pass finiteness check."""
from __future__ import annotations

import pytest
import torch

import graphite.feature_nodes as feature_nodes
from graphite.discretize import discrete_entries
from graphite import Graphite
from graphite.validation import check_finite


def _layouts(x):
    return {'dense': x, 'coo': x.to_sparse_coo(), 'csr': x.to_sparse_csr()}


def _dense(t):
    return t.to_dense() if t.layout != torch.strided else t


@pytest.fixture
def graph(make_graph):
    data = make_graph(num_nodes=80, num_features=14, num_edges=200, density=0.3, seed=11)
    data.x[:5] = 0          # nodes without features
    data.x[:, 3] = 0        # a column no node has
    data.x[:60, 7] = 1      # a ubiquitous column (dropped by max_count below)
    return data


@pytest.mark.parametrize('options', [{}, {'min_count': 10}, {'max_count': 50}, {'graph_node_features': 'normalize'}])
def test_cooccurrence_means_equal_the_sparse_product_and_brute_force(graph, options, monkeypatch):
    x = graph.x
    outs = {name: Graphite(**options)(graph.clone().update({'x': xl})) for name, xl in _layouts(x).items()}
    n = graph.num_nodes
    ref = outs['dense']
    for name, out in outs.items():  # one code path for every layout: identical numbers
        assert out.x.layout == _layouts(x)[name].layout if name != 'csr' else out.x.layout == torch.sparse_csr
        assert torch.equal(_dense(out.x), ref.x) and torch.equal(out.edge_index, ref.edge_index)
    # brute force: count of nodes having both columns / count of nodes having the feature (correctly rounded)
    for i, col in enumerate(ref.feature_column[n:].tolist()):
        nodes = x[:, col] == 1
        expect = x[nodes].sum(0) / nodes.sum()
        assert torch.equal(ref.x[n + i], expect)
    # the general sparse-product path gives the same means up to rounding
    monkeypatch.setattr(feature_nodes, 'MAX_COOCCURRENCE_CELLS', 0)
    for name, xl in _layouts(x).items():
        general = Graphite(**options)(graph.clone().update({'x': xl}))
        assert torch.allclose(_dense(general.x), ref.x, rtol=1e-6, atol=1e-7)
        assert torch.equal(general.edge_index, ref.edge_index)


def test_cooccurrence_chunks_give_the_same_counts(graph, monkeypatch):
    expect = Graphite()(graph.clone())
    monkeypatch.setattr(feature_nodes, 'PAIR_CHUNK', 7)  # several chunks per row length, one row per chunk
    out = Graphite()(graph.clone())
    assert torch.equal(out.x, expect.x)
    row, col = graph.x.nonzero(as_tuple=True)
    f = graph.x.size(1)
    counts = feature_nodes.cooccurrence(row, col, graph.num_nodes, f, torch.arange(f), f)
    assert torch.equal(counts, (graph.x.t() @ graph.x).long())


def test_dense_binarize_lists_only_kept_entries(make_graph):
    data = make_graph(num_nodes=40, num_features=6, continuous=True, seed=5)
    out = Graphite(binarize=0.2)(data.clone())
    binary = data.clone()
    binary.x = (data.x > 0.2).float()
    ref = Graphite()(binary)
    assert torch.equal(out.edge_index, ref.edge_index) and torch.equal(out.feature_column, ref.feature_column)
    n = data.num_nodes
    for i, col in enumerate(out.feature_column[n:].tolist()):  # means of the raw (continuous) features
        assert torch.allclose(out.x[n + i], data.x[data.x[:, col] > 0.2].mean(0), atol=1e-6)
    e = data.edge_index.size(1)
    every = Graphite(binarize=-10.0)(data.clone()).edge_index
    assert torch.equal(every[0, e:e + 6 * n], torch.arange(n).repeat_interleave(6))  # every entry, row-major
    assert torch.equal(every[1, e:e + 6 * n], torch.arange(6).repeat(n) + n)


def test_sparse_output_is_coalesced_and_keeps_the_layout(graph):
    for name, xl in _layouts(graph.x).items():
        for init in ('mean', 'zeros'):
            out = Graphite(feature_init=init)(graph.clone().update({'x': xl}))
            if name == 'coo':
                assert out.x.is_coalesced()
                assert torch.equal(out.x.coalesce().indices(), out.x.indices())
            assert out.x.shape == (int(out.num_nodes), graph.x.size(1))


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64, torch.float16])
def test_one_pass_finiteness_check(dtype):
    x = torch.zeros(50, 4, dtype=dtype)
    assert check_finite(x, 'x') is x and check_finite(torch.empty(0, 3, dtype=dtype), 'x') is not None
    for bad, msg in ((float('nan'), '1 NaN and 0 infinite'), (float('inf'), '0 NaN and 1 infinite'),
                     (float('-inf'), '0 NaN and 1 infinite')):
        y = x.clone()
        y[17, 2] = bad
        with pytest.raises(ValueError, match=msg):
            check_finite(y, 'x')
        with pytest.raises(ValueError, match=msg):
            check_finite(y.to_sparse_coo(), 'x')


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64, torch.float16, torch.bool, torch.uint8])
def test_word_scan_nonzero_equals_nonzero(dtype):
    g = torch.Generator().manual_seed(0)
    base = (torch.rand(37, 24, generator=g) < 0.1)
    x = base.to(dtype)
    if dtype.is_floating_point:
        x[3, 5] = -0.0   # nonzero bit pattern, zero value
        x[4, 7] = 2.5
    for t in (x, x[1:], x[:, :23], x.t(), x[:, 1:9], torch.zeros(5, 8, dtype=dtype), x[:0]):
        row, col = feature_nodes.nonzero_entries(t)
        expect = t.nonzero(as_tuple=True)
        assert torch.equal(row, expect[0]) and torch.equal(col, expect[1])


@pytest.mark.parametrize('layout', ['dense', 'coo', 'csr'])
def test_discrete_entries_agree_with_brute_force(graph, layout):
    x = graph.x.clone()
    entries = {(int(v), int(k)) for v, k in x.nonzero().tolist()}
    row, vcol, num_vcols, thr = discrete_entries(_layouts(x)[layout])
    assert num_vcols == x.size(1) and thr is None
    assert set(zip(row.tolist(), vcol.tolist())) == entries and row.numel() == len(entries)
    z = torch.randn(30, 4, generator=torch.Generator().manual_seed(3))
    row, col, _, _ = discrete_entries(z, binarize=0.5)
    assert set(zip(row.tolist(), col.tolist())) == {(v, k) for v in range(30) for k in range(4) if z[v, k] > 0.5}
    row, vcol, num_vcols, thr = discrete_entries(z, buckets=3)
    assert num_vcols == 12 and thr.shape == (4, 2) and row.numel() == 120
    bucket = vcol % 3
    assert torch.equal(vcol // 3, torch.arange(4).repeat(30))
    assert torch.equal(bucket, (z.reshape(-1, 1) >= thr[torch.arange(4).repeat(30)]).sum(1))
    with pytest.raises(ValueError, match=r'binary \(0/1\) features, but x\[0, 1\] = 0.5'):
        discrete_entries(torch.tensor([[1.0, 0.5]]))


def test_select_columns_keeps_counted_columns_in_order():
    row = torch.tensor([0, 0, 1, 1, 2, 2, 3])
    vcol = torch.tensor([0, 2, 2, 4, 2, 4, 1])          # counts: col0 1, col1 1, col2 3, col4 2, col3 0
    r, fid, used, counts = feature_nodes.select_columns(row, vcol, 5, min_count=2)
    assert used.tolist() == [2, 4] and counts.tolist() == [3, 2]
    assert list(zip(r.tolist(), fid.tolist())) == [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1)]
    r, fid, used, _ = feature_nodes.select_columns(row, vcol, 5, max_count=2)
    assert used.tolist() == [0, 1, 4] and fid.tolist() == [0, 2, 2, 1]
    with pytest.raises(ValueError, match=r'no feature column is left after min_count=4, max_count=None \(4 columns'):
        feature_nodes.select_columns(row, vcol, 5, min_count=4)
    with pytest.raises(ValueError, match='all-zero features'):
        feature_nodes.select_columns(row[:0], vcol[:0], 5)
