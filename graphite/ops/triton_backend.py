"""The ``triton`` backend of :mod:`graphite.ops`: CSR kernels from :mod:`graphite.ops.triton_kernels`.

Forward and backward passes are all Triton launches except the ``[N, F]`` gradient routing of max/min (shared with
the torch backend) and ``[E]``-sized index bookkeeping:

* ``spmm`` sum: forward ``csr_reduce_kernel``; ``grad_x`` = the same kernel on the cached transpose with permuted
  values; ``grad_values`` = ``sddmm_kernel``.
* ``spmm`` max/min: ``csr_reduce_kernel`` returns the winning entries; backward as in the torch backend.
* ``segment``: ``csr_reduce_kernel`` with identity columns; ``scatter`` sorts the index once and calls it.
* ``gated_spmm``: forward ``gated_spmm_kernel`` (gate in registers); backward ``gated_spmm_kernel`` on the
  transpose (scores swapped) for ``grad_x``, ``gated_edge_grad_kernel`` for the per-edge SDDMM, and two
  ``[E] -> [N]`` segment sums (``csr_reduce_kernel`` with ``F = 1``) for the score gradients.

Importing this module imports ``triton``: set ``TRITON_INTERPRET=1`` before that to run on CPU tensors.
"""
from __future__ import annotations

from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor
from torch.autograd import Function

from graphite.ops import triton_kernels as K
from graphite.ops.csr import CSR
from graphite.ops.torch_backend import _segment_csr, arg_backward

_REDUCE_CODE = {'sum': 0, 'max': 1, 'min': 2}
BLOCK_E = 32


def _acc(dtype: torch.dtype):
    """Accumulator dtype of the kernels: float64 for float64 inputs, float32 otherwise (half precision included)."""
    return tl.float64 if dtype == torch.float64 else tl.float32


def _block_f(num_features: int) -> int:
    return max(16, min(128, triton.next_power_of_2(max(num_features, 1))))


def _csr_reduce(rowptr: Tensor, col: Optional[Tensor], values: Optional[Tensor], x: Tensor, num_rows: int,
                reduce: str):
    """``[num_rows, F]`` reduction of ``values_e * x[col_e]`` per CSR row; also the winning entries for max/min."""
    num_features = x.size(1)
    out = x.new_empty(num_rows, num_features)
    arg = torch.empty(num_rows, num_features, dtype=torch.long, device=x.device) if reduce != 'sum' else None
    num_edges = (col.numel() if col is not None else x.size(0))
    if num_rows == 0 or num_features == 0:
        return out, arg
    if num_edges == 0:
        out.zero_()
        if arg is not None:
            arg.fill_(0)
        return out, arg
    block_f = _block_f(num_features)
    grid = (num_rows, triton.cdiv(num_features, block_f))
    K.csr_reduce_kernel[grid](rowptr, col if col is not None else rowptr, values if values is not None else x,
                              x, out, arg if arg is not None else rowptr, num_features, num_edges,
                              HAS_COL=col is not None, HAS_VAL=values is not None, REDUCE=_REDUCE_CODE[reduce],
                              BLOCK_E=BLOCK_E, BLOCK_F=block_f, ACC=_acc(x.dtype))
    return out, arg


def _sddmm(csr: CSR, a: Tensor, b: Tensor) -> Tensor:
    out = a.new_empty(csr.num_edges)
    if csr.num_edges == 0:
        return out
    num_features = a.size(1)
    K.sddmm_kernel[(triton.cdiv(csr.num_edges, BLOCK_E),)](csr.row, csr.col, a, b, out, csr.num_edges,
                                                           num_features, BLOCK_E=BLOCK_E,
                                                           BLOCK_F=_block_f(num_features), ACC=_acc(a.dtype))
    return out


