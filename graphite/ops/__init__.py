"""Sparse message-passing primitives (scatter, segment, SpMM, gated SpMM).

CONTRACT (stable API used by graphite.nn and linkpred; issue 3 fills in the fast backends):

Conventions: ``edge_index`` is ``[2, E]`` with ``edge_index[0]`` = source ``j`` and ``edge_index[1]`` =
target ``i`` (PyG's ``source_to_target`` flow); aggregation writes to targets. ``edge_weight`` is ``[E]`` in the
order of ``edge_index``.

* ``CSR.from_edge_index(edge_index, num_nodes)``: reusable CSR structure (rows = targets).
* ``scatter(src, index, dim=0, dim_size=None, reduce='sum', backend=None)``: sum/mean/max/min, empty -> 0.
* ``segment(src, ptr, reduce='sum', backend=None)``: same over CSR-sorted input.
* ``spmm(adj, x, edge_weight=None, reduce='sum', backend=None)``: ``out[i] = reduce_j w_ji x[j]``;
  ``adj`` is an ``edge_index`` or a ``CSR``; differentiable in ``x`` and ``edge_weight``.
* ``gated_spmm(adj, x, s_src, s_dst, edge_weight=None, tau=1.0, backend=None)``:
  ``out[i] = sum_j tanh((s_dst[i] + s_src[j]) / tau) * w_ji * x[j]``, differentiable in every tensor input.
"""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

from graphite.ops.csr import CSR

__all__ = ['CSR', 'scatter', 'segment', 'spmm', 'gated_spmm']

Adjacency = Union[Tensor, CSR]


def _as_csr(adj: Adjacency, num_nodes: int) -> CSR:
    return adj if isinstance(adj, CSR) else CSR.from_edge_index(adj, num_nodes)


def scatter(src: Tensor, index: Tensor, dim: int = 0, dim_size: Optional[int] = None, reduce: str = 'sum',
            backend: Optional[str] = None) -> Tensor:
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() else 0
    dim = dim % src.dim()
    shape = list(src.shape)
    shape[dim] = dim_size
    idx = index.view([-1 if d == dim else 1 for d in range(src.dim())]).expand_as(src)
    out = src.new_zeros(shape)
    red = {'sum': 'sum', 'mean': 'mean', 'max': 'amax', 'min': 'amin'}[reduce]
    return out.scatter_reduce(dim, idx, src, reduce=red, include_self=False)


def segment(src: Tensor, ptr: Tensor, reduce: str = 'sum', backend: Optional[str] = None) -> Tensor:
    counts = ptr[1:] - ptr[:-1]
    index = torch.repeat_interleave(torch.arange(counts.numel(), device=src.device), counts)
    return scatter(src, index, 0, counts.numel(), reduce)


def spmm(adj: Adjacency, x: Tensor, edge_weight: Optional[Tensor] = None, reduce: str = 'sum',
         backend: Optional[str] = None) -> Tensor:
    csr = _as_csr(adj, x.size(0))
    msg = x[csr.col]
    if edge_weight is not None:
        msg = msg * edge_weight[csr.perm].unsqueeze(-1)
    return scatter(msg, csr.row, 0, csr.num_dst, reduce)


def gated_spmm(adj: Adjacency, x: Tensor, s_src: Tensor, s_dst: Tensor, edge_weight: Optional[Tensor] = None,
               tau: float = 1.0, backend: Optional[str] = None) -> Tensor:
    csr = _as_csr(adj, x.size(0))
    gate = torch.tanh((s_dst[csr.row] + s_src[csr.col]) / tau)
    if edge_weight is not None:
        gate = gate * edge_weight[csr.perm]
    return scatter(x[csr.col] * gate.unsqueeze(-1), csr.row, 0, csr.num_dst, 'sum')
