"""Symmetrically normalised adjacency matrices for the spectral baselines (GPRGNN, H2GCN)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from graphite.memo import TensorMemo, memoize
from graphite.ops import CSR

__all__ = ['sym_normalized', 'two_hop_edges']


def _coalesce_undirected(edge_index: Tensor, num_nodes: int, self_loops: bool) -> Tensor:
    row, col = edge_index
    keep = row != col
    idx = torch.stack([torch.cat([row[keep], col[keep]]), torch.cat([col[keep], row[keep]])])
    if self_loops:
        loop = torch.arange(num_nodes, device=edge_index.device)
        idx = torch.cat([idx, torch.stack([loop, loop])], 1)
    key = torch.unique(idx[0] * num_nodes + idx[1])
    return torch.stack([key // num_nodes, key % num_nodes])


def sym_normalized(edge_index: Tensor, num_nodes: int, self_loops: bool = True,
                   memo: Optional[TensorMemo] = None, dtype: torch.dtype = torch.float32) -> Tuple[CSR, Tensor]:
    r""":math:`\hat A = D^{-1/2} (A + I) D^{-1/2}` (or without :math:`I`) of the undirected, de-duplicated graph.

    Returns the CSR and the per-entry weights (of ``dtype``: pass the features' dtype, so a float64 model is float64
    throughout) in the order :func:`graphite.ops.spmm` expects. Remembered in ``memo`` (a model's opt-in cache, see
    :mod:`graphite.memo`) when given.
    """
    def build():
        idx = _coalesce_undirected(edge_index, num_nodes, self_loops)
        deg = torch.bincount(idx[1], minlength=num_nodes).to(torch.float64)
        dinv = deg.clamp_min(1).rsqrt() * (deg > 0)
        return CSR.from_edge_index(idx, num_nodes), (dinv[idx[0]] * dinv[idx[1]]).to(dtype)
    return memoize(memo, edge_index, ('sym_normalized', num_nodes, self_loops, dtype), build)


def two_hop_edges(edge_index: Tensor, num_nodes: int, max_edges: int = 5_000_000,
                  memo: Optional[TensorMemo] = None) -> Tensor:
    r"""Edges of the *strict* two-hop graph of H2GCN: pairs at shortest-path distance exactly 2.

    Raises:
        ValueError: when the two-hop graph would have more than ``max_edges`` entries (e.g. a graph with
            very high-degree hubs), instead of exhausting memory.
    """
    def build():
        import scipy.sparse as sp
        idx = _coalesce_undirected(edge_index, num_nodes, self_loops=False).cpu().numpy()
        a = sp.csr_matrix((torch.ones(idx.shape[1]).numpy(), (idx[0], idx[1])), shape=(num_nodes, num_nodes))
        deg = a.getnnz(axis=1).astype('int64')
        bound = int((deg * deg).sum())
        if bound > 4 * max_edges:
            raise ValueError(f'the two-hop graph may have up to {bound:,} entries (> {max_edges:,}); raise '
                             'max_two_hop_edges or use a model without explicit two-hop aggregation')
        a2 = (a @ a).tocsr()
        a2.setdiag(0)
        a2.eliminate_zeros()
        a2 = a2 - a2.multiply(a)  # remove one-hop neighbours
        a2.eliminate_zeros()
        if a2.nnz > max_edges:
            raise ValueError(f'the two-hop graph has {a2.nnz:,} entries (> max_two_hop_edges={max_edges:,})')
        coo = a2.tocoo()
        return torch.stack([torch.from_numpy(coo.row).long(), torch.from_numpy(coo.col).long()]).to(
            edge_index.device)
    return memoize(memo, edge_index, ('two_hop', num_nodes, max_edges), build)
