"""Hot paths that a GPU profile found slow, pinned on the CPU.

On an H200 the paper-size GRAPHITE step spent 64 of 93 ms in ``aten::_index_put_impl_``: the CUDA backward of
advanced indexing (``type_weight[edge_type]``, ``dinv[src]``) sorts and serialises duplicate indices. The edge-type
weights must therefore be computed without it; the profiler sees the same operators on the CPU.
"""
from __future__ import annotations

import torch

from graphite.nn import GraphiteConv
from graphite.nn.typed_adjacency import TypedAdjacency


def _graph():
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 40, (2, 300), generator=g)
    return ei, torch.randint(0, 2, (300,), generator=g)


def test_normalized_weight_matches_the_formula_and_its_gradient():
    ei, et = _graph()
    adj = TypedAdjacency(ei, 40, et)
    tw = torch.tensor([1.0, 0.3, 2.0], dtype=torch.float64, requires_grad=True)
    tw_ref = tw.detach().clone().requires_grad_()
    got = adj.normalized_weight(tw)
    w = tw_ref[adj.edge_type]                                    # the plain formula (advanced indexing)
    deg = torch.zeros(40, dtype=torch.float64).index_add_(0, adj.dst, w)
    want = w / (deg[adj.src] * deg[adj.dst]).sqrt()
    torch.testing.assert_close(got, want)
    g = torch.randn(got.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    got.backward(g), want.backward(g)
    torch.testing.assert_close(tw.grad, tw_ref.grad)


def test_graphite_conv_backward_has_no_index_put():
    ei, et = _graph()
    conv = GraphiteConv(8)
    x = torch.randn(40, 8, requires_grad=True)
    adj = TypedAdjacency(ei, 40, et)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        conv(x, adj).square().sum().backward()
    names = {e.key for e in prof.key_averages()}
    assert not [n for n in names if 'index_put' in n], sorted(names)
    assert conv.weight_rho.grad is not None and torch.isfinite(conv.weight_rho.grad).all()
