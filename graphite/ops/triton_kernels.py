"""Triton kernels behind the ``triton`` backend of :mod:`graphite.ops`.

All kernels walk a CSR structure (rows = targets) without atomics, so results are deterministic:

* :func:`csr_reduce_kernel` -- ``out[i, f] = reduce_{e in row i} val_e * x[col_e, f]`` for sum / max / min, with
  the winning entry per element for max/min (used by their backward). With ``HAS_COL=False`` the columns are the
  entries themselves (``col_e = e``), which is a segment reduction over CSR-sorted rows.
* :func:`sddmm_kernel` -- ``out[e] = <a[row_e], b[col_e]>``: the gradient of per-edge weights.
* :func:`gated_spmm_kernel` -- ``out[i, f] = sum_e tanh((s_row[i] + s_col[col_e]) / tau) val_e x[col_e, f]``, the gate
  computed in registers. Run on the transposed CSR with the roles of the scores swapped it gives ``grad_x``.
* :func:`gated_edge_grad_kernel` -- per edge ``d = <grad[row_e], x[col_e]>``, then ``d * tanh(.)`` (weight
  gradient) and ``d * val_e * (1 - tanh(.)^2)`` (gradient of the gate's pre-activation ``z_e = (s_dst + s_src)/tau``).

Accumulation happens in ``ACC`` (a ``tl.constexpr`` dtype chosen by the host: float32 for float16/bfloat16/float32
inputs, float64 for float64), loads are widened to it and results are rounded to the output dtype once at the
store, so half-precision inputs lose no precision in long rows (a row of 300 ones sums to 300, not to bfloat16's
256).

One program handles one row and one ``BLOCK_F`` slice of the features (reductions) or ``BLOCK_E`` edges (edge
kernels); edges are processed in tiles of ``BLOCK_E``. Without a GPU the kernels run under the Triton interpreter
(``TRITON_INTERPRET=1`` in the environment *before* this module is imported, which happens on first use of the
backend).
"""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _tanh(z):
    # tanh(z) = sign(z) (1 - e^{-2|z|}) / (1 + e^{-2|z|}): no overflow, portable (no libdevice)
    a = tl.exp(-2.0 * tl.abs(z))
    t = (1.0 - a) / (1.0 + a)
    return tl.where(z < 0, -t, t)


@triton.jit
def csr_reduce_kernel(rowptr_ptr, col_ptr, val_ptr, x_ptr, out_ptr, arg_ptr, F, num_edges,
                      HAS_COL: tl.constexpr, HAS_VAL: tl.constexpr, REDUCE: tl.constexpr,
                      BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr, ACC: tl.constexpr):
    # REDUCE: 0 = sum, 1 = max, 2 = min (max of the negated messages)
    row = tl.program_id(0)
    offs_f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
    mask_f = offs_f < F
    start = tl.load(rowptr_ptr + row)
    end = tl.load(rowptr_ptr + row + 1)
    acc = tl.zeros([BLOCK_F], dtype=ACC)
    best = tl.full([BLOCK_F], float('-inf'), dtype=ACC)
    arg = tl.full([BLOCK_F], -1, dtype=tl.int64)
    for e0 in range(start, end, BLOCK_E):
        offs_e = e0 + tl.arange(0, BLOCK_E)
        mask_e = offs_e < end
        if HAS_COL:
            c = tl.load(col_ptr + offs_e, mask=mask_e, other=0)
        else:
            c = offs_e
        m2 = mask_e[:, None] & mask_f[None, :]
        xv = tl.load(x_ptr + c[:, None] * F + offs_f[None, :], mask=m2, other=0.0).to(ACC)
        if HAS_VAL:
            v = tl.load(val_ptr + offs_e, mask=mask_e, other=0.0).to(ACC)
            xv = xv * v[:, None]
        if REDUCE == 0:
            acc += tl.sum(xv, axis=0)
        else:
            if REDUCE == 2:
                xv = -xv
            xv = tl.where(m2, xv, float('-inf'))
            tile_best = tl.max(xv, axis=0)
            tile_arg = tl.argmax(xv, axis=0).to(tl.int64) + e0
            better = tile_best > best
            best = tl.where(better, tile_best, best)
            arg = tl.where(better, tile_arg, arg)
    if REDUCE == 0:
        tl.store(out_ptr + row * F + offs_f, acc.to(out_ptr.dtype.element_ty), mask=mask_f)
    else:
        found = arg >= 0
        res = tl.where(found, best, 0.0)
        if REDUCE == 2:
            res = -res
        tl.store(out_ptr + row * F + offs_f, res.to(out_ptr.dtype.element_ty), mask=mask_f)
        tl.store(arg_ptr + row * F + offs_f, tl.where(found, arg, num_edges), mask=mask_f)


