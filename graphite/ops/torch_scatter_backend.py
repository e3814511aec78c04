"""The ``torch_scatter`` backend of :mod:`graphite.ops` (optional extra ``graphite-gnn[scatter]``).

Thin adapters onto ``torch_scatter.scatter`` and ``torch_scatter.segment_csr`` (both differentiable through
torch-scatter's own autograd). torch-scatter has no sparse-dense product, so ``spmm`` / ``gated_spmm`` here gather
the per-edge messages ``w_e * x[col_e]`` (an ``[E, F]`` tensor) and reduce them with ``segment_csr``: this backend
is a reference point for benchmarks and an alternative on machines where its kernels are fast, never the default.
Its CPU kernels are single-threaded (measured ~25x slower than torch for ``scatter_max``), see
:data:`graphite.ops.backend.AUTO_CPU`.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch_scatter
from torch import Tensor

from graphite.ops.csr import CSR


def scatter(src: Tensor, index: Tensor, dim_size: int, reduce: str, ptr: Optional[Tensor] = None) -> Tensor:
    if ptr is not None:  # sorted index: the CSR kernel
        return torch_scatter.segment_csr(src, ptr, reduce=reduce)
    return torch_scatter.scatter(src, index, dim=0, dim_size=dim_size, reduce=reduce)


def segment(src: Tensor, ptr: Tensor, reduce: str) -> Tensor:
    return torch_scatter.segment_csr(src, ptr, reduce=reduce)


def spmm(csr: CSR, x: Tensor, values: Optional[Tensor], reduce: str) -> Tensor:
    msg = x.index_select(0, csr.col)                 # [E, F] (this backend materialises messages)
    if values is not None:
        msg = msg * values.unsqueeze(-1)
    return torch_scatter.segment_csr(msg, csr.rowptr, reduce=reduce)


def gated_spmm(csr: CSR, x: Tensor, s_src: Tensor, s_dst: Tensor, values: Optional[Tensor], tau) -> Tensor:
    gate = torch.tanh((s_dst.index_select(0, csr.row) + s_src.index_select(0, csr.col)) / tau)
    if values is not None:
        gate = gate * values
    return spmm(csr, x, gate, 'sum')
