"""Tests of graphite.ops (torch and torch_scatter backends; the Triton backend is in test_ops_triton.py).

Oracles are independent of the code under test: plain Python loops over the edge list build the per-target message
lists (sum/mean/max/min of ``w * x[src]``, the tanh gate computed edge by edge), and PyTorch's autograd through those
loops gives the reference gradients. ``torch.autograd.gradcheck`` (float64, finite differences) checks every
backward pass. Random graphs contain empty rows, duplicate edges, self-loops and isolated nodes.
"""
from __future__ import annotations

import importlib.util
import os

import pytest
import torch

from graphite import ops
from graphite.ops import CSR
from graphite.ops import backend as B

REDUCES = ('sum', 'mean', 'max', 'min')
HAS_TORCH_SCATTER = B.is_available('torch_scatter')
BACKENDS = [
    'torch',
    pytest.param('torch_scatter', marks=pytest.mark.skipif(
        not HAS_TORCH_SCATTER, reason=f'torch_scatter unavailable: {B._unavailable_reason("torch_scatter", None)}')),
]


# ------------------------------------------------------------------------------------------------ reference oracles

def make_graph(num_nodes=12, num_edges=50, seed=0):
    """Random directed multigraph with empty rows (targets 0 and 5 never receive edges), duplicate edges,
    self-loops and an isolated node (``num_nodes - 1``)."""
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, num_nodes - 1, (2, num_edges), generator=g)
    ei = ei[:, (ei[1] != 0) & (ei[1] != 5)]
    extra = torch.tensor([[3, 3, 3, 4, 2, 6], [1, 1, 1, 4, 2, 6]])  # triple duplicate, self-loops
    return torch.cat([ei, extra], 1)


def ref_reduce(messages_per_target, num_targets, num_features, reduce, like):
    """Reduce Python lists of ``[F]`` messages per target; empty lists give 0."""
    rows = []
    for i in range(num_targets):
        msgs = messages_per_target[i]
        if not msgs:
            rows.append(like.new_zeros(num_features))
            continue
        m = torch.stack(msgs)
        rows.append({'sum': m.sum(0), 'mean': m.mean(0), 'max': m.amax(0), 'min': m.amin(0)}[reduce])
    return torch.stack(rows) if rows else like.new_zeros(0, num_features)


def ref_spmm(edge_index, x, w, reduce, num_dst=None):
    num_dst = x.size(0) if num_dst is None else num_dst
    per = [[] for _ in range(num_dst)]
    for e in range(edge_index.size(1)):
        j, i = int(edge_index[0, e]), int(edge_index[1, e])
        per[i].append(x[j] * (w[e] if w is not None else 1.0))
    return ref_reduce(per, num_dst, x.size(1), reduce, x)


def ref_gated(edge_index, x, s_src, s_dst, w, tau):
    per = [[] for _ in range(x.size(0))]
    for e in range(edge_index.size(1)):
        j, i = int(edge_index[0, e]), int(edge_index[1, e])
        gate = torch.tanh((s_dst[i] + s_src[j]) / tau) * (w[e] if w is not None else 1.0)
        per[i].append(gate * x[j])
    return ref_reduce(per, x.size(0), x.size(1), 'sum', x)


def ref_scatter(src, index, dim_size, reduce):
    per = [[] for _ in range(dim_size)]
    for e in range(index.numel()):
        per[int(index[e])].append(src[e])
    return ref_reduce(per, dim_size, src.size(1), reduce, src)


def leaf(t):
    return t.detach().clone().requires_grad_()


def tol(dtype):
    return dict(atol=1e-5, rtol=1e-4) if dtype == torch.float32 else dict(atol=1e-10, rtol=1e-9)


def assert_grads_match(out, ref, inputs, ref_inputs, dtype, seed=1):
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    got = torch.autograd.grad(out, inputs, g)
    want = torch.autograd.grad(ref, ref_inputs, g)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, **tol(dtype))


# ---------------------------------------------------------------------------------------------------------- spmm

