r"""Feature homophily: how much more similar linked nodes are than random node pairs (no labels needed).

:func:`feature_homophily` is the mean cosine similarity of the feature rows of linked nodes, optionally adjusted by
:func:`random_pair_cosine`, the exact mean over all pairs of distinct nodes. Both work on dense or sparse ``x``
without densifying it or building an ``[E, F]`` tensor. The graph conventions are those of
:mod:`graphite.homophily.measures`; this is the measure behind the GRAPHITE paper's feature-homophily gains
(Qiu et al., arXiv 2509.12530).
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor
from torch_geometric.utils import to_undirected

from graphite.validation import check_edge_index, check_features, feature_entries

__all__ = ['feature_homophily', 'random_pair_cosine']


def _normalised_entries(x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """CSR-ordered entries of the row-L2-normalised features: (row, col, value, rowptr)."""
    row, col, val = feature_entries(x)
    val = val.double()
    norm = torch.zeros(x.size(0), dtype=torch.float64, device=val.device).index_add_(0, row, val * val).sqrt()
    val = val / norm[row]
    ptr = torch.zeros(x.size(0) + 1, dtype=torch.long, device=val.device)
    ptr[1:] = torch.cumsum(torch.bincount(row, minlength=x.size(0)), 0)
    return row, col, val, ptr


def _edge_cosines(x: Tensor, src: Tensor, dst: Tensor, chunk: int = 1 << 22) -> Tensor:
    """Cosine similarity of ``x[src[e]]`` and ``x[dst[e]]`` for every edge ``e`` (0 if a row is all-zero), without
    densifying ``x`` or materialising ``[E, F]``: for each edge, walk the stored entries of the sparser endpoint
    and look the other endpoint's matching entries up by binary search in the sorted ``row * F + col`` keys."""
    row, col, val, ptr = _normalised_entries(x)
    f = x.size(1)
    keys = row * f + col                                        # sorted (row-major)
    nnz = ptr[1:] - ptr[:-1]
    swap = nnz[src] > nnz[dst]
    a = torch.where(swap, dst, src)                             # sparser endpoint
    b = torch.where(swap, src, dst)
    cnt = nnz[a]
    out = torch.zeros(src.numel(), dtype=torch.float64, device=val.device)
    if keys.numel() == 0:
        return out
    # Edge chunks of at most `chunk` entry visits each (at least one edge per chunk).
    csum = torch.cumsum(cnt, 0)
    num_e, start = src.numel(), 0
    while start < num_e:
        base = int(csum[start - 1]) if start > 0 else 0
        end = int(torch.searchsorted(csum, torch.tensor([base + chunk], device=csum.device), right=True))
        end = min(max(end, start + 1), num_e)
        ea, eb, ec = a[start:end], b[start:end], cnt[start:end]
        total = int(ec.sum())
        if total:
            e_rep = torch.repeat_interleave(torch.arange(end - start, device=ea.device), ec)
            offs = torch.cumsum(ec, 0) - ec
            pos = ptr[ea][e_rep] + torch.arange(total, device=ea.device) - offs[e_rep]
            q = eb[e_rep] * f + col[pos]
            hit = torch.searchsorted(keys, q).clamp(max=keys.numel() - 1)
            prod = torch.where(keys[hit] == q, val[pos] * val[hit], torch.zeros_like(val[pos]))
            out[start:end] = torch.zeros(end - start, dtype=torch.float64, device=ea.device).index_add_(0, e_rep, prod)
        start = end
    return out


def random_pair_cosine(x: Tensor) -> float:
    r"""Exact mean cosine similarity over all ordered pairs of distinct nodes (the expectation for a uniformly random
    pair), in ``O(nnz(x))``: with :math:`\hat x_v = x_v / \lVert x_v \rVert` (0 for all-zero rows),

    .. math::
        b = \frac{\lVert \sum_v \hat x_v \rVert^2 - \sum_v \lVert \hat x_v \rVert^2}{N (N - 1)}.
    """
    row, col, val, _ = _normalised_entries(x)
    n = x.size(0)
    if n < 2:
        raise ValueError('the random-pair baseline needs at least 2 nodes')
    s = torch.zeros(x.size(1), dtype=torch.float64, device=val.device).index_add_(0, col, val)
    return float(((s * s).sum() - (val * val).sum()) / (n * (n - 1)))


def feature_homophily(x: Tensor, edge_index: Tensor, undirected: bool = False, adjusted: bool = False,
                      self_loops: bool = False) -> float:
    r"""Feature homophily: how much more similar linked nodes are than random node pairs (needs no labels).

    .. math::
        h_{feat} = \frac{1}{|E|} \sum_{(u, v) \in E} \cos(x_u, x_v), \qquad
        h_{feat}^{adj} = \frac{h_{feat} - b}{1 - b}, \quad
        b = \mathbb{E}_{u \ne v \text{ uniform}} \cos(x_u, x_v),

    with :math:`\cos(x_u, x_v) = 0` when either row is all-zero. :math:`b` is the mean over *all* ordered pairs of
    distinct nodes of the graph passed in (computed exactly in ``O(nnz)`` by :func:`random_pair_cosine`, so no
    sampling seed is involved); the adjustment mirrors :func:`adjusted_homophily`: 0 = linked pairs are as similar as
    random pairs, 1 = every linked pair has identical feature directions. On a GRAPHITE-transformed graph the node
    set includes the feature nodes (with their ``x`` rows, e.g. the mean of their nodes' features) and the edges
    include the feature edges. Self-loops are dropped by default (a node is trivially similar to itself; with
    them Actor's relative gain is +177% instead of +179%, the paper's figure).

    Args:
        x (Tensor): ``[N, F]`` dense or sparse features.
        edge_index (Tensor): ``[2, E]`` long.
        undirected (bool): symmetrise the graph first (cosine is symmetric, so this only removes duplicate edges
            and weighs one-way edges like two-way ones). (default: :obj:`False`)
        adjusted (bool): return :math:`h_{feat}^{adj}` instead of :math:`h_{feat}`. (default: :obj:`False`)
        self_loops (bool): keep self-loops (cosine 1) in the edge mean. (default: :obj:`False`)
    """
    check_features(x, None, 'x')
    check_edge_index(edge_index, x.size(0))
    if undirected:
        edge_index = to_undirected(edge_index, num_nodes=x.size(0))
    if not self_loops:
        edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    if edge_index.size(1) == 0:
        raise ValueError('feature homophily is undefined for a graph without edges')
    h = float(_edge_cosines(x, edge_index[0], edge_index[1]).mean())
    if not adjusted:
        return h
    b = random_pair_cosine(x)
    if b >= 1.0:
        raise ValueError('adjusted feature homophily is undefined when all feature rows point the same way')
    return (h - b) / (1.0 - b)
