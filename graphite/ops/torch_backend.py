"""The ``torch`` backend of :mod:`graphite.ops`: native PyTorch kernels, no ``[E, H]`` tensors.

* SpMM ``out = A_w x`` runs ``torch.sparse.mm(csr, x, 'sum')`` (the multi-threaded CSR kernel behind the
  reduction API; measured faster than the default MKL path and than ``index_add_``). Its backward is
  ``grad_x = A_w^T grad`` on the cached transpose and, for the entry values, the SDDMM
  ``grad_w[e] = <grad[row_e], x[col_e]>`` computed by ``torch.sparse.sampled_addmm`` on the CSR pattern.
* max/min SpMM and segment reductions use ``torch.ops.aten._sparse_mm_reduce_impl``, which also returns the
  winning entry per output element; the backward routes gradients through it with ``[N, H]`` tensors only.
* ``gated_spmm`` computes the gate as ``[E]`` vectors with ordinary autograd ops and hands it to the SpMM.
* ``scatter`` on an arbitrary index is ``scatter_add_`` / ``scatter_reduce_``; a sorted index is converted to row
  pointers and handled by ``segment`` (twice as fast for max/min/mean on CPU).

``torch.sparse.mm``'s own autograd is not used: it fails on CSR matrices with empty rows when the values need a
gradient (PyTorch 2.13).

The reduction kernels (``sparse.mm(..., reduce=)``, ``_sparse_mm_reduce_impl``) exist on CPU only. On other devices
(CUDA without Triton) sums use the vendor CSR product ``torch.sparse.mm(csr, x)`` and ``sampled_addmm``; max/min
SpMM falls back to gathering the weighted messages and ``scatter_reduce_`` (this one materialises ``[E, F]``), and
segment reductions to ``scatter_reduce_`` over the expanded rows. The fallbacks are tested on CPU by switching
:data:`REDUCE_KERNEL_DEVICES` off.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.autograd import Function

from graphite.ops.csr import CSR

_ATEN_REDUCE = {'max': 'amax', 'min': 'amin'}
#: device types whose ``torch.sparse.mm`` supports ``reduce=`` and ``_sparse_mm_reduce_impl`` (PyTorch 2.13: CPU)
REDUCE_KERNEL_DEVICES = {'cpu'}


def _has_reduce_kernels(t: Tensor) -> bool:
    return t.device.type in REDUCE_KERNEL_DEVICES


def _mm_sum(a: Tensor, x: Tensor) -> Tensor:
    """``a @ x`` for a CSR ``a``: the CPU reduction kernel (faster than MKL here) or the vendor product."""
    return torch.sparse.mm(a, x, 'sum') if _has_reduce_kernels(x) else torch.sparse.mm(a, x)


def _sddmm(csr: CSR, a: Tensor, b: Tensor) -> Tensor:
    """``[E]`` with ``out[e] = <a[row_e], b[col_e]>`` (CSR order), never holding ``[E, H]``."""
    if csr.num_edges == 0:
        return a.new_zeros(0)
    pattern = csr.sparse(a.new_zeros(csr.num_edges))
    return torch.sparse.sampled_addmm(pattern, a, b.t(), beta=0.0).values()


class SpMMSum(Function):
    """``out = A x`` with ``A = csr(values)``, differentiable in ``x`` and ``values`` (CSR order)."""

    @staticmethod
    def forward(ctx, csr: CSR, x: Tensor, values: Tensor) -> Tensor:
        ctx.csr = csr
        ctx.save_for_backward(x, values)
        if csr.num_edges == 0:
            return x.new_zeros(csr.num_dst, x.size(1))
        return _mm_sum(csr.sparse(values), x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        csr: CSR = ctx.csr
        x, values = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = grad_v = None
        if ctx.needs_input_grad[1]:
            if csr.num_edges == 0:
                grad_x = x.new_zeros(x.shape)
            else:
                t = csr.transpose()
                grad_x = _mm_sum(t.sparse(values.index_select(0, csr.transpose_entry)), grad)
        if ctx.needs_input_grad[2]:
            grad_v = _sddmm(csr, grad, x)
        return None, grad_x, grad_v


class SpMMArg(Function):
    """``out[i] = max_j (or min_j) values_ji * x[j]`` over the entries of row ``i``, 0 for empty rows.

    Works for any (rowptr, col) structure -- a graph CSR or the identity columns of ``segment`` -- because the
    backward only needs ``col``: each output element's gradient goes to its winning entry.
    """

    @staticmethod
    def forward(ctx, csr: CSR, x: Tensor, values: Tensor, reduce: str) -> Tensor:
        if csr.num_edges == 0:
            ctx.csr, ctx.empty = csr, True
            ctx.save_for_backward(x, values)
            return x.new_zeros(csr.num_dst, x.size(1))
        ctx.csr, ctx.empty = csr, False
        # the aten kernel returns the winning entries only when an input requires grad
        with torch.enable_grad():
            out, arg = torch.ops.aten._sparse_mm_reduce_impl(csr.sparse(values.detach().requires_grad_()),
                                                             x.detach().requires_grad_(), _ATEN_REDUCE[reduce])
        ctx.save_for_backward(x, values, arg)
        return out.detach()

    @staticmethod
    def backward(ctx, grad: Tensor):
        csr: CSR = ctx.csr
        if ctx.empty:
            x, values = ctx.saved_tensors
            return None, x.new_zeros(x.shape), values.new_zeros(values.shape), None
        x, values, arg = ctx.saved_tensors
        grad_x, grad_v = arg_backward(csr, x, values, arg, grad, ctx.needs_input_grad[1], ctx.needs_input_grad[2])
        return None, grad_x, grad_v, None


def arg_backward(csr: CSR, x: Tensor, values: Tensor, arg: Tensor, grad: Tensor, need_x: bool, need_v: bool):
    """Gradients of ``out[i, f] = values[a] * x[col[a], f]`` with ``a = arg[i, f]`` the winning entry of a max/min
    reduction (``arg = E`` marks an empty row): ``[N, F]`` work only, no ``[E, F]`` tensor."""
    num_edges = csr.num_edges
    valid = arg < num_edges                       # [N, F], False for empty rows
    entry = arg.clamp(max=num_edges - 1)          # [N, F] winning entry
    src = csr.col[entry]                          # [N, F] winning source node
    grad = grad * valid
    grad_x = grad_v = None
    if need_x:
        grad_x = x.new_zeros(x.shape).scatter_add_(0, src, grad * values[entry])
    if need_v:
        grad_v = values.new_zeros(num_edges).index_add_(0, entry.flatten(), (grad * x.gather(0, src)).flatten())
    return grad_x, grad_v


class SegmentSum(Function):
    """``out[i] = sum_{e in [ptr_i, ptr_{i+1})} values_e * src[e]`` (``values`` optional constants)."""

    @staticmethod
    def forward(ctx, seg: CSR, src: Tensor, values: Optional[Tensor]) -> Tensor:
        ctx.seg, ctx.values = seg, values
        if seg.num_edges == 0:
            return src.new_zeros(seg.num_dst, src.size(1))
        v = values if values is not None else src.new_ones(seg.num_edges)
        return _mm_sum(seg.sparse(v), src)

    @staticmethod
    def backward(ctx, grad: Tensor):
        seg: CSR = ctx.seg
        grad_src = grad.index_select(0, seg.row)
        if ctx.values is not None:
            grad_src = grad_src * ctx.values.unsqueeze(-1)
        return None, grad_src, None


_arange_cache: dict = {}


def _arange(n: int, device: torch.device) -> Tensor:
    """``arange(n)`` as a view of a cached buffer (segment reductions need identity columns at every call)."""
    buf = _arange_cache.get(device)
    if buf is None or buf.numel() < n:
        buf = torch.arange(max(n, 1024), device=device)
        _arange_cache[device] = buf
    return buf[:n]


_ones_cache: dict = {}


def _ones(n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``ones(n)`` as a view of a cached buffer (never written to: only used as constant CSR values)."""
    buf = _ones_cache.get((dtype, device))
    if buf is None or buf.numel() < n:
        buf = torch.ones(max(n, 1024), dtype=dtype, device=device)
        _ones_cache[(dtype, device)] = buf
    return buf[:n]