@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('reduce', REDUCES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('as_csr', [False, True])
def test_spmm_matches_loop_reference(backend, reduce, dtype, as_csr):
    ei = make_graph(seed=3)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(12, 5, generator=g, dtype=dtype)
    w = torch.rand(ei.size(1), generator=g, dtype=dtype) + 0.1
    adj = CSR.from_edge_index(ei, 12) if as_csr else ei
    xs, ws, xr, wr = leaf(x), leaf(w), leaf(x), leaf(w)
    out = ops.spmm(adj, xs, ws, reduce=reduce, backend=backend)
    ref = ref_spmm(ei, xr, wr, reduce)
    assert out.dtype == dtype and out.shape == (12, 5)
    torch.testing.assert_close(out, ref, **tol(dtype))
    assert out[0].abs().sum() == 0 and out[5].abs().sum() == 0 and out[11].abs().sum() == 0  # empty rows
    assert_grads_match(out, ref, (xs, ws), (xr, wr), dtype)
    # inference paths (no input requires grad), with and without weights
    torch.testing.assert_close(ops.spmm(adj, x, w, reduce=reduce, backend=backend), ref.detach(), **tol(dtype))
    torch.testing.assert_close(ops.spmm(adj, x, reduce=reduce, backend=backend), ref_spmm(ei, x, None, reduce),
                               **tol(dtype))


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('reduce', REDUCES)
def test_spmm_gradcheck(backend, reduce):
    ei = make_graph(num_nodes=8, num_edges=24, seed=5)
    g = torch.Generator().manual_seed(6)
    x = torch.randn(8, 3, generator=g, dtype=torch.float64, requires_grad=True)
    w = (torch.rand(ei.size(1), generator=g, dtype=torch.float64) + 0.1).requires_grad_()
    csr = CSR.from_edge_index(ei, 8)
    assert torch.autograd.gradcheck(lambda a, b: ops.spmm(csr, a, b, reduce=reduce, backend=backend), (x, w))


def test_spmm_trailing_dims_and_rectangular():
    """``x`` of shape [N, A, B] is aggregated feature-wise; a bipartite CSR maps num_src rows to num_dst rows."""
    ei = torch.tensor([[0, 1, 2, 2], [1, 0, 2, 3]])
    x = torch.randn(3, 2, 4, dtype=torch.float64)
    csr = CSR.from_edge_index(ei, 3, num_dst=4)
    out = ops.spmm(csr, x)
    assert out.shape == (4, 2, 4)
    torch.testing.assert_close(out.view(4, 8), ref_spmm(ei, x.view(3, 8), None, 'sum', num_dst=4))


@pytest.mark.parametrize('backend', BACKENDS)
def test_spmm_graph_without_edges(backend):
    x = torch.randn(4, 3, requires_grad=True)
    ei = torch.zeros(2, 0, dtype=torch.long)
    for reduce in REDUCES:
        out = ops.spmm(ei, x, reduce=reduce, backend=backend)
        assert torch.equal(out, torch.zeros(4, 3))
    w = torch.zeros(0, requires_grad=True)
    out = ops.spmm(CSR.from_edge_index(ei, 4), x, w, backend=backend)
    out.sum().backward()
    assert torch.equal(x.grad, torch.zeros(4, 3)) and w.grad.shape == (0,)


# ------------------------------------------------------------------------------------------------------ gated

@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('weighted', [False, True])
def test_gated_spmm_matches_loop_reference(backend, dtype, weighted):
    ei = make_graph(seed=7)
    g = torch.Generator().manual_seed(8)
    x = torch.randn(12, 6, generator=g, dtype=dtype)
    s_src, s_dst = torch.randn(12, generator=g, dtype=dtype), torch.randn(12, generator=g, dtype=dtype)
    w = torch.rand(ei.size(1), generator=g, dtype=dtype) if weighted else None
    tau = 0.7
    ins = [leaf(x), leaf(s_src), leaf(s_dst)] + ([leaf(w)] if weighted else [])
    refs = [leaf(x), leaf(s_src), leaf(s_dst)] + ([leaf(w)] if weighted else [])
    out = ops.gated_spmm(CSR.from_edge_index(ei, 12), ins[0], ins[1], ins[2],
                         edge_weight=ins[3] if weighted else None, tau=tau, backend=backend)
    ref = ref_gated(ei, refs[0], refs[1], refs[2], refs[3] if weighted else None, tau)
    torch.testing.assert_close(out, ref, **tol(dtype))
    assert_grads_match(out, ref, ins, refs, dtype)


@pytest.mark.parametrize('backend', BACKENDS)
def test_gated_spmm_gradcheck(backend):
    """Gradients to x, s_src, s_dst, edge_weight and a tensor tau (float64 finite differences)."""
    ei = make_graph(num_nodes=8, num_edges=24, seed=9)
    g = torch.Generator().manual_seed(10)
    x = torch.randn(8, 3, generator=g, dtype=torch.float64, requires_grad=True)
    s_src = torch.randn(8, generator=g, dtype=torch.float64, requires_grad=True)
    s_dst = torch.randn(8, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64, requires_grad=True)
    tau = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    csr = CSR.from_edge_index(ei, 8)
    assert torch.autograd.gradcheck(
        lambda a, b, c, d, t: ops.gated_spmm(csr, a, b, c, edge_weight=d, tau=t, backend=backend),
        (x, s_src, s_dst, w, tau))


def test_gated_spmm_equals_spmm_with_gate_weights():
    """With the gate precomputed per edge, gated_spmm is spmm with weights tanh(.) * w (another oracle path)."""
    ei = make_graph(seed=11)
    x, s = torch.randn(12, 4, dtype=torch.float64), torch.randn(12, dtype=torch.float64)
    w = torch.rand(ei.size(1), dtype=torch.float64)
    gate = torch.tanh((s[ei[1]] * 2 + s[ei[0]]) / 1.5) * w
    torch.testing.assert_close(ops.gated_spmm(ei, x, s, 2 * s, w, tau=1.5), ops.spmm(ei, x, gate))


# ------------------------------------------------------------------------------------------- scatter / segment

@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('reduce', REDUCES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('order', ['random', 'sorted'])
def test_scatter_matches_loop_reference(backend, reduce, dtype, order):
    g = torch.Generator().manual_seed(12)
    index = torch.randint(0, 9, (40,), generator=g)
    index[index == 4] = 3                      # group 4 empty; groups 9, 10 empty (dim_size = 11)
    if order == 'sorted':
        index = index.sort().values
    src = torch.randn(40, 6, generator=g, dtype=dtype)
    a, r = leaf(src), leaf(src)
    out = ops.scatter(a, index, dim_size=11, reduce=reduce, backend=backend)
    ref = ref_scatter(r, index, 11, reduce)
    torch.testing.assert_close(out, ref, **tol(dtype))
    torch.testing.assert_close(ops.scatter(src, index, dim_size=11, reduce=reduce, backend=backend), ref.detach(),
                               **tol(dtype))  # inference path
    assert out[4].abs().sum() == 0 and out[9:].abs().sum() == 0
    assert_grads_match(out, ref, (a,), (r,), dtype)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('reduce', REDUCES)
def test_scatter_along_other_dim_and_gradcheck(backend, reduce):
    g = torch.Generator().manual_seed(13)
    index = torch.randint(0, 5, (10,), generator=g)
    src = torch.randn(3, 10, generator=g, dtype=torch.float64, requires_grad=True)
    out = ops.scatter(src, index, dim=1, dim_size=6, reduce=reduce, backend=backend)
    assert out.shape == (3, 6)
    torch.testing.assert_close(out, ref_scatter(src.t(), index, 6, reduce).t())
    assert torch.autograd.gradcheck(lambda s: ops.scatter(s, index, dim=-1, dim_size=6, reduce=reduce,
                                                          backend=backend), (src,))
    # default dim_size = index.max() + 1
    assert ops.scatter(src, index, dim=1, reduce=reduce, backend=backend).shape == (3, int(index.max()) + 1)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('reduce', REDUCES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_segment_matches_loop_reference(backend, reduce, dtype):
    counts = torch.tensor([3, 0, 1, 5, 0, 0, 2])
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    index = torch.repeat_interleave(torch.arange(7), counts)
    src = torch.randn(11, 4, dtype=dtype, generator=torch.Generator().manual_seed(14))
    a, r = leaf(src), leaf(src)
    out = ops.segment(a, ptr, reduce=reduce, backend=backend)
    ref = ref_scatter(r, index, 7, reduce)
    torch.testing.assert_close(out, ref, **tol(dtype))
    torch.testing.assert_close(ops.segment(src, ptr, reduce=reduce, backend=backend), ref.detach(), **tol(dtype))
    assert_grads_match(out, ref, (a,), (r,), dtype)
    if dtype == torch.float64:
        assert torch.autograd.gradcheck(lambda s: ops.segment(s, ptr, reduce=reduce, backend=backend), (leaf(src),))


def test_scatter_and_segment_1d_and_empty():
    src = torch.tensor([1.0, -2.0, 3.0])
    index = torch.tensor([2, 0, 2])
    torch.testing.assert_close(ops.scatter(src, index, reduce='max'), torch.tensor([-2.0, 0.0, 3.0]))
    torch.testing.assert_close(ops.segment(src, torch.tensor([0, 0, 3]), reduce='min'), torch.tensor([0.0, -2.0]))
    empty = ops.scatter(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), dim_size=3, reduce='mean')
    assert torch.equal(empty, torch.zeros(3, 4))


# ------------------------------------------------------------------------------------------- no [E, H] tensors

def _largest_allocation(fn) -> int:
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    return max((ev.cpu_memory_usage for ev in prof.events()), default=0)


def test_default_path_never_allocates_edge_by_feature_tensors():
    """Forward + backward of spmm (sum, mean, max) and gated_spmm allocate nothing near E*H*itemsize (the naive
    gather/scatter needs several such buffers), measured with the PyTorch memory profiler."""
    n, e, h = 300, 30000, 64
    g = torch.Generator().manual_seed(15)
    ei = torch.randint(0, n, (2, e), generator=g)
    csr = CSR.from_edge_index(ei, n)
    x = torch.randn(n, h, generator=g, requires_grad=True)
    s1, s2 = torch.randn(n, requires_grad=True), torch.randn(n, requires_grad=True)
    w = torch.rand(e, requires_grad=True)
    edge_by_feature = e * h * 4

    def run(reduce):
        return lambda: ops.spmm(csr, x, w, reduce=reduce, backend='torch').sum().backward()
    for fn in [run('sum'), run('mean'), run('max'),
               lambda: ops.gated_spmm(csr, x, s1, s2, w, backend='torch').sum().backward()]:
        fn()  # warm the CSR caches (transpose) outside the measurement
        assert _largest_allocation(fn) < edge_by_feature // 8
    naive = lambda: torch.zeros(n, h).index_add_(0, ei[1], x[ei[0]] * w[:, None]).sum().backward()  # noqa: E731
    assert _largest_allocation(naive) >= edge_by_feature  # the profiler does see [E, H] buffers


# ------------------------------------------------------------------------------------------------------- CSR

def test_csr_structure_transpose_and_weight_cache():
    ei = make_graph(seed=16)
    csr = CSR.from_edge_index(ei, 12)
    # entries sorted by (target, source), perm maps back to edge_index
    assert torch.equal(csr.col, ei[0, csr.perm]) and torch.equal(csr.row, ei[1, csr.perm])
    key = csr.row * 12 + csr.col
    assert bool((key[1:] >= key[:-1]).all())
    assert torch.equal(csr.deg, torch.bincount(ei[1], minlength=12))
    t = csr.transpose()
    assert (t.num_src, t.num_dst, t.num_edges) == (12, 12, ei.size(1))
    assert torch.equal(t.col, ei[1, t.perm]) and torch.equal(t.row, ei[0, t.perm])
    assert torch.equal(t.perm, csr.perm[csr.transpose_entry])
    assert csr.transpose() is t and t.transpose() is csr
    assert torch.equal(csr.perm[csr.inv_perm], torch.arange(ei.size(1)))
    w = torch.rand(ei.size(1))
    a = csr.permute_weight(w)
    assert torch.equal(a, w[csr.perm]) and csr.permute_weight(w) is a   # cached
    w.mul_(2)                                                            # in-place change invalidates
    assert torch.equal(csr.permute_weight(w), w[csr.perm])


def test_edge_index_cache_is_invalidated_by_inplace_change():
    ei = torch.tensor([[0, 1], [1, 2]])
    x = torch.eye(3)
    torch.testing.assert_close(ops.spmm(ei, x), torch.tensor([[0., 0, 0], [1, 0, 0], [0, 1, 0]]))
    ei[0, 1] = 0
    torch.testing.assert_close(ops.spmm(ei, x), torch.tensor([[0., 0, 0], [1, 0, 0], [1, 0, 0]]))


# -------------------------------------------------------------------------------------------- backend choice

def test_backend_argument_env_var_and_auto(monkeypatch):
    dev = torch.device('cpu')
    monkeypatch.delenv(B.ENV_VAR, raising=False)
    for op in B.OPS:
        for reduce in REDUCES:
            assert B.resolve(op, reduce, dev) == 'torch'          # torch wins everywhere on this CPU
    assert B.resolve('scatter', 'max', dev) != 'torch_scatter'    # never torch-scatter's slow scatter_max
    monkeypatch.setenv(B.ENV_VAR, 'torch')
    assert B.resolve('spmm', 'sum', dev) == 'torch'
    monkeypatch.setenv(B.ENV_VAR, 'no-such-backend')
    with pytest.raises(ValueError, match='GRAPHITE_OPS_BACKEND'):
        ops.spmm(torch.tensor([[0], [1]]), torch.randn(2, 2))
    assert B.resolve('spmm', 'sum', dev, backend='torch') == 'torch'   # argument beats the env var
    assert B.resolve('spmm', 'sum', dev, backend='auto') == 'torch'
    with pytest.raises(ValueError, match='unknown graphite.ops backend'):
        ops.scatter(torch.randn(3, 2), torch.tensor([0, 1, 1]), backend='cuda')
    with pytest.raises(TypeError):
        B.resolve('spmm', 'sum', dev, backend=3)


def test_env_var_routes_calls_to_the_backend(monkeypatch):
    calls = []
    real = B.get('torch').spmm
    monkeypatch.setattr(B.get('torch'), 'spmm', lambda *a: calls.append(a) or real(*a))
    monkeypatch.setenv(B.ENV_VAR, 'torch')
    ops.spmm(torch.tensor([[0], [1]]), torch.randn(2, 2))
    assert len(calls) == 1


def test_unavailable_backends_are_clear_errors(monkeypatch):
    monkeypatch.delenv('TRITON_INTERPRET', raising=False)
    if importlib.util.find_spec('triton') is not None and os.environ.get('TRITON_INTERPRET') is None:
        with pytest.raises(B.BackendUnavailableError, match='CUDA tensors'):
            ops.spmm(torch.tensor([[0], [1]]), torch.randn(2, 2), backend='triton')
        assert 'triton' not in B.available_backends(torch.device('cpu'))
    monkeypatch.setitem(B._import_errors, 'torch_scatter', "package 'torch_scatter' is not installed")
    with pytest.raises(B.BackendUnavailableError, match='torch_scatter.*not installed'):
        ops.scatter(torch.randn(3, 2), torch.tensor([0, 1, 1]), backend='torch_scatter')
    monkeypatch.setenv(B.ENV_VAR, 'torch_scatter')
    with pytest.raises(B.BackendUnavailableError, match='GRAPHITE_OPS_BACKEND'):
        ops.scatter(torch.randn(3, 2), torch.tensor([0, 1, 1]))


# ------------------------------------------------------------------------------------------------- bad input

def test_bad_input_is_rejected_with_clear_errors():
    x = torch.randn(4, 3)
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    with pytest.raises(ValueError, match='outside'):
        ops.spmm(torch.tensor([[0, 4], [1, 0]]), x)
    with pytest.raises(ValueError, match=r'shape \[2, E\]'):
        ops.spmm(torch.tensor([0, 1]), x)
    with pytest.raises(TypeError, match='integer'):
        CSR.from_edge_index(ei.float(), 4)
    with pytest.raises(TypeError, match='floating-point'):
        ops.spmm(ei, x.long())
    with pytest.raises(ValueError, match='edge_weight must have shape'):
        ops.spmm(ei, x, torch.ones(4))
    with pytest.raises(ValueError, match='unknown reduce'):
        ops.spmm(ei, x, reduce='prod')
    with pytest.raises(ValueError, match='num_src=4'):
        ops.spmm(CSR.from_edge_index(ei, 4), torch.randn(5, 3))
    with pytest.raises(TypeError, match='CSR'):
        ops.spmm([[0, 1], [1, 2]], x)
    with pytest.raises(ValueError, match='index values'):
        ops.scatter(x, torch.tensor([0, 1, 5, 2]), dim_size=4)
    with pytest.raises(ValueError, match='index values'):
        ops.scatter(x, torch.tensor([0, -1, 1, 2]))
    with pytest.raises(ValueError, match='index must have shape'):
        ops.scatter(x, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match='int64'):
        ops.scatter(x, torch.tensor([0., 1, 1, 2]))
    with pytest.raises(ValueError, match='dim out of range'):
        ops.scatter(x, torch.tensor([0, 1, 1, 2]), dim=2)
    with pytest.raises(ValueError, match='end at src.size'):
        ops.segment(x, torch.tensor([0, 2, 3]))
    with pytest.raises(ValueError, match='non-decreasing'):
        ops.segment(x, torch.tensor([0, 3, 2, 4]))
    with pytest.raises(ValueError, match='s_src must have shape'):
        ops.gated_spmm(ei, x, torch.randn(3), torch.randn(4))
    with pytest.raises(ValueError, match='tau must be positive'):
        ops.gated_spmm(ei, x, torch.randn(4), torch.randn(4), tau=0.0)
    with pytest.raises(ValueError, match='tau must be a scalar'):
        ops.gated_spmm(ei, x, torch.randn(4), torch.randn(4), tau=torch.ones(2))


def test_index_facts_are_memoised_but_follow_inplace_changes():
    """Validation results (range, sortedness, row pointers) are remembered per tensor; an in-place change of the
    index is seen at the next call (version counter), so nothing stale is used."""
    src = torch.randn(6, 5, dtype=torch.float64)
    index = torch.tensor([0, 0, 1, 2, 2, 3])                      # sorted: segment path
    torch.testing.assert_close(ops.scatter(src, index, reduce='max'), ref_scatter(src, index, 4, 'max'))
    index[0] = 3                                                  # now unsorted
    torch.testing.assert_close(ops.scatter(src, index, reduce='max'), ref_scatter(src, index, 4, 'max'))
    index[1] = 7
    with pytest.raises(ValueError, match='index values'):
        ops.scatter(src, index, dim_size=4)
    ptr = torch.tensor([0, 2, 6])
    torch.testing.assert_close(ops.segment(src, ptr), ref_scatter(src, torch.tensor([0, 0, 1, 1, 1, 1]), 2, 'sum'))
    with pytest.raises(ValueError, match='end at src.size'):
        ops.segment(src[:5], ptr)                                  # same ptr, other src: still checked
    ptr[1] = 7
    with pytest.raises(ValueError, match='non-decreasing'):
        ops.segment(src, ptr)
    with torch.inference_mode():                                   # no version counter: no memo, still correct
        x = torch.randn(4, 3)
        ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
        w = torch.rand(3)
        torch.testing.assert_close(ops.spmm(ei, x, w), ref_spmm(ei, x, w, 'sum'))
        torch.testing.assert_close(ops.scatter(x, torch.tensor([1, 1, 0, 0]), reduce='mean'),
                                   ref_scatter(x, torch.tensor([1, 1, 0, 0]), 2, 'mean'))


def test_tensor_memo_capacity_and_identity():
    from graphite.memo import TensorMemo
    memo = TensorMemo(capacity=2)
    a, b, c = torch.arange(3), torch.arange(3), torch.arange(4)
    memo.get(a)['k'] = 1
    assert memo.get(a) == {'k': 1} and memo.get(b) == {}           # equal values, other tensor: separate
    memo.get(b)['k'] = 2
    memo.get(c)['k'] = 3                                            # evicts a (least recently used)
    assert memo.get(a) == {} and memo.get(c) == {'k': 3}


@pytest.mark.parametrize('reduce', REDUCES)
def test_torch_backend_fallback_without_cpu_reduce_kernels(monkeypatch, reduce):
    """The code path used on devices without PyTorch's CPU-only reduction kernels (CUDA without Triton), forced on
    CPU: vendor CSR product + sampled_addmm for sums, gather + scatter_reduce_ for max/min and segments."""
    from graphite.ops import torch_backend as TB
    monkeypatch.setattr(TB, 'REDUCE_KERNEL_DEVICES', set())
    ei = make_graph(seed=30)
    g = torch.Generator().manual_seed(31)
    x = torch.randn(12, 4, generator=g, dtype=torch.float64)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64) + 0.1
    xs, ws, xr, wr = leaf(x), leaf(w), leaf(x), leaf(w)
    out = ops.spmm(CSR.from_edge_index(ei, 12), xs, ws, reduce=reduce, backend='torch')
    ref = ref_spmm(ei, xr, wr, reduce)
    torch.testing.assert_close(out, ref)
    assert_grads_match(out, ref, (xs, ws), (xr, wr), torch.float64)
    torch.testing.assert_close(ops.spmm(ei, x, w, reduce=reduce, backend='torch'), ref.detach())
    ptr = torch.tensor([0, 3, 3, 10])
    src = torch.randn(10, 4, generator=g, dtype=torch.float64, requires_grad=True)
    index = torch.repeat_interleave(torch.arange(3), ptr.diff())
    torch.testing.assert_close(ops.segment(src, ptr, reduce=reduce, backend='torch'),
                               ref_scatter(src, index, 3, reduce))
    if reduce == 'sum':
        s = torch.randn(12, generator=g, dtype=torch.float64)
        torch.testing.assert_close(ops.gated_spmm(ei, x, s, s, w, backend='torch'), ref_gated(ei, x, s, s, w, 1.0))