def _gated(csr: CSR, values: Optional[Tensor], s_row: Tensor, s_col: Tensor, x: Tensor, inv_tau: float) -> Tensor:
    num_features = x.size(1)
    out = x.new_zeros(csr.num_dst, num_features)
    if csr.num_dst == 0 or csr.num_edges == 0 or num_features == 0:
        return out
    block_f = _block_f(num_features)
    grid = (csr.num_dst, triton.cdiv(num_features, block_f))
    K.gated_spmm_kernel[grid](csr.rowptr, csr.col, values if values is not None else x, s_row, s_col, x, out,
                              num_features, inv_tau, HAS_VAL=values is not None, BLOCK_E=BLOCK_E, BLOCK_F=block_f,
                              ACC=_acc(x.dtype))
    return out


def _row_sum(rowptr: Tensor, v: Tensor, num_rows: int) -> Tensor:
    """``[num_rows]`` sums of the ``[E]`` vector ``v`` over CSR rows."""
    return _csr_reduce(rowptr, None, None, v.contiguous().view(-1, 1), num_rows, 'sum')[0].view(-1)


class TritonSpMMSum(Function):
    @staticmethod
    def forward(ctx, csr: CSR, x: Tensor, values: Optional[Tensor]) -> Tensor:
        ctx.csr = csr
        ctx.save_for_backward(x, values)
        return _csr_reduce(csr.rowptr, csr.col, values, x, csr.num_dst, 'sum')[0]

    @staticmethod
    def backward(ctx, grad: Tensor):
        csr: CSR = ctx.csr
        x, values = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = grad_v = None
        if ctx.needs_input_grad[1]:
            t = csr.transpose()
            tv = values[csr.transpose_entry].contiguous() if values is not None else None
            grad_x = _csr_reduce(t.rowptr, t.col, tv, grad, t.num_dst, 'sum')[0]
        if ctx.needs_input_grad[2]:
            grad_v = _sddmm(csr, grad, x)
        return None, grad_x, grad_v


class TritonReduceArg(Function):
    """max/min over CSR rows (``csr.col`` may be the identity of a segment reduction)."""

    @staticmethod
    def forward(ctx, csr: CSR, x: Tensor, values: Tensor, reduce: str, has_col: bool) -> Tensor:
        out, arg = _csr_reduce(csr.rowptr, csr.col if has_col else None, values, x, csr.num_dst, reduce)
        ctx.csr = csr
        ctx.save_for_backward(x, values, arg)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        csr: CSR = ctx.csr
        x, values, arg = ctx.saved_tensors
        if csr.num_edges == 0:
            return None, torch.zeros_like(x), torch.zeros_like(values), None, None
        grad_x, grad_v = arg_backward(csr, x, values, arg, grad.contiguous(), ctx.needs_input_grad[1],
                                      ctx.needs_input_grad[2])
        return None, grad_x, grad_v, None, None


class TritonSegmentSum(Function):
    @staticmethod
    def forward(ctx, seg: CSR, src: Tensor, values: Optional[Tensor]) -> Tensor:
        ctx.seg, ctx.values = seg, values
        return _csr_reduce(seg.rowptr, None, values, src, seg.num_dst, 'sum')[0]

    @staticmethod
    def backward(ctx, grad: Tensor):
        seg: CSR = ctx.seg
        grad_src = grad.index_select(0, seg.row)
        if ctx.values is not None:
            grad_src = grad_src * ctx.values.unsqueeze(-1)
        return None, grad_src, None