def _segment_csr(ptr: Tensor, num_rows: int) -> CSR:
    n = int(ptr[-1]) if ptr.numel() else 0
    ar = _arange(n, ptr.device)
    return CSR(ptr, ar, ar, n, num_rows)


# ---------------------------------------------------------------------------------------------------- backend API

def _needs_grad(*tensors: Optional[Tensor]) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _gather_reduce(csr: CSR, x: Tensor, values: Tensor, reduce: str) -> Tensor:
    """max/min SpMM without the CPU reduction kernel: weighted messages ``[E, F]`` and ``scatter_reduce_``."""
    msg = x.index_select(0, csr.col) * values.unsqueeze(-1)
    return scatter(msg, csr.row, csr.num_dst, reduce)


_HALF = (torch.float16, torch.bfloat16)


def _in_float32(fn):
    """Run ``fn`` on float16/bfloat16 inputs in float32 (PyTorch's sparse kernels lack most half-precision
    variants, and float32 accumulation is what the Triton backend does too); the result is rounded back once."""
    def wrapper(csr: CSR, x: Tensor, *args):
        if x.dtype not in _HALF:
            return fn(csr, x, *args)
        up = [a.float() if isinstance(a, Tensor) and a.dtype in _HALF else a for a in args]
        return fn(csr, x.float(), *up).to(x.dtype)
    wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
    return wrapper