@triton.jit
def _edge_dot(a_ptr, b_ptr, r, c, mask_e, F, BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr, ACC: tl.constexpr):
    """``[BLOCK_E]`` dot products ``<a[r_e], b[c_e]>`` over the ``F`` features, accumulated in ``ACC``."""
    acc = tl.zeros([BLOCK_E], dtype=ACC)
    for f0 in range(0, F, BLOCK_F):
        offs_f = f0 + tl.arange(0, BLOCK_F)
        m2 = mask_e[:, None] & (offs_f < F)[None, :]
        av = tl.load(a_ptr + r[:, None] * F + offs_f[None, :], mask=m2, other=0.0).to(ACC)
        bv = tl.load(b_ptr + c[:, None] * F + offs_f[None, :], mask=m2, other=0.0).to(ACC)
        acc += tl.sum(av * bv, axis=1)
    return acc


@triton.jit
def sddmm_kernel(row_ptr, col_ptr, a_ptr, b_ptr, out_ptr, num_edges, F,
                 BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr, ACC: tl.constexpr):
    offs_e = tl.program_id(0) * BLOCK_E + tl.arange(0, BLOCK_E)
    mask_e = offs_e < num_edges
    r = tl.load(row_ptr + offs_e, mask=mask_e, other=0)
    c = tl.load(col_ptr + offs_e, mask=mask_e, other=0)
    acc = _edge_dot(a_ptr, b_ptr, r, c, mask_e, F, BLOCK_E, BLOCK_F, ACC)
    tl.store(out_ptr + offs_e, acc.to(out_ptr.dtype.element_ty), mask=mask_e)


@triton.jit
def gated_spmm_kernel(rowptr_ptr, col_ptr, val_ptr, s_row_ptr, s_col_ptr, x_ptr, out_ptr, F, inv_tau,
                      HAS_VAL: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr, ACC: tl.constexpr):
    row = tl.program_id(0)
    offs_f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
    mask_f = offs_f < F
    start = tl.load(rowptr_ptr + row)
    end = tl.load(rowptr_ptr + row + 1)
    s_i = tl.load(s_row_ptr + row).to(ACC)
    acc = tl.zeros([BLOCK_F], dtype=ACC)
    for e0 in range(start, end, BLOCK_E):
        offs_e = e0 + tl.arange(0, BLOCK_E)
        mask_e = offs_e < end
        c = tl.load(col_ptr + offs_e, mask=mask_e, other=0)
        s_j = tl.load(s_col_ptr + c, mask=mask_e, other=0.0).to(ACC)
        g = _tanh((s_i + s_j) * inv_tau)
        if HAS_VAL:
            g = g * tl.load(val_ptr + offs_e, mask=mask_e, other=0.0).to(ACC)
        g = tl.where(mask_e, g, 0.0)
        xv = tl.load(x_ptr + c[:, None] * F + offs_f[None, :], mask=mask_e[:, None] & mask_f[None, :],
                     other=0.0).to(ACC)
        acc += tl.sum(xv * g[:, None], axis=0)
    tl.store(out_ptr + row * F + offs_f, acc.to(out_ptr.dtype.element_ty), mask=mask_f)


@triton.jit
def gated_edge_grad_kernel(row_ptr, col_ptr, val_ptr, s_dst_ptr, s_src_ptr, grad_ptr, x_ptr, dz_ptr, dw_ptr,
                           num_edges, F, inv_tau, HAS_VAL: tl.constexpr, BLOCK_E: tl.constexpr,
                           BLOCK_F: tl.constexpr, ACC: tl.constexpr):
    offs_e = tl.program_id(0) * BLOCK_E + tl.arange(0, BLOCK_E)
    mask_e = offs_e < num_edges
    r = tl.load(row_ptr + offs_e, mask=mask_e, other=0)
    c = tl.load(col_ptr + offs_e, mask=mask_e, other=0)
    dot = _edge_dot(grad_ptr, x_ptr, r, c, mask_e, F, BLOCK_E, BLOCK_F, ACC)
    s_i = tl.load(s_dst_ptr + r, mask=mask_e, other=0.0).to(ACC)
    s_j = tl.load(s_src_ptr + c, mask=mask_e, other=0.0).to(ACC)
    t = _tanh((s_i + s_j) * inv_tau)
    if HAS_VAL:
        w = tl.load(val_ptr + offs_e, mask=mask_e, other=0.0).to(ACC)
    else:
        w = tl.full([BLOCK_E], 1.0, dtype=ACC)
    tl.store(dw_ptr + offs_e, (dot * t).to(dw_ptr.dtype.element_ty), mask=mask_e)
    tl.store(dz_ptr + offs_e, (dot * w * (1.0 - t * t)).to(dz_ptr.dtype.element_ty), mask=mask_e)