class TritonGatedSpMM(Function):
    @staticmethod
    def forward(ctx, csr: CSR, x: Tensor, s_src: Tensor, s_dst: Tensor, values: Optional[Tensor], tau):
        s_src, s_dst = s_src.contiguous(), s_dst.contiguous()
        tau_value = float(tau)
        ctx.csr, ctx.tau_value = csr, tau_value
        ctx.save_for_backward(x, s_src, s_dst, values)
        return _gated(csr, values, s_dst, s_src, x, 1.0 / tau_value)

    @staticmethod
    def backward(ctx, grad: Tensor):
        csr: CSR = ctx.csr
        x, s_src, s_dst, values = ctx.saved_tensors
        inv_tau = 1.0 / ctx.tau_value
        grad = grad.contiguous()
        need_x, need_src, need_dst, need_v, need_tau = ctx.needs_input_grad[1:6]
        grad_x = grad_src = grad_dst = grad_v = grad_tau = None
        if need_x:
            t = csr.transpose()
            tv = values[csr.transpose_entry].contiguous() if values is not None else None
            grad_x = _gated(t, tv, s_src, s_dst, grad, inv_tau)
        if need_src or need_dst or need_v or need_tau:
            num_edges = csr.num_edges
            dz, dw = x.new_zeros(num_edges), x.new_zeros(num_edges)
            if num_edges:
                K.gated_edge_grad_kernel[(triton.cdiv(num_edges, BLOCK_E),)](
                    csr.row, csr.col, values if values is not None else x, s_dst, s_src, grad, x, dz, dw,
                    num_edges, x.size(1), inv_tau, HAS_VAL=values is not None, BLOCK_E=BLOCK_E,
                    BLOCK_F=_block_f(x.size(1)), ACC=_acc(x.dtype))
            # dz[e] = d out / d z_e with z_e = (s_dst[row_e] + s_src[col_e]) / tau
            if need_dst:
                grad_dst = _row_sum(csr.rowptr, dz, csr.num_dst) * inv_tau
            if need_src:
                t = csr.transpose()
                grad_src = _row_sum(t.rowptr, dz[csr.transpose_entry], t.num_dst) * inv_tau
            if need_v:
                grad_v = dw
            if need_tau:
                z_tau = s_dst[csr.row] + s_src[csr.col]  # [E] = tau * z
                grad_tau = -(dz * z_tau).sum() * inv_tau * inv_tau
        return None, grad_x, grad_src, grad_dst, grad_v, grad_tau


# ---------------------------------------------------------------------------------------------------- backend API

def spmm(csr: CSR, x: Tensor, values: Optional[Tensor], reduce: str) -> Tensor:
    if reduce == 'mean':  # sum with entry values w / deg(row)
        scale = csr.mean_scale(x.dtype)
        values, reduce = (scale if values is None else values * scale), 'sum'
    if values is not None:
        values = values.contiguous()
    if reduce == 'sum':
        return TritonSpMMSum.apply(csr, x, values)
    if values is None:
        values = x.new_ones(csr.num_edges)
    return TritonReduceArg.apply(csr, x, values, reduce, True)


def gated_spmm(csr: CSR, x: Tensor, s_src: Tensor, s_dst: Tensor, values: Optional[Tensor], tau) -> Tensor:
    if values is not None:
        values = values.contiguous()
    return TritonGatedSpMM.apply(csr, x, s_src, s_dst, values, tau)


def segment(src: Tensor, ptr: Tensor, reduce: str) -> Tensor:
    seg = _segment_csr(ptr.contiguous(), ptr.numel() - 1)
    if reduce == 'sum':
        return TritonSegmentSum.apply(seg, src, None)
    if reduce == 'mean':
        return TritonSegmentSum.apply(seg, src, seg.mean_scale(src.dtype))
    return TritonReduceArg.apply(seg, src, src.new_ones(seg.num_edges), reduce, False)


def scatter(src: Tensor, index: Tensor, dim_size: int, reduce: str, ptr: Optional[Tensor] = None) -> Tensor:
    if ptr is not None:  # already sorted
        return segment(src, ptr, reduce)
    perm = torch.argsort(index, stable=True)
    ptr = torch.zeros(dim_size + 1, dtype=torch.long, device=index.device)
    torch.cumsum(torch.bincount(index, minlength=dim_size), 0, out=ptr[1:])
    return segment(src.index_select(0, perm).contiguous(), ptr, reduce)