@_in_float32
def spmm(csr: CSR, x: Tensor, values: Optional[Tensor], reduce: str) -> Tensor:
    """``x`` is ``[num_src, F]`` contiguous, ``values`` ``[E]`` in CSR order (or ``None`` = ones)."""
    if values is None:
        values = _ones(csr.num_edges, x.dtype, x.device)
    if not _has_reduce_kernels(x) and reduce in _ATEN_REDUCE:
        return _gather_reduce(csr, x, values, reduce)
    if not _needs_grad(x, values) and csr.num_edges and _has_reduce_kernels(x):
        # inference: one native call, no autograd bookkeeping and no arg-max buffer
        return torch.sparse.mm(csr.sparse(values), x, _ATEN_REDUCE.get(reduce, reduce))
    if reduce == 'mean':  # sum with entry values w / deg(row)
        values, reduce = values * csr.mean_scale(x.dtype), 'sum'
    if reduce == 'sum':
        return SpMMSum.apply(csr, x, values)
    return SpMMArg.apply(csr, x, values, reduce)


@_in_float32
def gated_spmm(csr: CSR, x: Tensor, s_src: Tensor, s_dst: Tensor, values: Optional[Tensor], tau) -> Tensor:
    # index_select (backward: index_add_) is markedly faster than advanced indexing (backward: index_put_)
    gate = torch.tanh((s_dst.index_select(0, csr.row) + s_src.index_select(0, csr.col)) / tau)  # [E], CSR order
    if values is not None:
        gate = gate * values
    return SpMMSum.apply(csr, x, gate)


def segment(src: Tensor, ptr: Tensor, reduce: str) -> Tensor:
    """``src`` is ``[E, F]`` contiguous, ``ptr`` ``[N + 1]`` validated row pointers."""
    seg = _segment_csr(ptr, ptr.numel() - 1)
    if not _has_reduce_kernels(src):
        return scatter(src, seg.row, seg.num_dst, reduce)
    if not _needs_grad(src) and seg.num_edges:
        return torch.sparse.mm(seg.sparse(_ones(seg.num_edges, src.dtype, src.device)), src,
                               _ATEN_REDUCE.get(reduce, reduce))
    if reduce == 'sum':
        return SegmentSum.apply(seg, src, None)
    if reduce == 'mean':
        return SegmentSum.apply(seg, src, seg.mean_scale(src.dtype))
    return SpMMArg.apply(seg, src, _ones(seg.num_edges, src.dtype, src.device), reduce)


def scatter(src: Tensor, index: Tensor, dim_size: int, reduce: str, ptr: Optional[Tensor] = None) -> Tensor:
    """``src`` is ``[E, F]`` (dimension 0 scattered), ``index`` ``[E]`` validated; ``ptr`` are the row pointers
    when ``index`` is sorted (then the CSR segment kernels run, about twice as fast for mean/max/min)."""
    if ptr is not None and src.size(1) >= 4:
        return segment(src.contiguous(), ptr, reduce)
    out = src.new_zeros(dim_size, src.size(1))
    expanded = index.view(-1, 1).expand_as(src)
    if reduce == 'sum':  # scatter_add_ is parallel on CPU; index_add_ along dim 0 is not
        return out.scatter_add_(0, expanded, src)
    aten = {'mean': 'mean', 'max': 'amax', 'min': 'amin'}[reduce]
    return out.scatter_reduce_(0, expanded, src, reduce=aten, include_self=False)
